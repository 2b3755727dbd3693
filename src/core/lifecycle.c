#define _GNU_SOURCE
#include "core/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/hooks.h"
#include "core/log.h"
#include "core/tty_proxy.h"
#include "core/util.h"
#include "core/wait.h"
#include "level/supervisor.h"

/* ---- opening a container ------------------------------------------------------- */

static int open_as(const struct globals *g, const char *id, struct container *c, bool lock,
                   cerr_t *err)
{
    memset(c, 0, sizeof(*c));
    c->g = g;
    c->dirfd = -1;
    c->ready_fd = -1;
    c->id = xstrdup(id);
    c->dirfd = lock ? state_dir_open(g->root, id, err) : state_dir_peek(g->root, id, err);
    if (c->dirfd < 0)
        goto fail;
    c->st = state_load(c->dirfd, id, err);
    if (c->st == NULL)
        goto fail;
    c->ops = level_find(c->st->level, "the container's state", err);
    if (c->ops == NULL)
        goto fail;
    size_t len;
    char *text = read_file_at(c->dirfd, "config.json", &len, err);
    if (text == NULL)
        goto fail;
    c->spec = spec_parse(text, len, "config.json", err);
    free(text);
    if (c->spec == NULL)
        goto fail;
    return 0;
fail:
    container_close(c);
    return -1;
}

int container_open(const struct globals *g, const char *id, struct container *c, cerr_t *err)
{
    return open_as(g, id, c, true, err);
}

int container_peek(const struct globals *g, const char *id, struct container *c, cerr_t *err)
{
    return open_as(g, id, c, false, err);
}

void container_close(struct container *c)
{
    if (c->dirfd >= 0)
        close(c->dirfd);
    if (c->ready_fd >= 0)
        close(c->ready_fd);
    c->dirfd = -1;
    spec_free(c->spec);
    state_free(c->st);
    free(c->id);
    memset(c, 0, sizeof(*c));
    c->dirfd = -1;
    c->ready_fd = -1;
}

enum cstatus container_status(struct container *c)
{
    enum cstatus s = state_live_status(c->st);
    if (s == ST_RUNNING || s == ST_PAUSED || s == ST_CREATED) {
        if (c->ops->paused != NULL && c->ops->paused(c))
            return ST_PAUSED;
        if (s == ST_PAUSED)
            return ST_RUNNING;
    }
    return s;
}

static int save(struct container *c, enum cstatus s, cerr_t *err)
{
    c->st->status = s;
    return state_save(c->dirfd, c->st, err);
}

