/* The `qemu` isolation level: each container is a QEMU microVM running
 * cella's guest kernel, with cella's agent as PID 1 (guest/agent). `create`
 * boots the VM under a monitor process (monitor.h) and returns once the
 * agent is READY; the other commands are requests to that monitor over
 * ROOT/ID/monitor.sock (ctl.h). The container's pid is QEMU's. Design:
 * docs/qemu-level.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/hooks.h"
#include "core/log.h"
#include "core/util.h"
#include "level/container/cgroup.h"
#include "level/container/container.h"
#include "level/level.h"
#include "level/qemu/ctl.h"
#include "level/qemu/monitor.h"
#include "level/qemu/process.h"
#include "level/qemu/rootfs.h"
#include "level/qemu/tap.h"
#include "level/qemu/vm.h"

/* ---- create --------------------------------------------------------------------------- */

/* What a VM cannot do, refused before anything is made. */
static int refuse(const struct spec *s, cerr_t *err)
{
    if (!s->process.present)
        return cerr_set(err, 0, "process: required to create a container");
    if (s->process.terminal)
        return cerr_set(err, 0, "process.terminal: not supported by the qemu level yet");
    /* These run in the container's namespaces, that is inside the guest,
     * where cella has no hook runner. */
    if (s->hooks[HOOK_CREATE_CONTAINER].n > 0)
        return cerr_set(err, 0, "hooks.createContainer: not supported by the qemu level");
    if (s->hooks[HOOK_START_CONTAINER].n > 0)
        return cerr_set(err, 0, "hooks.startContainer: not supported by the qemu level");
    return 0;
}

/* The cgroup QEMU runs in, made empty (the spec's resources size the VM,
 * not the host's cgroup: QEMU itself needs ~90 MB beyond the guest's RAM). */
static int make_cgroup(struct container *c, cerr_t *err)
{
    c->st->cgroup = cgroup_path_for(c->spec->linux_.cgroups_path, c->id, c->g->systemd_cgroup, err);
    if (c->st->cgroup == NULL)
        return -1;
    c->st->systemd_cgroup = c->g->systemd_cgroup;
    if (cgroup_check_unused(c->st->cgroup, err) < 0) {
        free(c->st->cgroup); /* someone else's: cleanup must not touch it */
        c->st->cgroup = NULL;
        return cerr_wrap(err, "linux.cgroupsPath");
    }
    if (cgroup_create(c->st->cgroup, NULL, 0, err) < 0)
        return -1;
    return state_save(c->dirfd, c->st, err);
}

static void save_monitor_pid(struct container *c, pid_t pid)
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "%d %llu", (int)pid, proc_start_time(pid));
    autofree char *path = xasprintf("/proc/self/fd/%d/" MONITOR_PID_FILE, c->dirfd);
    cerr_t ignore = NULL;
    write_file_atomic(path, buf, (size_t)n, &ignore);
    cerr_free(&ignore);
}

/* The monitor's report: "PID qemu-pid start\n" (recorded at once, so that
 * a create killed meanwhile leaves something `delete` can clean up), then
 * "OK\n" or "ERR message\n". */
static int read_report(struct container *c, int fd, cerr_t *err)
{
    char buf[4096];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        int pid;
        unsigned long long start;
        if (c->st->pid == 0 && sscanf(buf, "PID %d %llu\n", &pid, &start) == 2 &&
            strchr(buf, '\n') != NULL) {
            c->st->pid = pid;
            c->st->start_time = start;
            if (state_save(c->dirfd, c->st, err) < 0)
                return -1;
        }
        if (n == sizeof(buf) - 1)
            break;
    }
    buf[n] = '\0';
    char *err_line = strstr(buf, "ERR ");
    if (err_line != NULL) {
        err_line[strcspn(err_line, "\n")] = '\0';
        return cerr_set(err, 0, "%s", err_line + 4);
    }
    if (strstr(buf, "OK\n") == NULL)
        return cerr_set(err, 0, "qemu level: the VM monitor ended during boot");
    return 0;
}

/* A detached container reading a terminal would take the typing of the
 * shell it was started from: only a foreground `run` relays a terminal. */
static bool relay_stdin(const struct create_opts *o)
{
    return o->foreground || !isatty(0);
}

