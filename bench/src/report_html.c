/* The HTML report: one self-contained page (inline CSS, inline SVG charts
 * drawn here, no script, no external resource; a Content-Security-Policy
 * forbids any). Every string of the model is escaped (& < > " '). */
#include <math.h>
#include <string.h>

#include "report.h"
#include "report_util.h"

/* Chart geometry, in SVG user units. */
#define CW       800 /* width */
#define LABEL_X  172 /* right edge of the runtime labels */
#define PLOT_X   184 /* x of the value 0 */
#define PLOT_W   470 /* width of the value axis */
#define TOP      34  /* room for the legend */
#define BOTTOM   30  /* room for the axis labels */
#define BAR_H    14
#define BAR_GAP  4
#define ROW_PAD  14
#define ROW_MIN  34 /* two label lines */
#define ERR_CHAR 72 /* characters of an error shown in a chart */
#define NAME_CHR 24 /* characters of a runtime name in a chart */

static void h(FILE *f, const char *s)
{
    rep_html(f, s);
}

/* A model string field, cleaned (optionally cut to maxchars) and escaped. */
static void h_field(FILE *f, const char *field, size_t size, size_t maxchars, const char *empty)
{
    char s[REP_STR_MAX];

    rep_clean(s, sizeof(s), field, size, false);
    if (maxchars)
        rep_ellipsize(s, sizeof(s), maxchars);
    rep_html(f, *s ? s : empty);
}
#define H(f, field)            h_field((f), (field), sizeof(field), 0, "")
#define H_OR(f, field, empty)  h_field((f), (field), sizeof(field), 0, (empty))
#define H_CUT(f, field, chars) h_field((f), (field), sizeof(field), (chars), "")

static const char *boundary_class(enum boundary b)
{
    switch (b) {
    case B_SHARED_KERNEL:
        return "b-shared";
    case B_SYSCALL_INTERPOSITION:
        return "b-interp";
    case B_HARDWARE_VM:
        return "b-vm";
    case B_WASM_SANDBOX:
        return "b-wasm";
    case B_NONE:
        return "b-none";
    }
    return "b-shared";
}

static const char css[] =
    ":root{--fg:#1f2328;--muted:#59636e;--bg:#fff;--card:#f6f8fa;--line:#d1d9e0;"
    "--err:#cf222e;--shared:#0969da;--interp:#bc4c00;--vm:#8250df;--wasm:#1a7f37;"
    "--s1:#7cb7f0;--s2:#0a4fa3;color-scheme:light dark}\n"
    "@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;"
    "--card:#151b23;--line:#3d444d;--err:#ff7b72;--shared:#4493f8;--interp:#f0883e;"
    "--vm:#ab7df8;--wasm:#3fb950;--s1:#3a6da8;--s2:#8cc4ff}}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0 auto;max-width:1200px;padding:24px;background:var(--bg);color:var(--fg);"
    "font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\n"
    "h1{margin:0;font-size:28px}h2{margin:32px 0 12px;font-size:20px;"
    "border-bottom:1px solid var(--line);padding-bottom:4px}\n"
    ".sub,.note,figcaption{color:var(--muted);font-size:13px}\n"
    "dl.env{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:16px 0;"
    "padding:12px 16px;background:var(--card);border:1px solid var(--line);border-radius:6px}\n"
    "dl.env dt{color:var(--muted)}dl.env dd{margin:0}\n"
    ".scroll{overflow-x:auto}\n"
    "table{border-collapse:collapse;font-size:13px;width:100%}\n"
    "th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;"
    "vertical-align:top}\n"
    "td.name{font-weight:600;white-space:nowrap}table.narrow{width:auto;min-width:50%}\n"
    "th{font-weight:600}td.n,th.n{text-align:right;white-space:nowrap;"
    "font-variant-numeric:tabular-nums}\n"
    ".err{color:var(--err)}td.err{white-space:normal;overflow-wrap:anywhere}\n"
    ".tag{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;color:#fff;"
    "white-space:nowrap}\n"
    ".tag.b-shared{background:var(--shared)}.tag.b-interp{background:var(--interp)}"
    ".tag.b-vm{background:var(--vm)}.tag.b-wasm{background:var(--wasm)}"
    ".tag.b-none{background:var(--muted)}\n"
    "figure{margin:0;padding:12px;background:var(--card);border:1px solid var(--line);"
    "border-radius:6px}\n"
    "svg.chart{display:block;width:100%;max-width:800px;height:auto}\n"
    "svg.chart text{fill:var(--fg);font:12px system-ui,sans-serif}\n"
    "svg.chart .muted{fill:var(--muted)}svg.chart .err{fill:var(--err)}\n"
    "svg.chart .name{font-weight:600}svg.chart .small{font-size:11px}\n"
    "svg.chart .grid{stroke:var(--line);stroke-width:1}\n"
    "svg.chart .axis{stroke:var(--muted);stroke-width:1}\n"
    "svg.chart .whisker{stroke:var(--fg);stroke-width:1.5}\n"
    ".b-shared{fill:var(--shared)}.b-interp{fill:var(--interp)}.b-vm{fill:var(--vm)}"
    ".b-wasm{fill:var(--wasm)}.b-none{fill:var(--muted)}.s1{fill:var(--s1)}.s2{fill:var(--s2)}\n"
    ".flag{color:var(--err);font-weight:600}\n"
    ".bar{display:inline-block;height:10px;background:var(--shared);border-radius:2px;"
    "vertical-align:middle;margin-right:8px}\n"
    ".guide{display:grid;gap:12px}\n"
    ".card{padding:12px 16px;background:var(--card);border:1px solid var(--line);"
    "border-radius:6px}\n"
    ".card h3{margin:0 0 4px;font-size:16px}.card p{margin:4px 0 0}\n"
    ".rec{font-weight:600}.ideal{color:var(--wasm)}.caveat{color:var(--interp)}\n"
    "footer{margin-top:32px;color:var(--muted);font-size:12px}\n";

