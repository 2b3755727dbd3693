/* A VM level's create, delete, ps and update (vmhost.h). Design:
 * docs/vmhost.md, docs/qemu-level.md. */
#define _GNU_SOURCE
#include "level/vmhost/vmhost.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/hooks.h"
#include "core/log.h"
#include "core/util.h"
#include "cgroup/cgroup.h"
#include "level/container/container.h"
#include "level/fields.h"
#include "level/supervisor.h"
#include "level/terminal.h"
#include "level/vmhost/monitor.h"
#include "level/vmhost/process.h"
#include "level/vmhost/rootfs.h"
#include "level/vmhost/tap.h"

/* ---- create --------------------------------------------------------------------------- */

/* What a VM cannot do, refused before anything is made. */
static int refuse(const struct spec *s, const char *level, cerr_t *err)
{
    if (!s->process.present)
        return cerr_set(err, 0, "process: required to create a container");
    /* These run in the container's namespaces, that is inside the guest,
     * where cella has no hook runner. */
    if (s->hooks[HOOK_CREATE_CONTAINER].n > 0)
        return cerr_set(err, 0, "hooks.createContainer: not supported by the %s level", level);
    if (s->hooks[HOOK_START_CONTAINER].n > 0)
        return cerr_set(err, 0, "hooks.startContainer: not supported by the %s level", level);
    /* linux.sysctl: the agent writes them in the guest (its kernel is the
     * container's): only their names are checked here. */
    struct agent_buf sb = {0};
    int sr = vm_run_sysctls(&s->linux_.sysctl, &sb, err);
    agent_buf_free(&sb);
    if (sr < 0)
        return -1;
    /* Before the host is asked about QEMU, kernels or /dev/kvm: the same
     * refusal on every host. */
    return level_refuse_fields(s, level, LF_VM_LEVELS, err);
}

int vmhost_check(const struct spec *s, const struct create_opts *o, const struct vm_backend *b,
                 cerr_t *err)
{
    if (refuse(s, b->level, err) < 0 || terminal_check(s, o, err) < 0)
        return -1;
    autofree char *rootfs = level_rootfs_path(s, o->bundle, err);
    if (rootfs == NULL)
        return -1;
    return vm_config_check(b, s, err);
}

/* The cgroup the VMM runs in, made empty (the spec's resources size the VM,
 * not the host's cgroup: QEMU itself needs ~90 MB beyond the guest's RAM). */
static int make_cgroup(struct container *c, cerr_t *err)
{
    c->st->cgroup = cgroup_path_for(c->spec->linux_.cgroups_path, c->id, c->g->systemd_cgroup, err);
    if (c->st->cgroup == NULL)
        return -1;
    c->st->systemd_cgroup = c->g->systemd_cgroup;
    if (cgroup_check_existing(c->st->cgroup, err) < 0) {
        free(c->st->cgroup); /* someone else's: cleanup must not touch it */
        c->st->cgroup = NULL;
        return cerr_wrap(err, "linux.cgroupsPath");
    }
    /* The default device rules and /dev/kvm: the VMM opens it from inside
     * the cgroup (cella's VMM always, QEMU with -accel kvm). */
    struct spec_dev_cgroup kvm = {true, 'c', 10, 232, (char *)"rw"};
    struct spec_resources r = {.present = true, .devices = &kvm, .n_devices = 1};
    if (cgroup_create(c->st->cgroup, &r, 0, err) < 0)
        return -1;
    return state_save(c->dirfd, c->st, err);
}

/* The monitor's report: "PID vmm-pid start\n" (recorded at once, so that
 * a create killed meanwhile leaves something `delete` can clean up), then
 * "OK\n" or "ERR message\n". *ending: the monitor said ERR or closed its
 * end, so it has killed the VM and ends by itself. */
static int read_report(struct container *c, int fd, bool *ending, cerr_t *err)
{
    char buf[4096];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        *ending = r == 0;
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
        *ending = true;
        err_line[strcspn(err_line, "\n")] = '\0';
        return cerr_set(err, 0, "%s", err_line + 4);
    }
    if (strstr(buf, "OK\n") == NULL)
        return cerr_set(err, 0, "%s level: the VM monitor ended during boot", c->ops->name);
    return 0;
}

/* A detached container reading a terminal would take the typing of the
 * shell it was started from: only a foreground `run` relays a terminal. */
static bool relay_stdin(const struct create_opts *o)
{
    return o->foreground || !isatty(0);
}

