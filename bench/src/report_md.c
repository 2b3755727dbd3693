/* The Markdown report (GitHub flavour): environment, runtime table, versions,
 * image sizes, decision guide. Every string of the model is escaped
 * (rep_md: backslash before \ ` * _ [ ] < > | & ~, line breaks as spaces). */
#include "report.h"
#include "report_util.h"

/* A model string field, cleaned and escaped. */
static void md_field(FILE *f, const char *field, size_t size, const char *empty)
{
    char s[REP_STR_MAX];

    rep_clean(s, sizeof(s), field, size, false);
    if (*s)
        rep_md(f, s);
    else
        fputs(empty, f);
}
#define MD(f, field, empty) md_field((f), (field), sizeof(field), (empty))

static void environment(FILE *f, const struct bench_report *r)
{
    fputs("# cella bench\n\n## Environment\n\n", f);
    fputs("| | |\n|---|---|\n| CPU | ", f);
    MD(f, r->env.cpu_model, "unknown");
    if (r->env.cores > 0)
        fprintf(f, " |\n| cores | %d |\n| kernel | ", r->env.cores);
    else
        fputs(" |\n| cores | unknown |\n| kernel | ", f);
    MD(f, r->env.kernel, "unknown");
    fputs(" |\n| virtualization | ", f);
    MD(f, r->env.virt, "unknown");
    fputs(" |\n| date | ", f);
    MD(f, r->env.date, "unknown");
    fprintf(f,
            " |\n| runs | %d cold starts per runtime over %d interleaved rounds%s |\n"
            "| load | each round: warm-up %.1f s, %.1f s per step |\n\n",
            r->runs, r->rounds, r->quick ? " (quick mode)" : "", r->warmup_s, r->duration_s);
}

/* Which runtimes the measurement tells apart, and the flags. */
static void comparisons(FILE *f, const struct bench_report *r)
{
    char line[4096];

    fputs("Comparisons, best first (\xE2\x89\x88: the 95 % intervals of the medians overlap, not "
          "distinguishable):\n\n",
          f);
    for (int m = 0; m < REP_NMETRIC; m++) {
        rep_ranking(line, sizeof(line), r, (enum metric)m);
        if (!*line)
            continue;
        fprintf(f, "- %s: ", rep_metric_title((enum metric)m));
        rep_md(f, line);
        fputs("\n", f);
    }
    if (rep_bare(r) < 0)
        fputs("- the bare process was not measured: no floor to compare with\n", f);
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        char flag[512];
        rep_bare_flag(flag, sizeof(flag), x);
        if (!*flag)
            continue;
        fputs(rep_below_bare(x) ? "- **flag:** " : "- note: ", f);
        MD(f, x->name, "?");
        fputs(": ", f);
        rep_md(f, flag);
        fputs("\n", f);
    }
    fputs("\n", f);
    if (r->baseline[0] == '\0')
        return;
    fputs("Against ", f);
    MD(f, r->baseline, "?");
    fputs(" (the engine's default runtime, same daemon, same rounds; x / it, req/s paired by "
          "round):\n\n",
          f);
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        char line[256];
        rep_vs_line(line, sizeof(line), r, x);
        if (!*line)
            continue;
        fputs("- ", f);
        MD(f, x->name, "?");
        fputs(": ", f);
        rep_md(f, line);
        fputs("\n", f);
    }
    fputs("\n", f);
}

