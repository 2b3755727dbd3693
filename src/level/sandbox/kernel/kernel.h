/* cella's user-space kernel (the sandbox level): the state it keeps for the
 * workload and the pieces that serve its system calls, one area per file:
 *   syscall.c  the table, dispatch, ENOSYS counting
 *   mm.c       address spaces: the memfd, mappings, brk, access to workload memory
 *   mmap.c     brk/mmap/munmap/mprotect             mem.c    mremap, madvise, msync, mlock
 *   elf.c      loading an executable                stack.c  the initial stack
 *   interp.c   a dynamic executable's interpreter   rlimit.c resource limits
 *   files.c    the descriptor table                 fd.c     dup, fcntl
 *   fs.c       open/read/write/stat, cwd, access
 *   fsops.c    mkdir, unlink, rename, links, chmod, utimes, statx, locks...
 *   procfs.c   /proc and /dev of the sandbox's own
 *   mount.c    the spec's mounts, path resolution across them
 *   exec.c     execve                               fork.c   fork, clone, wait4
 *   process.c  identity, exit, uname, TLS           signal.c sigaction/sigprocmask
 *   time.c     clocks, getrandom                    kernel.c the run loop
 *   itimer.c   alarm, setitimer                     xattr.c  extended attributes (none)
 *   net.c      sockets (the host's, in the container's network namespace)
 *   epoll.c    epoll, signalfd
 *   thread.c   threads (CLONE_THREAD), futex, robust lists
 *   filter.c   the kernel process's own seccomp filter
 *   ctlsock.c  the control socket (`cella exec`)      spawn.c  its new processes
 * Workload memory and the context page are untrusted input: every value is
 * read once into the kernel's own memory and checked there. */
#ifndef CELLA_SANDBOX_KERNEL_H
#define CELLA_SANDBOX_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
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
    int flags; /* SB_VMA_* */
};
/* Not private anonymous memory (a file's copy, MAP_SHARED): MADV_DONTNEED
 * leaves its pages as they are instead of zeroing them. */
#define SB_VMA_BACKED 1
/* A shared mapping of a file opened read-only: never made writable (EACCES). */
#define SB_VMA_NOWRITE 2

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
    /* The process's resource limits (rlimit.c), kept here because they go
     * where the address space goes: per process, copied by fork, kept by
     * execve, shared by threads. */
    struct sb_rlimit {
        uint64_t cur, max;
    } rlim[16];
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
    /* One of the kernel's own files (/proc, /dev: procfs.c): `path` names
     * it; the host fd is a memfd of its contents (a directory's: its
     * linux_dirent64 records). Never written. */
    bool synth;
    /* Not opened beneath the root: the stdio from outside, the container's
     * devices of /dev. Its inode is the host's: no metadata change (fsops.c). */
    bool outer;
};

struct sb_files {
    struct sb_file fd[SB_MAX_FDS];
};

struct sb_task;

/* mount.c: one of the spec's mounts, opened before the filter. */
struct sb_mount {
    char *path; /* normalized destination */
    char *type, *source;
    int fd;    /* O_PATH of its root */
    dev_t dev; /* and its root's identity: a file mount is reached by */
    ino_t ino; /* its name, which must still lead to it */
    bool dir, ro;
    bool hidden; /* a later mount on the same path */
};

