/* The VM monitor (monitor.h): boot, then one poll loop relaying between
 * the agent, create's stdio, and the commands on the control socket. */
#define _GNU_SOURCE
#include "level/vmhost/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "proto/protocol.h"
#include "cgroup/cgroup.h"
#include "level/ctl.h"
#include "level/supervisor.h"
#include "level/vmhost/tap.h"

#define MAX_CLIENTS 64
#define IO_CHUNK    65536
/* Queued for the agent beyond this, the stdin relays are not read: a guest
 * that reads slowly (or not at all) makes them wait, not the monitor. */
#define OUT_HIGH (256 * 1024)

enum ckind { C_NEW, C_START, C_EXEC, C_WAIT };

/* A terminal process's window-size watcher (winch_start): a child of the
 * monitor whose session has the host pty as its controlling terminal, so
 * that a resize on the master (TIOCSWINSZ by the console socket's holder or
 * `run`'s relay) signals it, and it tells the monitor with a byte. */
struct winch {
    pid_t pid; /* 0: none */
    int fd;    /* its bytes: the size may have changed; -1 when none */
};

struct client {
    bool used;
    int conn; /* -1 once the command hung up (a detached exec) */
    enum ckind kind;
    uint32_t id;
    int io[3]; /* exec: the command's stdio */
    bool started;
    size_t unacked;     /* STDIN bytes sent that the agent has not reported taken */
    struct winch winch; /* exec --tty: io[] are the host pty's slave */
};

/* What the agent sent and the monitor has not handled yet: the guest's stream
 * is read without blocking and only whole frames are handled, so that a guest
 * that stops inside a frame cannot stop the monitor with it. */
struct agent_in {
    uint8_t *buf;
    size_t len, cap;
    bool broken; /* the guest broke the protocol: nothing more is read */
};

struct mon {
    const struct monitor_args *a;
    int dir, agent, listen, report, pidfd;
    struct agent_in in;
    struct agent_queue out; /* frames the agent has not taken yet */
    pid_t vm;               /* the VMM's process */
    bool ready;
    unsigned long long spawned, deadline;
    int stdin0; /* our fd 0 (or tty0) while relayed to process 0, else -1 */
    int tty0;   /* process.terminal: the host pty's slave, process 0's stdio */
    struct winch winch0;
    size_t unacked0; /* process 0's STDIN bytes the agent has not reported taken */
    bool start_pending, started0, exited0;
    int status0;
    struct client cl[MAX_CLIENTS]; /* fixed slots: poll's indices stay valid */
    uint32_t next_id;
};

/* ---- boot ------------------------------------------------------------------------- */

/* Text the guest chose (an ERROR frame, a console line), made fit for the
 * user's terminal: at most 300 bytes, control characters (C0, DEL, and C1
 * as UTF-8 encodes them: C2 80..9F) shown as '?', so that a guest cannot
 * move the cursor, clear the screen or set the title of the terminal where
 * cella's error lands. */
