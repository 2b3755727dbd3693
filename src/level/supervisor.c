/* A container's supervisor (supervisor.h): its files in the state
 * directory, its control socket, and waiting through it. */
#define _GNU_SOURCE
#include "level/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "level/ctl.h"

#define EXIT_FILE "exit"

int supervisor_record(int dirfd, pid_t pid, cerr_t *err)
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "%d %llu", (int)pid, proc_start_time(pid));
    autofree char *path = xasprintf("/proc/self/fd/%d/" SUPERVISOR_PID_FILE, dirfd);
    if (write_file_atomic(path, buf, (size_t)n, err) < 0)
        return cerr_wrap(err, "record the container's supervisor (pid %d)", (int)pid);
    return 0;
}

bool supervisor_recorded(int dirfd)
{
    return faccessat(dirfd, SUPERVISOR_PID_FILE, F_OK, 0) == 0;
}

pid_t supervisor_pid(int dirfd)
{
    autofree char *s = read_file_at(dirfd, SUPERVISOR_PID_FILE, NULL, NULL);
    int pid;
    unsigned long long start;
    if (s == NULL || sscanf(s, "%d %llu", &pid, &start) != 2 || !proc_alive(pid, start))
        return 0;
    return pid;
}

void supervisor_end(pid_t pid, int timeout_ms)
{
    int pfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
    if (pfd < 0)
        return;
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) == 0)
        syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
    close(pfd);
    waitpid(pid, NULL, 0); /* ours when `run` or `create` made it; ECHILD otherwise */
}

int supervisor_listen(int dirfd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" SUPERVISOR_SOCK, dirfd);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    unlinkat(dirfd, SUPERVISOR_SOCK, 0);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int supervisor_save_exit(int dirfd, int code, cerr_t *err)
{
    char buf[16];
    int n = snprintf(buf, sizeof(buf), "%d", code);
    autofree char *path = xasprintf("/proc/self/fd/%d/" EXIT_FILE, dirfd);
    return write_file_atomic(path, buf, (size_t)n, err);
}

static int saved_exit(int dirfd)
{
    autofree char *s = read_file_at(dirfd, EXIT_FILE, NULL, NULL);
    long v;
    return s != NULL && parse_long(s, &v) == 0 ? (int)v : -1;
}

int supervisor_connect(int dirfd, cerr_t *err)
{
    autofree char *path = xasprintf("/proc/self/fd/%d/" SUPERVISOR_SOCK, dirfd);
    return unix_connect(path, err);
}

/* ---- waiting for a process ------------------------------------------------------------- */

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

/* A signal passed on: nobody to tell when it cannot be (the process or its
 * supervisor has gone, and the wait ends with that). */
static void pass_on(int dirfd, uint32_t id, int sig)
{
    cerr_t ignore = NULL;
    int sock = supervisor_connect(dirfd, &ignore);
    if (sock >= 0) {
        ctl_kill(sock, id, sig, false, &ignore);
        close(sock);
    }
    cerr_free(&ignore);
}

int supervisor_await_exit(int dirfd, int sock, uint32_t id)
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
            if (sigs & (1 << i))
                pass_on(dirfd, id, forwarded[i]);
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

int supervisor_wait(int dirfd)
{
    int code = -1;
    cerr_t ignore = NULL;
    int sock = supervisor_connect(dirfd, &ignore);
    cerr_free(&ignore);
    if (sock >= 0) {
        if (ctl_send(sock, CTL_WAIT, 0, NULL, 0, NULL) == 0)
            code = supervisor_await_exit(dirfd, sock, 0);
        close(sock);
    }
    if (code < 0)
        code = saved_exit(dirfd);
    return code < 0 ? 128 + SIGKILL : code;
}
