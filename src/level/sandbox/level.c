/* The `sandbox` isolation level: cella's own user-space kernel serves every
 * system call of the workload (docs/sandbox.md). It is the container level
 * (namespaces, cgroup, credentials, capabilities, the spec's seccomp filter)
 * with a run function in place of execve: the container's process becomes
 * cella's kernel, which starts the workload in a stub process, then confines
 * itself with its own seccomp filter and serves the workload until it ends. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "core/lifecycle.h"
#include "level/container/container.h"
#include "level/ctl.h"
#include "level/fields.h"
#include "level/rootfs_exe.h"
#include "level/sandbox/kernel/kernel.h"
#include "level/supervisor.h"
#include "level/vmhost/process.h"

/* The control socket's listening descriptor, made by create in the state
 * directory and inherited by the container's init, which becomes the
 * kernel (cloned from create: this copy of the variable is its own). */
static int ctl_listen = -1;

static int sandbox_oci_run(const struct proc_plan *plan, cerr_t *err)
{
    int before[1024];
    size_t nbefore = cloexec_fds(before, ARRAY_SIZE(before));
    static struct sb_kernel k;
    static struct sb_task t;
    k.rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (k.rootfd < 0)
        return cerr_set(err, errno, "sandbox: open the root");
    snprintf(k.cwd, sizeof(k.cwd), "%s", plan->p->cwd ? plan->p->cwd : "/");
    k.hostname = plan->spec && plan->spec->hostname ? plan->spec->hostname : "localhost";
    k.uid = plan->p->user.uid;
    k.gid = plan->p->user.gid;
    struct sb_start s = {
        .exe = plan->exe, .argv = plan->p->args.v, .envp = plan->envp, .uid = k.uid, .gid = k.gid};
    sb_mounts_init(&k, plan->spec);
    s.exe_fd = sb_mount_open_exe(&k, plan->exe, err);
    if (s.exe_fd < 0)
        return -1;
    if (sb_task_start(&t, &k, &s, err) < 0) {
        sb_task_free(&t);
        return -1;
    }
    close(s.exe_fd);
    sb_devices_open(&k);
    /* The workload's umask is the kernel's to apply: the host's becomes 0. */
    k.umask = umask(0);
    t.umask = k.umask;
    const struct spec_resources *res = plan->spec ? &plan->spec->linux_.resources : NULL;
    sb_procfs_init(&k, res && res->memory.limit.set && res->memory.limit.v > 0
                           ? (unsigned long long)res->memory.limit.v
                           : 0);
    if (sb_hostsig_install(&k, err) < 0 ||
        (ctl_listen >= 0 && sb_ctl_init(&k, ctl_listen, err) < 0) ||
        sb_kernel_filter_install(err) < 0) {
        sb_task_free(&t);
        return -1;
    }
    /* The point of no return, where execve would be: the fds it would
     * close are closed (the start connection among them). */
    for (size_t i = 0; i < nbefore; i++)
        if (before[i] != ctl_listen)
            close(before[i]);
    int status = sb_task_run(&t);
    /* To stderr only: log_debug would also open --log's file, a host path
     * and a host call the kernel's filter refuses. */
    char *report = log_debug_enabled() ? sb_enosys_report(&k) : NULL;
    if (report != NULL)
        dprintf(2, "cella: debug: sandbox: unimplemented system calls (ENOSYS): %s\n", report);
    /* Not _exit: a sanitizer's _exit runs its leak check, which needs host
     * calls (clone, ptrace) the kernel's filter rightly refuses. */
    syscall(SYS_exit_group, status);
    _exit(status);
}

/* process.args[0] as the kernel will run it: found in the rootfs (as the
 * container's init finds it), an x86-64 ELF executable whose interpreter, if
 * it names one, is in the rootfs. A script, a missing interpreter or a
 * missing file fails create, before anything is made. A program beneath a
 * mount of the spec is only known at run time. */
static int sandbox_check(const struct spec *s, const struct create_opts *o, cerr_t *err)
{
    if (container_check(s, o, err) < 0 ||
        level_refuse_fields(s, "sandbox", LF_SANDBOX_LEVEL, err) < 0)
        return -1;
    autofree char *rootfs = level_rootfs_path(s, o->bundle, err);
    if (rootfs == NULL)
        return -1;
    autoclose int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return cerr_set(err, errno, "root.path: `%s`", rootfs);
    const char *name = s->process.args.v[0];
    autofree char *exe = NULL;
    int r = rootfs_find_exe(s, rootfd, &exe);
    if (r == 0)
        return 0;
    if (r < 0) {
        int e = errno;
        bool slash = strchr(name, '/') != NULL;
        if (slash)
            cerr_set(err, e, "process.args[0]: `%s` in the rootfs", name);
        else
            cerr_set(err, 0, "process.args[0]: `%s` not found in $PATH of the rootfs", name);
        (*err)->code = !slash || e == ENOENT ? CERR_EXE_MISSING : CERR_EXE_CANNOT_RUN;
        return -1;
    }
    int fd = sb_open_exe(rootfd, exe, err);
    if (fd < 0) {
        cerr_wrap(err, "process.args[0]");
        if ((*err)->code != CERR_EXE_MISSING) /* a dynamic one's interpreter */
            (*err)->code = CERR_EXE_CANNOT_RUN;
        return -1;
    }
    close(fd);
    return 0;
}