static int spawn_monitor(struct container *c, const struct create_opts *o,
                         const struct vm_config *cfg, cerr_t *err)
{
    int rep[2];
    if (pipe2(rep, O_CLOEXEC) < 0)
        return cerr_set(err, errno, "pipe");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(rep[0]);
        close(rep[1]);
        return cerr_set(err, e, "fork the VM monitor");
    }
    if (pid == 0) {
        close(rep[0]);
        struct monitor_args a = {.cfg = cfg,
                                 .dirfd = c->dirfd,
                                 .cgroup = c->st->cgroup,
                                 .report = rep[1],
                                 .relay_stdin = relay_stdin(o)};
        monitor_main(&a);
    }
    close(rep[1]);
    save_monitor_pid(c, pid);
    c->reap_pid = pid;
    int r = read_report(c, rep[0], err);
    close(rep[0]);
    if (r < 0)
        waitpid(pid, NULL, 0); /* it has killed QEMU and ends */
    return r;
}

/* Once the VM is up: the hooks of create that run on the host. */
static int create_hooks(struct container *c, cerr_t *err)
{
    autofree char *json = state_to_oci_json(c->st, ST_CREATING, false);
    if (hooks_run(c->spec, HOOK_PRESTART, json, err) < 0 ||
        hooks_run(c->spec, HOOK_CREATE_RUNTIME, json, err) < 0)
        return -1;
    return 0;
}

#define NETWORK_FILE "network"

/* The namespace interface the VM took over (tap.h), for delete to give it
 * back: "PATH\nDEV\n". */
static int save_network(struct container *c, const struct vm_config *cfg, cerr_t *err)
{
    if (cfg->netns == NULL)
        return 0;
    autofree char *text = xasprintf("%s\n%s\n", cfg->netns, cfg->netns_dev);
    autofree char *path = xasprintf("/proc/self/fd/%d/" NETWORK_FILE, c->dirfd);
    if (write_file_atomic(path, text, strlen(text), err) < 0) {
        cerr_t ignore = NULL;
        vm_tap_remove(cfg->netns, cfg->netns_dev, &ignore);
        cerr_free(&ignore);
        return -1;
    }
    return 0;
}

/* Give the namespace's interface back (delete). */
static int restore_network(struct container *c, cerr_t *err)
{
    autofree char *text = read_file_at(c->dirfd, NETWORK_FILE, NULL, NULL);
    char *dev = text ? strchr(text, '\n') : NULL;
    if (dev == NULL)
        return 0;
    *dev++ = '\0';
    dev[strcspn(dev, "\n")] = '\0';
    return vm_tap_remove(text, dev, err);
}

static int qemu_create(struct container *c, const struct create_opts *o, cerr_t *err)
{
    struct vm_config cfg = {.tap_fd = -1};
    int r = -1;
    if (refuse(c->spec, err) < 0 || level_resolve_rootfs(c, o->bundle, err) < 0 ||
        vm_config_make(&cfg, c->spec, err) < 0 || save_network(c, &cfg, err) < 0 ||
        qemu_rootfs_image(c->st->rootfs, &cfg.image, &cfg.fstype, err) < 0 ||
        make_cgroup(c, err) < 0)
        goto out;
    log_debug("qemu level: VM configured, image ready, cgroup made");
    c->st->extra = vm_config_annotations(&cfg);
    if (spawn_monitor(c, o, &cfg, err) < 0 || create_hooks(c, err) < 0)
        goto out;
    r = 0;
out:
    vm_config_free(&cfg);
    return r;
}

/* ---- waiting for a process of the guest ----------------------------------------------- */

static volatile sig_atomic_t pending_signal;

static void note_signal(int sig)
{
    pending_signal = sig;
}

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static void forward_signals(bool on)
{
    struct sigaction sa = {.sa_handler = on ? note_signal : SIG_DFL}; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
        sigaction(forwarded[i], &sa, NULL);
}

static int send_kill(struct container *c, uint32_t id, int sig, bool all, cerr_t *err)
{
    int sock = ctl_connect(c->dirfd, c->id, err);
    if (sock < 0)
        return -1;
    uint8_t p[8];
    agent_set_u32(p, (uint32_t)sig);
    agent_set_u32(p + 4, all ? AGENT_SIGNAL_ALL : 0);
    int r = ctl_call(sock, CTL_KILL, id, p, sizeof(p), NULL, NULL, err);
    close(sock);
    return r < 0 ? -1 : 0;
}

