/* The schedule of `cella bench`: every runtime measured in interleaved
 * rounds (A B C A B C ...), so that a slow spell of the machine falls on
 * every runtime alike, and each figure comes with its spread. */
#ifndef CELLA_BENCH_ROUNDS_H
#define CELLA_BENCH_ROUNDS_H

#include <stddef.h>

#include "drivers.h"
#include "measure.h"
#include "model.h"

struct rt_plan {
    const struct driver *d;
    const char *path;           /* the runtime's binary (the server for the bare row) */
    struct runtime_result *res; /* name, boundary, version set by the caller */
};

/* The cold starts of round `round` out of `rounds` when a runtime has `runs`
 * in all: runs / rounds, the remainder going to the first rounds, at least 1
 * (the container that serves the round's load is a cold start too). */
int rounds_cold_share(int runs, int rounds, int round);

/* Measures plan[0..n) in o->rounds rounds, `runs` cold starts each in all,
 * and fills their results. A runtime that fails a round is not measured
 * again (its error says why; ok when at least one round was measured). A
 * bare row (d->bare) among them is the reference of rps_vs_bare. */
void rounds_measure(const struct rt_plan *plan, size_t n, const struct measure_opts *o, int runs);

#endif
