/* A new process from outside the sandbox: `cella exec`'s (ctlsock.c). It is
 * a sandbox process like any other — its own address space, stub process
 * and sandbox pid, the program loaded and served by this kernel, never a
 * host process beside it — with the request's arguments, environment and
 * cwd and the caller's stdio. It has no parent in the sandbox, as a
 * process that entered the pid namespace from outside (runc's exec) or
 * one runsc's exec starts: getppid is 0, the kernel reaps it, and its
 * orphans go to the first process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "level/container/process.h"
#include "level/sandbox/kernel/kernel.h"
#include "proto/protocol.h"

/* The kernel process's limits (the spec's), read before its filter. */
static struct sb_rlimit rlim0[16];

void sb_spawn_init(void)
{
    struct sb_mm mm;
    sb_rlimit_init(&mm);
    memcpy(rlim0, mm.rlim, sizeof(rlim0));
}

struct request {
    char **argv, **envp; /* NULL-terminated */
    struct sb_rlimit rlim[16];
    size_t argc, envc;
    char *cwd;
    uint32_t uid, gid, umask;
    bool has_umask;
};

static void request_free(struct request *r)
{
    for (size_t i = 0; i < r->argc; i++)
        free(r->argv[i]);
    for (size_t i = 0; i < r->envc; i++)
        free(r->envp[i]);
    free(r->argv);
    free(r->envp);
    free(r->cwd);
}

static int push(char ***v, size_t *n, const uint8_t *p, uint32_t len)
{
    char **nv = realloc(*v, (*n + 2) * sizeof(char *));
    if (nv == NULL)
        return -1;
    *v = nv;
    if ((nv[*n] = strndup((const char *)p, len)) == NULL)
        return -1;
    nv[++*n] = NULL;
    return 0;
}

/* The RUN fields (proto/protocol.h) of the request; those with no meaning
 * in the sandbox (groups; no_new_privs: nothing in it gains privileges)
 * are passed over. */
static int parse(const uint8_t *run, size_t len, struct request *r, cerr_t *err)
{
    size_t off = 0;
    uint16_t tag;
    const uint8_t *p;
    uint32_t n;
    int got;
    while ((got = agent_next_field(run, len, &off, &tag, &p, &n)) > 0) {
        int bad = 0;
        if (tag == AGENT_F_ARG)
            bad = push(&r->argv, &r->argc, p, n);
        else if (tag == AGENT_F_ENV)
            bad = push(&r->envp, &r->envc, p, n);
        else if (tag == AGENT_F_CWD) {
            free(r->cwd);
            bad = (r->cwd = strndup((const char *)p, n)) == NULL ? -1 : 0;
        } else if ((tag == AGENT_F_UID || tag == AGENT_F_GID || tag == AGENT_F_UMASK) && n == 4) {
            uint32_t v = agent_get_u32(p);
            *(tag == AGENT_F_UID ? &r->uid : tag == AGENT_F_GID ? &r->gid : &r->umask) = v;
            r->has_umask |= tag == AGENT_F_UMASK;
        } else if (tag == AGENT_F_RLIMIT && n == 24 && agent_get_u32(p) < 16) {
            struct sb_rlimit l = {agent_get_u64(p + 8), agent_get_u64(p + 16)};
            if (l.cur > l.max)
                return cerr_set(err, EINVAL, "exec: process.rlimits: soft above hard");
            r->rlim[agent_get_u32(p)] = l;
        }
        if (bad < 0)
            return cerr_set(err, ENOMEM, "exec");
    }
    if (got < 0)
        return cerr_set(err, 0, "exec: a malformed request");
    if (r->argc == 0)
        return cerr_set(err, 0, "exec: process.args: must not be empty");
    if (r->envp == NULL && (r->envp = calloc(1, sizeof(char *))) == NULL)
        return cerr_set(err, ENOMEM, "exec");
    return 0;
}

/* The program at abs (normalized): open and checked as the first one's, the
 * error's kind CERR_EXE_MISSING (127) or CERR_EXE_CANNOT_RUN (126). */
static int open_exe(struct sb_task *t, const char *abs, cerr_t *err)
{
    int fd = sb_mount_open_exe(t->k, abs, err);
    if (fd < 0) {
        int e = (*err)->errnum;
        (*err)->code = e == ENOENT || e == ENOTDIR ? CERR_EXE_MISSING : CERR_EXE_CANNOT_RUN;
        return -1;
    }
    char interp[SB_PATH_MAX];
    int ifd;
    if (sb_interp_open(t, t->k->rootfd, fd, abs, interp, &ifd, err) < 0) {
        if ((*err)->code != CERR_EXE_MISSING)
            (*err)->code = CERR_EXE_CANNOT_RUN;
        close(fd);
        return -1;
    }
    if (ifd >= 0)
        close(ifd);
    return fd;
}

/* args[0] as execvp finds it: a path with a slash from the cwd, a bare name
 * on the process's PATH. The program's fd, its path into path. */
