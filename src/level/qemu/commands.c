/* The commands that talk to the guest's processes through the VM's
 * monitor (ctl.h): start, exec, kill, and the wait of a foreground run.
 * A command waiting for a process passes the signals it receives on to
 * it, as runc's run and exec do. */
#define _GNU_SOURCE
#include "level/qemu/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "level/qemu/ctl.h"
#include "level/qemu/monitor.h"
#include "level/qemu/process.h"

/* ---- waiting for a process of the guest ----------------------------------------------- */

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/* Bit i: forwarded[i] arrived and is not passed on yet. A mask, not one
 * slot, so that two different signals in a row are both passed on. */
static volatile sig_atomic_t pending_signals;

static void note_signal(int sig)
{
    for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
        if (forwarded[i] == sig)
            pending_signals |= 1 << i;
}

/* On: the forwarded signals are noted, and blocked except inside ppoll, so
 * that none can arrive between a look at the mask and the wait (old keeps
 * the mask to wait with). Off: as they were. */
static void forward_signals(bool on, sigset_t *old)
{
    /* Off: the ones that arrived since the last ppoll are noted, and dropped
     * (the process has ended), before the default actions are back. */
    if (!on)
        sigprocmask(SIG_SETMASK, old, NULL);
    struct sigaction sa = {.sa_handler = on ? note_signal : SIG_DFL}; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++) {
        sigaction(forwarded[i], &sa, NULL);
        sigaddset(&set, forwarded[i]);
    }
    if (on)
        sigprocmask(SIG_BLOCK, &set, old);
}

static int send_kill(struct container *c, uint32_t id, int sig, bool all, cerr_t *err)
{
    int sock = ctl_connect(c->dirfd, c->id, err);
    if (sock < 0)
        return -1;
    uint8_t p[8];
    agent_set_u32(p, (uint32_t)sig);
    agent_set_u32(p + 4, all ? AGENT_SIGNAL_ALL : 0);
    int r = ctl_call(sock, CTL_KILL, id, p, sizeof(p), NULL, NULL, err);
    close(sock);
    return r < 0 ? -1 : 0;
}

/* Wait on `sock` for CTL_EXIT of process `id`, passing the signals a
 * foreground command receives on to that process (as runc's run and exec
 * do). The exit code, or -1 when the monitor went away without one. */
static int await_exit(struct container *c, int sock, uint32_t id)
{
    sigset_t old;
    forward_signals(true, &old);
    int code = -1;
    for (;;) {
        struct pollfd p = {.fd = sock, .events = POLLIN};
        int r = ppoll(&p, 1, NULL, &old);
        if (r < 0 && errno != EINTR)
            break;
        int sigs = pending_signals;
        pending_signals = 0;
        for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
            if (sigs & (1 << i)) {
                cerr_t ignore = NULL;
                send_kill(c, id, forwarded[i], false, &ignore);
                cerr_free(&ignore);
            }
        if (r <= 0)
            continue;
        struct agent_hdr h;
        uint8_t *payload = NULL;
        int got = ctl_recv(sock, &h, &payload);
        if (got > 0 && h.type == CTL_EXIT && h.len >= 4)
            code = (int)agent_get_u32(payload);
        free(payload);
        if (got <= 0 || h.type == CTL_EXIT)
            break;
    }
    forward_signals(false, &old);
    return code;
}

/* Foreground `run`: process 0's exit code, from the monitor, or from the
 * file it leaves when it has already gone. */
int qemu_wait(struct container *c, int *status, cerr_t *err)
{
    int code = -1;
    int sock = ctl_connect(c->dirfd, c->id, err);
    if (sock >= 0) {
        if (ctl_send(sock, CTL_WAIT, 0, NULL, 0, NULL) == 0)
            code = await_exit(c, sock, 0);
        close(sock);
    }
    cerr_free(err);
    if (code < 0)
        code = monitor_saved_exit(c->dirfd);
    /* No exit status at all: the VM was killed under the process. */
    *status = code < 0 ? 128 + SIGKILL : code;
    return 0;
}

/* ---- start, exec, kill ---------------------------------------------------------------- */

int qemu_start(struct container *c, cerr_t *err)
{
    struct agent_buf b = {0};
    int r = -1;
    if (qemu_run_fields(&c->spec->process, c->spec->hostname, &b, err) < 0)
        goto out;
    int sock = ctl_connect(c->dirfd, c->id, err);
    if (sock < 0)
        goto out;
    r = ctl_call(sock, CTL_START, 0, b.data, b.len, NULL, NULL, err);
    close(sock);
out:
    agent_buf_free(&b);
    return r < 0 ? -1 : 0;
}

static int refuse_exec(const struct exec_opts *o, cerr_t *err)
{
    if (o->console_socket != NULL || o->process->terminal)
        return cerr_set(err, 0, "exec --tty: not supported by the qemu level yet");
    if (o->preserve_fds > 0)
        return cerr_set(err, 0, "exec --preserve-fds: not supported by the qemu level");
    return 0;
}

/* The process lives in the guest, so --pid-file names a host process that
 * ends as it does, for a supervisor to reap (conmon, containerd's shim):
 * this command in the foreground; for --detach a child left waiting on the
 * monitor's connection. */
static int exec_stand_in(struct container *c, const struct exec_opts *o, int sock, uint32_t id,
                         cerr_t *err)
{
    if (!o->detach)
        return write_pid_file(o->pid_file, getpid(), err);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return cerr_set(err, errno, "fork the exec's stand-in");
    if (pid == 0) {
        int code = await_exit(c, sock, id);
        _exit(code < 0 ? 128 + SIGKILL : code);
    }
    return write_pid_file(o->pid_file, pid, err);
}

int qemu_exec(struct container *c, const struct exec_opts *o, int *status, cerr_t *err)
{
    struct agent_buf b = {0};
    int sock = -1, r = -1, null_in = -1;
    uint8_t *ok = NULL;
    if (refuse_exec(o, err) < 0 || qemu_run_fields(o->process, NULL, &b, err) < 0 ||
        (sock = ctl_connect(c->dirfd, c->id, err)) < 0)
        goto out;
    /* The process's stdio is ours, relayed by the monitor (a detached one's
     * too, as runc's exec -d process inherits the caller's; but not a
     * terminal's input, which would be taken from the shell). */
    int stdio[3] = {0, 1, 2};
    if (o->detach && isatty(0) && (null_in = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        stdio[0] = null_in;
    int type =
        ctl_call(sock, o->detach ? CTL_EXEC_DETACHED : CTL_EXEC, 0, b.data, b.len, stdio, &ok, err);
    if (type < 0)
        goto out;
    if (type != CTL_OK) { /* its payload is not OK's pid and id */
        cerr_set(err, 0, "exec: the VM monitor answered %d, not OK", type);
        goto out;
    }
    uint32_t id = agent_get_u32(ok + 4);
    if (o->pid_file != NULL && exec_stand_in(c, o, sock, id, err) < 0)
        goto out;
    *status = 0;
    if (!o->detach) {
        int code = await_exit(c, sock, id);
        *status = code < 0 ? 128 + SIGKILL : code;
    }
    r = 0;
out:
    free(ok);
    if (null_in >= 0)
        close(null_in);
    if (sock >= 0)
        close(sock);
    agent_buf_free(&b);
    return r;
}

int qemu_kill(struct container *c, int sig, bool all, cerr_t *err)
{
    /* `kill --all` of a stopped container is not an error (lc_kill lets it
     * through): there is nothing left to signal. */
    if (all && !proc_alive(c->st->pid, c->st->start_time))
        return 0;
    return send_kill(c, 0, sig, all, err);
}
