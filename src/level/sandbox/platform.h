/* The sandbox level's platform: how the workload's threads run and how their
 * system calls reach cella's kernel (docs/sandbox.md).
 *
 * Each workload process is a host "stub process" whose seccomp filter traps
 * (SECCOMP_RET_TRAP) every system call; the SIGSYS handler, in a code page at
 * a fixed address, copies the registers into its thread's context page and
 * hands over to the kernel process, which answers with a result, a whole new
 * register set, or a host call for the stub to make on its behalf (mmap of
 * the address space's memfd, munmap, mprotect, arch_prctl(SET_FS), exit): the
 * only calls the filter lets through, and only from the stub's code page.
 *
 * The stub region, identical in every stub process and at the start of the
 * address space's memfd:
 *   SB_STUB_BASE                 code page (r-x)
 *   SB_STUB_BASE + SLOT*(1+i)    thread slot i: context page, then the
 *                                signal stack the SIGSYS handler runs on */
#ifndef CELLA_SANDBOX_PLATFORM_H
#define CELLA_SANDBOX_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

/* Away from everything Linux places by default (PIE images at 0x55..., mmap
 * and stacks at 0x7f..., ASan's shadow below 0x1000_8000_0000), so the region
 * can be mapped in a child forked from cella before the rest is unmapped. */
#define SB_STUB_BASE   0x300000000000ULL
#define SB_SLOT_SIZE   0x10000ULL /* context page + 60 KiB signal stack */
#define SB_MAX_THREADS 64
#define SB_STUB_SIZE   (SB_SLOT_SIZE * (1 + SB_MAX_THREADS))
#define SB_STUB_END    (SB_STUB_BASE + SB_STUB_SIZE)
#define SB_TASK_TOP    0x7ffffffff000ULL /* end of x86-64 user space (4-level paging) */
#define SB_MEMFD_FD    3                 /* the memfd's number in every stub process */
#define SB_NREGS       18                /* r8 .. eflags, in struct sigcontext order */

/* Register indexes in sb_ctx.regs (struct sigcontext order). */
enum {
    SB_R8,
    SB_R9,
    SB_R10,
    SB_R11,
    SB_R12,
    SB_R13,
    SB_R14,
    SB_R15,
    SB_RDI,
    SB_RSI,
    SB_RBP,
    SB_RBX,
    SB_RDX,
    SB_RAX,
    SB_RCX,
    SB_RSP,
    SB_RIP,
    SB_EFLAGS
};

/* The host signal the kernel sends a stub to interrupt its workload (SIGUSR2). */
#define SB_KICK_SIG 12
/* The host signals a stub thread takes, in the stub's handler: a system
 * call, the kick, the workload's faults. Every other one is blocked in
 * every stub thread, the first (platform_spawn.c) and later ones
 * (platform_thread.c) alike. */
#define SB_STUB_SIGNALS                                                                            \
    {                                                                                              \
        31 /* SIGSYS */, SB_KICK_SIG, 11, 7, 4, 8, 5 /* SEGV BUS ILL FPE TRAP */                   \
    }
static inline uint64_t sb_stub_sigmask(void)
{
    static const int sigs[] = SB_STUB_SIGNALS;
    uint64_t mask = ~0ULL;
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        mask &= ~(1ULL << (sigs[i] - 1));
    return mask;
}

/* ctx.state, the futex word both sides wait on. */
#define SB_TRAPPED 1 /* stub -> kernel: a system call (or a host call's result) */
#define SB_REPLIED 2 /* kernel -> stub: ctx.op says what to do */

/* ctx.op */
#define SB_OP_RESULT   1 /* rax = ret, return to the workload */
#define SB_OP_REGS     2 /* replace the registers with regs, return there */
#define SB_OP_HOSTCALL 3 /* make system call args[0] with args[1..6], ret = result */
#define SB_OP_CLONE    4 /* the same for the host clone of a new thread (platform_thread.c) */

/* One thread's context page. Everything in it is written by the workload's
 * process too: the kernel reads each field once and trusts none. */
