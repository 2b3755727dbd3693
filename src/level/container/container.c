/* The `container` level (runc / crun class): host side of the lifecycle. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/hooks.h"
#include "core/log.h"
#include "core/util.h"
#include "cgroup/cgroup.h"
#include "level/container/container.h"
#include "level/container/hostmounts.h"
#include "level/container/idmap.h"
#include "level/container/init.h"
#include "level/container/mounts.h"
#include "level/container/notify.h"
#include "level/container/process.h"
#include "level/container/sync.h"
#include "level/level.h"
#include "level/terminal.h"

#define EXEC_SOCK "exec.sock"

/* A unix socket address for a file in the state directory, short enough
 * whatever the length of --root. */
static int state_sock_addr(int dirfd, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/" EXEC_SOCK, dirfd);
    return 0;
}

static int exec_listen(int dirfd, cerr_t *err)
{
    struct sockaddr_un sa;
    state_sock_addr(dirfd, &sa);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cerr_set(err, errno, "socket");
    unlinkat(dirfd, EXEC_SOCK, 0);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
        int e = errno;
        close(fd);
        return cerr_set(err, e, "listen on the start socket of the container");
    }
    return fd;
}

static int check_id_maps(const struct spec *s, cerr_t *err)
{
    char *u =
        idmap_text("linux.uidMappings", s->linux_.uid_mappings, s->linux_.n_uid_mappings, err);
    if (u == NULL)
        return -1;
    free(u);
    char *g =
        idmap_text("linux.gidMappings", s->linux_.gid_mappings, s->linux_.n_gid_mappings, err);
    free(g);
    return g == NULL ? -1 : 0;
}

static int open_ns_paths(const struct spec *s, int fds[NS_COUNT], cerr_t *err)
{
    for (int t = 0; t < NS_COUNT; t++) {
        fds[t] = -1;
        if (!s->linux_.ns[t].present || s->linux_.ns[t].path == NULL)
            continue;
        fds[t] = open(s->linux_.ns[t].path, O_RDONLY | O_CLOEXEC);
        if (fds[t] < 0)
            return cerr_set(err, errno, "linux.namespaces: %s namespace path `%s`", ns_type_name(t),
                            s->linux_.ns[t].path);
    }
    return 0;
}

