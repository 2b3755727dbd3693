/* What `cella bench` measured: one run over several runtimes. Filled by the
 * orchestrator (bench.c), read by the report writers (report_*.c). */
#ifndef CELLA_BENCH_MODEL_H
#define CELLA_BENCH_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "loadgen.h"
#include "mem.h"
#include "stats.h"

/* --rounds: at most this many. */
#define BENCH_MAX_ROUNDS 100

/* The isolation boundary of a runtime, for the decision guide. */
enum boundary {
    B_SHARED_KERNEL,         /* namespaces + cgroups + seccomp (runc, crun, cella container) */
    B_SYSCALL_INTERPOSITION, /* user-space kernel (gVisor, cella sandbox) */
    B_HARDWARE_VM,           /* a guest kernel in a VM (Kata/QEMU, Firecracker, cella vm/qemu) */
    B_WASM_SANDBOX,          /* WebAssembly (wasmtime, cella wasm) */
    B_NONE,                  /* the bare process: the floor of every report */
};

struct runtime_result {
    char name[64];     /* "cella-container", "crun", "runc", "runsc" */
    char version[128]; /* first line of `RUNTIME --version` */
    enum boundary boundary;
    bool ok; /* measured; false: error says why */
    char error[512];
    int runs_ok, runs;          /* cold starts, spread over the rounds */
    int rounds_ok, rounds;      /* interleaved rounds of load */
    struct summary cold_ms;     /* invoke -> first HTTP 200, every run */
    struct summary teardown_ms; /* kill + delete, every run */
    /* Summed over the rounds (requests, errors, seconds, rps = requests /
     * seconds); the percentiles are the medians of the rounds' ones. */
    struct load_result lat_c1;  /* concurrency 1: latency percentiles */
    struct load_result thr_c10; /* concurrency 10: throughput */
    /* One sample per round, with the interval of the median. */
    struct summary rps_c10;                /* req/s at concurrency 10 */
    struct summary lat_p50_ms, lat_p99_ms; /* at concurrency 1 */
    /* req/s at c=10 over the bare process's in the same round (paired);
     * n == 0 when the bare row was not measured. */
    struct summary rps_vs_bare;
    struct mem_usage mem_idle, mem_load; /* of the round with the median PSS */
    /* The samples by round (index: round), 0 where the round failed: the
     * rounds of every runtime ran side by side, so they can be paired. */
    double round_rps[BENCH_MAX_ROUNDS], round_lat_p50_ms[BENCH_MAX_ROUNDS];
};

struct image_size {
    char name[32]; /* "distroless", "busybox", "debian" */
    bool ok;
    char error[256];
    unsigned long long rootfs_bytes, layer_gz_bytes;
};

struct bench_env {
    char cpu_model[128];
    int cores;
    char kernel[128];
    char virt[64]; /* env_virt(): "hardware KVM", "PVM (software KVM)", "none: TCG only" */
    char date[40]; /* RFC 3339 */
};

struct bench_report {
    struct bench_env env;
    int runs;
    int rounds;
    double duration_s; /* of each load step in a round */
    double warmup_s;
    bool quick;
    /* --engine docker: "docker", the rows' runtimes driven through it, and
     * the row every other one is compared with (Docker's default, runc);
     * "" without --engine. */
    char engine[16];
    char baseline[64];
    struct runtime_result *rt;
    size_t n_rt;
    struct image_size *img;
    size_t n_img;
};

#endif
