/* The report writers of `cella bench` and the decision guide they all end
 * with. Every writer reads a struct bench_report (model.h) and nothing else;
 * strings of the model are bounded by their array sizes, invalid UTF-8 is
 * replaced by U+FFFD and each format escapes what it must (JSON by jansson,
 * Markdown: \ ` * _ [ ] < > | & ~, HTML: & < > " ').
 *
 * Numbers are printed with printf: call the writers in the "C" LC_NUMERIC
 * locale (the default of a C program that does not call setlocale). */
#ifndef CELLA_BENCH_REPORT_H
#define CELLA_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "core/error.h"
#include "model.h"

/* The workload classes of the decision guide, in the order it lists them. */
enum workload {
    W_UNTRUSTED,  /* untrusted multi-tenant code */
    W_CI,         /* CI runners */
    W_SERVERLESS, /* serverless short-lived tasks */
    W_TRUSTED,    /* trusted internal services */
    W_WASM,       /* plugins compiled to WebAssembly */
    GUIDE_N,
};

/* A serverless runtime must start (median cold start) within this budget. */
#define GUIDE_SERVERLESS_BUDGET_MS 200.0

struct guide_item {
    char workload[48];        /* "untrusted multi-tenant code", ... */
    char recommendation[192]; /* "crun", "runsc (best available: ...)", "none" */
    char reason[1024];        /* why, with the measured figures and ratios */
    char runtime[64];         /* the picked runtime's name; "" when none */
    bool ideal;               /* the boundary this class calls for was measured and picked */
};

/* The recommendation for each workload class, from the runtimes that were
 * measured (ok) and their isolation boundaries. Fills out[0..GUIDE_N) in
 * enum workload order and returns GUIDE_N. All strings are valid UTF-8. */
size_t guide_build(const struct bench_report *r, struct guide_item out[GUIDE_N]);

/* "shared kernel", "syscall interposition", "hardware VM", "WASM sandbox". */
const char *boundary_name(enum boundary b);
/* The JSON spelling: "shared_kernel", "syscall_interposition", "hardware_vm",
 * "wasm_sandbox". */
const char *boundary_key(enum boundary b);

/* Plain text: environment header, the runtime table (article style),
 * versions, image sizes, decision guide. 0, or -1 when writing failed. */
int report_text(FILE *f, const struct bench_report *r);
/* Markdown: environment, runtime table, image sizes, decision guide. */
int report_md(FILE *f, const struct bench_report *r);
/* One self-contained HTML page: inline CSS, three inline SVG charts (cold
 * start median with p95 whisker, PSS idle / under load, latency p50 / p99),
 * no script, no external resource. */
int report_html(FILE *f, const struct bench_report *r);

/* The whole report as a JSON object (every field of the model, "runtimes",
 * "images", "guide"); NULL when out of memory. Release with json_decref. */
json_t *report_json_new(const struct bench_report *r);
/* Writes report_json_new() to path ("-": stdout) with json_dump_file.
 * 0, or -1 with *err set. */
int report_json(const struct bench_report *r, const char *path, cerr_t *err);

#endif
