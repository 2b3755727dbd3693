/* Unit tests for bench/src/stats.c: nearest-rank summaries and the
 * log-linear latency histogram. */
#include <math.h>
#include <stdint.h>

#include "stats.h"
#include "unit.h"

/* Deterministic PRNG (xorshift64*) so that a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}
static double rng_unit(void) /* (0, 1) */
{
    return ((double)(rng() >> 11) + 0.5) / 9007199254740992.0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The exact nearest-rank quantile of sorted v[0..n). */
static uint64_t exact_q(const uint64_t *v, size_t n, double q)
{
    size_t r = (size_t)ceil(q * (double)n - 1e-9);
    if (r < 1)
        r = 1;
    if (r > n)
        r = n;
    return v[r - 1];
}

/* ---- summarize ------------------------------------------------------------------ */

static void test_summarize_empty(void)
{
    struct summary s;
    memset(&s, 0xff, sizeof(s));
    summarize(NULL, 0, &s);
    CHECK(s.n == 0);
    CHECK(s.min == 0 && s.median == 0 && s.p95 == 0 && s.max == 0 && s.mean == 0);
    CHECK(percentile_sorted(NULL, 0, 50) == 0);
}

static void test_summarize_one(void)
{
    double v[] = {7.5};
    struct summary s;
    summarize(v, 1, &s);
    CHECK(s.n == 1);
    CHECK(s.min == 7.5 && s.median == 7.5 && s.p95 == 7.5 && s.max == 7.5 && s.mean == 7.5);
}

static void test_summarize_two(void)
{
    double v[] = {9, 3};
    struct summary s;
    summarize(v, 2, &s);
    CHECK(v[0] == 3 && v[1] == 9); /* sorted in place */
    CHECK(s.n == 2);
    CHECK(s.min == 3);
    CHECK(s.median == 3); /* rank ceil(0.5 * 2) = 1 */
    CHECK(s.p95 == 9);    /* rank ceil(1.9) = 2 */
    CHECK(s.max == 9);
    CHECK(s.mean == 6);
}

static void test_summarize_twenty(void)
{
    /* 1..20 shuffled: p95 is rank ceil(0.95 * 20) = 19 exactly, not 20 */
    double v[20];
    for (int i = 0; i < 20; i++)
        v[i] = (double)((i * 7) % 20 + 1);
    struct summary s;
    summarize(v, 20, &s);
    for (int i = 0; i < 20; i++)
        CHECK(v[i] == i + 1);
    CHECK(s.n == 20);
    CHECK(s.min == 1);
    CHECK(s.median == 10); /* rank 10 */
    CHECK(s.p95 == 19);
    CHECK(s.max == 20);
    CHECK(s.mean == 10.5);
}

static void test_summarize_hundred(void)
{
    /* 100 values 0.5 .. 50 descending: p95 = rank 95 = 47.5 */
    double v[100];
    for (int i = 0; i < 100; i++)
        v[i] = (100 - i) * 0.5;
    struct summary s;
    summarize(v, 100, &s);
    CHECK(s.n == 100);
    CHECK(s.min == 0.5);
    CHECK(s.median == 25); /* rank 50 */
    CHECK(s.p95 == 47.5);
    CHECK(s.max == 50);
    CHECK(fabs(s.mean - 25.25) < 1e-12);
    CHECK(percentile_sorted(v, 100, 99) == 49.5);
    CHECK(percentile_sorted(v, 100, 100) == 50);
    CHECK(percentile_sorted(v, 100, 0.1) == 0.5);
    CHECK(percentile_sorted(v, 100, 99.9) == 50); /* rank ceil(99.9) = 100 */
}

static void test_summarize_duplicates(void)
{
    double v[] = {2, 2, 2, 1, 3, 2};
    struct summary s;
    summarize(v, 6, &s);
    CHECK(s.min == 1 && s.median == 2 && s.p95 == 3 && s.max == 3);
    CHECK(s.mean == 2);
}

/* The median's interval: min..max below n = 6 (with its coverage), the
 * binomial order statistics from there on. */
static void test_median_interval(void)
{
    double five[] = {5, 1, 4, 2, 3};
    struct summary s;
    summarize(five, 5, &s);
    CHECK(s.ci_lo == 1 && s.ci_hi == 5);
    CHECK(fabs(s.ci_level - 0.9375) < 1e-12); /* 1 - 2 / 2^5 */

    double nine[9];
    for (int i = 0; i < 9; i++)
        nine[i] = 9 - i;
    summarize(nine, 9, &s);
    /* [v(2), v(8)]: 1 - 2 P(Bin(9, 1/2) <= 1) = 1 - 20/512 */
    CHECK(s.ci_lo == 2 && s.ci_hi == 8);
    CHECK(fabs(s.ci_level - (1 - 20.0 / 512)) < 1e-12);

    double many[100];
    for (int i = 0; i < 100; i++)
        many[i] = i + 1;
    summarize(many, 100, &s);
    /* the classic table: ranks 40 and 61 for n = 100 */
    CHECK(s.ci_lo == 40 && s.ci_hi == 61);
    CHECK(s.ci_level >= 0.95 && s.ci_level < 0.97);

    double one[] = {3};
    summarize(one, 1, &s);
    CHECK(s.ci_lo == 3 && s.ci_hi == 3 && s.ci_level == 0);
}

static void test_overlap(void)
{
    double a[] = {10, 11, 12, 13, 14}, b[] = {14, 15, 16, 17, 18}, c[] = {15, 16, 17, 18, 19};
    struct summary sa, sb, sc, empty;
    summarize(a, 5, &sa);
    summarize(b, 5, &sb);
    summarize(c, 5, &sc);
    summarize(NULL, 0, &empty);
    CHECK(summary_overlap(&sa, &sb) && summary_overlap(&sb, &sa)); /* touch at 14 */
    CHECK(!summary_overlap(&sa, &sc) && !summary_overlap(&sc, &sa));
    CHECK(summary_overlap(&sb, &sc));
    CHECK(!summary_overlap(&sa, &empty));
}

/* ---- histogram ------------------------------------------------------------------- */

static void test_hist_empty(void)
{
    struct hist *h = hist_new();
    CHECK(h != NULL);
    CHECK(hist_count(h) == 0);
    CHECK(hist_quantile(h, 0.5) == 0);
    CHECK(hist_quantile(h, 0) == 0);
    CHECK(hist_quantile(h, 1) == 0);
    CHECK(hist_min(h) == 0);
    CHECK(hist_max(h) == 0);
    hist_free(h);
}

static void test_hist_small_exact(void)
{
    /* below 128 every value has its own bucket */
    struct hist *h = hist_new();
    for (uint64_t v = 1; v <= 100; v++)
        hist_add(h, v);
    CHECK(hist_count(h) == 100);
    CHECK(hist_quantile(h, 0.5) == 50);
    CHECK(hist_quantile(h, 0.95) == 95);
    CHECK(hist_quantile(h, 0.99) == 99);
    CHECK(hist_quantile(h, 0.001) == 1);
    hist_free(h);
}

/* hist_quantile vs the exact sorted quantile: never below it (the upper edge
 * of its bucket) and at most 1/128 above. */
static void check_quantiles(const struct hist *h, const uint64_t *sorted, size_t n)
{
    static const double qs[] = {0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999};
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        uint64_t want = exact_q(sorted, n, qs[i]);
        uint64_t got = hist_quantile(h, qs[i]);
        double rel = ((double)got - (double)want) / (double)want;
        if (!(got >= want && rel < 0.01 && rel <= 1.0 / 128)) {
            printf("#   q=%g: hist %llu, exact %llu (%.4f %%)\n", qs[i], (unsigned long long)got,
                   (unsigned long long)want, rel * 100);
            unit_failed_now = 1;
        }
    }
}