struct sb_kernel {
    struct sb_zygote zygote; /* makes the stub processes (pid 0: not started) */
    int rootfd;              /* the sandbox's "/" (O_PATH); every path resolves beneath it */
    char cwd[SB_PATH_MAX];   /* the first process's */
    struct sb_task *task[SB_MAX_TASKS]; /* every process, zombies included */
    /* /dev/null, zero, full, random, urandom: opened from the container's
     * /dev before the kernel confines itself, handed out as copies (the
     * rootfs's /dev is another mount, never reached). ndev 0: none. */
    int devfd[5], ndev;
    /* procfs.c: the controlling terminal for /dev/tty (<= 0: none); the
     * start (CLOCK_MONOTONIC) for uptime; MemTotal in bytes (the spec's
     * limit or the host's); the host's cpuinfo and CPU count, read before
     * the filter. */
    int ttyfd;
    unsigned long long start_ns, mem_total;
    char *cpuinfo;
    long ncpu;
    mode_t umask;            /* the first process's (the host's is 0: the kernel applies it) */
    struct sb_mount *mounts; /* mount.c */
    int nmounts;
    int ntask, next_pid;
    const char *hostname;
    uid_t uid;
    gid_t gid;
    uint64_t enosys[SB_NSYSCALLS]; /* unimplemented calls made, by number */
    uint64_t enosys_other;         /* ... with a number beyond the table */
    uint64_t cpus[16]; /* the CPUs the sandbox may use (sched_getaffinity), read at start */
    bool pidns_init;   /* the kernel is PID 1 of a pid namespace: its first process is init */
    int nsignalfd;     /* signalfds made: none, nothing to keep readable */
    unsigned long long itimer_next; /* itimer.c: the nearest ITIMER_REAL end, 0: none */
    struct sb_ctl *ctl;             /* ctlsock.c: the control socket of `cella exec`; NULL: none */
    bool execd_ended; /* a process of `cella exec` ended: ctlsock.c reports and reaps it */
    bool ctl_due;     /* the loop's poll woke: maybe for the control socket */
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
    uint64_t empty_fd;       /* for the answer's ctx.empty_fd (net.c): 0 unless this call set it */
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
    /* Threads (thread.c): every thread is a task; those of one process
     * share mm and files and keep copies of the dispositions and cwd that
     * thread.c keeps equal. pid is the thread group's, tid the thread's. */
    struct sb_task *leader; /* the thread group's first thread; NULL: itself */
    int slot;               /* its thread slot in the stub region */
    bool thread_gone;       /* the thread ended, its process lives on: not run, not answered */
    uint64_t robust_list, robust_len;
    uint64_t futex_addr, futex_bitset, futex_seq; /* a FUTEX_WAIT parked here */
    bool futex_woken;
    /* procfs.c: what /proc/PID shows (set at exec, copied at fork) */
    mode_t umask;
    char comm[16];
    char exe[SB_PATH_MAX];
    char cmdline[4096]; /* the arguments, each ending with its NUL */
    size_t cmdline_len;
    unsigned long long start_ns;
    /* itimer.c: the process's ITIMER_REAL (in its leader's task): its end
     * (CLOCK_MONOTONIC ns, 0: disarmed) and interval */
    unsigned long long itimer_at, itimer_interval;
    /* Started by `cella exec` (spawn.c): no parent in the sandbox (getppid
     * 0, as a process that entered the pid namespace from outside); the
     * kernel reaps it and reports its end to the command waiting for it. */
    bool execd;
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
/* The highest free range of len bytes within [lo, hi), or 0. */
uint64_t sb_mm_free_below(const struct sb_mm *mm, uint64_t len, uint64_t lo, uint64_t hi);
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
/* The vmas of [addr, addr+len) get flags (SB_VMA_*) added. */
void sb_mm_set_flags(struct sb_mm *mm, uint64_t addr, uint64_t len, int flags);
/* mremap's work, its arguments checked (page aligned, lengths not 0). */
long sb_mm_remap(struct sb_task *t, uint64_t old, uint64_t olen, uint64_t nlen, uint64_t flags,
                 uint64_t naddr);
/* MADV_DONTNEED: private anonymous pages of [addr, addr+len) are zero
 * again; -ENOMEM when part of it is not mapped (the rest done, as Linux). */
long sb_mm_discard(struct sb_mm *mm, uint64_t addr, uint64_t len);
/* [addr, addr+len) is mapped throughout: 0, else -ENOMEM. */
long sb_mm_covered(const struct sb_mm *mm, uint64_t addr, uint64_t len);
/* mincore: one byte per page of [addr, addr+len) into vec (1: has a page). */
void sb_mm_resident(const struct sb_mm *mm, uint64_t addr, uint64_t len, uint8_t *vec);
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
    /* With an interpreter (interp.c): where it was loaded (AT_BASE) and
     * its entry point, where the program starts. */
    bool interp;
    uint64_t interp_base, interp_entry;
};
/* Check the header of the executable open at fd ("path" names it in errors):
 * an x86-64 ELF executable. */
int sb_elf_check(int fd, const char *path, cerr_t *err);
/* Its interpreter's path (PT_INTERP) into interp: 1, 0 when it has none. */
int sb_elf_interp(int fd, const char *path, char *interp, size_t size, cerr_t *err);
/* Map its segments into t's address space (ET_DYN at SB_PIE_BASE). */
int sb_elf_load(struct sb_task *t, int fd, const char *path, struct sb_elf *out, cerr_t *err);
/* The same, an ET_DYN one where free memory is (an interpreter). */
int sb_elf_load_anywhere(struct sb_task *t, int fd, const char *path, struct sb_elf *out,
                         cerr_t *err);

