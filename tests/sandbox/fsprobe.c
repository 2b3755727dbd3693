/* A static program for tests/integration/test_sandbox_fs.sh: the file calls
 * of cella's sandbox kernel, run in an empty directory (its cwd) both on
 * the host and in a sandbox; the test asserts the same lines both ways.
 * Each line is "what: result" (a value, or the errno's name). Only
 * relative paths: on the host it must not touch anything else. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(int e)
{
    switch (e) {
    case 0:
        return "ok";
    case EEXIST:
        return "EEXIST";
    case ENOENT:
        return "ENOENT";
    case ENOTDIR:
        return "ENOTDIR";
    case EISDIR:
        return "EISDIR";
    case ELOOP:
        return "ELOOP";
    case EINVAL:
        return "EINVAL";
    case ENOTEMPTY:
        return "ENOTEMPTY";
    case EWOULDBLOCK:
        return "EWOULDBLOCK";
    case EACCES:
        return "EACCES";
    case EBADF:
        return "EBADF";
    case EPERM:
        return "EPERM";
    case EOPNOTSUPP:
        return "EOPNOTSUPP";
    case EBUSY:
        return "EBUSY";
    default:
        return strerror(e);
    }
}

/* A call's result: "ok" or its errno. */
static void res(const char *what, long r)
{
    printf("%s: %s\n", what, en(r < 0 ? errno : 0));
}

static void mode_of(const char *what, const char *path, int flags)
{
    struct stat st;
    if (fstatat(AT_FDCWD, path, &st, flags) < 0)
        printf("%s: %s\n", what, en(errno));
    else
        printf("%s: %o nlink %lu size %lld\n", what, (unsigned)st.st_mode,
               (unsigned long)st.st_nlink, (long long)st.st_size);
}

