#define _GNU_SOURCE
#include "core/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"

extern char **environ;

static int pidfd_open_(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Wait for pid, killing it after timeout_ms (<0: no timeout). */
static int wait_with_timeout(pid_t pid, int timeout_ms, int *status, bool *timed_out)
{
    *timed_out = false;
    if (timeout_ms >= 0) {
        int pfd = pidfd_open_(pid);
        if (pfd >= 0) {
            struct pollfd p = {.fd = pfd, .events = POLLIN};
            int r;
            do
                r = poll(&p, 1, timeout_ms);
            while (r < 0 && errno == EINTR);
            close(pfd);
            if (r == 0) {
                kill(pid, SIGKILL);
                *timed_out = true;
            }
        }
    }
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

static int run_one(const struct spec_hook *h, const char *name, size_t idx, const char *state_json,
                   cerr_t *err)
{
    int in[2], ep[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        return cerr_set(err, errno, "%s hook %zu: pipe", name, idx);
    /* The child reports a failed execve's errno here (closed on success). */
    if (pipe2(ep, O_CLOEXEC) < 0) {
        int e = errno;
        close(in[0]);
        close(in[1]);
        return cerr_set(err, e, "%s hook %zu: pipe", name, idx);
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(in[0]);
        close(in[1]);
        close(ep[0]);
        close(ep[1]);
        return cerr_set(err, e, "%s hook %zu: fork", name, idx);
    }
    if (pid == 0) {
        dup2(in[0], 0);
        /* A hook's output must not corrupt ours (the state JSON on stdout). */
        dup2(2, 1);
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        char *fallback[] = {h->path, NULL};
        /* Without `env` a hook inherits cella's environment (as runc and crun). */
        execve(h->path, h->args.n ? h->args.v : fallback, h->env.v ? h->env.v : environ);
        int e = errno;
        write_all(ep[1], &e, sizeof(e));
        _exit(127);
    }
    close(in[0]);
    close(ep[1]);
    /* The hook may not read its stdin: ignore EPIPE. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    write_all(in[1], state_json, strlen(state_json));
    close(in[1]);
    sigaction(SIGPIPE, &old, NULL);
    int status = 0;
    bool timed_out;
    int exec_errno = 0;
    ssize_t n = read_all(ep[0], &exec_errno, sizeof(exec_errno));
    close(ep[0]);
    int timeout_ms = -1;
    if (h->has_timeout)
        timeout_ms =
            h->timeout > SPEC_HOOK_TIMEOUT_MAX ? SPEC_HOOK_TIMEOUT_MAX * 1000 : h->timeout * 1000;
    if (wait_with_timeout(pid, timeout_ms, &status, &timed_out) < 0)
        return cerr_set(err, errno, "%s hook `%s`: wait", name, h->path);
    if (n == (ssize_t)sizeof(exec_errno))
        return cerr_set(err, exec_errno, "%s hook `%s`: exec", name, h->path);
    if (timed_out)
        return cerr_set(err, 0, "%s hook `%s` timed out after %d s", name, h->path, h->timeout);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        return cerr_set(err, 0, "%s hook `%s` exited with status %d", name, h->path,
                        WEXITSTATUS(status));
    return cerr_set(err, 0, "%s hook `%s` killed by signal %d", name, h->path, WTERMSIG(status));
}

int hooks_run(const struct spec *s, enum hook_kind kind, const char *state_json, cerr_t *err)
{
    const struct spec_hooks *hs = &s->hooks[kind];
    for (size_t i = 0; i < hs->n; i++)
        if (run_one(&hs->v[i], hook_kind_name(kind), i, state_json, err) < 0)
            return -1;
    return 0;
}
