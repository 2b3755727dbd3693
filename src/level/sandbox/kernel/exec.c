/* execve: the program, its arguments and environment are copied into the
 * kernel and checked before the point of no return; after it, the address
 * space is emptied and the new program loaded into it (the same stub
 * process and memfd). A failure after that point ends the process with
 * SIGSEGV, as Linux's does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "level/sandbox/kernel/sys.h"

#define MAX_STRINGS 4096
#define MAX_BYTES   (192 << 10) /* below the 256 KiB the stack builder is given */

struct strv {
    char *v[MAX_STRINGS + 1];
    size_t n, bytes;
};

static void strv_free(struct strv *a, struct strv *b)
{
    for (size_t i = 0; a != NULL && i < a->n; i++)
        free(a->v[i]);
    for (size_t i = 0; b != NULL && i < b->n; i++)
        free(b->v[i]);
    free(a);
    free(b);
}

/* A NULL-terminated array of string pointers in workload memory. */
static long strv_copy(struct sb_task *t, uint64_t addr, struct strv *s)
{
    s->n = 0;
    s->bytes = 0;
    s->v[0] = NULL;
    if (addr == 0)
        return 0; /* Linux takes a NULL argv or envp as empty */
    char buf[SB_PATH_MAX];
    for (;;) {
        uint64_t p;
        int r = sb_copy_in(t->mm, &p, addr + 8 * s->n, sizeof(p));
        if (r < 0)
            return r;
        if (p == 0)
            return 0;
        if (s->n == MAX_STRINGS)
            return -E2BIG;
        r = sb_copy_str(t->mm, buf, p, sizeof(buf));
        if (r < 0)
            return r == -ENAMETOOLONG ? -E2BIG : r;
        s->bytes += strlen(buf) + 1 + 8;
        if (s->bytes > MAX_BYTES)
            return -E2BIG;
        s->v[s->n++] = strdup(buf);
        s->v[s->n] = NULL;
        if (s->v[s->n - 1] == NULL)
            return -ENOMEM;
    }
}

long sb_sys_execve(struct sb_task *t, const uint64_t a[6])
{
    char path[SB_PATH_MAX];
    int r = sb_copy_str(t->mm, path, a[0], sizeof(path));
    if (r < 0)
        return r;
    struct strv *argv = calloc(1, sizeof(*argv)), *envp = calloc(1, sizeof(*envp));
    long e = argv == NULL || envp == NULL ? -ENOMEM : strv_copy(t, a[1], argv);
    if (e == 0)
        e = strv_copy(t, a[2], envp);
    int fd = -1;
    if (e == 0) {
        fd = sb_open_path(t, (uint64_t)AT_FDCWD, path, O_RDONLY, 0, NULL);
        if (fd < 0)
            e = fd;
    }
    cerr_t err = NULL;
    char interp[SB_PATH_MAX];
    int ifd = -1;
    if (e == 0 && sb_elf_check(fd, path, &err) < 0)
        e = -ENOEXEC; /* scripts: not yet */
    else if (e == 0 && sb_interp_open(t, -1, fd, path, interp, &ifd, &err) < 0)
        e = cerr_code(err) == CERR_EXE_MISSING ? -ENOENT : err->errnum ? -err->errnum : -ENOEXEC;
    if (ifd >= 0)
        close(ifd); /* opened again by the load, past the point of no return */
    cerr_free(&err);
    if (e < 0) {
        if (fd >= 0)
            close(fd);
        strv_free(argv, envp);
        return e;
    }
    /* The point of no return. The other threads end first (the caller's
     * carries on as the process's first thread, t from here). */
    struct sb_task *caller = t;
    if (sb_thread_exec(&t) < 0) {
        t->exited = true;
        t->exit_status = SIGSEGV;
        close(fd);
        strv_free(argv, envp);
        sb_thread_exec_done(caller, t);
        return 0;
    }
    sb_files_close_on_exec(t->files);
    for (int i = 0; i < 64; i++)
        if (t->act[i].handler > 1) /* neither SIG_DFL nor SIG_IGN */
            t->act[i] = (struct sb_sigaction){0};
    const uint64_t fs0[6] = {0x1002 /* ARCH_SET_FS */, 0};
    long ignored;
    sb_stub_hostcall(&t->stub, SYS_arch_prctl, fs0, &ignored);
    t->fs_base = 0;
    t->ss_sp = t->ss_size = t->ss_flags = 0; /* no alternate stack, as Linux's execve */
    t->clear_child_tid = 0;
    struct sb_start s = {.exe = path,
                         .exe_fd = fd,
                         .argv = argv->v,
                         .envp = envp->v,
                         .uid = t->k->uid,
                         .gid = t->k->gid};
    if (sb_mm_reset(t) < 0 || sb_task_load(t, &s, &err) < 0) {
        cerr_free(&err);
        t->exited = true;
        t->exit_status = SIGSEGV; /* as killed by it */
    }
    close(fd);
    strv_free(argv, envp);
    sb_thread_exec_done(caller, t);
    return 0;
}
