#define _GNU_SOURCE
#include "level/container/init.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/keyctl.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "core/fault.h"
#include "core/hooks.h"
#include "core/util.h"
#include "level/container/mounts.h"
#include "level/container/process.h"
#include "level/container/sync.h"

static int join_namespaces(const struct init_args *a, cerr_t *err)
{
    /* The user namespace first: it decides what the others may do. */
    static const enum ns_type order[] = {NS_USER,   NS_IPC,  NS_UTS,  NS_NETWORK,
                                         NS_CGROUP, NS_TIME, NS_MOUNT};
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        int fd = a->ns_fds[order[i]];
        if (fd < 0)
            continue;
        if (setns(fd, ns_clone_flag(order[i])) < 0)
            return cerr_set(err, errno, "join %s namespace `%s`", ns_type_name(order[i]),
                            a->spec->linux_.ns[order[i]].path);
        close(fd);
    }
    return 0;
}

static int set_names(const struct spec *s, cerr_t *err)
{
    if (s->hostname != NULL && sethostname(s->hostname, strlen(s->hostname)) < 0)
        return cerr_set(err, errno, "hostname: sethostname `%s`", s->hostname);
    if (s->domainname != NULL && setdomainname(s->domainname, strlen(s->domainname)) < 0)
        return cerr_set(err, errno, "domainname: setdomainname `%s`", s->domainname);
    return 0;
}

static int apply_sysctl(const struct spec *s, cerr_t *err)
{
    for (size_t i = 0; i < s->linux_.sysctl.n; i++) {
        const struct kv *kv = &s->linux_.sysctl.v[i];
        autofree char *path = xasprintf("/proc/sys/%s", kv->key);
        for (char *p = path + strlen("/proc/sys/"); *p; p++)
            if (*p == '.')
                *p = '/';
        if (write_knob(path, kv->value, err) < 0)
            return cerr_wrap(err, "linux.sysctl `%s`", kv->key);
    }
    return 0;
}

bool init_needs_hook_sync(const struct spec *s)
{
    return s->hooks[HOOK_PRESTART].n || s->hooks[HOOK_CREATE_RUNTIME].n ||
           s->hooks[HOOK_CREATE_CONTAINER].n || s->hooks[HOOK_START_CONTAINER].n;
}

/* Hooks run inside the container see the pid as the container sees it. */
static char *state_in_container(const char *json, const char *status)
{
    json_t *o = json_loads(json, 0, NULL);
    if (o == NULL)
        return xstrdup(json);
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "status", json_string(status));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text ? text : xstrdup(json);
}

/* As runc: under the container's credentials and seccomp filter. */
static int start_container_hooks(const struct proc_plan *plan, cerr_t *err)
{
    autofree char *json = state_in_container(plan->state_json, "created");
    return hooks_run(plan->spec, HOOK_START_CONTAINER, json, err);
}