struct sb_start;
/* interp.c: the interpreter the program at exe_fd names (its path into
 * interp), opened as t opens a path (NULL: beneath rootfd, from "/") and
 * checked: *ifd, or -1 when it names none. A missing one is an error with
 * code CERR_EXE_MISSING. */
int sb_interp_open(struct sb_task *t, int rootfd, int exe_fd, const char *exe,
                   char interp[SB_PATH_MAX], int *ifd, cerr_t *err);
/* interp.c: load the program's interpreter, if it names one, into t's
 * address space beside the program (elf: the program, as loaded). */
int sb_interp_load(struct sb_task *t, const struct sb_start *s, struct sb_elf *elf, cerr_t *err);

/* rlimit.c: mm's limits from the kernel process's own (the spec's). */
void sb_rlimit_init(struct sb_mm *mm);

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

/* net.c: after a short receive of n of len bytes on socket f (workload fd
 * fd), leave the answer's hint that it is empty when it is (empty_fd). */
void sb_net_hint_empty(struct sb_task *t, const struct sb_file *f, uint64_t fd, long n,
                       uint64_t len);
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
/* procfs.c: open the devices handed out for /dev/null... (before the filter). */
void sb_devices_open(struct sb_kernel *k);
/* fs.c: resolve a workload path (relative to dirfd or the cwd) beneath the root. */
int sb_open_path(struct sb_task *t, uint64_t dirfd, const char *path, int flags, int mode,
                 char **abs_out);

/* thread.c */
static inline struct sb_task *sb_leader(struct sb_task *t)
{
    return t->leader != NULL ? t->leader : t;
}
/* clone with CLONE_THREAD (a = clone's arguments). */
long sb_thread_clone(struct sb_task *t, const uint64_t a[6]);
/* exit: t's thread ends (the process when it is the last). */
long sb_thread_exit(struct sb_task *t, int code);
/* The process of t ends: its other threads are marked ended (zombie, no
 * memory) for sb_thread_reap; returns the thread group's leader. */
struct sb_task *sb_thread_group_end(struct sb_task *t);
/* Free the tasks of threads that ended (at the loop's top, where no task
 * pointer is held). */
void sb_thread_reap(struct sb_kernel *k);
/* After a call: the dispositions and cwd t may have changed, copied to the
 * other threads of its process. */
void sb_thread_share(struct sb_task *t);
/* The thread of leader's process a process-directed signal goes to. */
struct sb_task *sb_thread_for_signal(struct sb_task *leader, int sig);
/* The live thread with this tid (and this tgid when tgid > 0), or NULL. */
struct sb_task *sb_thread_find(struct sb_kernel *k, int64_t tgid, int64_t tid);
/* execve's de_thread: the other threads of *t's process end (with its host
 * process: a new stub and address space for the leader); *t becomes the
 * leader, alone. -1 when no new stub could be made. */
int sb_thread_exec(struct sb_task **t);
/* After execve: when the caller's thread was not the leader, the leader
 * (which carries on) is answered with its new registers. */
void sb_thread_exec_done(struct sb_task *caller, struct sb_task *leader);
/* futex wake of up to n waiters on addr in mm (bitset matching); the count. */
int sb_futex_wake(struct sb_kernel *k, struct sb_mm *mm, uint64_t addr, int n, uint32_t bitset);
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

/* itimer.c: the nearest end of an interval timer (0: none), for the
 * loop's wait; send SIGALRM for those that ended (true: some did). */
unsigned long long sb_itimer_next(const struct sb_kernel *k);
bool sb_itimer_fire(struct sb_kernel *k);

/* fs.c: the absolute path (lexically normalized) a workload path names
 * relative to dirfd or the cwd, into out (SB_PATH_MAX); 0 or -errno. */
int sb_path_abs(struct sb_task *t, uint64_t dirfd, const char *path, char *out);
/* fs.c: `path` (absolute) with ".", ".." and repeated slashes taken out. */
int sb_path_normalize(const char *path, char *out, size_t size);

