/* Unit tests for src/level/container/seccomp.c. Filters are compiled in the
 * parent and installed in forked children, which report through their exit
 * status (raw exit_group, nothing else after the filter is loaded). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/seccomp.h>

#include "core/util.h"
#include "level/container/seccomp.h"
#include "unit.h"

/* ---- building specs by hand ---- */

#define MAX_RULES 8
#define MAX_ARGS  4

struct fixture {
    struct spec_seccomp s;
    struct spec_seccomp_rule rules[MAX_RULES];
    struct spec_seccomp_arg args[MAX_RULES][MAX_ARGS];
    char *names[MAX_RULES][8];
    char *archs[8];
    char *flags[8];
};

static void fx_init(struct fixture *f, const char *default_action)
{
    memset(f, 0, sizeof(*f));
    f->s.present = true;
    f->s.default_action = (char *)default_action;
    f->s.syscalls = f->rules;
    f->s.architectures.v = f->archs;
    f->s.flags.v = f->flags;
}

/* Add a rule; the name list ends with NULL. Returns the rule index. */
static size_t fx_rule(struct fixture *f, const char *action, ...)
{
    size_t i = f->s.n_syscalls++;
    struct spec_seccomp_rule *r = &f->rules[i];
    r->action = (char *)action;
    r->names.v = f->names[i];
    r->args = f->args[i];
    va_list ap;
    va_start(ap, action);
    const char *n;
    while ((n = va_arg(ap, const char *)) != NULL)
        r->names.v[r->names.n++] = (char *)n;
    va_end(ap);
    return i;
}

static void fx_errno(struct fixture *f, size_t rule, unsigned ret)
{
    f->rules[rule].has_errno_ret = true;
    f->rules[rule].errno_ret = ret;
}

static void fx_arg(struct fixture *f, size_t rule, unsigned index, const char *op, uint64_t value,
                   uint64_t value_two)
{
    struct spec_seccomp_rule *r = &f->rules[rule];
    r->args[r->n_args++] = (struct spec_seccomp_arg){
        .index = index, .value = value, .value_two = value_two, .op = (char *)op};
}

static void fx_arch(struct fixture *f, const char *a)
{
    f->archs[f->s.architectures.n++] = (char *)a;
}

static void fx_flag(struct fixture *f, const char *fl)
{
    f->flags[f->s.flags.n++] = (char *)fl;
}

/* ---- running children ---- */

#define CHILD_FAIL(code) syscall(SYS_exit_group, (code))

/* Fork; the child sets no_new_privs, installs the program and runs body(),
 * whose return value becomes the exit status. Returns the wait status. */
