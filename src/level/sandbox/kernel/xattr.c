/* Extended attributes: the sandbox's files have none, as on a Linux file
 * system without xattr handlers: listxattr is empty, getxattr, setxattr
 * and removexattr are EOPNOTSUPP (what shutil.copystat and cp -a take as
 * "no xattrs here"). The host's would need its *xattrat calls (Linux 6.13)
 * on a descriptor beneath the root, and would show the workload the host's
 * security.* labels. The path or descriptor is still checked as Linux
 * does: a missing file is ENOENT, a bad descriptor EBADF. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "level/sandbox/kernel/sys.h"

#define NAME_MAX_X 255     /* XATTR_NAME_MAX */
#define SIZE_MAX_X 65536UL /* XATTR_SIZE_MAX */

/* The file a path names (following a last symlink or not) exists: 0 or -errno. */
static long path_ok(struct sb_task *t, uint64_t upath, bool follow)
{
    char path[SB_PATH_MAX], real[SB_PATH_MAX];
    long r = sb_copy_str(t->mm, path, upath, sizeof(path));
    if (r < 0)
        return r;
    struct stat st;
    r = sb_vfs_stat(t, (uint64_t)AT_FDCWD, path, follow, &st, real);
    if (r != 1) /* one of the kernel's own files (/proc, /dev), or an error */
        return r < 0 ? r : 0;
    int host = sb_open_path(t, (uint64_t)AT_FDCWD, real[0] != '\0' ? real : path,
                            O_PATH | (follow ? 0 : O_NOFOLLOW), 0, NULL);
    if (host < 0)
        return host;
    close(host);
    return 0;
}

static long fd_ok(struct sb_task *t, uint64_t fd)
{
    return sb_fd_get(t->files, fd) == NULL ? -EBADF : 0;
}

/* An attribute's name: ERANGE when empty or longer than Linux allows. */
static long name_ok(struct sb_task *t, uint64_t uname)
{
    char name[NAME_MAX_X + 1];
    long r = sb_copy_str(t->mm, name, uname, sizeof(name));
    if (r == -ENAMETOOLONG || (r == 0 && name[0] == '\0'))
        return -ERANGE;
    return r;
}

static long get(struct sb_task *t, long found, uint64_t uname)
{
    long r = found < 0 ? found : name_ok(t, uname);
    return r < 0 ? r : -EOPNOTSUPP;
}

static long set(struct sb_task *t, long found, uint64_t uname, uint64_t size, uint64_t flags)
{
    if (flags & ~(uint64_t)(XATTR_CREATE | XATTR_REPLACE))
        return -EINVAL;
    if (size > SIZE_MAX_X)
        return -E2BIG;
    return get(t, found, uname);
}

/* Nothing to list: 0 bytes, whatever the buffer. */
static long list(long found)
{
    return found < 0 ? found : 0;
}

long sb_sys_getxattr(struct sb_task *t, const uint64_t a[6])
{
    return get(t, path_ok(t, a[0], true), a[1]);
}

long sb_sys_lgetxattr(struct sb_task *t, const uint64_t a[6])
{
    return get(t, path_ok(t, a[0], false), a[1]);
}

long sb_sys_fgetxattr(struct sb_task *t, const uint64_t a[6])
{
    return get(t, fd_ok(t, a[0]), a[1]);
}

long sb_sys_listxattr(struct sb_task *t, const uint64_t a[6])
{
    return list(path_ok(t, a[0], true));
}

long sb_sys_llistxattr(struct sb_task *t, const uint64_t a[6])
{
    return list(path_ok(t, a[0], false));
}

long sb_sys_flistxattr(struct sb_task *t, const uint64_t a[6])
{
    return list(fd_ok(t, a[0]));
}

long sb_sys_setxattr(struct sb_task *t, const uint64_t a[6])
{
    return set(t, path_ok(t, a[0], true), a[1], a[3], a[4]);
}

long sb_sys_lsetxattr(struct sb_task *t, const uint64_t a[6])
{
    return set(t, path_ok(t, a[0], false), a[1], a[3], a[4]);
}

long sb_sys_fsetxattr(struct sb_task *t, const uint64_t a[6])
{
    return set(t, fd_ok(t, a[0]), a[1], a[3], a[4]);
}

long sb_sys_removexattr(struct sb_task *t, const uint64_t a[6])
{
    return get(t, path_ok(t, a[0], true), a[1]);
}

long sb_sys_lremovexattr(struct sb_task *t, const uint64_t a[6])
{
    return get(t, path_ok(t, a[0], false), a[1]);
}

long sb_sys_fremovexattr(struct sb_task *t, const uint64_t a[6])
{
    return get(t, fd_ok(t, a[0]), a[1]);
}
