/* Unit tests for src/oci/spec.c and spec_json.c: config.json (runtime-spec 1.1)
 * parsing. Every field kind is parsed once successfully and its error paths
 * are checked against the exact message. JSON in this file is written with
 * single quotes, turned into double quotes by jq(). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/util.h"
#include "oci/spec.h"
#include "unit.h"

#define ORIGIN "config.json"
#define OV     "'ociVersion':'1.1.0',"

/* ---- helpers ------------------------------------------------------------------ */

static char *jq(const char *s)
{
    char *t = xstrdup(s);
    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    return t;
}

static struct spec *parse_ok_(int line, const char *json)
{
    char *t = jq(json);
    cerr_t err = NULL;
    struct spec *s = spec_parse(t, strlen(t), ORIGIN, &err);
    if (s == NULL) {
        printf("#   line %d: unexpected error: %s\n", line, cerr_msg(err));
        unit_failed_now = 1;
    }
    cerr_free(&err);
    free(t);
    return s;
}
#define PARSE_OK(json) parse_ok_(__LINE__, json)

/* Parse `json`, expect failure with exactly "config.json: " + want. */
static void expect_err_(int line, const char *json, const char *want)
{
    char *t = jq(json);
    char *full = xasprintf("%s: %s", ORIGIN, want);
    cerr_t err = NULL;
    struct spec *s = spec_parse(t, strlen(t), ORIGIN, &err);
    if (s != NULL) {
        printf("#   line %d: parsed, expected `%s`\n", line, full);
        unit_failed_now = 1;
        spec_free(s);
    } else if (err == NULL || strcmp(cerr_msg(err), full) != 0) {
        printf("#   line %d: got `%s`\n#   want `%s`\n", line, cerr_msg(err), full);
        unit_failed_now = 1;
    }
    cerr_free(&err);
    free(full);
    free(t);
}
#define EXPECT_ERR(json, want) expect_err_(__LINE__, json, want)

static bool list_is(const struct str_list *l, const char *const *want, size_t n)
{
    if (l->n != n || l->v == NULL || l->v[n] != NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(l->v[i], want[i]) != 0)
            return false;
    return true;
}
#define LIST_IS(l, ...)                                                                            \
    list_is(&(l), (const char *const[]){__VA_ARGS__},                                              \
            sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *kv_get(const struct kv_list *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].key, key) == 0)
            return l->v[i].value;
    return NULL;
}

/* ---- a full, realistic config.json ------------------------------------------------ */

static const char full_config[] =
    "{"
    " 'ociVersion': '1.1.0',"
    " 'process': {"
    "  'terminal': true,"
    "  'consoleSize': {'height': 25, 'width': 80},"
    "  'user': {'uid': 1000, 'gid': 1001, 'umask': 18, 'additionalGids': [5, 6, 4294967295],"
    "           'username': 'alice'},"
    "  'args': ['sh', '-c', 'echo hi'],"
    "  'env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',"
    "          'TERM=xterm'],"
    "  'cwd': '/home/alice',"
    "  'capabilities': {"
    "   'bounding': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],"
    "   'effective': ['CAP_AUDIT_WRITE', 'CAP_KILL'],"
    "   'inheritable': [],"
    "   'permitted': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],"
    "   'ambient': ['CAP_NET_BIND_SERVICE']},"
    "  'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 1024, 'soft': 1024},"
    "              {'type': 'RLIMIT_CORE', 'hard': 0, 'soft': 0},"
    "              {'type': 'RLIMIT_NPROC', 'hard': 4096, 'soft': 2048}],"
    "  'noNewPrivileges': true,"
    "  'apparmorProfile': 'cella-default',"
    "  'selinuxLabel': 'system_u:system_r:container_t:s0:c1,c2',"
    "  'oomScoreAdj': -500,"
    "  'ioPriority': {'class': 'IOPRIO_CLASS_IDLE', 'priority': 4}"
    " },"
    " 'root': {'path': 'rootfs', 'readonly': true},"
    " 'hostname': 'box',"
    " 'domainname': 'example.org',"
    " 'mounts': ["
    "  {'destination': '/proc', 'type': 'proc', 'source': 'proc'},"
    "  {'destination': '/dev', 'type': 'tmpfs', 'source': 'tmpfs',"
    "   'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k']},"
    "  {'destination': '/dev/pts', 'type': 'devpts', 'source': 'devpts',"
    "   'options': ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']},"
    "  {'destination': '/dev/shm', 'type': 'tmpfs', 'source': 'shm',"
    "   'options': ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']},"
    "  {'destination': '/dev/mqueue', 'type': 'mqueue', 'source': 'mqueue',"
    "   'options': ['nosuid', 'noexec', 'nodev']},"
    "  {'destination': '/sys', 'type': 'sysfs', 'source': 'sysfs',"
    "   'options': ['nosuid', 'noexec', 'nodev', 'ro']},"
    "  {'destination': '/sys/fs/cgroup', 'type': 'cgroup', 'source': 'cgroup',"
    "   'options': ['nosuid', 'noexec', 'nodev', 'relatime', 'ro']},"
    "  {'destination': '/data', 'type': 'bind', 'source': '/srv/data', 'options': ['rbind', 'rw'],"
    "   'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}],"
    "   'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]}"
    " ],"
    " 'hooks': {"
    "  'prestart': [{'path': '/usr/bin/fix-mounts', 'args': ['fix-mounts', 'arg1', 'arg2'],"
    "                'env': ['key1=value1']}],"
    "  'createRuntime': [{'path': '/usr/bin/netns-setup', 'timeout': 5}],"
    "  'createContainer': [{'path': '/bin/cc1'}, {'path': '/bin/cc2'}],"
    "  'startContainer': [{'path': '/usr/bin/refresh-ldcache'}],"
    "  'poststart': [{'path': '/usr/bin/notify-start', 'timeout': 1}],"
    "  'poststop': [{'path': '/usr/sbin/cleanup.sh', 'args': ['cleanup.sh', '-f']}]"
    " },"
    " 'annotations': {'com.example.key1': 'value1', 'com.example.key2': 'value2'},"
    " 'linux': {"
    "  'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/var/run/netns/neta'},"
    "                 {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'}, {'type': 'user'},"
    "                 {'type': 'cgroup'}],"
    "  'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}],"
    "  'gidMappings': [{'containerID': 0, 'hostID': 200000, 'size': 65536},"
    "                  {'containerID': 65536, 'hostID': 4294967294, 'size': 1}],"
    "  'devices': [{'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229,"
    "               'fileMode': 438, 'uid': 0, 'gid': 0},"
    "              {'path': '/dev/sda', 'type': 'b', 'major': 8, 'minor': 0},"
    "              {'path': '/dev/pipe0', 'type': 'p'},"
    "              {'path': '/dev/null2', 'type': 'u', 'major': 1, 'minor': 3, 'uid': 7,"
    "               'gid': 8}],"
    "  'cgroupsPath': '/myRuntime/myContainer',"
    "  'resources': {"
    "   'devices': [{'allow': false, 'access': 'rwm'},"
    "               {'allow': true, 'type': 'c', 'major': 10, 'minor': 229, 'access': 'rw'},"
    "               {'allow': true, 'type': 'b', 'major': 8, 'access': 'r'}],"
    "   'memory': {'limit': 536870912, 'reservation': 268435456, 'swap': -1, 'kernel': 0,"
    "              'kernelTCP': 4096, 'swappiness': 60, 'disableOOMKiller': false,"
    "              'useHierarchy': true, 'checkBeforeUpdate': true},"
    "   'cpu': {'shares': 1024, 'quota': 100000, 'period': 100000, 'realtimeRuntime': 950000,"
    "           'realtimePeriod': 1000000, 'cpus': '2-3', 'mems': '0-7', 'idle': 1},"
    "   'pids': {'limit': 32771},"
    "   'blockIO': {'weight': 10, 'leafWeight': 10,"
    "               'weightDevice': [{'major': 8, 'minor': 0, 'weight': 500}]},"
    "   'hugepageLimits': [{'pageSize': '2MB', 'limit': 9223372036854772000}],"
    "   'network': {'classID': 1048577, 'priorities': [{'name': 'eth0', 'priority': 500}]},"
    "   'unified': {'memory.high': '1073741824', 'io.weight': 'default 100'}"
    "  },"
    "  'sysctl': {'net.ipv4.ip_forward': '1', 'net.core.somaxconn': '256'},"
    "  'seccomp': {"
    "   'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1,"
    "   'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],"
    "   'flags': ['SECCOMP_FILTER_FLAG_LOG'],"
    "   'listenerPath': '/run/seccomp-agent.sock', 'listenerMetadata': 'meta',"
    "   'syscalls': ["
    "    {'names': ['getcwd', 'chmod'], 'action': 'SCMP_ACT_ALLOW'},"
    "    {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',"
    "     'args': [{'index': 0, 'value': 4294967295, 'op': 'SCMP_CMP_EQ'}]},"
    "    {'names': ['clone'], 'action': 'SCMP_ACT_ALLOW',"
    "     'args': [{'index': 0, 'value': 2114060288, 'valueTwo': 0, 'op': 'SCMP_CMP_MASKED_EQ'}]},"
    "    {'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 13,"
    "     'args': [{'index': 5, 'value': 1, 'valueTwo': 2, 'op': 'SCMP_CMP_NE'},"
    "              {'index': 1, 'value': 9223372036854775807, 'op': 'SCMP_CMP_LE'}]}"
    "   ]"
    "  },"
    "  'rootfsPropagation': 'slave',"
    "  'maskedPaths': ['/proc/acpi', '/proc/kcore', '/sys/firmware'],"
    "  'readonlyPaths': ['/proc/bus', '/proc/sys'],"
    "  'mountLabel': 'system_u:object_r:container_file_t:s0:c1,c2',"
    "  'intelRdt': {'closID': 'guaranteed_group'},"
    "  'personality': {'domain': 'LINUX'}"
    " },"
    " 'vm': {'hypervisor': {'path': '/usr/bin/qemu'}}"
    "}";