/* The axis for values up to v: a step of 1, 2, 2.5 or 5 times a power of
 * ten giving at most 5 ticks, and the smallest multiple of it >= v. */
static void axis(double v, double *step, int *nticks)
{
    static const double nice[] = {1, 2, 2.5, 5, 10};
    double p, raw;

    if (!(v > 0) || !isfinite(v))
        v = 1;
    raw = v / 5;
    p = pow(10, floor(log10(raw)));
    for (size_t i = 0; i < sizeof(nice) / sizeof(nice[0]); i++) {
        *step = nice[i] * p;
        if (*step >= raw * (1 - 1e-9))
            break;
    }
    *nticks = (int)ceil(v / *step - 1e-9);
    if (*nticks < 1)
        *nticks = 1;
}

struct chart {
    const char *id, *title, *unit;
    double div;  /* raw value / div = value on the axis */
    double step; /* between ticks */
    int nticks;
    double max; /* value at the right end of the axis: step * nticks */
    int nseries;
    int rowh, height;
};

static int row_height(int nseries)
{
    int h = nseries * (BAR_H + BAR_GAP) - BAR_GAP + ROW_PAD;
    return h < ROW_MIN ? ROW_MIN : h;
}

static double xpos(const struct chart *c, double v)
{
    if (!(v > 0))
        return PLOT_X;
    if (v > c->max)
        v = c->max;
    return PLOT_X + v / c->max * PLOT_W;
}

/* <svg>, title, legend (names[i] in classes cls[i]), grid and axis. */
static void chart_begin(FILE *f, struct chart *c, double top, size_t nrows, int nlegend,
                        const char *const *names, const char *const *cls)
{
    double lx = PLOT_X;

    axis(top, &c->step, &c->nticks);
    c->max = c->step * c->nticks;
    c->rowh = row_height(c->nseries);
    c->height = TOP + (int)(nrows ? nrows : 1) * c->rowh + BOTTOM;
    fprintf(f,
            "<svg class=\"chart\" viewBox=\"0 0 %d %d\" "
            "width=\"%d\" height=\"%d\" role=\"img\" aria-labelledby=\"%s-t\">\n"
            "<title id=\"%s-t\">",
            CW, c->height, CW, c->height, c->id, c->id);
    h(f, c->title);
    fputs("</title>\n", f);
    for (int i = 0; i < nlegend; i++) {
        fprintf(f,
                "<rect class=\"%s\" x=\"%.1f\" y=\"8\" width=\"12\" height=\"12\" rx=\"2\"/>"
                "<text x=\"%.1f\" y=\"18\">",
                cls[i], lx, lx + 16);
        h(f, names[i]);
        fputs("</text>\n", f);
        lx += 16 + 7.0 * (double)strlen(names[i]) + 22;
    }
    for (int i = 0; i <= c->nticks; i++) {
        double x = PLOT_X + PLOT_W * i / (double)c->nticks;
        char v[48];
        fprintf(
            f,
            "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
            "<text class=\"muted small\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
            x, TOP - 4, x, c->height - BOTTOM + 2, x, c->height - BOTTOM + 16,
            i == 0 ? "0" : (snprintf(v, sizeof(v), "%g", c->step * i), v));
    }
    fprintf(f, "<text class=\"muted small\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
            PLOT_X + PLOT_W, c->height - 2);
    h(f, c->unit);
    fputs("</text>\n", f);
    if (nrows == 0)
        fprintf(f, "<text class=\"muted\" x=\"%d\" y=\"%d\">No runtime was measured.</text>\n",
                PLOT_X + 6, TOP + 14);
}

