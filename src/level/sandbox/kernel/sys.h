/* The system calls cella's kernel serves: X(name) for each, served by
 * sb_sys_<name> in the file for its area. syscall.c builds the table. */
#ifndef CELLA_SANDBOX_SYS_H
#define CELLA_SANDBOX_SYS_H

#include "level/sandbox/kernel/kernel.h"

/* clang-format off */
#define SB_SYSCALLS(X) \
    /* fs.c */ \
    X(read) X(write) X(readv) X(writev) X(pread64) X(lseek) X(open) X(openat) X(close) X(fstat) X(newfstatat) X(stat) X(lstat) X(ioctl) X(getcwd) X(getdents64) X(chdir) X(fchdir) X(access) X(faccessat) X(faccessat2) \
    /* fd.c */ \
    X(dup) X(dup2) X(dup3) X(fcntl) X(poll) X(pipe) X(pipe2) \
    /* mmap.c */ \
    X(brk) X(mmap) X(munmap) X(mprotect) \
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
    X(socket) X(bind) X(listen) X(connect) X(accept) X(accept4) X(getsockname) X(getpeername) X(setsockopt) X(getsockopt) X(shutdown) X(sendto) X(recvfrom) X(sendmsg) X(recvmsg) \
    /* epoll.c (signalfd: signalfd.c) */ \
    X(epoll_create) X(epoll_create1) X(epoll_ctl) X(epoll_wait) X(epoll_pwait) X(signalfd) X(signalfd4) \
    /* eventfd.c */ \
    X(eventfd) X(eventfd2) X(timerfd_create) X(timerfd_settime) X(timerfd_gettime) \
    /* time.c */ \
    X(clock_gettime) X(gettimeofday) X(time) X(getrandom) X(nanosleep) X(clock_nanosleep)
/* clang-format on */

#define SB_DECLARE(name) long sb_sys_##name(struct sb_task *t, const uint64_t a[6]);
SB_SYSCALLS(SB_DECLARE)
#undef SB_DECLARE

#endif
