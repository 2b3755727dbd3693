/* cella's user-space kernel (the sandbox level): the state it keeps for the
 * workload and the pieces that serve its system calls, one area per file:
 *   syscall.c  the table, dispatch, ENOSYS counting
 *   mm.c       address spaces: the memfd, mappings, brk, access to workload memory
 *   mmap.c     brk/mmap/munmap/mprotect
 *   elf.c      loading a static executable          stack.c  the initial stack
 *   files.c    the descriptor table                 fd.c     dup, fcntl
 *   fs.c       open/read/write/stat, cwd, access
 *   exec.c     execve                               fork.c   fork, clone, wait4
 *   process.c  identity, exit, uname, TLS           signal.c sigaction/sigprocmask
 *   time.c     clocks, getrandom                    kernel.c the run loop
 *   net.c      sockets (the host's, in the container's network namespace)
 *   epoll.c    epoll, signalfd
 *   filter.c   the kernel process's own seccomp filter
 * Workload memory and the context page are untrusted input: every value is
 * read once into the kernel's own memory and checked there. */
#ifndef CELLA_SANDBOX_KERNEL_H
#define CELLA_SANDBOX_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "core/error.h"
#include "level/sandbox/platform.h"

#define SB_PAGE         4096ULL
#define SB_PAGE_UP(x)   (((x) + SB_PAGE - 1) & ~(SB_PAGE - 1))
#define SB_PAGE_DOWN(x) ((x) & ~(SB_PAGE - 1))
#define SB_MEM_MAX      (64ULL << 30) /* memfd offsets one address space may use */
#define SB_MMAP_MIN     0x10000ULL    /* as vm.mmap_min_addr */
#define SB_STACK_TOP    0x7ffffffde000ULL
#define SB_STACK_SIZE   (8ULL << 20)
#define SB_MMAP_TOP     0x7fff00000000ULL /* anonymous mappings grow down from here */
#define SB_PIE_BASE     0x555555554000ULL
#define SB_NSYSCALLS    512
#define SB_MAX_FDS      1024
#define SB_PATH_MAX     4096
#define SB_MAX_TASKS    64 /* processes at once (futex_waitv waits on up to 128 words) */
#define SB_WAIT_FDS     16 /* host descriptors one parked call waits for */

struct sb_vma {
    uint64_t start, end; /* page aligned */
    uint64_t off;        /* memfd offset of start */
    int prot;
};

struct sb_range {
    uint64_t off, len;
};

/* One address space: workload memory lives in `memfd`, which the kernel maps
 * whole at `kbase` (offset 0..SB_STUB_SIZE is the stub region). */
struct sb_mm {
    int memfd;
    uint8_t *kbase;
    uint64_t next_off;      /* memfd offsets never handed out start here */
    struct sb_range *holes; /* offsets unmapped (punched: zero again), by offset */
    size_t nholes, holes_cap;
    struct sb_vma *vma;
    size_t nvma, cap;
    uint64_t brk_start, brk;
};

struct sb_file {
    int host; /* -1: free */
    bool cloexec;
    /* A pipe or socket the kernel made: its host end is non-blocking and a
     * call that would block parks the process; `nonblock` is the workload's view. */
    bool kpipe, nonblock;
    bool sock; /* a socket (net.c) */
    /* From outside the sandbox (its stdio) and not a regular file: a call
     * that would block there parks instead of blocking the kernel's loop. */
    bool outside;
    bool signalfd; /* signalfd.c: a host eventfd, readable while one of its signals is pending */
    bool sfd_ready;
    uint64_t sfd_mask;
    bool timerfd; /* eventfd.c: a host timerfd */
    char *path;   /* the path it was opened by, for *at() relative to it (NULL: not a directory) */
};

struct sb_files {
    struct sb_file fd[SB_MAX_FDS];
};

struct sb_task;

struct sb_kernel {
    struct sb_zygote zygote; /* makes the stub processes (pid 0: not started) */
    int rootfd;              /* the sandbox's "/" (O_PATH); every path resolves beneath it */
    char cwd[SB_PATH_MAX];   /* the first process's */
    struct sb_task *task[SB_MAX_TASKS]; /* every process, zombies included */
    /* /dev/null, zero, full, random, urandom: opened from the container's
     * /dev before the kernel confines itself, handed out as copies (the
     * rootfs's /dev is another mount, never reached). ndev 0: none. */
    int devfd[5], ndev;
    int ntask, next_pid;
    const char *hostname;
    uid_t uid;
    gid_t gid;
    uint64_t enosys[SB_NSYSCALLS]; /* unimplemented calls made, by number */
    uint64_t enosys_other;         /* ... with a number beyond the table */
    bool pidns_init; /* the kernel is PID 1 of a pid namespace: its first process is init */
    int nsignalfd;   /* signalfds made: none, nothing to keep readable */
};

