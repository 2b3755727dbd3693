/* linux.seccomp -> BPF with libseccomp, and loading the BPF.
 *
 * Compilation happens in the runtime before the container waits for `start`;
 * the result is a plain array of struct sock_filter, so loading it right
 * before execve is a single prctl(2)/seccomp(2) call with no allocation and no
 * libseccomp involvement.
 *
 * Semantics (OCI runtime-spec 1.1, following what runc does):
 *  - SCMP_ACT_ERRNO returns errnoRet (rule) or defaultErrnoRet (default
 *    action), EPERM when absent; SCMP_ACT_TRACE passes the same value (EPERM
 *    when absent) to the tracer. errnoRet on other actions is ignored.
 *  - With listenerPath the filter is loaded with SECCOMP_FILTER_FLAG_NEW_LISTENER
 *    and its listener fd goes to that socket (as runc and crun, even when no
 *    rule uses SCMP_ACT_NOTIFY); SCMP_ACT_NOTIFY without listenerPath is an
 *    error, and so is SCMP_ACT_NOTIFY as the default action or on write or
 *    sendmsg (docs/seccomp.md).
 *  - With a restrictive default action, syscalls newer than the profile get
 *    ENOSYS (runc's stub, seccomp_enosys.c).
 *  - A syscall name libseccomp does not know is skipped; a rule whose action
 *    is the default action is skipped (libseccomp refuses those).
 *  - Args with distinct indexes form one rule (AND). When two args of a rule
 *    share an index, each arg becomes a rule of its own (OR), as runc does.
 *  - SCMP_CMP_MASKED_EQ: `value` is the mask, `valueTwo` the expected value,
 *    i.e. (arg & value) == valueTwo.
 *  - architectures of the other endianness than the host are skipped (a
 *    filter cannot mix them and they cannot run here).
 *  - flags: TSYNC, LOG and SPEC_ALLOW become seccomp(2) flags;
 *    WAIT_KILLABLE_RECV is accepted but has no effect without a listener.
 *  - no_new_privs is not set here (SCMP_FLTATR_CTL_NNP would only matter for
 *    seccomp_load, which is not used). */
#define _GNU_SOURCE
#include "level/container/seccomp.h"
#include "level/container/seccomp_enosys.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"

#ifndef SYS_seccomp
#define SYS_seccomp __NR_seccomp
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif

#define FIELD_MAX 96

struct name_value {
    const char *name;
    unsigned long value;
};

static const struct name_value seccomp_flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    /* Only meaningful together with a notify listener, which is not
     * supported: accepted and ignored (the kernel rejects it alone). */
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 0},
};