static int run_child(const struct seccomp_prog *p, int (*body)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            syscall(SYS_exit_group, 100);
        cerr_t err = NULL;
        if (seccomp_install(p, &err) < 0)
            syscall(SYS_exit_group, 101);
        syscall(SYS_exit_group, body());
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

static int exited(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int compile_ok(struct fixture *f, struct seccomp_prog *p)
{
    cerr_t err = NULL;
    int rc = seccomp_compile(&f->s, p, &err);
    if (rc < 0)
        printf("#   compile failed: %s\n", cerr_msg(err));
    cerr_free(&err);
    return rc == 0 && p->len > 0 && p->bpf != NULL;
}

/* Compile expecting failure; the message must equal `want`. */
static void compile_fails(struct fixture *f, const char *want)
{
    struct seccomp_prog p;
    cerr_t err = NULL;
    CHECK(seccomp_compile(&f->s, &p, &err) == -1);
    CHECK(err != NULL);
    CHECK_STR(cerr_msg(err), want);
    CHECK(p.bpf == NULL && p.len == 0);
    cerr_free(&err);
    seccomp_prog_free(&p);
}

/* raw syscalls: no libc/sanitizer wrappers in the filtered child */
static long raw_errno(long rc)
{
    return rc < 0 ? errno : 0;
}

static int body_getcwd_38(void)
{
    char buf[256];
    long rc = syscall(SYS_getcwd, buf, sizeof(buf));
    return rc == -1 && errno == 38 ? 0 : 1;
}

static int body_getcwd_works(void)
{
    char buf[256];
    return syscall(SYS_getcwd, buf, sizeof(buf)) > 0 ? 0 : 1;
}

static int body_getcwd_enosys(void)
{
    char buf[256];
    long rc = syscall(SYS_getcwd, buf, sizeof(buf));
    return rc == -1 && errno == ENOSYS ? 0 : 1;
}

static int body_getppid(void)
{
    syscall(SYS_getppid);
    return 0;
}

/* ---- tests ---- */

static void errno_rule(void)
{
    struct fixture f;
    struct seccomp_prog p;
    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_errno(&f, fx_rule(&f, "SCMP_ACT_ERRNO", "getcwd", NULL), 38);
    CHECK(compile_ok(&f, &p));
    CHECK(p.flags == 0);
    CHECK(exited(run_child(&p, body_getcwd_38)) == 0);
    /* no filter: getcwd works in the same kind of child */
    CHECK(exited(run_child(NULL, body_getcwd_works)) == 0);
    seccomp_prog_free(&p);
    CHECK(p.bpf == NULL && p.len == 0);
}

static int body_default_eperm(void)
{
    if (syscall(SYS_getpid) <= 0)
        return 1; /* allowed */
    long rc = syscall(SYS_getppid);
    if (rc != -1 || errno != EPERM)
        return 2;
    return 0;
}

static void default_errno_allow_list(void)
{
    struct fixture f;
    struct seccomp_prog p;
    fx_init(&f, "SCMP_ACT_ERRNO");
    fx_rule(&f, "SCMP_ACT_ALLOW", "exit_group", "exit", "rt_sigreturn", "write", "getpid", NULL);
    CHECK(compile_ok(&f, &p));
    CHECK(exited(run_child(&p, body_default_eperm)) == 0);
    seccomp_prog_free(&p);
}

static int body_default_13(void)
{
    long rc = syscall(SYS_getppid);
    return rc == -1 && errno == 13 ? 0 : 1;
}

static void default_errno_ret(void)
{
    struct fixture f;
    struct seccomp_prog p;
    fx_init(&f, "SCMP_ACT_ERRNO");
    f.s.has_default_errno_ret = true;
    f.s.default_errno_ret = 13;
    fx_rule(&f, "SCMP_ACT_ALLOW", "exit_group", "exit", NULL);
    CHECK(compile_ok(&f, &p));
    CHECK(exited(run_child(&p, body_default_13)) == 0);
    seccomp_prog_free(&p);
}

/* getppid is older than the profile's newest syscall (rseq): the default
 * action; 439 (faccessat2) and 0x40000000|439 (its x32 number) are newer:
 * ENOSYS, as the kernel says for a syscall it does not have (runc's stub). */
static int body_enosys_newer(void)
{
    if (syscall(SYS_getppid) != -1 || errno != EPERM)
        return 1;
    if (syscall(439, -1, "", 0, 0) != -1 || errno != ENOSYS)
        return 2;
    if (syscall(0x40000000 | 439, -1, "", 0, 0) != -1 || errno != ENOSYS)
        return 3;
    return 0;
}

static int body_eperm_newer(void)
{
    return syscall(439, -1, "", 0, 0) == -1 && errno == EPERM ? 0 : 1;
}

static void enosys_for_newer_syscalls(void)
{
    struct fixture f;
    struct seccomp_prog p;
    fx_init(&f, "SCMP_ACT_ERRNO");
    fx_arch(&f, "SCMP_ARCH_X86_64");
    fx_arch(&f, "SCMP_ARCH_X86");
    fx_arch(&f, "SCMP_ARCH_X32");
    fx_rule(&f, "SCMP_ACT_ALLOW", "exit_group", "exit", "rseq", NULL);
    CHECK(compile_ok(&f, &p));
    CHECK(exited(run_child(&p, body_enosys_newer)) == 0);
    seccomp_prog_free(&p);
    /* as runc: only for the architectures the profile lists */
    fx_init(&f, "SCMP_ACT_ERRNO");
    fx_rule(&f, "SCMP_ACT_ALLOW", "exit_group", "exit", "rseq", NULL);
    CHECK(compile_ok(&f, &p));
    CHECK(exited(run_child(&p, body_eperm_newer)) == 0);
    seccomp_prog_free(&p);
}

static void block_usr_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

static int body_kill_usr1(void)
{
    block_usr_signals();
    pid_t self = (pid_t)syscall(SYS_getpid);
    if (raw_errno(syscall(SYS_kill, self, SIGUSR1)) != EPERM)
        return 1;
    if (raw_errno(syscall(SYS_kill, self, 0)) != 0)
        return 2;
    if (raw_errno(syscall(SYS_kill, self, SIGUSR2)) != 0) /* blocked, stays pending */
        return 3;
    return 0;
}

static void args_rule(void)
{
    struct fixture f;
    struct seccomp_prog p;
    fx_init(&f, "SCMP_ACT_ALLOW");
    size_t r = fx_rule(&f, "SCMP_ACT_ERRNO", "kill", NULL);
    fx_arg(&f, r, 1, "SCMP_CMP_EQ", SIGUSR1, 0);
    CHECK(compile_ok(&f, &p));
    CHECK(exited(run_child(&p, body_kill_usr1)) == 0);
    seccomp_prog_free(&p);
}

/* dup(fd): EBADF when not filtered, 77 when filtered */
static int body_masked(void)
{
    if (raw_errno(syscall(SYS_dup, 0x123)) != 77)
        return 1;
    if (raw_errno(syscall(SYS_dup, 0x12f)) != 77)
        return 2;
    if (raw_errno(syscall(SYS_dup, 0x223)) != EBADF)
        return 3;
    if (raw_errno(syscall(SYS_dup, 0x103)) != EBADF)
        return 4;
    /* matches if mask and value were swapped: 0x1a0 & 0x120 == 0x120 */
    if (raw_errno(syscall(SYS_dup, 0x1a0)) != EBADF)
        return 5;
    return 0;
}

static void masked_eq(void)
{
    struct fixture f;
    struct seccomp_prog p;
    fx_init(&f, "SCMP_ACT_ALLOW");
    size_t r = fx_rule(&f, "SCMP_ACT_ERRNO", "dup", NULL);
    fx_errno(&f, r, 77);
    /* value is the mask, valueTwo the expected value */
    fx_arg(&f, r, 0, "SCMP_CMP_MASKED_EQ", 0xff0, 0x120);
    CHECK(compile_ok(&f, &p));
    CHECK(exited(run_child(&p, body_masked)) == 0);
    seccomp_prog_free(&p);
}

/* Two args on index 0 (fd == 0x100 OR fd == 0x200) plus, in another rule, two
 * distinct indexes (AND): dup3(fd, 0x300, 0) vs dup3(fd, 0x301, 0). */
static int body_or_and(void)
{
    if (raw_errno(syscall(SYS_dup, 0x100)) != 77)
        return 1;
    if (raw_errno(syscall(SYS_dup, 0x200)) != 77)
        return 2;
    if (raw_errno(syscall(SYS_dup, 0x300)) != EBADF)
        return 3;
    if (raw_errno(syscall(SYS_dup3, 0x400, 0x300, 0)) != 78)
        return 4;
    if (raw_errno(syscall(SYS_dup3, 0x401, 0x300, 0)) != EBADF)
        return 5;
    if (raw_errno(syscall(SYS_dup3, 0x400, 0x301, 0)) != EBADF)
        return 6;
    return 0;
}

static void same_index_is_or(void)
{
    struct fixture f;
    struct seccomp_prog p;
    fx_init(&f, "SCMP_ACT_ALLOW");
    size_t r = fx_rule(&f, "SCMP_ACT_ERRNO", "dup", NULL);
    fx_errno(&f, r, 77);
    fx_arg(&f, r, 0, "SCMP_CMP_EQ", 0x100, 0);
    fx_arg(&f, r, 0, "SCMP_CMP_EQ", 0x200, 0);
    r = fx_rule(&f, "SCMP_ACT_ERRNO", "dup3", NULL);
    fx_errno(&f, r, 78);
    fx_arg(&f, r, 0, "SCMP_CMP_EQ", 0x400, 0);
    fx_arg(&f, r, 1, "SCMP_CMP_EQ", 0x300, 0);
    CHECK(compile_ok(&f, &p));
    CHECK(exited(run_child(&p, body_or_and)) == 0);
    seccomp_prog_free(&p);
}

/* The other operators, on dup/dup3 (EBADF when not filtered). */
static int body_ops(void)
{
    /* dup: fd LT 0x510 -> 70, fd GT 0x5f0 -> 71 */
    if (raw_errno(syscall(SYS_dup, 0x505)) != 70)
        return 1;
    if (raw_errno(syscall(SYS_dup, 0x600)) != 71)
        return 2;
    if (raw_errno(syscall(SYS_dup, 0x520)) != EBADF)
        return 3;
    /* dup3: oldfd GE 0x700 AND newfd NE 0x701 AND flags LE 0x10 -> 72 */
    if (raw_errno(syscall(SYS_dup3, 0x700, 0x702, 0)) != 72)
        return 4;
    if (raw_errno(syscall(SYS_dup3, 0x700, 0x701, 0)) != EBADF)
        return 5;
    if (raw_errno(syscall(SYS_dup3, 0x6ff, 0x702, 0)) != EBADF)
        return 6;
    return 0;
}

static void all_operators(void)
{
    struct fixture f;
    struct seccomp_prog p;
    fx_init(&f, "SCMP_ACT_ALLOW");
    size_t r = fx_rule(&f, "SCMP_ACT_ERRNO", "dup", NULL);
    fx_errno(&f, r, 70);
    fx_arg(&f, r, 0, "SCMP_CMP_LT", 0x510, 0);
    r = fx_rule(&f, "SCMP_ACT_ERRNO", "dup", NULL);
    fx_errno(&f, r, 71);
    fx_arg(&f, r, 0, "SCMP_CMP_GT", 0x5f0, 0);
    r = fx_rule(&f, "SCMP_ACT_ERRNO", "dup3", NULL);
    fx_errno(&f, r, 72);
    fx_arg(&f, r, 0, "SCMP_CMP_GE", 0x700, 0);
    fx_arg(&f, r, 1, "SCMP_CMP_NE", 0x701, 0);
    fx_arg(&f, r, 2, "SCMP_CMP_LE", 0x10, 0);
    CHECK(compile_ok(&f, &p));
    CHECK(exited(run_child(&p, body_ops)) == 0);
    seccomp_prog_free(&p);
}

static void kill_process(void)
{
    struct fixture f;
    struct seccomp_prog p;
    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_rule(&f, "SCMP_ACT_KILL_PROCESS", "getppid", NULL);
    CHECK(compile_ok(&f, &p));
    int st = run_child(&p, body_getppid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
    seccomp_prog_free(&p);
}

static void kill_thread_and_trap(void)
{
    const char *actions[] = {"SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"};
    for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
        struct fixture f;
        struct seccomp_prog p;
        fx_init(&f, "SCMP_ACT_ALLOW");
        fx_rule(&f, actions[i], "getppid", NULL);
        CHECK(compile_ok(&f, &p));
        int st = run_child(&p, body_getppid);
        if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS))
            printf("#   %s: status 0x%x\n", actions[i], st);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
        seccomp_prog_free(&p);
    }
}

