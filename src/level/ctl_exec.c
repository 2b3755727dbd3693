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

#include "core/util.h"
#include "level/ctl.h"
#include "level/level.h"
#include "level/supervisor.h"

int ctl_exec_refuse(const struct container *c, const struct exec_opts *o, cerr_t *err)
{
    if (o->console_socket != NULL || o->process->terminal)
        return cerr_set(err, 0, "exec --tty: not supported by the %s level yet", c->ops->name);
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

int ctl_exec(struct container *c, const struct exec_opts *o, int sock, const void *run, size_t len,
             const char *who, int *status, cerr_t *err)
{
    int r = -1, null_in = -1;
    uint8_t *ok = NULL;
    if (ctl_exec_refuse(c, o, err) < 0)
        return -1;
    /* The process's stdio is ours (a detached one's too, as runc's exec -d
     * process inherits the caller's; but not a terminal's input, which
     * would be taken from the shell). */
    int stdio[3] = {0, 1, 2};
    if (o->detach && isatty(0) && (null_in = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        stdio[0] = null_in;
    int type =
        ctl_call(sock, o->detach ? CTL_EXEC_DETACHED : CTL_EXEC, 0, run, len, stdio, &ok, err);
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
    if (!o->detach) {
        int code = supervisor_await_exit(c->dirfd, sock, id);
        *status = code < 0 ? 128 + SIGKILL : code;
    }
    r = 0;
out:
    free(ok);
    if (null_in >= 0)
        close(null_in);
    return r;
}
