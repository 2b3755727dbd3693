/* The control socket of `cella exec` (level/ctl.h's frames): create binds
 * ROOT/ID/monitor.sock and hands the listening descriptor to the kernel;
 * `cella exec` connects, sends CTL_EXEC (or CTL_EXEC_DETACHED) with the RUN
 * fields of its process and its stdin, stdout and stderr (SCM_RIGHTS), gets
 * CTL_OK (the sandbox pid, which is also the process's id here) or
 * CTL_ERROR, and then waits on the same connection for CTL_EXIT. CTL_KILL
 * signals an exec'd process (the signals the waiting command passes on).
 *
 * The loop must never block on a client: the sockets are non-blocking and a
 * request is taken in pieces as its bytes come. Requests come from cella's
 * commands (the state directory is theirs) and are still checked as any
 * input: sizes bounded, at most three descriptors, the fields parsed by
 * spawn.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "level/ctl.h"
#include "level/sandbox/kernel/kernel.h"

#define NCONN (SB_CTL_POLLFDS - 1)

struct conn {
    int fd; /* -1: free */
    uint8_t *buf;
    size_t len; /* bytes of the request read */
    int fds[3]; /* received with it */
    int nfds;
    int pid; /* the exec'd process whose end it waits for; 0: the request is not whole yet */
};

struct sb_ctl {
    int listen;
    struct conn c[NCONN];
    unsigned long long next; /* the next look without a wake (CLOCK_MONOTONIC ns) */
};

int sb_ctl_init(struct sb_kernel *k, int listen_fd, cerr_t *err)
{
    struct sb_ctl *ctl = calloc(1, sizeof(*ctl));
    if (ctl == NULL)
        return cerr_set(err, ENOMEM, "sandbox: the control socket");
    ctl->listen = listen_fd;
    for (int i = 0; i < NCONN; i++)
        ctl->c[i].fd = -1;
    k->ctl = ctl;
    sb_spawn_init();
    return 0;
}

int sb_ctl_pollfds(const struct sb_kernel *k, struct pollfd *pf)
{
    const struct sb_ctl *ctl = k->ctl;
    if (ctl == NULL)
        return 0;
    int n = 0;
    pf[n++] = (struct pollfd){.fd = ctl->listen, .events = POLLIN};
    for (int i = 0; i < NCONN; i++)
        if (ctl->c[i].fd >= 0)
            pf[n++] = (struct pollfd){.fd = ctl->c[i].fd, .events = POLLIN};
    return n;
}

static void conn_close(struct conn *c)
{
    close(c->fd);
    for (int i = 0; i < c->nfds; i++)
        close(c->fds[i]);
    free(c->buf);
    *c = (struct conn){.fd = -1};
}

/* CTL_ERROR: the line, then its kind (ctl.h), for exec's exit code. */
static void reply_error(int fd, cerr_t e)
{
    const char *msg = cerr_msg(e);
    size_t n = strlen(msg);
    uint8_t *p = malloc(n + 2);
    if (p == NULL)
        return;
    memcpy(p, msg, n + 1);
    p[n + 1] = (uint8_t)cerr_code(e);
    agent_write_frame(fd, CTL_ERROR, 0, p, n + 2);
    free(p);
}

static struct sb_task *find_execd(struct sb_kernel *k, int pid)
{
    for (int i = 0; i < k->ntask; i++)
        if (k->task[i]->pid == pid && k->task[i]->execd && sb_leader(k->task[i]) == k->task[i])
            return k->task[i];
    return NULL;
}

/* CTL_KILL: i32 signo, u32 flags; id the process (0: the first). */
static void req_kill(struct sb_kernel *k, struct conn *c, const struct agent_hdr *h,
                     const uint8_t *p)
{
    cerr_t e = NULL;
    int sig = h->len == 8 ? (int)agent_get_u32(p) : 0;
    struct sb_task *t = h->id == 0 ? k->task[0] : find_execd(k, (int)h->id);
    if (sig < 1 || sig > 64)
        cerr_set(&e, 0, "kill: malformed request");
    else if (t == NULL || t->zombie)
        cerr_set(&e, 0, "kill: no process %u in the sandbox", h->id);
    if (e != NULL) {
        reply_error(c->fd, e);
        cerr_free(&e);
        return;
    }
    sb_signal_send(NULL, sb_thread_for_signal(t, sig), sig, SI_USER, 0, 0);
    agent_write_frame(c->fd, CTL_OK, 0, NULL, 0);
}

/* A whole request: false when the connection is done with. */
static bool request(struct sb_kernel *k, struct conn *c)
{
    struct agent_hdr h;
    agent_get_hdr(c->buf, &h);
    const uint8_t *p = c->buf + AGENT_HDR_SIZE;
    if (h.type == CTL_KILL) {
        req_kill(k, c, &h, p);
        return false;
    }
    cerr_t e = NULL;
    int pid = c->nfds == 3 ? sb_spawn(k, p, h.len, c->fds, &e)
                           : cerr_set(&e, 0, "exec: the request came without its stdio");
    for (int i = 0; i < c->nfds; i++)
        close(c->fds[i]);
    c->nfds = 0;
    if (pid < 0) {
        reply_error(c->fd, e);
        cerr_free(&e);
        return false;
    }
    uint8_t ok[8];
    agent_set_u32(ok, (uint32_t)pid);
    agent_set_u32(ok + 4, (uint32_t)pid);
    c->pid = pid;
    /* A command gone already leaves the process running, as a detached one. */
    return agent_write_frame(c->fd, CTL_OK, 0, ok, sizeof(ok)) == 0;
}

