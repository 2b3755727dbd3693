/* The runtimes `cella bench` knows: how to find each one and drive it
 * through its OCI command line, with its quirks. A new runtime (or a new
 * cella level) joins by adding an entry to the table in drivers.c. */
#ifndef CELLA_BENCH_DRIVERS_H
#define CELLA_BENCH_DRIVERS_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

#define DRIVER_MAX_ARGS 8

struct driver {
    const char *name;   /* as shown and as given to --runtimes */
    const char *binary; /* absolute, or looked up in PATH; NULL: cella itself */
    const char *global_args[DRIVER_MAX_ARGS]; /* before the command */
    const char *detach_flag;                  /* "--detach", or "-detach" for runsc */
    enum boundary boundary;
    /* crun 1.8 refuses hybrid cgroups: measure it in a private mount
     * namespace where /sys/fs/cgroup/unified is unmounted. */
    bool hide_unified_cgroup;
    /* Takes --root: the bench gives it a state directory of its own, so that
     * nothing of the bench mixes with the user's containers. */
    bool takes_root;
    /* Runs the wasm32-wasi build of the workload (a bundle holding
     * httpd.wasm, its listening socket from run.cella.wasm.tcplisten). */
    bool wasm;
    /* The floor: the server run directly, no runtime (binary unused). */
    bool bare;
    /* Driven through Docker (`cella bench --engine docker`): `docker run
     * --runtime=engine_runtime` against the bench's own dockerd, which has
     * cella's levels registered under these names; binary is the client. */
    const char *engine_runtime;
    const char *note; /* shown with results (e.g. "ptrace platform") */
};

/* Every driver; *n set to the count. `cella` is the path of the cella binary
 * (for the entries of cella's own levels). The entries driven through an
 * engine (engine_runtime set) are measured instead of the others with
 * --engine, the bare row with both. */
const struct driver *drivers_all(const char *cella, size_t *n);
/* The absolute path of the driver's binary, or NULL when not installed. */
char *driver_path(const struct driver *d);

#endif
