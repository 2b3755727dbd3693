/* Unit tests for the sandbox level's kernel pieces (src/level/sandbox):
 * the initial stack, the ELF loader on a real static binary, whole programs
 * run by the kernel, the ENOSYS table, and both seccomp filters. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "level/sandbox/kernel/kernel.h"
#include "unit.h"

#define BUSYBOX "/bin/busybox"

static uint64_t word(const uint8_t *buf, uint64_t low, uint64_t addr)
{
    uint64_t v;
    memcpy(&v, buf + (addr - low), 8);
    return v;
}

static void test_stack_layout(void)
{
    static uint8_t buf[8192];
    const uint64_t top = 0x7ffff000, low = top - sizeof(buf);
    char *argv[] = {"prog", "arg one", NULL};
    char *envp[] = {"A=1", NULL};
    const uint8_t rnd[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    struct sb_elf elf = {.entry = 0x401000, .phdr = 0x400040, .phnum = 7, .phent = 56};
    struct sb_stack_in in = {.argv = argv,
                             .envp = envp,
                             .elf = &elf,
                             .uid = 1000,
                             .gid = 100,
                             .random = rnd,
                             .execfn = "/bin/prog"};
    uint64_t sp;
    CHECK(sb_stack_build(&in, buf, sizeof(buf), top, &sp) == 0);
    CHECK(sp % 16 == 0 && sp >= low && sp < top);
    CHECK(word(buf, low, sp) == 2);
    CHECK_STR((char *)buf + (word(buf, low, sp + 8) - low), "prog");
    CHECK_STR((char *)buf + (word(buf, low, sp + 16) - low), "arg one");
    CHECK(word(buf, low, sp + 24) == 0);
    CHECK_STR((char *)buf + (word(buf, low, sp + 32) - low), "A=1");
    CHECK(word(buf, low, sp + 40) == 0);
    uint64_t seen = 0;
    for (uint64_t p = sp + 48; word(buf, low, p) != AT_NULL; p += 16) {
        uint64_t k = word(buf, low, p), v = word(buf, low, p + 8);
        if (k == AT_ENTRY) {
            CHECK(v == 0x401000);
            seen |= 1;
        }
        if (k == AT_PHDR) {
            CHECK(v == 0x400040);
            seen |= 2;
        }
        if (k == AT_PAGESZ) {
            CHECK(v == 4096);
            seen |= 4;
        }
        if (k == AT_RANDOM) {
            CHECK(memcmp(buf + (v - low), rnd, 16) == 0);
            seen |= 8;
        }
        if (k == AT_UID) {
            CHECK(v == 1000);
            seen |= 16;
        }
        if (k == AT_PHNUM) {
            CHECK(v == 7);
            seen |= 32;
        }
        CHECK(k != AT_SYSINFO_EHDR);
    }
    CHECK(seen == 63);
    /* Too small a stack is refused, not overrun. */
    CHECK(sb_stack_build(&in, buf, 64, top, &sp) < 0);
}

static void expect_refused(const char *path, const char *why)
{
    cerr_t err = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(sb_elf_check(fd, path, &err) < 0);
    CHECK(err != NULL && strstr(cerr_msg(err), why) != NULL);
    if (err)
        printf("# %s\n", cerr_msg(err));
    cerr_free(&err);
    close(fd);
}

static void test_elf_refused(void)
{
    char script[] = "/tmp/cella-sb-script.XXXXXX";
    int fd = mkstemp(script);
    CHECK(write(fd, "#!/bin/sh\n", 10) == 10);
    close(fd);
    expect_refused(script, "a script");
    unlink(script);
    expect_refused("/etc/hostname", "not an ELF");
}

/* A task with a stub process and an address space, no program yet. */
static int task_init(struct sb_task *t, struct sb_kernel *k)
{
    memset(k, 0, sizeof(*k));
    k->rootfd = open("/", O_PATH | O_CLOEXEC);
    strcpy(k->cwd, "/");
    k->hostname = "unit";
    memset(t, 0, sizeof(*t));
    t->k = k;
    t->pid = t->tid = 1;
    t->mm = calloc(1, sizeof(*t->mm));
    t->files = calloc(1, sizeof(*t->files));
    sb_files_init(t->files);
    cerr_t err = NULL;
    if (sb_mm_init(t->mm, &err) < 0 || sb_zygote_start(&k->zygote, &err) < 0 ||
        sb_stub_spawn(&k->zygote, t->mm->memfd, t->mm->kbase, &t->stub, &err) < 0) {
        printf("# %s\n", cerr_msg(err));
        cerr_free(&err);
        return -1;
    }
    return 0;
}