static void check_full_process(const struct spec_process *p)
{
    CHECK(p->present);
    CHECK(p->terminal);
    CHECK(p->console_height == 25 && p->console_width == 80);
    CHECK(p->user.uid == 1000 && p->user.gid == 1001);
    CHECK(p->user.has_umask && p->user.umask == 022);
    CHECK(p->user.n_additional_gids == 3);
    if (p->user.n_additional_gids == 3)
        CHECK(p->user.additional_gids[0] == 5 && p->user.additional_gids[1] == 6 &&
              p->user.additional_gids[2] == 4294967295u);
    CHECK_STR(p->user.username, "alice");
    CHECK(LIST_IS(p->args, "sh", "-c", "echo hi"));
    CHECK(LIST_IS(p->env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "TERM=xterm"));
    CHECK_STR(p->cwd, "/home/alice");
    CHECK(p->caps.present);
    CHECK(LIST_IS(p->caps.bounding, "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"));
    CHECK(LIST_IS(p->caps.effective, "CAP_AUDIT_WRITE", "CAP_KILL"));
    CHECK(p->caps.inheritable.n == 0 && p->caps.inheritable.v != NULL &&
          p->caps.inheritable.v[0] == NULL);
    CHECK(LIST_IS(p->caps.permitted, "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"));
    CHECK(LIST_IS(p->caps.ambient, "CAP_NET_BIND_SERVICE"));
    CHECK(p->n_rlimits == 3);
    if (p->n_rlimits == 3) {
        CHECK_STR(p->rlimits[0].type, "RLIMIT_NOFILE");
        CHECK(p->rlimits[0].resource == RLIMIT_NOFILE);
        CHECK(p->rlimits[0].soft == 1024 && p->rlimits[0].hard == 1024);
        CHECK_STR(p->rlimits[1].type, "RLIMIT_CORE");
        CHECK(p->rlimits[1].resource == RLIMIT_CORE);
        CHECK(p->rlimits[1].soft == 0 && p->rlimits[1].hard == 0);
        CHECK(p->rlimits[2].resource == RLIMIT_NPROC);
        CHECK(p->rlimits[2].soft == 2048 && p->rlimits[2].hard == 4096);
    }
    CHECK(p->no_new_privileges);
    CHECK_STR(p->apparmor_profile, "cella-default");
    CHECK_STR(p->selinux_label, "system_u:system_r:container_t:s0:c1,c2");
    CHECK(p->has_oom_score_adj && p->oom_score_adj == -500);
}

static void check_full_mounts(const struct spec *s)
{
    CHECK(s->n_mounts == 8);
    if (s->n_mounts != 8)
        return;
    CHECK_STR(s->mounts[0].destination, "/proc");
    CHECK_STR(s->mounts[0].type, "proc");
    CHECK_STR(s->mounts[0].source, "proc");
    CHECK(s->mounts[0].options.n == 0 && s->mounts[0].options.v == NULL);
    CHECK_STR(s->mounts[1].destination, "/dev");
    CHECK(LIST_IS(s->mounts[1].options, "nosuid", "strictatime", "mode=755", "size=65536k"));
    CHECK(LIST_IS(s->mounts[2].options, "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                  "mode=0620", "gid=5"));
    CHECK_STR(s->mounts[3].source, "shm");
    CHECK_STR(s->mounts[4].type, "mqueue");
    CHECK(LIST_IS(s->mounts[5].options, "nosuid", "noexec", "nodev", "ro"));
    CHECK_STR(s->mounts[6].destination, "/sys/fs/cgroup");
    CHECK_STR(s->mounts[7].destination, "/data");
    CHECK_STR(s->mounts[7].type, "bind");
    CHECK_STR(s->mounts[7].source, "/srv/data");
    CHECK(LIST_IS(s->mounts[7].options, "rbind", "rw"));
}

static void check_full_hooks(const struct spec *s)
{
    const struct spec_hooks *h = s->hooks;
    CHECK(h[HOOK_PRESTART].n == 1);
    if (h[HOOK_PRESTART].n == 1) {
        const struct spec_hook *k = &h[HOOK_PRESTART].v[0];
        CHECK_STR(k->path, "/usr/bin/fix-mounts");
        CHECK(LIST_IS(k->args, "fix-mounts", "arg1", "arg2"));
        CHECK(LIST_IS(k->env, "key1=value1"));
        CHECK(!k->has_timeout);
    }
    CHECK(h[HOOK_CREATE_RUNTIME].n == 1);
    if (h[HOOK_CREATE_RUNTIME].n == 1) {
        CHECK_STR(h[HOOK_CREATE_RUNTIME].v[0].path, "/usr/bin/netns-setup");
        CHECK(h[HOOK_CREATE_RUNTIME].v[0].has_timeout && h[HOOK_CREATE_RUNTIME].v[0].timeout == 5);
        CHECK(h[HOOK_CREATE_RUNTIME].v[0].args.v == NULL);
    }
    CHECK(h[HOOK_CREATE_CONTAINER].n == 2);
    if (h[HOOK_CREATE_CONTAINER].n == 2) {
        CHECK_STR(h[HOOK_CREATE_CONTAINER].v[0].path, "/bin/cc1");
        CHECK_STR(h[HOOK_CREATE_CONTAINER].v[1].path, "/bin/cc2");
    }
    CHECK(h[HOOK_START_CONTAINER].n == 1);
    if (h[HOOK_START_CONTAINER].n == 1)
        CHECK_STR(h[HOOK_START_CONTAINER].v[0].path, "/usr/bin/refresh-ldcache");
    CHECK(h[HOOK_POSTSTART].n == 1);
    if (h[HOOK_POSTSTART].n == 1)
        CHECK(h[HOOK_POSTSTART].v[0].has_timeout && h[HOOK_POSTSTART].v[0].timeout == 1);
    CHECK(h[HOOK_POSTSTOP].n == 1);
    if (h[HOOK_POSTSTOP].n == 1)
        CHECK(LIST_IS(h[HOOK_POSTSTOP].v[0].args, "cleanup.sh", "-f"));
}

static void check_full_linux(const struct spec_linux *l)
{
    static const bool want_ns[NS_COUNT] = {
        [NS_PID] = true, [NS_NETWORK] = true, [NS_MOUNT] = true, [NS_IPC] = true,
        [NS_UTS] = true, [NS_USER] = true,    [NS_CGROUP] = true};
    for (int t = 0; t < NS_COUNT; t++) {
        CHECK(l->ns[t].present == want_ns[t]);
        if (t != NS_NETWORK)
            CHECK(l->ns[t].path == NULL);
    }
    CHECK_STR(l->ns[NS_NETWORK].path, "/var/run/netns/neta");

    CHECK(l->n_uid_mappings == 1);
    if (l->n_uid_mappings == 1)
        CHECK(l->uid_mappings[0].container_id == 0 && l->uid_mappings[0].host_id == 100000 &&
              l->uid_mappings[0].size == 65536);
    CHECK(l->n_gid_mappings == 2);
    if (l->n_gid_mappings == 2) {
        CHECK(l->gid_mappings[0].host_id == 200000);
        CHECK(l->gid_mappings[1].container_id == 65536 &&
              l->gid_mappings[1].host_id == 4294967294u && l->gid_mappings[1].size == 1);
    }

    CHECK(l->n_devices == 4);
    if (l->n_devices == 4) {
        const struct spec_device *d = l->devices;
        CHECK_STR(d[0].path, "/dev/fuse");
        CHECK(d[0].type == 'c' && d[0].major == 10 && d[0].minor == 229);
        CHECK(d[0].has_mode && d[0].file_mode == 0666);
        CHECK(d[0].has_uid && d[0].uid == 0 && d[0].has_gid && d[0].gid == 0);
        CHECK(d[1].type == 'b' && d[1].major == 8 && d[1].minor == 0);
        CHECK(!d[1].has_mode && !d[1].has_uid && !d[1].has_gid);
        CHECK(d[2].type == 'p' && d[2].major == 0 && d[2].minor == 0);
        CHECK(d[3].type == 'u' && d[3].has_uid && d[3].uid == 7 && d[3].has_gid && d[3].gid == 8);
    }
    CHECK_STR(l->cgroups_path, "/myRuntime/myContainer");

    const struct spec_resources *r = &l->resources;
    CHECK(r->present);
    CHECK(r->n_devices == 3);
    if (r->n_devices == 3) {
        CHECK(!r->devices[0].allow && r->devices[0].type == 'a' && r->devices[0].major == -1 &&
              r->devices[0].minor == -1);
        CHECK_STR(r->devices[0].access, "rwm");
        CHECK(r->devices[1].allow && r->devices[1].type == 'c' && r->devices[1].major == 10 &&
              r->devices[1].minor == 229);
        CHECK_STR(r->devices[1].access, "rw");
        CHECK(r->devices[2].type == 'b' && r->devices[2].major == 8 && r->devices[2].minor == -1);
    }
    CHECK(r->memory.limit.set && r->memory.limit.v == 536870912);
    CHECK(r->memory.reservation.set && r->memory.reservation.v == 268435456);
    CHECK(r->memory.swap.set && r->memory.swap.v == -1);
    CHECK(r->memory.kernel.set && r->memory.kernel.v == 0);
    CHECK(r->memory.kernel_tcp.set && r->memory.kernel_tcp.v == 4096);
    CHECK(r->memory.swappiness.set && r->memory.swappiness.v == 60);
    CHECK(r->memory.disable_oom_killer.set && !r->memory.disable_oom_killer.v);
    CHECK(r->memory.use_hierarchy.set && r->memory.use_hierarchy.v);
    CHECK(r->memory.check_before_update.set && r->memory.check_before_update.v);
    CHECK(r->cpu.shares.set && r->cpu.shares.v == 1024);
    CHECK(r->cpu.quota.set && r->cpu.quota.v == 100000);
    CHECK(r->cpu.period.set && r->cpu.period.v == 100000);
    CHECK(r->cpu.realtime_runtime.set && r->cpu.realtime_runtime.v == 950000);
    CHECK(r->cpu.realtime_period.set && r->cpu.realtime_period.v == 1000000);
    CHECK(r->cpu.idle.set && r->cpu.idle.v == 1);
    CHECK_STR(r->cpu.cpus, "2-3");
    CHECK_STR(r->cpu.mems, "0-7");
    CHECK(r->pids.limit.set && r->pids.limit.v == 32771);
    CHECK(r->blkio.weight.set && r->blkio.weight.v == 10);
    CHECK(r->unified.n == 2);
    CHECK_STR(kv_get(&r->unified, "memory.high"), "1073741824");
    CHECK_STR(kv_get(&r->unified, "io.weight"), "default 100");

    CHECK(l->sysctl.n == 2);
    CHECK_STR(kv_get(&l->sysctl, "net.ipv4.ip_forward"), "1");
    CHECK_STR(kv_get(&l->sysctl, "net.core.somaxconn"), "256");

    const struct spec_seccomp *sc = &l->seccomp;
    CHECK(sc->present);
    CHECK_STR(sc->default_action, "SCMP_ACT_ERRNO");
    CHECK(sc->has_default_errno_ret && sc->default_errno_ret == 1);
    CHECK(LIST_IS(sc->architectures, "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"));
    CHECK(LIST_IS(sc->flags, "SECCOMP_FILTER_FLAG_LOG"));
    CHECK_STR(sc->listener_path, "/run/seccomp-agent.sock");
    CHECK_STR(sc->listener_metadata, "meta");
    CHECK(sc->n_syscalls == 4);
    if (sc->n_syscalls == 4) {
        const struct spec_seccomp_rule *y = sc->syscalls;
        CHECK(LIST_IS(y[0].names, "getcwd", "chmod"));
        CHECK_STR(y[0].action, "SCMP_ACT_ALLOW");
        CHECK(!y[0].has_errno_ret && y[0].n_args == 0 && y[0].args == NULL);
        CHECK(y[1].n_args == 1);
        if (y[1].n_args == 1) {
            CHECK(y[1].args[0].index == 0 && y[1].args[0].value == 4294967295u &&
                  y[1].args[0].value_two == 0);
            CHECK_STR(y[1].args[0].op, "SCMP_CMP_EQ");
        }
        CHECK(y[2].n_args == 1);
        if (y[2].n_args == 1) {
            CHECK(y[2].args[0].value == 2114060288);
            CHECK_STR(y[2].args[0].op, "SCMP_CMP_MASKED_EQ");
        }
        CHECK(y[3].has_errno_ret && y[3].errno_ret == 13);
        CHECK(y[3].n_args == 2);
        if (y[3].n_args == 2) {
            CHECK(y[3].args[0].index == 5 && y[3].args[0].value == 1 &&
                  y[3].args[0].value_two == 2);
            CHECK_STR(y[3].args[0].op, "SCMP_CMP_NE");
            CHECK(y[3].args[1].index == 1 && y[3].args[1].value == INT64_MAX);
            CHECK_STR(y[3].args[1].op, "SCMP_CMP_LE");
        }
    }
    CHECK_STR(l->rootfs_propagation, "slave");
    CHECK(LIST_IS(l->masked_paths, "/proc/acpi", "/proc/kcore", "/sys/firmware"));
    CHECK(LIST_IS(l->readonly_paths, "/proc/bus", "/proc/sys"));
    CHECK_STR(l->mount_label, "system_u:object_r:container_file_t:s0:c1,c2");
    CHECK(l->has_personality && l->personality == 0x0000 /* PER_LINUX */);
}

static void test_full_config(void)
{
    struct spec *s = PARSE_OK(full_config);
    if (s == NULL)
        return;
    CHECK_STR(s->oci_version, "1.1.0");
    CHECK_STR(s->root.path, "rootfs");
    CHECK(s->root.readonly);
    CHECK_STR(s->hostname, "box");
    CHECK_STR(s->domainname, "example.org");
    check_full_process(&s->process);
    check_full_mounts(s);
    check_full_hooks(s);
    check_full_linux(&s->linux_);
    CHECK(s->annotations.n == 2);
    CHECK_STR(spec_annotation(s, "com.example.key1"), "value1");
    CHECK_STR(spec_annotation(s, "com.example.key2"), "value2");
    CHECK(spec_annotation(s, "com.example.key3") == NULL);
    spec_free(s);
}

/* The minimal document: only ociVersion. Everything else is absent. */
static void test_minimal(void)
{
    struct spec *s = PARSE_OK("{'ociVersion': '1.0.2'}");
    if (s == NULL)
        return;
    CHECK_STR(s->oci_version, "1.0.2");
    CHECK(s->root.path == NULL && !s->root.readonly);
    CHECK(s->hostname == NULL && s->domainname == NULL);
    CHECK(s->n_mounts == 0 && s->mounts == NULL);
    CHECK(!s->process.present && s->process.args.v == NULL && s->process.cwd == NULL);
    CHECK(!s->process.caps.present && !s->process.has_oom_score_adj);
    for (int t = 0; t < NS_COUNT; t++)
        CHECK(!s->linux_.ns[t].present);
    CHECK(!s->linux_.resources.present && !s->linux_.seccomp.present);
    for (int k = 0; k < HOOK_COUNT; k++)
        CHECK(s->hooks[k].n == 0 && s->hooks[k].v == NULL);
    CHECK(s->annotations.n == 0);
    CHECK(spec_annotation(s, "x") == NULL);
    spec_free(s);

    /* Empty containers are present but empty. */
    s = PARSE_OK("{" OV "'mounts': [], 'process': {'args': []}, 'linux': {'resources': {}},"
                 " 'annotations': {}, 'hooks': {}}");
    if (s == NULL)
        return;
    CHECK(s->n_mounts == 0);
    CHECK(s->process.present && s->process.args.n == 0 && s->process.args.v != NULL &&
          s->process.args.v[0] == NULL);
    CHECK(s->linux_.resources.present && !s->linux_.resources.memory.limit.set);
    CHECK(s->annotations.n == 0);
    spec_free(s);
}

/* ---- wrong types, by kind ----------------------------------------------------------- */

static void test_wrong_string(void)
{
    EXPECT_ERR("{'ociVersion': 1}", "ociVersion: expected string");
    EXPECT_ERR("{'ociVersion': true}", "ociVersion: expected string");
    EXPECT_ERR("{" OV "'hostname': 5}", "hostname: expected string");
    EXPECT_ERR("{" OV "'domainname': []}", "domainname: expected string");
    EXPECT_ERR("{" OV "'root': {'path': {}}}", "root.path: expected string");
    EXPECT_ERR("{" OV "'mounts': [{'destination': '/a', 'type': 1}]}",
               "mounts[0].type: expected string");
    EXPECT_ERR("{" OV "'mounts': [{'destination': '/a'}, {'destination': '/b', 'source': 2}]}",
               "mounts[1].source: expected string");
    EXPECT_ERR("{" OV "'process': {'cwd': 7}}", "process.cwd: expected string");
    EXPECT_ERR("{" OV "'process': {'apparmorProfile': false}}",
               "process.apparmorProfile: expected string");
    EXPECT_ERR("{" OV "'process': {'selinuxLabel': 1.5}}", "process.selinuxLabel: expected string");
    EXPECT_ERR("{" OV "'process': {'user': {'username': 0}}}",
               "process.user.username: expected string");
    EXPECT_ERR("{" OV "'linux': {'cgroupsPath': ['a']}}", "linux.cgroupsPath: expected string");
    EXPECT_ERR("{" OV "'linux': {'rootfsPropagation': 1}}",
               "linux.rootfsPropagation: expected string");
    EXPECT_ERR("{" OV "'linux': {'mountLabel': true}}", "linux.mountLabel: expected string");
    EXPECT_ERR("{" OV "'linux': {'namespaces': [{'type': 'pid', 'path': 3}]}}",
               "linux.namespaces[0].path: expected string");
    EXPECT_ERR("{" OV "'linux': {'namespaces': [{'type': 3}]}}",
               "linux.namespaces[0].type: expected string");
    EXPECT_ERR("{" OV "'linux': {'devices': [{'path': 1, 'type': 'c'}]}}",
               "linux.devices[0].path: expected string");
    EXPECT_ERR("{" OV "'linux': {'devices': [{'path': '/dev/x', 'type': 99}]}}",
               "linux.devices[0].type: expected string");
    EXPECT_ERR("{" OV "'linux': {'resources': {'cpu': {'cpus': 1}}}}",
               "linux.resources.cpu.cpus: expected string");
    EXPECT_ERR("{" OV "'linux': {'resources': {'cpu': {'mems': false}}}}",
               "linux.resources.cpu.mems: expected string");
    EXPECT_ERR("{" OV "'linux': {'resources': {'devices': [{'allow': true, 'access': 7}]}}}",
               "linux.resources.devices[0].access: expected string");
    EXPECT_ERR("{" OV "'linux': {'resources': {'devices': [{'allow': true, 'type': 1}]}}}",
               "linux.resources.devices[0].type: expected string");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 1}}}",
               "linux.seccomp.defaultAction: expected string");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'listenerPath': 1}}}",
               "linux.seccomp.listenerPath: expected string");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
               " 'action': 0}]}}}",
               "linux.seccomp.syscalls[0].action: expected string");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
               " 'action': 'B', 'args': [{'index': 0, 'value': 0, 'op': 5}]}]}}}",
               "linux.seccomp.syscalls[0].args[0].op: expected string");
    EXPECT_ERR("{" OV "'hooks': {'poststop': [{'path': 1}]}}",
               "hooks.poststop[0].path: expected string");
}