/* The runtime's name and boundary at the left of row i; returns the row's y. */
static int row_label(FILE *f, const struct chart *c, size_t i, const struct runtime_result *x)
{
    int y = TOP + (int)i * c->rowh;
    int mid = y + c->rowh / 2;

    fprintf(f, "<g><title>");
    H(f, x->name);
    fprintf(f, " (%s)</title><text class=\"name\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
            boundary_name(x->boundary), LABEL_X, mid - 2);
    H_CUT(f, x->name, NAME_CHR);
    fprintf(
        f,
        "</text><text class=\"muted small\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text></g>\n",
        LABEL_X, mid + 12, boundary_name(x->boundary));
    return y;
}

/* A failed runtime's error (cut; whole in the tooltip) in its row. */
static void row_error(FILE *f, const struct chart *c, int y, const struct runtime_result *x)
{
    fprintf(f, "<g><title>");
    H_OR(f, x->error, "failed");
    fprintf(f, "</title><text class=\"err\" x=\"%d\" y=\"%d\">failed: ", PLOT_X + 6,
            y + c->rowh / 2 + 4);
    h_field(f, x->error, sizeof(x->error), ERR_CHAR, "(no error message)");
    fputs("</text></g>\n", f);
}

static void row_missing(FILE *f, const struct chart *c, int y)
{
    fprintf(f, "<text class=\"muted\" x=\"%d\" y=\"%d\">not measured</text>\n", PLOT_X + 6,
            y + c->rowh / 2 + 4);
}

/* Bar s of a row (top y), value v (> 0), class cls, label text after end. */
static void bar(FILE *f, const struct chart *c, int y, int s, double v, const char *cls,
                const char *tip, const char *label, double end)
{
    int by = y + (c->rowh - (c->nseries * (BAR_H + BAR_GAP) - BAR_GAP)) / 2 + s * (BAR_H + BAR_GAP);
    double x2 = xpos(c, v);

    fprintf(f,
            "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" rx=\"2\">"
            "<title>",
            cls, PLOT_X, by, x2 - PLOT_X < 1 ? 1 : x2 - PLOT_X, BAR_H);
    h(f, tip);
    fprintf(f, "</title></rect><text x=\"%.1f\" y=\"%d\">", (end > x2 ? end : x2) + 6,
            by + BAR_H - 3);
    h(f, label);
    fputs("</text>\n", f);
}

/* The y of the middle of bar s in a row (top y). */
static double bar_mid(const struct chart *c, int y, int s)
{
    return y + (c->rowh - (c->nseries * (BAR_H + BAR_GAP) - BAR_GAP)) / 2 + s * (BAR_H + BAR_GAP) +
           BAR_H / 2.0;
}

/* One bar per runtime at the median of metric m, a whisker over the 95 %
 * interval of that median. */