static char *guest_text(const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t max = n < 300 ? n : 300;
    char *out = malloc(max + 4);
    if (out == NULL)
        abort(); /* as xstrdup */
    size_t o = 0;
    for (size_t i = 0; i < max; i++) {
        unsigned char c = s[i];
        if (c == 0xC2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F) {
            out[o++] = '?';
            i++;
        } else {
            out[o++] = c < 0x20 || c == 0x7F ? '?' : (char)c;
        }
    }
    if (max < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* The line of the console that says why the VM stopped: the monitor's own,
 * the VMM's, then the agent's, then a kernel panic, else the last line. */
static char *console_reason(const struct mon *m)
{
    autofree char *log = read_file_at(m->dir, MONITOR_CONSOLE, NULL, NULL);
    if (log == NULL)
        return NULL;
    const char *marks[16] = {"cella-monitor: "};
    size_t n = 1;
    for (const char *const *v = m->a->cfg->backend->console_marks; *v && n < 14; v++)
        marks[n++] = *v;
    marks[n++] = "cella-agent: ";
    marks[n++] = "Kernel panic";
    const char *best = NULL, *last = NULL;
    size_t rank = n;
    for (char *s = log, *line; (line = strsep(&s, "\n")) != NULL;) {
        line[strcspn(line, "\r")] = '\0';
        if (*line == '\0')
            continue;
        last = line;
        for (size_t i = 0; i < rank; i++)
            if (strstr(line, marks[i]) != NULL) {
                best = line;
                rank = i;
            }
    }
    const char *line = best ? best : last;
    return line ? guest_text(line, strlen(line)) : NULL;
}

static void report(struct mon *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct mon *m, const char *fmt, ...)
{
    if (m->report < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) >= 0) {
        write_all(m->report, s, strlen(s));
        free(s);
    }
    va_end(ap);
}

static void kill_vm(struct mon *m)
{
    if (m->vm > 0)
        m->a->cfg->backend->kill(m->vm);
}

/* A boot that failed: the VM is killed and create gets one line. */
static void __attribute__((noreturn)) boot_failed(struct mon *m, const char *what)
{
    kill_vm(m);
    int status = 0;
    if (m->vm > 0)
        waitpid(m->vm, &status, 0);
    autofree char *why = console_reason(m);
    report(m, "ERR %s level: %s%s%s\n", m->a->cfg->backend->level, what, why ? ": " : "",
           why ? why : "");
    _exit(1);
}

/* An interface besides lo in our network namespace. */
static bool has_interface(void)
{
    struct if_nameindex *ifs = if_nameindex();
    bool found = false;
    for (size_t i = 0; ifs != NULL && ifs[i].if_index != 0; i++)
        found = found || strcmp(ifs[i].if_name, "lo") != 0;
    if (ifs != NULL)
        if_freenameindex(ifs);
    return found;
}

/* cfg->hooked_netns (monitor.h), in the VMM's process before it execs:
 * a namespace of its own (a byte on `ready` once in it) for create's hooks
 * to fill, then, on the go byte, its interface joined to a tap. Without an
 * interface (Docker's network "none") the VMM's own network from the host's
 * namespace. Failures go to the console log, which boot_failed quotes. */
static void hooked_network(struct mon *m, int ready)
{
    struct vm_config *cfg = m->a->cfg;
    int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (host < 0 || unshare(CLONE_NEWNET) < 0) {
        dprintf(2, "cella-monitor: cannot make the network namespace: %s\n", strerror(errno));
        _exit(126);
    }
    char go = 'R';
    if (write(ready, &go, 1) != 1 || read(m->a->go, &go, 1) != 1)
        _exit(126); /* create failed: it cleans up */
    close(ready);
    close(m->a->go);
    if (!has_interface()) {
        if (setns(host, CLONE_NEWNET) < 0) {
            dprintf(2, "cella-monitor: cannot return to the host's network namespace: %s\n",
                    strerror(errno));
            _exit(126);
        }
        close(host);
        return;
    }
    close(host);
    cerr_t err = NULL;
    char *dev = NULL, *user_net = cfg->guest_net;
    cfg->guest_net = NULL;
    /* named as the hooks saw it */
    autofree char *ns = xasprintf("/proc/%d/ns/net", (int)getpid());
    if (vm_tap_make(cfg, ns, &dev, &err) < 0) {
        dprintf(2, "cella-monitor: the hooks' network: %s\n", cerr_msg(err));
        _exit(126);
    }
    free(user_net);
    free(dev);
}

/* The child: the VMM in the container's cgroup, dying with its monitor. */
static void __attribute__((noreturn)) exec_vm(struct mon *m, int guest_end, int console, int ready)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    cerr_t err = NULL;
    if (dup2(console, 1) < 0 || dup2(console, 2) < 0)
        _exit(126);
    if (m->a->go >= 0)
        hooked_network(m, ready);
    if (m->a->cgroup != NULL && cgroup_enter(m->a->cgroup, getpid(), &err) < 0) {
        dprintf(2, "cella-monitor: %s\n", cerr_msg(err));
        _exit(126);
    }
    /* The console log is the guest's to fill (its serial port, the
     * kernel's messages): bounded, or a guest writing without end would fill
     * ROOT, a tmpfs (the host's memory). Beyond the bound the VMM's writes
     * fail (EFBIG: SIGXFSZ is ignored) and the output is dropped; the VMM
     * writes no other file (the image is read-only). A VMM that bounds it
     * itself is spared the limit (backend.h: console_bounded). */
    if (!m->a->cfg->backend->console_bounded)
        setrlimit(RLIMIT_FSIZE, &(struct rlimit){VM_CONSOLE_MAX, VM_CONSOLE_MAX});
    signal(SIGXFSZ, SIG_IGN);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0)
        _exit(126);
    close_range_cloexec(2);
    fcntl(guest_end, F_SETFD, 0);
    if (m->a->cfg->tap_fd >= 0)
        fcntl(m->a->cfg->tap_fd, F_SETFD, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    m->a->cfg->backend->spawn(m->a->cfg, guest_end);
}

