#include "rounds.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

int rounds_cold_share(int runs, int rounds, int round)
{
    int k = runs / rounds + (round < runs % rounds);
    return k < 1 ? 1 : k;
}

/* Everything one runtime gathers over the rounds. */
struct acc {
    double *cold, *down;                    /* every cold start */
    double *rps, *p50, *p99, *p999, *ratio; /* one per round */
    struct mem_usage *idle, *load;          /* one per round */
    int ncold, nround, nratio;
    bool failed;
};

static double median_of(double *v, int n)
{
    struct summary s;
    summarize(v, (size_t)n, &s);
    return s.median;
}

/* The memory of the round whose PSS is the median one. */
static struct mem_usage median_mem(const struct mem_usage *m, int n)
{
    struct mem_usage best = {0};
    int below_best = -1;
    for (int i = 0; i < n; i++) {
        int below = 0, above = 0;
        for (int j = 0; j < n; j++) {
            below += m[j].pss_kb < m[i].pss_kb;
            above += m[j].pss_kb > m[i].pss_kb;
        }
        /* the median: neither side holds more than half */
        if (below <= n / 2 && above <= n / 2 && (below_best < 0 || below < below_best)) {
            best = m[i];
            below_best = below;
        }
    }
    return best;
}

static void add_load(struct load_result *sum, const struct load_result *x)
{
    sum->requests += x->requests;
    sum->errors += x->errors;
    sum->seconds += x->seconds;
    if (x->max_ns > sum->max_ns)
        sum->max_ns = x->max_ns;
}

static void finish(struct acc *a, struct runtime_result *r)
{
    double tmp[4][1024];
    int n = a->nround < 1024 ? a->nround : 1024;

    r->runs_ok = a->ncold;
    summarize(a->cold, (size_t)a->ncold, &r->cold_ms);
    summarize(a->down, (size_t)a->ncold, &r->teardown_ms);
    r->lat_c1.rps = r->lat_c1.seconds > 0 ? (double)r->lat_c1.requests / r->lat_c1.seconds : 0;
    r->thr_c10.rps = r->thr_c10.seconds > 0 ? (double)r->thr_c10.requests / r->thr_c10.seconds : 0;
    /* the rounds' percentiles (ms) -> their medians (ns) */
    memcpy(tmp[0], a->p50, (size_t)n * sizeof(double));
    memcpy(tmp[1], a->p99, (size_t)n * sizeof(double));
    memcpy(tmp[2], a->p999, (size_t)n * sizeof(double));
    r->lat_c1.p50_ns = (uint64_t)(median_of(tmp[0], n) * 1e6 + 0.5);
    r->lat_c1.p99_ns = (uint64_t)(median_of(tmp[1], n) * 1e6 + 0.5);
    r->lat_c1.p999_ns = (uint64_t)(median_of(tmp[2], n) * 1e6 + 0.5);
    summarize(a->rps, (size_t)n, &r->rps_c10);
    summarize(a->p50, (size_t)n, &r->lat_p50_ms);
    summarize(a->p99, (size_t)n, &r->lat_p99_ms);
    summarize(a->ratio, (size_t)a->nratio, &r->rps_vs_bare);
    r->mem_idle = median_mem(a->idle, n);
    r->mem_load = median_mem(a->load, n);
    r->rounds_ok = a->nround;
    r->ok = a->nround > 0;
}

