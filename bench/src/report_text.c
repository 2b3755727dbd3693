/* The plain-text report: environment header, runtime table, versions, image
 * sizes and decision guide. */
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_util.h"

#define WRAP 100

/* Characters (not bytes) of a UTF-8 string. */
static size_t width(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A gap of two (unless first), then s left-aligned in w columns. */
static void cell(FILE *f, const char *s, size_t w, bool first)
{
    size_t n = width(s);

    fputs(first ? "" : "  ", f);
    fputs(s, f);
    for (; n < w; n++)
        fputc(' ', f);
}

/* A gap of two, then s right-aligned in w columns. */
static void rcell(FILE *f, const char *s, size_t w)
{
    fputs("  ", f);
    for (size_t n = width(s); n < w; n++)
        fputc(' ', f);
    fputs(s, f);
}

/* Whether a word is a unit, kept on the line of the number before it. */
static bool is_unit(const char *s, size_t len)
{
    static const char *const units[] = {"ms", "\xC2\xB5s", "s",   "KiB", "MiB",  "GiB",  "req/s",
                                        "%",  "ms.",       "ms,", "ms;", "MiB.", "MiB,", "%."};

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strlen(units[i]) == len && strncmp(s, units[i], len) == 0)
            return true;
    return false;
}

/* Words of s wrapped at WRAP columns, each line starting with indent spaces. */
static void wrapped(FILE *f, const char *s, int indent)
{
    size_t col = 0;

    while (*s) {
        size_t len = strcspn(s, " "), w;
        char word[REP_STR_MAX];

        /* "18.4 ms" is one word. */
        if (s[len] == ' ' && is_unit(s + len + 1, strcspn(s + len + 1, " ")))
            len += 1 + strcspn(s + len + 1, " ");
        snprintf(word, sizeof(word), "%.*s", (int)len, s);
        w = width(word);
        if (col > 0 && col + 1 + w > WRAP) {
            fputc('\n', f);
            col = 0;
        }
        if (col == 0) {
            fprintf(f, "%*s", indent, "");
            col = (size_t)indent;
        } else {
            fputc(' ', f);
            col++;
        }
        fputs(word, f);
        col += w;
        s += len;
        s += strspn(s, " ");
    }
    fputc('\n', f);
}

enum col {
    C_NAME,
    C_BOUND,
    C_RUNS,
    C_P50,
    C_X,
    C_TEAR,
    C_L50,
    C_L99,
    C_RPS,
    C_VSB,
    C_MI,
    C_ML,
    NCOL
};

static const char *const heads[NCOL] = {
    "runtime",  "isolation",        "runs",    "cold p50 (95% CI)",  "x fastest",
    "teardown", "lat p50 (95% CI)", "lat p99", "req/s c10 (95% CI)", "vs bare",
    "PSS idle", "PSS load",
};

/* The cells of one runtime (failed: name, boundary, runs only). */
static void row_cells(const struct bench_report *r, const struct runtime_result *x,
                      char cells[NCOL][REP_STR_MAX])
{
    int fastest = rep_fastest(r);

    for (int c = 0; c < NCOL; c++)
        snprintf(cells[c], REP_STR_MAX, "-");
    REP_FIELD(cells[C_NAME], x->name);
    snprintf(cells[C_BOUND], REP_STR_MAX, "%s", boundary_name(x->boundary));
    snprintf(cells[C_RUNS], REP_STR_MAX, "%d/%d", x->runs_ok, x->runs);
    if (!x->ok)
        return;
    rep_spread(cells[C_P50], REP_STR_MAX, &x->cold_ms, M_COLD);
    if (fastest >= 0 && x->cold_ms.median > 0 && x->boundary != B_NONE)
        snprintf(cells[C_X], REP_STR_MAX, "%.1fx",
                 x->cold_ms.median / r->rt[fastest].cold_ms.median);
    rep_ms(cells[C_TEAR], REP_STR_MAX, x->teardown_ms.median);
    rep_spread(cells[C_L50], REP_STR_MAX, &x->lat_p50_ms, M_LAT50);
    rep_ns_ms(cells[C_L99], REP_STR_MAX, x->lat_c1.p99_ns);
    rep_spread(cells[C_RPS], REP_STR_MAX, &x->rps_c10, M_RPS);
    if (x->rps_vs_bare.n > 0)
        snprintf(cells[C_VSB], REP_STR_MAX, "%.2f%s", x->rps_vs_bare.median,
                 rep_below_bare(x) ? " !" : "");
    rep_kib(cells[C_MI], REP_STR_MAX, x->mem_idle.pss_kb);
    rep_kib(cells[C_ML], REP_STR_MAX, x->mem_load.pss_kb);
}