static void trace_and_log(void)
{
    struct fixture f;
    struct seccomp_prog p;
    /* TRACE without a tracer: the syscall fails with ENOSYS */
    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_rule(&f, "SCMP_ACT_TRACE", "getcwd", NULL);
    CHECK(compile_ok(&f, &p));
    CHECK(exited(run_child(&p, body_getcwd_enosys)) == 0);
    seccomp_prog_free(&p);
    /* LOG lets the syscall through */
    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_rule(&f, "SCMP_ACT_LOG", "getcwd", NULL);
    CHECK(compile_ok(&f, &p));
    CHECK(exited(run_child(&p, body_getcwd_works)) == 0);
    seccomp_prog_free(&p);
}

static void unknown_syscall_skipped(void)
{
    struct fixture f;
    struct seccomp_prog p;
    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_errno(&f, fx_rule(&f, "SCMP_ACT_ERRNO", "no_such_syscall_xyz", "getcwd", NULL), 38);
    fx_rule(&f, "SCMP_ACT_ERRNO", "another_bogus_one", NULL);
    CHECK(compile_ok(&f, &p));
    CHECK(exited(run_child(&p, body_getcwd_38)) == 0);
    seccomp_prog_free(&p);
}

static void default_action_rule_skipped(void)
{
    struct fixture f;
    struct seccomp_prog p;
    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_rule(&f, "SCMP_ACT_ALLOW", "getcwd", "getpid", NULL);
    fx_errno(&f, fx_rule(&f, "SCMP_ACT_ERRNO", "getcwd", NULL), 38);
    CHECK(compile_ok(&f, &p));
    CHECK(exited(run_child(&p, body_getcwd_38)) == 0);
    seccomp_prog_free(&p);
    /* ERRNO(EPERM) default, ERRNO with errnoRet 1 rule: same action, skipped */
    fx_init(&f, "SCMP_ACT_ERRNO");
    fx_errno(&f, fx_rule(&f, "SCMP_ACT_ERRNO", "getcwd", NULL), EPERM);
    CHECK(compile_ok(&f, &p));
    seccomp_prog_free(&p);
}