static void task_done(struct sb_task *t, struct sb_kernel *k)
{
    sb_task_free(t);
    sb_zygote_stop(&k->zygote);
    close(k->rootfd);
}

static void test_elf_load_busybox(void)
{
    if (access(BUSYBOX, R_OK) != 0)
        SKIP("no " BUSYBOX " (apt-get install busybox-static)");
    struct sb_kernel k;
    struct sb_task t;
    CHECK(task_init(&t, &k) == 0);
    int fd = open(BUSYBOX, O_RDONLY | O_CLOEXEC);
    cerr_t err = NULL;
    struct sb_elf elf;
    CHECK(sb_elf_load(&t, fd, BUSYBOX, &elf, &err) == 0);
    Elf64_Ehdr eh;
    CHECK(pread(fd, &eh, sizeof(eh), 0) == sizeof(eh));
    CHECK(elf.entry == elf.bias + eh.e_entry);
    /* Every PT_LOAD's file bytes are in workload memory at its address. */
    int loads = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        CHECK(pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) == sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_filesz == 0)
            continue;
        loads++;
        char *want = malloc(ph.p_filesz), *got = malloc(ph.p_filesz);
        CHECK(pread(fd, want, ph.p_filesz, (off_t)ph.p_offset) == (ssize_t)ph.p_filesz);
        CHECK(sb_copy_in(t.mm, got, elf.bias + ph.p_vaddr, ph.p_filesz) == 0);
        CHECK(memcmp(want, got, ph.p_filesz) == 0);
        /* The bss after the file bytes is zero. */
        if (ph.p_memsz > ph.p_filesz) {
            uint8_t z = 1;
            CHECK(sb_copy_in(t.mm, &z, elf.bias + ph.p_vaddr + ph.p_memsz - 1, 1) == 0);
            CHECK(z == 0);
        }
        /* A segment without PF_W is not writable through the kernel either. */
        if (!(ph.p_flags & PF_W))
            CHECK(sb_copy_out(t.mm, elf.bias + ph.p_vaddr, "x", 1) == -EFAULT);
        free(want);
        free(got);
    }
    CHECK(loads >= 2);
    /* The stub region is never workload memory. */
    uint8_t b;
    CHECK(sb_copy_in(t.mm, &b, SB_STUB_BASE + SB_SLOT_SIZE, 1) == -EFAULT);
    CHECK(sb_mm_map(&t, SB_STUB_BASE, 4096, PROT_READ, true) == -ENOMEM);
    close(fd);
    task_done(&t, &k);
}

/* Run a program from the host's / with the kernel; its stdout into out. */
static int run(char *const argv[], char *out, size_t outsz, struct sb_kernel *kout)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    int saved = dup(1);
    dup2(p[1], 1);
    close(p[1]);
    static struct sb_kernel k;
    memset(&k, 0, sizeof(k));
    k.rootfd = open("/", O_PATH | O_CLOEXEC);
    strcpy(k.cwd, "/");
    k.hostname = "unit-host";
    k.uid = 1234;
    k.gid = 5678;
    char *envp[] = {"PATH=/bin", NULL};
    struct sb_start s = {.exe = argv[0], .argv = argv, .envp = envp, .uid = k.uid, .gid = k.gid};
    cerr_t err = NULL;
    struct sb_task t;
    int status = -1;
    s.exe_fd = sb_open_exe(k.rootfd, argv[0], &err);
    if (s.exe_fd >= 0 && sb_task_start(&t, &k, &s, &err) == 0) {
        dup2(saved, 1);
        status = sb_task_run(&t);
    } else {
        printf("# %s\n", cerr_msg(err));
        cerr_free(&err);
    }
    dup2(saved, 1);
    close(saved);
    sb_task_free(&t);
    sb_zygote_stop(&k.zygote);
    close(s.exe_fd);
    close(k.rootfd);
    ssize_t n = read(p[0], out, outsz - 1);
    out[n > 0 ? n : 0] = '\0';
    close(p[0]);
    if (kout)
        *kout = k;
    return status;
}