static void vm_ended(struct mon *m) __attribute__((noreturn));

static void spawn_vm(struct mon *m)
{
    int sv[2], ready[2] = {-1, -1};
    int console =
        openat(m->dir, MONITOR_CONSOLE, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (console < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
        (m->a->go >= 0 && pipe2(ready, O_CLOEXEC) < 0))
        boot_failed(m, "cannot make the console log or the agent channel");
    pid_t pid = fork();
    if (pid < 0)
        boot_failed(m, "fork");
    if (pid == 0)
        exec_vm(m, sv[1], console, ready[1]);
    close(sv[1]);
    close(console);
    /* The VMM's is the tap's last fd: the device goes with it. */
    if (m->a->cfg->tap_fd >= 0)
        close(m->a->cfg->tap_fd);
    m->agent = sv[0];
    fcntl(m->agent, F_SETFL, O_NONBLOCK); /* ours only: the VMM's end is another file */
    m->vm = pid;
    m->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (m->pidfd < 0)
        boot_failed(m, "pidfd_open");
    report(m, "PID %d %llu\n", (int)pid, proc_start_time(pid));
    if (m->a->go >= 0) {
        /* The VMM's process is in its namespace: create runs the hooks. */
        char r;
        close(ready[1]);
        close(m->a->go);
        if (read(ready[0], &r, 1) != 1)
            vm_ended(m);
        close(ready[0]);
        report(m, "NET\n");
    }
}

/* ---- terminals ------------------------------------------------------------------------ */

/* The kernel signals a pty's resize only to the foreground process group
 * of the session it is the controlling terminal of; the monitor cannot be
 * that for more than one terminal (and one that hangs up would SIGHUP it),
 * so each terminal gets a watcher: a new session with the pty as its
 * terminal, SIGWINCH and SIGHUP waited for. It holds no fd of the monitor
 * (not even the pty: its master sees the end when the monitor closes its
 * slave). A byte once it is the terminal's (a resize before that is then
 * not missed), then one per SIGWINCH; it ends at SIGHUP (the master was
 * closed), when the monitor stops reading, or with the monitor. */
static void winch_start(struct winch *w, int tty)
{
    int p[2];
    *w = (struct winch){0, -1};
    if (tty < 0 || pipe2(p, O_CLOEXEC) < 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGWINCH);
        sigaddset(&set, SIGHUP);
        sigprocmask(SIG_BLOCK, &set, NULL);
        if (dup2(tty, 0) < 0 || dup2(p[1], 1) < 0)
            _exit(1);
        close_range(2, ~0u, 0);
        if (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0)
            _exit(1);
        close(0);
        int sig = SIGWINCH;
        while (sig == SIGWINCH && write(1, "w", 1) == 1)
            sig = sigwaitinfo(&set, NULL);
        _exit(0);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return;
    }
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    *w = (struct winch){pid, p[0]};
}

static void winch_stop(struct winch *w)
{
    if (w->fd >= 0)
        close(w->fd);
    if (w->pid > 0) {
        kill(w->pid, SIGKILL);
        waitpid(w->pid, NULL, 0);
    }
    *w = (struct winch){0, -1};
}

/* The terminal's size, as AGENT_F_TTY's and WINSIZE's payload. */
static void tty_size(int tty, uint8_t d[4])
{
    struct winsize ws = {0};
    ioctl(tty, TIOCGWINSZ, &ws);
    agent_set_winsize(d, ws.ws_row, ws.ws_col);
}

static void to_agent(struct mon *m, uint16_t type, uint32_t id, const void *p, size_t n);

/* The watcher's bytes: the size may have changed, the guest's pty follows.
 * false once the watcher has ended. */
