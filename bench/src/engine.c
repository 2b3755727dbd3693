#define _GNU_SOURCE
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* dockerd.sh: $CELLA_DOCKERD_SH, else in the source tree next to build/, else
 * where `make install` puts it (/usr/local/lib/cella next to bin/). */
static int find_script(char *out, size_t len, const char *self, cerr_t *err)
{
    const char *env = getenv("CELLA_DOCKERD_SH");
    if (env != NULL) {
        if (access(env, R_OK) != 0)
            return cerr_set(err, errno, "CELLA_DOCKERD_SH `%s`", env);
        snprintf(out, len, "%s", env);
        return 0;
    }
    const char *slash = strrchr(self, '/');
    int dl = slash ? (int)(slash - self) : 1;
    const char *dir = slash ? self : ".";
    const char *rel[] = {"../scripts/dockerd.sh", "../lib/cella/dockerd.sh"};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        if (snprintf(out, len, "%.*s/%s", dl, dir, rel[i]) < (int)len && access(out, R_OK) == 0)
            return 0;
    }
    return cerr_set(err, 0, "dockerd.sh not found next to %s (set CELLA_DOCKERD_SH)", self);
}

/* Runs argv; 0 on status 0, else -1 with *err: what the command printed
 * first on stderr (the script's one line). */
static int run_script(const char *const *argv, cerr_t *err)
{
    int ef = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (ef < 0)
        return cerr_set(err, errno, "open a temporary file in /tmp");
    pid_t pid = fork();
    if (pid < 0) {
        close(ef);
        return cerr_set(err, errno, "fork");
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(ef, 2);
        execv(argv[0], (char *const *)argv);
        dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        close(ef);
        return 0;
    }
    char msg[512];
    ssize_t n = pread(ef, msg, sizeof(msg) - 1, 0);
    close(ef);
    msg[n > 0 ? n : 0] = '\0';
    msg[strcspn(msg, "\n")] = '\0';
    return cerr_set(err, 0, "%s", n > 0 ? msg : "failed with no message");
}

/* One VAR=value of the env file the script writes. */
static int env_get(const char *file, const char *var, char *out, size_t len)
{
    FILE *f = fopen(file, "re");
    char line[PATH_MAX + 64];
    size_t vl = strlen(var);
    int found = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, var, vl) == 0 && line[vl] == '=' &&
            snprintf(out, len, "%s", line + vl + 1) < (int)len)
            found = 0;
    }
    if (f != NULL)
        fclose(f);
    return found;
}

int engine_start(struct engine *e, const char *dir, const char *self, const char *cella,
                 cerr_t *err)
{
    char env[PATH_MAX + 8];
    memset(e, 0, sizeof(*e));
    if (cella == NULL)
        return cerr_set(err, 0, "--engine: cella's path is unknown (run it as `cella bench`)");
    if (find_script(e->script, sizeof(e->script), self, err) < 0)
        return -1;
    snprintf(e->dir, sizeof(e->dir), "%s", dir);
    const char *argv[] = {"/bin/bash", e->script, "start", e->dir, cella, NULL};
    if (run_script(argv, err) < 0)
        return cerr_wrap(err, "dockerd");
    e->started = true;
    snprintf(env, sizeof(env), "%s/env", e->dir);
    if (env_get(env, "DOCKER", e->docker, sizeof(e->docker)) < 0 ||
        env_get(env, "SOCK", e->host + 7, sizeof(e->host) - 7) < 0 ||
        env_get(env, "NET", e->net, sizeof(e->net)) < 0 ||
        env_get(env, "IP", e->ip, sizeof(e->ip)) < 0 ||
        env_get(env, "MAC", e->mac, sizeof(e->mac)) < 0) {
        engine_stop(e);
        return cerr_set(err, 0, "dockerd: `%s` lacks DOCKER, SOCK, NET, IP or MAC", env);
    }
    memcpy(e->host, "unix://", 7);
    return 0;
}

int engine_import(const struct engine *e, const char *rootfs, const char *tag, const char *cmd,
                  cerr_t *err)
{
    char change[256] = "";
    if (cmd != NULL && snprintf(change, sizeof(change), "CMD %s", cmd) >= (int)sizeof(change))
        return cerr_set(err, ENAMETOOLONG, "docker import %s", tag);
    /* tar | docker import, with the arguments as positional parameters. */
    const char *argv[] = {"/bin/bash",
                          "-c",
                          "set -o pipefail; tar -C \"$1\" -cf - . | \"$2\" -H \"$3\" "
                          "import ${5:+-c \"$5\"} - \"$4\"",
                          "bash",
                          rootfs,
                          e->docker,
                          e->host,
                          tag,
                          change,
                          NULL};
    if (run_script(argv, err) < 0)
        return cerr_wrap(err, "docker import %s", tag);
    return 0;
}

void engine_stop(struct engine *e)
{
    if (!e->started)
        return;
    const char *argv[] = {"/bin/bash", e->script, "stop", e->dir, NULL};
    cerr_t ignore = NULL;
    run_script(argv, &ignore);
    cerr_free(&ignore);
    e->started = false;
}
