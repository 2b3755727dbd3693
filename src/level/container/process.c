#define _GNU_SOURCE
#include "level/container/process.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "core/util.h"
#include "level/terminal.h"

static const char *env_get(char **env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

/* HOME from the container's /etc/passwd, "/" when absent. */
static char *home_for(uid_t uid)
{
    FILE *f = fopen("/etc/passwd", "re");
    char line[1024];
    char *home = NULL;
    while (f != NULL && home == NULL && fgets(line, sizeof(line), f) != NULL) {
        char *fields[7] = {0};
        char *save = NULL, *s = line;
        int n = 0;
        for (char *t; n < 7 && (t = strsep(&s, ":")) != NULL;)
            fields[n++] = t;
        (void)save;
        if (n >= 6 && fields[2] && (uid_t)strtoul(fields[2], NULL, 10) == uid)
            home = xstrdup(fields[5]);
    }
    if (f != NULL)
        fclose(f);
    return home ? home : xstrdup("/");
}

/* runc's rule (Go's exec.LookPath): a program is anything but a directory
 * with an execute bit; what a run function reads (a module) is readable. */
static int usable(const char *path, int mode)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -1;
    if (mode == R_OK)
        return access(path, R_OK);
    if (S_ISDIR(st.st_mode) || (st.st_mode & 0111) == 0) {
        errno = EACCES;
        return -1;
    }
    return 0;
}

/* runc's words end in Go's errno text, strerror's with a lower-case first
 * letter; engines match them case-sensitively (Docker's CLI makes "no such
 * file or directory" exit 127 and "permission denied" 126). */
static int exec_error(cerr_t *err, int e, const char *name, bool with_stat)
{
    if (*err != NULL)
        return -1;
    char text[128];
    snprintf(text, sizeof(text), "%s", strerror(e));
    text[0] = (char)tolower((unsigned char)text[0]);
    if (with_stat)
        cerr_set(err, 0, "process.args[0]: exec: \"%s\": stat %s: %s", name, name, text);
    else
        cerr_set(err, 0, "process.args[0]: exec: \"%s\": %s", name, text);
    (*err)->errnum = e;
    return -1;
}

/* mode: X_OK for a program, R_OK for what a run function reads (a module).
 * The messages are runc's, so that a missing or unusable program is
 * reported by create in the same words. */
static char *find_exe(const char *name, const char *path, int mode, cerr_t *err)
{
    if (strchr(name, '/') != NULL) {
        if (usable(name, mode) == 0)
            return xstrdup(name);
        exec_error(err, errno, name, errno == ENOENT || errno == ENOTDIR);
        return NULL;
    }
    autofree char *copy = xstrdup(path ? path : PROC_DEFAULT_PATH);
    char *s = copy;
    for (char *dir; (dir = strsep(&s, ":")) != NULL;) {
        char *cand = xasprintf("%s/%s", dir[0] ? dir : ".", name);
        if (usable(cand, mode) == 0)
            return cand;
        free(cand);
    }
    /* runc's words: podman reads "executable file not found in" as exit 127. */
    cerr_set(err, 0, "process.args[0]: exec: \"%s\": executable file not found in $PATH", name);
    return NULL;
}

/* As runc, once the process has its user: the program is executable by it
 * (not on a noexec mount, not denied to its uid), so that create says so. */
static int check_exe_access(const struct proc_plan *plan, cerr_t *err)
{
    if (faccessat(AT_FDCWD, plan->exe, plan->run ? R_OK : X_OK, AT_EACCESS) < 0)
        return exec_error(err, errno, plan->exe, false);
    return 0;
}