static void test_wrong_bool(void)
{
    EXPECT_ERR("{" OV "'root': {'path': 'r', 'readonly': 'yes'}}",
               "root.readonly: expected boolean");
    EXPECT_ERR("{" OV "'process': {'terminal': 1}}", "process.terminal: expected boolean");
    EXPECT_ERR("{" OV "'process': {'noNewPrivileges': 'true'}}",
               "process.noNewPrivileges: expected boolean");
    EXPECT_ERR("{" OV "'linux': {'resources': {'memory': {'disableOOMKiller': 0}}}}",
               "linux.resources.memory.disableOOMKiller: expected boolean");
    EXPECT_ERR("{" OV "'linux': {'resources': {'memory': {'useHierarchy': []}}}}",
               "linux.resources.memory.useHierarchy: expected boolean");
    EXPECT_ERR("{" OV "'linux': {'resources': {'memory': {'checkBeforeUpdate': {}}}}}",
               "linux.resources.memory.checkBeforeUpdate: expected boolean");
    EXPECT_ERR("{" OV "'linux': {'resources': {'devices': [{'allow': 'no'}]}}}",
               "linux.resources.devices[0].allow: expected boolean");
}

static void test_wrong_integer(void)
{
    EXPECT_ERR("{" OV "'process': {'rlimits': [{'type': 'RLIMIT_CORE', 'soft': 0, 'hard': 0},"
               " {'type': 'RLIMIT_CPU', 'soft': 1, 'hard': 1},"
               " {'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': '1'}]}}",
               "process.rlimits[2].hard: expected integer");
    EXPECT_ERR("{" OV "'process': {'rlimits': [{'type': 'RLIMIT_CORE', 'soft': true}]}}",
               "process.rlimits[0].soft: expected integer");
    EXPECT_ERR("{" OV "'process': {'oomScoreAdj': '5'}}", "process.oomScoreAdj: expected integer");
    EXPECT_ERR("{" OV "'process': {'oomScoreAdj': 1.0}}", "process.oomScoreAdj: expected integer");
    EXPECT_ERR("{" OV "'process': {'user': {'uid': '0'}}}", "process.user.uid: expected integer");
    EXPECT_ERR("{" OV "'process': {'user': {'gid': null, 'umask': 'x'}}}",
               "process.user.umask: expected integer");
    EXPECT_ERR("{" OV "'process': {'consoleSize': {'height': 'x', 'width': 1}}}",
               "process.consoleSize.height: expected integer");
    EXPECT_ERR("{" OV "'linux': {'resources': {'memory': {'limit': '1g'}}}}",
               "linux.resources.memory.limit: expected integer");
    EXPECT_ERR("{" OV "'linux': {'resources': {'memory': {'limit': 1.5}}}}",
               "linux.resources.memory.limit: expected integer");
    EXPECT_ERR("{" OV "'linux': {'resources': {'memory': {'swap': true}}}}",
               "linux.resources.memory.swap: expected integer");
    EXPECT_ERR("{" OV "'linux': {'resources': {'memory': {'kernelTCP': []}}}}",
               "linux.resources.memory.kernelTCP: expected integer");
    EXPECT_ERR("{" OV "'linux': {'resources': {'cpu': {'quota': '1'}}}}",
               "linux.resources.cpu.quota: expected integer");
    EXPECT_ERR("{" OV "'linux': {'resources': {'cpu': {'shares': '1'}}}}",
               "linux.resources.cpu.shares: expected integer");
    EXPECT_ERR("{" OV "'linux': {'resources': {'cpu': {'idle': {}}}}}",
               "linux.resources.cpu.idle: expected integer");
    EXPECT_ERR("{" OV "'linux': {'resources': {'pids': {'limit': 'max'}}}}",
               "linux.resources.pids.limit: expected integer");
    EXPECT_ERR("{" OV "'linux': {'resources': {'blockIO': {'weight': 'x'}}}}",
               "linux.resources.blockIO.weight: expected integer");
    EXPECT_ERR("{" OV "'linux': {'resources': {'devices': [{'allow': true, 'major': 'x'}]}}}",
               "linux.resources.devices[0].major: expected integer");
    EXPECT_ERR("{" OV "'linux': {'devices': [{'path': '/dev/x', 'type': 'c', 'minor': '1'}]}}",
               "linux.devices[0].minor: expected integer");
    EXPECT_ERR("{" OV "'linux': {'uidMappings': [{'containerID': 0, 'hostID': '1', 'size': 1}]}}",
               "linux.uidMappings[0].hostID: expected integer");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
               " 'action': 'B', 'args': [{'index': '0', 'value': 0, 'op': 'EQ'}]}]}}}",
               "linux.seccomp.syscalls[0].args[0].index: expected integer");
    EXPECT_ERR(
        "{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
        " 'action': 'B', 'args': [{'index': 0, 'value': 0, 'valueTwo': 'x', 'op': 'EQ'}]}]}}}",
        "linux.seccomp.syscalls[0].args[0].valueTwo: expected integer");
    EXPECT_ERR("{" OV "'hooks': {'prestart': [{'path': '/x', 'timeout': '5'}]}}",
               "hooks.prestart[0].timeout: expected integer");
}