static void test_hist_uniform(void)
{
    enum { N = 100000 };
    static uint64_t v[N];
    struct hist *h = hist_new();
    for (size_t i = 0; i < N; i++) {
        v[i] = (uint64_t)((i * 7919) % N) + 1; /* a permutation of 1..N */
        hist_add(h, v[i]);
    }
    qsort(v, N, sizeof(v[0]), cmp_u64);
    CHECK(v[0] == 1 && v[N - 1] == N);
    CHECK(hist_count(h) == N);
    CHECK(hist_min(h) == 1);
    CHECK(hist_max(h) == N);
    check_quantiles(h, v, N);
    CHECK(hist_quantile(h, 0) == 1);
    CHECK(hist_quantile(h, 1) == N);
    hist_free(h);
}

static void test_hist_lognormal(void)
{
    enum { N = 200000 };
    static uint64_t v[N];
    struct hist *h = hist_new();
    for (size_t i = 0; i < N; i++) {
        /* Box-Muller: exp(N(ln 200 us, 1.2)), a latency-like long tail */
        double z = sqrt(-2 * log(rng_unit())) * cos(2 * M_PI * rng_unit());
        double x = exp(log(200000.0) + 1.2 * z);
        v[i] = (uint64_t)x + 1;
        hist_add(h, v[i]);
    }
    qsort(v, N, sizeof(v[0]), cmp_u64);
    CHECK(hist_min(h) == v[0]);
    CHECK(hist_max(h) == v[N - 1]);
    check_quantiles(h, v, N);
    CHECK(hist_quantile(h, 1) == v[N - 1]);
    uint64_t q0 = hist_quantile(h, 0);
    CHECK(q0 >= v[0] && (double)q0 <= (double)v[0] * (1 + 1.0 / 128));
    hist_free(h);
}