static void spread_chart(FILE *f, const struct bench_report *r, struct chart *c, enum metric m)
{
    static const enum boundary all[] = {B_NONE, B_SHARED_KERNEL, B_SYSCALL_INTERPOSITION,
                                        B_HARDWARE_VM, B_WASM_SANDBOX};
    const char *names[5], *cls[5];
    int nl = 0;
    double top = 0;

    c->nseries = 1;
    for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
        for (size_t i = 0; i < r->n_rt; i++) {
            if (r->rt[i].boundary == all[k]) {
                names[nl] = all[k] == B_NONE ? "bare" : boundary_name(all[k]);
                cls[nl++] = boundary_class(all[k]);
                break;
            }
        }
    }
    for (size_t i = 0; i < r->n_rt; i++)
        if (r->rt[i].ok)
            top =
                fmax(top, fmax(rep_metric(&r->rt[i], m)->median, rep_metric(&r->rt[i], m)->ci_hi));
    chart_begin(f, c, top, r->n_rt, nl, names, cls);
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        const struct summary *v = rep_metric(x, m);
        int y = row_label(f, c, i, x);
        char label[128], tip[400];
        double wend;

        if (!x->ok) {
            row_error(f, c, y, x);
            continue;
        }
        if (v->n == 0 || !(v->median > 0)) {
            row_missing(f, c, y);
            continue;
        }
        rep_spread(label, sizeof(label), v, m);
        wend = v->n > 1 && v->ci_hi > v->ci_lo ? xpos(c, v->ci_hi) : 0;
        snprintf(tip, sizeof(tip), "median %s; %.0f %% interval of the median; %zu samples", label,
                 100 * v->ci_level, v->n);
        bar(f, c, y, 0, v->median, boundary_class(x->boundary), tip, label, wend);
        if (wend > 0) {
            double ym = bar_mid(c, y, 0), x1 = xpos(c, v->ci_lo);
            fprintf(f,
                    "<path class=\"whisker\" d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fV%.1f\" "
                    "fill=\"none\"/>\n",
                    x1, ym - 6, ym + 6, x1, ym, wend, wend, ym - 6, ym + 6);
        }
    }
    fputs("</svg>\n", f);
}

/* A two-series chart: raw values get(x, 0) and get(x, 1) of each runtime,
 * drawn as raw / c->div, labelled by fmt(raw). */
static void pair_chart(FILE *f, const struct bench_report *r, struct chart *c,
                       const char *const names[2],
                       uint64_t (*get)(const struct runtime_result *, int),
                       const char *(*fmt)(char *, size_t, uint64_t, const struct chart *))
{
    static const char *const cls[2] = {"s1", "s2"};
    uint64_t top = 0;

    c->nseries = 2;
    for (size_t i = 0; i < r->n_rt; i++)
        for (int s = 0; s < 2 && r->rt[i].ok; s++)
            if (get(&r->rt[i], s) > top)
                top = get(&r->rt[i], s);
    chart_begin(f, c, (double)top / c->div, r->n_rt, 2, names, cls);
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        int y = row_label(f, c, i, x);

        if (!x->ok) {
            row_error(f, c, y, x);
            continue;
        }
        if (get(x, 0) == 0 && get(x, 1) == 0) {
            row_missing(f, c, y);
            continue;
        }
        for (int s = 0; s < 2; s++) {
            char v[64], tip[128];
            uint64_t raw = get(x, s);
            fmt(v, sizeof(v), raw, c);
            snprintf(tip, sizeof(tip), "%s: %s", names[s], v);
            if (raw > 0)
                bar(f, c, y, s, (double)raw / c->div, cls[s], tip, v, 0);
            else
                fprintf(f, "<text class=\"muted\" x=\"%d\" y=\"%.1f\">%s: not measured</text>\n",
                        PLOT_X + 6, bar_mid(c, y, s) + 4, names[s]);
        }
    }
    fputs("</svg>\n", f);
}

static uint64_t mem_kib(const struct runtime_result *x, int s)
{
    return s == 0 ? x->mem_idle.pss_kb : x->mem_load.pss_kb;
}

static const char *fmt_kib(char *buf, size_t n, uint64_t kib, const struct chart *c)
{
    (void)c;
    return rep_kib(buf, n, kib);
}

static uint64_t lat_ns(const struct runtime_result *x, int s)
{
    return s == 0 ? x->lat_c1.p50_ns : x->lat_c1.p99_ns;
}

/* Nanoseconds in the chart's unit (ms, or us when every p99 is under 1 ms). */
static const char *fmt_lat(char *buf, size_t n, uint64_t ns, const struct chart *c)
{
    char num[48];

    snprintf(buf, n, "%s %s", rep_num(num, sizeof(num), (double)ns / c->div),
             c->div == 1e3 ? "\xC2\xB5s" : "ms");
    return buf;
}

