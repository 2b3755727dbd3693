/* The stub: the code every workload process runs besides the workload's own
 * (see platform.h). It is position-dependent machine code for the code page at
 * SB_STUB_BASE, written in assembly so that nothing in it calls into cella
 * (cella's image is unmapped from stub processes).
 *
 * sb_stub_entry: unmap everything but the stub region, then make a system call
 *   the filter traps: the kernel answers it with the program's first registers.
 * sb_stub_handler(sig, info, uc): the SIGSYS handler (and the kick's and the
 *   faults'), on the thread slot's signal stack; the slot (and its context
 *   page) is %rsp rounded down. Copies the signal, its code and address, the
 *   call number and registers into the context page, marks it
 *   TRAPPED, wakes the kernel if it sleeps, spins a bounded while, then sleeps
 *   on the futex until REPLIED; performs host calls as asked and loops; writes
 *   the result (rax) or the whole register set into uc and returns. The one
 *   call the kernel's last answer said how to answer (ctx.empty_fd: a recv
 *   or read of a socket found empty) is answered here, without the kernel. A new
 *   thread (SB_OP_CLONE) is a host clone onto a frame the kernel wrote in the
 *   new slot: the child's rt_sigreturn gives it the workload's registers, its
 *   signal mask (SIGSYS open) and its slot's signal stack.
 * sb_stub_restorer: rt_sigreturn. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "level/sandbox/platform.h"

#define S_(x) #x
#define S(x)  S_(x)

/* Numbers the assembly uses, checked against the C definitions. */
#define A_STUB_BASE  0x300000000000
#define A_STUB_END   0x300000410000
#define A_TASK_TOP   0x7ffffffff000
#define A_SLOT_MASK  -0x10000
#define A_UC_GREGS   40
#define A_UC_RAX     144
#define A_UC_RDI     104
#define A_UC_R10     56
#define A_UC_RDX     136
#define A_DONTWAIT   0x40
#define A_SI_SYSCALL 24
_Static_assert(A_STUB_BASE == SB_STUB_BASE, "stub base");
_Static_assert(A_STUB_END == SB_STUB_END, "stub end");
_Static_assert(A_TASK_TOP == SB_TASK_TOP, "task top");
_Static_assert(-(A_SLOT_MASK) == SB_SLOT_SIZE, "slot size");
_Static_assert(offsetof(ucontext_t, uc_mcontext.gregs) == A_UC_GREGS, "uc gregs");
_Static_assert(offsetof(ucontext_t, uc_mcontext.gregs[REG_RAX]) == A_UC_RAX, "uc rax");
_Static_assert(offsetof(ucontext_t, uc_mcontext.gregs[REG_RDI]) == A_UC_RDI &&
                   offsetof(ucontext_t, uc_mcontext.gregs[REG_R10]) == A_UC_R10 &&
                   offsetof(ucontext_t, uc_mcontext.gregs[REG_RDX]) == A_UC_RDX,
               "uc arguments");
_Static_assert(A_DONTWAIT == MSG_DONTWAIT, "MSG_DONTWAIT");
_Static_assert(offsetof(siginfo_t, si_syscall) == A_SI_SYSCALL, "si_syscall");
_Static_assert((int)REG_R8 == (int)SB_R8 && (int)REG_RAX == (int)SB_RAX &&
                   (int)REG_RIP == (int)SB_RIP && (int)REG_EFL == (int)SB_EFLAGS,
               "register order");
_Static_assert(offsetof(struct sb_ctx, state) == 0 &&
                   offsetof(struct sb_ctx, kernel_waiting) == 4 &&
                   offsetof(struct sb_ctx, stub_waiting) == 8 &&
                   offsetof(struct sb_ctx, op) == 12 && offsetof(struct sb_ctx, nr) == 16 &&
                   offsetof(struct sb_ctx, regs) == 24 && offsetof(struct sb_ctx, args) == 168 &&
                   offsetof(struct sb_ctx, ret) == 224 && offsetof(struct sb_ctx, spin) == 232 &&
                   offsetof(struct sb_ctx, sig) == 236 && offsetof(struct sb_ctx, code) == 240 &&
                   offsetof(struct sb_ctx, addr) == 248 && offsetof(struct sb_ctx, uc) == 256 &&
                   offsetof(struct sb_ctx, thread_live) == 264 &&
                   offsetof(struct sb_ctx, empty_fd) == 272,
               "context layout");
