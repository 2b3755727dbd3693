/* Statistics for `cella bench`: nearest-rank order statistics of a sample
 * and a log-linear latency histogram (see stats.h).
 *
 * Histogram layout: values 0..127 have one bucket each; above that, every
 * power of two [2^k, 2^(k+1)) (k = 7..HIST_MAX_EXP) is split into 128 equal
 * sub-buckets of width 2^(k-7), so a bucket is never wider than 1/128 of the
 * values it holds. Values >= 2^(HIST_MAX_EXP+1) count in the last bucket,
 * whose upper edge is then the exact maximum. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HIST_SUB_BITS 7
#define HIST_SUB      (1u << HIST_SUB_BITS) /* 128 sub-buckets per power of two */
#define HIST_MAX_EXP  42                    /* 2^43 ns ~ 2.4 hours is still exact */
#define HIST_NBUCKETS (HIST_SUB + (HIST_MAX_EXP - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
    uint64_t count, min, max;
    uint64_t b[HIST_NBUCKETS];
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The 1-based nearest rank ceil(frac * n) in 1..n; a product that is an
 * integer up to rounding noise (0.95 * 20) counts as that integer. */
static size_t nearest_rank(double frac, uint64_t n)
{
    double x = frac * (double)n;
    double r = ceil(x - 1e-9 * (x > 1 ? x : 1));
    if (!(r >= 1))
        return 1;
    if (r >= (double)n)
        return (size_t)n;
    return (size_t)r;
}

double percentile_sorted(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    return v[nearest_rank(p / 100.0, n) - 1];
}

/* P(Bin(n, 1/2) <= j), exactly enough for n up to a few thousand. */
static double binom_half_cdf(size_t n, size_t j)
{
    double term = pow(0.5, (double)n), sum = 0; /* C(n,0) / 2^n */

    for (size_t i = 0; i <= j && i <= n; i++) {
        sum += term;
        term = term * (double)(n - i) / (double)(i + 1);
    }
    return sum;
}

static void median_ci(const double *v, size_t n, struct summary *out)
{
    size_t k = 1; /* 1-based rank of the lower end */

    /* A large n underflows pow(0.5, n): order statistics around the median
     * then do (normal approximation, +-1.96 sqrt(n)/2). */
    if (n > 1000) {
        double h = 1.96 * sqrt((double)n) / 2;
        k = (size_t)floor((double)n / 2 - h);
        if (k < 1)
            k = 1;
        out->ci_level = 0.95;
    } else {
        while (k + 1 <= (n + 1) / 2 && 1 - 2 * binom_half_cdf(n, k) >= 0.95)
            k++;
        out->ci_level = 1 - 2 * binom_half_cdf(n, k - 1);
    }
    out->ci_lo = v[k - 1];
    out->ci_hi = v[n - k];
}

bool summary_overlap(const struct summary *a, const struct summary *b)
{
    return a->n > 0 && b->n > 0 && a->ci_lo <= b->ci_hi && b->ci_lo <= a->ci_hi;
}

void summarize(double *v, size_t n, struct summary *out)
{
    memset(out, 0, sizeof(*out));
    if (n == 0)
        return;
    qsort(v, n, sizeof(*v), cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    out->n = n;
    out->min = v[0];
    out->max = v[n - 1];
    out->median = percentile_sorted(v, n, 50);
    out->p95 = percentile_sorted(v, n, 95);
    out->mean = sum / (double)n;
    median_ci(v, n, out);
}

/* ---- histogram ---------------------------------------------------------------- */

static size_t bucket_of(uint64_t v)
{
    if (v < HIST_SUB)
        return (size_t)v;
    int k = 63 - __builtin_clzll(v); /* 2^k <= v < 2^(k+1), k >= 7 */
    if (k > HIST_MAX_EXP)
        return HIST_NBUCKETS - 1;
    int shift = k - HIST_SUB_BITS;
    return HIST_SUB + (size_t)shift * HIST_SUB + (size_t)((v >> shift) - HIST_SUB);
}

/* The largest value bucket i holds (UINT64_MAX for the overflow bucket). */
static uint64_t bucket_upper(size_t i)
{
    if (i < HIST_SUB)
        return i;
    if (i == HIST_NBUCKETS - 1)
        return UINT64_MAX;
    size_t shift = (i - HIST_SUB) / HIST_SUB;
    uint64_t sub = (i - HIST_SUB) % HIST_SUB;
    return ((HIST_SUB + sub + 1) << shift) - 1;
}

struct hist *hist_new(void)
{
    struct hist *h = calloc(1, sizeof(*h));
    if (h)
        h->min = UINT64_MAX;
    return h;
}

void hist_free(struct hist *h)
{
    free(h);
}

void hist_add(struct hist *h, uint64_t ns)
{
    h->b[bucket_of(ns)]++;
    h->count++;
    if (ns < h->min)
        h->min = ns;
    if (ns > h->max)
        h->max = ns;
}

void hist_merge(struct hist *into, const struct hist *from)
{
    if (from->count == 0)
        return;
    for (size_t i = 0; i < HIST_NBUCKETS; i++)
        into->b[i] += from->b[i];
    into->count += from->count;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t hist_count(const struct hist *h)
{
    return h->count;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (!(q >= 0)) /* also NaN */
        q = 0;
    if (q > 1)
        q = 1;
    uint64_t rank = nearest_rank(q, h->count), seen = 0;
    for (size_t i = 0; i < HIST_NBUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t up = bucket_upper(i);
            return up < h->max ? up : h->max;
        }
    }
    return h->max; /* not reached: the buckets sum to count */
}

uint64_t hist_max(const struct hist *h)
{
    return h->max;
}

uint64_t hist_min(const struct hist *h)
{
    return h->count ? h->min : 0;
}
