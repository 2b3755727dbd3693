/* The OCI process as RUN fields: what the agent applies in the guest. */
#include "level/vmhost/process.h"

#include <string.h>

#include "core/util.h"

int vm_run_fields(const struct spec_process *p, const char *hostname, struct agent_buf *b,
                  cerr_t *err)
{
    if (p->args.n == 0)
        return cerr_set(err, 0, "process.args: must not be empty");
    for (size_t i = 0; i < p->args.n; i++)
        agent_put_str(b, AGENT_F_ARG, p->args.v[i]);
    for (size_t i = 0; i < p->env.n; i++)
        agent_put_str(b, AGENT_F_ENV, p->env.v[i]);
    agent_put_str(b, AGENT_F_CWD, p->cwd && *p->cwd ? p->cwd : "/");
    agent_put_u32(b, AGENT_F_UID, p->user.uid);
    agent_put_u32(b, AGENT_F_GID, p->user.gid);
    for (size_t i = 0; i < p->user.n_additional_gids; i++)
        agent_put_u32(b, AGENT_F_GROUP, p->user.additional_gids[i]);
    if (p->user.has_umask)
        agent_put_u32(b, AGENT_F_UMASK, p->user.umask);
    for (size_t i = 0; i < p->n_rlimits; i++)
        agent_put_rlimit(b, (uint32_t)p->rlimits[i].resource, p->rlimits[i].soft,
                         p->rlimits[i].hard);
    if (p->no_new_privileges)
        agent_put_field(b, AGENT_F_NO_NEW_PRIVS, NULL, 0);
    /* The size is the monitor's to add: its pty's as the RUN leaves. */
    if (p->terminal)
        agent_put_field(b, AGENT_F_TTY, (uint8_t[4]){0}, 4);
    if (hostname != NULL)
        agent_put_str(b, AGENT_F_HOSTNAME, hostname);
    /* One RUN frame carries it all. */
    if (b->oom || b->len > AGENT_MAX_PAYLOAD)
        return cerr_set(err, 0,
                        "process: too large for the agent protocol (args, env and the "
                        "rest: at most %u bytes)",
                        AGENT_MAX_PAYLOAD);
    return 0;
}

int vm_run_sysctls(const struct kv_list *sysctl, struct agent_buf *b, cerr_t *err)
{
    for (size_t i = 0; i < sysctl->n; i++) {
        const struct kv *kv = &sysctl->v[i];
        /* A key names a file below the guest's /proc/sys: no way out of it. */
        if (kv->key[0] == '\0' || kv->key[0] == '.' || strchr(kv->key, '/') != NULL ||
            strstr(kv->key, "..") != NULL || strchr(kv->key, '=') != NULL)
            return cerr_set(err, 0, "linux.sysctl: `%s`: not a sysctl name", kv->key);
        autofree char *f = xasprintf("%s=%s", kv->key, kv->value);
        agent_put_str(b, AGENT_F_SYSCTL, f);
    }
    if (b->oom || b->len > AGENT_MAX_PAYLOAD)
        return cerr_set(err, 0, "linux.sysctl: too large for the agent protocol (at most %u bytes)",
                        AGENT_MAX_PAYLOAD);
    return 0;
}
