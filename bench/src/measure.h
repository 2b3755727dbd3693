/* Measuring one runtime through its OCI command line, one round at a time:
 * cold starts (invoke -> first HTTP 200) and teardowns, then steady-state
 * latency, throughput and memory of the last container started. The caller
 * interleaves the rounds of every runtime (rounds.c). */
#ifndef CELLA_BENCH_MEASURE_H
#define CELLA_BENCH_MEASURE_H

#include <signal.h>
#include <stdbool.h>

#include "drivers.h"
#include "model.h"

#define MEASURE_CGROUP_MARK "@CGROUP@"

struct measure_opts {
    const char *bundle;      /* absolute; its config serves on 127.0.0.1:port */
    const char *wasm_bundle; /* the same with the wasm32-wasi server, NULL: not built */
    /* Their config.json texts, with MEASURE_CGROUP_MARK where each container
     * gets linux.cgroupsPath "/ID": every runtime's container then sits at the
     * same place in the cgroup tree (crun's and cella's default; runc 1.1 puts
     * its default under the caller's own cgroup, which need not be the root). */
    const char *config, *wasm_config;
    const char *httpd; /* the server itself, for the bare process */
    int port;
    int rounds;        /* for the progress line */
    double duration_s; /* of each load step in a round */
    double warmup_s;   /* of the unrecorded load before them */
    int loadgen_cpu;   /* -1: not pinned */
    int server_cpu;    /* the bare process's CPU (the bundle's cpuset), -1: not pinned */
    int tag;           /* in the container ids: cella-bench-TAG-ROUND-I */
    int timeout_ms;    /* for the first HTTP 200 */
    bool verbose;
    const char *root; /* state directory for the runtimes that take --root, NULL: theirs */
    /* --engine docker: the bench's dockerd (scripts/dockerd.sh), for the
     * drivers with engine_runtime. Their containers run on its bridge network
     * `engine_net` at the address `engine_ip` (one at a time), where the
     * bench reaches them directly: docker-proxy (-p) would be measured too. */
    const char *engine_host;            /* "unix://DIR/docker.sock" */
    const char *engine_net, *engine_ip; /* network name, the containers' IPv4 */
    const char *engine_mac;             /* and MAC (the bridge's neighbour entry) */
    const char *image, *wasm_image;     /* docker import of the bundles' rootfs */
};

/* Set by SIGINT/SIGTERM: measuring stops, the container in flight is removed. */
extern volatile sig_atomic_t bench_stop;

/* Cold starts of one runtime in one round, at most this many. */
#define ROUND_MAX_COLD 256

/* What one round of one runtime measured (a plain struct: the rounds of a
 * runtime measured in a private mount namespace come back through a pipe). */
struct round_result {
    bool ok; /* false: error says why */
    char error[512];
    int ncold;
    double cold[ROUND_MAX_COLD], down[ROUND_MAX_COLD]; /* ms */
    struct load_result lat_c1, thr_c10;
    struct mem_usage mem_idle, mem_load;
};

/* Round `round` of one runtime with ncold cold starts (1..ROUND_MAX_COLD). */
void measure_round(const struct driver *d, const char *path, const struct measure_opts *o,
                   int round, int ncold, struct round_result *out);
/* 1 when host:port (IPv4 dotted) answers `GET /` with 200, else 0. */
int http_probe(const char *host, int port);
/* True once nothing accepts connections on host:port (within wait_ms). */
bool port_free(const char *host, int port, int wait_ms);
/* First line of `path --version`, "" if none. */
void runtime_version(const char *path, char *buf, size_t len);

#endif