/* Wait on `sock` for CTL_EXIT of process `id`, passing the signals a
 * foreground command receives on to that process (as runc's run and exec
 * do). The exit code, or -1 when the monitor went away without one. */
static int await_exit(struct container *c, int sock, uint32_t id)
{
    forward_signals(true);
    int code = -1;
    for (;;) {
        struct pollfd p = {.fd = sock, .events = POLLIN};
        int r = poll(&p, 1, -1);
        int sig = pending_signal;
        if (sig != 0) {
            pending_signal = 0;
            cerr_t ignore = NULL;
            send_kill(c, id, sig, false, &ignore);
            cerr_free(&ignore);
        }
        if (r <= 0)
            continue;
        struct agent_hdr h;
        uint8_t *payload = NULL;
        int got = ctl_recv(sock, &h, &payload);
        if (got > 0 && h.type == CTL_EXIT && h.len >= 4)
            code = (int)agent_get_u32(payload);
        free(payload);
        if (got <= 0 || h.type == CTL_EXIT)
            break;
    }
    forward_signals(false);
    return code;
}

/* Foreground `run`: process 0's exit code, from the monitor, or from the
 * file it leaves when it has already gone. */
static int qemu_wait(struct container *c, int *status, cerr_t *err)
{
    int code = -1;
    int sock = ctl_connect(c->dirfd, c->id, err);
    if (sock >= 0) {
        if (ctl_send(sock, CTL_WAIT, 0, NULL, 0, NULL) == 0)
            code = await_exit(c, sock, 0);
        close(sock);
    }
    cerr_free(err);
    if (code < 0)
        code = monitor_saved_exit(c->dirfd);
    /* No exit status at all: the VM was killed under the process. */
    *status = code < 0 ? 128 + SIGKILL : code;
    return 0;
}

/* ---- start, exec, kill ---------------------------------------------------------------- */

static int qemu_start(struct container *c, cerr_t *err)
{
    struct agent_buf b = {0};
    int r = -1;
    if (qemu_run_fields(&c->spec->process, c->spec->hostname, &b, err) < 0)
        goto out;
    int sock = ctl_connect(c->dirfd, c->id, err);
    if (sock < 0)
        goto out;
    r = ctl_call(sock, CTL_START, 0, b.data, b.len, NULL, NULL, err);
    close(sock);
out:
    agent_buf_free(&b);
    return r < 0 ? -1 : 0;
}

static int refuse_exec(const struct exec_opts *o, cerr_t *err)
{
    if (o->console_socket != NULL || o->process->terminal)
        return cerr_set(err, 0, "exec --tty: not supported by the qemu level yet");
    if (o->preserve_fds > 0)
        return cerr_set(err, 0, "exec --preserve-fds: not supported by the qemu level");
    return 0;
}

/* The process lives in the guest, so --pid-file names a host process that
 * ends as it does, for a supervisor to reap (conmon, containerd's shim):
 * this command in the foreground; for --detach a child left waiting on the
 * monitor's connection. */
static int exec_stand_in(struct container *c, const struct exec_opts *o, int sock, uint32_t id,
                         cerr_t *err)
{
    if (!o->detach)
        return write_pid_file(o->pid_file, getpid(), err);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return cerr_set(err, errno, "fork the exec's stand-in");
    if (pid == 0) {
        int code = await_exit(c, sock, id);
        _exit(code < 0 ? 128 + SIGKILL : code);
    }
    return write_pid_file(o->pid_file, pid, err);
}