static const struct name_value seccomp_ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct name_value *lookup(const struct name_value *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

/* The errno/trace value of an action: errnoRet when given, else EPERM. */
static int action_data(bool has_ret, unsigned ret, const char *ret_field, uint32_t *out,
                       cerr_t *err)
{
    if (!has_ret) {
        *out = EPERM;
        return 0;
    }
    if (ret > 0xffff)
        return cerr_set(err, 0, "%s: %u is out of range (0..65535)", ret_field, ret);
    *out = ret;
    return 0;
}

/* `field` names the action ("linux.seccomp.defaultAction"), `ret_field` the
 * errno value that goes with it. */
static int parse_action(const char *name, bool has_ret, unsigned ret, const char *field,
                        const char *ret_field, uint32_t *out, cerr_t *err)
{
    uint32_t data;
    if (name == NULL)
        return cerr_set(err, 0, "%s: missing", field);
    if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
        *out = SCMP_ACT_ALLOW;
    else if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
        *out = SCMP_ACT_KILL_THREAD;
    else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
        *out = SCMP_ACT_KILL_PROCESS;
    else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
        *out = SCMP_ACT_TRAP;
    else if (strcmp(name, "SCMP_ACT_LOG") == 0)
        *out = SCMP_ACT_LOG;
    else if (strcmp(name, "SCMP_ACT_ERRNO") == 0) {
        if (action_data(has_ret, ret, ret_field, &data, err) < 0)
            return -1;
        *out = SCMP_ACT_ERRNO(data);
    } else if (strcmp(name, "SCMP_ACT_TRACE") == 0) {
        if (action_data(has_ret, ret, ret_field, &data, err) < 0)
            return -1;
        *out = SCMP_ACT_TRACE(data);
    } else if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
        *out = SCMP_ACT_NOTIFY;
    else
        return cerr_set(err, 0, "%s: unknown action `%s`", field, name);
    return 0;
}

static int add_architectures(scmp_filter_ctx ctx, const struct str_list *archs, cerr_t *err)
{
    static const char prefix[] = "SCMP_ARCH_";
    for (size_t i = 0; i < archs->n; i++) {
        const char *name = archs->v[i];
        char lower[32];
        uint32_t token = 0;
        if (name != NULL && strncmp(name, prefix, sizeof(prefix) - 1) == 0 &&
            strlen(name + sizeof(prefix) - 1) < sizeof(lower)) {
            const char *p = name + sizeof(prefix) - 1;
            size_t j = 0;
            for (; p[j] != '\0'; j++)
                lower[j] = (p[j] >= 'A' && p[j] <= 'Z') ? (char)(p[j] - 'A' + 'a') : p[j];
            lower[j] = '\0';
            if (j > 0)
                token = seccomp_arch_resolve_name(lower);
        }
        if (token == 0)
            return cerr_set(err, 0, "linux.seccomp.architectures[%zu]: unknown architecture `%s`",
                            i, name ? name : "");
        /* EEXIST: already there (the native one always is). EDOM: other
         * endianness than the native one, so one filter cannot hold both
         * and such syscalls cannot happen on this host anyway: skipped. */
        int rc = seccomp_arch_add(ctx, token);
        if (rc < 0 && rc != -EEXIST && rc != -EDOM)
            return cerr_set(err, -rc, "linux.seccomp.architectures[%zu]: add `%s`", i, name);
    }
    return 0;
}

static int parse_flags(const struct str_list *flags, unsigned int *out, cerr_t *err)
{
    *out = 0;
    for (size_t i = 0; i < flags->n; i++) {
        const char *name = flags->v[i] ? flags->v[i] : "";
        const struct name_value *f = lookup(seccomp_flags, ARRAY_SIZE(seccomp_flags), name);
        if (f == NULL)
            return cerr_set(err, 0, "linux.seccomp.flags[%zu]: unknown flag `%s`", i, name);
        *out |= (unsigned int)f->value;
    }
    return 0;
}

/* Fill cmp[] from the rule's args; *dup_index tells whether two args share an
 * index (then each must go in a rule of its own). */
static int parse_args(const struct spec_seccomp_rule *r, size_t ri, struct scmp_arg_cmp *cmp,
                      bool *dup_index, cerr_t *err)
{
    unsigned seen = 0;
    *dup_index = false;
    for (size_t j = 0; j < r->n_args; j++) {
        const struct spec_seccomp_arg *a = &r->args[j];
        if (a->index > 5)
            return cerr_set(err, 0,
                            "linux.seccomp.syscalls[%zu].args[%zu].index: %u is out of range "
                            "(0..5)",
                            ri, j, a->index);
        const struct name_value *op =
            a->op ? lookup(seccomp_ops, ARRAY_SIZE(seccomp_ops), a->op) : NULL;
        if (op == NULL)
            return cerr_set(err, 0,
                            "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator `%s`", ri,
                            j, a->op ? a->op : "");
        if (seen & (1u << a->index))
            *dup_index = true;
        seen |= 1u << a->index;
        cmp[j] = (struct scmp_arg_cmp){
            .arg = a->index,
            .op = (enum scmp_compare)op->value,
            .datum_a = a->value,
            .datum_b = a->value_two,
        };
    }
    return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct spec_seccomp_rule *r, size_t ri,
                    uint32_t default_action, cerr_t *err)
{
    char field[FIELD_MAX], ret_field[FIELD_MAX];
    uint32_t action;
    snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu].action", ri);
    snprintf(ret_field, sizeof(ret_field), "linux.seccomp.syscalls[%zu].errnoRet", ri);
    if (parse_action(r->action, r->has_errno_ret, r->errno_ret, field, ret_field, &action, err) < 0)
        return -1;

    autofree struct scmp_arg_cmp *cmp = NULL;
    bool dup_index = false;
    if (r->n_args > 0) {
        cmp = calloc(r->n_args, sizeof(*cmp));
        if (cmp == NULL)
            return cerr_set(err, ENOMEM, "linux.seccomp.syscalls[%zu]", ri);
        if (parse_args(r, ri, cmp, &dup_index, err) < 0)
            return -1;
    }
    /* libseccomp refuses rules whose action is the default one; they would
     * change nothing anyway. Checked after parsing, so errors still show. */
    if (action == default_action)
        return 0;

    for (size_t k = 0; k < r->names.n; k++) {
        const char *name = r->names.v[k];
        if (name == NULL)
            continue;
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
            continue; /* unknown to libseccomp: skipped, as runc does */
        int rc = 0;
        if (!dup_index) {
            rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)r->n_args, cmp);
        } else {
            for (size_t j = 0; j < r->n_args && rc == 0; j++)
                rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[j]);
        }
        if (rc < 0)
            return cerr_set(err, -rc, "linux.seccomp.syscalls[%zu].names[%zu]: add rule for `%s`",
                            ri, k, name);
    }
    return 0;
}

/* libseccomp 2.5 can only export to a file descriptor: go through a memfd. */
static int export_bpf(scmp_filter_ctx ctx, struct seccomp_prog *out, cerr_t *err)
{
    autoclose int fd = memfd_create("cella-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return cerr_set(err, errno, "linux.seccomp: memfd_create");
    int rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0)
        return cerr_set(err, -rc, "linux.seccomp: export BPF");
    struct stat st;
    if (fstat(fd, &st) < 0)
        return cerr_set(err, errno, "linux.seccomp: stat exported BPF");
    size_t size = (size_t)st.st_size;
    if (size == 0 || size % sizeof(struct sock_filter) != 0)
        return cerr_set(err, 0, "linux.seccomp: exported BPF has a bad size (%zu bytes)", size);
    size_t len = size / sizeof(struct sock_filter);
    if (len > BPF_MAXINSNS)
        return cerr_set(err, 0,
                        "linux.seccomp: filter has %zu instructions, more than the kernel "
                        "limit of %d",
                        len, BPF_MAXINSNS);
    void *buf = malloc(size);
    if (buf == NULL)
        return cerr_set(err, ENOMEM, "linux.seccomp: export BPF");
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, (char *)buf + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            free(buf);
            return cerr_set(err, e, "linux.seccomp: read exported BPF");
        }
        got += (size_t)n;
    }
    out->bpf = buf;
    out->len = len;
    return 0;
}