static char *rfc3339_now(void)
{
    struct timespec ts;
    struct tm tm;
    char buf[64];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

static char **annotations_of(const struct spec *s)
{
    char **v = calloc(2 * s->annotations.n + 1, sizeof(char *));
    if (v == NULL)
        abort();
    for (size_t i = 0; i < s->annotations.n; i++) {
        v[2 * i] = xstrdup(s->annotations.v[i].key);
        v[2 * i + 1] = xstrdup(s->annotations.v[i].value);
    }
    return v;
}

/* poststart and poststop: a failure is reported but does not fail the command. */
static void run_hooks_warn(struct container *c, enum hook_kind kind, enum cstatus status)
{
    if (c->spec->hooks[kind].n == 0)
        return;
    char *json = state_hook_json(c->st, status);
    cerr_t hook_err = NULL;
    if (hooks_run(c->spec, kind, json, &hook_err) < 0)
        log_warn("%s", cerr_msg(hook_err));
    cerr_free(&hook_err);
    free(json);
}

/* ---- create / start / run ----------------------------------------------------- */

static void remove_container(const struct globals *g, struct container *c,
                             const struct level_ops *l)
{
    cerr_t ignore = NULL;
    /* No state yet (its config.json copy failed: a full --root): the
     * level made nothing, and its destroy has no state to read. */
    if (l != NULL && c->st != NULL && l->destroy(c, &ignore) < 0)
        log_warn("cleanup of `%s`: %s", c->id, cerr_msg(ignore));
    cerr_free(&ignore);
    state_dir_remove(g->root, c->id, c->dirfd);
}

static int do_create(const struct globals *g, struct container *c, const struct create_opts *o,
                     const struct level_ops **lp, cerr_t *err)
{
    size_t len;
    const char *name = o->config ? o->config : "config.json";
    autofree char *cfg = name[0] == '/' ? xstrdup(name) : xasprintf("%s/%s", o->bundle, name);
    autofree char *text = read_file(cfg, &len, err);
    if (text == NULL)
        return -1;
    c->spec = spec_parse(text, len, cfg, err);
    if (c->spec == NULL)
        return -1;
    const struct level_ops *l = level_for_spec(c->spec, g, err);
    if (l == NULL)
        return -1;
    /* What the level refuses, it refuses before anything exists. */
    if (l->check != NULL && l->check(c->spec, o, err) < 0)
        return -1;
    c->dirfd = state_dir_create(g->root, c->id, err);
    if (c->dirfd < 0)
        return -1;
    fault_kill("create.after-state-dir");
    *lp = l;
    c->ops = l;
    autofree char *copy = xasprintf("/proc/self/fd/%d/config.json", c->dirfd);
    if (write_file(copy, text, len, 0600, err) < 0)
        return -1;
    fault_kill("create.after-config");
    c->st = calloc(1, sizeof(*c->st));
    if (c->st == NULL)
        abort();
    c->st->id = xstrdup(c->id);
    c->st->bundle = xstrdup(o->bundle);
    c->st->level = xstrdup(l->name);
    c->st->created = rfc3339_now();
    c->st->owner = xstrdup("");
    c->st->annotations = annotations_of(c->spec);
    if (save(c, ST_CREATING, err) < 0)
        return -1;
    fault_kill("create.after-state");
    if (l->create(c, o, err) < 0)
        return -1;
    fault_kill("create.after-level");
    /* What conmon or a shim reaps for the exit status: the supervisor when
     * the workload has one (level/supervisor.h). */
    pid_t reap = supervisor_pid(c->dirfd);
    if (o->pid_file != NULL && write_pid_file(o->pid_file, reap > 0 ? reap : c->st->pid, err) < 0)
        return -1;
    return save(c, ST_CREATED, err);
}

/* Create, leaving *c open and locked on success (run starts it without
 * reading back what it just wrote). */
static int create_open(const struct globals *g, const char *id, const struct create_opts *o,
                       struct container *c, cerr_t *err)
{
    *c = (struct container){.g = g, .dirfd = -1, .ready_fd = -1, .id = xstrdup(id)};
    const struct level_ops *l = NULL;
    int r = do_create(g, c, o, &l, err);
    if (r < 0) {
        if (c->dirfd >= 0)
            remove_container(g, c, l);
        container_close(c);
    }
    return r;
}

int lc_create(const struct globals *g, const char *id, const struct create_opts *o, cerr_t *err)
{
    struct container c;
    if (create_open(g, id, o, &c, err) < 0)
        return -1;
    container_close(&c);
    return 0;
}

static int start_locked(struct container *c, cerr_t *err)
{
    enum cstatus s = container_status(c);
    if (s != ST_CREATED)
        return cerr_set(err, 0, "cannot start container `%s`: it is %s, not created", c->id,
                        cstatus_name(s));
    fault_kill("start.before");
    if (c->ops->start(c, err) < 0)
        return -1;
    fault_kill("start.after-level");
    if (save(c, ST_RUNNING, err) < 0)
        return -1;
    fault_kill("start.before-poststart");
    run_hooks_warn(c, HOOK_POSTSTART, ST_RUNNING);
    return 0;
}

/* Wait for readiness (sd_notify) with the lock released: other commands on
 * the container go on meanwhile. */
static int await_ready(struct container *c, cerr_t *err)
{
    if (c->ready_fd < 0 || c->ops->await_ready == NULL)
        return 0;
    close(c->dirfd);
    c->dirfd = -1;
    return c->ops->await_ready(c, err);
}

int lc_start(const struct globals *g, const char *id, cerr_t *err)
{
    struct container c;
    if (container_open(g, id, &c, err) < 0)
        return -1;
    int r = start_locked(&c, err);
    if (r == 0)
        r = await_ready(&c, err);
    container_close(&c);
    return r;
}

/* A run that fails after its create removes the container (and its pty). */
static int run_failed(const struct globals *g, const char *id, int master)
{
    if (master >= 0)
        close(master);
    cerr_t ignore = NULL;
    if (lc_delete(g, id, true, &ignore) < 0)
        log_warn("cleanup of `%s`: %s", id, cerr_msg(ignore));
    cerr_free(&ignore);
    return -1;
}

int lc_run(const struct globals *g, const char *id, const struct create_opts *opts, int *status,
           cerr_t *err)
{
    int master = -1;
    struct create_opts o_copy = *opts;
    const struct create_opts *o = &o_copy;
    o_copy.console_master = opts->foreground ? &master : NULL;
    struct container c;
    if (create_open(g, id, o, &c, err) < 0) {
        if (master >= 0)
            close(master);
        return -1;
    }
    /* The lock is kept from create to start: nothing else can come in between. */
    if (fault_at("run.after-create", err) < 0) {
        container_close(&c);
        return run_failed(g, id, master);
    }
    pid_t pid = c.st->pid;
    /* Asked before await_ready, which gives up the state directory. */
    bool supervised = supervisor_recorded(c.dirfd);
    if (start_locked(&c, err) < 0 || await_ready(&c, err) < 0) {
        container_close(&c);
        return run_failed(g, id, master);
    }
    container_close(&c);
    if (!o->foreground) {
        *status = 0;
        return 0;
    }
    if (master >= 0) {
        forward_signals_to(pid);
        tty_proxy(master);
        close(master);
    }
    if (supervised) {
        /* The workload is not our child: its supervisor holds it. */
        if (fault_at("run.before-wait", err) < 0 || container_peek(g, id, &c, err) < 0)
            return run_failed(g, id, -1);
        *status = supervisor_wait(c.dirfd);
        container_close(&c);
    } else {
        *status = wait_forward(pid);
    }
    return o->keep ? 0 : lc_delete(g, id, true, err);
}

/* ---- the rest ------------------------------------------------------------------------ */

int lc_kill(const struct globals *g, const char *id, int sig, bool all, cerr_t *err)
{
    struct container c;
    if (container_open(g, id, &c, err) < 0)
        return -1;
    int r = -1;
    enum cstatus s = container_status(&c);
    const struct level_ops *l = c.ops;
    if (s == ST_STOPPED && !all) {
        cerr_set(err, 0, "container `%s` is not running", id);
        goto out;
    }
    r = l->kill(&c, sig, all, err);
out:
    container_close(&c);
    return r;
}

int lc_delete(const struct globals *g, const char *id, bool force, cerr_t *err)
{
    struct container c;
    if (container_open(g, id, &c, err) < 0) {
        /* `delete --force` of a missing container is not an error (runc);
         * what a create killed before its first state left is removed. */
        if (force && cerr_code(*err) == CERR_NOT_FOUND) {
            cerr_free(err);
            state_dir_remove_unborn(g->root, id);
            return 0;
        }
        return -1;
    }
    int r = -1;
    enum cstatus s = container_status(&c);
    const struct level_ops *l = c.ops;
    if ((s == ST_RUNNING || s == ST_PAUSED) && !force) {
        cerr_set(err, 0, "cannot delete container `%s`: it is %s (stop it first, or use --force)",
                 id, cstatus_name(s));
        goto out;
    }
    /* A frozen process cannot die: thaw first, and say so if that fails. */
    if (s == ST_PAUSED && l->resume(&c, err) < 0) {
        log_warn("delete `%s`: resume before destroy: %s", id, cerr_msg(*err));
        cerr_free(err);
    }
    fault_kill("delete.before-destroy");
    if (l->destroy(&c, err) < 0)
        goto out;
    fault_kill("delete.after-destroy");
    run_hooks_warn(&c, HOOK_POSTSTOP, ST_STOPPED);
    fault_kill("delete.after-poststop");
    state_dir_remove(g->root, id, c.dirfd);
    r = 0;
out:
    container_close(&c);
    return r;
}

int lc_state(const struct globals *g, const char *id, cerr_t *err)
{
    struct container c;
    if (container_peek(g, id, &c, err) < 0)
        return -1;
    autofree char *json = state_to_oci_json(c.st, container_status(&c), true);
    container_close(&c);
    printf("%s\n", json);
    return 0;
}

int lc_pause(const struct globals *g, const char *id, bool pause, cerr_t *err)
{
    struct container c;
    if (container_open(g, id, &c, err) < 0)
        return -1;
    int r = -1;
    enum cstatus s = container_status(&c);
    const struct level_ops *l = c.ops;
    if (pause && s != ST_RUNNING && s != ST_CREATED) {
        cerr_set(err, 0, "cannot pause container `%s`: it is %s", id, cstatus_name(s));
        goto out;
    }
    if (!pause && s != ST_PAUSED) {
        cerr_set(err, 0, "cannot resume container `%s`: it is %s, not paused", id, cstatus_name(s));
        goto out;
    }
    r = pause ? l->pause(&c, err) : l->resume(&c, err);
out:
    container_close(&c);
    return r;
}

int lc_update(const struct globals *g, const char *id, const struct spec_resources *res,
              cerr_t *err)
{
    struct container c;
    if (container_open(g, id, &c, err) < 0)
        return -1;
    int r = -1;
    const struct level_ops *l = c.ops;
    if (container_status(&c) == ST_STOPPED) {
        cerr_set(err, 0, "cannot update container `%s`: it is stopped", id);
        goto out;
    }
    r = l->update(&c, res, err);
out:
    container_close(&c);
    return r;
}

int lc_pids(const struct globals *g, const char *id, pid_t **pids, size_t *n, cerr_t *err)
{
    struct container c;
    if (container_peek(g, id, &c, err) < 0)
        return -1;
    int r = -1;
    r = c.ops->pids(&c, pids, n, err);
    container_close(&c);
    return r;
}

/* ---- exec ------------------------------------------------------------------------- */

static int env_replace(struct str_list *env, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
    for (size_t i = 0; i < env->n; i++) {
        if (strncmp(env->v[i], kv, klen) == 0 && env->v[i][klen] == '=') {
            free(env->v[i]);
            env->v[i] = xstrdup(kv);
            return 0;
        }
    }
    return str_list_push(env, kv);
}

static int parse_user_spec(const char *u, struct spec_user *out, cerr_t *err)
{
    char *end;
    errno = 0;
    unsigned long uid = strtoul(u, &end, 10);
    if (errno || end == u || (*end != '\0' && *end != ':'))
        return cerr_set(err, 0, "--user `%s`: expected UID[:GID]", u);
    out->uid = (uid_t)uid;
    out->gid = 0; /* as runc: --user UID alone means gid 0 */
    if (*end == ':') {
        const char *g = end + 1;
        unsigned long gid = strtoul(g, &end, 10);
        if (end == g || *end != '\0')
            return cerr_set(err, 0, "--user `%s`: expected UID[:GID]", u);
        out->gid = (gid_t)gid;
    }
    return 0;
}

static int build_exec_process(struct container *c, const struct exec_request *rq,
                              struct spec_process **owned, struct spec_process **proc, cerr_t *err)
{
    if (rq->process_file != NULL) {
        size_t len;
        autofree char *text = read_file(rq->process_file, &len, err);
        if (text == NULL)
            return cerr_wrap(err, "--process");
        *owned = spec_parse_process(text, len, rq->process_file, err);
        if (*owned == NULL)
            return -1;
        *proc = *owned;
        if ((*proc)->args.n == 0)
            return cerr_set(err, 0, "%s: process.args must not be empty", rq->process_file);
        return 0;
    }
    struct spec_process *p = &c->spec->process;
    if (rq->args == NULL || rq->args[0] == NULL)
        return cerr_set(err, 0, "exec: no command given (ARGS or --process)");
    str_list_free(&p->args);
    for (char **a = rq->args; *a; a++)
        str_list_push(&p->args, *a);
    for (char **e = rq->env; e && *e; e++)
        env_replace(&p->env, *e);
    if (rq->cwd) {
        free(p->cwd);
        p->cwd = xstrdup(rq->cwd);
    }
    if (rq->user && parse_user_spec(rq->user, &p->user, err) < 0)
        return -1;
    if (rq->n_additional_gids) {
        free(p->user.additional_gids);
        p->user.additional_gids = calloc(rq->n_additional_gids, sizeof(gid_t));
        memcpy(p->user.additional_gids, rq->additional_gids, rq->n_additional_gids * sizeof(gid_t));
        p->user.n_additional_gids = rq->n_additional_gids;
    }
    for (char **cap = rq->caps; cap && *cap; cap++) {
        str_list_push(&p->caps.bounding, *cap);
        str_list_push(&p->caps.effective, *cap);
        str_list_push(&p->caps.permitted, *cap);
        p->caps.present = true;
    }
    p->terminal = rq->tty_set ? rq->tty : false;
    /* As crun: exec's no_new_privs comes from --no-new-privs, not config.json. */
    p->no_new_privileges = rq->no_new_privs;
    *proc = p;
    return 0;
}

/* The lock contract of exec (docs/levels.md), kept here and nowhere else:
 * with the lock held, the container is found created or running and the
 * process is built from the request and config.json; then the lock is
 * released and the level's exec runs with c->dirfd open but unlocked and
 * c->st, c->spec as read under the lock. The process may run for as long as
 * it likes while other commands (kill, delete) go on. */
int lc_exec(const struct globals *g, const char *id, const struct exec_request *rq, int *status,
            cerr_t *err)
{
    struct container c;
    if (container_open(g, id, &c, err) < 0)
        return -1;
    int r = -1;
    struct spec_process *owned = NULL, *proc = NULL;
    enum cstatus s = container_status(&c);
    const struct level_ops *l = c.ops;
    if (s == ST_PAUSED && !rq->ignore_paused) {
        cerr_set(err, 0, "cannot exec in container `%s`: it is paused (use --ignore-paused)", id);
        goto out;
    }
    if (s != ST_RUNNING && s != ST_CREATED && s != ST_PAUSED) {
        cerr_set(err, 0, "cannot exec in container `%s`: it is %s", id, cstatus_name(s));
        goto out;
    }
    if (l->exec == NULL) {
        cerr_set(err, 0, "exec: not supported by the %s level", l->name);
        goto out;
    }
    if (build_exec_process(&c, rq, &owned, &proc, err) < 0)
        goto out;
    struct exec_opts o = {.process = proc,
                          .console_socket = rq->console_socket,
                          .pid_file = rq->pid_file,
                          .preserve_fds = rq->preserve_fds,
                          .detach = rq->detach};
    state_dir_unlock(c.dirfd);
    r = l->exec(&c, &o, status, err);
out:
    spec_process_free(owned);
    container_close(&c);
    return r;
}
