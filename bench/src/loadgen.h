/* A closed-loop HTTP/1.1 load generator: `concurrency` keep-alive
 * connections on one epoll loop, each sending `GET / HTTP/1.1` again as soon
 * as the previous answer is complete, for `seconds`. Latency is measured per
 * request (send to complete response) into a histogram. */
#ifndef CELLA_BENCH_LOADGEN_H
#define CELLA_BENCH_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct load_result {
    uint64_t requests; /* complete 200 answers */
    uint64_t errors;   /* non-200 answers, resets, timeouts */
    double seconds;    /* measured wall time */
    double rps;
    uint64_t p50_ns, p99_ns, p999_ns, max_ns;
};

/* cpu >= 0 pins the generator to that CPU (the server should use another).
 * Returns 0, or -1 with *err set. */
int loadgen_run(const char *addr, int port, int concurrency, double seconds, int cpu,
                struct load_result *out, cerr_t *err);

#endif
