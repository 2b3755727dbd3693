/* Making stub processes. The kernel confines itself before the workload
 * runs, so it cannot fork them itself later: a zygote, forked before the
 * kernel's filter is loaded, makes each one with CLONE_PARENT on the
 * kernel's request (the address space's memfd, passed over a socket), so
 * that every stub is the kernel's child (waited for, PDEATHSIG). The zygote
 * runs no workload code and takes nothing from it but the kernel's memfds. */
#define _GNU_SOURCE
#include "level/sandbox/platform.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"

#define SA_RESTORER 0x04000000 /* not in the C library headers */
/* Both sides spin this long before sleeping (machine.md: waking a sleeping
 * peer on another vCPU costs ~45 us); on one CPU spinning only delays the
 * peer, so neither does. */
#define SPIN_NS    10000L
#define STUB_SPINS 4000 /* pause loops: ~10 us here */

struct k_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

/* In the new process: become a stub process. Any failure ends it (the
 * kernel sees it die before its first trap). Only raw system calls after the
 * stub region is mapped: libc's wrappers would install their own restorer. */
static void stub_child(int memfd, pid_t kernel)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != kernel)
        _exit(127);
    if (memfd != SB_MEMFD_FD && dup2(memfd, SB_MEMFD_FD) < 0)
        _exit(127);
    syscall(SYS_close_range, 0, SB_MEMFD_FD - 1, 0);
    syscall(SYS_close_range, SB_MEMFD_FD + 1, ~0U, 0);
    /* What the C library registered with the host kernel in memory about to
     * be unmapped: the kernel would write there (rseq on every signal and
     * preemption: a fault is a SIGSEGV; the tid to clear at exit). */
    if (__rseq_size > 0 &&
        syscall(SYS_rseq, (uint8_t *)__builtin_thread_pointer() + __rseq_offset,
                __rseq_size < 32 ? 32 : __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) < 0)
        _exit(127); /* registered with the size of struct rseq, 32 */
    syscall(SYS_set_tid_address, NULL);
    syscall(SYS_set_robust_list, NULL, 3 * sizeof(void *));
    uint8_t *base = (uint8_t *)SB_STUB_BASE;
    if (mmap(base, 4096, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED_NOREPLACE, SB_MEMFD_FD, 0) !=
            base ||
        mmap(base + SB_SLOT_SIZE, SB_STUB_SIZE - SB_SLOT_SIZE, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_FIXED_NOREPLACE, SB_MEMFD_FD, SB_SLOT_SIZE) != base + SB_SLOT_SIZE)
        _exit(127);
    stack_t ss = {.ss_sp = base + SB_SLOT_SIZE + 4096, .ss_size = SB_SLOT_SIZE - 4096};
    if (sigaltstack(&ss, NULL) < 0)
        _exit(127);
    uintptr_t off_handler = (uintptr_t)sb_stub_handler - (uintptr_t)sb_stub_code_start;
    uintptr_t off_restorer = (uintptr_t)sb_stub_restorer - (uintptr_t)sb_stub_code_start;
    uintptr_t off_entry = (uintptr_t)sb_stub_entry - (uintptr_t)sb_stub_code_start;
    struct k_sigaction sa = {.handler = base + off_handler,
                             .flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
                             .restorer = base + off_restorer,
                             .mask = ~0ULL};
    /* The same handler for the kernel's kick and the workload's faults
     * (reported to the kernel, which delivers them to the workload's
     * handlers); inside it every signal is blocked, so a fault there is
     * fatal (the kernel sees the stub die). */
    static const int sigs[] = SB_STUB_SIGNALS;
    _Static_assert(SIGSYS == 31 && SIGSEGV == 11 && SIGBUS == 7 && SIGILL == 4 && SIGFPE == 8 &&
                       SIGTRAP == 5,
                   "SB_STUB_SIGNALS' numbers");
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (syscall(SYS_rt_sigaction, sigs[i], &sa, NULL, 8) < 0)
            _exit(127);
    uint64_t mask = sb_stub_sigmask();
    /* Every other signal blocked: nothing asynchronous runs host code in
     * the stub. */
    if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8) < 0)
        _exit(127);
    /* No capability either: the filter is the boundary, this is depth. */
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct none[2] = {{0}};
    if (prctl(PR_CAPBSET_READ, 0, 0, 0, 0) >= 0)
        for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
            prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (syscall(SYS_capset, &hdr, none) < 0)
        _exit(127);
    struct sock_fprog prog;
    sb_stub_filter(&prog);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        _exit(127);
    ((void (*)(void))(base + off_entry))();
    __builtin_trap();
}

