/* Dynamic executables: the interpreter a program names (PT_INTERP, as
 * /lib64/ld-linux-x86-64.so.2) is found beneath the sandbox's root, never
 * the host's, and loaded where free memory is, as Linux's binfmt_elf does;
 * the program starts at its entry with AT_BASE saying where it is, and the
 * interpreter maps the libraries itself with open and mmap. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "level/sandbox/kernel/kernel.h"

int sb_interp_open(struct sb_task *t, int rootfd, int exe_fd, const char *exe,
                   char interp[SB_PATH_MAX], int *ifd, cerr_t *err)
{
    *ifd = -1;
    int has = sb_elf_interp(exe_fd, exe, interp, SB_PATH_MAX, err);
    if (has <= 0)
        return has;
    /* As every path of the process (relative: to its cwd, as Linux opens
     * it); before there is one, beneath rootfd with the same rules. */
    int fd;
    if (t != NULL) {
        fd = sb_open_path(t, (uint64_t)AT_FDCWD, interp, O_RDONLY, 0, NULL);
    } else {
        struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
                               .resolve =
                                   RESOLVE_IN_ROOT | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS};
        fd = (int)syscall(SYS_openat2, rootfd, interp, &how, sizeof(how));
        fd = fd < 0 ? (errno == EXDEV ? -EACCES : -errno) : fd;
    }
    if (fd < 0) {
        cerr_set(err, -fd, "`%s`: its interpreter `%s` in the rootfs", exe, interp);
        (*err)->code = fd == -ENOENT || fd == -ENOTDIR ? CERR_EXE_MISSING : 0;
        return -1;
    }
    /* A regular file (Linux's open_exec: EACCES), an ELF of its own
     * without an interpreter (ELIBBAD otherwise). */
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        cerr_set(err, EACCES, "`%s`: its interpreter `%s`", exe, interp);
        close(fd);
        return -1;
    }
    char again[8];
    cerr_t why = NULL;
    int r = sb_elf_interp(fd, interp, again, sizeof(again), &why);
    if (r != 0) {
        cerr_set(err, 0, "`%s`: its interpreter `%s`: %s", exe, interp,
                 r < 0 ? cerr_msg(why) : "names an interpreter itself");
        (*err)->errnum = ELIBBAD; /* execve's error; the message has the reason */
        cerr_free(&why);
        close(fd);
        return -1;
    }
    *ifd = fd;
    return 0;
}

int sb_interp_load(struct sb_task *t, const struct sb_start *s, struct sb_elf *elf, cerr_t *err)
{
    char name[SB_PATH_MAX];
    int fd;
    if (sb_interp_open(t, -1, s->exe_fd, s->exe, name, &fd, err) < 0)
        return -1;
    if (fd < 0)
        return 0; /* static */
    struct sb_elf in;
    int r = sb_elf_load_anywhere(t, fd, name, &in, err);
    close(fd);
    if (r < 0)
        return -1;
    elf->interp = true;
    elf->interp_base = in.bias;
    elf->interp_entry = in.entry;
    return 0;
}