static void test_run_busybox(void)
{
    if (access(BUSYBOX, R_OK) != 0)
        SKIP("no " BUSYBOX);
    char out[4096];
    char *echo[] = {BUSYBOX, "echo", "hello", "sandbox", NULL};
    CHECK(run(echo, out, sizeof(out), NULL) == 0);
    CHECK_STR(out, "hello sandbox\n");
    char *fls[] = {BUSYBOX, "false", NULL};
    CHECK(run(fls, out, sizeof(out), NULL) == 1);
    char *cat[] = {BUSYBOX, "cat", "/etc/hostname", NULL};
    CHECK(run(cat, out, sizeof(out), NULL) == 0);
    char want[256] = "";
    int fd = open("/etc/hostname", O_RDONLY);
    ssize_t n = read(fd, want, sizeof(want) - 1);
    want[n > 0 ? n : 0] = '\0';
    close(fd);
    CHECK_STR(out, want);
    char *sh[] = {BUSYBOX, "sh", "-c", BUSYBOX " true; echo \"forked: $?\"", NULL};
    CHECK(run(sh, out, sizeof(out), NULL) == 0);
    CHECK_STR(out, "forked: 0\n");
    char *id[] = {BUSYBOX, "id", "-u", NULL};
    struct sb_kernel k;
    run(id, out, sizeof(out), &k);
    CHECK_STR(out, "1234\n");
}

static void test_enosys_counted(void)
{
    struct sb_kernel k;
    memset(&k, 0, sizeof(k));
    struct sb_task t;
    memset(&t, 0, sizeof(t));
    t.k = &k;
    CHECK(sb_syscall(&t, SYS_ptrace) == -ENOSYS);
    CHECK(sb_syscall(&t, SYS_ptrace) == -ENOSYS);
    CHECK(sb_syscall(&t, 100000) == -ENOSYS);
    CHECK(k.enosys[SYS_ptrace] == 2);
    char *r = sb_enosys_report(&k);
    CHECK_STR(r, "ptrace(101) x2, beyond the table x1");
    free(r);
    memset(&k, 0, sizeof(k));
    CHECK(sb_enosys_report(&k) == NULL);
}

/* A host call the stub makes with arguments the filter refuses kills it. */
static void expect_stub_killed(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                               uint64_t a4)
{
    struct sb_kernel k;
    struct sb_task t;
    CHECK(task_init(&t, &k) == 0);
    const uint64_t a[6] = {a0, a1, a2, a3, a4, 0};
    long r;
    CHECK(sb_stub_hostcall(&t.stub, nr, a, &r) < 0);
    CHECK(t.stub.dead && WIFSIGNALED(t.stub.status) && WTERMSIG(t.stub.status) == SIGSYS);
    task_done(&t, &k);
}

/* Unmapped memfd offsets are used again, and their pages are zero. */
static void test_mm_offsets_reused(void)
{
    struct sb_kernel k;
    struct sb_task t;
    CHECK(task_init(&t, &k) == 0);
    const uint64_t len = 4 << 20;
    uint64_t first = t.mm->next_off;
    for (int i = 0; i < 200; i++) {
        long a = sb_mm_map(&t, 0, len, PROT_READ | PROT_WRITE, false);
        CHECK(a > 0);
        uint8_t b = 0;
        CHECK(sb_copy_in(t.mm, &b, (uint64_t)a + 4096, 1) == 0 && b == 0);
        CHECK(sb_copy_out(t.mm, (uint64_t)a + 4096, "x", 1) == 0);
        CHECK(sb_mm_unmap(&t, (uint64_t)a, len) == 0);
    }
    CHECK(t.mm->next_off - first <= len);
    /* A split unmapping returns both pieces. */
    long a = sb_mm_map(&t, 0, 3 * 4096, PROT_READ, false);
    CHECK(sb_mm_unmap(&t, (uint64_t)a + 4096, 4096) == 0);
    CHECK(sb_mm_unmap(&t, (uint64_t)a, 3 * 4096) == 0);
    CHECK(t.mm->next_off - first <= len);
    task_done(&t, &k);
}

