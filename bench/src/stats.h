/* Statistics for `cella bench`: order statistics of a sample and a
 * log-linear latency histogram with at most 1 % relative error. */
#ifndef CELLA_BENCH_STATS_H
#define CELLA_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

struct summary {
    size_t n;
    double min, median, p95, max, mean; /* same unit as the samples */
};

/* Nearest-rank percentiles of v[0..n) (v is sorted in place). n == 0 gives
 * all zeros. */
void summarize(double *v, size_t n, struct summary *out);
/* Nearest-rank percentile (0 < p <= 100) of a sorted array. */
double percentile_sorted(const double *v, size_t n, double p);

/* Values in nanoseconds, 1 ns .. ~1 hour. Bucket width is at most 1/128 of
 * the value (< 1 % error); values above the range count in the top bucket. */
struct hist;
struct hist *hist_new(void);
void hist_free(struct hist *h);
void hist_add(struct hist *h, uint64_t ns);
void hist_merge(struct hist *into, const struct hist *from);
uint64_t hist_count(const struct hist *h);
/* The value at quantile q (0..1): the upper edge of the bucket that holds it,
 * clamped to the largest value recorded. 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);
uint64_t hist_max(const struct hist *h);
uint64_t hist_min(const struct hist *h);

#endif
