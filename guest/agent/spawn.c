/* RUN: decode the process's fields, fork, set the child up (session,
 * hostname, rlimits, umask, groups and ids, no_new_privs, cwd) and exec it
 * with stdio on pipes to the agent, or with a TTY field on a new pty whose
 * master the agent keeps (the session's controlling terminal). A close-on-exec error pipe tells the
 * parent whether the exec happened, so that the host gets STARTED or one
 * ERROR line naming what failed, never both. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* What the process gets when its environment has no PATH (runc's). */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct rlim {
    int resource;
    struct rlimit lim;
};

struct run_spec {
    char **argv, **envp; /* NULL-terminated */
    size_t argc, envc;
    char *cwd, *hostname;
    char **sysctls; /* "key=value" */
    size_t nsysctls;
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    size_t ngroups;
    struct rlim *rlimits;
    size_t nrlimits;
    long umask; /* -1: 022 */
    int no_new_privs;
    int tty; /* a TTY field came: rows x cols */
    uint16_t rows, cols;
};

static void spec_free(struct run_spec *s)
{
    for (size_t i = 0; i < s->argc; i++)
        free(s->argv[i]);
    for (size_t i = 0; i < s->envc; i++)
        free(s->envp[i]);
    free(s->argv);
    free(s->envp);
    free(s->cwd);
    free(s->hostname);
    for (size_t i = 0; i < s->nsysctls; i++)
        free(s->sysctls[i]);
    free(s->sysctls);
    free(s->groups);
    free(s->rlimits);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static void *grow(void *arr, size_t n, size_t elem)
{
    void *a = realloc(arr, (n + 2) * elem);
    if (a == NULL)
        fatal("out of memory decoding RUN");
    return a;
}

static char *field_str(const uint8_t *p, uint32_t n)
{
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        fatal("out of memory decoding RUN");
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Append a string field to a NULL-terminated list. */
static void push_str(char ***list, size_t *n, const uint8_t *p, uint32_t len)
{
    *list = grow(*list, *n, sizeof(char *));
    (*list)[(*n)++] = field_str(p, len);
    (*list)[*n] = NULL;
}

static const char *field_name(uint16_t tag)
{
    static const char *names[] = {
        [AGENT_F_ARG] = "ARG",       [AGENT_F_ENV] = "ENV",
        [AGENT_F_CWD] = "CWD",       [AGENT_F_UID] = "UID",
        [AGENT_F_GID] = "GID",       [AGENT_F_GROUP] = "GROUP",
        [AGENT_F_RLIMIT] = "RLIMIT", [AGENT_F_HOSTNAME] = "HOSTNAME",
        [AGENT_F_UMASK] = "UMASK",   [AGENT_F_NO_NEW_PRIVS] = "NO_NEW_PRIVS",
        [AGENT_F_TTY] = "TTY",       [AGENT_F_SYSCTL] = "SYSCTL"};
    return tag < sizeof(names) / sizeof(names[0]) && names[tag] ? names[tag] : "?";
}

static int decode_field(struct run_spec *s, uint16_t tag, const uint8_t *p, uint32_t n, char *err,
                        size_t errlen)
{
    static const uint32_t sizes[] = {
        [AGENT_F_UID] = 4,   [AGENT_F_GID] = 4,          [AGENT_F_GROUP] = 4, [AGENT_F_RLIMIT] = 24,
        [AGENT_F_UMASK] = 4, [AGENT_F_NO_NEW_PRIVS] = 0, [AGENT_F_TTY] = 4};
    int is_string = tag == AGENT_F_ARG || tag == AGENT_F_ENV || tag == AGENT_F_CWD ||
                    tag == AGENT_F_HOSTNAME || tag == AGENT_F_SYSCTL;
    if (is_string && memchr(p, '\0', n))
        return fail(err, errlen, "RUN: field %s contains a NUL byte", field_name(tag));
    if (!is_string && tag < sizeof(sizes) / sizeof(sizes[0]) && n != sizes[tag])
        return fail(err, errlen, "RUN: field %s: expected %u bytes, got %u", field_name(tag),
                    sizes[tag], n);
    switch (tag) {
    case AGENT_F_ARG:
        push_str(&s->argv, &s->argc, p, n);
        break;
    case AGENT_F_ENV:
        push_str(&s->envp, &s->envc, p, n);
        break;
    case AGENT_F_CWD:
        if (n == 0 || p[0] != '/')
            return fail(err, errlen, "RUN: field CWD: `%.*s' is not absolute", (int)n, p);
        free(s->cwd);
        s->cwd = field_str(p, n);
        break;
    case AGENT_F_HOSTNAME:
        free(s->hostname);
        s->hostname = field_str(p, n);
        break;
    case AGENT_F_SYSCTL:
        push_str(&s->sysctls, &s->nsysctls, p, n);
        break;
    case AGENT_F_UID:
        s->uid = agent_get_u32(p);
        break;
    case AGENT_F_GID:
        s->gid = agent_get_u32(p);
        break;
    case AGENT_F_GROUP:
        s->groups = grow(s->groups, s->ngroups, sizeof(gid_t));
        s->groups[s->ngroups++] = agent_get_u32(p);
        break;
    case AGENT_F_RLIMIT:
        s->rlimits = grow(s->rlimits, s->nrlimits, sizeof(struct rlim));
        s->rlimits[s->nrlimits++] = (struct rlim){
            (int)agent_get_u32(p), {(rlim_t)agent_get_u64(p + 8), (rlim_t)agent_get_u64(p + 16)}};
        break;
    case AGENT_F_UMASK:
        s->umask = agent_get_u32(p) & 07777;
        break;
    case AGENT_F_NO_NEW_PRIVS:
        s->no_new_privs = 1;
        break;
    case AGENT_F_TTY:
        s->tty = 1;
        s->rows = (uint16_t)(p[0] | p[1] << 8);
        s->cols = (uint16_t)(p[2] | p[3] << 8);
        break;
    default:
        /* A field this agent does not know may be a restriction: refuse
         * rather than run the process without it. */
        return fail(err, errlen, "RUN: unknown field %u (the host is newer than this agent)", tag);
    }
    return 0;
}

static int decode(struct run_spec *s, const uint8_t *payload, size_t len, char *err, size_t errlen)
{
    *s = (struct run_spec){.umask = -1};
    size_t off = 0;
    uint16_t tag;
    const uint8_t *p;
    uint32_t n;
    int r;
    while ((r = agent_next_field(payload, len, &off, &tag, &p, &n)) == 1)
        if (decode_field(s, tag, p, n, err, errlen) < 0)
            return -1;
    if (r < 0)
        return fail(err, errlen, "RUN: malformed field at byte %zu of %zu", off, len);
    if (s->argc == 0)
        return fail(err, errlen, "RUN: no ARG field (the process needs args[0])");
    if (s->envp == NULL)
        s->envp = calloc(1, sizeof(char *));
    return 0;
}

/* ---- in the child ---- */

/* Tell the parent what failed and die: the message is one write of less
 * than PIPE_BUF, so it arrives whole. */
static _Noreturn void child_fail(int errfd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void child_fail(int errfd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(msg) - 1)
        n = (int)sizeof(msg) - 1;
    ssize_t w = write(errfd, msg, (size_t)n);
    (void)w;
    _exit(127);
}

static const char *env_get(char **envp, const char *name)
{
    size_t n = strlen(name);
    for (; *envp; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

/* execvpe with the *process's* PATH (not the agent's), as runc looks
 * args[0] up. Returns only on failure. */
static void exec_path(int errfd, char **argv, char **envp)
{
    const char *name = argv[0];
    if (strchr(name, '/')) {
        execve(name, argv, envp);
        child_fail(errfd, "exec %s: %s", name, strerror(errno));
    }
    const char *path = env_get(envp, "PATH");
    if (path == NULL)
        path = DEFAULT_PATH;
    int denied = 0;
    for (const char *dir = path;; dir++) {
        const char *end = strchrnul(dir, ':');
        char full[PATH_MAX];
        int len = end == dir ? snprintf(full, sizeof(full), "%s", name)
                             : snprintf(full, sizeof(full), "%.*s/%s", (int)(end - dir), dir, name);
        if (len < (int)sizeof(full)) {
            execve(full, argv, envp);
            if (errno == EACCES)
                denied = 1;
            else if (errno != ENOENT && errno != ENOTDIR)
                child_fail(errfd, "exec %s: %s", full, strerror(errno));
        }
        if (*end == '\0')
            break;
        dir = end;
    }
    if (denied)
        child_fail(errfd, "exec %s: %s (in PATH=%s)", name, strerror(EACCES), path);
    child_fail(errfd, "exec %s: not found in PATH=%s", name, path);
}

/* "net.ipv4.ping_group_range=0 0" -> /proc/sys/net/ipv4/ping_group_range
 * (the host checked the name: no '/', no ".."). */
static void apply_sysctl(int errfd, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL)
        child_fail(errfd, "sysctl %s: no value", kv);
    char path[512];
    int n = snprintf(path, sizeof(path), "/proc/sys/%.*s", (int)(eq - kv), kv);
    if (n < 0 || (size_t)n >= sizeof(path))
        child_fail(errfd, "sysctl %.*s: name too long", (int)(eq - kv), kv);
    for (char *c = path + 10; *c; c++)
        if (*c == '.')
            *c = '/';
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    size_t len = strlen(eq + 1);
    if (fd < 0 || write(fd, eq + 1, len) != (ssize_t)len)
        child_fail(errfd, "sysctl %.*s: %s", (int)(eq - kv), kv, strerror(errno));
    close(fd);
}

static _Noreturn void child(const struct run_spec *s, uint32_t id, int errfd, int in, int out,
                            int err)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    /* 0-2 are taken (the console), so the pipes are above them and dup2
     * never hits its own source. dup2 clears close-on-exec. */
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        child_fail(errfd, "dup2 stdio: %s", strerror(errno));
    if (setsid() < 0)
        child_fail(errfd, "setsid: %s", strerror(errno));
    /* A terminal's slave is on 0, 1 and 2: the new session's terminal. */
    if (s->tty && ioctl(0, TIOCSCTTY, 0) < 0)
        child_fail(errfd, "make the pty the controlling terminal: %s", strerror(errno));
    if (id == 0 && s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
        child_fail(errfd, "sethostname %s: %s", s->hostname, strerror(errno));
    for (size_t i = 0; id == 0 && i < s->nsysctls; i++)
        apply_sysctl(errfd, s->sysctls[i]);
    for (size_t i = 0; i < s->nrlimits; i++)
        if (setrlimit(s->rlimits[i].resource, &s->rlimits[i].lim) < 0)
            child_fail(errfd, "setrlimit %d (soft %llu, hard %llu): %s", s->rlimits[i].resource,
                       (unsigned long long)s->rlimits[i].lim.rlim_cur,
                       (unsigned long long)s->rlimits[i].lim.rlim_max, strerror(errno));
    umask(s->umask < 0 ? 022 : (mode_t)s->umask);
    /* Groups before the gid, the gid before the uid: each needs root. */
    if (setgroups(s->ngroups, s->groups) < 0)
        child_fail(errfd, "setgroups: %s", strerror(errno));
    if (setgid(s->gid) < 0)
        child_fail(errfd, "setgid %u: %s", (unsigned)s->gid, strerror(errno));
    if (setuid(s->uid) < 0)
        child_fail(errfd, "setuid %u: %s", (unsigned)s->uid, strerror(errno));
    if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail(errfd, "no_new_privs: %s", strerror(errno));
    /* As the process's user: a directory it cannot enter is its error. */
    const char *cwd = s->cwd ? s->cwd : "/";
    if (chdir(cwd) < 0)
        child_fail(errfd, "chdir %s: %s", cwd, strerror(errno));
    exec_path(errfd, s->argv, s->envp);
    _exit(127);
}

/* ---- in the agent ---- */

static void close_fds(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* The message the child left on the error pipe ("" when it exec'ed). */
static void read_child_error(int fd, char *err, size_t errlen)
{
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, err + got, errlen - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (got += (size_t)r) == errlen - 1)
            break;
    }
    err[got] = '\0';
}

/* A new pty for a TTY process: fds[0] its master (the agent's), fds[1] the
 * slave for the child's 0, 1, 2 (fds[2], fds[3] stay -1: no stderr pipe). */
static int open_pty(const struct run_spec *s, int *fds, char *err, size_t errlen)
{
    fds[0] = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fds[0] < 0)
        return fail(err, errlen, "open /dev/ptmx: %s", strerror(errno));
    if (unlockpt(fds[0]) < 0)
        return fail(err, errlen, "unlockpt: %s", strerror(errno));
    fds[1] = ioctl(fds[0], TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fds[1] < 0)
        return fail(err, errlen, "open the pty's slave: %s", strerror(errno));
    if (s->rows || s->cols) {
        struct winsize ws = {.ws_row = s->rows, .ws_col = s->cols};
        ioctl(fds[1], TIOCSWINSZ, &ws);
    }
    return 0;
}

int spawn(struct proc *p, const uint8_t *payload, size_t len, char *err, size_t errlen)
{
    struct run_spec s;
    int rc = decode(&s, payload, len, err, errlen);
    /* in[0], in[1], out[0], out[1], err[0], err[1], errpipe[0], errpipe[1];
     * a terminal: master, slave, -1, -1, ... */
    int fds[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    if (rc == 0 && s.tty)
        rc = open_pty(&s, fds, err, errlen);
    for (int i = s.tty ? 3 : 0; rc == 0 && i < 4; i++)
        if (pipe2(fds + 2 * i, O_CLOEXEC) < 0)
            rc = fail(err, errlen, "pipe: %s", strerror(errno));
    pid_t pid = rc == 0 ? fork() : -1;
    if (rc == 0 && pid < 0)
        rc = fail(err, errlen, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (s.tty)
            child(&s, p->id, fds[7], fds[1], fds[1], fds[1]);
        child(&s, p->id, fds[7], fds[0], fds[3], fds[5]);
    }
    int tty = s.tty;
    spec_free(&s);
    if (rc < 0) {
        close_fds(fds, 8);
        return -1;
    }
    int child_ends[] = {tty ? fds[1] : fds[0], fds[3], fds[5], fds[7]};
    close_fds(child_ends, 4);
    read_child_error(fds[6], err, errlen);
    close(fds[6]);
    if (err[0]) {
        waitpid(pid, NULL, 0);
        int ours[] = {tty ? fds[0] : fds[1], fds[2], fds[4]};
        close_fds(ours, 3);
        return -1;
    }
    p->pid = pid;
    p->tty = tty;
    if (tty) {
        /* Input and output are the master: two fds, so that the loop tells
         * its POLLOUT from its POLLIN by the fd. */
        p->out = fds[0];
        p->in = fcntl(fds[0], F_DUPFD_CLOEXEC, 3);
        if (p->in < 0)
            alog("process %u: dup of its pty: %s (its input is dropped)", p->id, strerror(errno));
    } else {
        p->in = fds[1];
        p->out = fds[2];
        p->err = fds[4];
        set_nonblock(p->err);
    }
    if (p->in >= 0)
        set_nonblock(p->in);
    set_nonblock(p->out);
    return 0;
}