static bool is_notify(const struct spec_seccomp_rule *r)
{
    return r->action != NULL && strcmp(r->action, "SCMP_ACT_NOTIFY") == 0;
}

/* The container's process hands the listener out with sendmsg and reports a
 * failure with write: a notification on either (or on everything, as a
 * default action) would wait for an agent that has no listener yet. runc
 * refuses the same (it hands the listener out with write). */
static int check_notify(const struct spec_seccomp *s, uint32_t default_action, cerr_t *err)
{
    bool used = false;
    if (default_action == SCMP_ACT_NOTIFY)
        return cerr_set(err, 0,
                        "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default "
                        "action");
    for (size_t i = 0; i < s->n_syscalls; i++) {
        const struct spec_seccomp_rule *r = &s->syscalls[i];
        if (!is_notify(r))
            continue;
        used = true;
        for (size_t k = 0; k < r->names.n; k++)
            if (r->names.v[k] != NULL &&
                (strcmp(r->names.v[k], "write") == 0 || strcmp(r->names.v[k], "sendmsg") == 0))
                return cerr_set(err, 0,
                                "linux.seccomp.syscalls[%zu]: SCMP_ACT_NOTIFY cannot be used for "
                                "the %s syscall",
                                i, r->names.v[k]);
    }
    if (used && s->listener_path == NULL)
        return cerr_set(err, 0, "linux.seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
    return 0;
}

static int compile_ctx(scmp_filter_ctx ctx, const struct spec_seccomp *s, uint32_t default_action,
                       struct seccomp_prog *out, cerr_t *err)
{
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc < 0)
        return cerr_set(err, -rc, "linux.seccomp: disable no_new_privs attribute");
    if (add_architectures(ctx, &s->architectures, err) < 0)
        return -1;
    if (parse_flags(&s->flags, &out->flags, err) < 0)
        return -1;
    if (s->listener_path != NULL)
        out->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    for (size_t i = 0; i < s->n_syscalls; i++)
        if (add_rule(ctx, &s->syscalls[i], i, default_action, err) < 0)
            return -1;
    if (export_bpf(ctx, out, err) < 0)
        return -1;
    return seccomp_enosys_patch(s, default_action, out, err);
}

int seccomp_compile(const struct spec_seccomp *s, struct seccomp_prog *out, cerr_t *err)
{
    memset(out, 0, sizeof(*out));
    if (s == NULL || !s->present)
        return 0;

    uint32_t default_action;
    if (parse_action(s->default_action, s->has_default_errno_ret, s->default_errno_ret,
                     "linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet",
                     &default_action, err) < 0)
        return -1;
    if (check_notify(s, default_action, err) < 0)
        return -1;
    scmp_filter_ctx ctx = seccomp_init(default_action);
    if (ctx == NULL)
        return cerr_set(err, 0,
                        "linux.seccomp.defaultAction: libseccomp rejected `%s` (not supported by "
                        "this kernel?)",
                        s->default_action);
    int rc = compile_ctx(ctx, s, default_action, out, err);
    seccomp_release(ctx);
    if (rc < 0) {
        seccomp_prog_free(out);
        return -1;
    }
    return 0;
}

int seccomp_install(const struct seccomp_prog *p, cerr_t *err)
{
    int listener = -1;
    if (seccomp_install_listener(p, &listener, err) < 0)
        return -1;
    if (listener >= 0)
        close(listener);
    return 0;
}

int seccomp_install_listener(const struct seccomp_prog *p, int *listener, cerr_t *err)
{
    *listener = -1;
    if (p == NULL || p->len == 0)
        return 0;
    if (p->len > BPF_MAXINSNS)
        return cerr_set(err, EINVAL, "load seccomp filter");
    struct sock_fprog prog = {
        .len = (unsigned short)p->len,
        .filter = (struct sock_filter *)p->bpf,
    };
    if (p->flags == 0) {
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
            return cerr_set(err, errno, "load seccomp filter");
        return 0;
    }
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog);
    if (rc < 0)
        return cerr_set(err, errno, "load seccomp filter");
    if (p->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
        *listener = (int)rc;
        return 0;
    }
    if (rc > 0) /* TSYNC: the thread that could not be synchronized */
        return cerr_set(err, 0, "load seccomp filter: thread %ld could not be synchronized", rc);
    return 0;
}

void seccomp_prog_free(struct seccomp_prog *p)
{
    if (p == NULL)
        return;
    free(p->bpf);
    p->bpf = NULL;
    p->len = 0;
    p->flags = 0;
}