static void runtimes(FILE *f, const struct bench_report *r)
{
    int fastest = rep_fastest(r);

    fputs("## Runtimes\n\n", f);
    if (r->n_rt == 0) {
        fputs("No runtime was measured.\n\n", f);
        return;
    }
    fputs("| runtime | isolation | runs | cold start p50 (95 % CI) | x fastest | teardown | "
          "latency p50 (95 % CI) | p99 | req/s c=10 (95 % CI) | vs bare | PSS idle | "
          "PSS under load |\n"
          "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
          f);
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        char v[10][64], vsb[32] = "-";

        fputs("| ", f);
        MD(f, x->name, "?");
        fprintf(f, " | %s | %d/%d | ", boundary_name(x->boundary), x->runs_ok, x->runs);
        if (!x->ok) {
            fputs("**failed:** ", f);
            MD(f, x->error, "(no error message)");
            fputs(" | | | | | | | | |\n", f);
            continue;
        }
        if (fastest >= 0 && x->cold_ms.median > 0 && x->boundary != B_NONE)
            snprintf(v[2], sizeof(v[2]), "%.1fx",
                     x->cold_ms.median / r->rt[fastest].cold_ms.median);
        else
            snprintf(v[2], sizeof(v[2]), "-");
        if (x->rps_vs_bare.n > 0)
            snprintf(vsb, sizeof(vsb), rep_below_bare(x) ? "**%.2f**" : "%.2f",
                     x->rps_vs_bare.median);
        fprintf(f, "%s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                rep_spread(v[0], sizeof(v[0]), &x->cold_ms, M_COLD), v[2],
                rep_ms(v[3], sizeof(v[3]), x->teardown_ms.median),
                rep_spread(v[4], sizeof(v[4]), &x->lat_p50_ms, M_LAT50),
                rep_ns_ms(v[5], sizeof(v[5]), x->lat_c1.p99_ns),
                rep_spread(v[6], sizeof(v[6]), &x->rps_c10, M_RPS), vsb,
                rep_kib(v[7], sizeof(v[7]), x->mem_idle.pss_kb),
                rep_kib(v[8], sizeof(v[8]), x->mem_load.pss_kb));
    }
    fputs("\nCold start: invoke to first HTTP 200. Teardown: kill + delete (median). Latency: "
          "one connection. Figures are medians over the runs (cold start) or the rounds "
          "(latency, req/s) with the 95 % confidence interval of the median in parentheses. "
          "vs bare: req/s over the bare process's in the same round (median). PSS: host memory "
          "of all the container's processes.\n\n",
          f);
    comparisons(f, r);
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        if (!x->ok)
            continue;
        if (x->runs_ok < x->runs) {
            fputs("- ", f);
            MD(f, x->name, "?");
            fprintf(f, ": %d of %d runs failed", x->runs - x->runs_ok, x->runs);
            if (x->error[0]) {
                fputs(", last: ", f);
                MD(f, x->error, "");
            }
            fputs("\n", f);
        }
        if (x->lat_c1.errors || x->thr_c10.errors) {
            fputs("- ", f);
            MD(f, x->name, "?");
            fprintf(f, ": %llu load errors at concurrency 1, %llu at 10\n",
                    (unsigned long long)x->lat_c1.errors, (unsigned long long)x->thr_c10.errors);
        }
    }
    fputs("\nVersions:\n\n", f);
    for (size_t i = 0; i < r->n_rt; i++) {
        fputs("- ", f);
        MD(f, r->rt[i].name, "?");
        fputs(": ", f);
        MD(f, r->rt[i].version, "unknown");
        fputs("\n", f);
    }
    fputs("\n", f);
}

static void images(FILE *f, const struct bench_report *r)
{
    if (r->n_img == 0)
        return;
    fputs("## Image sizes\n\n| image | rootfs | layer (gzip) |\n|---|--:|--:|\n", f);
    for (size_t i = 0; i < r->n_img; i++) {
        const struct image_size *m = &r->img[i];
        char a[64], b[64];

        fputs("| ", f);
        MD(f, m->name, "?");
        if (!m->ok) {
            fputs(" | **failed:** ", f);
            MD(f, m->error, "(no error message)");
            fputs(" | |\n", f);
            continue;
        }
        fprintf(f, " | %s | %s |\n", rep_bytes(a, sizeof(a), m->rootfs_bytes),
                rep_bytes(b, sizeof(b), m->layer_gz_bytes));
    }
    fputs("\n", f);
}

static void guide(FILE *f, const struct bench_report *r)
{
    struct guide_item g[GUIDE_N];

    guide_build(r, g);
    fputs("## Decision guide\n\n| workload | recommendation | why |\n|---|---|---|\n", f);
    for (size_t i = 0; i < GUIDE_N; i++) {
        fputs("| ", f);
        rep_md(f, g[i].workload);
        fputs(" | ", f);
        if (g[i].ideal)
            fputs("**", f);
        rep_md(f, g[i].recommendation);
        if (g[i].ideal)
            fputs("**", f);
        fputs(" | ", f);
        rep_md(f, g[i].reason);
        fputs(" |\n", f);
    }
}

int report_md(FILE *f, const struct bench_report *r)
{
    environment(f, r);
    runtimes(f, r);
    images(f, r);
    guide(f, r);
    return fflush(f) != 0 || ferror(f) ? -1 : 0;
}