static void test_negative_unsigned(void)
{
    EXPECT_ERR("{" OV "'process': {'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': -1}]}}",
               "process.rlimits[0].soft: expected unsigned integer");
    EXPECT_ERR("{" OV "'process': {'user': {'uid': -1}}}",
               "process.user.uid: expected unsigned integer");
    EXPECT_ERR("{" OV "'process': {'user': {'gid': -5}}}",
               "process.user.gid: expected unsigned integer");
    EXPECT_ERR("{" OV "'process': {'user': {'uid': 1.5}}}", "process.user.uid: expected integer");
    EXPECT_ERR("{" OV "'process': {'user': {'additionalGids': [1, -2]}}}",
               "process.user.additionalGids[1]: expected unsigned integer");
    EXPECT_ERR("{" OV "'process': {'user': {'additionalGids': [1, 2, 'x']}}}",
               "process.user.additionalGids[2]: expected unsigned integer");
    EXPECT_ERR("{" OV "'process': {'consoleSize': {'height': 1, 'width': -80}}}",
               "process.consoleSize.width: expected unsigned integer");
    EXPECT_ERR("{" OV "'linux': {'resources': {'memory': {'swappiness': -1}}}}",
               "linux.resources.memory.swappiness: expected unsigned integer");
    EXPECT_ERR("{" OV "'linux': {'resources': {'cpu': {'period': -1}}}}",
               "linux.resources.cpu.period: expected unsigned integer");
    EXPECT_ERR("{" OV "'linux': {'resources': {'cpu': {'realtimePeriod': -3}}}}",
               "linux.resources.cpu.realtimePeriod: expected unsigned integer");
    EXPECT_ERR("{" OV "'linux': {'gidMappings': [{'containerID': -1, 'hostID': 0, 'size': 1}]}}",
               "linux.gidMappings[0].containerID: expected unsigned integer");
    EXPECT_ERR("{" OV "'linux': {'devices': [{'path': '/dev/x', 'type': 'c', 'uid': -1}]}}",
               "linux.devices[0].uid: expected unsigned integer");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'defaultErrnoRet': -1}}}",
               "linux.seccomp.defaultErrnoRet: expected unsigned integer");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
               " 'action': 'B', 'errnoRet': -1}]}}}",
               "linux.seccomp.syscalls[0].errnoRet: expected unsigned integer");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
               " 'action': 'B', 'args': [{'index': -1, 'value': 0, 'op': 'EQ'}]}]}}}",
               "linux.seccomp.syscalls[0].args[0].index: expected unsigned integer");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
               " 'action': 'B', 'args': [{'index': 0, 'value': -7, 'op': 'EQ'}]}]}}}",
               "linux.seccomp.syscalls[0].args[0].value: expected unsigned integer");
}

static void test_wrong_array(void)
{
    EXPECT_ERR("{" OV "'mounts': {}}", "mounts: expected array");
    EXPECT_ERR("{" OV "'process': {'args': 'sh'}}", "process.args: expected array");
    EXPECT_ERR("{" OV "'process': {'env': {}}}", "process.env: expected array");
    EXPECT_ERR("{" OV "'process': {'rlimits': {}}}", "process.rlimits: expected array");
    EXPECT_ERR("{" OV "'process': {'user': {'additionalGids': 5}}}",
               "process.user.additionalGids: expected array");
    EXPECT_ERR("{" OV "'process': {'capabilities': {'bounding': 'CAP_KILL'}}}",
               "process.capabilities.bounding: expected array");
    EXPECT_ERR("{" OV "'mounts': [{'destination': '/a', 'options': 'ro'}]}",
               "mounts[0].options: expected array");
    EXPECT_ERR("{" OV "'linux': {'namespaces': {}}}", "linux.namespaces: expected array");
    EXPECT_ERR("{" OV "'linux': {'uidMappings': 0}}", "linux.uidMappings: expected array");
    EXPECT_ERR("{" OV "'linux': {'gidMappings': 'x'}}", "linux.gidMappings: expected array");
    EXPECT_ERR("{" OV "'linux': {'devices': {}}}", "linux.devices: expected array");
    EXPECT_ERR("{" OV "'linux': {'maskedPaths': '/proc'}}", "linux.maskedPaths: expected array");
    EXPECT_ERR("{" OV "'linux': {'readonlyPaths': true}}", "linux.readonlyPaths: expected array");
    EXPECT_ERR("{" OV "'linux': {'resources': {'devices': {}}}}",
               "linux.resources.devices: expected array");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'architectures': 'x'}}}",
               "linux.seccomp.architectures: expected array");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'flags': 1}}}",
               "linux.seccomp.flags: expected array");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': {}}}}",
               "linux.seccomp.syscalls: expected array");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': 'x',"
               " 'action': 'B'}]}}}",
               "linux.seccomp.syscalls[0].names: expected array");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
               " 'action': 'B', 'args': {}}]}}}",
               "linux.seccomp.syscalls[0].args: expected array");
    EXPECT_ERR("{" OV "'hooks': {'prestart': {'path': '/x'}}}", "hooks.prestart: expected array");
    EXPECT_ERR("{" OV "'hooks': {'createRuntime': [{'path': '/x', 'args': 'x'}]}}",
               "hooks.createRuntime[0].args: expected array");
    EXPECT_ERR("{" OV "'hooks': {'createContainer': [{'path': '/x', 'env': 1}]}}",
               "hooks.createContainer[0].env: expected array");
}

static void test_wrong_object(void)
{
    EXPECT_ERR("{" OV "'root': 'rootfs'}", "root: expected object");
    EXPECT_ERR("{" OV "'process': []}", "process: expected object");
    EXPECT_ERR("{" OV "'linux': 1}", "linux: expected object");
    EXPECT_ERR("{" OV "'hooks': []}", "hooks: expected object");
    EXPECT_ERR("{" OV "'annotations': []}", "annotations: expected object");
    EXPECT_ERR("{" OV "'process': {'user': 0}}", "process.user: expected object");
    EXPECT_ERR("{" OV "'process': {'consoleSize': [25, 80]}}",
               "process.consoleSize: expected object");
    EXPECT_ERR("{" OV "'process': {'capabilities': ['CAP_KILL']}}",
               "process.capabilities: expected object");
    EXPECT_ERR("{" OV "'linux': {'resources': []}}", "linux.resources: expected object");
    EXPECT_ERR("{" OV "'linux': {'resources': {'memory': 5}}}",
               "linux.resources.memory: expected object");
    EXPECT_ERR("{" OV "'linux': {'resources': {'cpu': 'x'}}}",
               "linux.resources.cpu: expected object");
    EXPECT_ERR("{" OV "'linux': {'resources': {'pids': 10}}}",
               "linux.resources.pids: expected object");
    EXPECT_ERR("{" OV "'linux': {'resources': {'blockIO': []}}}",
               "linux.resources.blockIO: expected object");
    EXPECT_ERR("{" OV "'linux': {'resources': {'unified': []}}}",
               "linux.resources.unified: expected object");
    EXPECT_ERR("{" OV "'linux': {'sysctl': ['a=b']}}", "linux.sysctl: expected object");
    EXPECT_ERR("{" OV "'linux': {'seccomp': 'unconfined'}}", "linux.seccomp: expected object");
}