static void charts(FILE *f, const struct bench_report *r)
{
    static const char *const mem_names[2] = {"PSS idle", "PSS after load"};
    static const char *const lat_names[2] = {"p50", "p99"};
    struct chart mem = {.id = "mem",
                        .title = "Memory: PSS idle and under load (MiB)",
                        .unit = "MiB (PSS, all host processes of the container)",
                        .div = 1024};
    struct chart lc;
    uint64_t top = 0;
    bool us;

    struct chart cold = {.id = "cold",
                         .title = "Cold start: median and its 95 % interval (ms)",
                         .unit = "milliseconds"};
    struct chart thr = {.id = "thr",
                        .title = "Throughput at concurrency 10: median and its 95 % interval",
                        .unit = "requests per second"};

    fputs("<h2>Cold start</h2>\n<figure>\n", f);
    spread_chart(f, r, &cold, M_COLD);
    fputs("<figcaption>From invoking the runtime to the first HTTP 200; bar: median of the runs, "
          "whisker: the 95 % confidence interval of the median.</figcaption>\n</figure>\n",
          f);

    fputs("<h2>Throughput</h2>\n<figure>\n", f);
    spread_chart(f, r, &thr, M_RPS);
    fputs("<figcaption>Requests per second over 10 keep-alive connections; bar: median of the "
          "rounds, whisker: the 95 % confidence interval of the median.</figcaption>\n"
          "</figure>\n",
          f);

    fputs("<h2>Memory</h2>\n<figure>\n", f);
    pair_chart(f, r, &mem, mem_names, mem_kib, fmt_kib);
    fputs("<figcaption>Proportional set size summed over every host process of the container "
          "(runtime, shim, sandbox, VMM), idle and after the load steps.</figcaption>\n"
          "</figure>\n",
          f);

    for (size_t i = 0; i < r->n_rt; i++)
        if (r->rt[i].ok && r->rt[i].lat_c1.p99_ns > top)
            top = r->rt[i].lat_c1.p99_ns;
    us = top > 0 && top < 1000000;
    lc = (struct chart){.id = "lat",
                        .title = us ? "Latency at concurrency 1: p50 and p99 (\xC2\xB5s)"
                                    : "Latency at concurrency 1: p50 and p99 (ms)",
                        .unit = us ? "microseconds" : "milliseconds",
                        .div = us ? 1e3 : 1e6};
    fputs("<h2>Latency</h2>\n<figure>\n", f);
    pair_chart(f, r, &lc, lat_names, lat_ns, fmt_lat);
    fputs("<figcaption>Request latency over one keep-alive connection (send to complete "
          "response).</figcaption>\n</figure>\n",
          f);
}

static void environment(FILE *f, const struct bench_report *r)
{
    fputs("<header>\n<h1>cella bench</h1>\n<p class=\"sub\">", f);
    H_OR(f, r->env.date, "date unknown");
    fputs("</p>\n<dl class=\"env\">\n<dt>CPU</dt><dd>", f);
    H_OR(f, r->env.cpu_model, "unknown");
    if (r->env.cores > 0)
        fprintf(f, "</dd>\n<dt>cores</dt><dd>%d", r->env.cores);
    else
        fputs("</dd>\n<dt>cores</dt><dd>unknown", f);
    fputs("</dd>\n<dt>kernel</dt><dd>", f);
    H_OR(f, r->env.kernel, "unknown");
    fputs("</dd>\n<dt>virtualization</dt><dd>", f);
    H_OR(f, r->env.virt, "unknown");
    fprintf(f,
            "</dd>\n<dt>runs</dt><dd>%d cold starts per runtime over %d interleaved rounds%s</dd>"
            "\n<dt>load</dt><dd>each round: warm-up %.1f s, %.1f s per step</dd>\n</dl>\n"
            "</header>\n",
            r->runs, r->rounds, r->quick ? " (quick mode)" : "", r->warmup_s, r->duration_s);
}

