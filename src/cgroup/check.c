/* What a host's cgroups can apply: a resource asked for that no hierarchy
 * has the controller for is refused up front, naming the field and the
 * controller, never written nowhere and forgotten. */
#define _GNU_SOURCE
#include "cgroup/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "core/log.h"
#include "core/util.h"

#define F_HUGE "linux.resources.hugepageLimits"
#define F_NET  "linux.resources.network"

bool cg_v2_offers(const struct layout *l, const char *ctrl)
{
    const struct hier *h = cg_hier_v2(l);
    if (h == NULL)
        return false;
    autofree char *list = cg_get(h->mnt, "cgroup.controllers", NULL);
    return list != NULL && cg_has_word(list, ctrl);
}

static int missing(const struct layout *l, const char *field, const char *ctrl, cerr_t *err)
{
    return cerr_set(
        err, 0, "%s: no cgroup hierarchy of this host has the `%s` controller (%s)", field, ctrl,
        l->mode == CGROUP_V2 ? "cgroup v2 has none"
                             : "not mounted as cgroup v1 and not offered by the v2 tree");
}

/* "2MB", "1GB", "64KB" (the kernel's hugetlb.<size>.* names): a size this
 * host has under /sys/kernel/mm/hugepages. */
static int check_page_size(const char *ps, size_t i, cerr_t *err)
{
    char *end = NULL;
    unsigned long long n = strtoull(ps, &end, 10);
    unsigned long long kb = 0;
    if (end != ps && n > 0) {
        if (strcmp(end, "KB") == 0)
            kb = n;
        else if (strcmp(end, "MB") == 0)
            kb = n << 10;
        else if (strcmp(end, "GB") == 0)
            kb = n << 20;
    }
    autofree char *dir = xasprintf("/sys/kernel/mm/hugepages/hugepages-%llukB", kb);
    struct stat st;
    if (kb == 0 || stat(dir, &st) < 0)
        return cerr_set(err, 0, F_HUGE "[%zu].pageSize: `%s` is not a huge page size of this host",
                        i, ps);
    return 0;
}

/* Linux 5.16 made hierarchical memory accounting permanent. */
static bool hierarchy_always_on(void)
{
    struct utsname u;
    int major = 0, minor = 0;
    return uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
           (major > 5 || (major == 5 && minor >= 16));
}

/* The memory fields that only cgroup v1 has a knob for, and the deprecated one. */
static int check_memory(const struct layout *l, const struct spec_resources *r, cerr_t *err)
{
    if (r->memory.kernel.set && r->memory.kernel.v != 0)
        log_warn(F_MEM ".kernel: ignored (NOT RECOMMENDED by the runtime-spec; kernel memory "
                       "limits are gone from Linux 6.x)");
    if (r->memory.use_hierarchy.set && !r->memory.use_hierarchy.v &&
        (l->mode == CGROUP_V2 || hierarchy_always_on()))
        return cerr_set(err, 0,
                        F_MEM ".useHierarchy: false cannot be applied: hierarchical accounting "
                              "is always on (cgroup v2, Linux 5.16 and later)");
    if (l->mode != CGROUP_V2)
        return 0;
    const char *field = r->memory.swappiness.set ? "swappiness"
                        : r->memory.disable_oom_killer.set && r->memory.disable_oom_killer.v
                            ? "disableOOMKiller"
                        : r->memory.kernel_tcp.set && r->memory.kernel_tcp.v != 0 ? "kernelTCP"
                                                                                  : NULL;
    if (field != NULL)
        return cerr_set(err, 0, F_MEM ".%s: cgroup v2 has no such setting (cgroup v1 only)", field);
    return 0;
}

int cg_check_resources(const struct layout *l, const struct spec_resources *r, cerr_t *err)
{
    if (check_memory(l, r, err) < 0)
        return -1;
    if (spec_refuse_unsupported(&r->unsupported, err) < 0)
        return -1;
    /* As runc 1.1: unified needs a pure v2 host; on a hybrid one the v2 tree's
     * cgroup.* files alone are not what a spec means to set. */
    if (r->unified.n > 0 && l->mode != CGROUP_V2)
        return cerr_set(err, 0,
                        "linux.resources.unified: invalid configuration: cannot use unified on "
                        "cgroup v1 (the host is %s)",
                        cgroup_mode_name(l->mode));
    if (r->n_hugepages > 0) {
        bool v1 = l->mode != CGROUP_V2 && cg_hier_v1(l, C_HUGETLB) != NULL;
        if (!v1 && !cg_v2_offers(l, "hugetlb"))
            return missing(l, F_HUGE, "hugetlb", err);
        for (size_t i = 0; i < r->n_hugepages; i++)
            if (check_page_size(r->hugepages[i].page_size, i, err) < 0)
                return -1;
    }
    /* net_cls and net_prio have no cgroup v2 counterpart. */
    if (r->network.class_id.set && (l->mode == CGROUP_V2 || !cg_hier_v1(l, C_NET_CLS)))
        return missing(l, F_NET ".classID", "net_cls", err);
    if (r->network.n_priorities > 0 && (l->mode == CGROUP_V2 || !cg_hier_v1(l, C_NET_PRIO)))
        return missing(l, F_NET ".priorities", "net_prio", err);
    return 0;
}