struct sb_sigaction {
    uint64_t handler, flags, restorer, mask;
};

struct sb_siginfo {
    int code, pid, status; /* for the handler's siginfo */
    uint64_t addr;         /* a fault's */
};

struct sb_task {
    struct sb_kernel *k;
    struct sb_stub stub;
    struct sb_mm *mm;
    struct sb_files *files;
    int pid, tid;
    uint64_t regs[SB_NREGS]; /* of the trapped call, copied from the context page */
    bool set_regs;           /* answer with regs instead of a result */
    bool exited;
    int exit_status; /* as wait4 reports it, once exited */
    uint64_t fs_base, clear_child_tid, sigmask;
    uint64_t sigpending; /* sent while blocked, or caught and not delivered yet */
    struct sb_siginfo siginfo[64];
    uint64_t saved_mask; /* rt_sigsuspend's: restored on the way back */
    bool has_saved_mask;
    uint64_t park_nr; /* the parked call's number */
    struct sb_sigaction act[64];
    int pgid, sid;           /* pgrp.c */
    uint64_t ss_sp, ss_size; /* sigaltstack (size 0: none) */
    uint32_t ss_flags;       /* SS_AUTODISARM */
    char cwd[SB_PATH_MAX];
    struct sb_task *parent; /* NULL: the first process */
    bool zombie;            /* ended, not yet waited for */
    int wait_status;        /* as wait4 reports it */
    bool parked;            /* waiting in a call: it is tried again after every other */
    long (*park_fn)(struct sb_task *t, const uint64_t a[6]);
    uint64_t park_args[6];
    unsigned long long wake_at; /* a parked sleep's end (CLOCK_MONOTONIC ns), 0: none */
    /* Host descriptors a parked call waits for (a socket, the host epoll):
     * the loop polls them when nothing else wakes it. */
    struct pollfd wait[SB_WAIT_FDS];
    int nwait;
};

typedef long (*sb_syscall_fn)(struct sb_task *t, const uint64_t a[6]);

/* syscall.c */
long sb_syscall(struct sb_task *t, uint64_t nr);
const char *sb_syscall_name(uint64_t nr); /* NULL when the table has none */
/* "name(nr) xN, ..." of the unimplemented calls made; NULL when none. */
char *sb_enosys_report(const struct sb_kernel *k);

/* mm.c */
int sb_mm_init(struct sb_mm *mm, cerr_t *err);
void sb_mm_free(struct sb_mm *mm);
/* Map [addr, addr+len) (fixed) or somewhere free (addr 0) in the workload;
 * returns the address or -errno. */
long sb_mm_map(struct sb_task *t, uint64_t addr, uint64_t len, int prot, bool fixed);
/* No mapping in [addr, addr+len). */
bool sb_mm_is_free(const struct sb_mm *mm, uint64_t addr, uint64_t len);
long sb_mm_unmap(struct sb_task *t, uint64_t addr, uint64_t len);
/* Unmap all of the workload's memory (execve). */
long sb_mm_reset(struct sb_task *t);
long sb_mm_protect(struct sb_task *t, uint64_t addr, uint64_t len, int prot);
/* The kernel's pointers to workload memory [addr, addr+len), which must be
 * mapped with `prot`: up to max pieces into iov. Returns the count or -EFAULT. */
int sb_mm_iov(struct sb_mm *mm, uint64_t addr, uint64_t len, int prot, struct iovec *iov, int max);
/* fork: dst (fresh from sb_mm_init) gets a copy of src's mappings and
 * contents; sb_mm_replay then maps them in t's new stub. */
int sb_mm_fork(struct sb_mm *dst, const struct sb_mm *src);
long sb_mm_replay(struct sb_task *t);
/* How much of [addr, addr+len) is mapped with prot from addr on: the part a
 * read or write reaches before Linux's would fault. */