static void close_fds(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

static int clone_flags(const struct spec *s, cerr_t *err)
{
    int flags = 0;
    for (int t = 0; t < NS_COUNT; t++) {
        if (!s->linux_.ns[t].present || s->linux_.ns[t].path != NULL)
            continue;
        /* The time namespace is made before clone (see time_ns_make). */
        if (t == NS_TIME) {
            if (access("/proc/self/ns/time", F_OK) < 0)
                return cerr_set(err, 0, "linux.namespaces: this kernel has no time namespace");
            continue;
        }
        /* The cgroup namespace is made by the child once it is in its cgroup:
         * a namespace's root is the cgroup of the process that makes it. */
        if (t != NS_CGROUP)
            flags |= ns_clone_flag(t);
    }
    if ((s->hostname || s->domainname) && !s->linux_.ns[NS_UTS].present)
        return cerr_set(err, 0, "hostname: setting it requires a uts namespace");
    const struct spec_namespace *tns = &s->linux_.ns[NS_TIME];
    if ((s->linux_.time_offsets[0].set || s->linux_.time_offsets[1].set) &&
        (!tns->present || tns->path != NULL))
        return cerr_set(err, 0,
                        "linux.timeOffsets: needs a new time namespace (linux.namespaces "
                        "type time without a path)");
    return flags;
}

/* Socket activation: LISTEN_FDS in our environment passes fds 3.. on. */
static int listen_fds(void)
{
    long n, pid;
    const char *v = getenv("LISTEN_FDS"), *p = getenv("LISTEN_PID");
    /* Not fds meant for another process: an inherited LISTEN_PID that is not
     * ours (as sd_listen_fds() checks). Without LISTEN_PID, crun's rule. */
    if (p != NULL && (parse_long(p, &pid) < 0 || pid != getpid()))
        return 0;
    return v != NULL && parse_long(v, &n) == 0 && n > 0 && n < 1024 ? (int)n : 0;
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* runc's rules: only sysctls of a namespace the container owns (ipc, net,
 * uts); anything else would be written to the host. */
static int check_sysctl(const struct spec *s, cerr_t *err)
{
    static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                      "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                      "kernel.shmmni", "kernel.shm_rmid_forced"};
    const struct spec_linux *l = &s->linux_;
    for (size_t i = 0; i < l->sysctl.n; i++) {
        const char *k = l->sysctl.v[i].key;
        bool is_ipc = has_prefix(k, "fs.mqueue.");
        for (size_t j = 0; j < ARRAY_SIZE(ipc); j++)
            is_ipc = is_ipc || strcmp(k, ipc[j]) == 0;
        if (strcmp(k, "kernel.hostname") == 0)
            return cerr_set(err, 0, "linux.sysctl: `%s` is not allowed: use the hostname field", k);
        if (strcmp(k, "kernel.domainname") == 0 && !l->ns[NS_UTS].present)
            return cerr_set(err, 0, "linux.sysctl: `%s` needs a uts namespace", k);
        if (is_ipc && !l->ns[NS_IPC].present)
            return cerr_set(err, 0, "linux.sysctl: `%s` needs an ipc namespace", k);
        if (has_prefix(k, "net.") && !l->ns[NS_NETWORK].present)
            return cerr_set(err, 0, "linux.sysctl: `%s` needs a network namespace", k);
        if (!is_ipc && !has_prefix(k, "net.") && strcmp(k, "kernel.domainname") != 0)
            return cerr_set(err, 0,
                            "linux.sysctl: `%s` is not in a namespace of the container: it "
                            "would change the host",
                            k);
    }
    return 0;
}

static char *hook_state(struct container *c, enum cstatus status)
{
    return state_hook_json(c->st, status);
}

struct create_fds {
    int sync[2], exec, console, tty_recv, notify, ns[NS_COUNT];
    int *sources;   /* bind mount sources, with a user namespace */
    bool cgroup_v2; /* the child was cloned into its v2 cgroup */
};

/* Without a mount namespace the host's is the container's (runc, crun): what
 * would change the host's view of its own files is refused, as runc refuses
 * masked and read-only paths (it skips a read-only root and the root's
 * propagation without a word). */
static int check_host_mount_ns(const struct spec *s, cerr_t *err)
{
    const struct spec_linux *l = &s->linux_;
    const char *field = l->masked_paths.n > 0     ? "linux.maskedPaths"
                        : l->readonly_paths.n > 0 ? "linux.readonlyPaths"
                        : s->root.readonly        ? "root.readonly"
                        : l->rootfs_propagation   ? "linux.rootfsPropagation"
                                                  : NULL;
    if (!l->ns[NS_MOUNT].present && field != NULL)
        return cerr_set(err, 0,
                        "%s: needs a mount namespace (linux.namespaces has no `mount`: the "
                        "container shares the host's)",
                        field);
    return 0;
}

/* What the container level refuses before anything exists. */
int container_check(const struct spec *s, const struct create_opts *o, cerr_t *err)
{
    for (size_t i = 0; i < s->n_mounts; i++)
        if (s->mounts[i].destination[0] != '/')
            log_warn("mounts[%zu].destination: `%s` is relative (deprecated by the "
                     "runtime-spec): taken as relative to /",
                     i, s->mounts[i].destination);
    if (!s->process.present)
        return cerr_set(err, 0, "process: required to create a container");
    if (s->process.args.n == 0)
        return cerr_set(err, 0, "process.args: must not be empty");
    if (spec_refuse_unsupported(&s->unsupported, err) < 0 ||
        spec_refuse_unsupported(&s->process.unsupported, err) < 0 || clone_flags(s, err) < 0 ||
        check_sysctl(s, err) < 0 || check_host_mount_ns(s, err) < 0 ||
        cgroup_check_resources(&s->linux_.resources, err) < 0)
        return -1;
    caps_warn_unknown(&s->process.caps, "process.capabilities");
    autofree char *rootfs = level_rootfs_path(s, o->bundle, err);
    if (rootfs == NULL)
        return -1;
    return terminal_check(s, o, err);
}

/* What create needs before it makes anything (container_check refused the
 * rest). Returns the clone flags. */
static int prepare_create(struct container *c, const struct create_opts *o, cerr_t *err)
{
    const struct spec *s = c->spec;
    int flags = clone_flags(s, err);
    if (flags < 0 || level_resolve_rootfs(c, o->bundle, err) < 0)
        return -1;
    if ((flags & CLONE_NEWUSER) && check_id_maps(s, err) < 0)
        return -1;
    c->st->cgroup = cgroup_path_for(s->linux_.cgroups_path, c->id, c->g->systemd_cgroup, err);
    if (c->st->cgroup == NULL)
        return -1;
    c->st->systemd_cgroup = c->g->systemd_cgroup;
    return flags;
}

/* The fds the child inherits: namespaces to join, terminal, bind sources,
 * sd_notify directory, the sync socket and the start socket. */
static int open_create_fds(struct container *c, const struct create_opts *o, struct create_fds *f,
                           cerr_t *err)
{
    const struct spec *s = c->spec;
    if (open_ns_paths(s, f->ns, err) < 0)
        return -1;
    if (o->console_socket != NULL && s->process.terminal &&
        (f->console = unix_connect(o->console_socket, err)) < 0)
        return cerr_wrap(err, "--console-socket");
    if (terminal_proxied(s, o)) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
            return cerr_set(err, errno, "socketpair");
        f->tty_recv = pair[0];
        f->console = pair[1];
    }
    if ((s->linux_.ns[NS_USER].present || mounts_idmapped(s)) &&
        mounts_open_sources(s, s->linux_.ns[NS_USER].present, c->dirfd, &f->sources, err) < 0)
        return -1;
    const char *notify = getenv("NOTIFY_SOCKET");
    if (notify != NULL && notify[0] == '/') {
        if ((f->notify = notify_prepare(c->dirfd, err)) < 0)
            return -1;
        c->st->notify_socket = xstrdup(notify);
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f->sync) < 0)
        return cerr_set(err, errno, "socketpair");
    f->exec = exec_listen(c->dirfd, err);
    return f->exec < 0 ? -1 : 0;
}

