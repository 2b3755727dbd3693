/* `exec` for the container level: a new process in the namespaces and cgroup
 * of a running container, with its own process settings. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/tty_proxy.h"
#include "core/util.h"
#include "core/wait.h"
#include "cgroup/cgroup.h"
#include "level/container/container.h"
#include "level/container/process.h"

struct exec_fds {
    int ns[NS_COUNT];
    int go[2], errp[2];
    int lsock[2]; /* the seccomp listener, from the child (linux.seccomp.listenerPath) */
    int agent;
    int console;
    int tty_recv; /* foreground --tty without --console-socket: the master comes here */
};

/* Open the container's namespaces (those that differ from ours). A namespace
 * that cannot be opened is an error: never fall back to the host's. The start
 * time is checked afterwards, so the fds belong to the container's process. */
static int open_container_ns(struct container *c, int fds[NS_COUNT], cerr_t *err)
{
    for (int t = 0; t < NS_COUNT; t++) {
        char p[64];
        struct stat theirs, ours;
        snprintf(p, sizeof(p), "/proc/%d/ns/%s", c->st->pid, ns_proc_name(t));
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && t == NS_TIME)
            continue; /* a kernel without time namespaces */
        if (fd < 0 || fstat(fd, &theirs) < 0) {
            if (fd >= 0)
                close(fd);
            return cerr_set(err, 0, "container `%s` is not running", c->id);
        }
        snprintf(p, sizeof(p), "/proc/self/ns/%s", ns_proc_name(t));
        if (stat(p, &ours) == 0 && ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino) {
            close(fd);
            continue;
        }
        fds[t] = fd;
    }
    if (!proc_alive(c->st->pid, c->st->start_time))
        return cerr_set(err, 0, "container `%s` is not running", c->id);
    return 0;
}

static int set_affinity(const uint64_t *mask, const char *which, cerr_t *err)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    for (size_t i = 0; i < SPEC_CPU_WORDS * 64 && i < CPU_SETSIZE; i++)
        if (mask[i / 64] & (1ULL << (i % 64)))
            CPU_SET(i, &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0)
        return cerr_set(err, errno, "process.execCPUAffinity.%s: sched_setaffinity", which);
    return 0;
}

static __attribute__((noreturn)) void exec_child(struct container *c, const struct exec_opts *o,
                                                 struct exec_fds *f)
{
    static const enum ns_type order[] = {NS_USER,   NS_IPC,  NS_UTS,  NS_NETWORK,
                                         NS_CGROUP, NS_TIME, NS_MOUNT};
    cerr_t err = NULL;
    struct proc_plan plan;
    char go;
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    close(f->go[1]);
    close(f->errp[0]);
    close_range_cloexec(2 + o->preserve_fds);
    /* process.execCPUAffinity: initial while cella moves the process into
     * the cgroup (which may reset it: cpuset), final once it is there. */
    int initial =
        o->process->has_cpu_initial ? set_affinity(o->process->cpu_initial, "initial", &err) : 0;
    if (read(f->go[0], &go, 1) != 1)
        _exit(1);
    if (initial < 0) /* said once cella is past writing `go` */
        goto fail;
    if (o->process->has_cpu_final && set_affinity(o->process->cpu_final, "final", &err) < 0)
        goto fail;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (f->ns[order[i]] < 0)
            continue;
        if (setns(f->ns[order[i]], 0) < 0) {
            cerr_set(&err, errno, "join the container's %s namespace", ns_type_name(order[i]));
            goto fail;
        }
    }
    if (f->ns[NS_USER] >= 0 && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
        cerr_set(&err, errno, "become root in the container's user namespace");
        goto fail;
    }
    /* No mount namespace to join: the container's root is a chroot. */
    char root[40];
    snprintf(root, sizeof(root), "/proc/%d/root", (int)c->st->pid);
    if (!c->spec->linux_.ns[NS_MOUNT].present && chroot(root) < 0) {
        cerr_set(&err, errno, "chroot to the container's root `%s`", root);
        goto fail;
    }
    if (chdir("/") < 0) {
        cerr_set(&err, errno, "chdir /");
        goto fail;
    }
    if (o->process->terminal && proc_setup_terminal(o->process, f->console, &err) < 0)
        goto fail;
    if (proc_plan_make(o->process, &c->spec->linux_.seccomp, NULL, &plan, &err) < 0)
        goto fail;
    plan.listener_sock = f->lsock[1];
    if (proc_apply_personality(&c->spec->linux_, &err) < 0 ||
        proc_apply_mempolicy(&c->spec->linux_, &err) < 0 ||
        proc_apply_privileged(&plan, &err) < 0 || proc_apply_user(&plan, &err) < 0)
        goto fail;
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    proc_exec(&plan, &err);
fail:
    write_all(f->errp[1], cerr_msg(err), strlen(cerr_msg(err)));
    _exit(127);
}