/* Everything up to the wait for `start`. */
static int setup(const struct init_args *a, struct proc_plan *plan, char **state_json, cerr_t *err)
{
    const struct spec *s = a->spec;
    if (sync_recv(a->sync_fd, SYNC_GO, NULL, err) < 0)
        return -1;
    /* Into the v1 hierarchies first, by the host's paths (cgroup/cgroup.h). */
    if (a->cgroup != NULL && cgroup_enter_self_v1(a->cgroup, err) < 0)
        return -1;
    if (join_namespaces(a, err) < 0)
        return -1;
    fault_kill("init.after-namespaces");
    if (a->new_userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
        return cerr_set(err, errno, "become root in the user namespace (check uidMappings)");
    if (set_names(s, err) < 0)
        return -1;
    /* As runc: a new session keyring, so that containers do not share the
     * host's keys. EPERM/ENOSYS (keyrings disabled or filtered) are not fatal. */
    if (a->new_keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, a->id) < 0 &&
        errno != ENOSYS && errno != EPERM && errno != EACCES)
        return cerr_set(err, errno, "create a session keyring (see --no-new-keyring)");
    struct mount_ctx m = {.spec = s,
                          .rootfs = a->rootfs,
                          .cgroup = a->cgroup,
                          .userns = a->new_userns || a->joined_userns || a->ns_fds[NS_USER] >= 0,
                          .no_pivot = a->no_pivot,
                          .host_ns = !s->linux_.ns[NS_MOUNT].present,
                          .source_fds = a->source_fds,
                          .notify_fd = a->notify_fd,
                          .notify_path = a->notify_path};
    if (mounts_prepare(&m, err) < 0)
        return -1;
    if (sync_recv(a->sync_fd, SYNC_CGROUP, NULL, err) < 0)
        return -1;
    const struct spec_namespace *cgns = &s->linux_.ns[NS_CGROUP];
    if (cgns->present && cgns->path == NULL && unshare(CLONE_NEWCGROUP) < 0)
        return cerr_set(err, errno, "create the cgroup namespace");
    if (mounts_cgroup(&m, err) < 0)
        return -1;
    if (init_needs_hook_sync(s) && (sync_send(a->sync_fd, SYNC_MOUNTED, NULL, err) < 0 ||
                                    sync_recv(a->sync_fd, SYNC_HOOKS, state_json, err) < 0))
        return -1;
    if (s->hooks[HOOK_CREATE_CONTAINER].n > 0) {
        /* As runc: the hooks run in the rootfs (before pivot_root). */
        if (chdir(a->rootfs) < 0)
            return cerr_set(err, errno, "chdir to rootfs `%s`", a->rootfs);
        autofree char *json = state_in_container(*state_json, "creating");
        if (hooks_run(s, HOOK_CREATE_CONTAINER, json, err) < 0)
            return -1;
    }
    if (mounts_pivot(&m, err) < 0 || apply_sysctl(s, err) < 0 || mounts_protect(&m, err) < 0)
        return -1;
    fault_kill("init.after-mounts");
    if (s->process.terminal && proc_setup_terminal(&s->process, a->console_fd, err) < 0)
        return -1;
    if (a->console_fd >= 0)
        close(a->console_fd);
    if (proc_plan_make(&s->process, &s->linux_.seccomp, a->hooks ? a->hooks->run : NULL, plan,
                       err) < 0)
        return -1;
    plan->spec = s;
    plan->keep_groups = spec_annotation(s, "run.oci.keep_original_groups") != NULL;
    if (a->notify_fd >= 0) {
        autofree char *kv = xasprintf("NOTIFY_SOCKET=%s/notify", a->notify_path);
        proc_plan_setenv(plan, kv);
    }
    if (a->listen_fds > 0) {
        char kv[64];
        snprintf(kv, sizeof(kv), "LISTEN_FDS=%d", a->listen_fds);
        proc_plan_setenv(plan, kv);
        snprintf(kv, sizeof(kv), "LISTEN_PID=%d", (int)getpid());
        proc_plan_setenv(plan, kv);
    }
    /* The last moment with every privilege: the level's hook, then the
     * process's own limits, credentials and capabilities. */
    if (a->hooks && a->hooks->pre_creds && a->hooks->pre_creds(plan, err) < 0)
        return -1;
    if (proc_apply_personality(&s->linux_, err) < 0 || proc_apply_mempolicy(&s->linux_, err) < 0 ||
        proc_apply_privileged(plan, err) < 0 || proc_apply_user(plan, err) < 0)
        return -1;
    return 0;
}

void container_init(const struct init_args *a)
{
    cerr_t err = NULL;
    struct proc_plan plan;
    char *state_json = NULL;
    memset(&plan, 0, sizeof(plan));

    /* Die with cella create until the container is ready. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* A shared open file would keep the state lock held after cella exits. */
    close(a->lock_fd);
    close_range_cloexec(2 + a->preserve_fds + a->listen_fds);
    if (setup(a, &plan, &state_json, &err) < 0) {
        sync_send_error(a->sync_fd, err);
        _exit(1);
    }
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    if (sync_send(a->sync_fd, SYNC_READY, NULL, &err) < 0)
        _exit(1);
    close(a->sync_fd);

    int conn;
    do
        conn = accept4(a->exec_fd, NULL, NULL, SOCK_CLOEXEC);
    while (conn < 0 && errno == EINTR);
    if (conn < 0)
        _exit(1);
    close(a->exec_fd);

    /* The connection closes on execve (close-on-exec): that is how `start`
     * learns the process is running. A failure is written to it instead. */
    plan.listener_sock = conn;
    plan.state_json = state_json;
    if (a->spec->hooks[HOOK_START_CONTAINER].n > 0)
        plan.before_exec = start_container_hooks;
    proc_exec(&plan, &err);
    sync_send(conn, SYNC_ERROR, cerr_msg(err), NULL);
    fprintf(stderr, "cella: %s\n", cerr_msg(err));
    _exit(127);
}