/* The control socket (monitor.sock, as a supervisor's: ctl.h) is bound
 * here, in the host's view of the state directory, which the kernel inside
 * the container's mounts cannot name; the kernel serves it from start on.
 * It holds no supervisor's pid file: the kernel is the container's process
 * itself, waited for as the container level's. */
static int sandbox_create(struct container *c, const struct create_opts *o, cerr_t *err)
{
    static const struct level_hooks hooks = {.run = sandbox_oci_run};
    ctl_listen = supervisor_listen(c->dirfd);
    if (ctl_listen < 0)
        return cerr_set(err, errno, "sandbox: the control socket " SUPERVISOR_SOCK);
    int r = container_create(c, o, &hooks, err);
    close(ctl_listen);
    ctl_listen = -1;
    return r;
}

/* The exec'd process runs in the sandbox, on cella's kernel: the request
 * goes to the kernel over the control socket with this command's stdio
 * (the container level's exec would run a host-native process beside the
 * kernel instead). */
static int sandbox_exec(struct container *c, const struct exec_opts *o, int *status, cerr_t *err)
{
    if (container_status(c) == ST_CREATED)
        return cerr_set(err, 0,
                        "cannot exec in container `%s`: it is created (the sandbox's kernel "
                        "starts with `start`)",
                        c->id);
    struct agent_buf b = {0};
    int sock = -1, r = -1;
    cerr_t e = NULL;
    if (ctl_exec_refuse(c, o, false, err) < 0 || vm_run_fields(o->process, NULL, &b, err) < 0)
        goto out;
    if ((sock = supervisor_connect(c->dirfd, &e)) < 0) {
        cerr_set(err, 0, "container `%s`: its sandbox's kernel has ended (%s)", c->id, cerr_msg(e));
        goto out;
    }
    r = ctl_exec(c, o, sock, b.data, b.len, "the sandbox's kernel", false, status, err);
out:
    cerr_free(&e);
    if (sock >= 0)
        close(sock);
    agent_buf_free(&b);
    return r;
}

/* `kill --all` (runc's -a) signals every process of the workload: the
 * kernel process is told so by the signal's value, since the stubs are
 * host processes that take no signal but from the kernel. SIGKILL needs
 * no telling: the kernel's end is every stub's (PDEATHSIG). */
static int sandbox_kill(struct container *c, int sig, bool all, cerr_t *err)
{
    if (!all || sig == SIGKILL || sig == 0)
        return container_kill(c, sig, all, err);
    if (c->st->pid <= 0)
        return cerr_set(err, 0, "container `%s` has no process yet", c->id);
    int pfd = (int)syscall(SYS_pidfd_open, c->st->pid, 0);
    if (pfd < 0 || !proc_alive(c->st->pid, c->st->start_time)) {
        if (pfd >= 0)
            close(pfd);
        return cerr_set(err, 0, "container `%s` is not running", c->id);
    }
    siginfo_t si = {.si_signo = sig, .si_code = SI_QUEUE};
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = SB_SIGNAL_ALL;
    int r = (int)syscall(SYS_pidfd_send_signal, pfd, sig, &si, 0);
    int e = errno;
    close(pfd);
    if (r < 0)
        return cerr_set(err, e, "kill container `%s` (pid %d)", c->id, c->st->pid);
    return 0;
}

const struct level_ops sandbox_level = {
    .name = "sandbox",
    .summary = "cella's own user-space kernel serves every system call (in progress)",
    .check = sandbox_check,
    .create = sandbox_create,
    /* Owned here: the container level's would run a native process. */
    .exec = sandbox_exec,
    /* CONTAINER_LEVEL_OPS but kill, which is the level's own. */
    .start = container_start,
    .await_ready = container_await_ready,
    .kill = sandbox_kill,
    .destroy = container_destroy,
    .pause = container_pause,
    .resume = container_resume,
    .paused = container_paused,
    .update = container_update,
    .pids = container_pids,
};
