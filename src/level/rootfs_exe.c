#define _GNU_SOURCE
#include "level/rootfs_exe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"
#include "level/container/process.h"

/* A mount of the spec covers `path` (absolute in the container). */
static bool under_mount(const struct spec *s, const char *path)
{
    for (size_t i = 0; i < s->n_mounts; i++) {
        const char *d = s->mounts[i].destination;
        size_t n = d ? strlen(d) : 0;
        while (n > 1 && d[n - 1] == '/')
            n--;
        if (n > 0 && strncmp(path, d, n) == 0 && (path[n] == '/' || path[n] == '\0' || n == 1))
            return true;
    }
    return false;
}

/* `path` in the rootfs, resolved as the container will (symlinks stay in
 * it): 0 a regular file, else -1 with errno (EISDIR for anything but a file). */
static int file_in_root(int rootfd, const char *path)
{
    struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
    int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
    if (fd < 0)
        return -1;
    struct stat st;
    int r = fstat(fd, &st);
    close(fd);
    if (r == 0 && !S_ISREG(st.st_mode))
        return errno = EISDIR, -1;
    return r;
}

/* One candidate: 1 found, 0 under a mount, -1 not there. */
static int candidate(const struct spec *s, int rootfd, char *abs, char **found)
{
    if (under_mount(s, abs)) {
        free(abs);
        return 0;
    }
    if (file_in_root(rootfd, abs) == 0) {
        *found = abs;
        return 1;
    }
    int e = errno;
    free(abs);
    errno = e;
    return -1;
}

int rootfs_find_exe(const struct spec *s, int rootfd, char **found)
{
    const char *name = s->process.args.v[0];
    *found = NULL;
    if (strchr(name, '/') != NULL)
        return candidate(s, rootfd, name[0] == '/' ? xstrdup(name) : xasprintf("/%s", name), found);
    const char *path = PROC_DEFAULT_PATH;
    for (size_t i = 0; i < s->process.env.n; i++)
        if (strncmp(s->process.env.v[i], "PATH=", 5) == 0)
            path = s->process.env.v[i] + 5;
    autofree char *copy = xstrdup(path);
    char *rest = copy;
    for (char *dir; (dir = strsep(&rest, ":")) != NULL;) {
        int r =
            candidate(s, rootfd, xasprintf("%s%s/%s", dir[0] == '/' ? "" : "/", dir, name), found);
        if (r >= 0)
            return r;
    }
    errno = ENOENT;
    return -1;
}