static void architectures(void)
{
    struct fixture f;
    struct seccomp_prog p, p1;
    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_errno(&f, fx_rule(&f, "SCMP_ACT_ERRNO", "getcwd", NULL), 38);
    CHECK(compile_ok(&f, &p1));
#if defined(__x86_64__)
    fx_arch(&f, "SCMP_ARCH_X86_64");
    fx_arch(&f, "SCMP_ARCH_X86");
    fx_arch(&f, "SCMP_ARCH_X32");
#elif defined(__aarch64__)
    fx_arch(&f, "SCMP_ARCH_AARCH64");
    fx_arch(&f, "SCMP_ARCH_ARM");
#endif
    CHECK(compile_ok(&f, &p));
    CHECK(p.len > p1.len); /* one section per extra architecture */
    CHECK(exited(run_child(&p, body_getcwd_38)) == 0);
    seccomp_prog_free(&p);
    seccomp_prog_free(&p1);
    /* every OCI name libseccomp 2.5 knows resolves (other endianness: skipped) */
    const char *all[] = {"SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",      "SCMP_ARCH_X32",
                         "SCMP_ARCH_ARM",      "SCMP_ARCH_AARCH64",     "SCMP_ARCH_MIPS",
                         "SCMP_ARCH_MIPS64",   "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL",
                         "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
                         "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",     "SCMP_ARCH_S390",
                         "SCMP_ARCH_S390X",    "SCMP_ARCH_RISCV64"};
    for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
        fx_init(&f, "SCMP_ACT_ALLOW");
        fx_arch(&f, all[i]);
        cerr_t err = NULL;
        if (seccomp_compile(&f.s, &p, &err) < 0)
            printf("#   %s: %s\n", all[i], cerr_msg(err));
        CHECK(err == NULL);
        cerr_free(&err);
        seccomp_prog_free(&p);
    }
}

