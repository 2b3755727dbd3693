#include "level/fields.h"

#include <string.h>
#include <sys/personality.h>

static int refuse(cerr_t *err, const char *field, const char *level, const char *why)
{
    return cerr_set(err, 0, "%s: not supported at the %s level%s", field, level, why);
}

int level_refuse_fields(const struct spec *s, const char *level, unsigned which, cerr_t *err)
{
    const struct spec_process *p = &s->process;
    const struct spec_linux *l = &s->linux_;
    if ((which & LF_NOT_YET) && (spec_refuse_unsupported(&s->unsupported, err) < 0 ||
                                 spec_refuse_unsupported(&p->unsupported, err) < 0 ||
                                 spec_refuse_unsupported(&l->resources.unsupported, err) < 0))
        return -1;
    if ((which & LF_PERSONALITY) && l->has_personality)
        return refuse(err, "linux.personality", level, "");
    if ((which & LF_PERSONALITY32) && l->has_personality && l->personality == PER_LINUX32)
        return refuse(err, "linux.personality", level,
                      " (domain LINUX32: its kernel answers uname as x86_64)");
    if ((which & LF_SCHEDULER) && p->has_sched)
        return refuse(err, "process.scheduler", level, "");
    if ((which & LF_IOPRIORITY) && p->has_ioprio)
        return refuse(err, "process.ioPriority", level, "");
    if ((which & LF_OOM_SCORE) && p->has_oom_score_adj)
        return refuse(err, "process.oomScoreAdj", level, "");
    if ((which & LF_TIME_OFFSETS) && (l->time_offsets[0].set || l->time_offsets[1].set))
        return refuse(err, "linux.timeOffsets", level, "");
    if ((which & LF_SYSCTL) && l->sysctl.n > 0)
        return refuse(err, "linux.sysctl", level, "");
    if ((which & LF_DOMAINNAME) && s->domainname != NULL)
        return refuse(err, "domainname", level, "");
    if ((which & LF_MEMPOLICY) && l->has_mempolicy)
        return refuse(err, "linux.memoryPolicy", level, "");
    if ((which & LF_EXEC_AFFINITY) && (p->has_cpu_initial || p->has_cpu_final))
        return refuse(err, "process.execCPUAffinity", level, "");
    for (size_t i = 0; (which & LF_IDMAP_MOUNTS) && i < s->n_mounts; i++) {
        const struct spec_mount *m = &s->mounts[i];
        if (m->n_uid_mappings > 0)
            return cerr_set(err, 0, "mounts[%zu].uidMappings: not supported at the %s level", i,
                            level);
        for (size_t j = 0; j < m->options.n; j++)
            if (strcmp(m->options.v[j], "idmap") == 0 || strcmp(m->options.v[j], "ridmap") == 0)
                return cerr_set(err, 0, "mounts[%zu].options `%s`: not supported at the %s level",
                                i, m->options.v[j], level);
    }
    return 0;
}