int proc_plan_make(const struct spec_process *p, const struct spec_seccomp *sc, proc_run_fn run,
                   struct proc_plan *plan, cerr_t *err)
{
    memset(plan, 0, sizeof(*plan));
    plan->p = p;
    plan->run = run;
    plan->listener_sock = -1;
    if (p->args.n == 0)
        return cerr_set(err, 0, "process.args: must not be empty");
    if (spec_refuse_unsupported(&p->unsupported, err) < 0)
        return -1;
    if (caps_parse(&p->caps, "process.capabilities", &plan->caps, err) < 0)
        return -1;
    if (sc != NULL && sc->present) {
        if (seccomp_compile(sc, &plan->seccomp, err) < 0)
            return -1;
        plan->has_seccomp = true;
    }
    size_t n = p->env.n;
    plan->envp = calloc(n + 3, sizeof(char *));
    if (plan->envp == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        plan->envp[i] = xstrdup(p->env.v[i]);
    if (env_get(plan->envp, "HOME") == NULL) {
        autofree char *home = home_for(p->user.uid);
        plan->envp[n++] = xasprintf("HOME=%s", home);
    }
    plan->exe = find_exe(p->args.v[0], env_get(plan->envp, "PATH"), run ? R_OK : X_OK, err);
    return plan->exe ? 0 : -1;
}

void proc_plan_setenv(struct proc_plan *plan, const char *kv)
{
    size_t n = 0, klen = strcspn(kv, "=");
    for (; plan->envp[n]; n++) {
        if (strncmp(plan->envp[n], kv, klen) == 0 && plan->envp[n][klen] == '=') {
            free(plan->envp[n]);
            plan->envp[n] = xstrdup(kv);
            return;
        }
    }
    char **nv = realloc(plan->envp, (n + 2) * sizeof(char *));
    if (nv == NULL)
        abort();
    plan->envp = nv;
    nv[n] = xstrdup(kv);
    nv[n + 1] = NULL;
}

/* sched_setattr(2)'s argument, the first version (SCHED_ATTR_SIZE_VER0):
 * glibc has no wrapper and the uapi header clashes with <sched.h>. */
struct sched_attr_v0 {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
};

/* Before the user switch: a real-time policy needs CAP_SYS_NICE (or
 * RLIMIT_RTPRIO), which the process may not keep. */
static int apply_sched(const struct spec_process *p, cerr_t *err)
{
    if (!p->has_sched)
        return 0;
    struct sched_attr_v0 a = {.size = sizeof(a),
                              .policy = p->sched_policy,
                              .flags = p->sched_flags,
                              .nice = p->sched_nice,
                              .priority = p->sched_priority,
                              .runtime = p->sched_runtime,
                              .deadline = p->sched_deadline,
                              .period = p->sched_period};
    if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
        return cerr_set(err, errno, "process.scheduler: sched_setattr (policy %u)", a.policy);
    return 0;
}

int proc_apply_privileged(const struct proc_plan *plan, cerr_t *err)
{
    const struct spec_process *p = plan->p;
    for (size_t i = 0; i < p->n_rlimits; i++) {
        struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
        if (setrlimit(p->rlimits[i].resource, &rl) < 0)
            return cerr_set(err, errno, "process.rlimits[%zu]: setrlimit %s", i,
                            p->rlimits[i].type);
    }
    if (p->has_oom_score_adj) {
        char v[16];
        snprintf(v, sizeof(v), "%d", p->oom_score_adj);
        if (write_knob("/proc/self/oom_score_adj", v, err) < 0)
            return cerr_wrap(err, "process.oomScoreAdj");
    }
    /* ioprio_set(IOPRIO_WHO_PROCESS, self, class << IOPRIO_CLASS_SHIFT | level) */
    if (p->has_ioprio &&
        syscall(SYS_ioprio_set, 1, 0, (p->ioprio_class << 13) | p->ioprio_level) < 0)
        return cerr_set(err, errno, "process.ioPriority: ioprio_set");
    if (apply_sched(p, err) < 0)
        return -1;
    return caps_drop_bounding(&plan->caps, err);
}

int proc_apply_personality(const struct spec_linux *l, cerr_t *err)
{
    if (l->has_personality && personality(l->personality) < 0)
        return cerr_set(err, errno, "linux.personality: personality(0x%lx)", l->personality);
    return 0;
}

int proc_apply_mempolicy(const struct spec_linux *l, cerr_t *err)
{
    if (!l->has_mempolicy)
        return 0;
    bool any = false;
    for (size_t i = 0; i < SPEC_NODE_WORDS; i++)
        any = any || l->mempolicy_nodes[i] != 0;
    /* the kernel reads maxnode - 1 bits */
    if (syscall(SYS_set_mempolicy, l->mempolicy_mode, any ? l->mempolicy_nodes : NULL,
                any ? SPEC_NODE_WORDS * 64 + 1 : 0) < 0)
        return cerr_set(err, errno, "linux.memoryPolicy: set_mempolicy(mode 0x%x)",
                        (unsigned)l->mempolicy_mode);
    return 0;
}

int proc_apply_user(const struct proc_plan *plan, cerr_t *err)
{
    const struct spec_user *u = &plan->p->user;
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return cerr_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
    if (!plan->keep_groups && setgroups(u->n_additional_gids, u->additional_gids) < 0 &&
        errno != EPERM)
        return cerr_set(err, errno, "setgroups (process.user.additionalGids)");
    if (setresgid(u->gid, u->gid, u->gid) < 0)
        return cerr_set(err, errno, "setgid %u (process.user.gid)", u->gid);
    if (setresuid(u->uid, u->uid, u->uid) < 0)
        return cerr_set(err, errno, "setuid %u (process.user.uid)", u->uid);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return cerr_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
    if (u->has_umask)
        umask(u->umask);
    else
        umask(022);
    return check_exe_access(plan, err);
}

/* Load the filter; a notification listener is handed to cella at once
 * (which passes it on to linux.seccomp.listenerPath while we go on): every
 * syscall from here on may wait for the agent. The listener is not closed:
 * that could be such a syscall; it is close-on-exec. */
static int install_seccomp(const struct proc_plan *plan, cerr_t *err)
{
    int listener = -1;
    if (seccomp_install_listener(&plan->seccomp, &listener, err) < 0)
        return -1;
    if (listener < 0)
        return 0;
    if (plan->listener_sock < 0)
        return cerr_set(err, 0, "linux.seccomp.listenerPath: nobody to receive the listener");
    if (send_fd_msg(plan->listener_sock, listener, "F", 1) < 0)
        return cerr_set(err, errno, "linux.seccomp.listenerPath: hand the listener to cella");
    return 0;
}

/* Dispositions and the blocked mask survive execve: the container's process
 * starts with the defaults whatever its caller ignored or blocked (conmon
 * ignores SIGPIPE), as runc's. Before the filter: these are our syscalls. */
/* Default dispositions and an empty mask, whatever cella's caller ignored or
 * blocked (execve keeps ignored signals ignored). The C library refuses to
 * touch its own two (32, 33: SIGCANCEL, SIGSETXID) through sigaction; a
 * caller may still have ignored them, so before an execve the kernel's call
 * resets them too. Not before a level's in-process run (wasm, sandbox): the
 * C library still needs them there, and its workload does not inherit them. */
static void reset_signals(bool before_execve)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    struct {
        uint64_t handler, flags, restorer, mask;
    } kdfl = {0}; /* the kernel's struct sigaction on x86-64: SIG_DFL is 0 */
    sigset_t none;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (sigaction(sig, &dfl, NULL) < 0 && before_execve)
            syscall(SYS_rt_sigaction, sig, &kdfl, NULL, sizeof(kdfl.mask));
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int proc_exec(const struct proc_plan *plan, cerr_t *err)
{
    const struct spec_process *p = plan->p;
    reset_signals(plan->run == NULL);
    /* Every container process leads a session of its own, as runc's do
     * (nsexec's setsid): a terminal's signals to the caller's process group
     * do not reach it, and /dev/tty is not the caller's. A process with a
     * terminal already leads one (EPERM). Before the filter: it may deny it. */
    if (setsid() < 0 && errno != EPERM)
        return cerr_set(err, errno, "setsid");
    if (p->cwd != NULL && chdir(p->cwd) < 0)
        return cerr_set(err, errno, "process.cwd: chdir `%s`", p->cwd);
    if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return cerr_set(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the
     * final capability sets may lack: load it first, as runc does (the filter
     * must then allow capset and execve). With no_new_privs, load it last. */
    if (plan->has_seccomp && !p->no_new_privileges &&
        (caps_raise_effective(err) < 0 || install_seccomp(plan, err) < 0))
        return -1;
    if (caps_apply(&plan->caps, err) < 0)
        return -1;
    if (plan->has_seccomp && p->no_new_privileges && install_seccomp(plan, err) < 0)
        return -1;
    if (plan->before_exec != NULL && plan->before_exec(plan, err) < 0)
        return -1;
    if (plan->run != NULL)
        return plan->run(plan, err);
    execve(plan->exe, p->args.v, plan->envp);
    return cerr_set(err, errno, "exec `%s`", plan->exe);
}

int send_fd(int sock, int fd, cerr_t *err)
{
    if (send_fd_msg(sock, fd, "F", 1) < 0)
        return cerr_set(err, errno, "send terminal to the console socket");
    return 0;
}

int recv_fd(int sock, cerr_t *err)
{
    int fd = recv_fd_msg(sock);
    if (fd < 0)
        return cerr_set(err, errno, "receive terminal fd");
    return fd;
}

int proc_setup_terminal(const struct spec_process *p, int sock, cerr_t *err)
{
    int slave;
    int master = terminal_open(p->console_height, p->console_width, &slave, err);
    if (master < 0)
        return -1;
    int r = -1;
    if (send_fd(sock, master, err) < 0) {
        close(slave);
        goto out;
    }
    if (setsid() < 0 && errno != EPERM) {
        cerr_set(err, errno, "setsid");
        close(slave);
        goto out;
    }
    if (ioctl(slave, TIOCSCTTY, 0) < 0) {
        cerr_set(err, errno, "make the pty the controlling terminal");
        close(slave);
        goto out;
    }
    if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0) {
        cerr_set(err, errno, "dup2 pty");
        close(slave);
        goto out;
    }
    if (slave > 2)
        close(slave);
    r = 0;
out:
    close(master);
    return r;
}