struct sb_ctx {
    uint32_t state;
    uint32_t kernel_waiting; /* the kernel sleeps on state: wake it */
    uint32_t stub_waiting;   /* the stub sleeps on state: wake it */
    uint32_t op;
    uint64_t nr; /* the trapped system call */
    uint64_t regs[SB_NREGS];
    uint64_t args[7];
    uint64_t ret;
    uint32_t spin; /* pause loops the stub spins before sleeping (0: sleeps at once) */
    /* The host signal the stub's handler runs for: SIGSYS (a system call),
     * SB_KICK_SIG (the kernel interrupts the workload to deliver a signal)
     * or a fault (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP: the workload's
     * own); its si_code and si_addr; the host's ucontext on the signal stack,
     * which holds the workload's FP state (the kernel copies it into and out
     * of the workload's signal frames). */
    uint32_t sig;
    int32_t code;
    uint32_t pad_;
    uint64_t addr;
    uint64_t uc;
    /* Nonzero while a host thread made for this slot may run: the host
     * kernel clears it when the thread ends (CLONE_CHILD_CLEARTID). A new
     * thread's FPU state is copied from uc. */
    uint32_t thread_live;
    uint32_t pad2_;
    /* The descriptor + 1 of a socket the kernel found empty as it answered
     * (0: none), written with every answer: the stub answers the very next
     * call itself with -EAGAIN when that is a recvfrom or read of it that
     * would find it so (platform_stub.c); any other call clears it. */
    uint64_t empty_fd;
};

/* A stub process as the kernel sees it. */
struct sb_stub {
    long spin_ns; /* how long the kernel spins before sleeping; 0 on one CPU */
    pid_t pid;
    pid_t tid;          /* a later thread's host thread (kicked by tgkill); 0: the first */
    struct sb_ctx *ctx; /* the kernel's mapping of slot 0's context page */
    int status;         /* wait status once dead */
    int dead;
};

/* The maker of stub processes (platform_spawn.c), started before the
 * kernel loads its own filter. */
struct sb_zygote {
    pid_t pid;
    int sock;
    bool one_cpu; /* the sandbox may use one CPU: nobody spins */
};
int sb_zygote_start(struct sb_zygote *z, cerr_t *err);
void sb_zygote_stop(struct sb_zygote *z);
/* A new stub process running on `memfd` (whose first SB_STUB_SIZE bytes the
 * kernel has mapped at `kstub`), the kernel's child; waits for its first trap. */
int sb_stub_spawn(struct sb_zygote *z, int memfd, uint8_t *kstub, struct sb_stub *s, cerr_t *err);
/* Wait for the stub's next trap. Returns -1 when the stub died (s->status). */
int sb_stub_wait(struct sb_stub *s);
/* Answer the trap with op (SB_OP_RESULT / SB_OP_REGS) and let the stub run. */
void sb_stub_reply(struct sb_stub *s, uint32_t op);
/* Have the stub make a host system call; -1 when it died, else 0 and *ret. */
int sb_stub_hostcall(struct sb_stub *s, long nr, const uint64_t a[6], long *ret);
/* Interrupt the workload running in the stub (a signal is to be delivered):
 * it traps with SB_KICK_SIG. Nothing when it is in the kernel's hands. */
void sb_stub_kick(struct sb_stub *s);
/* Kill and reap the stub. */
void sb_stub_kill(struct sb_stub *s);
/* A new host thread in s's process for thread slot `slot` (1..63; its
 * context page is kstub + SB_SLOT_SIZE * (1 + slot), which must not be
 * live), starting at the workload registers `regs` with TLS base `tls`:
 * made by s's thread, which must be waiting in a trap. *out is the new
 * thread's stub; returns the host tid, or -errno. */
long sb_stub_thread(struct sb_stub *s, uint8_t *kstub, int slot, const uint64_t regs[SB_NREGS],
                    uint64_t tls, struct sb_stub *out);
/* End the calling thread of s (waiting in a trap) on the host: no answer. */
void sb_stub_thread_exit(struct sb_stub *s);
/* The flags of that host clone: a thread sharing the stub's memory and
 * signal handlers, its TLS set, its slot's thread_live cleared at its end. */
#define SB_THREAD_CLONE_FLAGS                                                                      \
    (CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_SETTLS | CLONE_CHILD_CLEARTID)

/* The stub's code: copied to the code page, entered at sb_stub_entry. */
extern const char sb_stub_code_start[], sb_stub_code_end[];
extern const char sb_stub_entry[], sb_stub_handler[], sb_stub_restorer[];
/* The stub's seccomp filter. */
struct sock_fprog;
void sb_stub_filter(struct sock_fprog *prog);

#endif
