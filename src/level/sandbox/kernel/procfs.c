/* /proc and /dev of the sandbox's own: the kernel answers every path under
 * them from its own state (the sandbox's pids, its processes' memory and
 * descriptors), never from the host's /proc or /dev, which the rootfs
 * resolution never reaches (RESOLVE_NO_XDEV). Paths are matched lexically
 * (after joining with the cwd or the directory descriptor's path); a
 * symlink of the rootfs that points into /proc is not followed into it.
 * A file is generated when opened, into a memfd the workload reads (a
 * directory: its linux_dirent64 records, served by getdents64); nothing
 * here is written. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "level/sandbox/kernel/kernel.h"

#define MAX_HOPS 40 /* symlinks followed in one lookup, as Linux */

static const char *const devices[] = {"null", "zero", "full", "random", "urandom"};

void sb_devices_open(struct sb_kernel *k)
{
    char path[32];
    k->ndev = 0;
    for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
        snprintf(path, sizeof(path), "/dev/%s", devices[i]);
        k->devfd[i] = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (k->devfd[i] < 0)
            return;
        k->ndev = (int)i + 1;
    }
}

void sb_procfs_init(struct sb_kernel *k, unsigned long long mem_limit)
{
    /* The controlling terminal (`run -t`), if the kernel process has one. */
    k->ttyfd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    k->start_ns = now_ns();
    k->ncpu = sysconf(_SC_NPROCESSORS_ONLN); /* reads /sys: not after the filter */
    struct sysinfo si;
    k->mem_total = sysinfo(&si) == 0 ? (unsigned long long)si.totalram * si.mem_unit : 0;
    if (mem_limit > 0 && (k->mem_total == 0 || mem_limit < k->mem_total))
        k->mem_total = mem_limit;
    /* The CPU's description is the host's (the workload runs on it). */
    k->cpuinfo = NULL;
    int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        size_t len = 0, cap = 0;
        char *buf = NULL;
        for (;;) {
            if (len + 4096 + 1 > cap) {
                char *n = realloc(buf, cap = cap * 2 + 8192);
                if (n == NULL)
                    break;
                buf = n;
            }
            ssize_t r = read(fd, buf + len, cap - len - 1);
            if (r <= 0)
                break;
            len += (size_t)r;
        }
        if (buf != NULL)
            buf[len] = '\0';
        k->cpuinfo = buf;
        close(fd);
    }
}

/* ---- nodes ------------------------------------------------------------- */

enum vkind { V_DIR = 1, V_FILE, V_LINK, V_DEV, V_FD };
enum vdir { D_PROC = 1, D_PID, D_FD, D_SYS, D_SYSK, D_DEV };

struct entry;
typedef void (*gen_fn)(struct sb_task *t, struct sb_task *p, FILE *f);

struct entry {
    const char *name;
    enum vkind kind;
    gen_fn gen;       /* V_FILE */
    enum vdir dir;    /* V_DIR */
    const char *link; /* V_LINK: a fixed target (NULL: made from the process) */
};

struct sb_vnode {
    enum vkind kind;
    enum vdir dir;
    int pid; /* the process a /proc/PID node is about */
    int fd;  /* V_FD: the workload's descriptor; V_DEV: the host's */
    const struct entry *e;
    char path[SB_PATH_MAX]; /* this node's own */
    char link[SB_PATH_MAX]; /* V_LINK, V_FD: the target */
};

static struct sb_task *task_of(struct sb_kernel *k, int pid)
{
    for (int i = 0; i < k->ntask; i++)
        if (k->task[i]->pid == pid)
            return k->task[i];
    return NULL;
}

