/* The sandbox kernel's own filter (kernel/filter.c) as the last line of
 * defence (issue 10 point 1): whatever a workload made cella's kernel do, a
 * host call outside the allow-list, or an allowed call with arguments
 * outside its rule, kills the kernel process with SIGSYS — and only it: the
 * host (this test's process, the kernel's parent) carries on. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "level/sandbox/kernel/kernel.h"
#include "unit.h"

/* Each case runs in a child under the kernel's filter. */
enum what {
    W_GETPID,
    W_OPENAT,
    W_EXECVE,
    W_PTRACE,
    W_CLONE,
    W_UNSHARE,
    W_MOUNT,
    W_SETNS,
    W_PRCTL,
    W_TIOCSTI,
    W_F_SETOWN,
    W_PACKET,
    W_KILL_ALL,
    W_KILL_PARENT,
    W_KILL_TERM,
    W_KILL_CHILD, /* allowed: SIGKILL to a child (a stub's end) */
};

/* ppid and self: read before the filter (getpid and getppid are not allowed). */
static void make(enum what w, pid_t ppid, pid_t self)
{
    char c = 'x';
    switch (w) {
    case W_GETPID:
        syscall(SYS_getpid);
        break;
    case W_OPENAT: /* openat2 is allowed; openat (no RESOLVE_IN_ROOT) is not */
        syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
        break;
    case W_EXECVE:
        syscall(SYS_execve, "/bin/true", NULL, NULL);
        break;
    case W_PTRACE:
        syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, ppid, 0, 0);
        break;
    case W_CLONE:
        syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
        break;
    case W_UNSHARE:
        syscall(SYS_unshare, CLONE_NEWUSER);
        break;
    case W_MOUNT:
        syscall(SYS_mount, "none", "/", NULL, MS_REMOUNT, NULL);
        break;
    case W_SETNS:
        syscall(SYS_setns, 0, 0);
        break;
    case W_PRCTL:
        syscall(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0);
        break;
    case W_TIOCSTI: /* would type into the host's terminal */
        syscall(SYS_ioctl, 0, TIOCSTI, &c);
        break;
    case W_F_SETOWN: /* would aim SIGIO at a host pid */
        syscall(SYS_fcntl, 1, F_SETOWN, ppid);
        break;
    case W_PACKET:
        syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0);
        break;
    case W_KILL_ALL: /* signal 0: harmless if it were allowed */
        syscall(SYS_kill, -1, 0);
        break;
    case W_KILL_PARENT:
        syscall(SYS_kill, ppid, 0);
        break;
    case W_KILL_TERM:
        syscall(SYS_kill, self, SIGTERM);
        break;
    case W_KILL_CHILD:
        break; /* below: the child is forked before the filter */
    }
}

static void test_kernel_filter_kills(void)
{
    static const struct {
        enum what w;
        const char *name;
        bool killed;
    } cases[] = {
        {W_GETPID, "getpid (not on the list)", true},
        {W_OPENAT, "openat (paths resolve only through openat2)", true},
        {W_EXECVE, "execve", true},
        {W_PTRACE, "ptrace of the host parent", true},
        {W_CLONE, "clone (a fork)", true},
        {W_UNSHARE, "unshare(CLONE_NEWUSER)", true},
        {W_MOUNT, "mount", true},
        {W_SETNS, "setns", true},
        {W_PRCTL, "prctl", true},
        {W_TIOCSTI, "ioctl TIOCSTI", true},
        {W_F_SETOWN, "fcntl F_SETOWN", true},
        {W_PACKET, "socket(AF_PACKET)", true},
        {W_KILL_ALL, "kill(-1, ...): every process the kernel may signal", true},
        {W_KILL_PARENT, "kill of a host process with signal 0", true},
        {W_KILL_TERM, "kill with a signal other than SIGKILL", true},
        {W_KILL_CHILD, "kill(child, SIGKILL): a stub's end", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            pid_t child = 0, ppid = getppid(), self = getpid();
            if (cases[i].w == W_KILL_CHILD && (child = fork()) == 0) {
                for (;;)
                    pause();
            }
            cerr_t err = NULL;
            if (sb_kernel_filter_install(&err) < 0)
                _exit(3);
            if (cases[i].w == W_KILL_CHILD) {
                if (syscall(SYS_kill, child, SIGKILL) != 0)
                    syscall(SYS_exit_group, 4);
                int st;
                if (syscall(SYS_wait4, child, &st, 0, NULL) != child || !WIFSIGNALED(st))
                    syscall(SYS_exit_group, 5);
            }
            make(cases[i].w, ppid, self);
            syscall(SYS_exit_group, 0);
        }
        int st;
        waitpid(pid, &st, 0);
        bool ok = cases[i].killed ? WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS
                                  : WIFEXITED(st) && WEXITSTATUS(st) == 0;
        CHECK(ok);
        printf("# %s: %s %d\n", cases[i].name, WIFSIGNALED(st) ? "killed by signal" : "exit",
               WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    }
    /* The host carries on: this process, which the cases could have named. */
    CHECK(kill(getpid(), 0) == 0);
}

int main(void)
{
    RUN(test_kernel_filter_kills);
    return UNIT_DONE();
}
