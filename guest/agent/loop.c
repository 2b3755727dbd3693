/* The agent's one event loop: poll() over the host channel, a signalfd
 * (SIGCHLD: reap; SIGIO: the host channel's state changed) and the stdio
 * pipes of every process. Frames from the host start processes, feed and
 * signal them; the pipes' bytes go back as STDOUT/STDERR frames, and a
 * process's EXIT follows all of its output. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MAX_PROCS 256
/* One STDOUT/STDERR frame at most: a bounded pause for the other pipes. */
#define CHUNK 16384
/* Queued for the host beyond this, the pipes are not read. */
#define OUT_HIGH (256 * 1024)

static struct proc procs[MAX_PROCS];

static struct proc *proc_by_id(uint32_t id)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].running && procs[i].id == id)
            return &procs[i];
    return NULL;
}

static struct proc *proc_free_slot(void)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (!procs[i].running)
            return &procs[i];
    return NULL;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* ---- host -> guest frames ---- */

static void on_run(uint32_t id, const uint8_t *payload, size_t len)
{
    char err[512];
    struct proc *p = proc_by_id(id);
    if (p != NULL) {
        snprintf(err, sizeof(err), "RUN: process %u is already running", id);
        channel_send(AGENT_ERROR, id, err, strlen(err));
        return;
    }
    p = proc_free_slot();
    if (p == NULL) {
        snprintf(err, sizeof(err), "RUN: too many processes (at most %d)", MAX_PROCS);
        channel_send(AGENT_ERROR, id, err, strlen(err));
        return;
    }
    *p = (struct proc){.id = id, .in = -1, .out = -1, .err = -1};
    if (spawn(p, payload, len, err, sizeof(err)) < 0) {
        channel_send(AGENT_ERROR, id, err, strlen(err));
        return;
    }
    p->running = 1;
    uint8_t pid[4];
    agent_set_u32(pid, (uint32_t)p->pid);
    channel_send(AGENT_STARTED, id, pid, sizeof(pid));
}

/* STDIN bytes that left the agent: the host may send that many more. */
static void stdin_taken(uint32_t id, size_t n)
{
    uint8_t d[4];
    agent_set_u32(d, (uint32_t)n);
    if (n > 0)
        channel_send(AGENT_STDIN_TAKEN, id, d, sizeof(d));
}

/* Write what the pipe takes now; the rest waits for POLLOUT. */
static void stdin_flush(struct proc *p)
{
    size_t before = agent_queue_pending(&p->inq);
    if (p->in >= 0 && agent_queue_write(p->in, &p->inq) < 0) {
        /* EPIPE: the process closed its stdin; what is left is moot. */
        agent_queue_free(&p->inq);
        close_fd(&p->in);
    }
    stdin_taken(p->id, before - agent_queue_pending(&p->inq));
    if (p->in_eof && agent_queue_pending(&p->inq) == 0)
        close_fd(&p->in);
}

static void on_stdin(uint32_t id, const uint8_t *payload, size_t len)
{
    struct proc *p = proc_by_id(id);
    if (p == NULL || p->in < 0 || p->in_eof) {
        stdin_taken(id, len); /* dropped: the host need not wait for it */
        return;
    }
    if (len == 0) {
        /* A terminal has no end of input to pass on: the process reads on. */
        if (p->tty)
            return;
        p->in_eof = 1;
    } else {
        queue_push(&p->inq, payload, len);
    }
    stdin_flush(p);
}

static void on_signal(uint32_t id, const uint8_t *payload, size_t len)
{
    if (len != 8) {
        alog("SIGNAL for process %u: payload of %zu bytes, expected 8: ignored", id, len);
        return;
    }
    int sig = (int)agent_get_u32(payload);
    uint32_t flags = agent_get_u32(payload + 4);
    if (flags & AGENT_SIGNAL_ALL) {
        /* From PID 1, -1 means every process but the agent itself. */
        if (kill(-1, sig) < 0 && errno != ESRCH)
            alog("SIGNAL %d to all processes: %s", sig, strerror(errno));
        return;
    }
    struct proc *p = proc_by_id(id);
    if (p != NULL && !p->reaped && kill(p->pid, sig) < 0)
        alog("SIGNAL %d to process %u (pid %d): %s", sig, id, (int)p->pid, strerror(errno));
}

/* The host's terminal changed size: so does the process's pty, and the
 * kernel sends its foreground process group SIGWINCH. */
static void on_winsize(uint32_t id, const uint8_t *payload, size_t len)
{
    struct proc *p = proc_by_id(id);
    if (p == NULL || !p->tty || p->out < 0 || len != 4)
        return; /* not (or no longer) a terminal: nothing to resize */
    struct winsize ws = {.ws_row = (unsigned short)(payload[0] | payload[1] << 8),
                         .ws_col = (unsigned short)(payload[2] | payload[3] << 8)};
    if (ioctl(p->out, TIOCSWINSZ, &ws) < 0)
        alog("WINSIZE for process %u: %s", id, strerror(errno));
}

static void on_frame(const struct agent_hdr *h, const uint8_t *payload)
{
    switch (h->type) {
    case AGENT_RUN:
        on_run(h->id, payload, h->len);
        break;
    case AGENT_STDIN:
        on_stdin(h->id, payload, h->len);
        break;
    case AGENT_SIGNAL:
        on_signal(h->id, payload, h->len);
        break;
    case AGENT_WINSIZE:
        on_winsize(h->id, payload, h->len);
        break;
    case AGENT_SHUTDOWN:
        vm_end();
    default:
        alog("frame of unknown type %u from the host: ignored", h->type);
    }
}