static bool winch_read(struct mon *m, struct winch *w, int tty, uint32_t id, bool running)
{
    char buf[64];
    ssize_t n = read(w->fd, buf, sizeof(buf));
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        winch_stop(w);
        return false;
    }
    uint8_t d[4];
    tty_size(tty, d);
    if (running)
        to_agent(m, AGENT_WINSIZE, id, d, sizeof(d));
    return true;
}

/* A RUN asking for a terminal gets the host pty's size as of now (the
 * process may read it before any WINSIZE could come): its payload with a
 * TTY field added, the last one being the agent's. */
static void send_run(struct mon *m, uint32_t id, const uint8_t *p, size_t n, int tty)
{
    if (tty < 0 || !agent_run_has_tty(p, n)) {
        to_agent(m, AGENT_RUN, id, p, n);
        return;
    }
    struct agent_buf b = {0};
    uint8_t d[4];
    tty_size(tty, d);
    agent_put_field(&b, AGENT_F_TTY, d, sizeof(d));
    uint8_t *run = malloc(n + b.len);
    if (b.oom || run == NULL)
        abort();
    memcpy(run, p, n);
    memcpy(run + n, b.data, b.len);
    to_agent(m, AGENT_RUN, id, run, n + b.len);
    free(run);
    agent_buf_free(&b);
}

/* ---- talking to the agent and the commands ---------------------------------------- */

static int exit_code(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return 255;
}

static void reply(int conn, uint16_t type, const void *p, size_t n)
{
    if (conn >= 0)
        agent_write_frame(conn, type, 0, p, n);
}

static void reply_error(int conn, const char *msg)
{
    reply(conn, CTL_ERROR, msg, strlen(msg));
}

static void reply_exit(int conn, int code)
{
    uint8_t d[4];
    agent_set_u32(d, (uint32_t)code);
    reply(conn, CTL_EXIT, d, sizeof(d));
}

/* Queue a frame and write what the channel takes now (the rest on POLLOUT):
 * the monitor never waits for the guest to read. */
static void to_agent(struct mon *m, uint16_t type, uint32_t id, const void *p, size_t n)
{
    uint8_t h[AGENT_HDR_SIZE];
    agent_set_hdr(h, type, id, (uint32_t)n);
    if (agent_queue_push(&m->out, h, sizeof(h)) < 0 || agent_queue_push(&m->out, p, n) < 0)
        abort();
    /* A failure means the VM is going away: the pidfd will say so. */
    if (agent_queue_write(m->agent, &m->out) < 0)
        agent_queue_free(&m->out);
}

static void drop_client(struct client *c)
{
    winch_stop(&c->winch);
    if (c->conn >= 0)
        close(c->conn);
    for (int k = 0; k < 3; k++)
        if (c->io[k] >= 0)
            close(c->io[k]);
    c->used = false;
}

static struct client *find_proc(struct mon *m, uint32_t id)
{
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &m->cl[i];
        if (c->used && (c->kind == C_EXEC || c->kind == C_START) && c->id == id)
            return c;
    }
    return NULL;
}

/* The STDIN bytes in flight to process id, NULL for no such process. */
static size_t *unacked(struct mon *m, uint32_t id)
{
    if (id == 0)
        return &m->unacked0;
    struct client *c = find_proc(m, id);
    return c != NULL ? &c->unacked : NULL;
}

static void save_exit(struct mon *m)
{
    cerr_t ignore = NULL;
    supervisor_save_exit(m->dir, m->status0, &ignore);
    cerr_free(&ignore);
}

static void process0_exited(struct mon *m, int code)
{
    m->exited0 = true;
    m->status0 = code;
    m->stdin0 = -1;
    /* Its output is all written: the end of the terminal for its holder. */
    winch_stop(&m->winch0);
    if (m->tty0 >= 0)
        close(m->tty0);
    m->tty0 = -1;
    save_exit(m);
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (m->cl[i].used && m->cl[i].kind == C_WAIT) {
            reply_exit(m->cl[i].conn, code);
            drop_client(&m->cl[i]);
        }
}