static int find_exe(struct sb_task *t, const struct request *r, char path[SB_PATH_MAX], cerr_t *err)
{
    const char *name = r->argv[0];
    char joined[SB_PATH_MAX * 2];
    if (strchr(name, '/') != NULL) {
        int n = snprintf(joined, sizeof(joined), "%s/%s", name[0] == '/' ? "" : t->cwd, name);
        if (n < 0 || (size_t)n >= sizeof(joined) ||
            sb_path_normalize(joined, path, SB_PATH_MAX) < 0) {
            cerr_set(err, ENAMETOOLONG, "exec: `%s`", name);
            (*err)->code = CERR_EXE_MISSING;
            return -1;
        }
        int fd = open_exe(t, path, err);
        return fd < 0 ? cerr_wrap(err, "exec") : fd;
    }
    const char *dirs = PROC_DEFAULT_PATH;
    for (size_t i = 0; i < r->envc; i++)
        if (strncmp(r->envp[i], "PATH=", 5) == 0)
            dirs = r->envp[i] + 5;
    for (const char *d = dirs;; d++) {
        const char *end = strchrnul(d, ':');
        int n = snprintf(joined, sizeof(joined), "/%.*s/%s", (int)(end - d), d, name);
        cerr_t e = NULL;
        int fd =
            n < 0 || (size_t)n >= sizeof(joined) || sb_path_normalize(joined, path, SB_PATH_MAX) < 0
                ? -1
                : open_exe(t, path, &e);
        if (fd >= 0)
            return fd;
        if (e != NULL && e->code != CERR_EXE_MISSING) {
            *err = e;
            return cerr_wrap(err, "exec");
        }
        cerr_free(&e);
        if (*end == '\0')
            break;
        d = end;
    }
    cerr_set(err, 0, "exec: `%s` not found in $PATH of the sandbox", name);
    (*err)->code = CERR_EXE_MISSING;
    return -1;
}

int sb_spawn(struct sb_kernel *k, const uint8_t *run, size_t len, const int stdio[3], cerr_t *err)
{
    struct request r = {.uid = k->uid, .gid = k->gid};
    memcpy(r.rlim, rlim0, sizeof(r.rlim));
    struct sb_task *t = NULL;
    int fd = -1, pid = -1;
    if (parse(run, len, &r, err) < 0)
        goto out;
    /* Every process of the sandbox is the container's user: the host
     * checks its file access for the kernel process's credentials. */
    if (r.uid != k->uid || r.gid != k->gid) {
        cerr_set(err, 0,
                 "exec: user %u:%u: the sandbox level runs every process as the container's "
                 "user (%u:%u)",
                 r.uid, r.gid, (unsigned)k->uid, (unsigned)k->gid);
        goto out;
    }
    if (k->ntask == SB_MAX_TASKS) {
        cerr_set(err, EAGAIN, "exec: the sandbox has %d processes, its most", SB_MAX_TASKS);
        goto out;
    }
    if ((t = calloc(1, sizeof(*t))) == NULL) {
        cerr_set(err, ENOMEM, "exec");
        goto out;
    }
    t->k = k;
    t->stub.pid = -1;
    t->execd = true;
    t->pid = t->tid = k->next_pid;
    t->pgid = t->sid = t->pid; /* a session of its own, as cella's exec makes one (setsid) */
    t->umask = r.has_umask ? (mode_t)(r.umask & 0777) : k->umask;
    /* The cwd must be a directory in the sandbox, as chdir would find it. */
    const char *cwd = r.cwd != NULL && r.cwd[0] != '\0' ? r.cwd : "/";
    int d = cwd[0] == '/' && sb_path_normalize(cwd, t->cwd, sizeof(t->cwd)) == 0
                ? sb_mount_open(k, t->cwd, O_PATH | O_DIRECTORY, 0)
                : -ENOENT;
    if (d < 0) {
        cerr_set(err, d == -EXDEV ? EACCES : -d, "exec: cwd `%s` in the sandbox", cwd);
        goto out;
    }
    close(d);
    char path[SB_PATH_MAX];
    if ((fd = find_exe(t, &r, path, err)) < 0)
        goto out;
    struct sb_start s = {.exe = path,
                         .exe_fd = fd,
                         .argv = r.argv,
                         .envp = r.envp,
                         .uid = k->uid,
                         .gid = k->gid,
                         .rlim = r.rlim};
    struct sb_rlimit *nofile = &r.rlim[RLIMIT_NOFILE]; /* at most the table's size */
    if (nofile->max > SB_MAX_FDS)
        nofile->max = SB_MAX_FDS;
    if (nofile->cur > nofile->max)
        nofile->cur = nofile->max;
    if (sb_task_new(t, stdio, &s, err) < 0) {
        cerr_wrap(err, "exec");
        goto out;
    }
    k->next_pid++;
    k->task[k->ntask++] = t;
    pid = t->pid;
    memcpy(t->stub.ctx->regs, t->regs, sizeof(t->regs));
    t->set_regs = false;
    sb_stub_reply(&t->stub, SB_OP_REGS);
    t = NULL;
out:
    if (t != NULL) {
        sb_task_free(t);
        free(t);
    }
    if (fd >= 0)
        close(fd);
    request_free(&r);
    return pid;
}
