/* Measuring one runtime through its OCI command line: cold start (invoke ->
 * first HTTP 200) over several runs, teardown, then steady-state latency,
 * throughput and memory of one running container. */
#ifndef CELLA_BENCH_MEASURE_H
#define CELLA_BENCH_MEASURE_H

#include <signal.h>
#include <stdbool.h>

#include "drivers.h"
#include "model.h"

struct measure_opts {
    const char *bundle;      /* absolute; its config serves on 127.0.0.1:port */
    const char *wasm_bundle; /* the same with the wasm32-wasi server, NULL: not built */
    int port;
    int runs;
    double duration_s; /* of each load phase */
    int loadgen_cpu;   /* -1: not pinned */
    int timeout_ms;    /* for the first HTTP 200 */
    bool verbose;
    const char *root; /* state directory for the runtimes that take --root, NULL: theirs */
};

/* Set by SIGINT/SIGTERM: measuring stops, the container in flight is removed. */
extern volatile sig_atomic_t bench_stop;

/* Fills out (out->ok false with a one-line error when it could not measure). */
void measure_runtime(const struct driver *d, const char *path, const struct measure_opts *o,
                     struct runtime_result *out);
/* 1 when 127.0.0.1:port answers `GET /` with 200, else 0. */
int http_probe(int port);
/* True once nothing accepts connections on 127.0.0.1:port (within wait_ms). */
bool port_free(int port, int wait_ms);
/* First line of `path --version`, "" if none. */
void runtime_version(const char *path, char *buf, size_t len);

#endif
