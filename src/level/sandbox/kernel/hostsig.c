/* Signals from outside the sandbox (`cella kill`): the kernel process
 * catches them and sends them on as sandbox signals, to the first process
 * (or, for `cella kill --all`, to every process), as Linux sends a signal
 * from an ancestor pid namespace to a container's processes.
 *
 * The host's handler only records the signal and wakes the loop: a bit per
 * signal, and a word the loop's futex_waitv also waits on (its value
 * changed, the wait ends or never starts) plus a byte on a pipe the loop's
 * polls include, so that a signal arriving just before the loop sleeps is
 * never missed. A stub's death (SIGCHLD from the host kernel) wakes the loop
 * the same way. Faults (SIGSEGV...) are not caught: one in the kernel is a
 * bug, and ends it. SIGPIPE stays ignored: the host kernel itself sends it
 * (as SI_USER) for a write to a pipe nobody reads. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "level/sandbox/kernel/kernel.h"

static uint64_t pending, pending_all; /* bit sig-1 */
static uint32_t word;
static int wake_pipe[2] = {-1, -1};

static bool not_forwarded(int sig)
{
    return sig == SIGKILL || sig == SIGSTOP || sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
           sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS || sig == SIGABRT || sig == SIGPIPE ||
           sig == 32 || sig == 33; /* the C library's own */
}

static void on_host_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    int e = errno;
    /* SIGCHLD from a child's end (code > 0) only wakes the loop. */
    if (sig != SIGCHLD || si->si_code <= 0) {
        uint64_t bit = 1ULL << (sig - 1);
        __atomic_or_fetch(&pending, bit, __ATOMIC_SEQ_CST);
        if (si->si_code == SI_QUEUE && si->si_int == SB_SIGNAL_ALL)
            __atomic_or_fetch(&pending_all, bit, __ATOMIC_SEQ_CST);
    }
    __atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
    if (write(wake_pipe[1], "", 1) < 0) {
        /* full: the loop has bytes to read already */
    }
    errno = e;
}

int sb_hostsig_install(struct sb_kernel *k, cerr_t *err)
{
    k->pidns_init = getpid() == 1;
    if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return cerr_set(err, errno, "sandbox: pipe for host signals");
    struct sigaction sa = {.sa_sigaction = on_host_signal, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigfillset(&sa.sa_mask);
    sigset_t set;
    sigemptyset(&set);
    for (int sig = 1; sig <= 64; sig++) {
        if (not_forwarded(sig))
            continue;
        if (sigaction(sig, &sa, NULL) < 0)
            return cerr_set(err, errno, "sandbox: sigaction %d", sig);
        sigaddset(&set, sig);
    }
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is EPIPE for the workload */
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    return 0;
}

uint32_t *sb_hostsig_word(void)
{
    return &word;
}

int sb_hostsig_fd(void)
{
    return wake_pipe[0];
}

/* Linux's rule for a signal from an ancestor pid namespace (sig_task_ignored):
 * the namespace's init takes only the signals it has a handler for, ignores
 * or blocks (a signalfd reads them), and SIGKILL/SIGSTOP; the other
 * processes, every signal. */
static void send_outside(struct sb_kernel *k, struct sb_task *t, int sig)
{
    if (t->zombie)
        return;
    if (t->pid == 1 && k->pidns_init && t->act[sig - 1].handler == 0 &&
        !(t->sigmask & (1ULL << (sig - 1))))
        return;
    sb_signal_send(NULL, t, sig, SI_USER, 0, 0);
}

bool sb_hostsig_take(struct sb_kernel *k)
{
    if (!__atomic_load_n(&word, __ATOMIC_SEQ_CST))
        return false;
    __atomic_store_n(&word, 0, __ATOMIC_SEQ_CST);
    char buf[64];
    while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
        ;
    uint64_t due = __atomic_exchange_n(&pending, 0, __ATOMIC_SEQ_CST);
    uint64_t all = __atomic_exchange_n(&pending_all, 0, __ATOMIC_SEQ_CST);
    for (; due != 0; due &= due - 1) {
        int sig = __builtin_ctzll(due) + 1;
        if (!(all & (1ULL << (sig - 1)))) {
            send_outside(k, k->task[0], sig);
            continue;
        }
        /* Every process: the list changes as processes end. */
        int pids[SB_MAX_TASKS], n = 0;
        for (int i = 0; i < k->ntask; i++)
            if (!k->task[i]->zombie)
                pids[n++] = k->task[i]->pid;
        for (int j = 0; j < n; j++)
            for (int i = 0; i < k->ntask; i++)
                if (k->task[i]->pid == pids[j])
                    send_outside(k, k->task[i], sig);
    }
    return true;
}