static int tsync_seen_errno;
static int tsync_pipe[2];

static void *tsync_thread(void *arg)
{
    (void)arg;
    char c;
    while (syscall(SYS_read, tsync_pipe[0], &c, 1) < 0 && errno == EINTR)
        ;
    char buf[256];
    tsync_seen_errno = syscall(SYS_getcwd, buf, sizeof(buf)) < 0 ? errno : 0;
    return NULL;
}

static const struct seccomp_prog *tsync_prog;

/* Runs unfiltered in a child: starts a thread, installs with TSYNC, then
 * lets the thread try getcwd. */
static int body_tsync(void)
{
    pthread_t t;
    if (pipe(tsync_pipe) < 0)
        return 10;
    if (pthread_create(&t, NULL, tsync_thread, NULL) != 0)
        return 11;
    cerr_t err = NULL;
    if (seccomp_install(tsync_prog, &err) < 0)
        return 12;
    if (syscall(SYS_write, tsync_pipe[1], "x", 1) != 1)
        return 13;
    pthread_join(t, NULL);
    return tsync_seen_errno == 38 ? 0 : 1;
}

static void tsync_flag(void)
{
    struct fixture f;
    struct seccomp_prog p;
    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_errno(&f, fx_rule(&f, "SCMP_ACT_ERRNO", "getcwd", NULL), 38);
    fx_flag(&f, "SECCOMP_FILTER_FLAG_TSYNC");
    CHECK(compile_ok(&f, &p));
    CHECK(p.flags == SECCOMP_FILTER_FLAG_TSYNC);
    tsync_prog = &p;
    struct seccomp_prog none = {0};
    CHECK(exited(run_child(&none, body_tsync)) == 0);
    seccomp_prog_free(&p);
}