void rounds_measure(const struct rt_plan *plan, size_t n, const struct measure_opts *o, int runs)
{
    struct acc *acc = calloc(n, sizeof(*acc));
    struct round_result *rr = malloc(sizeof(*rr));
    size_t nr = (size_t)o->rounds;
    int bare = -1;

    if (acc == NULL || rr == NULL) {
        for (size_t i = 0; i < n; i++)
            snprintf(plan[i].res->error, sizeof(plan[i].res->error), "out of memory");
        free(acc);
        free(rr);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct acc *a = &acc[i];
        a->cold = calloc((size_t)runs + nr, sizeof(double));
        a->down = calloc((size_t)runs + nr, sizeof(double));
        a->rps = calloc(nr, sizeof(double));
        a->p50 = calloc(nr, sizeof(double));
        a->p99 = calloc(nr, sizeof(double));
        a->p999 = calloc(nr, sizeof(double));
        a->ratio = calloc(nr, sizeof(double));
        a->idle = calloc(nr, sizeof(*a->idle));
        a->load = calloc(nr, sizeof(*a->load));
        a->failed = !a->cold || !a->down || !a->rps || !a->p50 || !a->p99 || !a->p999 ||
                    !a->ratio || !a->idle || !a->load;
        if (a->failed)
            snprintf(plan[i].res->error, sizeof(plan[i].res->error), "out of memory");
        plan[i].res->runs = 0;
        plan[i].res->rounds = o->rounds;
        if (plan[i].d->bare && bare < 0)
            bare = (int)i;
    }
    for (int r = 0; r < o->rounds && !bench_stop; r++) {
        int k = rounds_cold_share(runs, o->rounds, r);
        /* Each round starts one runtime further (A B C, B C A, C A B, ...):
         * no runtime always follows the same one (runsc's and a VM's teardown
         * leave the machine busy for a while) or always comes first. */
        for (size_t j = 0; j < n && !bench_stop; j++) {
            size_t i = (j + (size_t)r) % n;
            struct acc *a = &acc[i];
            struct runtime_result *res = plan[i].res;
            if (a->failed)
                continue;
            res->runs += k;
            measure_round(plan[i].d, plan[i].path, o, r, k, rr);
            for (int j = 0; j < rr->ncold; j++) {
                a->cold[a->ncold] = rr->cold[j];
                a->down[a->ncold++] = rr->down[j];
            }
            if (!rr->ok) {
                /* the last cold start may have served a load that failed:
                 * its teardown was not timed */
                if (rr->ncold > 0 && rr->down[rr->ncold - 1] == 0)
                    a->ncold--;
                a->failed = true;
                snprintf(res->error, sizeof(res->error), "round %d: %.480s", r + 1, rr->error);
                continue;
            }
            add_load(&res->lat_c1, &rr->lat_c1);
            add_load(&res->thr_c10, &rr->thr_c10);
            res->round_rps[r] = rr->thr_c10.rps;
            res->round_lat_p50_ms[r] = (double)rr->lat_c1.p50_ns / 1e6;
            a->rps[a->nround] = rr->thr_c10.rps;
            a->p50[a->nround] = (double)rr->lat_c1.p50_ns / 1e6;
            a->p99[a->nround] = (double)rr->lat_c1.p99_ns / 1e6;
            a->p999[a->nround] = (double)rr->lat_c1.p999_ns / 1e6;
            a->idle[a->nround] = rr->mem_idle;
            a->load[a->nround] = rr->mem_load;
            a->nround++;
        }
        /* the ratios once the round is complete: the bare row is not always
         * measured first any more */
        double bare_rps = bare >= 0 ? plan[bare].res->round_rps[r] : 0;
        for (size_t i = 0; i < n && bare_rps > 0; i++)
            if ((int)i != bare && plan[i].res->round_rps[r] > 0)
                acc[i].ratio[acc[i].nratio++] = plan[i].res->round_rps[r] / bare_rps;
    }
    for (size_t i = 0; i < n; i++) {
        if (acc[i].cold && acc[i].down && acc[i].rps && acc[i].p50 && acc[i].p99 && acc[i].p999 &&
            acc[i].ratio && acc[i].idle && acc[i].load)
            finish(&acc[i], plan[i].res);
        if (bench_stop && plan[i].res->error[0] == '\0' && plan[i].res->rounds_ok < o->rounds)
            snprintf(plan[i].res->error, sizeof(plan[i].res->error), "interrupted");
        free(acc[i].cold);
        free(acc[i].down);
        free(acc[i].rps);
        free(acc[i].p50);
        free(acc[i].p99);
        free(acc[i].p999);
        free(acc[i].ratio);
        free(acc[i].idle);
        free(acc[i].load);
    }
    free(acc);
    free(rr);
}