static void on_started(struct mon *m, uint32_t id, const uint8_t *p, size_t n)
{
    struct client *c = find_proc(m, id);
    if (id == 0) {
        m->started0 = true;
        m->start_pending = false;
        /* create's stdin is process 0's, as runc's container inherits it;
         * with a terminal, what is typed into that. */
        m->stdin0 = m->tty0 >= 0 ? m->tty0 : m->a->relay_stdin && fcntl(0, F_GETFD) >= 0 ? 0 : -1;
        if (m->stdin0 < 0)
            to_agent(m, AGENT_STDIN, 0, NULL, 0);
    }
    if (c == NULL)
        return;
    uint8_t d[8]; /* the guest pid, the process's id */
    agent_set_u32(d, n >= 4 ? agent_get_u32(p) : 0);
    agent_set_u32(d + 4, id);
    reply(c->conn, CTL_OK, d, sizeof(d));
    c->started = true;
    if (c->kind == C_START)
        drop_client(c);
}

static void on_error(struct mon *m, uint32_t id, const uint8_t *p, size_t n)
{
    struct client *c = find_proc(m, id);
    autofree char *msg = guest_text(p, n);
    if (c != NULL) {
        reply_error(c->conn, msg);
        drop_client(c);
    }
    /* Process 0 could not start: the container is over (runc's init dies
     * too when its execve fails). */
    if (id == 0)
        kill_vm(m);
}

static void on_output(struct mon *m, uint32_t id, int which, const uint8_t *p, size_t n)
{
    if (id == 0) {
        write_all(m->tty0 >= 0 ? m->tty0 : which, p, n);
        return;
    }
    struct client *c = find_proc(m, id);
    if (c != NULL && c->io[which] >= 0)
        write_all(c->io[which], p, n);
}

static void on_exit_frame(struct mon *m, uint32_t id, const uint8_t *p, size_t n)
{
    int code = n >= 4 ? exit_code((int)agent_get_u32(p)) : 255;
    if (id == 0) {
        process0_exited(m, code);
        return;
    }
    struct client *c = find_proc(m, id);
    if (c == NULL)
        return;
    if (c->started)
        reply_exit(c->conn, code);
    else /* only a broken guest says so: the command waits for STARTED's OK */
        reply_error(c->conn, "exec: the guest agent sent EXIT before STARTED");
    drop_client(c);
}

/* STDIN bytes of process id that left the agent: the relay may send more. */
static void on_stdin_taken(struct mon *m, uint32_t id, const uint8_t *p, size_t n)
{
    size_t *u = unacked(m, id);
    if (u == NULL || n < 4)
        return;
    uint32_t taken = agent_get_u32(p);
    *u -= taken < *u ? taken : *u;
}

/* One frame from the agent (its payload is not NUL-terminated). */
static void agent_frame(struct mon *m, const struct agent_hdr *h, const uint8_t *p)
{
    switch (h->type) {
    case AGENT_READY:
        if (!m->ready && (h->len != strlen(AGENT_VERSION) || memcmp(p, AGENT_VERSION, h->len))) {
            autofree char *what = xasprintf("the guest agent is `%.*s`, this cella speaks `%s`",
                                            (int)(h->len < 64 ? h->len : 64), p, AGENT_VERSION);
            boot_failed(m, what);
        }
        m->ready = true;
        log_debug("%s level: agent READY %.0f ms after %s's spawn", m->a->cfg->backend->level,
                  (double)(now_ns() - m->spawned) / 1e6, m->a->cfg->backend->vmm);
        if (m->a->cfg->backend->ready != NULL)
            m->a->cfg->backend->ready(m->a->cfg, m->vm, m->pidfd);
        report(m, "OK\n");
        close(m->report);
        m->report = -1;
        break;
    case AGENT_STARTED:
        on_started(m, h->id, p, h->len);
        break;
    case AGENT_ERROR:
        if (!m->ready) {
            autofree char *text = guest_text(p, h->len);
            autofree char *what = xasprintf("guest agent: %s", text);
            boot_failed(m, what);
        }
        on_error(m, h->id, p, h->len);
        break;
    case AGENT_STDOUT:
    case AGENT_STDERR:
        on_output(m, h->id, h->type == AGENT_STDOUT ? 1 : 2, p, h->len);
        break;
    case AGENT_EXIT:
        on_exit_frame(m, h->id, p, h->len);
        break;
    case AGENT_STDIN_TAKEN:
        on_stdin_taken(m, h->id, p, h->len);
        break;
    }
}

/* A guest whose stream cannot be followed any more: the VM is stopped, and
 * the console log (or create, during the boot) says why. */
