/* `cella features`: the runtime-spec "features" document. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"
#include "level/container/caps.h"
#include "oci/spec.h"

static json_t *strings(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

int cmd_features(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    (void)g;
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        cli_help("features");
    if (argc > 1)
        return cli_usage_error(err, "features", "takes no arguments");
    static const char *const hooks[] = {"prestart",       "createRuntime", "createContainer",
                                        "startContainer", "poststart",     "poststop"};
    static const char *const mount_opts[] = {
        "async",         "atime",   "bind",    "dev",         "diratime", "dirsync", "exec",
        "mand",          "noatime", "nodev",   "nodiratime",  "noexec",   "nomand",  "norelatime",
        "nostrictatime", "nosuid",  "private", "rbind",       "relatime", "remount", "ro",
        "rprivate",      "rshared", "rslave",  "runbindable", "rw",       "shared",  "slave",
        "strictatime",   "suid",    "sync",    "unbindable"};
    static const char *const ns[] = {"cgroup", "ipc",  "mount", "network",
                                     "pid",    "time", "user",  "uts"};
    static const char *const actions[] = {
        "SCMP_ACT_ALLOW",       "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",   "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"};
    static const char *const ops[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                                      "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
                                      "SCMP_CMP_NE"};
    static const char *const archs[] = {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",
                                        "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
    static const char *const flags[] = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                        "SECCOMP_FILTER_FLAG_TSYNC"};
    /* "container, wasm (built); sandbox, qemu, vm (planned)", from the level table */
    size_t nl;
    const struct level_entry *lt = level_table(&nl);
    char *levels = xstrdup("");
    for (int built = 1; built >= 0; built--) {
        char *list = xstrdup("");
        for (size_t i = 0; i < nl; i++) {
            if ((lt[i].ops != NULL) != built)
                continue;
            char *next = xasprintf("%s%s%s", list, *list ? ", " : "", lt[i].name);
            free(list);
            list = next;
        }
        if (*list) {
            char *next = xasprintf("%s%s%s (%s)", levels, *levels ? "; " : "", list,
                                   built ? "built" : "planned");
            free(levels);
            levels = next;
        }
        free(list);
    }
    json_t *caps = json_array();
    for (int i = 0; i <= cap_last(); i++)
        if (cap_name_(i))
            json_array_append_new(caps, json_string(cap_name_(i)));
    json_t *f = json_pack(
        "{s:s, s:s, s:o, s:o, s:{s:o, s:o, s:{s:b, s:b, s:b, s:b}, "
        "s:{s:b, s:o, s:o, s:o, s:o, s:o}, s:{s:b}, s:{s:b}}, s:{s:s, s:s}}",
        "ociVersionMin", SPEC_OCI_VERSION_MIN, "ociVersionMax", SPEC_OCI_VERSION_MAX, "hooks",
        strings(hooks, ARRAY_SIZE(hooks)), "mountOptions",
        strings(mount_opts, ARRAY_SIZE(mount_opts)), "linux", "namespaces",
        strings(ns, ARRAY_SIZE(ns)), "capabilities", caps, "cgroup", "v1", 1, "v2", 1, "systemd", 0,
        "systemdUser", 0, "seccomp", "enabled", 1, "actions", strings(actions, ARRAY_SIZE(actions)),
        "operators", strings(ops, ARRAY_SIZE(ops)), "archs", strings(archs, ARRAY_SIZE(archs)),
        "knownFlags", strings(flags, ARRAY_SIZE(flags)), "supportedFlags",
        strings(flags, ARRAY_SIZE(flags)), "apparmor", "enabled", 0, "selinux", "enabled", 0,
        "annotations", "run.cella.isolation", "container", "run.cella.levels", levels);
    free(levels);
    /* What runtime-spec 1.3 lists and cella refuses (docs/spec-conformance.md). */
    json_t *linux_ = json_object_get(f, "linux");
    json_object_set_new(json_object_get(linux_, "cgroup"), "rdma", json_false());
    json_object_set_new(linux_, "intelRdt", json_pack("{s:b}", "enabled", 0));
    json_object_set_new(linux_, "netDevices", json_pack("{s:b}", "enabled", 0));
    /* features-linux.md (1.3): the set_mempolicy(2) modes and flags cella names. */
    json_object_set_new(linux_, "memoryPolicy",
                        json_pack("{s:[sssssss], s:[sss]}", "modes", "MPOL_DEFAULT", "MPOL_BIND",
                                  "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED",
                                  "MPOL_PREFERRED_MANY", "MPOL_LOCAL", "flags",
                                  "MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES",
                                  "MPOL_F_STATIC_NODES"));
    /* Idmapped bind mounts: mount_setattr(MOUNT_ATTR_IDMAP), Linux 5.12+;
     * whether a file system takes them is known only when it is tried. */
    bool idmap = syscall(SYS_mount_setattr, -1, "", 0, NULL, 0) < 0 && errno != ENOSYS;
    json_object_set_new(linux_, "mountExtensions",
                        json_pack("{s:{s:b}}", "idmap", "enabled", idmap));
    /* Each level's own annotations, from the level. */
    json_t *annotations = json_object_get(f, "annotations");
    for (size_t i = 0; i < nl; i++)
        if (lt[i].ops != NULL && lt[i].ops->features != NULL)
            lt[i].ops->features(annotations);
    char *text = json_dumps(f, JSON_INDENT(2));
    json_decref(f);
    printf("%s\n", text);
    free(text);
    return 0;
}