static void test_hist_bucket_edges(void)
{
    /* every value from 1 to 2^20 (and around powers of two above) lands in a
     * bucket whose upper edge is within 1/128 above it */
    for (uint64_t v = 1; v < (1u << 20); v += 1 + v / 1000) {
        struct hist *one = hist_new();
        hist_add(one, v);
        hist_add(one, UINT64_C(1) << 41); /* keeps the edge from clamping to v */
        uint64_t got = hist_quantile(one, 0.5);
        if (got < v || (double)(got - v) > (double)v / 128) {
            printf("#   %llu -> %llu\n", (unsigned long long)v, (unsigned long long)got);
            unit_failed_now = 1;
        }
        hist_free(one);
    }
    for (int k = 7; k <= 42; k++) {
        uint64_t p = UINT64_C(1) << k;
        uint64_t vs[] = {p - 1, p, p + 1, p + p / 2};
        for (size_t i = 0; i < 4; i++) {
            struct hist *one = hist_new();
            hist_add(one, vs[i]);
            hist_add(one, UINT64_MAX);
            uint64_t got = hist_quantile(one, 0.5);
            if (got < vs[i] || (double)(got - vs[i]) > (double)vs[i] / 128) {
                printf("#   2^%d: %llu -> %llu\n", k, (unsigned long long)vs[i],
                       (unsigned long long)got);
                unit_failed_now = 1;
            }
            hist_free(one);
        }
    }
}