static void broken_guest(struct mon *m, const char *why)
{
    if (!m->ready)
        boot_failed(m, why);
    int fd = openat(m->dir, MONITOR_CONSOLE, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd >= 0) {
        dprintf(fd, "cella-monitor: %s: the VM is stopped\n", why);
        close(fd);
    }
    m->in.broken = true;
    kill_vm(m);
}

/* Read what the agent sent and handle its whole frames; false at the end of
 * the channel (draining: also when nothing more is there). */
static bool agent_input(struct mon *m, bool draining)
{
    struct agent_in *in = &m->in;
    if (in->broken)
        return false;
    if (in->cap - in->len < IO_CHUNK) {
        in->cap = in->cap ? 2 * in->cap : 4 * IO_CHUNK;
        in->buf = realloc(in->buf, in->cap);
        if (in->buf == NULL)
            abort();
    }
    ssize_t r = read(m->agent, in->buf + in->len, in->cap - in->len);
    if (r <= 0)
        return r < 0 && !draining && (errno == EINTR || errno == EAGAIN);
    in->len += (size_t)r;
    struct agent_hdr h;
    size_t off = 0;
    int f;
    while ((f = agent_frame_in(in->buf + off, in->len - off, &h)) > 0) {
        agent_frame(m, &h, in->buf + off + AGENT_HDR_SIZE);
        off += AGENT_HDR_SIZE + h.len;
    }
    memmove(in->buf, in->buf + off, in->len - off);
    in->len -= off;
    if (f < 0) {
        autofree char *why = xasprintf("a frame of the guest agent claims %u bytes (at most %u)",
                                       h.len, AGENT_MAX_PAYLOAD);
        broken_guest(m, why);
        return false;
    }
    return true;
}

/* ---- requests ------------------------------------------------------------------------ */

static bool harmless_signal(int sig)
{
    return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH || sig == 0;
}

static void req_kill(struct mon *m, struct client *c, const struct agent_hdr *h, const uint8_t *p)
{
    if (h->len < 8) {
        reply_error(c->conn, "kill: malformed request");
        return;
    }
    int sig = (int)agent_get_u32(p);
    if (h->id == 0 && !m->started0 && !m->start_pending) {
        /* Nothing runs in the VM yet: a signal that would end runc's waiting
         * init ends the VM. */
        if (!harmless_signal(sig))
            kill_vm(m);
    } else if (!(h->id == 0 && m->exited0)) {
        to_agent(m, AGENT_SIGNAL, h->id, p, 8);
    }
    reply(c->conn, CTL_OK, NULL, 0);
}

static void req_start(struct mon *m, struct client *c, const struct agent_hdr *h, const uint8_t *p)
{
    if (m->started0 || m->start_pending) {
        reply_error(c->conn, "the container's process was already started");
        return;
    }
    m->start_pending = true;
    c->kind = C_START;
    c->id = 0;
    send_run(m, 0, p, h->len, m->tty0);
}

static void req_exec(struct mon *m, struct client *c, const struct agent_hdr *h, const uint8_t *p)
{
    int fds[3];
    if (ctl_recv_stdio(c->conn, fds) < 0) {
        reply_error(c->conn, "exec: the request carries no stdio");
        return;
    }
    if (m->exited0) {
        for (int k = 0; k < 3; k++)
            close(fds[k]);
        reply_error(c->conn, "the container's process has exited");
        return;
    }
    c->kind = C_EXEC;
    c->id = ++m->next_id;
    for (int k = 0; k < 3; k++)
        c->io[k] = fds[k];
    /* exec --tty: its stdio is the command's pty (its output io[1], which
     * stays while io[0] may end first). */
    int tty = agent_run_has_tty(p, h->len) && isatty(fds[1]) ? fds[1] : -1;
    winch_start(&c->winch, tty);
    send_run(m, c->id, p, h->len, tty);
}