/* The bytes a request of this type has beyond its header: the stdio's 3
 * one-byte messages after an exec's payload. */
static size_t request_size(const struct agent_hdr *h)
{
    bool exec = h->type == CTL_EXEC || h->type == CTL_EXEC_DETACHED;
    return AGENT_HDR_SIZE + h->len + (exec ? 3 : 0);
}

/* Take what the connection has: false when it is done with (closed). */
static bool conn_read(struct sb_kernel *k, struct conn *c)
{
    if (c->pid != 0) { /* answered: nothing more is sent but the hang-up */
        char b;
        struct iovec iov = {.iov_base = &b, .iov_len = 1};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1}; /* recvmsg: the filter's */
        ssize_t r = recvmsg(c->fd, &msg, MSG_DONTWAIT);
        return r < 0 && (errno == EAGAIN || errno == EINTR);
    }
    for (;;) {
        size_t want = AGENT_HDR_SIZE;
        if (c->len >= AGENT_HDR_SIZE) {
            struct agent_hdr h;
            agent_get_hdr(c->buf, &h);
            if ((h.type != CTL_EXEC && h.type != CTL_EXEC_DETACHED && h.type != CTL_KILL) ||
                h.len > AGENT_MAX_PAYLOAD) {
                cerr_t e = NULL;
                cerr_set(&e, 0, "the sandbox's kernel: unknown request %u", h.type);
                reply_error(c->fd, e);
                cerr_free(&e);
                return false;
            }
            want = request_size(&h);
            if (c->len == want)
                return request(k, c);
            uint8_t *nb = realloc(c->buf, want);
            if (nb == NULL)
                return false;
            c->buf = nb;
        }
        struct iovec iov = {.iov_base = c->buf + c->len, .iov_len = want - c->len};
        union {
            char buf[CMSG_SPACE(3 * sizeof(int))];
            struct cmsghdr align;
        } u;
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u)};
        ssize_t r = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        bool bad = r <= 0 || (msg.msg_flags & MSG_CTRUNC);
        for (struct cmsghdr *m = r > 0 ? CMSG_FIRSTHDR(&msg) : NULL; m; m = CMSG_NXTHDR(&msg, m)) {
            if (m->cmsg_level != SOL_SOCKET || m->cmsg_type != SCM_RIGHTS)
                continue;
            size_t n = (m->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < n; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(m) + i * sizeof(int), sizeof(int));
                if (c->nfds < 3)
                    c->fds[c->nfds++] = fd;
                else {
                    close(fd);
                    bad = true;
                }
            }
        }
        if (bad)
            return false;
        c->len += (size_t)r;
    }
}

/* Processes of `cella exec` that ended: the command waiting for each is
 * told its exit code (as a shell reports it), and the kernel reaps it. */
static void report_ends(struct sb_kernel *k)
{
    struct sb_ctl *ctl = k->ctl;
    for (int i = 0; i < k->ntask; i++) {
        struct sb_task *t = k->task[i];
        if (!t->execd || !t->zombie || sb_leader(t) != t)
            continue;
        int st = t->wait_status;
        uint8_t code[4];
        agent_set_u32(code, (uint32_t)(WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st)));
        for (int j = 0; j < NCONN; j++)
            if (ctl->c[j].fd >= 0 && ctl->c[j].pid == t->pid) {
                agent_write_frame(ctl->c[j].fd, CTL_EXIT, (uint32_t)t->pid, code, sizeof(code));
                conn_close(&ctl->c[j]);
            }
        sb_task_unlink(k, t);
        i = -1; /* k->task has moved */
    }
}

void sb_ctl_serve(struct sb_kernel *k)
{
    struct sb_ctl *ctl = k->ctl;
    if (ctl == NULL)
        return;
    if (k->execd_ended) {
        k->execd_ended = false;
        report_ends(k);
    }
    unsigned long long now = now_ns();
    if (!k->ctl_due && now < ctl->next)
        return;
    k->ctl_due = false;
    ctl->next = now + 10000000ULL;
    struct pollfd pf[SB_CTL_POLLFDS];
    int n = sb_ctl_pollfds(k, pf);
    if (poll(pf, (nfds_t)n, 0) <= 0)
        return;
    for (int i = 1; i < n; i++) {
        if (pf[i].revents == 0)
            continue;
        for (int j = 0; j < NCONN; j++)
            if (ctl->c[j].fd == pf[i].fd && !conn_read(k, &ctl->c[j]))
                conn_close(&ctl->c[j]);
    }
    if (!(pf[0].revents & POLLIN))
        return;
    for (int fd; (fd = accept4(ctl->listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
        struct conn *c = NULL;
        for (int j = 0; j < NCONN && c == NULL; j++)
            if (ctl->c[j].fd < 0)
                c = &ctl->c[j];
        if (c == NULL) {
            cerr_t e = NULL;
            cerr_set(&e, 0, "the sandbox's kernel is busy (too many commands at once)");
            reply_error(fd, e);
            cerr_free(&e);
            close(fd);
            continue;
        }
        *c = (struct conn){.fd = fd};
        c->buf = malloc(AGENT_HDR_SIZE);
        if (c->buf == NULL || !conn_read(k, c))
            conn_close(c);
    }
}
