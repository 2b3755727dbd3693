/* The kernel process's own seccomp filter: once the workload runs, cella's
 * kernel may make only these host system calls; any other kills it (and so
 * the sandbox), whatever a workload made it do. docs/sandbox.md says why
 * each is needed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "core/util.h"
#include "level/sandbox/kernel/kernel.h"

/* clang-format off */
static const char *const allowed[] = {
    /* serving the workload's files and standard streams */
    "read", "write", "readv", "writev", "preadv", "pwritev", "pread64", "lseek", "openat2",
    "close", "fstat", "newfstatat", "getdents64", "faccessat2", "poll", "pipe2",
    /* the workload's file tree (fsops.c): always on a directory opened
     * beneath the root and one name, or on a descriptor */
    "mkdirat", "unlinkat", "renameat2", "linkat", "symlinkat", "readlinkat", "fchmod",
    "fchmodat2", "fchown", "fchownat", "fsync", "fdatasync", "syncfs", "utimensat", "fstatfs",
    "statx", "sendfile", "copy_file_range", "flock",
    "getrandom", "clock_gettime", "clock_getres", "gettimeofday", "uname",
    /* memory: the kernel's allocator, the address spaces' memfds */
    "mmap", "munmap", "mprotect", "madvise", "brk", "fallocate", "memfd_create", "ftruncate",
    /* the platform: hand-over with the stubs, new ones from the zygote, their end */
    "futex", "futex_waitv", "wait4",
    /* the workload's sockets (net.c; `socket` itself only for IPv4/IPv6,
     * below), epoll (epoll.c) */
    "bind", "listen", "connect", "accept4", "getsockname", "getpeername", "setsockopt",
    "getsockopt", "shutdown", "sendmsg", "recvmsg", "epoll_create1", "epoll_ctl", "epoll_wait",
    /* the workload's eventfds and timerfds, the eventfd behind a signalfd (eventfd.c, signalfd.c) */
    "eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime",
    /* the kernel's own signals and end */
    "rt_sigreturn", "rt_sigprocmask", "exit", "exit_group",
    /* how the host resumes a timed wait (poll, futex, nanosleep) that a
     * signal from outside or the cgroup freezer interrupted: without it a
     * `cella kill` or `pause` while the loop waits with a timeout is SIGSYS */
    "restart_syscall",
};
/* clang-format on */

const char *sb_kernel_filter_list(void)
{
    static char buf[2048];
    if (buf[0] == '\0')
        for (size_t i = 0, n = 0; i < ARRAY_SIZE(allowed); i++)
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "", allowed[i]);
    return buf;
}

int sb_kernel_filter_install(cerr_t *err)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (ctx == NULL)
        return cerr_set(err, 0, "sandbox kernel filter: seccomp_init");
    int rc = 0;
    for (size_t i = 0; i < ARRAY_SIZE(allowed) && rc == 0; i++) {
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        rc = nr < 0 ? -EINVAL : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    }
    /* ioctl: the two terminal queries sb_sys_ioctl passes on; fcntl: the
     * commands fd.c uses. Nothing else of either. */
    static const struct {
        int nr;
        unsigned long cmd;
    } with_cmd[] = {{SCMP_SYS(ioctl), TCGETS},          {SCMP_SYS(ioctl), TIOCGWINSZ},
                    {SCMP_SYS(fcntl), F_DUPFD_CLOEXEC}, {SCMP_SYS(fcntl), F_GETFL},
                    {SCMP_SYS(fcntl), F_SETFL},         {SCMP_SYS(fcntl), F_OFD_GETLK},
                    {SCMP_SYS(fcntl), F_OFD_SETLK}};
    for (size_t i = 0; i < ARRAY_SIZE(with_cmd) && rc == 0; i++) {
        struct scmp_arg_cmp cmp = {
            .arg = 1, .op = SCMP_CMP_EQ, .datum_a = with_cmd[i].cmd, .datum_b = 0};
        rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, with_cmd[i].nr, 1, &cmp);
    }
    /* socket: the families net.c makes; a Unix socket would name host paths. */
    static const int families[] = {AF_INET, AF_INET6};
    for (size_t i = 0; i < ARRAY_SIZE(families) && rc == 0; i++) {
        struct scmp_arg_cmp cmp = {
            .arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)families[i], .datum_b = 0};
        rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &cmp);
    }
    /* socketpair: an unnamed Unix pair (unixpair.c), reaching only itself. */
    if (rc == 0) {
        struct scmp_arg_cmp cmp = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_UNIX, .datum_b = 0};
        rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1, &cmp);
    }
    /* kill: SIGKILL to a process (a stub's or the zygote's end), never
     * another signal, nor a negative pid: another process group or -1
     * (every process the kernel may signal: without a pid namespace, the
     * host's). The pid is an int: its sign bit, not the register's, says it
     * is negative. (libseccomp takes one comparison per argument: pid 0,
     * the kernel's own group, is left to the code.) */
    if (rc == 0) {
        struct scmp_arg_cmp cmp[] = {
            {.arg = 0, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0x80000000, .datum_b = 0},
            {.arg = 1, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffff, .datum_b = SIGKILL}};
        rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 2, cmp);
    }
    /* tgkill: the kick of one stub thread running the workload's own code
     * (SB_KICK_SIG), never another signal nor a negative thread group. */
    if (rc == 0) {
        struct scmp_arg_cmp cmp[] = {
            {.arg = 0, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0x80000000, .datum_b = 0},
            {.arg = 2, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffff, .datum_b = SB_KICK_SIG}};
        rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 2, cmp);
    }
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc < 0)
        return cerr_set(err, -rc, "sandbox kernel filter: load");
    return 0;
}
