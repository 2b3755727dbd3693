/* `cella bench --engine docker`: a dockerd of the bench's own, started and
 * stopped by scripts/dockerd.sh (the same setup as tests/integration's
 * Docker tests), with cella's levels registered as runtimes, and the bench's
 * rootfs imported as images. */
#ifndef CELLA_BENCH_ENGINE_H
#define CELLA_BENCH_ENGINE_H

#include <limits.h>
#include <stdbool.h>

#include "core/error.h"

struct engine {
    char script[PATH_MAX]; /* dockerd.sh */
    char dir[PATH_MAX];    /* the daemon's directory (data, exec root, socket) */
    char docker[PATH_MAX]; /* the client */
    char host[PATH_MAX + 8];
    char net[64];
    /* The address of the one container running at a time, and its MAC,
     * which the bridge knows in advance (no ARP while it starts). */
    char ip[16];
    char mac[18];
    bool started;
};

/* Starts the daemon in dir (created; removed by engine_stop). self: the path
 * of cella-bench (dockerd.sh is looked up from it), cella: cella's. -1 with
 * *err saying why dockerd could not start, nothing left behind. */
int engine_start(struct engine *e, const char *dir, const char *self, const char *cella,
                 cerr_t *err);
/* `docker import` of rootfs as image `tag`, its CMD `cmd` (JSON, or NULL). */
int engine_import(const struct engine *e, const char *rootfs, const char *tag, const char *cmd,
                  cerr_t *err);
/* Removes the containers, network and daemon and everything they left. */
void engine_stop(struct engine *e);

#endif
