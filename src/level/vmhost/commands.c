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
    if (vm_run_fields(&c->spec->process, c->spec->hostname, &b, err) < 0 ||
        vm_run_sysctls(&c->spec->linux_.sysctl, &b, err) < 0)
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

int vm_exec(struct container *c, const struct exec_opts *o, int *status, cerr_t *err)
{
    struct agent_buf b = {0};
    int sock = -1, r = -1;
    /* lc_exec has let the lock go; c->dirfd stays open (level.h). */
    if (ctl_exec_refuse(c, o, true, err) == 0 && vm_run_fields(o->process, NULL, &b, err) == 0 &&
        (sock = connect_monitor(c, err)) >= 0)
        r = ctl_exec(c, o, sock, b.data, b.len, "the VM monitor", true, status, err);
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
