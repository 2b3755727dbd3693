/* Small helpers used across cella. */
#ifndef CELLA_UTIL_H
#define CELLA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/error.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Release on scope exit (the cleanup attribute of gcc and clang). */
#define autofree  __attribute__((cleanup(cleanup_freep)))
#define autoclose __attribute__((cleanup(cleanup_closep)))
void cleanup_freep(void *p);
void cleanup_closep(int *fd);

/* Read a whole file (NUL-terminated). */
char *read_file(const char *path, size_t *len, cerr_t *err);
char *read_file_at(int dirfd, const char *path, size_t *len, cerr_t *err);
/* Write (truncate) a whole file. */
int write_file(const char *path, const char *data, size_t len, mode_t mode, cerr_t *err);
/* Write to an existing file such as /proc or cgroup knobs, naming it in errors. */
int write_knob(const char *path, const char *value, cerr_t *err);
int write_knob_at(int dirfd, const char *name, const char *value, cerr_t *err);
/* Write atomically: temp file + rename. */
int write_file_atomic(const char *path, const char *data, size_t len, cerr_t *err);
int mkdir_p(const char *path, mode_t mode, cerr_t *err);
/* Remove a directory tree (no symlink following across mounts). */
int rm_rf(const char *path);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xstrdup(const char *s);
/* Write all / read all, retrying on EINTR and short writes. */
ssize_t write_all(int fd, const void *buf, size_t len);
ssize_t read_all(int fd, void *buf, size_t len);
/* Parse a decimal integer; -1 on error. */
int parse_long(const char *s, long *out);
/* Process start time (field 22 of /proc/PID/stat), 0 if the process is gone. */
unsigned long long proc_start_time(pid_t pid);
/* True when pid is alive and still the process started at start_time. */
bool proc_alive(pid_t pid, unsigned long long start_time);
/* Make fds above `keep` close-on-exec (leaving 0..keep). */
void close_range_cloexec(int keep);
/* The fds execve would close (close-on-exec ones) at this moment, up to max. */
size_t cloexec_fds(int *fds, size_t max);
/* Connect a stream socket to a unix socket path. */
int unix_connect(const char *path, cerr_t *err);
/* Send data with one fd attached (SCM_RIGHTS); -1 with errno on failure. */
int send_fd_msg(int sock, int fd, const void *data, size_t len);
/* Receive one byte with one fd attached (close-on-exec): the fd, or -1 with
 * errno (0 when the peer sent no fd or closed its end). */
int recv_fd_msg(int sock);
/* Write a pid file atomically (--pid-file). */
int write_pid_file(const char *path, pid_t pid, cerr_t *err);
/* Join the namespace `nsfd` (of type flag, /proc/self/ns/proc_name) for the
 * children we make next; returns an fd of our own namespace for ns_restore,
 * so that we, and later children such as a sanitizer's tracer or a runtime
 * hook, stay in ours. */
int ns_enter(int nsfd, const char *proc_name, int flag, cerr_t *err);
void ns_restore(int saved, int flag);
/* Monotonic clock in nanoseconds. */
unsigned long long now_ns(void);

#endif