/* A request on a new connection; false when the client is done. */
static bool client_request(struct mon *m, struct client *c)
{
    struct agent_hdr h;
    autofree uint8_t *p = NULL;
    if (ctl_recv(c->conn, &h, &p) <= 0)
        return false;
    switch (h.type) {
    case CTL_START:
        req_start(m, c, &h, p);
        return c->kind == C_START;
    case CTL_EXEC:
    case CTL_EXEC_DETACHED:
        req_exec(m, c, &h, p);
        return c->kind == C_EXEC;
    case CTL_KILL:
        req_kill(m, c, &h, p);
        return false;
    case CTL_WAIT:
        if (m->exited0) {
            reply_exit(c->conn, m->status0);
            return false;
        }
        c->kind = C_WAIT;
        return true;
    default:
        reply_error(c->conn, "unknown request");
        return false;
    }
}

static void accept_client(struct mon *m)
{
    int fd = accept4(m->listen, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (!m->cl[i].used) {
            m->cl[i] = (struct client){
                .used = true, .conn = fd, .kind = C_NEW, .io = {-1, -1, -1}, .winch = {0, -1}};
            return;
        }
    reply_error(fd, "the VM monitor is busy (too many commands at once)");
    close(fd);
}

/* Input from the command (or create's stdin for process 0) as STDIN
 * frames; an empty one at the end closes the process's stdin. The relay
 * waits while AGENT_STDIN_WINDOW bytes are unacknowledged (loop). */
static bool relay_stdin(struct mon *m, int fd, uint32_t id)
{
    static uint8_t buf[IO_CHUNK];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    to_agent(m, AGENT_STDIN, id, buf, n > 0 ? (size_t)n : 0);
    size_t *u = unacked(m, id);
    if (u != NULL && n > 0)
        *u += (size_t)n;
    return n > 0;
}

/* ---- the loop ------------------------------------------------------------------------ */

enum slot { S_AGENT, S_VM, S_LISTEN, S_STDIN, S_WINCH0, S_FIXED };

static void vm_ended(struct mon *m)
{
    int status = 0;
    /* The channel may have ended first: a VM without one is of no use. */
    kill_vm(m);
    waitpid(m->vm, &status, 0);
    while (agent_input(m, true)) /* what the agent said before the end */
        ;
    if (!m->ready) {
        autofree char *what =
            xasprintf("%s exited during boot (%s %d)", m->a->cfg->backend->vmm,
                      WIFSIGNALED(status) ? "signal" : "status",
                      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        m->vm = 0;
        boot_failed(m, what);
    }
    int code = m->exited0 ? m->status0 : 128 + SIGKILL;
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &m->cl[i];
        if (!c->used)
            continue;
        if (c->kind == C_WAIT || (c->kind == C_EXEC && c->started))
            reply_exit(c->conn, c->kind == C_WAIT ? code : 128 + SIGKILL);
        else if (c->kind != C_NEW)
            reply_error(c->conn, "the VM stopped");
    }
    /* The monitor ends as process 0 did: whoever reaps it (the subreaper
     * that `create`'s caller may be) sees the container's exit code. */
    _exit(code);
}

static int poll_timeout(const struct mon *m)
{
    if (m->ready)
        return -1;
    unsigned long long now = now_ns();
    return now >= m->deadline ? 0 : (int)((m->deadline - now) / 1000000 + 1);
}

static void serve_clients(struct mon *m, const struct pollfd *pfd, const size_t *slot_conn,
                          const size_t *slot_in)
{
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &m->cl[i];
        if (!c->used)
            continue; /* or dropped while the agent's frames were handled */
        if (slot_in[i] && c->io[0] >= 0 && pfd[slot_in[i]].revents &&
            !relay_stdin(m, c->io[0], c->id)) {
            close(c->io[0]);
            c->io[0] = -1;
        }
        if (!slot_conn[i] || !pfd[slot_conn[i]].revents)
            continue;
        if (c->kind == C_NEW) {
            if (!client_request(m, c))
                drop_client(c);
            continue;
        }
        /* The command hung up: an exec goes on (its output still has
         * somewhere to go); anything else is forgotten. */
        close(c->conn);
        c->conn = -1;
        if (c->kind == C_WAIT)
            drop_client(c);
    }
}