/* Once the VM is up (or, with cfg->hooked_netns, before it boots): the
 * hooks of create that run on the host. */
static int create_hooks(struct container *c, cerr_t *err)
{
    autofree char *json = state_hook_json(c->st, ST_CREATING);
    if (hooks_run(c->spec, HOOK_PRESTART, json, err) < 0 ||
        hooks_run(c->spec, HOOK_CREATE_RUNTIME, json, err) < 0)
        return -1;
    return 0;
}

/* One line of the monitor's report (without its newline). */
static void report_line(int rep, char *line, size_t len)
{
    size_t n = 0;
    while (n < len - 1) {
        ssize_t r = read(rep, line + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
}

/* cfg->hooked_netns: "PID vmm-pid start" (that process is in the new
 * namespace, not yet QEMU: the hooks see the pid the state keeps, as runc's
 * see the container's init), "NET", the hooks, then the go byte. */
static int hooks_before_boot(struct container *c, int rep, int go, cerr_t *err)
{
    char line[4096];
    int pid;
    unsigned long long start;
    report_line(rep, line, sizeof(line));
    if (sscanf(line, "PID %d %llu", &pid, &start) == 2) {
        c->st->pid = pid;
        c->st->start_time = start;
        if (state_save(c->dirfd, c->st, err) < 0)
            return -1;
        report_line(rep, line, sizeof(line));
    }
    if (strncmp(line, "ERR ", 4) == 0)
        return cerr_set(err, 0, "%s", line + 4);
    if (strcmp(line, "NET") != 0)
        return cerr_set(err, 0, "%s level: the VM monitor ended before the hooks", c->ops->name);
    if (create_hooks(c, err) < 0)
        return -1;
    if (send(go, "G", 1, MSG_NOSIGNAL) != 1)
        return cerr_set(err, errno, "%s level: start the VM", c->ops->name);
    return 0;
}

static int spawn_monitor(struct container *c, const struct create_opts *o, struct vm_config *cfg,
                         const int tty[2], cerr_t *err)
{
    int rep[2], go[2] = {-1, -1};
    if (pipe2(rep, O_CLOEXEC) < 0)
        return cerr_set(err, errno, "pipe");
    /* a socket: a send to a VMM's process that died is EPIPE, not SIGPIPE */
    if (cfg->hooked_netns && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0) {
        int e = errno;
        close(rep[0]);
        close(rep[1]);
        return cerr_set(err, e, "pipe");
    }
    /* process.oomScoreAdj is the VM's as the host's OOM killer sees it:
     * the monitor and the VMM inherit it from create, which keeps its own. */
    char old_oom[16] = "";
    if (c->spec->process.has_oom_score_adj) {
        char v[16];
        snprintf(v, sizeof(v), "%d", c->spec->process.oom_score_adj);
        autofree char *was = read_file("/proc/self/oom_score_adj", NULL, err);
        if (was != NULL)
            snprintf(old_oom, sizeof(old_oom), "%.*s", (int)strcspn(was, "\n"), was);
        if (was == NULL || write_knob("/proc/self/oom_score_adj", v, err) < 0) {
            close(rep[0]);
            close(rep[1]);
            if (go[0] >= 0) {
                close(go[0]);
                close(go[1]);
            }
            return cerr_wrap(err, "process.oomScoreAdj");
        }
    }
    fflush(NULL);
    pid_t pid = fork();
    if (old_oom[0] != '\0' && pid != 0) {
        cerr_t ignored = NULL; /* best effort: create's own score, not the VM's */
        write_knob("/proc/self/oom_score_adj", old_oom, &ignored);
        cerr_free(&ignored);
    }
    if (pid < 0) {
        int e = errno;
        close(rep[0]);
        close(rep[1]);
        if (go[0] >= 0) {
            close(go[0]);
            close(go[1]);
        }
        return cerr_set(err, e, "fork the VM monitor");
    }
    if (pid == 0) {
        close(rep[0]);
        if (tty[0] >= 0)
            close(tty[0]); /* the master is for the console socket, or run */
        if (go[1] >= 0)
            close(go[1]);
        struct monitor_args a = {.cfg = cfg,
                                 .dirfd = c->dirfd,
                                 .cgroup = c->st->cgroup,
                                 .report = rep[1],
                                 .relay_stdin = relay_stdin(o),
                                 .go = go[0],
                                 .tty = tty[1]};
        monitor_main(&a);
    }
    close(rep[1]);
    if (go[0] >= 0)
        close(go[0]);
    bool ending = false;
    int r = supervisor_record(c->dirfd, pid, err);
    if (r == 0 && go[1] >= 0)
        r = hooks_before_boot(c, rep[0], go[1], err);
    if (go[1] >= 0)
        close(go[1]);
    if (r == 0)
        r = read_report(c, rep[0], &ending, err);
    close(rep[0]);
    /* A monitor that reported its failure has killed the VM and ends. After
     * any other failure (its pid or the VM's not recorded, the report not
     * read) it may hold a booted VM and would wait for commands forever:
     * it is killed, and the VM with it (PR_SET_PDEATHSIG; destroy then
     * empties the cgroup). */
    if (r < 0)
        supervisor_end(pid, ending ? 1000 : 0);
    return r;
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

/* process.terminal: a host pty whose slave the monitor relays to the
 * guest's pty (docs/vmhost.md, Terminals); the master goes where the
 * container level's goes: --console-socket, or `run`'s own stdio. */
static int open_terminal(const struct spec *s, int *master, int *slave, cerr_t *err)
{
    if (!s->process.terminal)
        return 0;
    *master = terminal_open(s->process.console_height, s->process.console_width, slave, err);
    if (*master < 0)
        return -1;
    terminal_raw(*slave);
    return 0;
}

static int deliver_terminal(const struct create_opts *o, int *master, cerr_t *err)
{
    if (*master < 0)
        return 0;
    if (o->console_socket != NULL)
        return terminal_send(o->console_socket, *master, err);
    *o->console_master = *master; /* terminal_check: a foreground run */
    *master = -1;
    return 0;
}

int vmhost_create(struct container *c, const struct create_opts *o, const struct vm_backend *b,
                  cerr_t *err)
{
    struct vm_config cfg = {.tap_fd = -1};
    autoclose int master = -1, slave = -1;
    /* The image held in use: the monitor inherits it and keeps it for the
     * VM's life, so that the cache's trim spares it (rootfs.h). */
    autoclose int hold = -1;
    int r = -1;
    if (level_resolve_rootfs(c, o->bundle, err) < 0 || vm_config_make(&cfg, b, c->spec, err) < 0 ||
        save_network(c, &cfg, err) < 0 ||
        vm_rootfs_image_held(c->st->rootfs, &cfg.image, &cfg.fstype, &hold, err) < 0 ||
        make_cgroup(c, err) < 0 || open_terminal(c->spec, &master, &slave, err) < 0)
        goto out;
    log_debug("%s level: VM configured, image ready, cgroup made", b->level);
    c->st->extra = vm_config_annotations(&cfg);
    if (spawn_monitor(c, o, &cfg, (int[]){master, slave}, err) < 0 ||
        deliver_terminal(o, &master, err) < 0 || (!cfg.hooked_netns && create_hooks(c, err) < 0))
        goto out;
    r = 0;
out:
    vm_config_free(&cfg);
    return r;
}

/* ---- delete, pids, update -------------------------------------------------------------- */

/* Nothing to shut down gracefully: the rootfs is read-only and the guest's
 * writes live in its tmpfs, so the VMM is killed outright (the container
 * level's destroy: the pid, then the cgroup), and the monitor ends with it
 * at once (given 1 s, then killed). The image stays in the rootfs cache for
 * the next container of the same rootfs. */
int vmhost_destroy(struct container *c, cerr_t *err)
{
    int r = container_destroy(c, err);
    supervisor_end(supervisor_pid(c->dirfd), 1000);
    /* Said, but not a reason to keep the container: a retry could not do
     * better (the interface or its redirect may be gone already). */
    cerr_t net = NULL;
    if (restore_network(c, &net) < 0)
        log_warn("%s", cerr_msg(net));
    cerr_free(&net);
    return r;
}

int vmhost_pids(struct container *c, pid_t **pids, size_t *n, cerr_t *err)
{
    if (container_pids(c, pids, n, err) < 0)
        return -1;
    pid_t m = supervisor_pid(c->dirfd);
    if (m == 0)
        return 0;
    pid_t *v = realloc(*pids, (*n + 1) * sizeof(pid_t));
    if (v == NULL)
        abort();
    v[(*n)++] = m;
    *pids = v;
    return 0;
}

int vmhost_update(struct container *c, const struct spec_resources *r, cerr_t *err)
{
    (void)r;
    return cerr_set(err, 0,
                    "update: not supported by the %s level (the VM's vCPUs and memory are "
                    "fixed when it boots)",
                    c->ops->name);
}