static void other_flags(void)
{
    struct fixture f;
    struct seccomp_prog p;
    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_errno(&f, fx_rule(&f, "SCMP_ACT_ERRNO", "getcwd", NULL), 38);
    fx_flag(&f, "SECCOMP_FILTER_FLAG_LOG");
    fx_flag(&f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
    fx_flag(&f, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
    CHECK(compile_ok(&f, &p));
    CHECK(p.flags == (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW));
    CHECK(exited(run_child(&p, body_getcwd_38)) == 0);
    seccomp_prog_free(&p);
}

static void not_present(void)
{
    struct fixture f;
    struct seccomp_prog p = {(void *)1, 5, 3};
    cerr_t err = NULL;
    fx_init(&f, "SCMP_ACT_BOGUS");
    f.s.present = false;
    CHECK(seccomp_compile(&f.s, &p, &err) == 0);
    CHECK(p.bpf == NULL && p.len == 0 && p.flags == 0);
    CHECK(seccomp_install(&p, &err) == 0);
    CHECK(err == NULL);
    seccomp_prog_free(&p);
    seccomp_prog_free(NULL);
}

static void error_messages(void)
{
    struct fixture f;
    size_t r;

    fx_init(&f, "SCMP_ACT_FOO");
    compile_fails(&f, "linux.seccomp.defaultAction: unknown action `SCMP_ACT_FOO`");

    fx_init(&f, NULL);
    compile_fails(&f, "linux.seccomp.defaultAction: missing");

    fx_init(&f, "SCMP_ACT_NOTIFY");
    compile_fails(&f, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default "
                      "action");

    /* the listener goes out with sendmsg, a failure with write: never notified */
    fx_init(&f, "SCMP_ACT_ALLOW");
    f.s.listener_path = (char *)"/agent.sock";
    fx_rule(&f, "SCMP_ACT_NOTIFY", "getcwd", NULL);
    fx_rule(&f, "SCMP_ACT_NOTIFY", "write", NULL);
    compile_fails(&f, "linux.seccomp.syscalls[1]: SCMP_ACT_NOTIFY cannot be used for the write "
                      "syscall");
    fx_init(&f, "SCMP_ACT_ALLOW");
    f.s.listener_path = (char *)"/agent.sock";
    fx_rule(&f, "SCMP_ACT_NOTIFY", "sendmsg", NULL);
    compile_fails(&f, "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY cannot be used for the sendmsg "
                      "syscall");

    fx_init(&f, "SCMP_ACT_ERRNO");
    f.s.has_default_errno_ret = true;
    f.s.default_errno_ret = 70000;
    compile_fails(&f, "linux.seccomp.defaultErrnoRet: 70000 is out of range (0..65535)");

    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_rule(&f, "SCMP_ACT_ERRNO", "getcwd", NULL);
    fx_rule(&f, "SCMP_ACT_LOG", "getcwd", NULL);
    fx_rule(&f, "SCMP_ACT_ERRNO", "getcwd", NULL);
    fx_rule(&f, "SCMP_ACT_BAR", "getcwd", NULL);
    compile_fails(&f, "linux.seccomp.syscalls[3].action: unknown action `SCMP_ACT_BAR`");

    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_rule(&f, "SCMP_ACT_ERRNO", "getcwd", NULL);
    fx_rule(&f, "SCMP_ACT_NOTIFY", "getcwd", NULL);
    compile_fails(&f, "linux.seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");

    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_rule(&f, NULL, "getcwd", NULL);
    compile_fails(&f, "linux.seccomp.syscalls[0].action: missing");

    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_errno(&f, fx_rule(&f, "SCMP_ACT_TRACE", "getcwd", NULL), 65536);
    compile_fails(&f, "linux.seccomp.syscalls[0].errnoRet: 65536 is out of range (0..65535)");

    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_rule(&f, "SCMP_ACT_ERRNO", "getcwd", NULL);
    r = fx_rule(&f, "SCMP_ACT_ERRNO", "kill", NULL);
    fx_arg(&f, r, 0, "SCMP_CMP_EQ", 1, 0);
    fx_arg(&f, r, 1, "SCMP_CMP_XX", 1, 0);
    compile_fails(&f, "linux.seccomp.syscalls[1].args[1].op: unknown operator `SCMP_CMP_XX`");

    fx_init(&f, "SCMP_ACT_ALLOW");
    r = fx_rule(&f, "SCMP_ACT_ERRNO", "kill", NULL);
    fx_arg(&f, r, 0, NULL, 1, 0);
    compile_fails(&f, "linux.seccomp.syscalls[0].args[0].op: unknown operator ``");

    fx_init(&f, "SCMP_ACT_ALLOW");
    r = fx_rule(&f, "SCMP_ACT_ERRNO", "kill", NULL);
    fx_arg(&f, r, 6, "SCMP_CMP_EQ", 1, 0);
    compile_fails(&f, "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0..5)");

    /* a rule equal to the default action is still validated */
    fx_init(&f, "SCMP_ACT_ALLOW");
    r = fx_rule(&f, "SCMP_ACT_ALLOW", "kill", NULL);
    fx_arg(&f, r, 0, "SCMP_CMP_NOPE", 1, 0);
    compile_fails(&f, "linux.seccomp.syscalls[0].args[0].op: unknown operator `SCMP_CMP_NOPE`");

    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_arch(&f, "SCMP_ARCH_X86_64");
    fx_arch(&f, "SCMP_ARCH_VAX");
    compile_fails(&f, "linux.seccomp.architectures[1]: unknown architecture `SCMP_ARCH_VAX`");

    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_arch(&f, "x86_64");
    compile_fails(&f, "linux.seccomp.architectures[0]: unknown architecture `x86_64`");

    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_arch(&f, "SCMP_ARCH_");
    compile_fails(&f, "linux.seccomp.architectures[0]: unknown architecture `SCMP_ARCH_`");

    fx_init(&f, "SCMP_ACT_ALLOW");
    fx_flag(&f, "SECCOMP_FILTER_FLAG_TSYNC");
    fx_flag(&f, "SECCOMP_FILTER_FLAG_BOGUS");
    compile_fails(&f, "linux.seccomp.flags[1]: unknown flag `SECCOMP_FILTER_FLAG_BOGUS`");
}

static int body_bad_install(void)
{
    return 0;
}

static void install_errors(void)
{
    /* A program that does not end in RET is rejected by the kernel. */
    struct sock_filter_raw {
        uint16_t code;
        uint8_t jt, jf;
        uint32_t k;
    } bad[1] = {{0x20 /* BPF_LD|BPF_W|BPF_ABS */, 0, 0, 0}};
    struct seccomp_prog p = {bad, 1, 0};
    cerr_t err = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        int rc = seccomp_install(&p, &err);
        int ok =
            rc == -1 && err && strcmp(cerr_msg(err), "load seccomp filter: Invalid argument") == 0;
        if (!ok)
            printf("#   got: %s\n", err ? cerr_msg(err) : "(none)");
        fflush(stdout);
        _exit(ok ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(exited(st) == 0);
    /* the same with flags goes through seccomp(2) */
    p.flags = SECCOMP_FILTER_FLAG_LOG;
    CHECK(exited(run_child(&p, body_bad_install)) == 101);
    /* over the instruction limit */
    p.len = 5000;
    CHECK(seccomp_install(&p, &err) == -1);
    CHECK_STR(cerr_msg(err), "load seccomp filter: Invalid argument");
    cerr_free(&err);
}

int main(void)
{
    RUN(errno_rule);
    RUN(default_errno_allow_list);
    RUN(default_errno_ret);
    RUN(enosys_for_newer_syscalls);
    RUN(args_rule);
    RUN(masked_eq);
    RUN(same_index_is_or);
    RUN(all_operators);
    RUN(kill_process);
    RUN(kill_thread_and_trap);
    RUN(trace_and_log);
    RUN(unknown_syscall_skipped);
    RUN(default_action_rule_skipped);
    RUN(architectures);
    RUN(tsync_flag);
    RUN(other_flags);
    RUN(not_present);
    RUN(error_messages);
    RUN(install_errors);
    return UNIT_DONE();
}
