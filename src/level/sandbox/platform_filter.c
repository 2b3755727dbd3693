/* The stub process's seccomp filter: the boundary between the workload and
 * the host kernel (docs/sandbox.md justifies each allowed call).
 *
 * Outside the stub's code page every system call is SECCOMP_RET_TRAP (SIGSYS:
 * the stub forwards it to cella's kernel). From the code page only the calls
 * the stub itself makes pass, with their arguments checked; anything else from
 * there means the workload jumped into the stub with registers of its own
 * choosing, and kills the process. The workload can reach the code page's
 * `syscall` instructions with any register values, so the checks below, not
 * the stub's code, are what make each allowed call harmless. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "core/util.h"
#include "level/sandbox/platform.h"

#define OFF_NR    offsetof(struct seccomp_data, nr)
#define OFF_ARCH  offsetof(struct seccomp_data, arch)
#define OFF_IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define OFF_IP_HI (OFF_IP_LO + 4)
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)
#define PROT_RWX  (PROT_READ | PROT_WRITE | PROT_EXEC)

static struct sock_filter f[128];
static unsigned n;

static void emit(struct sock_filter s)
{
    if (n < ARRAY_SIZE(f))
        f[n++] = s;
}

static void load(unsigned off)
{
    emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off));
}

static void ret(unsigned action)
{
    emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action));
}

/* The 32-bit word at off must equal v, else `action`. */
static void require_or(unsigned off, unsigned v, unsigned action)
{
    load(off);
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, v, 1, 0));
    ret(action);
}

static void require(unsigned off, unsigned v)
{
    require_or(off, v, SECCOMP_RET_TRAP);
}

/* No bit of `bits` may be set in the word at off, else `action`. */
static void forbid_bits_or(unsigned off, unsigned bits, unsigned action)
{
    load(off);
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, bits, 0, 1));
    ret(action);
}

static void forbid_bits(unsigned off, unsigned bits)
{
    forbid_bits_or(off, bits, SECCOMP_RET_TRAP);
}

/* The word at off lies in [lo, hi). */
static void require_range(unsigned off, unsigned lo, unsigned hi)
{
    load(off);
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, hi, 0, 1));
    ret(SECCOMP_RET_TRAP);
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 1, 0));
    ret(SECCOMP_RET_TRAP);
}

/* A block for one call number: its checks, then ALLOW; skipped for others. */
static unsigned block_start(unsigned nr)
{
    load(OFF_NR);
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 0));
    return n - 1;
}

static void block_end(unsigned at)
{
    ret(SECCOMP_RET_ALLOW);
    f[at].jf = (unsigned char)(n - at - 1);
}

void sb_stub_filter(struct sock_fprog *prog)
{
    n = 0;
    /* Another ABI (i386's int 0x80, x32) is never served: the end. */
    require_or(OFF_ARCH, AUDIT_ARCH_X86_64, SECCOMP_RET_KILL_PROCESS);
    forbid_bits_or(OFF_NR, 0x40000000, SECCOMP_RET_KILL_PROCESS);
    /* Outside the code page [SB_STUB_BASE, +4096): trap to the kernel. */
    load(OFF_IP_HI);
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)(SB_STUB_BASE >> 32), 1,
                                      0));
    ret(SECCOMP_RET_TRAP);
    load(OFF_IP_LO);
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (unsigned)SB_STUB_BASE + 4096, 0,
                                      1));
    ret(SECCOMP_RET_TRAP);
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (unsigned)SB_STUB_BASE, 1, 0));
    ret(SECCOMP_RET_TRAP);

    unsigned b = block_start(SYS_rt_sigreturn);
    block_end(b);
    /* futex: WAIT/WAKE on a context page (no PI, requeue or wait-multiple). */
    b = block_start(SYS_futex);
    require(ARG_HI(0), (unsigned)(SB_STUB_BASE >> 32));
    require_range(ARG_LO(0), (unsigned)SB_STUB_BASE + SB_SLOT_SIZE, (unsigned)SB_STUB_END);
    load(ARG_LO(1));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAIT, 2, 0));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAKE, 1, 0));
    ret(SECCOMP_RET_TRAP);
    block_end(b);
    /* mmap: only the address space's memfd, shared and fixed. */
    b = block_start(SYS_mmap);
    require(ARG_LO(3), MAP_SHARED | MAP_FIXED);
    require(ARG_HI(3), 0);
    require(ARG_LO(4), SB_MEMFD_FD);
    forbid_bits(ARG_LO(2), ~(unsigned)PROT_RWX);
    require(ARG_HI(2), 0);
    block_end(b);
    b = block_start(SYS_munmap);
    block_end(b);
    b = block_start(SYS_mprotect);
    forbid_bits(ARG_LO(2), ~(unsigned)PROT_RWX);
    require(ARG_HI(2), 0);
    block_end(b);
    b = block_start(SYS_arch_prctl);
    require(ARG_LO(0), ARCH_SET_FS);
    require(ARG_HI(0), 0);
    block_end(b);
    b = block_start(SYS_exit);
    block_end(b);
    /* clone: a thread of this process (platform_thread.c), exactly these
     * flags, its stack and the word cleared at its end in the thread slots. */
    b = block_start(SYS_clone);
    require(ARG_LO(0), SB_THREAD_CLONE_FLAGS);
    require(ARG_HI(0), 0);
    require(ARG_HI(1), (unsigned)(SB_STUB_BASE >> 32));
    require_range(ARG_LO(1), (unsigned)SB_STUB_BASE + SB_SLOT_SIZE, (unsigned)SB_STUB_END);
    require(ARG_HI(3), (unsigned)(SB_STUB_BASE >> 32));
    require_range(ARG_LO(3), (unsigned)SB_STUB_BASE + SB_SLOT_SIZE, (unsigned)SB_STUB_END);
    block_end(b);
    ret(SECCOMP_RET_TRAP);
    prog->len = (unsigned short)n;
    prog->filter = f;
}