uint64_t sb_mm_accessible(const struct sb_mm *mm, uint64_t addr, uint64_t len, int prot);
int sb_copy_in(struct sb_mm *mm, void *dst, uint64_t addr, size_t len);
int sb_copy_out(struct sb_mm *mm, uint64_t addr, const void *src, size_t len);
/* A NUL-terminated string of at most max bytes (with the NUL); -EFAULT / -ENAMETOOLONG. */
int sb_copy_str(struct sb_mm *mm, char *dst, uint64_t addr, size_t max);

/* elf.c */
struct sb_elf {
    uint64_t entry, phdr, phnum, phent;
    uint64_t bias; /* added to every p_vaddr (ET_DYN) */
    uint64_t end;  /* end of the highest segment: where brk starts */
};
/* Check the header of the executable open at fd ("path" names it in errors):
 * a static x86-64 ELF executable. */
int sb_elf_check(int fd, const char *path, cerr_t *err);
/* Map its segments into t's address space. */
int sb_elf_load(struct sb_task *t, int fd, const char *path, struct sb_elf *out, cerr_t *err);

/* stack.c */
struct sb_stack_in {
    char *const *argv;
    char *const *envp;
    const struct sb_elf *elf;
    uid_t uid;
    gid_t gid;
    const uint8_t *random; /* 16 bytes for AT_RANDOM */
    const char *execfn;
};
/* Lay out the initial stack (argc, argv, envp, auxv, strings) for a stack
 * ending at `top` into buf (which stands for [top - size, top)); *sp is the
 * workload's initial %rsp. Returns -1 when it does not fit. */
int sb_stack_build(const struct sb_stack_in *in, uint8_t *buf, size_t size, uint64_t top,
                   uint64_t *sp);

/* files.c */
void sb_files_init(struct sb_files *f);
void sb_files_close_all(struct sb_files *f);
void sb_files_close_on_exec(struct sb_files *f);
/* fork: the same open files under the same numbers. */
int sb_files_fork(struct sb_files *dst, const struct sb_files *src);
/* Install host fd (owned from then on) at the lowest free workload fd >= min. */
int sb_fd_install(struct sb_files *f, int host, bool cloexec, char *path, int min);
struct sb_file *sb_fd_get(struct sb_files *f, uint64_t fd);
/* A host call's -EAGAIN on a kernel pipe or socket the workload uses as
 * blocking: SB_PARK, waiting for `events` on it; any other result as it is. */
long sb_would_block(struct sb_task *t, const struct sb_file *f, long r, short events);
/* A parked call waits for events on host descriptor fd (as well as being
 * tried again after every other call); returns SB_PARK. */
long sb_park_on(struct sb_task *t, int fd, short events);
/* A call with a timeout in ms (< 0: none) about to park: true when it has
 * run out (0 at once), else its end is kept in wake_at for the loop. */
bool sb_park_expired(struct sb_task *t, long ms);
/* The workload's iovec array [uvec, uvec + count) as kernel pointers into
 * iov (up to max pieces, MAX bytes in all); the count, or -errno. */
int sb_iov_in(struct sb_task *t, uint64_t uvec, uint64_t count, int prot, struct iovec *iov,
              int max);
long sb_fd_close(struct sb_files *f, uint64_t fd);

/* signal.c: a write's EPIPE, with SIGPIPE's default action applied. */
long sb_epipe(struct sb_task *t);
/* signal.c: the mask changed: a pending signal now unblocked takes its
 * default action (ends t), is dropped if ignored, or waits for delivery. */
void sb_signal_unblocked(struct sb_task *t);
/* signal.c: send sig to target (self: the sender, which then ends only
 * when its call is done); code/pid/status for the handler's siginfo. */
long sb_signal_send(struct sb_task *self, struct sb_task *target, int sig, int code, int pid,
                    int status);
/* signal.c: t's stub trapped without a system call (sig: the host signal):
 * kicked for a pending signal, or a fault of the workload, which is sent to
 * it as Linux's force_sig_fault (a handler runs; blocked or ignored, it
 * dies). t returns to its registers or a handler. */
void sb_signal_trap(struct sb_task *t, int sig, int code, uint64_t addr);
/* sigstack.c: for a handler's frame of frame_size bytes: where it goes
 * (on the alternate stack with SA_ONSTACK), the ucontext's uc_flags,
 * uc_stack and fpstate (the FP state, copied there from the stub's host
 * frame). -1: no room (the process gets SIGSEGV). */
