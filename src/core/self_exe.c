#define _GNU_SOURCE
#include "core/self_exe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* Set for the copy by the original: the host path; read and removed at
 * once, so that no workload inherits it. */
#define SELF_ENV "_CELLA_SEALED_FROM"

extern char **environ;
static char self_path[PATH_MAX];

const char *self_exe_path(void)
{
    if (self_path[0] == '\0') {
        ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
        self_path[n > 0 ? n : 0] = '\0';
    }
    return self_path;
}

static int sealed_copy(void)
{
    int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return -1;
    struct stat st;
    int fd = -1;
    if (fstat(self, &st) < 0)
        goto out;
    /* MFD_EXEC: where vm.memfd_noexec=1 makes memfds non-executable by
     * default; kernels before 6.3 refuse the flag, retried without. */
    fd = memfd_create("cella", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL)
        fd = memfd_create("cella", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        goto out;
    for (off_t done = 0; done < st.st_size;) {
        ssize_t n = sendfile(fd, self, NULL, (size_t)(st.st_size - done));
        if (n <= 0) {
            close(fd);
            fd = -1;
            goto out;
        }
        done += n;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
        close(fd);
        fd = -1;
    }
out:
    close(self);
    return fd;
}

/* The binary itself on a detached read-only bind mount of it (open_tree's
 * clone, made read-only before anything can see it): a process running it
 * shows that mount in /proc/PID/exe, and any open for writing through it is
 * EROFS, so no copy is needed. Nothing is attached anywhere: the mount lives
 * while a process runs from it, and goes with the last. Needs CAP_SYS_ADMIN
 * (root); -1 otherwise, and the caller copies. */
static int readonly_self(void)
{
    int fd = open_tree(AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (fd < 0)
        return -1;
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
    if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void self_exe_seal(char **argv)
{
    const char *from = getenv(SELF_ENV);
    if (from != NULL) {
        strncpy(self_path, from, sizeof(self_path) - 1);
        unsetenv(SELF_ENV);
        /* The kernel named the copy for its fd ("3"): ps shows cella. */
        const char *slash = strrchr(argv[0], '/');
        prctl(PR_SET_NAME, slash ? slash + 1 : argv[0], 0, 0, 0);
        return;
    }
    /* A binary on a read-only mount cannot be written through any path:
     * no copy needed (it costs a few ms per command). */
    struct statvfs vfs;
    if (statvfs("/proc/self/exe", &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
        return;
    int fd = readonly_self();
    if (fd < 0)
        fd = sealed_copy();
    if (fd < 0) {
        log_warn("cannot seal a copy of cella's binary (%s): a container may reach the host's",
                 strerror(errno));
        return;
    }
    setenv(SELF_ENV, self_exe_path(), 1);
    syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
    int e = errno;
    unsetenv(SELF_ENV);
    close(fd);
    log_warn("cannot run the sealed copy of cella's binary (%s): a container may reach the host's",
             strerror(e));
}