static void contents(const char *what, const char *path)
{
    char buf[256] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s: %s\n", what, en(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    printf("%s: '%.*s'\n", what, (int)(n < 0 ? 0 : n), buf);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    umask(022);
    int fd = creat("f", 0666);
    res("creat", fd);
    mode_of("creat mode (umask 022)", "f", 0);
    res("O_CREAT|O_EXCL on an existing file", open("f", O_CREAT | O_EXCL | O_WRONLY, 0600));
    res("write", write(fd, "hello", 5));
    close(fd);
    fd = open("f", O_WRONLY | O_APPEND);
    res("write O_APPEND", write(fd, " world", 6));
    close(fd);
    contents("appended", "f");
    umask(077);
    res("mkdir", mkdir("d", 0777));
    mode_of("mkdir mode (umask 077)", "d", 0);
    umask(022);
    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    res("open O_DIRECTORY", dfd);
    res("mkdirat (dirfd)", mkdirat(dfd, "sub", 0700));
    mode_of("mkdirat mode", "d/sub", 0);
    res("mkdir (exists)", mkdir("d/sub", 0700));
    res("mkdir trailing slash", mkdir("e/", 0755));
    res("rmdir trailing slash", rmdir("e/"));
    res("symlinkat (dirfd)", symlinkat("../f", dfd, "lnk"));
    char buf[256];
    ssize_t n = readlinkat(dfd, "lnk", buf, sizeof(buf));
    printf("readlinkat: '%.*s'\n", (int)(n < 0 ? 0 : n), buf);
    n = readlink("d/lnk", buf, 2);
    printf("readlink (short buffer): %zd '%.*s'\n", n, (int)(n < 0 ? 0 : n), buf);
    res("readlink of a file", readlink("f", buf, sizeof(buf)));
    res("readlink of a missing file", readlink("nothing", buf, sizeof(buf)));
    contents("through the symlink", "d/lnk");
    res("open O_NOFOLLOW of a symlink", open("d/lnk", O_RDONLY | O_NOFOLLOW));
    res("open O_DIRECTORY of a file", open("f", O_RDONLY | O_DIRECTORY));
    int pfd = open("d/lnk", O_PATH | O_NOFOLLOW);
    res("open O_PATH|O_NOFOLLOW", pfd);
    struct stat st;
    if (fstatat(pfd, "", &st, AT_EMPTY_PATH) == 0)
        printf("fstatat AT_EMPTY_PATH: %s\n", S_ISLNK(st.st_mode) ? "a symlink" : "not a symlink");
    n = readlinkat(pfd, "", buf, sizeof(buf));
    printf("readlinkat AT_EMPTY_PATH: '%.*s'\n", (int)(n < 0 ? 0 : n), buf);
    close(pfd);
    res("linkat", linkat(AT_FDCWD, "f", dfd, "hard", 0));
    mode_of("link count", "f", 0);
    res("link (exists)", link("f", "d/hard"));
    fd = open("g", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    res("write g", write(fd, "G", 1));
    close(fd);
    res("renameat2 NOREPLACE onto an existing file",
        syscall(SYS_renameat2, AT_FDCWD, "g", AT_FDCWD, "f", 1 /* RENAME_NOREPLACE */));
    res("renameat2 EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, "g", AT_FDCWD, "f", 2));
    contents("f after the exchange", "f");
    contents("g after the exchange", "g");
    res("rename", rename("g", "d/moved"));
    contents("moved", "d/moved");
    res("renameat (dirfds)", renameat(dfd, "moved", AT_FDCWD, "g"));
    res("unlinkat a directory without AT_REMOVEDIR", unlinkat(dfd, "sub", 0));
    res("unlinkat AT_REMOVEDIR", unlinkat(dfd, "sub", AT_REMOVEDIR));
    res("rmdir a non-empty directory", rmdir("d"));
    res("unlinkat AT_REMOVEDIR of a file", unlinkat(AT_FDCWD, "f", AT_REMOVEDIR));
    res("unlinkat bad flags", unlinkat(AT_FDCWD, "f", 0x1));
    res("fchmodat", fchmodat(AT_FDCWD, "g", 0600, 0));
    mode_of("fchmodat mode", "g", 0);
    fd = open("g", O_RDWR);
    res("fchmod", fchmod(fd, 0640));
    mode_of("fchmod mode", "g", 0);
    res("chmod through a symlink", chmod("d/lnk", 0604));
    mode_of("its target", "f", 0);
    res("fchownat", fchownat(AT_FDCWD, "g", getuid(), getgid(), 0));
    res("fchownat AT_SYMLINK_NOFOLLOW",
        fchownat(dfd, "lnk", getuid(), getgid(), AT_SYMLINK_NOFOLLOW));
    struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
    res("utimensat", utimensat(AT_FDCWD, "g", ts, 0));
    ts[1].tv_sec = 1100000000;
    res("utimensat AT_SYMLINK_NOFOLLOW", utimensat(dfd, "lnk", ts, AT_SYMLINK_NOFOLLOW));
    lstat("d/lnk", &st);
    printf("the link's mtime: %lld\n", (long long)st.st_mtime);
    stat("g", &st);
    printf("g's mtime: %lld\n", (long long)st.st_mtime);
    res("futimens", futimens(fd, NULL));
    res("truncate", truncate("g", 100));
    mode_of("truncated", "g", 0);
    res("ftruncate", ftruncate(fd, 3));
    mode_of("ftruncated", "g", 0);
    res("truncate a directory", truncate("d", 0));
    uint8_t sx[256];
    long r = syscall(SYS_statx, AT_FDCWD, "g", 0, 0x200 /* STATX_SIZE */, sx);
    uint64_t size;
    memcpy(&size, sx + 40, 8);
    printf("statx: %s size %llu\n", en(r < 0 ? errno : 0), (unsigned long long)size);
    r = syscall(SYS_statx, fd, "", AT_EMPTY_PATH, 0x7ff, sx);
    uint16_t mode;
    memcpy(&mode, sx + 28, 2);
    printf("statx AT_EMPTY_PATH: %s mode %o\n", en(r < 0 ? errno : 0), mode);
    r = syscall(SYS_statx, AT_FDCWD, "d/lnk", AT_SYMLINK_NOFOLLOW, 0x7ff, sx);
    memcpy(&mode, sx + 28, 2);
    printf("statx AT_SYMLINK_NOFOLLOW: %s %s\n", en(r < 0 ? errno : 0),
           S_ISLNK(mode) ? "a symlink" : "not a symlink");
    struct statfs sf;
    r = statfs(".", &sf);
    printf("statfs: %s %s\n", en(r < 0 ? errno : 0), r == 0 && sf.f_bsize > 0 ? "bsize set" : "");
    res("fstatfs", fstatfs(fd, &sf));
    res("fsync", fsync(fd));
    res("fdatasync", fdatasync(fd));
    res("fallocate", fallocate(fd, 0, 0, 8192));
    mode_of("fallocated", "g", 0);
    close(fd);
    /* sendfile and copy_file_range into new files */
    int in = open("d/lnk", O_RDONLY), out = open("h", O_CREAT | O_WRONLY, 0644);
    printf("sendfile: %zd\n", sendfile(out, in, NULL, 100));
    close(out);
    contents("sent", "h");
    off_t off = 1;
    out = open("i", O_CREAT | O_WRONLY, 0644);
    printf("copy_file_range: %zd\n", copy_file_range(in, &off, out, NULL, 100, 0));
    close(out);
    close(in);
    contents("copied", "i");
    /* flock: per open file */
    int l1 = open("g", O_RDONLY), l2 = open("g", O_RDONLY);
    res("flock LOCK_EX", flock(l1, LOCK_EX));
    res("flock of another open LOCK_EX|LOCK_NB", flock(l2, LOCK_EX | LOCK_NB));
    res("flock LOCK_UN", flock(l1, LOCK_UN));
    res("flock again", flock(l2, LOCK_EX | LOCK_NB));
    close(l1);
    close(l2);
    /* fcntl record locks: held by this process, seen by a child */
    l1 = open("g", O_RDWR);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    res("F_SETLK", fcntl(l1, F_SETLK, &fl));
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        int c = open("g", O_RDWR);
        struct flock cl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
        r = fcntl(c, F_SETLK, &cl);
        printf("child F_SETLK: %s\n",
               r < 0 && (errno == EAGAIN || errno == EACCES) ? "held" : "got it");
        cl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        fcntl(c, F_GETLK, &cl);
        printf("child F_GETLK: %s start %lld len %lld\n",
               cl.l_type == F_WRLCK ? "F_WRLCK" : "unlocked", (long long)cl.l_start,
               (long long)cl.l_len);
        cl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 20, .l_len = 1};
        res("child F_SETLK elsewhere", fcntl(c, F_SETLK, &cl));
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    fl.l_type = F_UNLCK;
    res("F_SETLK F_UNLCK", fcntl(l1, F_SETLK, &fl));
    close(l1);
    res("faccessat (dirfd)", faccessat(dfd, "lnk", R_OK, 0));
    res("chdir (dirfd path)", fchdir(dfd));
    contents("relative to the new cwd", "lnk");
    res("chdir ..", chdir(".."));
    close(dfd);
    /* empty everything again, as rm -r would */
    const char *files[] = {"f", "g", "h", "i", "d/lnk", "d/hard"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (unlink(files[i]) < 0)
            printf("unlink %s: %s\n", files[i], en(errno));
    res("rmdir", rmdir("d"));
    res("unlink (gone)", unlink("f"));
    return 0;
}