struct sb_frame_place {
    uint64_t sp, uc_flags, ss_sp, ss_size, fpstate;
    int32_t ss_flags;
};
int sb_sigframe_place(struct sb_task *t, uint64_t sa_flags, uint64_t sp, size_t frame_size,
                      struct sb_frame_place *out);
/* sigstack.c: rt_sigreturn: the alternate stack and FP state from the frame. */
int sb_sigframe_restore(struct sb_task *t, uint64_t ss_sp, int32_t ss_flags, uint64_t ss_size,
                        uint64_t fpstate);
/* pgrp.c: kill(0), kill(-1), kill(-pgid) of t: every process they name. */
long sb_signal_group(struct sb_task *t, int64_t pid, int sig, int code);
/* sigstack.c: fork: the child's FP state (its stub's) is the parent's. */
void sb_fpu_fork(struct sb_task *child, struct sb_task *parent);
/* signal.c: the caught signal t's next return would deliver, or 0. */
int sb_signal_next(const struct sb_task *t);
/* signal.c: t returns to its program with r (or t->regs when set_regs): a
 * caught pending signal is delivered first (t->regs become the handler's,
 * set_regs); restart: its call is made again after the handler. */
void sb_signal_deliver(struct sb_task *t, long r, bool restart);
/* signalfd.c: make t's signalfds readable while one of their signals is
 * pending, and not after; called where t->sigpending changes. */
void sb_signalfd_update(struct sb_task *t);
/* signalfd.c: read (or write: EINVAL) of a signalfd. */
long sb_signalfd_read(struct sb_task *t, struct sb_file *f, uint64_t buf, uint64_t len, bool out);
/* signal.c: the siginfo of t's pending sig as a signalfd reads it. */
struct signalfd_siginfo;
void sb_signal_siginfo(const struct sb_task *t, int sig, struct signalfd_siginfo *out);
/* fs.c: open the devices handed out for /dev/null... (before the filter). */
void sb_devices_open(struct sb_kernel *k);
/* fs.c: resolve a workload path (relative to dirfd or the cwd) beneath the root. */
int sb_open_path(struct sb_task *t, uint64_t dirfd, const char *path, int flags, int mode,
                 char **abs_out);

/* hostsig.c: signals from outside the sandbox. `cella kill --all` sends
 * them as SI_QUEUE with this value: to every process, not the first only. */
#define SB_SIGNAL_ALL 0x63656c6c
/* Catch them (before the kernel's filter). */
int sb_hostsig_install(struct sb_kernel *k, cerr_t *err);
/* A word that changes from 0 and a descriptor that becomes readable when one comes. */
uint32_t *sb_hostsig_word(void);
int sb_hostsig_fd(void);
/* Send the ones that came on to the workload; false when none came. */
bool sb_hostsig_take(struct sb_kernel *k);

/* filter.c */
int sb_kernel_filter_install(cerr_t *err);
/* The host system calls the kernel process keeps ("name name ..."). */
const char *sb_kernel_filter_list(void);

/* kernel.c */
struct sb_start {
    const char *exe; /* path in the root */
    int exe_fd;      /* from sb_open_exe */
    char *const *argv, *const *envp;
    uid_t uid;
    gid_t gid;
};
/* Open an executable beneath the root and check it is one the kernel runs. */
int sb_open_exe(int rootfd, const char *path, cerr_t *err);
/* Make the sandbox's first process: its address space, stub process,
 * program and stack; it waits to be run. sb_task_free undoes it. */
int sb_task_start(struct sb_task *t, struct sb_kernel *k, const struct sb_start *s, cerr_t *err);
/* Load the program into t's (empty) address space and set its first registers. */
int sb_task_load(struct sb_task *t, const struct sb_start *s, cerr_t *err);
/* What a handler returns to wait: the call is made again, with the same
 * arguments, after each call any other process makes, until it answers. */
#define SB_PARK LONG_MIN
/* A process's end (status as wait4 reports it): its stub killed, its memory
 * and descriptors released, its parent told. */
void sb_task_exit(struct sb_task *t, int status);
/* Serve its system calls until it ends; its status as a shell reports it
 * (the exit code, or 128 + the signal that killed it). */
int sb_task_run(struct sb_task *t);
void sb_task_free(struct sb_task *t);

#endif
