#define _GNU_SOURCE
#include "level/container/idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"

/* The kernel takes a map in one write of fewer than PAGE_SIZE bytes, 340
 * lines at most (4.15+); a longer one is refused whole, never cut. */
#define ID_MAP_MAX_LINES 340
#define ID_MAP_MAX_BYTES 4096

char *idmap_text(const char *field, const struct spec_idmap *m, size_t n, cerr_t *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
    fclose(f);
    if (n > ID_MAP_MAX_LINES || len >= ID_MAP_MAX_BYTES) {
        cerr_set(err, 0,
                 "%s: %zu lines in %zu bytes: the kernel takes at most %d lines in fewer than %d",
                 field, n, len, ID_MAP_MAX_LINES, ID_MAP_MAX_BYTES);
        free(text);
        return NULL;
    }
    return text;
}

int idmap_write(pid_t pid, const char *file, const char *field, const struct spec_idmap *m,
                size_t n, cerr_t *err)
{
    if (n == 0)
        return 0;
    autofree char *text = idmap_text(field, m, n, err);
    if (text == NULL)
        return -1;
    /* Not write_knob: its error would quote the whole map, many lines. */
    autofree char *path = xasprintf("/proc/%d/%s", pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return cerr_set(err, errno, "%s: open `%s`", field, path);
    ssize_t w = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    if (w != (ssize_t)strlen(text))
        return cerr_set(err, w < 0 ? e : EIO, "%s: write `%s`", field, path);
    return 0;
}

/* A child made in a new user namespace only holds it while the maps are
 * written and the namespace opened; closing the pipe ends it. */
int idmap_userns(const struct spec_idmap *u, size_t nu, const struct spec_idmap *g, size_t ng,
                 const char *field, cerr_t *err)
{
    int hold[2];
    if (pipe2(hold, O_CLOEXEC) < 0)
        return cerr_set(err, errno, "%s: pipe", field);
    pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        char c;
        close(hold[1]);
        while (read(hold[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    close(hold[0]);
    if (pid < 0) {
        close(hold[1]);
        return cerr_set(err, errno, "%s: create a user namespace for the idmapped mount", field);
    }
    autofree char *uf = xasprintf("%s.uidMappings", field);
    autofree char *gf = xasprintf("%s.gidMappings", field);
    autofree char *ns = xasprintf("/proc/%d/ns/user", pid);
    int fd = -1;
    if (idmap_write(pid, "uid_map", uf, u, nu, err) == 0 &&
        idmap_write(pid, "gid_map", gf, g, ng, err) == 0 &&
        (fd = open(ns, O_RDONLY | O_CLOEXEC)) < 0)
        cerr_set(err, errno, "%s: open `%s`", field, ns);
    close(hold[1]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return fd;
}
