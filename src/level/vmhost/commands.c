/* The commands that talk to the guest's processes through the VM's
 * monitor (level/ctl.h): start, exec, kill (a foreground run waits through
 * the supervisor: level/supervisor.h). A command waiting for a process
 * passes the signals it receives on to it, as runc's run and exec do. */
#define _GNU_SOURCE
#include "level/vmhost/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/tty_proxy.h"
#include "core/util.h"
#include "level/ctl.h"
#include "level/supervisor.h"
#include "level/terminal.h"
#include "level/vmhost/process.h"

/* The monitor of the container ("its VM has stopped" when it has ended). */
static int connect_monitor(struct container *c, cerr_t *err)
{
    cerr_t e = NULL;
    int fd = supervisor_connect(c->dirfd, &e);
    if (fd >= 0)
        return fd;
    int errnum = e ? e->errnum : 0;
    if (errnum == ENOENT || errnum == ECONNREFUSED)
        cerr_set(err, 0, "container `%s`: its VM has stopped (the monitor is gone)", c->id);
    else /* connect's own line names the socket and what failed */
        cerr_set(err, 0, "container `%s`: connect to its VM monitor: %s", c->id, cerr_msg(e));
    cerr_free(&e);
    return -1;
}

/* ---- start, exec, kill ---------------------------------------------------------------- */

int vm_start(struct container *c, cerr_t *err)
{
    struct agent_buf b = {0};
    int r = -1;
    if (vm_run_fields(&c->spec->process, c->spec->hostname, &b, err) < 0)
        goto out;
    int sock = connect_monitor(c, err);
    if (sock < 0)
        goto out;
    r = ctl_call(sock, CTL_START, 0, b.data, b.len, NULL, NULL, err);
    close(sock);
out:
    agent_buf_free(&b);
    return r < 0 ? -1 : 0;
}

static int refuse_exec(const struct container *c, const struct exec_opts *o, cerr_t *err)
{
    (void)c;
    if (o->process->terminal && o->console_socket == NULL && o->detach)
        return cerr_set(err, 0, "exec --tty --detach requires --console-socket");
    if (o->preserve_fds > 0)
        return cerr_set(err, 0, "exec --preserve-fds: not supported by the %s level", c->ops->name);
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
        int code = supervisor_await_exit(c->dirfd, sock, id);
        _exit(code < 0 ? 128 + SIGKILL : code);
    }
    return write_pid_file(o->pid_file, pid, err);
}

/* exec --tty: a host pty of its own, as create's (vmhost.c): the slave is
 * the process's stdio for the monitor to relay, the master goes to
 * --console-socket or stays here for tty_proxy (*master). */
static int exec_terminal(const struct exec_opts *o, int *master, int *slave, cerr_t *err)
{
    *master = terminal_open(o->process->console_height, o->process->console_width, slave, err);
    if (*master < 0)
        return -1;
    terminal_raw(*slave);
    if (o->console_socket == NULL)
        return 0;
    int r = terminal_send(o->console_socket, *master, err);
    close(*master);
    *master = -1;
    return r;
}

int vm_exec(struct container *c, const struct exec_opts *o, int *status, cerr_t *err)
{
    struct agent_buf b = {0};
    int sock = -1, r = -1, null_in = -1, master = -1, slave = -1;
    uint8_t *ok = NULL;
    /* lc_exec has let the lock go; c->dirfd stays open (level.h). */
    if (refuse_exec(c, o, err) < 0 || vm_run_fields(o->process, NULL, &b, err) < 0 ||
        (sock = connect_monitor(c, err)) < 0)
        goto out;
    /* The process's stdio is ours, relayed by the monitor (a detached one's
     * too, as runc's exec -d process inherits the caller's; but not a
     * terminal's input, which would be taken from the shell). */
    int stdio[3] = {0, 1, 2};
    if (o->detach && isatty(0) && (null_in = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        stdio[0] = null_in;
    if (o->process->terminal) {
        if (exec_terminal(o, &master, &slave, err) < 0)
            goto out;
        stdio[0] = stdio[1] = stdio[2] = slave;
    }
    int type =
        ctl_call(sock, o->detach ? CTL_EXEC_DETACHED : CTL_EXEC, 0, b.data, b.len, stdio, &ok, err);
    if (slave >= 0) { /* the monitor's now: its close is the end of the terminal */
        close(slave);
        slave = -1;
    }
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
    if (master >= 0) /* until the process and all it started left the terminal */
        tty_proxy(master);
    if (!o->detach) {
        int code = supervisor_await_exit(c->dirfd, sock, id);
        *status = code < 0 ? 128 + SIGKILL : code;
    }
    r = 0;
out:
    free(ok);
    if (null_in >= 0)
        close(null_in);
    if (master >= 0)
        close(master);
    if (slave >= 0)
        close(slave);
    if (sock >= 0)
        close(sock);
    agent_buf_free(&b);
    return r;
}

int vm_kill(struct container *c, int sig, bool all, cerr_t *err)
{
    /* `kill --all` of a stopped container is not an error (lc_kill lets it
     * through): there is nothing left to signal. */
    if (all && !proc_alive(c->st->pid, c->st->start_time))
        return 0;
    int sock = connect_monitor(c, err);
    if (sock < 0)
        return -1;
    int r = ctl_kill(sock, 0, sig, all, err);
    close(sock);
    return r;
}