/* The cgroup exists before the child starts: its cgroup mounts bind it. A
 * frozen one is refused (the child would stop in it for good). */
static int make_cgroup(struct container *c, cerr_t *err)
{
    int used = cgroup_check_existing(c->st->cgroup, err);
    if (used < 0) {
        free(c->st->cgroup); /* not ours: cleanup must not touch it */
        c->st->cgroup = NULL;
        return cerr_wrap(err, "linux.cgroupsPath");
    }
    c->st->cgroup_shared = used > 0;
    if (cgroup_create(c->st->cgroup, &c->spec->linux_.resources, 0, err) < 0)
        return -1;
    /* Recorded now: a create killed from here on leaves a state that
     * `delete` can clean up. */
    return state_save(c->dirfd, c->st, err);
}

/* A time namespace holds its clock offsets from before its first process:
 * the kernel takes /proc/PID/timens_offsets only until a process is in it,
 * and unshare(CLONE_NEWTIME) puts only the caller's future children there.
 * So cella makes it here, writes the offsets, and clones the init into it;
 * the caller's own time_for_children is restored right after clone
 * (time_ns_leave) so that hooks cella runs stay on the host's clocks.
 * Returns the caller's time namespace to restore, or -2 when none is made. */
static int time_ns_make(const struct spec_linux *l, cerr_t *err)
{
    static const char *const clocks[] = {"monotonic", "boottime"};
    if (!l->ns[NS_TIME].present || l->ns[NS_TIME].path != NULL)
        return -2;
    int own = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
    if (own < 0)
        return cerr_set(err, errno, "linux.namespaces: open /proc/self/ns/time_for_children");
    if (unshare(ns_clone_flag(NS_TIME)) < 0) {
        close(own);
        return cerr_set(err, errno, "linux.namespaces: unshare the time namespace");
    }
    char buf[128];
    int n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(clocks); i++)
        if (l->time_offsets[i].set)
            n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s %lld %u\n", clocks[i],
                          (long long)l->time_offsets[i].secs, l->time_offsets[i].nanosecs);
    if (n > 0 && write_knob("/proc/self/timens_offsets", buf, err) < 0) {
        ns_restore(own, ns_clone_flag(NS_TIME));
        return cerr_wrap(err, "linux.timeOffsets");
    }
    return own;
}