static void gen_cpuinfo(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_meminfo(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_stat(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_uptime(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_loadavg(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_version(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_filesystems(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_mounts(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_pid_stat(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_pid_status(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_pid_cmdline(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_pid_comm(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_pid_maps(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_pid_statm(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_hostname(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_ostype(struct sb_task *t, struct sb_task *p, FILE *f);
static void gen_osrelease(struct sb_task *t, struct sb_task *p, FILE *f);

static const struct entry proc_root[] = {
    {"cpuinfo", V_FILE, gen_cpuinfo, 0, NULL},  {"filesystems", V_FILE, gen_filesystems, 0, NULL},
    {"loadavg", V_FILE, gen_loadavg, 0, NULL},  {"meminfo", V_FILE, gen_meminfo, 0, NULL},
    {"mounts", V_LINK, NULL, 0, "self/mounts"}, {"self", V_LINK, NULL, 0, NULL},
    {"stat", V_FILE, gen_stat, 0, NULL},        {"sys", V_DIR, NULL, D_SYS, NULL},
    {"thread-self", V_LINK, NULL, 0, NULL},     {"uptime", V_FILE, gen_uptime, 0, NULL},
    {"version", V_FILE, gen_version, 0, NULL},  {NULL, 0, NULL, 0, NULL},
};
static const struct entry proc_pid[] = {
    {"cmdline", V_FILE, gen_pid_cmdline, 0, NULL},
    {"comm", V_FILE, gen_pid_comm, 0, NULL},
    {"cwd", V_LINK, NULL, 0, NULL},
    {"exe", V_LINK, NULL, 0, NULL},
    {"fd", V_DIR, NULL, D_FD, NULL},
    {"maps", V_FILE, gen_pid_maps, 0, NULL},
    {"mounts", V_FILE, gen_mounts, 0, NULL},
    {"root", V_LINK, NULL, 0, "/"},
    {"stat", V_FILE, gen_pid_stat, 0, NULL},
    {"statm", V_FILE, gen_pid_statm, 0, NULL},
    {"status", V_FILE, gen_pid_status, 0, NULL},
    {NULL, 0, NULL, 0, NULL},
};
static const struct entry proc_sys[] = {
    {"kernel", V_DIR, NULL, D_SYSK, NULL},
    {NULL, 0, NULL, 0, NULL},
};
static const struct entry proc_sysk[] = {
    {"hostname", V_FILE, gen_hostname, 0, NULL},
    {"osrelease", V_FILE, gen_osrelease, 0, NULL},
    {"ostype", V_FILE, gen_ostype, 0, NULL},
    {NULL, 0, NULL, 0, NULL},
};
static const struct entry dev_links[] = {
    {"fd", V_LINK, NULL, 0, "/proc/self/fd"},
    {"stderr", V_LINK, NULL, 0, "/proc/self/fd/2"},
    {"stdin", V_LINK, NULL, 0, "/proc/self/fd/0"},
    {"stdout", V_LINK, NULL, 0, "/proc/self/fd/1"},
    {NULL, 0, NULL, 0, NULL},
};

static const struct entry *entries_of(enum vdir d)
{
    switch (d) {
    case D_PROC:
        return proc_root;
    case D_PID:
        return proc_pid;
    case D_SYS:
        return proc_sys;
    case D_SYSK:
        return proc_sysk;
    case D_DEV:
        return dev_links;
    default:
        return NULL;
    }
}

/* A number with nothing else (a pid, a descriptor), or -1. */
static int number(const char *s, size_t len)
{
    if (len == 0 || len > 9 || (len > 1 && s[0] == '0'))
        return -1;
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    return n;
}

static void set_path(struct sb_vnode *v, const char *parent, const char *name, size_t len)
{
    int n = snprintf(v->path, sizeof(v->path), "%s/%.*s", strcmp(parent, "/") ? parent : "",
                     (int)len, name);
    if (n >= (int)sizeof(v->path)) /* longer than SB_PATH_MAX: cut, as lookups fail on it */
        v->path[sizeof(v->path) - 1] = '\0';
}

/* What a descriptor's /proc/PID/fd/N link reads. */
static void fd_target(struct sb_kernel *k, const struct sb_file *f, char *out, size_t size)
{
    struct stat st;
    if (f->path != NULL) {
        snprintf(out, size, "%s", f->path);
        return;
    }
    if (fstat(f->host, &st) < 0) {
        snprintf(out, size, "anon_inode:[unknown]");
        return;
    }
    if (S_ISFIFO(st.st_mode)) {
        snprintf(out, size, "pipe:[%llu]", (unsigned long long)st.st_ino);
        return;
    }
    if (S_ISSOCK(st.st_mode)) {
        snprintf(out, size, "socket:[%llu]", (unsigned long long)st.st_ino);
        return;
    }
    if (f->signalfd) {
        snprintf(out, size, "anon_inode:[signalfd]");
        return;
    }
    struct stat ds;
    for (int i = 0; S_ISCHR(st.st_mode) && i < k->ndev; i++)
        if (fstat(k->devfd[i], &ds) == 0 && ds.st_rdev == st.st_rdev) {
            snprintf(out, size, "/dev/%s", devices[i]);
            return;
        }
    if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 136) {
        snprintf(out, size, "/dev/pts/%u", minor(st.st_rdev));
        return;
    }
    /* A regular file's name is not kept: its inode, as Linux shows a
     * deleted one's place. */
    snprintf(out, size, "/[file:%llu]", (unsigned long long)st.st_ino);
}

/* The child `name` of directory v, into v. */
static long child(struct sb_task *t, struct sb_vnode *v, const char *name, size_t len)
{
    struct sb_kernel *k = t->k;
    char parent[SB_PATH_MAX];
    memcpy(parent, v->path, sizeof(parent));
    enum vdir d = v->dir;
    int pid = v->pid;
    if (v->kind != V_DIR)
        return -ENOTDIR;
    const struct entry *e = entries_of(d);
    for (; e != NULL && e->name != NULL; e++)
        if (strlen(e->name) == len && memcmp(e->name, name, len) == 0)
            break;
    if (e != NULL && e->name != NULL) {
        *v = (struct sb_vnode){.kind = e->kind, .dir = e->dir, .pid = pid, .e = e};
        set_path(v, parent, name, len);
        struct sb_task *p = task_of(k, pid);
        if (e->link != NULL)
            snprintf(v->link, sizeof(v->link), "%s", e->link);
        else if (strcmp(e->name, "self") == 0 || strcmp(e->name, "thread-self") == 0)
            snprintf(v->link, sizeof(v->link), "%d", t->pid);
        else if (strcmp(e->name, "cwd") == 0 && p != NULL)
            snprintf(v->link, sizeof(v->link), "%s", p->cwd);
        else if (strcmp(e->name, "exe") == 0 && p != NULL)
            snprintf(v->link, sizeof(v->link), "%s", p->exe);
        if (e->kind == V_LINK && v->link[0] == '\0')
            return -ENOENT; /* a zombie's */
        return 0;
    }
    int n = number(name, len);
    if (d == D_PROC && n > 0) {
        struct sb_task *p = task_of(k, n);
        if (p == NULL)
            return -ENOENT;
        *v = (struct sb_vnode){.kind = V_DIR, .dir = D_PID, .pid = n};
        set_path(v, parent, name, len);
        return 0;
    }
    if (d == D_FD && n >= 0) {
        struct sb_task *p = task_of(k, pid);
        struct sb_file *f = p && p->files ? sb_fd_get(p->files, (uint64_t)n) : NULL;
        if (f == NULL)
            return -ENOENT;
        *v = (struct sb_vnode){.kind = V_FD, .pid = pid, .fd = n};
        set_path(v, parent, name, len);
        fd_target(k, f, v->link, sizeof(v->link));
        return 0;
    }
    if (d == D_DEV) {
        for (int i = 0; i < k->ndev; i++)
            if (strlen(devices[i]) == len && memcmp(devices[i], name, len) == 0) {
                *v = (struct sb_vnode){.kind = V_DEV, .fd = k->devfd[i]};
                set_path(v, parent, name, len);
                return 0;
            }
        if (k->ttyfd > 0 && len == 3 && memcmp(name, "tty", 3) == 0) {
            *v = (struct sb_vnode){.kind = V_DEV, .fd = k->ttyfd};
            set_path(v, parent, name, len);
            return 0;
        }
    }
    return -ENOENT;
}

/* Look up abs (absolute, normalized). 1: not the kernel's, real is the
 * rootfs path to resolve instead ("" when abs itself, unchanged); 0: *v. */
static long lookup(struct sb_task *t, const char *abs, bool follow, struct sb_vnode *v, char *real)
{
    char cur[SB_PATH_MAX];
    snprintf(cur, sizeof(cur), "%s", abs);
    real[0] = '\0';
    for (int hops = 0;; hops++) {
        if (hops > MAX_HOPS)
            return -ELOOP;
        const char *rest;
        if (strncmp(cur, "/proc", 5) == 0 && (cur[5] == '\0' || cur[5] == '/')) {
            *v = (struct sb_vnode){.kind = V_DIR, .dir = D_PROC};
            rest = cur + 5;
        } else if (strncmp(cur, "/dev", 4) == 0 && (cur[4] == '\0' || cur[4] == '/')) {
            *v = (struct sb_vnode){.kind = V_DIR, .dir = D_DEV};
            rest = cur + 4;
        } else {
            if (hops > 0)
                snprintf(real, SB_PATH_MAX, "%s", cur);
            return 1;
        }
        memcpy(v->path, cur, (size_t)(rest - cur));
        v->path[rest - cur] = '\0';
        bool again = false;
        while (*rest == '/') {
            rest++;
            size_t len = strcspn(rest, "/");
            long r = child(t, v, rest, len);
            if (r < 0)
                return r;
            rest += len;
            bool last = *rest == '\0';
            if ((v->kind == V_LINK || v->kind == V_FD) && (!last || follow)) {
                if (v->kind == V_FD) {
                    /* A magic link: the descriptor itself (its directory's
                     * path when more follows), never its target's name. */
                    if (last)
                        return 0;
                    struct sb_task *p = task_of(t->k, v->pid);
                    struct sb_file *f = p && p->files ? sb_fd_get(p->files, (uint64_t)v->fd) : NULL;
                    if (f == NULL || f->path == NULL)
                        return -ENOTDIR;
                    snprintf(v->link, sizeof(v->link), "%s", f->path);
                }
                char next[SB_PATH_MAX * 3];
                char *slash = strrchr(v->path, '/');
                if (v->link[0] == '/')
                    snprintf(next, sizeof(next), "%s%s", v->link, rest);
                else
                    snprintf(next, sizeof(next), "%.*s/%s%s", (int)(slash - v->path), v->path,
                             v->link, rest);
                if (sb_path_normalize(next, cur, sizeof(cur)) < 0)
                    return -ENAMETOOLONG;
                again = true;
                break;
            }
        }
        if (!again)
            return 0;
    }
}

static long resolve(struct sb_task *t, uint64_t dirfd, const char *path, bool follow,
                    struct sb_vnode *v, char *real)
{
    char abs[SB_PATH_MAX];
    real[0] = '\0';
    if (path[0] == '\0')
        return 1;
    if (sb_path_abs(t, dirfd, path, abs) < 0)
        return 1; /* the rootfs resolution gives the error */
    return lookup(t, abs, follow, v, real);
}

bool sb_vfs_owned(struct sb_task *t, uint64_t dirfd, const char *path)
{
    char abs[SB_PATH_MAX];
    if (path[0] == '\0' || sb_path_abs(t, dirfd, path, abs) < 0)
        return false;
    return (strncmp(abs, "/proc", 5) == 0 && (abs[5] == '\0' || abs[5] == '/')) ||
           (strncmp(abs, "/dev", 4) == 0 && (abs[4] == '\0' || abs[4] == '/'));
}

/* ---- contents ---------------------------------------------------------- */

static void add_dirent(FILE *f, uint64_t *off, uint64_t ino, unsigned char type, const char *name)
{
    size_t nlen = strlen(name);
    size_t reclen = (19 + nlen + 1 + 7) & ~(size_t)7;
    unsigned char rec[19 + 256 + 8] = {0};
    *off += reclen;
    uint16_t rl = (uint16_t)reclen;
    memcpy(rec, &ino, 8);
    memcpy(rec + 8, off, 8);
    memcpy(rec + 16, &rl, 2);
    rec[18] = type;
    memcpy(rec + 19, name, nlen);
    fwrite(rec, 1, reclen, f);
}

static uint64_t ino_of(const char *path)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = path; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h | 1;
}

static unsigned char dtype(enum vkind k)
{
    return k == V_DIR ? 4 /* DT_DIR */ : k == V_FILE ? 8 /* DT_REG */ : k == V_DEV ? 2 : 10;
}

static void gen_dir(struct sb_task *t, const struct sb_vnode *v, FILE *f)
{
    struct sb_kernel *k = t->k;
    uint64_t off = 0;
    char name[32];
    add_dirent(f, &off, ino_of(v->path), 4, ".");
    add_dirent(f, &off, 1, 4, "..");
    for (const struct entry *e = entries_of(v->dir); e != NULL && e->name != NULL; e++)
        add_dirent(f, &off, ino_of(e->name), dtype(e->kind), e->name);
    if (v->dir == D_PROC)
        for (int i = 0; i < k->ntask; i++) {
            snprintf(name, sizeof(name), "%d", k->task[i]->pid);
            add_dirent(f, &off, ino_of(name), 4, name);
        }
    if (v->dir == D_FD) {
        struct sb_task *p = task_of(k, v->pid);
        for (int i = 0; p != NULL && p->files != NULL && i < SB_MAX_FDS; i++)
            if (p->files->fd[i].host >= 0) {
                snprintf(name, sizeof(name), "%d", i);
                add_dirent(f, &off, (uint64_t)i + 2, 10, name);
            }
    }
    if (v->dir == D_DEV) {
        for (int i = 0; i < k->ndev; i++)
            add_dirent(f, &off, ino_of(devices[i]), 2, devices[i]);
        if (k->ttyfd > 0)
            add_dirent(f, &off, ino_of("tty"), 2, "tty");
    }
}

static uint64_t mm_bytes(const struct sb_task *p)
{
    uint64_t sum = 0;
    for (size_t i = 0; p->mm != NULL && i < p->mm->nvma; i++)
        sum += p->mm->vma[i].end - p->mm->vma[i].start;
    return sum;
}

static void gen_cpuinfo(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)p;
    fputs(t->k->cpuinfo ? t->k->cpuinfo : "processor\t: 0\n\n", f);
}

/* Bytes of memory the sandbox's processes have mapped, and free of its total. */
static unsigned long long mem_free(const struct sb_kernel *k)
{
    unsigned long long used = 0;
    for (int i = 0; i < k->ntask; i++)
        used += mm_bytes(k->task[i]);
    return k->mem_total > used ? k->mem_total - used : 0;
}

static void gen_meminfo(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)p;
    struct sb_kernel *k = t->k;
    unsigned long long total = k->mem_total >> 10, free = mem_free(k) >> 10;
    fprintf(f,
            "MemTotal:       %8llu kB\nMemFree:        %8llu kB\nMemAvailable:   %8llu kB\n"
            "Buffers:        %8d kB\nCached:         %8d kB\nSwapCached:     %8d kB\n"
            "Shmem:          %8d kB\nSwapTotal:      %8d kB\nSwapFree:       %8d kB\n",
            total, free, free, 0, 0, 0, 0, 0, 0);
}

static unsigned long long ticks_since_start(struct sb_kernel *k, unsigned long long at)
{
    return (at - k->start_ns) / 10000000ULL; /* USER_HZ 100 */
}

static void gen_stat(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)p;
    struct sb_kernel *k = t->k;
    unsigned long long up = ticks_since_start(k, now_ns());
    long ncpu = k->ncpu;
    fprintf(f, "cpu  0 0 0 %llu 0 0 0 0 0 0\n", up * (unsigned long long)(ncpu > 0 ? ncpu : 1));
    for (long i = 0; i < (ncpu > 0 ? ncpu : 1); i++)
        fprintf(f, "cpu%ld 0 0 0 %llu 0 0 0 0 0 0\n", i, up);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    long long btime = (long long)rt.tv_sec - (long long)((now_ns() - k->start_ns) / 1000000000ULL);
    int running = 0;
    for (int i = 0; i < k->ntask; i++)
        running += !k->task[i]->zombie && !k->task[i]->parked;
    fprintf(f, "intr 0\nctxt 0\nbtime %lld\nprocesses %d\nprocs_running %d\nprocs_blocked 0\n",
            btime, k->next_pid - 1, running);
}

static void gen_uptime(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)p;
    unsigned long long up = now_ns() - t->k->start_ns;
    fprintf(f, "%llu.%02llu 0.00\n", up / 1000000000ULL, up / 10000000ULL % 100);
}

static void gen_loadavg(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)p;
    struct sb_kernel *k = t->k;
    int alive = 0, running = 0;
    for (int i = 0; i < k->ntask; i++) {
        alive += !k->task[i]->zombie;
        running += !k->task[i]->zombie && !k->task[i]->parked;
    }
    fprintf(f, "0.00 0.00 0.00 %d/%d %d\n", running, alive, k->next_pid - 1);
}

static void gen_version(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)t;
    (void)p;
    struct utsname u;
    if (uname(&u) < 0)
        strcpy(u.release, "6.0.0");
    fprintf(f, "Linux version %s (cella sandbox) #1 SMP cella sandbox\n", u.release);
}

static void gen_filesystems(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)t;
    (void)p;
    fputs("nodev\tproc\nnodev\tdevtmpfs\nnodev\ttmpfs\n", f);
}

static void gen_mounts(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)p;
    fputs("sandbox / sandbox rw 0 0\nproc /proc proc ro,nosuid,nodev,noexec 0 0\n"
          "devtmpfs /dev devtmpfs ro,nosuid,noexec 0 0\n",
          f);
    sb_mounts_list(t->k, f);
}

static char state_of(const struct sb_task *p)
{
    return p->zombie ? 'Z' : p->parked ? 'S' : 'R';
}

static void gen_pid_stat(struct sb_task *t, struct sb_task *p, FILE *f)
{
    int ppid = p->parent ? p->parent->pid : 0;
    unsigned long long start = ticks_since_start(t->k, p->start_ns ? p->start_ns : t->k->start_ns);
    uint64_t vsize = mm_bytes(p);
    /* The fields of proc(5) up to exit_code; the times the kernel does not
     * keep are 0. */
    fprintf(f,
            "%d (%s) %c %d %d %d 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 %llu %" PRIu64 " %" PRIu64
            " 18446744073709551615 0 0 0 0 0 %" PRIu64 " %" PRIu64
            " 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0 %d\n",
            p->pid, p->comm, state_of(p), ppid, 1, 1, start, vsize, (uint64_t)(vsize / SB_PAGE),
            p->sigpending, p->sigmask, p->zombie ? p->wait_status : 0);
}

static void gen_pid_statm(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)t;
    uint64_t pages = (uint64_t)(mm_bytes(p) / SB_PAGE);
    fprintf(f, "%" PRIu64 " %" PRIu64 " 0 0 0 0 0\n", pages, pages);
}

static void gen_pid_status(struct sb_task *t, struct sb_task *p, FILE *f)
{
    struct sb_kernel *k = t->k;
    int ppid = p->parent ? p->parent->pid : 0;
    static const char *const states[] = {"R (running)", "S (sleeping)", "Z (zombie)"};
    const char *st = states[p->zombie ? 2 : p->parked ? 1 : 0];
    uint64_t kb = mm_bytes(p) >> 10, ign = 0, cgt = 0;
    for (int i = 0; i < 64; i++) {
        if (p->act[i].handler == 1)
            ign |= 1ULL << i;
        else if (p->act[i].handler > 1)
            cgt |= 1ULL << i;
    }
    fprintf(f,
            "Name:\t%s\nUmask:\t%04o\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\n"
            "TracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t%d\nGroups:\t\n"
            "VmPeak:\t%8" PRIu64 " kB\nVmSize:\t%8" PRIu64 " kB\nVmRSS:\t%8" PRIu64 " kB\n"
            "Threads:\t1\nSigPnd:\t%016" PRIx64 "\nShdPnd:\t0000000000000000\nSigBlk:\t%016" PRIx64
            "\nSigIgn:\t%016" PRIx64 "\nSigCgt:\t%016" PRIx64 "\nCapInh:\t0000000000000000\n"
            "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"
            "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n",
            p->comm, (unsigned)p->umask, st, p->pid, p->pid, ppid, k->uid, k->uid, k->uid, k->uid,
            k->gid, k->gid, k->gid, k->gid, SB_MAX_FDS, kb, kb, kb, p->sigpending, p->sigmask, ign,
            cgt);
}

static void gen_pid_cmdline(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)t;
    if (!p->zombie)
        fwrite(p->cmdline, 1, p->cmdline_len, f);
}

static void gen_pid_comm(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)t;
    fprintf(f, "%s\n", p->comm);
}

static void gen_pid_maps(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)t;
    const struct sb_mm *mm = p->mm;
    for (size_t i = 0; mm != NULL && i < mm->nvma; i++) {
        const struct sb_vma *m = &mm->vma[i];
        const char *name = "";
        if (m->end == SB_STACK_TOP)
            name = "[stack]";
        else if (m->start >= mm->brk_start && m->end <= SB_PAGE_UP(mm->brk) &&
                 mm->brk > mm->brk_start)
            name = "[heap]";
        fprintf(f, "%012" PRIx64 "-%012" PRIx64 " %c%c%cp 00000000 00:00 0 %s%s\n", m->start,
                m->end, m->prot & PROT_READ ? 'r' : '-', m->prot & PROT_WRITE ? 'w' : '-',
                m->prot & PROT_EXEC ? 'x' : '-', name[0] ? "                         " : "", name);
    }
}

static void gen_hostname(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)p;
    fprintf(f, "%s\n", t->k->hostname);
}