static void table(FILE *f, const struct bench_report *r)
{
    int fastest = rep_fastest(r);

    fputs("<h2>Runtimes</h2>\n", f);
    if (r->n_rt == 0) {
        fputs("<p>No runtime was measured.</p>\n", f);
        return;
    }
    fputs("<div class=\"scroll\"><table>\n<thead><tr><th>runtime</th><th>isolation</th>"
          "<th class=\"n\">runs</th><th class=\"n\">cold p50 (95 % CI)</th>"
          "<th class=\"n\">&times; fastest</th><th class=\"n\">teardown</th>"
          "<th class=\"n\">lat. p50 (95 % CI)</th><th class=\"n\">lat. p99</th>"
          "<th class=\"n\">req/s c=10 (95 % CI)</th><th class=\"n\">vs bare</th>"
          "<th class=\"n\">PSS idle</th><th class=\"n\">PSS load</th></tr></thead>\n<tbody>\n",
          f);
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        char v[9][64], ratio[32] = "-", vsb[64] = "-";

        fputs("<tr><td class=\"name\">", f);
        H_OR(f, x->name, "?");
        fprintf(f, "</td><td><span class=\"tag %s\">%s</span></td><td class=\"n\">%d/%d</td>",
                boundary_class(x->boundary), boundary_name(x->boundary), x->runs_ok, x->runs);
        if (!x->ok) {
            fputs("<td colspan=\"9\" class=\"err\">failed: ", f);
            H_OR(f, x->error, "(no error message)");
            fputs("</td></tr>\n", f);
            continue;
        }
        if (fastest >= 0 && x->cold_ms.median > 0 && x->boundary != B_NONE)
            snprintf(ratio, sizeof(ratio), "%.1f&times;",
                     x->cold_ms.median / r->rt[fastest].cold_ms.median);
        if (x->rps_vs_bare.n > 0)
            snprintf(vsb, sizeof(vsb),
                     rep_below_bare(x) ? "<span class=\"flag\">%.2f</span>" : "%.2f",
                     x->rps_vs_bare.median);
        fprintf(f,
                "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
                rep_spread(v[0], sizeof(v[0]), &x->cold_ms, M_COLD), ratio,
                rep_ms(v[2], sizeof(v[2]), x->teardown_ms.median),
                rep_spread(v[3], sizeof(v[3]), &x->lat_p50_ms, M_LAT50),
                rep_ns_ms(v[4], sizeof(v[4]), x->lat_c1.p99_ns),
                rep_spread(v[5], sizeof(v[5]), &x->rps_c10, M_RPS), vsb,
                rep_kib(v[6], sizeof(v[6]), x->mem_idle.pss_kb),
                rep_kib(v[7], sizeof(v[7]), x->mem_load.pss_kb));
    }
    fputs("</tbody></table></div>\n<p class=\"note\">Versions: ", f);
    for (size_t i = 0; i < r->n_rt; i++) {
        fputs(i ? "; " : "", f);
        H_OR(f, r->rt[i].name, "?");
        fputs(" <code>", f);
        H_OR(f, r->rt[i].version, "unknown");
        fputs("</code>", f);
    }
    fputs(".</p>\n", f);
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        if (!x->ok)
            continue;
        if (x->runs_ok < x->runs) {
            fputs("<p class=\"note\">", f);
            H(f, x->name);
            fprintf(f, ": %d of %d runs failed", x->runs - x->runs_ok, x->runs);
            if (x->error[0]) {
                fputs(", last: <span class=\"err\">", f);
                H(f, x->error);
                fputs("</span>", f);
            }
            fputs("</p>\n", f);
        }
        if (x->lat_c1.errors || x->thr_c10.errors) {
            fputs("<p class=\"note\">", f);
            H(f, x->name);
            fprintf(f, ": %llu load errors at concurrency 1, %llu at 10</p>\n",
                    (unsigned long long)x->lat_c1.errors, (unsigned long long)x->thr_c10.errors);
        }
    }
}