static void zygote_main(int sock, pid_t kernel)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != kernel)
        _exit(0);
    syscall(SYS_close_range, 0, (unsigned)sock - 1, 0);
    syscall(SYS_close_range, (unsigned)sock + 1, ~0U, 0);
    for (;;) {
        int memfd = recv_fd_msg(sock);
        if (memfd < 0)
            _exit(0); /* the kernel is gone */
        pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
        if (pid == 0)
            stub_child(memfd, kernel);
        close(memfd);
        if (write(sock, &pid, sizeof(pid)) != sizeof(pid))
            _exit(0);
    }
}

int sb_zygote_start(struct sb_zygote *z, cerr_t *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return cerr_set(err, errno, "sandbox: socketpair for the stub zygote");
    pid_t kernel = getpid();
    z->pid = fork();
    if (z->pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return cerr_set(err, errno, "sandbox: fork the stub zygote");
    }
    if (z->pid == 0) {
        close(sv[0]);
        zygote_main(sv[1], kernel);
    }
    close(sv[1]);
    z->sock = sv[0];
    cpu_set_t cpus;
    z->one_cpu = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) == 1;
    return 0;
}

void sb_zygote_stop(struct sb_zygote *z)
{
    if (z->pid <= 0)
        return;
    close(z->sock);
    kill(z->pid, SIGKILL);
    while (waitpid(z->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    z->pid = -1;
}

int sb_stub_spawn(struct sb_zygote *z, int memfd, uint8_t *kstub, struct sb_stub *s, cerr_t *err)
{
    size_t code = (size_t)(sb_stub_code_end - sb_stub_code_start);
    if (code > 4096)
        return cerr_set(err, 0, "sandbox stub: %zu bytes of code do not fit a page", code);
    memcpy(kstub, sb_stub_code_start, code);
    memset(kstub + SB_SLOT_SIZE, 0, sizeof(struct sb_ctx));
    s->ctx = (struct sb_ctx *)(kstub + SB_SLOT_SIZE);
    s->dead = 0;
    s->spin_ns = z->one_cpu ? 0 : SPIN_NS;
    s->ctx->spin = z->one_cpu ? 0 : STUB_SPINS;
    pid_t pid = -1;
    if (send_fd_msg(z->sock, memfd, "M", 1) < 0 || read(z->sock, &pid, sizeof(pid)) != sizeof(pid))
        return cerr_set(err, errno, "sandbox: ask the stub zygote for a process");
    if (pid < 0)
        return cerr_set(err, 0, "sandbox: the stub zygote could not clone");
    s->pid = pid;
    int first = sb_stub_wait(s);
    if (first == 0 && s->ctx->sig != SIGSYS) { /* a fault in the stub's entry */
        sb_stub_kill(s);
        return cerr_set(err, 0, "sandbox: the stub process faulted before its first system call");
    }
    if (first < 0)
        return cerr_set(err, 0,
                        "sandbox: the stub process died before its first system call (%s %d)",
                        WIFSIGNALED(s->status) ? "signal" : "exit",
                        WIFSIGNALED(s->status) ? WTERMSIG(s->status) : WEXITSTATUS(s->status));
    return 0;
}