_Static_assert(SB_KICK_SIG == SIGUSR2, "kick signal");
_Static_assert(offsetof(siginfo_t, si_code) == 8 && offsetof(siginfo_t, si_addr) == 16, "siginfo");
_Static_assert(SB_TRAPPED == 1 && SB_OP_RESULT == 1 && SB_OP_REGS == 2 && SB_OP_HOSTCALL == 3 &&
                   SB_OP_CLONE == 4,
               "protocol numbers");

/* clang-format off */
__asm__(
    ".pushsection .text.cella_sandbox_stub, \"ax\", @progbits\n"
    ".p2align 12\n"
    ".globl sb_stub_code_start, sb_stub_entry, sb_stub_handler, sb_stub_restorer, sb_stub_code_end\n"
    "sb_stub_code_start:\n"
    "sb_stub_entry:\n"
    "  mov $" S(SYS_munmap) ", %eax\n"
    "  xor %edi, %edi\n"
    "  movabs $" S(A_STUB_BASE) ", %rsi\n"
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jnz 9f\n"
    "  mov $" S(SYS_munmap) ", %eax\n"
    "  movabs $" S(A_STUB_END) ", %rdi\n"
    "  movabs $" S(A_TASK_TOP) ", %rsi\n"
    "  sub %rdi, %rsi\n"
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jnz 9f\n"
    "  mov $" S(SYS_getpid) ", %eax\n" /* trapped: the kernel's first answer starts the program */
    "  syscall\n"
    "9: ud2\n"

    "sb_stub_handler:\n" /* rdi = sig, rsi = info, rdx = uc */
    "  mov %rsp, %r12\n"
    "  and $" S(A_SLOT_MASK) ", %r12\n" /* r12 = the context page */
    "  mov %rdx, %r13\n"                /* r13 = uc */
    "  cld\n"
    "  mov %edi, 236(%r12)\n" /* sig, si_code, si_addr, uc: what trapped */
    "  mov 8(%rsi), %eax\n"
    "  mov %eax, 240(%r12)\n"
    "  mov 16(%rsi), %rax\n"
    "  mov %rax, 248(%r12)\n"
    "  mov %r13, 256(%r12)\n"
    "  movslq " S(A_SI_SYSCALL) "(%rsi), %rax\n"
    "  mov 272(%r12), %rcx\n" /* empty_fd: a hint for this call only */
    "  test %rcx, %rcx\n"
    "  jnz 12f\n"
    "0:\n"
    "  mov %rax, 16(%r12)\n"
    "  lea " S(A_UC_GREGS) "(%r13), %rsi\n"
    "  lea 24(%r12), %rdi\n"
    "  mov $" S(SB_NREGS) ", %ecx\n"
    "  rep movsq\n"
    "1:\n" /* hand over: state = TRAPPED (xchg: a full barrier), wake a sleeping kernel */
    "  mov $1, %eax\n"
    "  xchg %eax, 0(%r12)\n"
    "  cmpl $0, 4(%r12)\n"
    "  je 2f\n"
    "  mov $" S(SYS_futex) ", %eax\n"
    "  mov %r12, %rdi\n"
    "  mov $1, %esi\n" /* FUTEX_WAKE (shared: the kernel maps the same memfd) */
    "  mov $1, %edx\n"
    "  syscall\n"
    "2:\n"
    "  mov 232(%r12), %ecx\n" /* spin, set by the kernel */
    "  test %ecx, %ecx\n"
    "  jz 31f\n"
    "3:\n"
    "  cmpl $1, 0(%r12)\n"
    "  jne 6f\n"
    "  pause\n"
    "  dec %ecx\n"
    "  jnz 3b\n"
    "31:\n"
    "  movl $1, 8(%r12)\n" /* stub_waiting, then re-check before sleeping */
    "  mfence\n"
    "4:\n"
    "  cmpl $1, 0(%r12)\n"
    "  jne 5f\n"
    "  mov $" S(SYS_futex) ", %eax\n"
    "  mov %r12, %rdi\n"
    "  xor %esi, %esi\n" /* FUTEX_WAIT while state == TRAPPED */
    "  mov $1, %edx\n"
    "  xor %r10d, %r10d\n"
    "  syscall\n"
    "  jmp 4b\n"
    "5:\n"
    "  movl $0, 8(%r12)\n"
    "6:\n" /* the reply */
    "  mov 12(%r12), %eax\n"
    "  cmp $1, %eax\n"
    "  je 7f\n"
    "  cmp $2, %eax\n"
    "  je 8f\n"
    "  cmp $4, %eax\n"
    "  je 10f\n"
    "  cmp $3, %eax\n"
    "  jne 9b\n"
    "  mov 168(%r12), %rax\n"
    "  mov 176(%r12), %rdi\n"
    "  mov 184(%r12), %rsi\n"
    "  mov 192(%r12), %rdx\n"
    "  mov 200(%r12), %r10\n"
    "  mov 208(%r12), %r8\n"
    "  mov 216(%r12), %r9\n"
    "  syscall\n"
    "  mov %rax, 224(%r12)\n"
    "  jmp 1b\n"
    "7:\n"
    "  mov 224(%r12), %rax\n"
    "  mov %rax, " S(A_UC_RAX) "(%r13)\n"
    "  ret\n"
    "8:\n"
    "  lea 24(%r12), %rsi\n"
    "  lea " S(A_UC_GREGS) "(%r13), %rdi\n"
    "  mov $" S(SB_NREGS) ", %ecx\n"
    "  rep movsq\n"
    "  ret\n"
    "10:\n" /* a thread's host clone; the child starts on its frame (rsp) */
    "  mov 168(%r12), %rax\n"
    "  mov 176(%r12), %rdi\n"
    "  mov 184(%r12), %rsi\n"
    "  mov 192(%r12), %rdx\n"
    "  mov 200(%r12), %r10\n"
    "  mov 208(%r12), %r8\n"
    "  mov 216(%r12), %r9\n"
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jz 11f\n"
    "  mov %rax, 224(%r12)\n"
    "  jmp 1b\n"
    "11:\n"
    "  mov $" S(SYS_rt_sigreturn) ", %eax\n"
    "  syscall\n"
    "  ud2\n"

    "12:\n" /* read(empty_fd - 1, buf, len > 0) or recvfrom(..., 0 or MSG_DONTWAIT, ...): -EAGAIN */
    "  movq $0, 272(%r12)\n"
    "  cmpl $" S(SIGSYS) ", 236(%r12)\n" /* a system call: not a kick or a fault */
    "  jne 0b\n"
    "  dec %rcx\n"
    "  cmp %rcx, " S(A_UC_RDI) "(%r13)\n"
    "  jne 0b\n"
    "  cmpq $0, " S(A_UC_RDX) "(%r13)\n"
    "  je 0b\n"
    "  cmp $" S(SYS_read) ", %rax\n"
    "  je 13f\n"
    "  cmp $" S(SYS_recvfrom) ", %rax\n"
    "  jne 0b\n"
    "  mov " S(A_UC_R10) "(%r13), %rcx\n"
    "  and $~" S(A_DONTWAIT) ", %rcx\n"
    "  jnz 0b\n"
    "13:\n"
    "  movq $-" S(EAGAIN) ", " S(A_UC_RAX) "(%r13)\n"
    "  ret\n"

    "sb_stub_restorer:\n"
    "  mov $" S(SYS_rt_sigreturn) ", %eax\n"
    "  syscall\n"
    "  ud2\n"
    "sb_stub_code_end:\n"
    ".popsection\n");
/* clang-format on */