static void header(FILE *f, const struct bench_report *r)
{
    char s[REP_STR_MAX];

    REP_FIELD(s, r->env.date);
    fprintf(f, "cella bench%s%s\n\n", *s ? " - " : "", s);
    REP_FIELD(s, r->env.cpu_model);
    fprintf(f, "  CPU             %s", *s ? s : "unknown");
    if (r->env.cores > 0)
        fprintf(f, " (%d core%s)", r->env.cores, r->env.cores == 1 ? "" : "s");
    fputc('\n', f);
    REP_FIELD(s, r->env.kernel);
    fprintf(f, "  kernel          %s\n", *s ? s : "unknown");
    REP_FIELD(s, r->env.virt);
    fprintf(f, "  virtualization  %s\n", *s ? s : "unknown");
    fprintf(f,
            "  runs            %d cold starts per runtime over %d interleaved rounds; each round: "
            "warm-up %.1f s, load %.1f s per step%s\n\n",
            r->runs, r->rounds, r->warmup_s, r->duration_s, r->quick ? " (quick mode)" : "");
}

/* Which runtimes the measurement tells apart, and the flags. */
static void comparisons(FILE *f, const struct bench_report *r)
{
    char line[4096];

    fputs("comparisons (\xE2\x89\x88: 95 % intervals of the medians overlap, not "
          "distinguishable)\n",
          f);
    for (int m = 0; m < REP_NMETRIC; m++) {
        rep_ranking(line, sizeof(line), r, (enum metric)m);
        if (!*line)
            continue;
        fprintf(f, "  %s:\n", rep_metric_title((enum metric)m));
        wrapped(f, line, 4);
    }
    if (rep_bare(r) < 0)
        fputs("  the bare process was not measured: no floor to compare with\n", f);
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        char n[REP_STR_MAX], flag[512], line2[REP_STR_MAX + 600];
        rep_bare_flag(flag, sizeof(flag), x);
        if (!*flag)
            continue;
        REP_FIELD(n, x->name);
        snprintf(line2, sizeof(line2), "%s %s: %s", rep_below_bare(x) ? "FLAG:" : "note:", n, flag);
        wrapped(f, line2, 2);
    }
    fputc('\n', f);
}

/* --engine: every row against the engine's own default runtime. */
static void vs_baseline(FILE *f, const struct bench_report *r)
{
    char n[REP_STR_MAX], b[REP_STR_MAX], line[REP_STR_MAX + 256];

    if (r->baseline[0] == '\0')
        return;
    REP_FIELD(b, r->baseline);
    fprintf(f,
            "vs %s (%s's default runtime, same daemon, same rounds; x / %s: below 1 is "
            "faster for cold and lat, above 1 more req/s; req/s paired by round)\n",
            b, r->engine, b);
    if (rep_baseline(r) < 0) {
        fprintf(f, "  %s was not measured: no ratios\n\n", b);
        return;
    }
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        if (x->boundary == B_NONE || (int)i == rep_baseline(r))
            continue;
        REP_FIELD(n, x->name);
        rep_vs_line(line, sizeof(line), r, x);
        if (*line)
            fprintf(f, "  %-22s %s\n", n, line);
        else
            fprintf(f, "  %-22s not measured\n", n);
    }
    fputc('\n', f);
}

