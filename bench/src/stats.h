/* Statistics for `cella bench`: order statistics of a sample and a
 * log-linear latency histogram with at most 1 % relative error. */
#ifndef CELLA_BENCH_STATS_H
#define CELLA_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct summary {
    size_t n;
    double min, median, p95, max, mean; /* same unit as the samples */
    /* A distribution-free confidence interval for the median: the order
     * statistics [v(k), v(n+1-k)] with the largest k whose binomial coverage
     * 1 - 2 P(Bin(n, 1/2) < k) is still >= 95 %; below n = 6 no k reaches it
     * and the interval is min..max with its smaller coverage in ci_level. */
    double ci_lo, ci_hi, ci_level; /* ci_level: 0.9375 for n = 5, ... */
};

/* Nearest-rank percentiles of v[0..n) (v is sorted in place) and the
 * interval of the median. n == 0 gives all zeros. */
void summarize(double *v, size_t n, struct summary *out);
/* Whether the median intervals of a and b overlap: then the two are not
 * distinguishable at the level of their intervals. False if either is empty. */
bool summary_overlap(const struct summary *a, const struct summary *b);
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