static int qemu_exec(struct container *c, const struct exec_opts *o, int *status, cerr_t *err)
{
    struct agent_buf b = {0};
    int sock = -1, r = -1, null_in = -1;
    uint8_t *ok = NULL;
    if (refuse_exec(o, err) < 0 || qemu_run_fields(o->process, NULL, &b, err) < 0)
        goto out;
    /* lc_exec has let the lock go (c->dirfd is closed): an unlocked view. */
    c->dirfd = state_dir_peek(c->g->root, c->id, err);
    if (c->dirfd < 0 || (sock = ctl_connect(c->dirfd, c->id, err)) < 0)
        goto out;
    /* The process's stdio is ours, relayed by the monitor (a detached one's
     * too, as runc's exec -d process inherits the caller's; but not a
     * terminal's input, which would be taken from the shell). */
    int stdio[3] = {0, 1, 2};
    if (o->detach && isatty(0) && (null_in = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        stdio[0] = null_in;
    if (ctl_call(sock, o->detach ? CTL_EXEC_DETACHED : CTL_EXEC, 0, b.data, b.len, stdio, &ok,
                 err) < 0)
        goto out;
    uint32_t id = agent_get_u32(ok + 4);
    if (o->pid_file != NULL && exec_stand_in(c, o, sock, id, err) < 0)
        goto out;
    *status = 0;
    if (!o->detach) {
        int code = await_exit(c, sock, id);
        *status = code < 0 ? 128 + SIGKILL : code;
    }
    r = 0;
out:
    free(ok);
    if (null_in >= 0)
        close(null_in);
    if (sock >= 0)
        close(sock);
    agent_buf_free(&b);
    return r;
}

static int qemu_kill(struct container *c, int sig, bool all, cerr_t *err)
{
    /* `kill --all` of a stopped container is not an error (lc_kill lets it
     * through): there is nothing left to signal. */
    if (all && !proc_alive(c->st->pid, c->st->start_time))
        return 0;
    return send_kill(c, 0, sig, all, err);
}

/* ---- delete, pids, update -------------------------------------------------------------- */

/* The monitor, if it still runs (guarded by its start time), else 0. */
static pid_t monitor_pid(struct container *c)
{
    autofree char *s = read_file_at(c->dirfd, MONITOR_PID_FILE, NULL, NULL);
    int pid;
    unsigned long long start;
    if (s == NULL || sscanf(s, "%d %llu", &pid, &start) != 2 || !proc_alive(pid, start))
        return 0;
    return pid;
}

/* Wait up to ~1 s for the monitor to end once QEMU is gone (it does so at
 * once), then make sure. */
static void stop_monitor(struct container *c)
{
    pid_t pid = monitor_pid(c);
    int pfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
    if (pfd < 0)
        return;
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    if (poll(&p, 1, 1000) == 0)
        syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
    close(pfd);
    waitpid(pid, NULL, 0); /* ours when `run` made it; ECHILD otherwise */
}

/* Nothing to shut down gracefully: the rootfs is read-only and the guest's
 * writes live in its tmpfs, so QEMU is killed outright (the container
 * level's destroy: the pid, then the cgroup). The image stays in the
 * rootfs cache for the next container of the same rootfs. */
static int qemu_destroy(struct container *c, cerr_t *err)
{
    int r = container_destroy(c, err);
    stop_monitor(c);
    /* Said, but not a reason to keep the container: a retry could not do
     * better (the interface or its redirect may be gone already). */
    cerr_t net = NULL;
    if (restore_network(c, &net) < 0)
        log_warn("%s", cerr_msg(net));
    cerr_free(&net);
    return r;
}

/* QEMU (from the cgroup) and the monitor. */
static int qemu_pids(struct container *c, pid_t **pids, size_t *n, cerr_t *err)
{
    if (container_pids(c, pids, n, err) < 0)
        return -1;
    pid_t m = monitor_pid(c);
    if (m == 0)
        return 0;
    pid_t *v = realloc(*pids, (*n + 1) * sizeof(pid_t));
    if (v == NULL)
        abort();
    v[(*n)++] = m;
    *pids = v;
    return 0;
}

static int qemu_update(struct container *c, const struct spec_resources *r, cerr_t *err)
{
    (void)c;
    (void)r;
    return cerr_set(err, 0,
                    "update: not supported by the qemu level (the VM's vCPUs and memory are "
                    "fixed when it boots)");
}

const struct level_ops qemu_level = {
    .name = "qemu",
    .summary = "a QEMU microVM with cella's guest kernel and agent (Kata class)",
    .create = qemu_create,
    .start = qemu_start,
    .wait = qemu_wait,
    .kill = qemu_kill,
    .destroy = qemu_destroy,
    .exec = qemu_exec,
    /* The cgroup freezer stops QEMU, and with it the whole VM. */
    .pause = container_pause,
    .resume = container_resume,
    .paused = container_paused,
    .update = qemu_update,
    .pids = qemu_pids,
};