static int run_exec(struct container *c, const struct exec_opts *o, struct exec_fds *f, int *status,
                    cerr_t *err)
{
    /* In the foreground without a console socket, cella holds the terminal
     * and relays its own stdio, as `run` does (and runc). */
    bool proxy = o->process->terminal && o->console_socket == NULL;
    if (proxy && o->detach)
        return cerr_set(err, 0, "exec --tty --detach requires --console-socket");
    if (c->spec->linux_.seccomp.listener_path != NULL &&
        ((f->agent = container_seccomp_agent(&c->spec->linux_.seccomp, err)) < 0 ||
         socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->lsock) < 0))
        return f->agent < 0 ? -1 : cerr_set(err, errno, "socketpair");
    if (open_container_ns(c, f->ns, err) < 0)
        return -1;
    if (o->process->terminal && !proxy && (f->console = unix_connect(o->console_socket, err)) < 0)
        return cerr_wrap(err, "--console-socket");
    if (proxy) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
            return cerr_set(err, errno, "socketpair");
        f->tty_recv = pair[0];
        f->console = pair[1];
    }
    if (pipe2(f->go, O_CLOEXEC) < 0 || pipe2(f->errp, O_CLOEXEC) < 0)
        return cerr_set(err, errno, "pipe");
    int own_pidns = -1;
    if (f->ns[NS_PID] >= 0 && (own_pidns = ns_enter(f->ns[NS_PID], "pid", CLONE_NEWPID, err)) < 0)
        return cerr_wrap(err, "exec");
    pid_t pid = fork();
    if (pid == 0)
        exec_child(c, o, f);
    ns_restore(own_pidns, CLONE_NEWPID);
    if (pid < 0)
        return cerr_set(err, errno, "fork");
    close(f->go[0]);
    f->go[0] = -1;
    close(f->errp[1]);
    f->errp[1] = -1;
    if (f->lsock[1] >= 0) {
        close(f->lsock[1]);
        f->lsock[1] = -1;
    }
    if (f->console >= 0) {
        close(f->console); /* the child's copy only: a child that fails ends recv_fd */
        f->console = -1;
    }
    fault_kill("exec.after-fork");
    if (cgroup_enter(c->st->cgroup, pid, err) < 0 || write_all(f->go[1], "g", 1) < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    fault_kill("exec.after-cgroup");
    /* The listener goes to the agent as soon as it comes: the process may
     * be waiting for the agent. None: the child failed before its filter,
     * and says why on errp. */
    int listener = f->lsock[0] >= 0 ? recv_fd_msg(f->lsock[0]) : -1;
    if (listener >= 0) {
        int r = container_seccomp_send(c, f->agent, listener, pid, ST_RUNNING, err);
        close(listener);
        if (r < 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return -1;
        }
    }
    char msg[4096];
    ssize_t n = read_all(f->errp[0], msg, sizeof(msg) - 1);
    if (n > 0) {
        msg[n] = '\0';
        waitpid(pid, NULL, 0);
        return cerr_set(err, 0, "%s", msg);
    }
    int master = proxy ? recv_fd(f->tty_recv, err) : -1;
    if (proxy && master < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    if (o->pid_file != NULL && write_pid_file(o->pid_file, pid, err) < 0) {
        if (master >= 0)
            close(master);
        return -1;
    }
    if (master >= 0) {
        forward_signals_to(pid);
        tty_proxy(master);
        close(master);
    }
    *status = o->detach ? 0 : wait_forward(pid);
    return 0;
}

int container_exec(struct container *c, const struct exec_opts *o, int *status, cerr_t *err)
{
    /* Never the way around a level that owns exec (level.h). */
    if (c->ops != NULL && c->ops->exec != container_exec)
        return cerr_set(err, 0, "exec: the %s level runs its own exec", c->ops->name);
    caps_warn_unknown(&o->process->caps, "process.capabilities");
    struct exec_fds f = {.go = {-1, -1},
                         .errp = {-1, -1},
                         .lsock = {-1, -1},
                         .agent = -1,
                         .console = -1,
                         .tty_recv = -1};
    for (int t = 0; t < NS_COUNT; t++)
        f.ns[t] = -1;
    int r = run_exec(c, o, &f, status, err);
    for (int t = 0; t < NS_COUNT; t++)
        if (f.ns[t] >= 0)
            close(f.ns[t]);
    int *rest[] = {&f.go[0],    &f.go[1], &f.errp[0], &f.errp[1], &f.lsock[0],
                   &f.lsock[1], &f.agent, &f.console, &f.tty_recv};
    for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
        if (*rest[i] >= 0)
            close(*rest[i]);
    return r;
}