static void test_hist_merge(void)
{
    struct hist *a = hist_new(), *b = hist_new(), *all = hist_new(), *empty = hist_new();
    for (uint64_t v = 1000; v < 50000; v += 3) {
        hist_add((v % 2) ? a : b, v);
        hist_add(all, v);
    }
    hist_add(b, 5);
    hist_add(all, 5);
    hist_add(a, 9000000);
    hist_add(all, 9000000);
    hist_merge(a, b);
    CHECK(hist_count(a) == hist_count(all));
    CHECK(hist_min(a) == 5);
    CHECK(hist_max(a) == 9000000);
    for (double q = 0; q <= 1.0; q += 0.01)
        CHECK(hist_quantile(a, q) == hist_quantile(all, q));
    /* merging an empty histogram changes nothing, merging into one copies */
    hist_merge(a, empty);
    CHECK(hist_count(a) == hist_count(all) && hist_min(a) == 5);
    hist_merge(empty, all);
    CHECK(hist_count(empty) == hist_count(all));
    CHECK(hist_min(empty) == 5 && hist_max(empty) == 9000000);
    CHECK(hist_quantile(empty, 0.5) == hist_quantile(all, 0.5));
    hist_free(a);
    hist_free(b);
    hist_free(all);
    hist_free(empty);
}

static void test_hist_huge(void)
{
    /* beyond 2^43 ns everything shares the top bucket, whose edge is the max */
    struct hist *h = hist_new();
    hist_add(h, 100);
    hist_add(h, UINT64_C(1) << 50);
    hist_add(h, UINT64_MAX);
    CHECK(hist_count(h) == 3);
    CHECK(hist_min(h) == 100);
    CHECK(hist_max(h) == UINT64_MAX);
    CHECK(hist_quantile(h, 0.2) == 100);
    CHECK(hist_quantile(h, 0.5) == UINT64_MAX); /* top bucket: clamped to max */
    CHECK(hist_quantile(h, 1) == UINT64_MAX);
    hist_free(h);

    /* an hour (3.6e12 ns, inside the range) is still within 1/128 */
    h = hist_new();
    uint64_t hour = UINT64_C(3600000000000);
    hist_add(h, hour);
    hist_add(h, UINT64_MAX);
    uint64_t got = hist_quantile(h, 0.5);
    CHECK(got >= hour && (double)(got - hour) <= (double)hour / 128);
    hist_free(h);

    /* one huge value alone: every quantile is that value */
    h = hist_new();
    hist_add(h, UINT64_C(1) << 60);
    CHECK(hist_quantile(h, 0) == UINT64_C(1) << 60);
    CHECK(hist_quantile(h, 0.5) == UINT64_C(1) << 60);
    hist_free(h);
}

static void test_hist_q_bounds(void)
{
    struct hist *h = hist_new();
    hist_add(h, 1000);
    hist_add(h, 2000);
    hist_add(h, 3001);
    /* q = 0 is rank 1: the upper edge of the minimum's bucket (4 ns wide
     * between 512 and 1023), within 1/128 above it */
    uint64_t q0 = hist_quantile(h, 0);
    CHECK(q0 >= 1000 && q0 <= 1000 + 1000 / 128);
    CHECK(hist_quantile(h, 1) == 3001); /* clamped to the exact max */
    CHECK(hist_quantile(h, -1) == q0);
    CHECK(hist_quantile(h, 2) == 3001);
    CHECK(hist_quantile(h, NAN) == q0);
    uint64_t q50 = hist_quantile(h, 0.5); /* rank ceil(1.5) = 2 */
    CHECK(q50 >= 2000 && q50 <= 2000 + 2000 / 128);
    hist_add(h, 0); /* zero is a value too */
    CHECK(hist_min(h) == 0);
    CHECK(hist_quantile(h, 0) == 0);
    hist_free(h);
}

int main(void)
{
    RUN(test_summarize_empty);
    RUN(test_summarize_one);
    RUN(test_summarize_two);
    RUN(test_summarize_twenty);
    RUN(test_summarize_hundred);
    RUN(test_summarize_duplicates);
    RUN(test_median_interval);
    RUN(test_overlap);
    RUN(test_hist_empty);
    RUN(test_hist_small_exact);
    RUN(test_hist_uniform);
    RUN(test_hist_lognormal);
    RUN(test_hist_bucket_edges);
    RUN(test_hist_merge);
    RUN(test_hist_huge);
    RUN(test_hist_q_bounds);
    return UNIT_DONE();
}