/* clone3's arguments up to `cgroup` (CLONE_ARGS_SIZE_VER2), declared here:
 * <linux/sched.h> would redefine glibc's CLONE_* flags. */
struct clone_args_v2 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};
#define CELLA_CLONE_INTO_CGROUP 0x200000000ULL

/* Clone the child straight into its v2 cgroup when there is one: it then
 * needs no migration, whose write to cgroup.procs would wait for an RCU
 * grace period (cgroup/cgroup.h). Without clone3 or CLONE_INTO_CGROUP
 * (Linux < 5.7), or when the kernel refuses the cgroup, a plain clone:
 * cgroup_enter_v2 then moves it and says why it cannot. */
static pid_t clone_into_cgroup(int flags, const char *cgroup, bool *in_v2)
{
    *in_v2 = false;
    autoclose int dir = cgroup != NULL ? cgroup_open_v2(cgroup) : -1;
    if (dir >= 0) {
        struct clone_args_v2 args = {.flags = (uint64_t)(unsigned)flags | CELLA_CLONE_INTO_CGROUP,
                                     .exit_signal = SIGCHLD,
                                     .cgroup = (uint64_t)dir};
        pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
        if (pid >= 0) {
            *in_v2 = true;
            return pid;
        }
    }
    return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
}

/* A user namespace joined by path owns the namespaces the clone creates
 * only when the clone is made from inside it (runc's nsexec joins, then
 * unshares). cella cannot setns into it and back (no way back to an
 * ancestor user namespace), so a short-lived helper joins it and clones the
 * container process as cella's own child (CLONE_PARENT, which reaps and
 * signals it as any other), reports the pid and exits. Returns 0 in the
 * container process, its pid in cella, -1 with errno. */
struct userns_clone {
    pid_t pid;
    int err;
    bool in_v2;
};