/* 0, or -1 when out of memory. */
static int runtimes(FILE *f, const struct bench_report *r)
{
    char(*cells)[NCOL][REP_STR_MAX];
    size_t w[NCOL];

    if (r->n_rt == 0) {
        fputs("No runtime was measured.\n\n", f);
        return 0;
    }
    cells = calloc(r->n_rt, sizeof(*cells));
    if (!cells)
        return -1;
    for (int c = 0; c < NCOL; c++)
        w[c] = width(heads[c]);
    for (size_t i = 0; i < r->n_rt; i++) {
        row_cells(r, &r->rt[i], cells[i]);
        for (int c = 0; c < NCOL; c++)
            if ((r->rt[i].ok || c <= C_RUNS) && width(cells[i][c]) > w[c])
                w[c] = width(cells[i][c]);
    }
    for (int c = 0; c < NCOL; c++) {
        if (c < C_RUNS)
            cell(f, heads[c], w[c], c == 0);
        else
            rcell(f, heads[c], w[c]);
    }
    fputc('\n', f);
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        for (int c = 0; c <= C_RUNS; c++) {
            if (c < C_RUNS)
                cell(f, cells[i][c], w[c], c == 0);
            else
                rcell(f, cells[i][c], w[c]);
        }
        if (!x->ok) {
            char e[REP_STR_MAX];
            REP_FIELD(e, x->error);
            fprintf(f, "  FAILED: %s\n", *e ? e : "(no error message)");
            continue;
        }
        for (int c = C_RUNS + 1; c < NCOL; c++)
            rcell(f, cells[i][c], w[c]);
        fputc('\n', f);
    }
    free(cells);

    /* Footnotes: partial runs and load errors. */
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        char n[REP_STR_MAX], e[REP_STR_MAX];
        if (!x->ok)
            continue;
        REP_FIELD(n, x->name);
        REP_FIELD(e, x->error);
        if (x->runs_ok < x->runs)
            fprintf(f, "note: %s: %d of %d runs failed%s%s\n", n, x->runs - x->runs_ok, x->runs,
                    *e ? ", last: " : "", e);
        if (x->lat_c1.errors || x->thr_c10.errors)
            fprintf(f, "note: %s: %llu load errors at concurrency 1, %llu at 10\n", n,
                    (unsigned long long)x->lat_c1.errors, (unsigned long long)x->thr_c10.errors);
    }
    fputs(
        "cold = invoke to first HTTP 200; teardown = kill + delete; lat = request latency at "
        "concurrency 1;\n"
        "figures are medians over the runs (cold, teardown) or the rounds (lat, req/s), with the\n"
        "95 % confidence interval of the median in parentheses (order statistics; min-max below\n"
        "6 samples); vs bare = req/s over the bare process's in the same round (median);\n"
        "PSS = host memory of all the container's processes.\n\n",
        f);
    comparisons(f, r);
    vs_baseline(f, r);

    fputs("versions\n", f);
    for (size_t i = 0; i < r->n_rt; i++) {
        char n[REP_STR_MAX], v[REP_STR_MAX];
        REP_FIELD(n, r->rt[i].name);
        REP_FIELD(v, r->rt[i].version);
        fprintf(f, "  %s: %s\n", n, *v ? v : "unknown");
    }
    fputc('\n', f);
    return 0;
}

static void images(FILE *f, const struct bench_report *r)
{
    size_t w = width("image");

    if (r->n_img == 0)
        return;
    fputs("image sizes\n", f);
    for (size_t i = 0; i < r->n_img; i++) {
        char n[REP_STR_MAX];
        REP_FIELD(n, r->img[i].name);
        if (width(n) > w)
            w = width(n);
    }
    fputs("  ", f);
    cell(f, "image", w, true);
    rcell(f, "rootfs", 10);
    rcell(f, "layer (gzip)", 12);
    fputc('\n', f);
    for (size_t i = 0; i < r->n_img; i++) {
        const struct image_size *m = &r->img[i];
        char n[REP_STR_MAX], v[64];
        REP_FIELD(n, m->name);
        fputs("  ", f);
        cell(f, n, w, true);
        if (!m->ok) {
            char e[REP_STR_MAX];
            REP_FIELD(e, m->error);
            fprintf(f, "  FAILED: %s\n", *e ? e : "(no error message)");
            continue;
        }
        rcell(f, rep_bytes(v, sizeof(v), m->rootfs_bytes), 10);
        rcell(f, rep_bytes(v, sizeof(v), m->layer_gz_bytes), 12);
        fputc('\n', f);
    }
    fputc('\n', f);
}

static void guide(FILE *f, const struct bench_report *r)
{
    struct guide_item g[GUIDE_N];

    guide_build(r, g);
    fputs("decision guide\n", f);
    for (size_t i = 0; i < GUIDE_N; i++) {
        fprintf(f, "  %s: %s\n", g[i].workload, g[i].recommendation);
        wrapped(f, g[i].reason, 6);
    }
}

int report_text(FILE *f, const struct bench_report *r)
{
    int rc;

    header(f, r);
    rc = runtimes(f, r);
    images(f, r);
    guide(f, r);
    return rc != 0 || fflush(f) != 0 || ferror(f) ? -1 : 0;
}