static void gen_ostype(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)t;
    (void)p;
    fputs("Linux\n", f);
}

static void gen_osrelease(struct sb_task *t, struct sb_task *p, FILE *f)
{
    (void)t;
    (void)p;
    struct utsname u;
    fprintf(f, "%s\n", uname(&u) == 0 ? u.release : "6.0.0");
}

/* Write what gen writes (or a directory's records) into fd (-1: a new
 * memfd); returns fd, at offset 0, or -errno. */
static int fill(struct sb_task *t, const struct sb_vnode *v, int fd)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return -ENOMEM;
    if (v->kind == V_DIR) {
        gen_dir(t, v, f);
    } else {
        struct sb_task *p = task_of(t->k, v->pid);
        if (v->pid != 0 && p == NULL) {
            fclose(f);
            free(buf);
            return -ESRCH;
        }
        v->e->gen(t, p, f);
    }
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    bool fresh = fd < 0;
    if (fresh && (fd = memfd_create("sb-proc", MFD_CLOEXEC)) < 0) {
        free(buf);
        return -errno;
    }
    size_t done = 0;
    if (!fresh && ftruncate(fd, 0) < 0)
        len = 0;
    while (done < len) {
        struct iovec iov = {.iov_base = buf + done, .iov_len = len - done};
        ssize_t w = pwritev(fd, &iov, 1, (off_t)done); /* the filter has pwritev */
        if (w <= 0) {
            if (fresh)
                close(fd);
            free(buf);
            return -EIO;
        }
        done += (size_t)w;
    }
    free(buf);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static void node_stat(struct sb_task *t, const struct sb_vnode *v, struct stat *st)
{
    struct sb_kernel *k = t->k;
    memset(st, 0, sizeof(*st));
    bool dev = strncmp(v->path, "/dev", 4) == 0;
    st->st_dev = makedev(0, dev ? 5 : 22);
    st->st_ino = ino_of(v->path);
    st->st_nlink = v->kind == V_DIR ? 2 : 1;
    st->st_mode = v->kind == V_DIR    ? S_IFDIR | 0555
                  : v->kind == V_FILE ? S_IFREG | 0444
                  : v->kind == V_FD   ? S_IFLNK | 0700
                                      : S_IFLNK | 0777;
    st->st_uid = k->uid;
    st->st_gid = k->gid;
    st->st_blksize = 1024;
    if (v->kind == V_LINK)
        st->st_size = (off_t)strlen(v->link);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    rt.tv_sec -= (time_t)((now_ns() - k->start_ns) / 1000000000ULL);
    st->st_atim = st->st_mtim = st->st_ctim = rt;
}