static void test_wrong_elements(void)
{
    /* string list elements */
    EXPECT_ERR("{" OV "'process': {'args': ['sh', 1]}}", "process.args[1]: expected string");
    EXPECT_ERR("{" OV "'process': {'env': ['A=1', 'B=2', null]}}",
               "process.env[2]: expected string");
    EXPECT_ERR("{" OV "'process': {'capabilities': {'ambient': [['CAP_KILL']]}}}",
               "process.capabilities.ambient[0]: expected string");
    EXPECT_ERR("{" OV "'process': {'capabilities': {'effective': [], 'permitted': [false]}}}",
               "process.capabilities.permitted[0]: expected string");
    EXPECT_ERR("{" OV "'process': {'capabilities': {'inheritable': [1]}}}",
               "process.capabilities.inheritable[0]: expected string");
    EXPECT_ERR("{" OV "'mounts': [{'destination': '/a', 'options': ['ro', {}]}]}",
               "mounts[0].options[1]: expected string");
    EXPECT_ERR("{" OV "'linux': {'maskedPaths': ['/a', 2]}}",
               "linux.maskedPaths[1]: expected string");
    EXPECT_ERR("{" OV "'linux': {'readonlyPaths': [0]}}",
               "linux.readonlyPaths[0]: expected string");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'architectures': [1]}}}",
               "linux.seccomp.architectures[0]: expected string");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['a',"
               " 'b', 3], 'action': 'B'}]}}}",
               "linux.seccomp.syscalls[0].names[2]: expected string");
    EXPECT_ERR("{" OV "'hooks': {'poststart': [{'path': '/x', 'args': ['x', 1]}]}}",
               "hooks.poststart[0].args[1]: expected string");

    /* objects in arrays */
    EXPECT_ERR("{" OV "'mounts': ['/proc']}", "mounts[0]: expected object");
    EXPECT_ERR("{" OV "'mounts': [{'destination': '/a'}, null]}", "mounts[1]: expected object");
    EXPECT_ERR("{" OV "'process': {'rlimits': [1]}}", "process.rlimits[0]: expected object");
    EXPECT_ERR("{" OV "'linux': {'namespaces': [{'type': 'pid'}, 'net']}}",
               "linux.namespaces[1]: expected object");
    EXPECT_ERR("{" OV "'linux': {'uidMappings': [[0, 0, 1]]}}",
               "linux.uidMappings[0]: expected object");
    EXPECT_ERR("{" OV "'linux': {'devices': ['/dev/null']}}", "linux.devices[0]: expected object");
    EXPECT_ERR("{" OV "'linux': {'resources': {'devices': [true]}}}",
               "linux.resources.devices[0]: expected object");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': ['read']}}}",
               "linux.seccomp.syscalls[0]: expected object");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
               " 'action': 'B', 'args': [0]}]}}}",
               "linux.seccomp.syscalls[0].args[0]: expected object");
    EXPECT_ERR("{" OV "'hooks': {'startContainer': ['/bin/true']}}",
               "hooks.startContainer[0]: expected object");

    /* map values */
    EXPECT_ERR("{" OV "'annotations': {'foo': 1}}", "annotations.foo: expected string");
    EXPECT_ERR("{" OV "'annotations': {'a': 'b', 'foo': {}}}", "annotations.foo: expected string");
    EXPECT_ERR("{" OV "'annotations': {'foo': null}}", "annotations.foo: expected string");
    EXPECT_ERR("{" OV "'linux': {'sysctl': {'net.ipv4.ip_forward': 1}}}",
               "linux.sysctl.net.ipv4.ip_forward: expected string");
    EXPECT_ERR("{" OV "'linux': {'resources': {'unified': {'memory.max': 100}}}}",
               "linux.resources.unified.memory.max: expected string");
}

static void test_out_of_range(void)
{
    EXPECT_ERR("{" OV "'process': {'user': {'uid': 4294967296}}}",
               "process.user.uid: value out of range");
    EXPECT_ERR("{" OV "'process': {'user': {'gid': 9223372036854775807}}}",
               "process.user.gid: value out of range");
    EXPECT_ERR("{" OV "'process': {'user': {'additionalGids': [4294967296]}}}",
               "process.user.additionalGids[0]: expected unsigned integer");
    EXPECT_ERR("{" OV "'process': {'user': {'umask': 4096}}}",
               "process.user.umask: value out of range");
    EXPECT_ERR("{" OV "'process': {'consoleSize': {'height': 65536}}}",
               "process.consoleSize.height: value out of range");
    EXPECT_ERR("{" OV "'process': {'oomScoreAdj': 1001}}",
               "process.oomScoreAdj: must be between -1000 and 1000");
    EXPECT_ERR("{" OV "'process': {'oomScoreAdj': -1001}}",
               "process.oomScoreAdj: must be between -1000 and 1000");
    EXPECT_ERR("{" OV "'process': {'oomScoreAdj': 4294967296}}",
               "process.oomScoreAdj: must be between -1000 and 1000");
    EXPECT_ERR("{" OV "'linux': {'uidMappings': [{'containerID': 0, 'hostID': 0,"
               " 'size': 4294967296}]}}",
               "linux.uidMappings[0].size: value out of range");
    EXPECT_ERR("{" OV
               "'linux': {'devices': [{'path': '/dev/x', 'type': 'c', 'fileMode': 4294967296}]}}",
               "linux.devices[0].fileMode: value out of range");
    EXPECT_ERR("{" OV "'linux': {'devices': [{'path': '/dev/x', 'type': 'c', 'gid': 4294967296}]}}",
               "linux.devices[0].gid: value out of range");
    EXPECT_ERR("{" OV "'linux': {'resources': {'blockIO': {'weight': 65536}}}}",
               "linux.resources.blockIO.weight: value out of range");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
               " 'action': 'B', 'args': [{'index': 6, 'value': 0, 'op': 'EQ'}]}]}}}",
               "linux.seccomp.syscalls[0].args[0].index: value out of range");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
               " 'action': 'B', 'errnoRet': 4294967296}]}}}",
               "linux.seccomp.syscalls[0].errnoRet: value out of range");

    /* The largest accepted values. */
    struct spec *s = PARSE_OK("{" OV "'process': {'user': {'uid': 4294967295, 'gid': 4294967295,"
                              " 'umask': 4095}, 'oomScoreAdj': 1000,"
                              " 'consoleSize': {'height': 65535, 'width': 0}},"
                              " 'linux': {'resources': {'blockIO': {'weight': 65535},"
                              " 'memory': {'limit': 9223372036854775807,"
                              " 'reservation': -9223372036854775808}}}}");
    if (s != NULL) {
        CHECK(s->process.user.uid == 4294967295u && s->process.user.gid == 4294967295u);
        CHECK(s->process.user.has_umask && s->process.user.umask == 07777);
        CHECK(s->process.has_oom_score_adj && s->process.oom_score_adj == 1000);
        CHECK(s->process.console_height == 65535 && s->process.console_width == 0);
        CHECK(s->linux_.resources.blkio.weight.v == 65535);
        CHECK(s->linux_.resources.memory.limit.v == INT64_MAX);
        CHECK(s->linux_.resources.memory.reservation.v == INT64_MIN);
        spec_free(s);
    }
    s = PARSE_OK("{" OV "'process': {'oomScoreAdj': -1000}}");
    if (s != NULL) {
        CHECK(s->process.oom_score_adj == -1000);
        spec_free(s);
    }
}

/* RLIM_INFINITY is written 18446744073709551615 by runc and podman. */
static void test_rlim_infinity(void)
{
    char *t = jq("{" OV "'process': {'rlimits': [{'type': 'RLIMIT_MEMLOCK',"
                 " 'soft': 18446744073709551615, 'hard': 18446744073709551615}]}}");
    cerr_t err = NULL;
    struct spec *s = spec_parse(t, strlen(t), ORIGIN, &err);
    free(t);
    CHECK(s != NULL && err == NULL);
    if (err != NULL)
        printf("#   %s\n", cerr_msg(err));
    if (s != NULL) {
        CHECK(s->process.n_rlimits == 1);
        if (s->process.n_rlimits == 1) {
            CHECK(s->process.rlimits[0].resource == RLIMIT_MEMLOCK);
            CHECK(s->process.rlimits[0].soft == UINT64_MAX);
            CHECK(s->process.rlimits[0].hard == UINT64_MAX);
            CHECK(s->process.rlimits[0].soft == (uint64_t)RLIM_INFINITY);
        }
    }
    spec_free(s);
    cerr_free(&err);
}

/* Written as reals, values arrive through the real path of jget_u64. */
static void test_real_unsigned(void)
{
    /* Reals are not integers (as Go's encoding/json in runc): 8388608.0 is refused. */
    EXPECT_ERR("{" OV "'process': {'rlimits': [{'type': 'RLIMIT_STACK', 'soft': 8388608.0}]}}",
               "process.rlimits[0].soft: expected integer");
    EXPECT_ERR("{" OV "'process': {'rlimits': [{'type': 'RLIMIT_STACK', 'soft': 0.5}]}}",
               "process.rlimits[0].soft: expected integer");
    EXPECT_ERR("{" OV "'process': {'user': {'uid': 5000000000}}}",
               "process.user.uid: value out of range");
    /* In a document read with integers as reals (it holds 2^64-1), whole reals
     * are integers and fractions are still refused. */
    EXPECT_ERR("{" OV "'process': {'rlimits': [{'type': 'RLIMIT_STACK', 'soft': 0.5,"
               " 'hard': 18446744073709551615}]}}",
               "process.rlimits[0].soft: expected unsigned integer");
}

/* 2^64 as a real (how 18446744073709551615 reads once rounded to a double). The
 * parse runs in a child: with clang's UBSan the current code aborts. */
static int rlim_real_child(void)
{
    char *t = jq("{" OV "'process': {'rlimits': [{'type': 'RLIMIT_STACK',"
                 " 'soft': 18446744073709551615, 'hard': 18446744073709551615}]}}");
    cerr_t err = NULL;
    struct spec *s = spec_parse(t, strlen(t), ORIGIN, &err);
    free(t);
    if (s == NULL)
        return 2;
    int ok = s->process.n_rlimits == 1 && s->process.rlimits[0].soft == UINT64_MAX &&
             s->process.rlimits[0].hard == UINT64_MAX;
    spec_free(s);
    return ok ? 0 : 3;
}

static void test_rlim_infinity_real(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        _exit(rlim_real_child());
    }
    CHECK(pid > 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 1 || WEXITSTATUS(status) == 2)
        CHECK(!"parse of RLIM_INFINITY failed");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- required fields, semantic checks ---------------------------------------------- */

static void test_required(void)
{
    EXPECT_ERR("{}", "ociVersion: required field is missing");
    EXPECT_ERR("{'hostname': 'x'}", "ociVersion: required field is missing");
    EXPECT_ERR("{" OV "'mounts': [{'type': 'tmpfs', 'source': 'tmpfs'}]}",
               "mounts[0].destination: required field is missing");
    EXPECT_ERR("{" OV "'mounts': [{'destination': '/a'}, {'destination': null}]}",
               "mounts[1].destination: required field is missing");
    EXPECT_ERR("{" OV "'process': {'rlimits': [{'soft': 1, 'hard': 1}]}}",
               "process.rlimits[0].type: required field is missing");
    EXPECT_ERR("{" OV "'hooks': {'prestart': [{'args': ['x']}]}}",
               "hooks.prestart[0].path: required field is missing");
    EXPECT_ERR("{" OV "'hooks': {'poststop': [{'path': '/a'}, {'timeout': 1}]}}",
               "hooks.poststop[1].path: required field is missing");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {}}}",
               "linux.seccomp.defaultAction: required field is missing");
    EXPECT_ERR("{" OV
               "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'action': 'B'}]}}}",
               "linux.seccomp.syscalls[0].names: required field is missing");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': []}]}}}",
               "linux.seccomp.syscalls[0].action: required field is missing");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
               " 'action': 'B', 'args': [{'value': 0, 'op': 'EQ'}]}]}}}",
               "linux.seccomp.syscalls[0].args[0].index: required field is missing");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
               " 'action': 'B', 'args': [{'index': 1, 'op': 'EQ'}]}]}}}",
               "linux.seccomp.syscalls[0].args[0].value: required field is missing");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': 'A', 'syscalls': [{'names': ['x'],"
               " 'action': 'B', 'args': [{'index': 1, 'value': 2}]}]}}}",
               "linux.seccomp.syscalls[0].args[0].op: required field is missing");
    EXPECT_ERR("{" OV "'linux': {'namespaces': [{'path': '/proc/1/ns/net'}]}}",
               "linux.namespaces[0].type: required field is missing");
    EXPECT_ERR("{" OV "'linux': {'devices': [{'type': 'c'}]}}",
               "linux.devices[0].path: required field is missing");
    EXPECT_ERR("{" OV "'linux': {'devices': [{'path': '/dev/x'}]}}",
               "linux.devices[0].type: required field is missing");
    EXPECT_ERR("{" OV "'linux': {'resources': {'devices': [{'access': 'rwm'}]}}}",
               "linux.resources.devices[0].allow: required field is missing");
}

