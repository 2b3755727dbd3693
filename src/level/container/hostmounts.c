#define _GNU_SOURCE
#include "level/container/hostmounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "core/util.h"

#define LIST_FILE "host-mounts"

/* Mount points in mountinfo escape space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

struct mnt {
    long id;
    char *point;
};

/* The mounts at or below ROOTFS, in mountinfo order (parents first). */
static struct mnt *below(const char *rootfs, size_t *n)
{
    *n = 0;
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL)
        return NULL;
    struct mnt *v = NULL;
    size_t len = strlen(rootfs);
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        long id, parent;
        char point[4096];
        if (sscanf(line, "%ld %ld %*s %*s %4095s", &id, &parent, point) != 3)
            continue;
        unescape(point);
        if (strncmp(point, rootfs, len) != 0 || (point[len] != '\0' && point[len] != '/'))
            continue;
        struct mnt *nv = realloc(v, (*n + 1) * sizeof(*v));
        if (nv == NULL)
            abort();
        v = nv;
        v[*n].id = id;
        v[*n].point = xstrdup(point);
        (*n)++;
    }
    free(line);
    fclose(f);
    return v;
}

static void free_mnts(struct mnt *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].point);
    free(v);
}

int hostmounts_record(int dirfd, const char *rootfs, cerr_t *err)
{
    size_t n;
    struct mnt *v = below(rootfs, &n);
    int fd = openat(dirfd, LIST_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        free_mnts(v, n);
        return cerr_set(err, errno, "create the state file `%s`", LIST_FILE);
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        free_mnts(v, n);
        return cerr_set(err, errno, "open the state file `%s`", LIST_FILE);
    }
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%ld\n", v[i].id);
    free_mnts(v, n);
    if (fclose(f) != 0)
        return cerr_set(err, errno, "write the state file `%s`", LIST_FILE);
    return 0;
}

void hostmounts_release(int dirfd, const char *rootfs)
{
    int fd = openat(dirfd, LIST_FILE, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "r");
    if (f == NULL) {
        close(fd);
        return;
    }
    long *keep = NULL, id;
    size_t nkeep = 0;
    while (fscanf(f, "%ld", &id) == 1) {
        long *nk = realloc(keep, (nkeep + 1) * sizeof(*keep));
        if (nk == NULL)
            abort();
        keep = nk;
        keep[nkeep++] = id;
    }
    fclose(f);
    size_t n;
    struct mnt *v = below(rootfs, &n);
    for (size_t i = n; i-- > 0;) {
        bool old = strcmp(v[i].point, rootfs) == 0;
        for (size_t j = 0; j < nkeep && !old; j++)
            old = keep[j] == v[i].id;
        if (!old)
            umount2(v[i].point, MNT_DETACH);
    }
    free_mnts(v, n);
    free(keep);
    unlinkat(dirfd, LIST_FILE, 0);
}
