/* Identity, exit and per-thread state: the answers come from the sandbox
 * (its pid 1, the spec's user and hostname), never from the host. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "level/sandbox/kernel/sys.h"

long sb_sys_exit(struct sb_task *t, const uint64_t a[6])
{
    return sb_thread_exit(t, (int)a[0]);
}

long sb_sys_exit_group(struct sb_task *t, const uint64_t a[6])
{
    t->exited = true;
    t->exit_status = (int)(a[0] & 0xff) << 8;
    return 0;
}

long sb_sys_getpid(struct sb_task *t, const uint64_t a[6])
{
    (void)a;
    return t->pid;
}

long sb_sys_gettid(struct sb_task *t, const uint64_t a[6])
{
    (void)a;
    return t->tid;
}

long sb_sys_getuid(struct sb_task *t, const uint64_t a[6])
{
    (void)a;
    return t->k->uid;
}

long sb_sys_geteuid(struct sb_task *t, const uint64_t a[6])
{
    return sb_sys_getuid(t, a);
}

long sb_sys_getgid(struct sb_task *t, const uint64_t a[6])
{
    (void)a;
    return t->k->gid;
}

long sb_sys_getegid(struct sb_task *t, const uint64_t a[6])
{
    return sb_sys_getgid(t, a);
}

long sb_sys_uname(struct sb_task *t, const uint64_t a[6])
{
    struct utsname u, host;
    memset(&u, 0, sizeof(u));
    if (uname(&host) < 0)
        memset(&host, 0, sizeof(host));
    strcpy(u.sysname, "Linux");
    snprintf(u.nodename, sizeof(u.nodename), "%s", t->k->hostname);
    /* The host's release: programs check it for features, and the calls they
     * then make are cella's to serve or refuse. */
    snprintf(u.release, sizeof(u.release), "%s", host.release);
    strcpy(u.version, "#1 SMP cella sandbox");
    strcpy(u.machine, "x86_64");
    strcpy(u.domainname, "(none)");
    return sb_copy_out(t->mm, a[0], &u, sizeof(u));
}

long sb_sys_arch_prctl(struct sb_task *t, const uint64_t a[6])
{
    switch (a[0]) {
    case ARCH_SET_FS: {
        if (a[1] >= SB_TASK_TOP)
            return -EPERM;
        const uint64_t args[6] = {ARCH_SET_FS, a[1]};
        long r;
        if (sb_stub_hostcall(&t->stub, SYS_arch_prctl, args, &r) < 0)
            return -ESRCH;
        if (r == 0)
            t->fs_base = a[1];
        return r;
    }
    case ARCH_GET_FS:
        return sb_copy_out(t->mm, a[1], &t->fs_base, sizeof(t->fs_base));
    default:
        return -EINVAL;
    }
}

long sb_sys_set_tid_address(struct sb_task *t, const uint64_t a[6])
{
    t->clear_child_tid = a[0];
    return t->tid;
}