/* Which runtimes the measurement tells apart, and the flags. */
static void comparisons(FILE *f, const struct bench_report *r)
{
    char line[4096];

    fputs("<h2>Comparisons</h2>\n<p class=\"note\">Medians, best first. &asymp;: the 95 % "
          "confidence intervals of the two medians overlap, so the measurement does not tell "
          "them apart; &gt; or &lt;: it does.</p>\n<ul>\n",
          f);
    for (int m = 0; m < REP_NMETRIC; m++) {
        rep_ranking(line, sizeof(line), r, (enum metric)m);
        if (!*line)
            continue;
        fprintf(f, "<li>%s: ", rep_metric_title((enum metric)m));
        h(f, line);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
    if (rep_bare(r) < 0)
        fputs("<p class=\"note\">The bare process was not measured: no floor to compare "
              "with.</p>\n",
              f);
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        char flag[512];
        rep_bare_flag(flag, sizeof(flag), x);
        if (!*flag)
            continue;
        fprintf(f, "<p class=\"%s\">", rep_below_bare(x) ? "flag" : "note");
        H(f, x->name);
        fputs(": ", f);
        h(f, flag);
        fputs(".</p>\n", f);
    }
    if (r->baseline[0] == '\0')
        return;
    fputs("<h2>Against ", f);
    H(f, r->baseline);
    fputs("</h2>\n<p class=\"note\">The engine's default runtime, same daemon, same rounds: "
          "each figure over its (req/s paired by round).</p>\n<ul>\n",
          f);
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        char line[256];
        rep_vs_line(line, sizeof(line), r, x);
        if (!*line)
            continue;
        fputs("<li>", f);
        H(f, x->name);
        fputs(": ", f);
        h(f, line);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
}

static void images(FILE *f, const struct bench_report *r)
{
    unsigned long long top = 0;

    if (r->n_img == 0)
        return;
    for (size_t i = 0; i < r->n_img; i++)
        if (r->img[i].ok && r->img[i].rootfs_bytes > top)
            top = r->img[i].rootfs_bytes;
    fputs("<h2>Image sizes</h2>\n<div class=\"scroll\"><table "
          "class=\"narrow\">\n<thead><tr><th>image</th>"
          "<th>rootfs</th><th class=\"n\">layer (gzip)</th></tr></thead>\n<tbody>\n",
          f);
    for (size_t i = 0; i < r->n_img; i++) {
        const struct image_size *m = &r->img[i];
        char a[64], b[64];

        fputs("<tr><td>", f);
        H_OR(f, m->name, "?");
        fputs("</td>", f);
        if (!m->ok) {
            fputs("<td colspan=\"2\" class=\"err\">failed: ", f);
            H_OR(f, m->error, "(no error message)");
            fputs("</td></tr>\n", f);
            continue;
        }
        fprintf(f,
                "<td class=\"n\" style=\"text-align:left\"><span class=\"bar\" "
                "style=\"width:%.0fpx\"></span>%s</td><td class=\"n\">%s</td></tr>\n",
                top ? 2 + 200.0 * (double)m->rootfs_bytes / (double)top : 0.0,
                rep_bytes(a, sizeof(a), m->rootfs_bytes),
                rep_bytes(b, sizeof(b), m->layer_gz_bytes));
    }
    fputs("</tbody></table></div>\n", f);
}

static void guide(FILE *f, const struct bench_report *r)
{
    struct guide_item g[GUIDE_N];

    guide_build(r, g);
    fputs("<h2>Decision guide</h2>\n<div class=\"guide\">\n", f);
    for (size_t i = 0; i < GUIDE_N; i++) {
        fputs("<div class=\"card\"><h3>", f);
        h(f, g[i].workload);
        fputs("</h3><div><span class=\"rec\">", f);
        h(f, g[i].recommendation);
        fprintf(f, "</span> <span class=\"%s\">%s</span></div><p>", g[i].ideal ? "ideal" : "caveat",
                g[i].ideal ? "&#10003; fits this class"
                           : (g[i].runtime[0] ? "&#9888; best available" : "&#9888; no data"));
        h(f, g[i].reason);
        fputs("</p></div>\n", f);
    }
    fputs("</div>\n", f);
}

int report_html(FILE *f, const struct bench_report *r)
{
    char date[REP_STR_MAX];

    REP_FIELD(date, r->env.date);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<link rel=\"icon\" href=\"data:,\">\n<title>cella bench",
          f);
    if (*date) {
        fputs(" \xE2\x80\x94 ", f);
        h(f, date);
    }
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", css);
    environment(f, r);
    fputs("<main>\n", f);
    table(f, r);
    comparisons(f, r);
    charts(f, r);
    images(f, r);
    guide(f, r);
    fputs("</main>\n<footer>Generated by cella bench. Self-contained: no script, no external "
          "resource.</footer>\n</body>\n</html>\n",
          f);
    return fflush(f) != 0 || ferror(f) ? -1 : 0;
}