/* The host descriptor a V_FD/V_DEV node stands for. */
static int node_host(struct sb_task *t, const struct sb_vnode *v, struct sb_file **out)
{
    if (v->kind == V_DEV)
        return v->fd;
    struct sb_task *p = task_of(t->k, v->pid);
    struct sb_file *f = p && p->files ? sb_fd_get(p->files, (uint64_t)v->fd) : NULL;
    if (out != NULL)
        *out = f;
    return f ? f->host : -1;
}

/* ---- the calls --------------------------------------------------------- */

long sb_vfs_open(struct sb_task *t, uint64_t dirfd, const char *path, int flags, char *real)
{
    struct sb_vnode *v = malloc(sizeof(*v));
    if (v == NULL)
        return -ENOMEM;
    bool follow = !(flags & O_NOFOLLOW);
    long r = resolve(t, dirfd, path, follow, v, real);
    int acc = flags & O_ACCMODE;
    if (r != 0)
        goto out;
    if (v->kind == V_DEV || v->kind == V_FD) {
        struct sb_file *src = NULL;
        int host = node_host(t, v, &src);
        if (host < 0) {
            r = -ENOENT;
            goto out;
        }
        if (flags & O_DIRECTORY && (src == NULL || src->path == NULL)) {
            r = -ENOTDIR;
            goto out;
        }
        int h = fcntl(host, F_DUPFD_CLOEXEC, 3);
        if (h < 0) {
            r = -errno;
            goto out;
        }
        char *p = src && src->path ? strdup(src->path) : NULL;
        r = sb_fd_install(t->files, h, flags & O_CLOEXEC, p, 0);
        if (r >= 0)
            t->files->fd[r].outer = src == NULL || src->outer; /* V_DEV: the container's device */
        if (r >= 0 && src != NULL) {
            struct sb_file *n = &t->files->fd[r];
            n->kpipe = src->kpipe;
            n->nonblock = src->kpipe ? (flags & O_NONBLOCK) != 0 : src->nonblock;
            n->sock = src->sock;
            n->outside = src->outside;
            n->synth = src->synth;
            n->signalfd = src->signalfd;
        }
        goto out;
    }
    if (v->kind == V_LINK) { /* O_NOFOLLOW on a link */
        r = flags & O_PATH ? -EACCES : -ELOOP;
        goto out;
    }
    if (flags & O_CREAT && flags & O_EXCL) {
        r = -EEXIST;
        goto out;
    }
    if (acc != O_RDONLY || flags & (O_TRUNC | O_CREAT)) {
        r = v->kind == V_DIR ? -EISDIR : -EACCES;
        goto out;
    }
    if (flags & O_DIRECTORY && v->kind != V_DIR) {
        r = -ENOTDIR;
        goto out;
    }
    int host = fill(t, v, -1);
    if (host < 0) {
        r = host;
        goto out;
    }
    char *p = strdup(v->path);
    r = sb_fd_install(t->files, host, flags & O_CLOEXEC, p, 0);
    if (r >= 0)
        t->files->fd[r].synth = true;
out:
    free(v);
    return r;
}