static void test_semantic(void)
{
    EXPECT_ERR("{" OV "'process': {'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': 1},"
               " {'type': 'RLIMIT_FOO', 'soft': 1, 'hard': 1}]}}",
               "process.rlimits[1].type: unknown rlimit `RLIMIT_FOO`");
    EXPECT_ERR("{" OV "'process': {'rlimits': [{'type': 'nofile'}]}}",
               "process.rlimits[0].type: unknown rlimit `nofile`");
    EXPECT_ERR("{" OV "'linux': {'namespaces': [{'type': 'pid'}, {'type': 'net'}]}}",
               "linux.namespaces[1].type: unknown namespace type `net`");
    EXPECT_ERR("{" OV "'linux': {'namespaces': [{'type': ''}]}}",
               "linux.namespaces[0].type: unknown namespace type ``");
    EXPECT_ERR("{" OV "'linux': {'namespaces': [{'type': 'pid'}, {'type': 'mount'},"
               " {'type': 'pid', 'path': '/proc/1/ns/pid'}]}}",
               "linux.namespaces[2]: namespace `pid` listed twice");
    EXPECT_ERR("{" OV "'process': {'cwd': 'home'}}", "process.cwd: must be an absolute path");
    EXPECT_ERR("{" OV "'process': {'cwd': ''}}", "process.cwd: must be an absolute path");
    EXPECT_ERR("{" OV "'hooks': {'prestart': [{'path': '/x', 'timeout': 0}]}}",
               "hooks.prestart[0].timeout: must be between 1 and 2147483");
    EXPECT_ERR("{" OV "'hooks': {'poststop': [{'path': '/x', 'timeout': -3}]}}",
               "hooks.poststop[0].timeout: must be between 1 and 2147483");
    EXPECT_ERR("{" OV "'linux': {'devices': [{'path': '/dev/x', 'type': 'x'}]}}",
               "linux.devices[0].type: unknown device type");
    EXPECT_ERR("{" OV "'linux': {'devices': [{'path': '/dev/x', 'type': 'cc'}]}}",
               "linux.devices[0].type: unknown device type");
    EXPECT_ERR("{" OV "'linux': {'devices': [{'path': '/dev/x', 'type': ''}]}}",
               "linux.devices[0].type: unknown device type");
    EXPECT_ERR("{" OV "'linux': {'resources': {'devices': [{'allow': true, 'type': 'p'}]}}}",
               "linux.resources.devices[0].type: must be one of a, c, b");

    /* Every namespace type and rlimit name is known. */
    struct spec *s = PARSE_OK(
        "{" OV "'linux': {'namespaces': [{'type': 'pid'}, {'type': 'network'}, {'type': 'mount'},"
        " {'type': 'ipc'}, {'type': 'uts'}, {'type': 'user'}, {'type': 'cgroup'},"
        " {'type': 'time'}]}}");
    if (s != NULL) {
        for (int t = 0; t < NS_COUNT; t++)
            CHECK(s->linux_.ns[t].present && s->linux_.ns[t].path == NULL);
        spec_free(s);
    }
    static const char *const rl[] = {
        "RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",        "RLIMIT_DATA",
        "RLIMIT_FSIZE",  "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK",    "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE",   "RLIMIT_NOFILE", "RLIMIT_NPROC",      "RLIMIT_RSS",
        "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK"};
    for (size_t i = 0; i < ARRAY_SIZE(rl); i++)
        CHECK(rlimit_from_name(rl[i]) >= 0);
    CHECK(rlimit_from_name("RLIMIT_NOFILE") == RLIMIT_NOFILE);
    CHECK(rlimit_from_name("RLIMIT_RTTIME") == RLIMIT_RTTIME);
    CHECK(rlimit_from_name("rlimit_nofile") == -1);
    CHECK(rlimit_from_name("") == -1);
}

/* Hook timeouts are seconds waited as milliseconds in an int (poll): a larger one would wrap
 * to a small or negative (no) timeout, so it is refused. */
static void test_hook_timeout_range(void)
{
    EXPECT_ERR("{" OV "'hooks': {'prestart': [{'path': '/x', 'timeout': 4294967297}]}}",
               "hooks.prestart[0].timeout: must be between 1 and 2147483");
    EXPECT_ERR("{" OV "'hooks': {'poststop': [{'path': '/x', 'timeout': 2147484}]}}",
               "hooks.poststop[0].timeout: must be between 1 and 2147483");
    struct spec *s =
        PARSE_OK("{" OV "'hooks': {'prestart': [{'path': '/x', 'timeout': 2147483}]}}");
    if (s != NULL) {
        CHECK(s->hooks[HOOK_PRESTART].n == 1 && s->hooks[HOOK_PRESTART].v[0].has_timeout);
        CHECK(s->hooks[HOOK_PRESTART].v[0].timeout == 2147483);
        spec_free(s);
    }
}

/* ---- unknown fields, nulls ----------------------------------------------------------- */

static void test_unknown_fields(void)
{
    struct spec *s = PARSE_OK(
        "{" OV "'future': {'a': [1, 2, {'b': null}]}, 'windows': {}, 'solaris': 1,"
        " 'root': {'path': 'r', 'extra': 1},"
        " 'process': {'args': ['x'], 'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'x': 1}, "
        "'scheduler': {'policy': 'SCHED_BATCH', 'flags': ['SCHED_FLAG_RESET_ON_FORK'], 'x': 1},"
        "   'execCPUAffinity': {'initial': '0'}, 'user': {'uid': 1, 'x': 'y'},"
        "   'capabilities': {'bounding': [], 'future': 5},"
        "   'rlimits': [{'type': 'RLIMIT_CPU', 'soft': 1, 'hard': 2, 'x': []}]},"
        " 'mounts': [{'destination': '/a', 'gidMappings': [], 'bogus': true}],"
        " 'hooks': {'futureHook': 5, 'prestart': [{'path': '/p', 'extra': {}}]},"
        " 'linux': {'intelRdt': 'x', 'memoryPolicy': {'mode': 'MPOL_LOCAL', 'x': 1}, 'netDevices': "
        "{'eth0': {}},"
        "   'namespaces': [{'type': 'uts', 'zzz': 1}],"
        "   'resources': {'rdma': {}, 'hugepageLimits': [], 'network': {},"
        "     'memory': {'limit': 1, 'new': 'x'}},"
        "   'seccomp': {'defaultAction': 'A', 'futureSeccompField': 1,"
        "     'syscalls': [{'names': ['x'], 'action': 'B', 'comment': 'c',"
        "       'args': [{'index': 0, 'value': 1, 'op': 'EQ', 'x': 'y'}]}]}}}");
    if (s == NULL)
        return;
    CHECK_STR(s->root.path, "r");
    CHECK(LIST_IS(s->process.args, "x"));
    CHECK(s->process.user.uid == 1);
    CHECK(s->process.has_sched && s->process.sched_policy == 3 /* SCHED_BATCH */ &&
          s->process.sched_flags == 1 /* SCHED_FLAG_RESET_ON_FORK */);
    CHECK(s->process.caps.present && s->process.caps.bounding.n == 0);
    CHECK(s->process.n_rlimits == 1 && s->process.rlimits[0].hard == 2);
    CHECK(s->n_mounts == 1);
    CHECK(s->hooks[HOOK_PRESTART].n == 1);
    CHECK(s->linux_.ns[NS_UTS].present);
    CHECK(s->linux_.resources.memory.limit.v == 1);
    CHECK(s->linux_.seccomp.n_syscalls == 1 && s->linux_.seccomp.syscalls[0].n_args == 1);
    spec_free(s);
}

static void test_nulls(void)
{
    EXPECT_ERR("{'ociVersion': null}", "ociVersion: required field is missing");
    EXPECT_ERR("{" OV "'hooks': {'prestart': [{'path': null}]}}",
               "hooks.prestart[0].path: required field is missing");
    EXPECT_ERR("{" OV "'linux': {'seccomp': {'defaultAction': null}}}",
               "linux.seccomp.defaultAction: required field is missing");

    struct spec *s =
        PARSE_OK("{" OV "'root': null, 'hostname': null, 'mounts': null, 'hooks': null,"
                 " 'annotations': null, 'process': null, 'linux': null}");
    if (s != NULL) {
        CHECK(s->root.path == NULL && s->hostname == NULL && s->mounts == NULL);
        CHECK(!s->process.present && s->annotations.n == 0);
        spec_free(s);
    }
    s = PARSE_OK("{" OV "'root': {'path': null, 'readonly': null},"
                 " 'mounts': [{'destination': '/a', 'type': null, 'source': null,"
                 "   'options': null}],"
                 " 'process': {'terminal': null, 'user': {'uid': null, 'gid': null,"
                 "   'umask': null, 'additionalGids': null}, 'args': null, 'env': null,"
                 "   'cwd': null, 'capabilities': null, 'rlimits': null, 'oomScoreAdj': null,"
                 "   'consoleSize': null, 'noNewPrivileges': null},"
                 " 'hooks': {'prestart': null, 'poststop': [{'path': '/x', 'timeout': null,"
                 "   'args': null}]},"
                 " 'linux': {'namespaces': null, 'uidMappings': null, 'devices': null,"
                 "   'cgroupsPath': null, 'sysctl': null, 'seccomp': null,"
                 "   'resources': {'memory': {'limit': null, 'swap': 5,"
                 "     'disableOOMKiller': null}, 'cpu': null, 'pids': {'limit': null},"
                 "     'blockIO': {'weight': null}, 'devices': null, 'unified': null},"
                 "   'maskedPaths': null}}");
    if (s == NULL)
        return;
    CHECK(s->root.path == NULL && !s->root.readonly);
    CHECK(s->n_mounts == 1 && s->mounts[0].type == NULL && s->mounts[0].source == NULL &&
          s->mounts[0].options.v == NULL);
    CHECK(s->process.present && !s->process.terminal && s->process.args.v == NULL);
    CHECK(s->process.user.uid == 0 && !s->process.user.has_umask);
    CHECK(s->process.user.additional_gids == NULL && s->process.user.n_additional_gids == 0);
    CHECK(s->process.cwd == NULL && !s->process.caps.present && s->process.n_rlimits == 0);
    CHECK(!s->process.has_oom_score_adj);
    CHECK(s->hooks[HOOK_PRESTART].n == 0);
    CHECK(s->hooks[HOOK_POSTSTOP].n == 1 && !s->hooks[HOOK_POSTSTOP].v[0].has_timeout);
    CHECK(s->linux_.cgroups_path == NULL && !s->linux_.seccomp.present);
    const struct spec_resources *r = &s->linux_.resources;
    CHECK(r->present && !r->memory.limit.set && r->memory.swap.set && r->memory.swap.v == 5);
    CHECK(!r->memory.disable_oom_killer.set && !r->memory.use_hierarchy.set);
    CHECK(!r->cpu.shares.set && !r->pids.limit.set && !r->blkio.weight.set);
    CHECK(r->n_devices == 0 && r->unified.n == 0);
    spec_free(s);
}

