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
#include "level/container/container.h"
#include "level/fields.h"
#include "level/rootfs_exe.h"
#include "level/sandbox/kernel/kernel.h"

static pid_t stub_pid = -1;

/* The kernel is PID 1 of its pid namespace, which ignores signals without a
 * handler: end the sandbox as a shell reports a signal. */
static void on_signal(int sig)
{
    if (stub_pid > 0)
        kill(stub_pid, SIGKILL);
    syscall(SYS_exit_group, 128 + sig); /* see sandbox_oci_run's end */
}

static void install_signals(void)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
    struct sigaction sa = {.sa_handler = on_signal};
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
        sigaction(sigs[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is EPIPE for the workload */
}

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
    s.exe_fd = sb_open_exe(k.rootfd, plan->exe, err);
    if (s.exe_fd < 0)
        return -1;
    if (sb_task_start(&t, &k, &s, err) < 0) {
        sb_task_free(&t);
        return -1;
    }
    close(s.exe_fd);
    stub_pid = t.stub.pid;
    install_signals();
    sb_devices_open(&k);
    if (sb_kernel_filter_install(err) < 0) {
        sb_task_free(&t);
        return -1;
    }
    /* The point of no return, where execve would be: the fds it would
     * close are closed (the start connection among them). */
    for (size_t i = 0; i < nbefore; i++)
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
 * container's init finds it), a static x86-64 ELF executable. A script, a
 * dynamic executable or a missing file fails create, before anything is
 * made. A program beneath a mount of the spec is only known at run time. */
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
        (*err)->code = CERR_EXE_CANNOT_RUN;
        return -1;
    }
    close(fd);
    return 0;
}

static int sandbox_create(struct container *c, const struct create_opts *o, cerr_t *err)
{
    static const struct level_hooks hooks = {.run = sandbox_oci_run};
    return container_create(c, o, &hooks, err);
}

/* The container level's exec would run a host-native process in the
 * container, beside cella's kernel instead of on it. */
static int sandbox_exec(struct container *c, const struct exec_opts *o, int *status, cerr_t *err)
{
    (void)o, (void)status;
    return cerr_set(err, 0, "container `%s`: exec is not supported at the sandbox level yet",
                    c->id);
}

const struct level_ops sandbox_level = {
    .name = "sandbox",
    .summary = "cella's own user-space kernel serves every system call (in progress)",
    .check = sandbox_check,
    .create = sandbox_create,
    /* Owned here: the container level's would enter the namespaces directly. */
    .exec = sandbox_exec,
    CONTAINER_LEVEL_OPS,
};