long sb_vfs_stat(struct sb_task *t, uint64_t dirfd, const char *path, bool follow, struct stat *st,
                 char *real)
{
    struct sb_vnode *v = malloc(sizeof(*v));
    if (v == NULL)
        return -ENOMEM;
    long r = resolve(t, dirfd, path, follow, v, real);
    if (r == 0 && (v->kind == V_DEV || (v->kind == V_FD && follow))) {
        int host = node_host(t, v, NULL);
        r = host < 0 ? -ENOENT : fstat(host, st) < 0 ? -errno : 0;
    } else if (r == 0) {
        node_stat(t, v, st);
    }
    free(v);
    return r;
}

long sb_vfs_readlink(struct sb_task *t, uint64_t dirfd, const char *path, char *buf, size_t size,
                     size_t *len, char *real)
{
    struct sb_vnode *v = malloc(sizeof(*v));
    if (v == NULL)
        return -ENOMEM;
    long r = resolve(t, dirfd, path, false, v, real);
    if (r == 0) {
        if (v->kind != V_LINK && v->kind != V_FD) {
            r = -EINVAL;
        } else {
            size_t n = strlen(v->link);
            *len = n < size ? n : size;
            memcpy(buf, v->link, *len);
        }
    }
    free(v);
    return r;
}

