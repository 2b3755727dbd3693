/* Host-side memory footprint of a running container: PSS and RSS summed over
 * every host process that belongs to it, from /proc/PID/smaps_rollup. */
#ifndef CELLA_BENCH_MEM_H
#define CELLA_BENCH_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mem_usage {
    uint64_t pss_kb, rss_kb;
    int nprocs;
};

/* The processes of a container: `pid` (the container's pid from `state`)
 * and all its descendants, plus every process (and its descendants) whose
 * command line holds `id` as a whole argument or as part of one (runsc's
 * sandbox and gofer, a VMM, a shim), excluding the calling process and its
 * ancestors. Returns a malloc'd array and its length. */
pid_t *mem_container_pids(pid_t pid, const char *id, size_t *n);
/* Sum smaps_rollup over pids (processes gone meanwhile are skipped). */
int mem_sum(const pid_t *pids, size_t n, struct mem_usage *out);

#endif