/* ---- malformed documents --------------------------------------------------------------- */

static void test_invalid_json(void)
{
    static const struct {
        const char *text;
        const char *prefix; /* line and column; jansson's own text follows */
    } cases[] = {
        {"{\"ociVersion\": \"1.0\",", "config.json: invalid JSON at line 1 column "},
        {"{\n  \"ociVersion\": \"1.0\"\n  \"x\": 1\n}",
         "config.json: invalid JSON at line 3 column "},
        {"", "config.json: invalid JSON at line 1 column "},
        {"{\"a\": tru}", "config.json: invalid JSON at line 1 column "},
        {"{\"ociVersion\": \"1.0\"} trailing", "config.json: invalid JSON at line 1 column "},
        {"\"just a string\"", "config.json: invalid JSON at line 1 column "},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        cerr_t err = NULL;
        struct spec *s = spec_parse(cases[i].text, strlen(cases[i].text), ORIGIN, &err);
        CHECK(s == NULL);
        spec_free(s);
        const char *m = cerr_msg(err);
        if (strncmp(m, cases[i].prefix, strlen(cases[i].prefix)) != 0) {
            printf("#   case %zu: `%s`\n", i, m);
            unit_failed_now = 1;
        }
        /* "... column N: <jansson text>" */
        const char *col = m + strlen(cases[i].prefix);
        CHECK(*col >= '0' && *col <= '9');
        CHECK(strstr(col, ": ") != NULL);
        cerr_free(&err);
    }
    /* Line 2, column 16 holds the stray comma's successor. */
    const char *two = "{\"ociVersion\": \"1.0\",\n \"a\": 1,,\n}";
    cerr_t err = NULL;
    CHECK(spec_parse(two, strlen(two), ORIGIN, &err) == NULL);
    CHECK(starts_with(cerr_msg(err), "config.json: invalid JSON at line 2 column 9: "));
    cerr_free(&err);
    /* The length is honoured: the text need not be NUL-terminated after it. */
    const char *longer = "{\"ociVersion\": \"1.0.0\"}GARBAGE";
    struct spec *s = spec_parse(longer, 23, ORIGIN, &err);
    CHECK(s != NULL && err == NULL);
    spec_free(s);
    cerr_free(&err);
}

static void test_not_object(void)
{
    static const char *const docs[] = {"[]", "[{\"ociVersion\": \"1.0\"}]", "[1, 2]"};
    for (size_t i = 0; i < ARRAY_SIZE(docs); i++) {
        cerr_t err = NULL;
        CHECK(spec_parse(docs[i], strlen(docs[i]), ORIGIN, &err) == NULL);
        CHECK_STR(cerr_msg(err), "config.json: expected a JSON object");
        cerr_free(&err);
    }
}

/* An error is reported once, with the origin once, and a NULL err is fine. */
static void test_error_conventions(void)
{
    cerr_t err = NULL;
    const char *bad = "{\"ociVersion\": 1}";
    CHECK(spec_parse(bad, strlen(bad), "/b/config.json", &err) == NULL);
    CHECK_STR(cerr_msg(err), "/b/config.json: ociVersion: expected string");
    cerr_free(&err);
    CHECK(spec_parse(bad, strlen(bad), "x", NULL) == NULL);
    CHECK(spec_parse("[", 1, "x", NULL) == NULL);

    /* A very deep path is cut at JPATH_MAX, not overflowed. */
    char key[1200];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    char *doc = xasprintf("{\"ociVersion\": \"1.0.0\", \"annotations\": {\"%s\": 1}}", key);
    CHECK(spec_parse(doc, strlen(doc), ORIGIN, &err) == NULL);
    const char *m = cerr_msg(err);
    CHECK(starts_with(m, "config.json: annotations.kkkk"));
    CHECK(strlen(m) == strlen("config.json: ") + 511 + strlen(": expected string"));
    free(doc);
    cerr_free(&err);
}

/* ---- partial documents -------------------------------------------------------------------- */