long sb_vfs_chdir(struct sb_task *t, uint64_t dirfd, const char *path, char *real)
{
    struct sb_vnode *v = malloc(sizeof(*v));
    if (v == NULL)
        return -ENOMEM;
    long r = resolve(t, dirfd, path, true, v, real);
    if (r == 0 && v->kind == V_FD) {
        struct sb_file *f = NULL;
        node_host(t, v, &f);
        if (f == NULL || f->path == NULL) {
            r = -ENOTDIR;
        } else {
            snprintf(real, SB_PATH_MAX, "%s", f->path);
            r = 1;
        }
    } else if (r == 0 && v->kind != V_DIR) {
        r = -ENOTDIR;
    } else if (r == 0) {
        snprintf(t->cwd, sizeof(t->cwd), "%s", v->path);
    }
    free(v);
    return r;
}

long sb_vfs_fstat(struct sb_task *t, const struct sb_file *f, struct stat *st)
{
    struct sb_vnode *v = malloc(sizeof(*v));
    if (v == NULL)
        return -ENOMEM;
    char real[SB_PATH_MAX];
    long r = lookup(t, f->path, false, v, real);
    if (r == 0)
        node_stat(t, v, st);
    else
        r = -ESRCH; /* the process it was about has gone */
    free(v);
    return r;
}

