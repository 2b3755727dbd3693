/* Host-side memory footprint of a container (see mem.h): find its processes
 * in one scan of /proc, then sum Rss and Pss from smaps_rollup (or smaps on
 * kernels before 4.14). */
#define _GNU_SOURCE
#include "mem.h"

#include "core/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The whole of a (/proc) file, NUL-terminated, in a malloc'd buffer; NULL
 * with errno set on failure (ENOENT/ESRCH: the process is gone). */
static char *proc_file(const char *path, size_t *len)
{
    cerr_t err = NULL;
    char *text = read_file(path, len, &err);
    if (text == NULL) {
        errno = err && err->errnum ? err->errnum : EIO;
        cerr_free(&err);
    }
    return text;
}

struct proc {
    pid_t pid, ppid;
    size_t parent; /* index of ppid in the table, or SIZE_MAX */
    bool excluded, marked;
};

static int cmp_proc(const void *a, const void *b)
{
    pid_t x = ((const struct proc *)a)->pid, y = ((const struct proc *)b)->pid;
    return (x > y) - (x < y);
}

static size_t find_proc(const struct proc *t, size_t n, pid_t pid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid].pid == pid)
            return mid;
        if (t[mid].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

/* Field 4 of /proc/PID/stat. The command name (field 2) is in parentheses
 * and may itself hold spaces and parentheses, so parse after the last ')'. */
static int read_ppid(pid_t pid, pid_t *ppid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    char *s = proc_file(path, NULL);
    if (s == NULL)
        return -1;
    char *p = strrchr(s, ')');
    int pp, rc = -1;
    char state;
    if (p && sscanf(p + 1, " %c %d", &state, &pp) == 2) {
        *ppid = pp;
        rc = 0;
    }
    free(s);
    return rc;
}

/* Does one NUL-separated argument of /proc/PID/cmdline contain id? */
static bool cmdline_has(pid_t pid, const char *id)
{
    char path[64];
    size_t len;
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    char *s = proc_file(path, &len);
    if (s == NULL)
        return false;
    bool found = false;
    for (size_t off = 0; off < len && !found; off += strlen(s + off) + 1)
        found = strstr(s + off, id) != NULL;
    free(s);
    return found;
}

pid_t *mem_container_pids(pid_t pid, const char *id, size_t *n)
{
    *n = 0;
    bool use_id = id != NULL && id[0] != '\0';
    DIR *d = opendir("/proc");
    if (d == NULL)
        return NULL;
    struct proc *t = NULL;
    size_t nt = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        char *end;
        long v = strtol(de->d_name, &end, 10);
        if (*end != '\0' || v <= 0)
            continue;
        struct proc p = {.pid = (pid_t)v, .parent = SIZE_MAX};
        if (read_ppid(p.pid, &p.ppid) < 0)
            continue; /* gone meanwhile */
        p.marked = (pid > 0 && p.pid == pid) || (use_id && cmdline_has(p.pid, id));
        if (nt == cap) {
            size_t nc = cap ? cap * 2 : 512;
            struct proc *nt_ = realloc(t, nc * sizeof(*t));
            if (nt_ == NULL) {
                free(t);
                closedir(d);
                return NULL;
            }
            t = nt_;
            cap = nc;
        }
        t[nt++] = p;
    }
    closedir(d);
    if (nt > 0)
        qsort(t, nt, sizeof(*t), cmp_proc);
    for (size_t i = 0; i < nt; i++)
        t[i].parent = find_proc(t, nt, t[i].ppid);

    /* The caller and its ancestors are never part of the container (their
     * command lines may well mention the id), and nothing is reached
     * through them. */
    for (size_t i = find_proc(t, nt, getpid()), hops = 0; i != SIZE_MAX && hops < nt;
         i = t[i].parent, hops++) {
        t[i].excluded = true;
        t[i].marked = false;
    }
    /* Descendants: repeat until nothing changes (one pass suffices unless
     * pids wrapped around). */
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < nt; i++) {
            if (!t[i].marked && !t[i].excluded && t[i].parent != SIZE_MAX &&
                t[t[i].parent].marked) {
                t[i].marked = true;
                changed = true;
            }
        }
    }

    pid_t *out = malloc((nt ? nt : 1) * sizeof(*out));
    if (out != NULL) {
        for (size_t i = 0; i < nt; i++)
            if (t[i].marked)
                out[(*n)++] = t[i].pid;
    }
    free(t);
    return out;
}

/* Sum the "Rss:" and "Pss:" lines (kB) of one smaps or smaps_rollup text;
 * false if it has none (a zombie or a kernel thread). */
static bool sum_smaps(const char *s, uint64_t *rss, uint64_t *pss)
{
    bool any = false;
    for (const char *l = s; *l;) {
        if (strncmp(l, "Rss:", 4) == 0) {
            *rss += strtoull(l + 4, NULL, 10);
            any = true;
        } else if (strncmp(l, "Pss:", 4) == 0) {
            *pss += strtoull(l + 4, NULL, 10);
        }
        const char *nl = strchr(l, '\n');
        if (nl == NULL)
            break;
        l = nl + 1;
    }
    return any;
}

static bool gone(int e)
{
    return e == ENOENT || e == ESRCH;
}

int mem_sum(const pid_t *pids, size_t n, struct mem_usage *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pids[i]);
        char *s = proc_file(path, NULL);
        if (s == NULL && errno == ENOENT) {
            /* no smaps_rollup: an old kernel, or the process is gone */
            snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pids[i]);
            s = proc_file(path, NULL);
        }
        if (s == NULL) {
            if (gone(errno))
                continue;
            return -1;
        }
        uint64_t rss = 0, pss = 0;
        if (sum_smaps(s, &rss, &pss)) {
            out->rss_kb += rss;
            out->pss_kb += pss;
            out->nprocs++;
        }
        free(s);
    }
    return 0;
}