/* procfs.c: /proc and /dev are the kernel's own, named lexically. */
struct sb_vnode;
/* Before the filter: /dev/tty, the host's cpuinfo and memory size. */
void sb_procfs_init(struct sb_kernel *k, unsigned long long mem_limit);
/* A path under /proc or /dev (kernel's: true). */
bool sb_vfs_owned(struct sb_task *t, uint64_t dirfd, const char *path);
/* open/stat/access/readlink/chdir of a path the kernel may own: 1 when it
 * does not (resolve it in the rootfs, as *real names, the target of a link
 * out of /proc or /dev); else the call's answer. */
long sb_vfs_open(struct sb_task *t, uint64_t dirfd, const char *path, int flags, char *real);
long sb_vfs_stat(struct sb_task *t, uint64_t dirfd, const char *path, bool follow, struct stat *st,
                 char *real);
long sb_vfs_readlink(struct sb_task *t, uint64_t dirfd, const char *path, char *buf, size_t size,
                     size_t *len, char *real);
long sb_vfs_chdir(struct sb_task *t, uint64_t dirfd, const char *path, char *real);
/* fstat and getdents64 of one of the kernel's files. */
long sb_vfs_fstat(struct sb_task *t, const struct sb_file *f, struct stat *st);
long sb_vfs_getdents(struct sb_task *t, struct sb_file *f, uint64_t ubuf, uint64_t len);
/* exec and fork: what /proc/PID shows. */
void sb_proc_exec(struct sb_task *t, const char *exe, char *const *argv);
void sb_proc_fork(struct sb_task *child, const struct sb_task *parent);

/* mount.c: the table from the spec (before the filter); open abs (the
 * workload's path joined to its base) beneath the root, crossing into the
 * table's mounts only (-errno, EXDEV for any other mount); /proc/mounts'
 * lines. */
struct spec;
void sb_mounts_init(struct sb_kernel *k, const struct spec *s);
int sb_mount_open(const struct sb_kernel *k, const char *abs, uint64_t flags, uint64_t mode);
void sb_mounts_list(const struct sb_kernel *k, FILE *f);
/* sb_open_exe with the table: the first program may be beneath a mount. */
int sb_mount_open_exe(const struct sb_kernel *k, const char *path, cerr_t *err);

/* fsops.c: fcntl's record locks (F_GETLK, F_SETLK[W], F_OFD_*). */
long sb_fcntl_lock(struct sb_task *t, struct sb_file *f, int cmd, uint64_t arg);

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
    const struct sb_rlimit *rlim; /* [16]; NULL: the kernel process's own (the first process's) */
};
/* Open an executable beneath the root and check it is one the kernel runs. */
int sb_open_exe(int rootfd, const char *path, cerr_t *err);
/* Make the sandbox's first process: its address space, stub process,
 * program and stack; it waits to be run. sb_task_free undoes it. */
int sb_task_start(struct sb_task *t, struct sb_kernel *k, const struct sb_start *s, cerr_t *err);
/* The same for any new process t (pid, cwd, umask set) whose stdio are
 * copies of the host descriptors stdio[0..2]; not yet in k->task. */
int sb_task_new(struct sb_task *t, const int stdio[3], const struct sb_start *s, cerr_t *err);
/* fork.c: take an ended process out of k->task and free it. */
void sb_task_unlink(struct sb_kernel *k, struct sb_task *c);

/* ctlsock.c: serve the control socket listen_fd (bound by create in the
 * state directory; set up before the filter); its descriptors for the
 * loop's polls (at most SB_CTL_POLLFDS), and the requests and the ends of
 * exec'd processes, handled at the loop's top (where no task pointer is
 * held): after a poll woke (ctl_due), every 10 ms otherwise. */
#define SB_CTL_POLLFDS 17
int sb_ctl_init(struct sb_kernel *k, int listen_fd, cerr_t *err);
int sb_ctl_pollfds(const struct sb_kernel *k, struct pollfd *pf);
void sb_ctl_serve(struct sb_kernel *k);
/* spawn.c: a new process of `cella exec` (the RUN fields of the request,
 * its stdio): its pid, or -1 with *err (code CERR_EXE_MISSING or
 * CERR_EXE_CANNOT_RUN for the program). */
int sb_spawn(struct sb_kernel *k, const uint8_t *run, size_t len, const int stdio[3], cerr_t *err);
/* spawn.c: before the filter, the kernel process's limits, where an exec'd
 * process's start (the request's own then replace them). */
void sb_spawn_init(void);
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
