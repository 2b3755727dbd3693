/* The system calls cella's kernel serves: X(name) for each, served by
 * sb_sys_<name> in the file for its area. syscall.c builds the table. */
#ifndef CELLA_SANDBOX_SYS_H
#define CELLA_SANDBOX_SYS_H

#include "level/sandbox/kernel/kernel.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* Linux 6.6; older C library headers lack it */
#endif

/* clang-format off */
#define SB_SYSCALLS(X) \
    /* fs.c */ \
    X(read) X(write) X(readv) X(writev) X(pread64) X(pwrite64) X(fadvise64) X(lseek) X(open) X(openat) X(close) X(fstat) X(newfstatat) X(stat) X(lstat) X(ioctl) X(getcwd) X(getdents64) X(chdir) X(fchdir) X(access) X(faccessat) X(faccessat2) \
    /* fsops.c */ \
    X(mkdir) X(mkdirat) X(unlink) X(unlinkat) X(rmdir) X(rename) X(renameat) X(renameat2) X(link) X(linkat) X(symlink) X(symlinkat) X(readlink) X(readlinkat) X(chmod) X(fchmod) X(fchmodat) X(fchmodat2) X(chown) X(lchown) X(fchown) X(fchownat) X(umask) X(truncate) X(ftruncate) X(fsync) X(fdatasync) X(sync) X(syncfs) X(utimensat) X(utimes) X(futimesat) X(utime) X(statfs) X(fstatfs) X(statx) X(creat) X(fallocate) X(sendfile) X(copy_file_range) X(flock) \
    /* procfs.c */ \
    X(sysinfo) X(prctl) \
    /* fd.c */ \
    X(dup) X(dup2) X(dup3) X(fcntl) X(poll) X(pipe) X(pipe2) /* fdrange.c */ X(close_range) \
    /* mmap.c */ \
    X(brk) X(mmap) X(munmap) X(mprotect) /* mem.c */ X(mremap) X(madvise) X(msync) X(mincore) X(mlock) X(mlock2) X(munlock) X(mlockall) X(munlockall) /* rlimit.c */ X(getrlimit) X(setrlimit) X(prlimit64) \
    /* process.c */ \
    X(exit) X(exit_group) X(getpid) X(gettid) X(getuid) X(geteuid) X(getgid) X(getegid) X(uname) X(arch_prctl) X(set_tid_address) \
    /* exec.c */ \
    X(execve) \
    /* fork.c */ \
    X(fork) X(vfork) X(clone) X(wait4) X(getppid) \
    /* signal.c */ \
    X(rt_sigaction) X(rt_sigprocmask) X(rt_sigreturn) X(rt_sigsuspend) X(rt_sigtimedwait) X(pause) X(kill) X(tkill) X(tgkill) X(rt_sigpending) \
    /* sigstack.c */ \
    X(sigaltstack) \
    /* pgrp.c */ \
    X(setpgid) X(getpgid) X(getpgrp) X(getsid) X(setsid) \
    /* net.c */ \
    X(socket) X(bind) X(listen) X(connect) X(accept) X(accept4) X(getsockname) X(getpeername) X(setsockopt) X(getsockopt) X(shutdown) X(sendto) X(recvfrom) X(sendmsg) X(recvmsg) /* unixpair.c */ X(socketpair) \
    /* epoll.c (signalfd: signalfd.c) */ \
    X(epoll_create) X(epoll_create1) X(epoll_ctl) X(epoll_wait) X(epoll_pwait) X(signalfd) X(signalfd4) \
    /* eventfd.c */ \
    X(eventfd) X(eventfd2) X(timerfd_create) X(timerfd_settime) X(timerfd_gettime) \
    /* time.c */ \
    X(clock_gettime) X(gettimeofday) X(time) X(getrandom) X(nanosleep) X(clock_nanosleep) X(clock_getres) \
    /* itimer.c */ \
    X(alarm) X(setitimer) X(getitimer) \
    /* xattr.c */ \
    X(getxattr) X(lgetxattr) X(fgetxattr) X(listxattr) X(llistxattr) X(flistxattr) X(setxattr) X(lsetxattr) X(fsetxattr) X(removexattr) X(lremovexattr) X(fremovexattr) \
    /* thread.c */ \
    X(clone3) X(futex) X(set_robust_list) X(get_robust_list) X(sched_yield) X(sched_getaffinity)
/* clang-format on */

#define SB_DECLARE(name) long sb_sys_##name(struct sb_task *t, const uint64_t a[6]);
SB_SYSCALLS(SB_DECLARE)
#undef SB_DECLARE

#endif
