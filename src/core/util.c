#define _GNU_SOURCE
#include "core/util.h"

#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void cleanup_freep(void *p)
{
    free(*(void **)p);
}

void cleanup_closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

char *xasprintf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (s == NULL)
        abort();
    return s;
}

char *xstrdup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *r = strdup(s);
    if (r == NULL)
        abort();
    return r;
}

ssize_t write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

ssize_t read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t r = read(fd, p + done, len - done);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

char *read_file_at(int dirfd, const char *path, size_t *len, cerr_t *err)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cerr_set(err, errno, "open `%s`", path);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            close(fd);
            cerr_set(err, 0, "out of memory reading `%s`", path);
            return NULL;
        }
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL)
                free(buf);
            buf = nb;
            continue;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            cerr_set(err, e, "read `%s`", path);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

char *read_file(const char *path, size_t *len, cerr_t *err)
{
    return read_file_at(AT_FDCWD, path, len, err);
}

int write_file(const char *path, const char *data, size_t len, mode_t mode, cerr_t *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return cerr_set(err, errno, "open `%s`", path);
    if (write_all(fd, data, len) < 0) {
        int e = errno;
        close(fd);
        return cerr_set(err, e, "write `%s`", path);
    }
    if (close(fd) < 0)
        return cerr_set(err, errno, "close `%s`", path);
    return 0;
}

int write_knob_at(int dirfd, const char *name, const char *value, cerr_t *err)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return cerr_set(err, errno, "open `%s`", name);
    ssize_t w;
    do
        w = write(fd, value, strlen(value));
    while (w < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (w < 0)
        return cerr_set(err, e, "write `%s` to `%s`", value, name);
    return 0;
}

int write_knob(const char *path, const char *value, cerr_t *err)
{
    return write_knob_at(AT_FDCWD, path, value, err);
}

int write_file_atomic(const char *path, const char *data, size_t len, cerr_t *err)
{
    autofree char *tmp = xasprintf("%s.tmp", path);
    if (write_file(tmp, data, len, 0600, err) < 0) {
        unlink(tmp); /* a full file system: no half-written file left */
        return -1;
    }
    /* Exchange, then drop the old copy: ext4 (auto_da_alloc, the default)
     * starts writing the new file back to disk at a rename that replaces
     * one, a block write per state save on a host whose /run is ext4;
     * an exchange does not, and readers still see one whole file or the
     * other. A first write, a target that is not a file, or a filesystem
     * without exchange: rename. */
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
        unlink(tmp);
        return 0;
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return cerr_set(err, e, "rename `%s`", path);
    }
    return 0;
}

int mkdir_p(const char *path, mode_t mode, cerr_t *err)
{
    if (path[0] == '\0')
        return cerr_set(err, ENOENT, "mkdir ``");
    autofree char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return cerr_set(err, errno, "mkdir `%s`", p);
        *s = '/';
    }
    struct stat st;
    if (mkdir(p, mode) < 0 && (errno != EEXIST || stat(p, &st) < 0 || !S_ISDIR(st.st_mode)))
        return cerr_set(err, errno == EEXIST ? ENOTDIR : errno, "mkdir `%s`", p);
    return 0;
}

static int rm_rf_at(int dirfd, const char *name)
{
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return -1;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        rm_rf_at(fd, de->d_name);
    }
    closedir(d);
    return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -1 : 0;
}

int rm_rf(const char *path)
{
    return rm_rf_at(AT_FDCWD, path);
}

int parse_long(const char *s, long *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

unsigned long long proc_start_time(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: skip past the last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    p += 2; /* field 3: state */
    if (*p == 'Z' || *p == 'X')
        return 0;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL)
            return 0;
        p++;
    }
    return strtoull(p, NULL, 10);
}

bool proc_alive(pid_t pid, unsigned long long start_time)
{
    if (pid <= 0)
        return false;
    unsigned long long st = proc_start_time(pid);
    return st != 0 && (start_time == 0 || st == start_time);
}

void close_range_cloexec(int keep)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, keep + 1, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) == 0)
        return;
#endif
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        long fd;
        if (parse_long(de->d_name, &fd) == 0 && fd > keep && fd != dirfd(d))
            fcntl((int)fd, F_SETFD, FD_CLOEXEC);
    }
    closedir(d);
}

unsigned long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

int unix_connect(const char *path, cerr_t *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return cerr_set(err, 0, "socket path `%s` is too long", path);
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cerr_set(err, errno, "socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        return cerr_set(err, e, "connect to `%s`", path);
    }
    return fd;
}

int write_pid_file(const char *path, pid_t pid, cerr_t *err)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d", pid);
    if (write_file_atomic(path, buf, (size_t)n, err) < 0)
        return cerr_wrap(err, "--pid-file");
    return 0;
}

int ns_enter(int nsfd, const char *proc_name, int flag, cerr_t *err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/ns/%s", proc_name);
    int own = open(path, O_RDONLY | O_CLOEXEC);
    if (own < 0)
        return cerr_set(err, errno, "open %s", path);
    if (setns(nsfd, flag) < 0) {
        int e = errno;
        close(own);
        return cerr_set(err, e, "join %s namespace", proc_name);
    }
    return own;
}

void ns_restore(int saved, int flag)
{
    if (saved < 0)
        return;
    setns(saved, flag);
    close(saved);
}

int send_fd_msg(int sock, int fd, const void *data, size_t len)
{
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof(u));
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t r;
    do
        r = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : 0;
}

int recv_fd_msg(int sock)
{
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    ssize_t r;
    do
        r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    struct cmsghdr *c = r > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (c == NULL || c->cmsg_type != SCM_RIGHTS) {
        if (r >= 0)
            errno = 0;
        return -1;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

/* The fds execve would close: close-on-exec ones at this moment. */
size_t cloexec_fds(int *fds, size_t max)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 0;
    int self = dirfd(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < max) {
        long fd;
        if (parse_long(de->d_name, &fd) < 0 || fd == self)
            continue;
        int fl = fcntl((int)fd, F_GETFD);
        if (fl >= 0 && (fl & FD_CLOEXEC))
            fds[n++] = (int)fd;
    }
    closedir(d);
    return n;
}
