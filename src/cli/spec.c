/* `cella spec`: a default config.json, as `runc spec` writes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"

static const char *const default_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};

static json_t *str_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* rootless drops uid= and gid= options (no such ids in a one-id user namespace). */
static json_t *mount(const char *dst, const char *type, const char *src, const char *opts,
                     bool rootless)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "destination", dst, "type", type, "source", src);
    if (opts == NULL)
        return o;
    json_t *a = json_array();
    autofree char *copy = xstrdup(opts);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (!rootless || (strncmp(t, "uid=", 4) != 0 && strncmp(t, "gid=", 4) != 0))
            json_array_append_new(a, json_string(t));
    json_object_set_new(o, "options", a);
    return o;
}

static json_t *id_mapping(unsigned id)
{
    return json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", (json_int_t)id, "size", 1);
}

/* runc 1.1's `runc spec` (keys in its order), but for ociVersion: cella reads
 * runtime-spec 1.1.0. A cgroup namespace only on a cgroup v2 host, as runc. */
static json_t *default_spec(bool rootless)
{
    static const char *const masked[] = {
        "/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/sys/firmware",       "/proc/scsi"};
    static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                     "/proc/sysrq-trigger"};
    size_t ncaps = ARRAY_SIZE(default_caps);
    json_t *process = json_pack(
        "{s:b, s:{s:i, s:i}, s:[s], s:[s, s], s:s, s:{s:o, s:o, s:o, s:o}, s:[{s:s, s:i, s:i}], "
        "s:b}",
        "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "cwd",
        "/", "capabilities", "bounding", str_array(default_caps, ncaps), "effective",
        str_array(default_caps, ncaps), "permitted", str_array(default_caps, ncaps), "ambient",
        str_array(default_caps, ncaps), "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft",
        1024, "noNewPrivileges", 1);
    json_t *mounts = json_array();
    json_array_append_new(mounts, mount("/proc", "proc", "proc", NULL, rootless));
    json_array_append_new(mounts, mount("/dev", "tmpfs", "tmpfs",
                                        "nosuid,strictatime,mode=755,size=65536k", rootless));
    json_array_append_new(mounts, mount("/dev/pts", "devpts", "devpts",
                                        "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5",
                                        rootless));
    json_array_append_new(mounts, mount("/dev/shm", "tmpfs", "shm",
                                        "nosuid,noexec,nodev,mode=1777,size=65536k", rootless));
    json_array_append_new(
        mounts, mount("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev", rootless));
    /* Without a network namespace of its own, sysfs cannot be mounted: bind the host's. */
    json_array_append_new(
        mounts, rootless ? mount("/sys", "none", "/sys", "rbind,nosuid,noexec,nodev,ro", rootless)
                         : mount("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro", rootless));
    json_array_append_new(mounts, mount("/sys/fs/cgroup", "cgroup", "cgroup",
                                        "nosuid,noexec,nodev,relatime,ro", rootless));
    struct statfs fs;
    bool cgroup2 = statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
    json_t *ns = json_array();
    const char *types[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        if ((strcmp(types[i], "cgroup") != 0 || cgroup2) &&
            (strcmp(types[i], "network") != 0 || !rootless))
            json_array_append_new(ns, json_pack("{s:s}", "type", types[i]));
    json_t *linux_ = json_object();
    if (rootless) {
        json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
        json_object_set_new(linux_, "uidMappings", id_mapping(geteuid()));
        json_object_set_new(linux_, "gidMappings", id_mapping(getegid()));
    } else {
        json_object_set_new(linux_, "resources",
                            json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm"));
    }
    json_object_set_new(linux_, "namespaces", ns);
    json_object_set_new(linux_, "maskedPaths", str_array(masked, ARRAY_SIZE(masked)));
    json_object_set_new(linux_, "readonlyPaths", str_array(ro, ARRAY_SIZE(ro)));
    return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.1.0", "process",
                     process, "root", "path", "rootfs", "readonly", 1, "hostname", "runc", "mounts",
                     mounts, "linux", linux_);
}

/* Indented with tabs, as runc writes it (jansson indents with spaces). */
static char *tab_indent(const char *text)
{
    char *out = xstrdup(text);
    char *w = out;
    bool bol = true;
    for (const char *r = text; *r; r++) {
        if (bol && r[0] == ' ' && r[1] == ' ') {
            *w++ = '\t';
            r++;
            continue;
        }
        bol = *r == '\n';
        *w++ = *r;
    }
    *w = '\0';
    return out;
}

int cmd_spec(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    (void)g;
    static const struct option opts[] = {{"bundle", required_argument, 0, 'b'},
                                         {"rootless", no_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *bundle = ".";
    bool rootless = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
        if (c == 'b') {
            bundle = optarg;
        } else if (c == 'r') {
            rootless = true;
        } else if (c == 'h') {
            cli_help("spec");
        } else {
            return cli_usage_error(err, "spec", "unknown option `%s`", argv[optind - 1]);
        }
    }
    autofree char *path = xasprintf("%s/config.json", bundle);
    if (access(path, F_OK) == 0)
        return cerr_set(err, 0, "`%s` exists: remove it first", path);
    json_t *spec = default_spec(rootless);
    char *dumped = json_dumps(spec, JSON_INDENT(2));
    json_decref(spec);
    char *text = tab_indent(dumped);
    free(dumped);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(text);
        return cerr_set(err, errno, "create `%s`", path);
    }
    int r = write_all(fd, text, strlen(text)) < 0 ? cerr_set(err, errno, "write `%s`", path) : 0;
    close(fd);
    free(text);
    return r;
}
