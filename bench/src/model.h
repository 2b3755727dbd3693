/* What `cella bench` measured: one run over several runtimes. Filled by the
 * orchestrator (bench.c), read by the report writers (report_*.c). */
#ifndef CELLA_BENCH_MODEL_H
#define CELLA_BENCH_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "loadgen.h"
#include "mem.h"
#include "stats.h"

/* The isolation boundary of a runtime, for the decision guide. */
enum boundary {
    B_SHARED_KERNEL,         /* namespaces + cgroups + seccomp (runc, crun, cella container) */
    B_SYSCALL_INTERPOSITION, /* user-space kernel (gVisor, cella sandbox) */
    B_HARDWARE_VM,           /* a guest kernel in a VM (Kata/QEMU, Firecracker, cella vm/qemu) */
    B_WASM_SANDBOX,          /* WebAssembly (wasmtime, cella wasm) */
};

struct runtime_result {
    char name[64];     /* "cella-container", "crun", "runc", "runsc" */
    char version[128]; /* first line of `RUNTIME --version` */
    enum boundary boundary;
    bool ok; /* measured; false: error says why */
    char error[512];
    int runs_ok, runs;
    struct summary cold_ms;     /* invoke -> first HTTP 200 */
    struct summary teardown_ms; /* kill + delete */
    struct load_result lat_c1;  /* concurrency 1: latency percentiles */
    struct load_result thr_c10; /* concurrency 10: throughput */
    struct mem_usage mem_idle, mem_load;
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
    double duration_s;
    bool quick;
    struct runtime_result *rt;
    size_t n_rt;
    struct image_size *img;
    size_t n_img;
};

#endif
