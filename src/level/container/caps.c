#define _GNU_SOURCE
#include "level/container/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

int cap_from_name_(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
        if (strcasecmp(cap_names[i], name) == 0)
            return (int)i;
    return -1;
}

const char *cap_name_(int cap)
{
    return cap >= 0 && (size_t)cap < ARRAY_SIZE(cap_names) ? cap_names[cap] : NULL;
}

int cap_last(void)
{
    static int last = -1;
    if (last >= 0)
        return last;
    char buf[16] = {0};
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    if (f != NULL) {
        if (fgets(buf, sizeof(buf), f) != NULL)
            last = atoi(buf);
        fclose(f);
    }
    if (last <= 0)
        last = CAP_LAST_CAP;
    return last;
}

/* runtime-spec 1.3: a value that cannot be mapped to a kernel interface MUST
 * be logged as a warning, and the runtime SHOULD NOT fail (runc and crun
 * skip it too): left out here, warned about by caps_warn_unknown. */
static bool cap_known(const char *name)
{
    int c = cap_from_name_(name);
    return c >= 0 && c <= cap_last();
}

static int parse_list(const struct str_list *l, const char *path, const char *field, uint64_t *out,
                      cerr_t *err)
{
    (void)path;
    (void)field;
    (void)err;
    *out = 0;
    for (size_t i = 0; i < l->n; i++)
        if (cap_known(l->v[i]))
            *out |= 1ULL << cap_from_name_(l->v[i]);
    return 0;
}

void caps_warn_unknown(const struct spec_caps *c, const char *path)
{
    const struct {
        const char *name;
        const struct str_list *l;
    } sets[] = {{"bounding", &c->bounding},
                {"effective", &c->effective},
                {"inheritable", &c->inheritable},
                {"permitted", &c->permitted},
                {"ambient", &c->ambient}};
    for (size_t s = 0; c->present && s < ARRAY_SIZE(sets); s++)
        for (size_t i = 0; i < sets[s].l->n; i++)
            if (!cap_known(sets[s].l->v[i]))
                log_warn("%s.%s[%zu]: `%s` is not a capability of this kernel: ignored", path,
                         sets[s].name, i, sets[s].l->v[i]);
}

int caps_parse(const struct spec_caps *c, const char *path, struct caps_set *out, cerr_t *err)
{
    memset(out, 0, sizeof(*out));
    out->present = c->present;
    if (!c->present)
        return 0;
    return parse_list(&c->bounding, path, "bounding", &out->bounding, err) < 0 ||
                   parse_list(&c->effective, path, "effective", &out->effective, err) < 0 ||
                   parse_list(&c->inheritable, path, "inheritable", &out->inheritable, err) < 0 ||
                   parse_list(&c->permitted, path, "permitted", &out->permitted, err) < 0 ||
                   parse_list(&c->ambient, path, "ambient", &out->ambient, err) < 0
               ? -1
               : 0;
}

int caps_drop_bounding(const struct caps_set *c, cerr_t *err)
{
    if (!c->present)
        return 0;
    for (int i = 0; i <= cap_last(); i++) {
        if (c->bounding & (1ULL << i))
            continue;
        if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
            return cerr_set(err, errno, "drop capability %s from the bounding set",
                            cap_name_(i) ? cap_name_(i) : "?");
    }
    return 0;
}

int caps_apply(const struct caps_set *c, cerr_t *err)
{
    if (!c->present)
        return 0;
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    for (int w = 0; w < 2; w++) {
        data[w].effective = (uint32_t)(c->effective >> (32 * w));
        data[w].permitted = (uint32_t)(c->permitted >> (32 * w));
        data[w].inheritable = (uint32_t)(c->inheritable >> (32 * w));
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        return cerr_set(err, errno, "capset (process.capabilities)");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return cerr_set(err, errno, "clear ambient capabilities");
    for (int i = 0; i <= cap_last(); i++) {
        if (!(c->ambient & (1ULL << i)))
            continue;
        /* Ambient needs the cap in permitted and inheritable; runc ignores failures. */
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0);
    }
    return 0;
}

int caps_raise_effective(cerr_t *err)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) < 0)
        return cerr_set(err, errno, "capget");
    data[0].effective = data[0].permitted;
    data[1].effective = data[1].permitted;
    if (syscall(SYS_capset, &hdr, data) < 0)
        return cerr_set(err, errno, "capset");
    return 0;
}