/* The records from the memfd's offset on, whole ones only, as Linux. */
long sb_vfs_getdents(struct sb_task *t, struct sb_file *f, uint64_t ubuf, uint64_t len)
{
    struct stat st;
    if (sb_vfs_fstat(t, f, &st) == 0 && !S_ISDIR(st.st_mode))
        return -ENOTDIR;
    char buf[32768];
    if (len > sizeof(buf))
        len = sizeof(buf);
    off_t at = lseek(f->host, 0, SEEK_CUR);
    if (at ==
        0) { /* from the start (again): as the directory is now (ls /proc/self/fd sees its own) */
        struct sb_vnode *v = malloc(sizeof(*v));
        char real[SB_PATH_MAX];
        if (v != NULL && lookup(t, f->path, false, v, real) == 0 && v->kind == V_DIR)
            fill(t, v, f->host);
        free(v);
    }
    ssize_t n = at < 0 ? -1 : pread(f->host, buf, len, at);
    if (n < 0)
        return -errno;
    size_t used = 0;
    while (used + 19 <= (size_t)n) {
        uint16_t rl;
        memcpy(&rl, buf + used + 16, 2);
        if (used + rl > (size_t)n)
            break;
        used += rl;
    }
    if (used == 0 && n > 0)
        return -EINVAL; /* the next record does not fit */
    int r = sb_copy_out(t->mm, ubuf, buf, used);
    if (r < 0)
        return r;
    lseek(f->host, at + (off_t)used, SEEK_SET);
    return (long)used;
}