static void test_parse_process(void)
{
    char *t = jq("{'terminal': false, 'args': ['/bin/sh', '-l'], 'env': ['A=1'], 'cwd': '/tmp',"
                 " 'user': {'uid': 5, 'gid': 6, 'additionalGids': [7]},"
                 " 'capabilities': {'bounding': ['CAP_CHOWN']},"
                 " 'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 10, 'hard': 20}],"
                 " 'noNewPrivileges': true, 'oomScoreAdj': 3, 'unknown': 1}");
    cerr_t err = NULL;
    struct spec_process *p = spec_parse_process(t, strlen(t), "process.json", &err);
    free(t);
    CHECK(p != NULL && err == NULL);
    if (p != NULL) {
        CHECK(p->present && !p->terminal);
        CHECK(LIST_IS(p->args, "/bin/sh", "-l"));
        CHECK(LIST_IS(p->env, "A=1"));
        CHECK_STR(p->cwd, "/tmp");
        CHECK(p->user.uid == 5 && p->user.gid == 6 && p->user.n_additional_gids == 1 &&
              p->user.additional_gids[0] == 7);
        CHECK(p->caps.present && LIST_IS(p->caps.bounding, "CAP_CHOWN"));
        CHECK(p->n_rlimits == 1 && p->rlimits[0].soft == 10 && p->rlimits[0].hard == 20);
        CHECK(p->no_new_privileges && p->oom_score_adj == 3);
    }
    spec_process_free(p);
    spec_process_free(NULL);
    cerr_free(&err);

    static const struct {
        const char *json, *want;
    } bad[] = {
        {"{'args': ['sh', 1]}", "process.json: process.args[1]: expected string"},
        {"{'cwd': 'rel'}", "process.json: process.cwd: must be an absolute path"},
        {"{'user': {'uid': -1}}", "process.json: process.user.uid: expected unsigned integer"},
        {"{'rlimits': [{'type': 'X'}]}",
         "process.json: process.rlimits[0].type: unknown rlimit `X`"},
        {"{'capabilities': {'effective': [1]}}",
         "process.json: process.capabilities.effective[0]: expected string"},
        {"[]", "process.json: expected a JSON object"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        t = jq(bad[i].json);
        CHECK(spec_parse_process(t, strlen(t), "process.json", &err) == NULL);
        CHECK_STR(cerr_msg(err), bad[i].want);
        cerr_free(&err);
        free(t);
    }
    CHECK(spec_parse_process("{", 1, "process.json", &err) == NULL);
    CHECK(starts_with(cerr_msg(err), "process.json: invalid JSON at line 1 column "));
    cerr_free(&err);

    /* spec_process_clear leaves a reusable, zeroed struct. */
    t = jq("{'args': ['a'], 'cwd': '/'}");
    p = spec_parse_process(t, strlen(t), "p", &err);
    free(t);
    CHECK(p != NULL);
    if (p != NULL) {
        spec_process_clear(p);
        CHECK(!p->present && p->args.v == NULL && p->cwd == NULL);
        free(p);
    }
}

static void test_parse_resources(void)
{
    struct spec_resources r;
    memset(&r, 0, sizeof(r));
    cerr_t err = NULL;
    char *t =
        jq("{'memory': {'limit': 1048576, 'swap': 2097152},"
           " 'cpu': {'shares': 512, 'quota': -1, 'cpus': '0'},"
           " 'pids': {'limit': -1}, 'blockIO': {'weight': 100},"
           " 'devices': [{'allow': true, 'type': 'c', 'major': 1, 'minor': 3, 'access': 'rwm'}],"
           " 'unified': {'pids.max': '7'}}");
    CHECK(spec_parse_resources(t, strlen(t), "resources.json", &r, &err) == 0);
    free(t);
    CHECK(err == NULL);
    CHECK(r.present);
    CHECK(r.memory.limit.set && r.memory.limit.v == 1048576);
    CHECK(r.memory.swap.set && r.memory.swap.v == 2097152);
    CHECK(!r.memory.reservation.set && !r.memory.swappiness.set);
    CHECK(r.cpu.shares.set && r.cpu.shares.v == 512 && r.cpu.quota.v == -1);
    CHECK(!r.cpu.period.set);
    CHECK_STR(r.cpu.cpus, "0");
    CHECK(r.cpu.mems == NULL);
    CHECK(r.pids.limit.set && r.pids.limit.v == -1);
    CHECK(r.blkio.weight.set && r.blkio.weight.v == 100);
    CHECK(r.n_devices == 1 && r.devices[0].allow && r.devices[0].type == 'c' &&
          r.devices[0].major == 1 && r.devices[0].minor == 3);
    CHECK_STR(kv_get(&r.unified, "pids.max"), "7");
    spec_resources_clear(&r);
    CHECK(!r.present && r.cpu.cpus == NULL && r.devices == NULL && r.unified.v == NULL);

    static const struct {
        const char *json, *want;
    } bad[] = {
        {"{'memory': {'limit': '1g'}}", "resources.json: memory.limit: expected integer"},
        {"{'cpu': {'shares': -2}}", "resources.json: cpu.shares: expected unsigned integer"},
        {"{'pids': []}", "resources.json: pids: expected object"},
        {"{'devices': [{'allow': true}, {}]}",
         "resources.json: devices[1].allow: required field is missing"},
        {"{'cpu': {'cpus': '0-1'}, 'unified': {'a': 1}}",
         "resources.json: unified.a: expected string"},
        {"[1]", "resources.json: expected a JSON object"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        t = jq(bad[i].json);
        memset(&r, 0, sizeof(r));
        CHECK(spec_parse_resources(t, strlen(t), "resources.json", &r, &err) == -1);
        CHECK_STR(cerr_msg(err), bad[i].want);
        /* On failure the output has been cleared (no leak, nothing half-set). */
        CHECK(r.cpu.cpus == NULL && r.devices == NULL && r.unified.v == NULL);
        cerr_free(&err);
        free(t);
    }
    memset(&r, 0, sizeof(r));
    CHECK(spec_parse_resources("{} x", 4, "resources.json", &r, &err) == -1);
    CHECK(starts_with(cerr_msg(err), "resources.json: invalid JSON at line 1 column "));
    cerr_free(&err);
}

static void test_spec_load(void)
{
    char dir[] = "/tmp/cella-test-spec-XXXXXX";
    if (mkdtemp(dir) == NULL)
        SKIP("mkdtemp failed");
    cerr_t err = NULL;
    char *cfg = xasprintf("%s/config.json", dir);

    CHECK(spec_load(dir, &err) == NULL);
    char *want = xasprintf("open `%s`: No such file or directory", cfg);
    CHECK_STR(cerr_msg(err), want);
    CHECK(err != NULL && err->errnum == ENOENT);
    free(want);
    cerr_free(&err);

    const char *good = "{\"ociVersion\": \"1.1.0\", \"hostname\": \"h\"}";
    CHECK(write_file(cfg, good, strlen(good), 0644, &err) == 0);
    struct spec *s = spec_load(dir, &err);
    CHECK(s != NULL && err == NULL);
    if (s != NULL)
        CHECK_STR(s->hostname, "h");
    spec_free(s);

    const char *bad = "{\"ociVersion\": \"1.1.0\", \"hostname\": 1}";
    CHECK(write_file(cfg, bad, strlen(bad), 0644, &err) == 0);
    CHECK(spec_load(dir, &err) == NULL);
    want = xasprintf("%s: hostname: expected string", cfg);
    CHECK_STR(cerr_msg(err), want);
    free(want);
    cerr_free(&err);

    unlink(cfg);
    rmdir(dir);
    free(cfg);
}

/* ---- small tables and lists ------------------------------------------------------------- */

static void test_tables(void)
{
    static const char *const names[NS_COUNT] = {"pid", "network", "mount",  "ipc",
                                                "uts", "user",    "cgroup", "time"};
    static const char *const proc[NS_COUNT] = {"pid", "net",  "mnt",    "ipc",
                                               "uts", "user", "cgroup", "time"};
    static const int flags[NS_COUNT] = {CLONE_NEWPID, CLONE_NEWNET,  CLONE_NEWNS,     CLONE_NEWIPC,
                                        CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, 0x80};
    for (int t = 0; t < NS_COUNT; t++) {
        CHECK_STR(ns_type_name(t), names[t]);
        CHECK_STR(ns_proc_name(t), proc[t]);
        CHECK(ns_clone_flag(t) == flags[t]);
    }
    static const char *const hooks[HOOK_COUNT] = {
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
    for (int k = 0; k < HOOK_COUNT; k++)
        CHECK_STR(hook_kind_name(k), hooks[k]);
}

static void test_str_list(void)
{
    struct str_list l = {0};
    CHECK(str_list_push(&l, NULL) == 0);
    CHECK(l.n == 0 && l.v != NULL && l.v[0] == NULL);
    CHECK(str_list_push(&l, "a") == 0);
    CHECK(str_list_push(&l, "b") == 0);
    CHECK(LIST_IS(l, "a", "b"));
    str_list_free(&l);
    CHECK(l.v == NULL && l.n == 0);
    str_list_free(&l);
}

/* As runc reads them: fileMode with the file type bits (podman --privileged
 * passes st_mode whole) gives its permission bits; access letters other than
 * r, w, m are ignored, the rest kept in that order; an empty one is refused. */
static void test_runc_devices(void)
{
    struct spec *s = PARSE_OK(
        "{" OV "'linux': {'devices': [{'path': '/dev/null', 'type': 'c', 'fileMode': 8630}],"
        " 'resources': {'devices': [{'allow': true, 'access': 'rwa'},"
        " {'allow': true, 'access': 'mwr'}, {'allow': false}]}}}");
    if (s == NULL)
        return;
    CHECK(s->linux_.n_devices == 1 && s->linux_.devices[0].file_mode == 0666);
    CHECK(s->linux_.devices[0].has_mode);
    CHECK(s->linux_.resources.n_devices == 3);
    CHECK_STR(s->linux_.resources.devices[0].access, "rw");
    CHECK_STR(s->linux_.resources.devices[1].access, "rwm");
    CHECK(s->linux_.resources.devices[2].access == NULL);
    spec_free(s);
    EXPECT_ERR("{" OV "'linux': {'resources': {'devices': [{'allow': true, 'access': ''}]}}}",
               "linux.resources.devices[0].access: `` has none of r, w, m");
    EXPECT_ERR("{" OV "'linux': {'resources': {'devices': [{'allow': true, 'access': 'x'}]}}}",
               "linux.resources.devices[0].access: `x` has none of r, w, m");
}

/* ociVersion: SemVer 2.0.0 with a major version cella implements. */
static void test_oci_version(void)
{
    static const char *const good[] = {
        "1.0.0", "1.1.0", "1.2.1", "1.0.0-rc.1", "1.0.2-dev", "1.3.0+dev", "1.0.0-rc5+build.7"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *doc = xasprintf("{'ociVersion': '%s'}", good[i]);
        struct spec *s = PARSE_OK(doc);
        spec_free(s);
        free(doc);
    }
    EXPECT_ERR("{'ociVersion': 'invalid'}", "ociVersion: `invalid` is not a SemVer 2.0.0 version");
    EXPECT_ERR("{'ociVersion': ''}", "ociVersion: `` is not a SemVer 2.0.0 version");
    EXPECT_ERR("{'ociVersion': '1.0'}", "ociVersion: `1.0` is not a SemVer 2.0.0 version");
    EXPECT_ERR("{'ociVersion': '01.0.0'}", "ociVersion: `01.0.0` is not a SemVer 2.0.0 version");
    EXPECT_ERR("{'ociVersion': '1.0.0-'}", "ociVersion: `1.0.0-` is not a SemVer 2.0.0 version");
    EXPECT_ERR("{'ociVersion': '1.0.0 '}", "ociVersion: `1.0.0 ` is not a SemVer 2.0.0 version");
    EXPECT_ERR("{'ociVersion': '2.0.0'}",
               "ociVersion: `2.0.0`: cella implements runtime-spec 1.x only");
    EXPECT_ERR("{'ociVersion': '0.5.0'}",
               "ociVersion: `0.5.0`: cella implements runtime-spec 1.x only");
}

/* runtime-spec fields cella does not implement: parsed as set, listed by
 * their JSON path for the level to refuse (never silently dropped). */
static void test_unsupported(void)
{
    struct spec *s = PARSE_OK(
        "{" OV "'process': {'args': ['x'], 'scheduler': {'policy': 'SCHED_FIFO'},"
        "   'apparmorProfile': 'p', 'execCPUAffinity': {'initial': '0', 'final': '1-2,5'}},"
        " 'mounts': [{'destination': '/a'}, {'destination': '/b', 'uidMappings': [{}],"
        "   'gidMappings': [{}]}, {'destination': '/c', 'gidMappings': []}],"
        " 'linux': {'intelRdt': {},"
        "   'resources': {'rdma': {}, 'cpu': {'burst': 1}, 'blockIO': {'weight': 10,"
        "     'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 1}]}}}}");
    if (s == NULL)
        return;
    CHECK(LIST_IS(s->process.unsupported, "process.apparmorProfile"));
    CHECK(s->process.has_cpu_initial && s->process.cpu_initial[0] == 1 &&
          s->process.has_cpu_final && s->process.cpu_final[0] == 0x26); /* applied */
    CHECK(LIST_IS(s->unsupported, "linux.intelRdt")); /* idmapped mounts are applied */
    CHECK(s->mounts[1].n_uid_mappings == 1 && s->mounts[1].n_gid_mappings == 1);
    CHECK(LIST_IS(s->linux_.resources.unsupported, "linux.resources.rdma",
                  "linux.resources.cpu.burst", "linux.resources.blockIO.throttleReadBpsDevice"));
    cerr_t err = NULL;
    CHECK(spec_refuse_unsupported(&s->process.unsupported, &err) == -1);
    CHECK_STR(cerr_msg(err),
              "process.apparmorProfile: not supported by cella yet: refused rather than ignored");
    cerr_free(&err);
    spec_free(s);
    s = PARSE_OK("{" OV "'process': {'args': ['x']}}");
    if (s != NULL)
        CHECK(s->unsupported.n == 0 && s->process.unsupported.n == 0 &&
              spec_refuse_unsupported(&s->unsupported, &err) == 0);
    spec_free(s);
}

static void test_ioprio(void)
{
    struct spec *s = PARSE_OK(
        "{" OV "'process': {'ioPriority': {'class': 'IOPRIO_CLASS_IDLE', 'priority': 7}}}");
    if (s != NULL)
        CHECK(s->process.has_ioprio && s->process.ioprio_class == 3 &&
              s->process.ioprio_level == 7 && s->process.unsupported.n == 0);
    spec_free(s);
    EXPECT_ERR("{" OV "'process': {'ioPriority': {'class': 'IOPRIO_CLASS_X'}}}",
               "process.ioPriority.class: unknown class `IOPRIO_CLASS_X`");
    EXPECT_ERR("{" OV "'process': {'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 8}}}",
               "process.ioPriority.priority: must be between 0 and 7");
}

int main(void)
{
    RUN(test_ioprio);
    RUN(test_oci_version);
    RUN(test_unsupported);
    RUN(test_full_config);
    RUN(test_minimal);
    RUN(test_wrong_string);
    RUN(test_wrong_bool);
    RUN(test_wrong_integer);
    RUN(test_negative_unsigned);
    RUN(test_wrong_array);
    RUN(test_wrong_object);
    RUN(test_wrong_elements);
    RUN(test_out_of_range);
    RUN(test_rlim_infinity);
    RUN(test_real_unsigned);
    RUN(test_rlim_infinity_real);
    RUN(test_required);
    RUN(test_semantic);
    RUN(test_hook_timeout_range);
    RUN(test_unknown_fields);
    RUN(test_nulls);
    RUN(test_invalid_json);
    RUN(test_not_object);
    RUN(test_error_conventions);
    RUN(test_parse_process);
    RUN(test_parse_resources);
    RUN(test_spec_load);
    RUN(test_tables);
    RUN(test_str_list);
    RUN(test_runc_devices);
    return UNIT_DONE();
}
