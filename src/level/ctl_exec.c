/* `cella exec` through a supervisor's control socket (ctl.h): the VM
 * levels' monitor relays the process to the guest's agent, the sandbox's
 * kernel runs it as a sandbox process; the command's side is the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/tty_proxy.h"
#include "core/util.h"
#include "level/ctl.h"
#include "level/level.h"
#include "level/supervisor.h"
#include "level/terminal.h"

int ctl_exec_refuse(const struct container *c, const struct exec_opts *o, bool tty, cerr_t *err)
{
    if (!tty && (o->console_socket != NULL || o->process->terminal))
        return cerr_set(err, 0, "exec --tty: not supported by the %s level yet", c->ops->name);
    if (o->process->terminal && o->console_socket == NULL && o->detach)
        return cerr_set(err, 0, "exec --tty --detach requires --console-socket");
    if (o->preserve_fds > 0)
        return cerr_set(err, 0, "exec --preserve-fds: not supported by the %s level", c->ops->name);
    return 0;
}

/* The process lives behind the supervisor, so --pid-file names a host
 * process that ends as it does, for a supervisor to reap (conmon,
 * containerd's shim): this command in the foreground; for --detach a child
 * left waiting on the connection (runsc exec writes its own pid the same
 * way). */
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

/* exec --tty: a host pty of its own, as create's: the slave is the
 * process's stdio for the supervisor to relay, the master goes to
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

int ctl_exec(struct container *c, const struct exec_opts *o, int sock, const void *run, size_t len,
             const char *who, bool tty, int *status, cerr_t *err)
{
    int r = -1, null_in = -1, master = -1, slave = -1;
    uint8_t *ok = NULL;
    if (ctl_exec_refuse(c, o, tty, err) < 0)
        return -1;
    /* The process's stdio is ours (a detached one's too, as runc's exec -d
     * process inherits the caller's; but not a terminal's input, which
     * would be taken from the shell). */
    int stdio[3] = {0, 1, 2};
    if (o->detach && isatty(0) && (null_in = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        stdio[0] = null_in;
    if (o->process->terminal) {
        if (exec_terminal(o, &master, &slave, err) < 0)
            goto out;
        stdio[0] = stdio[1] = stdio[2] = slave;
    }
    int type =
        ctl_call(sock, o->detach ? CTL_EXEC_DETACHED : CTL_EXEC, 0, run, len, stdio, &ok, err);
    if (slave >= 0) { /* the supervisor's now: its close is the end of the terminal */
        close(slave);
        slave = -1;
    }
    if (type < 0)
        goto out;
    if (type != CTL_OK) { /* its payload is not OK's pid and id */
        cerr_set(err, 0, "exec: %s answered %d, not OK", who, type);
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
    return r;
}