static void __attribute__((noreturn)) loop(struct mon *m)
{
    for (;;) {
        struct pollfd pfd[S_FIXED + 3 * MAX_CLIENTS];
        size_t slot_conn[MAX_CLIENTS] = {0}, slot_in[MAX_CLIENTS] = {0},
               slot_winch[MAX_CLIENTS] = {0};
        size_t np = S_FIXED;
        bool behind = agent_queue_pending(&m->out) > 0;
        bool relay = agent_queue_pending(&m->out) < OUT_HIGH;
        pfd[S_AGENT] =
            (struct pollfd){.fd = m->agent, .events = (short)(POLLIN | (behind ? POLLOUT : 0))};
        pfd[S_VM] = (struct pollfd){.fd = m->pidfd, .events = POLLIN};
        pfd[S_LISTEN] = (struct pollfd){.fd = m->ready ? m->listen : -1, .events = POLLIN};
        pfd[S_STDIN] = (struct pollfd){
            .fd = relay && m->unacked0 < AGENT_STDIN_WINDOW ? m->stdin0 : -1, .events = POLLIN};
        pfd[S_WINCH0] = (struct pollfd){.fd = m->winch0.fd, .events = POLLIN};
        for (size_t i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &m->cl[i];
            if (!c->used)
                continue;
            if (c->conn >= 0) {
                slot_conn[i] = np;
                pfd[np++] = (struct pollfd){.fd = c->conn, .events = POLLIN};
            }
            if (relay && c->unacked < AGENT_STDIN_WINDOW && c->kind == C_EXEC && c->started &&
                c->io[0] >= 0) {
                slot_in[i] = np;
                pfd[np++] = (struct pollfd){.fd = c->io[0], .events = POLLIN};
            }
            if (c->winch.fd >= 0) {
                slot_winch[i] = np;
                pfd[np++] = (struct pollfd){.fd = c->winch.fd, .events = POLLIN};
            }
        }
        int r = poll(pfd, np, poll_timeout(m));
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 && !m->ready) {
            autofree char *what = xasprintf("boot timed out after %u s", m->a->cfg->boot_timeout_s);
            boot_failed(m, what);
        }
        if ((pfd[S_AGENT].revents & POLLOUT) && agent_queue_write(m->agent, &m->out) < 0)
            agent_queue_free(&m->out);
        if ((pfd[S_AGENT].revents & ~POLLOUT) && !agent_input(m, false))
            vm_ended(m);
        if (pfd[S_VM].revents)
            vm_ended(m);
        if (pfd[S_STDIN].revents && m->stdin0 >= 0 && !relay_stdin(m, m->stdin0, 0))
            m->stdin0 = -1;
        if (pfd[S_WINCH0].revents && m->winch0.fd >= 0)
            winch_read(m, &m->winch0, m->tty0, 0, m->start_pending || m->started0);
        for (size_t i = 0; i < MAX_CLIENTS; i++)
            if (slot_winch[i] && pfd[slot_winch[i]].revents && m->cl[i].used &&
                m->cl[i].winch.fd >= 0)
                winch_read(m, &m->cl[i].winch, m->cl[i].io[1], m->cl[i].id, true);
        serve_clients(m, pfd, slot_conn, slot_in);
        if (pfd[S_LISTEN].revents)
            accept_client(m);
    }
}

void monitor_main(const struct monitor_args *a)
{
    struct mon m = {.a = a,
                    .agent = -1,
                    .listen = -1,
                    .report = a->report,
                    .pidfd = -1,
                    .stdin0 = -1,
                    .tty0 = a->tty,
                    .winch0 = {0, -1}};
    /* Our own open file of the state directory: create's holds its lock,
     * which must go with create. */
    autofree char *self = xasprintf("/proc/self/fd/%d", a->dirfd);
    m.dir = open(self, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(a->dirfd);
    setsid(); /* the terminal's signals are for cella's commands, not for us */
    signal(SIGPIPE, SIG_IGN);
    /* With a terminal, process 0's stdio is that: create's is let go, as
     * runc's init lets it go, for a caller that reads create's output to
     * its end (containerd's shim with `docker run -t`). */
    int null = a->tty >= 0 ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
    if (null >= 0) {
        for (int fd = 0; fd < 3; fd++)
            dup2(null, fd);
        close(null);
    }
    winch_start(&m.winch0, m.tty0);
    if (m.dir < 0 || (m.listen = supervisor_listen(m.dir)) < 0)
        boot_failed(&m, "cannot listen on the monitor socket");
    m.spawned = now_ns();
    spawn_vm(&m);
    m.deadline = now_ns() + (unsigned long long)a->cfg->boot_timeout_s * 1000000000ull;
    loop(&m);
}