static void test_stub_filter(void)
{
    /* allowed: mmap of the memfd, shared and fixed */
    struct sb_kernel k;
    struct sb_task t;
    CHECK(task_init(&t, &k) == 0);
    CHECK(sb_mm_map(&t, 0x10000000, 8192, PROT_READ, true) == 0x10000000);
    task_done(&t, &k);
    expect_stub_killed(SYS_getpid, 0, 0, 0, 0, 0);
    expect_stub_killed(SYS_mmap, 0x10000000, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, 0);
    expect_stub_killed(SYS_mmap, 0x10000000, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    expect_stub_killed(SYS_futex, 0x10000000, 0, 0, 0, 0); /* not a context page */
    expect_stub_killed(SYS_futex, SB_STUB_BASE + SB_SLOT_SIZE, 6 /* FUTEX_LOCK_PI */, 0, 0, 0);
    expect_stub_killed(SYS_arch_prctl, 0x1001 /* ARCH_SET_GS */, 0, 0, 0, 0);
    expect_stub_killed(SYS_mprotect, 0x10000000, 4096, PROT_READ | PROT_GROWSDOWN, 0, 0);
    /* clone: only a thread with the stub's flags, its stack and its cleared
     * word in the thread slots (platform_thread.c) */
    const uint64_t slot = SB_STUB_BASE + 2 * SB_SLOT_SIZE;
    expect_stub_killed(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    expect_stub_killed(SYS_clone, SB_THREAD_CLONE_FLAGS | CLONE_NEWUSER, slot, 0, slot, 0);
    expect_stub_killed(SYS_clone, SB_THREAD_CLONE_FLAGS & ~CLONE_SETTLS, slot, 0, slot, 0);
    expect_stub_killed(SYS_clone, SB_THREAD_CLONE_FLAGS, 0x10000000, 0, slot, 0);
    expect_stub_killed(SYS_clone, SB_THREAD_CLONE_FLAGS, slot, 0, 0x10000000, 0);
    expect_stub_killed(SYS_clone3, 0x10000000, 88, 0, 0, 0);
}

/* Stubs are made after the kernel has confined itself (fork, execve of
 * later processes): through the zygote, under the kernel's filter. */
static void test_spawn_under_kernel_filter(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct sb_kernel k;
        struct sb_task t;
        memset(&k, 0, sizeof(k));
        memset(&t, 0, sizeof(t));
        t.k = &k;
        t.mm = calloc(1, sizeof(*t.mm));
        cerr_t err = NULL;
        if (sb_mm_init(t.mm, &err) < 0 || sb_zygote_start(&k.zygote, &err) < 0)
            _exit(2);
        if (sb_kernel_filter_install(&err) < 0)
            _exit(3);
        if (sb_stub_spawn(&k.zygote, t.mm->memfd, t.mm->kbase, &t.stub, &err) < 0)
            _exit(4);
        if (sb_mm_map(&t, 0x10000000, 4096, PROT_READ, true) != 0x10000000)
            _exit(5);
        sb_stub_kill(&t.stub);
        syscall(SYS_exit_group, WIFSIGNALED(t.stub.status) ? 0 : 6);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        printf("# status %#x\n", st);
}

/* The kernel's filter: a call outside its list kills the process; socket
 * only for the families net.c makes (a Unix socket names host paths). */
static void test_kernel_filter(void)
{
    printf("# allowed: %s\n", sb_kernel_filter_list());
    static const struct {
        const char *what;
        int family; /* 0: an allowed write instead */
        bool killed;
        bool pair; /* socketpair instead of socket */
    } cases[] = {{"write", 0, false, false},
                 {"socket(AF_INET)", AF_INET, false, false},
                 {"socket(AF_INET6)", AF_INET6, false, false},
                 {"socket(AF_UNIX)", AF_UNIX, true, false},
                 {"socket(AF_NETLINK)", AF_NETLINK, true, false},
                 {"socketpair(AF_UNIX)", AF_UNIX, false, true},
                 {"socketpair(AF_NETLINK)", AF_NETLINK, true, true}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pid_t pid = fork();
        if (pid == 0) {
            cerr_t err = NULL;
            if (sb_kernel_filter_install(&err) < 0)
                _exit(3);
            int sv[2];
            if (cases[i].pair && socketpair(cases[i].family, SOCK_STREAM, 0, sv) < 0)
                _exit(5);
            else if (cases[i].family != 0 && !cases[i].pair)
                socket(cases[i].family, SOCK_STREAM, 0);
            else if (write(1, "", 0) != 0)
                _exit(4);
            syscall(SYS_exit_group, 0);
        }
        int st;
        waitpid(pid, &st, 0);
        bool ok = cases[i].killed ? WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS
                                  : WIFEXITED(st) && WEXITSTATUS(st) == 0;
        CHECK(ok);
        if (!ok)
            printf("# %s: status %#x\n", cases[i].what, st);
    }
}

int main(void)
{
    RUN(test_stack_layout);
    RUN(test_elf_refused);
    RUN(test_elf_load_busybox);
    RUN(test_run_busybox);
    RUN(test_enosys_counted);
    RUN(test_mm_offsets_reused);
    RUN(test_stub_filter);
    RUN(test_kernel_filter);
    RUN(test_spawn_under_kernel_filter);
    return UNIT_DONE();
}