/* The program's path with its last symlinks followed (busybox's applets
 * are links to it), as Linux's /proc/PID/exe names the file itself. */
static void exe_path(struct sb_task *t, const char *exe, char *out)
{
    char cur[SB_PATH_MAX], target[SB_PATH_MAX], next[SB_PATH_MAX * 2 + 2];
    if (sb_path_abs(t, (uint64_t)AT_FDCWD, exe, cur) < 0)
        snprintf(cur, sizeof(cur), "%s", exe);
    for (int hops = 0; hops < MAX_HOPS; hops++) {
        int fd = sb_open_path(t, (uint64_t)AT_FDCWD, cur, O_PATH | O_NOFOLLOW, 0, NULL);
        if (fd < 0)
            break;
        ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
        close(fd);
        if (n <= 0)
            break;
        target[n] = '\0';
        char *slash = strrchr(cur, '/');
        if (target[0] == '/')
            snprintf(next, sizeof(next), "%s", target);
        else
            snprintf(next, sizeof(next), "%.*s/%s", (int)(slash - cur), cur, target);
        if (sb_path_normalize(next, cur, sizeof(cur)) < 0)
            break;
    }
    memcpy(out, cur, SB_PATH_MAX);
}

void sb_proc_exec(struct sb_task *t, const char *exe, char *const *argv)
{
    exe_path(t, exe, t->exe);
    /* comm is the name executed (a link's), as Linux's */
    const char *base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    size_t len = strnlen(base, sizeof(t->comm) - 1); /* TASK_COMM_LEN, cut as Linux */
    memcpy(t->comm, base, len);
    t->comm[len] = '\0';
    size_t n = 0;
    for (size_t i = 0; argv != NULL && argv[i] != NULL; i++) {
        size_t l = strlen(argv[i]) + 1;
        if (n + l > sizeof(t->cmdline))
            break;
        memcpy(t->cmdline + n, argv[i], l);
        n += l;
    }
    t->cmdline_len = n;
    if (t->start_ns == 0)
        t->start_ns = now_ns();
}

void sb_proc_fork(struct sb_task *c, const struct sb_task *t)
{
    c->umask = t->umask;
    memcpy(c->comm, t->comm, sizeof(c->comm));
    memcpy(c->exe, t->exe, sizeof(c->exe));
    memcpy(c->cmdline, t->cmdline, t->cmdline_len);
    c->cmdline_len = t->cmdline_len;
    c->start_ns = now_ns();
}

/* sysinfo(2) from the same state as /proc/meminfo and /proc/uptime. */
long sb_sys_sysinfo(struct sb_task *t, const uint64_t a[6])
{
    struct sb_kernel *k = t->k;
    struct sysinfo si;
    memset(&si, 0, sizeof(si));
    si.uptime = (long)((now_ns() - k->start_ns) / 1000000000ULL);
    si.totalram = k->mem_total;
    si.freeram = mem_free(k);
    si.mem_unit = 1;
    for (int i = 0; i < k->ntask; i++)
        si.procs += !k->task[i]->zombie;
    return sb_copy_out(t->mm, a[0], &si, sizeof(si));
}

/* prctl: the process's name (comm), which /proc shows; any other option is
 * not served yet (ENOSYS, counted as an unimplemented call). */
long sb_sys_prctl(struct sb_task *t, const uint64_t a[6])
{
    char name[16];
    switch (a[0]) {
    case PR_SET_NAME: {
        int r = sb_copy_str(t->mm, name, a[1], sizeof(name));
        if (r == -ENAMETOOLONG) { /* cut to 15 bytes, as Linux */
            r = sb_copy_in(t->mm, name, a[1], sizeof(name) - 1);
            name[sizeof(name) - 1] = '\0';
        }
        if (r < 0)
            return r;
        memcpy(t->comm, name, sizeof(name));
        return 0;
    }
    case PR_GET_NAME:
        return sb_copy_out(t->mm, a[1], t->comm, sizeof(t->comm));
    default:
        t->k->enosys[SYS_prctl]++;
        return -ENOSYS;
    }
}
