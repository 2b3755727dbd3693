/* sysinfo (glibc's sysconf(_SC_PHYS_PAGES) and _SC_AVPHYS_PAGES, qsort's
 * memory check): the sandbox's own uptime and process count; memory and
 * swap as the host reported them when the sandbox started (the kernel's
 * filter keeps no sysinfo host call, and these are the figures a container
 * at the container level reads); no load averages (the sandbox keeps none). */
#define _GNU_SOURCE
#include <string.h>
#include <sys/sysinfo.h>

#include "core/util.h"
#include "level/sandbox/kernel/sys.h"

_Static_assert(sizeof(struct sysinfo) == 112, "the x86-64 kernel's struct sysinfo");

void sb_sysinfo_init(struct sb_kernel *k)
{
    struct sysinfo s;
    memset(&s, 0, sizeof(s));
    sysinfo(&s);
    uint64_t u = s.mem_unit ? s.mem_unit : 1;
    const uint64_t mem[6] = {s.totalram * u,  s.freeram * u,   s.sharedram * u,
                             s.bufferram * u, s.totalswap * u, s.freeswap * u};
    memcpy(k->sysinfo_mem, mem, sizeof(mem));
    k->start_ns = now_ns();
}

long sb_sys_sysinfo(struct sb_task *t, const uint64_t a[6])
{
    const struct sb_kernel *k = t->k;
    struct sysinfo s;
    memset(&s, 0, sizeof(s));
    s.uptime = (long)((now_ns() - k->start_ns) / 1000000000ULL);
    s.totalram = k->sysinfo_mem[0];
    s.freeram = k->sysinfo_mem[1];
    s.sharedram = k->sysinfo_mem[2];
    s.bufferram = k->sysinfo_mem[3];
    s.totalswap = k->sysinfo_mem[4];
    s.freeswap = k->sysinfo_mem[5];
    for (int i = 0; i < k->ntask; i++)
        s.procs += !k->task[i]->zombie;
    s.mem_unit = 1;
    return sb_copy_out(t->mm, a[0], &s, sizeof(s));
}
