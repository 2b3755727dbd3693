/* `cella spec`: a default config.json, as `runc spec` writes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"

static const char *default_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};

static json_t *caps_array(void)
{
    json_t *a = json_array();
    for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
        json_array_append_new(a, json_string(default_caps[i]));
    return a;
}

static json_t *mount(const char *dst, const char *type, const char *src, const char *opts)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "destination", dst, "type", type, "source", src);
    json_t *a = json_array();
    autofree char *copy = xstrdup(opts);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(a, json_string(t));
    json_object_set_new(o, "options", a);
    return o;
}

static json_t *str_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

json_t *default_spec(bool rootless);
json_t *default_spec(bool rootless)
{
    static const char *const masked[] = {
        "/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/sys/firmware",       "/proc/scsi"};
    static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                     "/proc/sysrq-trigger"};
    json_t *process = json_pack(
        "{s:b, s:{s:i, s:i}, s:[s], s:[s, s], s:s, s:{s:o, s:o, s:o}, s:[{s:s, s:i, s:i}], "
        "s:b}",
        "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "cwd",
        "/", "capabilities", "bounding", caps_array(), "effective", caps_array(), "permitted",
        caps_array(), "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
        "noNewPrivileges", 1);
    json_t *mounts = json_array();
    json_array_append_new(mounts, mount("/proc", "proc", "proc", ""));
    json_array_append_new(
        mounts, mount("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"));
    json_array_append_new(mounts, mount("/dev/pts", "devpts", "devpts",
                                        "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620"));
    json_array_append_new(
        mounts, mount("/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k"));
    json_array_append_new(mounts, mount("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
    json_array_append_new(mounts, mount("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"));
    json_array_append_new(
        mounts, mount("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro"));
    json_t *ns = json_array();
    const char *types[] = {"pid", "network", "ipc", "uts", "mount", "cgroup", NULL};
    for (size_t i = 0; types[i]; i++)
        json_array_append_new(ns, json_pack("{s:s}", "type", types[i]));
    json_t *linux_ = json_pack("{s:{s:[{s:b, s:s}]}, s:o, s:o, s:o}", "resources", "devices",
                               "allow", 0, "access", "rwm", "namespaces", ns, "maskedPaths",
                               str_array(masked, ARRAY_SIZE(masked)), "readonlyPaths",
                               str_array(ro, ARRAY_SIZE(ro)));
    if (rootless) {
        json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
        json_object_set_new(
            linux_, "uidMappings",
            json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", (int)getuid(), "size", 1));
        json_object_set_new(
            linux_, "gidMappings",
            json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", (int)getgid(), "size", 1));
        json_object_del(linux_, "resources");
    }
    return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.1.0", "process",
                     process, "root", "path", "rootfs", "readonly", 1, "hostname", "cella",
                     "mounts", mounts, "linux", linux_);
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
            printf("usage: cella spec [--bundle DIR] [--rootless]\n");
            exit(0);
        } else {
            return cli_usage_error(err, "spec", "unknown option `%s`", argv[optind - 1]);
        }
    }
    autofree char *path = xasprintf("%s/config.json", bundle);
    if (access(path, F_OK) == 0)
        return cerr_set(err, 0, "`%s` exists: remove it first", path);
    json_t *spec = default_spec(rootless);
    char *text = json_dumps(spec, JSON_INDENT(2));
    json_decref(spec);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(text);
        return cerr_set(err, errno, "create `%s`", path);
    }
    int r = write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0
                ? cerr_set(err, errno, "write `%s`", path)
                : 0;
    close(fd);
    free(text);
    return r;
}
