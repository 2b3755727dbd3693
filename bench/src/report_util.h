/* Helpers shared by the report writers and the decision guide (internal to
 * report_*.c and guide.c). */
#ifndef CELLA_BENCH_REPORT_UTIL_H
#define CELLA_BENCH_REPORT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"

/* Large enough for any cleaned model string (512 bytes of input, each byte
 * at worst replaced by the 3 bytes of U+FFFD). */
#define REP_STR_MAX 1600

/* Copies src (at most srcmax bytes, stopping at a NUL) to dst as valid
 * UTF-8: invalid bytes become U+FFFD; unless keep_ctl, control characters
 * (tab, newline, ...) become spaces. Never cuts a character; always
 * NUL-terminates (dstlen > 0). Returns the length written. */
size_t rep_clean(char *dst, size_t dstlen, const char *src, size_t srcmax, bool keep_ctl);
/* rep_clean of a char array field of the model, controls as spaces. */
#define REP_FIELD(dst, field) rep_clean((dst), sizeof(dst), (field), sizeof(field), false)

/* Cuts a valid UTF-8 string (in a buffer of size bytes) to at most maxchars
 * characters, the last one "…" when it was cut. */
void rep_ellipsize(char *s, size_t size, size_t maxchars);
/* Removes an incomplete UTF-8 sequence at the end of s (after snprintf cut). */
void rep_utf8_trim(char *s);

/* Writers of a cleaned string in a markup. */
void rep_html(FILE *f, const char *s);
void rep_md(FILE *f, const char *s);

/* Number formatting; each returns buf. 0 (or less) means "not measured" and
 * gives "-". */
const char *rep_ms(char *buf, size_t n, double ms);               /* "20.1 ms" */
const char *rep_ns_ms(char *buf, size_t n, uint64_t ns);          /* "0.085 ms" */
const char *rep_kib(char *buf, size_t n, uint64_t kib);           /* "7.0 MiB" */
const char *rep_bytes(char *buf, size_t n, unsigned long long b); /* "3.0 MiB" */
const char *rep_rps(char *buf, size_t n, double rps);             /* "12345" */
/* The number alone, with the precision rep_ms uses. */
const char *rep_num(char *buf, size_t n, double v);

/* Memory of a runtime in KiB: PSS (idle / under load), each falling back on
 * the other when one is 0. */
uint64_t rep_pss_idle(const struct runtime_result *x);
uint64_t rep_pss_load(const struct runtime_result *x);

/* Index of the ok runtime (not the bare row) with the lowest median cold
 * start (> 0), or -1. */
int rep_fastest(const struct bench_report *r);

/* The figures measured once per round (cold start: once per run) whose
 * medians the reports compare. */
enum metric { M_RPS, M_LAT50, M_COLD };
#define REP_NMETRIC 3
const struct summary *rep_metric(const struct runtime_result *x, enum metric m);
const char *rep_metric_key(enum metric m);   /* "rps_c10", "lat_p50_ms", "cold_ms" */
const char *rep_metric_title(enum metric m); /* "throughput (req/s at c=10, ...)" */
/* "148012 (141230-152311)" or "0.085 ms (0.081-0.090)": the median and the
 * interval of the median; "-" when not measured. */
const char *rep_spread(char *buf, size_t n, const struct summary *s, enum metric m);
/* Indices of the ok runtimes with metric m, best first; returns how many
 * (idx holds r->n_rt). */
size_t rep_order(const struct bench_report *r, enum metric m, size_t *idx);
/* Those runtimes best first, "a 150123 ≈ b 149000 > c 120000": ≈
 * between neighbours whose median intervals overlap (not distinguishable),
 * > (or < for times) where they do not. "" when none. */
void rep_ranking(char *buf, size_t len, const struct bench_report *r, enum metric m);

/* A shared-kernel runtime is flagged when its paired ratio of req/s to the
 * bare process's (one per round) is below this: rep_below_bare when the
 * whole 95 % interval of its median is (the measurement shows it),
 * rep_maybe_below_bare when only the median is (within the noise). */
#define REP_BARE_FLAG 0.90
bool rep_below_bare(const struct runtime_result *x);
bool rep_maybe_below_bare(const struct runtime_result *x);
/* The flag line of a runtime, "" when neither: "throughput 17 % below the
 * bare process (req/s ratio 0.83, 95 % CI 0.74-0.88)" or "... median ... but
 * the 95 % CI 0.56-1.46 reaches 0.90: not shown by this measurement". */
void rep_bare_flag(char *buf, size_t len, const struct runtime_result *x);
/* Index of the measured bare row, or -1. */
int rep_bare(const struct bench_report *r);

/* A runtime against the report's baseline (r->baseline, --engine docker:
 * Docker's default runc in the same daemon and rounds). Ratios of the
 * medians (x / baseline; 0: not measured); req/s paired by round, as
 * rps_vs_bare. */
struct vs_base {
    double cold, lat_p50, pss_idle;
    struct summary rps;
};
/* Index of the measured baseline row, or -1 (none asked for, or it failed). */
int rep_baseline(const struct bench_report *r);
/* false when x cannot be compared (no baseline, x is it or the bare row, x failed). */
bool rep_vs_baseline(const struct bench_report *r, const struct runtime_result *x,
                     struct vs_base *out);
/* "cold 1.17x, req/s 0.87x (0.80-0.95), lat p50 1.14x, PSS idle 0.99x", or
 * "" when rep_vs_baseline is false. */
void rep_vs_line(char *buf, size_t len, const struct bench_report *r,
                 const struct runtime_result *x);

#endif