/* ---- guest -> host ---- */

/* Forward one chunk of a pipe: 1 while it stays open, 0 at its end (closed)
 * or when it has nothing now. */
static int forward(struct proc *p, int *fd, uint16_t type)
{
    static uint8_t buf[CHUNK];
    ssize_t r = read(*fd, buf, sizeof(buf));
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (r <= 0) {
        close_fd(fd);
        return 0;
    }
    channel_send(type, p->id, buf, (size_t)r);
    return 1;
}

/* After the process is reaped, everything it wrote is in its pipes: send
 * that, then EXIT. Whatever a descendant still holding the pipes writes later
 * is not the process's output (and is not waited for: it may never end). */
static void finish(struct proc *p)
{
    /* Bounded, in case a descendant keeps filling the pipe as fast as it
     * drains. */
    for (int i = 0; i < 64 && p->out >= 0 && forward(p, &p->out, AGENT_STDOUT); i++)
        ;
    for (int i = 0; i < 64 && p->err >= 0 && forward(p, &p->err, AGENT_STDERR); i++)
        ;
    uint8_t st[4];
    agent_set_u32(st, (uint32_t)p->status);
    channel_send(AGENT_EXIT, p->id, st, sizeof(st));
    close_fd(&p->in);
    close_fd(&p->out);
    close_fd(&p->err);
    agent_queue_free(&p->inq);
    uint32_t id = p->id;
    *p = (struct proc){.in = -1, .out = -1, .err = -1};
    /* The container's process ended: so does the container, and the VM. */
    if (id == 0)
        vm_end();
}

static void reap(void)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        /* PID 1 also adopts orphans: those are reaped and forgotten. */
        for (int i = 0; i < MAX_PROCS; i++)
            if (procs[i].running && procs[i].pid == pid) {
                procs[i].reaped = 1;
                procs[i].status = st;
            }
    }
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].running && procs[i].reaped)
            finish(&procs[i]);
}

/* ---- the loop ---- */

static int signals_fd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGIO);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        fatal("sigprocmask: %s", strerror(errno));
    int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        fatal("signalfd: %s", strerror(errno));
    /* A process closing its stdin must not kill the agent. */
    signal(SIGPIPE, SIG_IGN);
    return fd;
}

/* Read the signalfd: returns 1 when a SIGIO came. */
static int drain_signals(int fd)
{
    struct signalfd_siginfo si[8];
    int io = 0;
    ssize_t r;
    while ((r = read(fd, si, sizeof(si))) > 0)
        for (size_t i = 0; i < (size_t)r / sizeof(si[0]); i++)
            io |= si[i].ssi_signo == SIGIO;
    return io;
}

static void handle_channel(struct channel_in *in, int *connected)
{
    int r = channel_read(in);
    if (r < 0)
        fatal("the host channel failed");
    if (r == 0) {
        /* No host: wait for SIGIO rather than spin on POLLHUP. */
        *connected = 0;
        return;
    }
    struct agent_hdr h;
    const uint8_t *payload;
    while (channel_next(in, &h, &payload)) {
        on_frame(&h, payload);
        channel_consume(in, &h);
    }
}

void loop_run(int chan)
{
    int sfd = signals_fd();
    for (int i = 0; i < MAX_PROCS; i++)
        procs[i] = (struct proc){.in = -1, .out = -1, .err = -1};
    struct channel_in in = {0};
    int connected = 1;
    static struct pollfd fds[2 + 3 * MAX_PROCS];
    static struct proc *owner[2 + 3 * MAX_PROCS];
    for (;;) {
        nfds_t n = 0;
        fds[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
        short chan_ev = POLLIN | (channel_pending() ? POLLOUT : 0);
        fds[n++] = (struct pollfd){.fd = connected ? chan : -1, .events = chan_ev};
        /* Output waits in the processes' pipes while the host is behind. */
        int read_pipes = channel_pending() < OUT_HIGH;
        for (int i = 0; i < MAX_PROCS; i++) {
            struct proc *p = &procs[i];
            if (!p->running)
                continue;
            int want[3] = {read_pipes ? p->out : -1, read_pipes ? p->err : -1,
                           agent_queue_pending(&p->inq) ? p->in : -1};
            short ev[3] = {POLLIN, POLLIN, POLLOUT};
            for (int k = 0; k < 3; k++)
                if (want[k] >= 0) {
                    owner[n] = p;
                    fds[n++] = (struct pollfd){.fd = want[k], .events = ev[k]};
                }
        }
        if (poll(fds, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            fatal("poll: %s", strerror(errno));
        }
        if (fds[0].revents && drain_signals(sfd))
            connected = 1;
        if (fds[1].revents & POLLOUT)
            channel_write();
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
            handle_channel(&in, &connected);
        for (nfds_t k = 2; k < n; k++) {
            struct proc *p = owner[k];
            if (!fds[k].revents || !p->running)
                continue;
            if (fds[k].fd == p->out)
                forward(p, &p->out, AGENT_STDOUT);
            else if (fds[k].fd == p->err)
                forward(p, &p->err, AGENT_STDERR);
            else if (fds[k].fd == p->in)
                stdin_flush(p);
        }
        reap();
    }
}