static pid_t clone_in_userns(int userns, int flags, const char *cgroup, bool *in_v2)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t helper = fork();
    if (helper == 0) {
        struct userns_clone r = {.pid = -1};
        close(p[0]);
        if (setns(userns, CLONE_NEWUSER) < 0)
            r.err = errno;
        else if ((r.pid = clone_into_cgroup(flags | CLONE_PARENT, cgroup, &r.in_v2)) == 0) {
            close(p[1]);
            return 0;
        } else if (r.pid < 0)
            r.err = errno;
        _exit(write(p[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
    }
    close(p[1]);
    struct userns_clone r = {.pid = -1, .err = EPIPE};
    if (helper > 0 && read(p[0], &r, sizeof(r)) != (ssize_t)sizeof(r))
        r = (struct userns_clone){.pid = -1, .err = EPIPE};
    int e = helper < 0 ? errno : r.err;
    close(p[0]);
    while (helper > 0 && waitpid(helper, NULL, 0) < 0 && errno == EINTR)
        ;
    *in_v2 = r.in_v2;
    errno = e;
    return r.pid;
}

static pid_t clone_child(struct container *c, const struct create_opts *o, struct create_fds *f,
                         int flags, const struct level_hooks *hooks, cerr_t *err)
{
    const struct spec *s = c->spec;
    /* The bundle is the working directory for relative paths in mounts. */
    if (chdir(o->bundle) < 0)
        return cerr_set(err, errno, "chdir to bundle `%s`", o->bundle);
    /* The pid, network, ipc and uts namespaces given by path are joined here,
     * right before clone, and left right after: the child inherits them, even
     * when clone also makes it a new user namespace (which could not join a
     * network namespace of the host's user namespace itself). */
    static const enum ns_type here[] = {NS_PID, NS_NETWORK, NS_IPC, NS_UTS};
    int own[NS_COUNT];
    for (int t = 0; t < NS_COUNT; t++)
        own[t] = -1;
    for (size_t i = 0; i < ARRAY_SIZE(here); i++) {
        enum ns_type t = here[i];
        if (f->ns[t] < 0)
            continue;
        own[t] = ns_enter(f->ns[t], ns_proc_name(t), ns_clone_flag(t), err);
        if (own[t] < 0) {
            for (size_t j = 0; j < i; j++)
                ns_restore(own[here[j]], ns_clone_flag(here[j]));
            return cerr_wrap(err, "linux.namespaces: %s namespace `%s`", ns_type_name(t),
                             s->linux_.ns[t].path);
        }
    }
    int own_time = time_ns_make(&s->linux_, err);
    if (own_time == -1) {
        for (size_t i = 0; i < ARRAY_SIZE(here); i++)
            ns_restore(own[here[i]], ns_clone_flag(here[i]));
        return -1;
    }
    bool join_user = f->ns[NS_USER] >= 0;
    pid_t pid = join_user ? clone_in_userns(f->ns[NS_USER], flags, c->st->cgroup, &f->cgroup_v2)
                          : clone_into_cgroup(flags, c->st->cgroup, &f->cgroup_v2);
    if (pid != 0) {
        for (size_t i = 0; i < ARRAY_SIZE(here); i++)
            ns_restore(own[here[i]], ns_clone_flag(here[i]));
        if (own_time >= 0)
            ns_restore(own_time, ns_clone_flag(NS_TIME));
    }
    if (pid < 0 && join_user)
        return cerr_set(err, errno,
                        "linux.namespaces: clone the container process in user namespace `%s`",
                        s->linux_.ns[NS_USER].path);
    if (pid < 0)
        return cerr_set(err, errno, "clone the container process");
    if (pid == 0) {
        close(f->sync[0]);
        struct init_args a = {.spec = s,
                              .rootfs = c->st->rootfs,
                              .cgroup = c->st->cgroup,
                              .lock_fd = c->dirfd,
                              .sync_fd = f->sync[1],
                              .exec_fd = f->exec,
                              .console_fd = f->console,
                              .new_userns = (flags & CLONE_NEWUSER) != 0,
                              .no_pivot = o->no_pivot,
                              .new_keyring = !o->no_new_keyring,
                              .id = c->id,
                              .preserve_fds = o->preserve_fds,
                              .listen_fds = listen_fds(),
                              .source_fds = f->sources,
                              .notify_fd = f->notify,
                              .notify_path = c->st->notify_socket,
                              .hooks = hooks};
        memcpy(a.ns_fds, f->ns, sizeof(a.ns_fds));
        for (size_t i = 0; i < ARRAY_SIZE(here); i++)
            a.ns_fds[here[i]] = -1; /* already in them */
        if (join_user) {
            a.ns_fds[NS_USER] = -1;
            a.joined_userns = true;
        }
        container_init(&a);
    }
    close(f->sync[1]);
    f->sync[1] = -1;
    c->st->pid = pid;
    c->st->start_time = proc_start_time(pid);
    return state_save(c->dirfd, c->st, err) < 0 ? -1 : pid;
}

/* The host side of the child's setup, up to READY. */
static int drive_child(struct container *c, const struct create_opts *o, struct create_fds *f,
                       int flags, pid_t pid, cerr_t *err)
{
    const struct spec *s = c->spec;
    if ((flags & CLONE_NEWUSER) &&
        (idmap_write(pid, "uid_map", "linux.uidMappings", s->linux_.uid_mappings,
                     s->linux_.n_uid_mappings, err) < 0 ||
         idmap_write(pid, "gid_map", "linux.gidMappings", s->linux_.gid_mappings,
                     s->linux_.n_gid_mappings, err) < 0))
        return -1;
    /* The child moves itself into the v1 hierarchies first thing after
     * SYNC_GO, and was cloned into the v2 one: no grace period on this path
     * (clone_into_cgroup). Without CLONE_INTO_CGROUP we move it into v2
     * while it sets itself up, overlapping that wait. Nothing of the
     * container runs before it is in the cgroup: hooks wait for SYNC_HOOKS,
     * sent after the move, and the user process waits for `start`, which
     * can only come after create returned. */
    if (sync_send(f->sync[0], SYNC_GO, NULL, err) < 0)
        return -1;
    if ((!f->cgroup_v2 && cgroup_enter_v2(c->st->cgroup, pid, err) < 0) ||
        sync_send(f->sync[0], SYNC_CGROUP, NULL, err) < 0)
        return -1;
    fault_kill("create.after-cgroup-enter");
    if (init_needs_hook_sync(s)) {
        if (sync_recv(f->sync[0], SYNC_MOUNTED, NULL, err) < 0)
            return -1;
        fault_kill("create.before-hooks");
        autofree char *json = hook_state(c, ST_CREATING);
        if (hooks_run(s, HOOK_PRESTART, json, err) < 0 ||
            hooks_run(s, HOOK_CREATE_RUNTIME, json, err) < 0)
            return -1;
        fault_kill("create.after-hooks");
        if (sync_send(f->sync[0], SYNC_HOOKS, json, err) < 0)
            return -1;
    }
    if (sync_recv(f->sync[0], SYNC_READY, NULL, err) < 0)
        return -1;
    fault_kill("create.after-ready");
    if (f->tty_recv >= 0 && (*o->console_master = recv_fd(f->tty_recv, err)) < 0)
        return -1;
    return 0;
}

static int do_create(struct container *c, const struct create_opts *o, struct create_fds *f,
                     const struct level_hooks *hooks, cerr_t *err)
{
    int flags = prepare_create(c, o, err);
    if (flags < 0 || open_create_fds(c, o, f, err) < 0)
        return -1;
    fault_kill("create.after-exec-sock");
    if (make_cgroup(c, err) < 0)
        return -1;
    fault_kill("create.after-cgroup");
    if (!c->spec->linux_.ns[NS_MOUNT].present &&
        hostmounts_record(c->dirfd, c->st->rootfs, err) < 0)
        return -1;
    pid_t pid = clone_child(c, o, f, flags, hooks, err);
    if (pid < 0)
        return -1;
    fault_kill("create.after-clone");
    return drive_child(c, o, f, flags, pid, err);
}

int container_create(struct container *c, const struct create_opts *o,
                     const struct level_hooks *hooks, cerr_t *err)
{
    struct create_fds f = {
        .sync = {-1, -1}, .exec = -1, .console = -1, .tty_recv = -1, .notify = -1};
    for (int t = 0; t < NS_COUNT; t++)
        f.ns[t] = -1;
    int r = do_create(c, o, &f, hooks, err);
    close_fds(f.sync, 2);
    close_fds(&f.exec, 1);
    close_fds(&f.console, 1);
    close_fds(&f.tty_recv, 1);
    close_fds(&f.notify, 1);
    close_fds(f.ns, NS_COUNT);
    mounts_close_sources(f.sources, mounts_n_sources(c->spec));
    mounts_unlink_devices(c->spec, c->dirfd);
    return r;
}

static int ct_create(struct container *c, const struct create_opts *o, cerr_t *err)
{
    return container_create(c, o, NULL, err);
}

/* linux.seccomp.listenerPath: connected before the process is told to
 * start, so that a missing agent leaves the container as it was. */
int container_seccomp_agent(const struct spec_seccomp *sc, cerr_t *err)
{
    if (sc->listener_path == NULL)
        return -1;
    int sock = unix_connect(sc->listener_path, err);
    if (sock < 0)
        cerr_wrap(err, "failed to connect with seccomp agent specified in the seccomp profile "
                       "(linux.seccomp.listenerPath)");
    return sock;
}

int container_seccomp_send(struct container *c, int agent, int listener, pid_t pid,
                           enum cstatus status, cerr_t *err)
{
    const struct spec_seccomp *sc = &c->spec->linux_.seccomp;
    autofree char *state = state_to_oci_json(c->st, status, false);
    json_t *st = json_loads(state, 0, NULL);
    json_t *msg =
        json_pack("{s:s, s:[s], s:i, s:s, s:o}", "ociVersion", "0.2.0", "fds", "seccompFd", "pid",
                  (int)pid, "metadata", sc->listener_metadata ? sc->listener_metadata : "", "state",
                  st ? st : json_object());
    autofree char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (text == NULL)
        return cerr_set(err, 0, "linux.seccomp.listenerPath: cannot encode the state");
    if (send_fd_msg(agent, listener, text, strlen(text)) < 0)
        return cerr_set(err, errno, "linux.seccomp.listenerPath: send to `%s`", sc->listener_path);
    return 0;
}

/* The start connection carries an error message, or the seccomp listener fd
 * (SCM_RIGHTS), then EOF once the process has exec'd. The listener goes to
 * the agent as soon as it comes: the process may be waiting for the agent. */
static ssize_t read_start_reply(struct container *c, int fd, int *agent, char *buf, size_t size,
                                cerr_t *err)
{
    size_t got = 0;
    for (;;) {
        union {
            char b[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } u;
        struct iovec iov = {.iov_base = buf + got, .iov_len = size - got};
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
        ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return (ssize_t)got;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        if (cm != NULL && cm->cmsg_type == SCM_RIGHTS) {
            int listener;
            memcpy(&listener, CMSG_DATA(cm), sizeof(int));
            int r = *agent >= 0
                        ? container_seccomp_send(c, *agent, listener, c->st->pid, ST_CREATING, err)
                        : cerr_set(err, 0, "linux.seccomp: unexpected listener");
            close(listener);
            close_fds(agent, 1);
            if (r < 0)
                return -1;
            continue; /* the one-byte marker of the fd is not text */
        }
        got += (size_t)n;
        if (got == size)
            return (ssize_t)got;
    }
}

int container_start(struct container *c, cerr_t *err)
{
    struct sockaddr_un sa;
    int notify = -1;
    state_sock_addr(c->dirfd, &sa);
    autoclose int agent = -1;
    if (c->spec->linux_.seccomp.listener_path != NULL &&
        (agent = container_seccomp_agent(&c->spec->linux_.seccomp, err)) < 0)
        return -1;
    if (c->st->notify_socket != NULL && (notify = notify_listen(c->dirfd, err)) < 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        close_fds(&notify, 1);
        return cerr_set(err, errno, "socket");
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        close_fds(&notify, 1);
        return cerr_set(err, 0, "container `%s` is not waiting to start (its process is gone)",
                        c->id);
    }
    char buf[4096];
    ssize_t n = read_start_reply(c, fd, &agent, buf, sizeof(buf) - 1, err);
    close(fd);
    if (n < 0) {
        close_fds(&notify, 1);
        return -1;
    }
    unlinkat(c->dirfd, EXEC_SOCK, 0);
    if (n > 0 && buf[0] == SYNC_ERROR) {
        buf[n] = '\0';
        close_fds(&notify, 1);
        return cerr_set(err, 0, "%s", buf + 1);
    }
    /* As runc and crun: start returns once the container said READY=1
     * (waited for by container_await_ready, without the lock). */
    c->ready_fd = notify;
    return 0;
}

int container_await_ready(struct container *c, cerr_t *err)
{
    return notify_forward(c->ready_fd, c->st->pid, c->st->start_time, c->st->notify_socket, err);
}

int container_kill(struct container *c, int sig, bool all, cerr_t *err)
{
    if (all)
        return cgroup_kill_all(c->st->cgroup, sig, err);
    if (c->st->pid <= 0)
        return cerr_set(err, 0, "container `%s` has no process yet", c->id);
    /* Through a pidfd taken while the start time still matches: a recycled
     * pid is never signalled. */
    int pfd = (int)syscall(SYS_pidfd_open, c->st->pid, 0);
    if (pfd < 0 || !proc_alive(c->st->pid, c->st->start_time)) {
        if (pfd >= 0)
            close(pfd);
        return cerr_set(err, 0, "container `%s` is not running", c->id);
    }
    int r = (int)syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
    int e = errno;
    close(pfd);
    if (r < 0)
        return cerr_set(err, e, "kill container `%s` (pid %d)", c->id, c->st->pid);
    return 0;
}

/* SIGKILL through a pidfd taken while the start time still matches, and a
 * wait on it (readable once the process has exited, bounded at 1 s) instead
 * of polling /proc with sleeps: delete returns as soon as the process is
 * gone. */
static void kill_wait(pid_t pid, unsigned long long start_time)
{
    if (pid <= 0)
        return;
    autoclose int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0 || !proc_alive(pid, start_time))
        return;
    if (syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0) == 0) {
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        while (poll(&p, 1, 1000) < 0 && errno == EINTR)
            ;
    }
    /* Reap it if it is ours (run, or a failed create). */
    waitpid(pid, NULL, WNOHANG);
}

int container_destroy(struct container *c, cerr_t *err)
{
    kill_wait(c->st->pid, c->st->start_time);
    fault_kill("delete.after-kill");
    if (c->st->rootfs != NULL)
        hostmounts_release(c->dirfd, c->st->rootfs);
    /* A cgroup shared with processes that are not the container's: with its
     * own pid namespace, the container's processes died with its init (the
     * kernel kills the namespace); the others are left alive, and the
     * cgroup with them, as runc 1.1 does. */
    const struct spec_namespace *pidns = &c->spec->linux_.ns[NS_PID];
    if (c->st->cgroup != NULL && c->st->cgroup_shared && pidns->present && pidns->path == NULL)
        return cgroup_release_shared(c->st->cgroup, err);
    if (c->st->cgroup != NULL && cgroup_destroy(c->st->cgroup, err) < 0)
        return -1;
    return 0;
}

int container_pause(struct container *c, cerr_t *err)
{
    return cgroup_freeze(c->st->cgroup, true, err);
}

int container_resume(struct container *c, cerr_t *err)
{
    return cgroup_freeze(c->st->cgroup, false, err);
}

bool container_paused(struct container *c)
{
    return c->st->cgroup != NULL && cgroup_is_frozen(c->st->cgroup);
}

int container_update(struct container *c, const struct spec_resources *r, cerr_t *err)
{
    return cgroup_apply(c->st->cgroup, r, err);
}

int container_pids(struct container *c, pid_t **pids, size_t *n, cerr_t *err)
{
    return cgroup_pids(c->st->cgroup, pids, n, err);
}

const struct level_ops container_level = {
    .name = "container",
    .summary = "namespaces, cgroups, seccomp and capabilities on the host kernel",
    .check = container_check,
    .create = ct_create,
    .exec = container_exec,
    CONTAINER_LEVEL_OPS,
};
