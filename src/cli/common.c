#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"

const char *cli_one_id(const char *cmd, int argc, char **argv, int optind_, cerr_t *err)
{
    if (optind_ >= argc) {
        cerr_set(err, 0, "`%s` needs a container ID", cmd);
        return NULL;
    }
    if (optind_ + 1 < argc) {
        cerr_set(err, 0, "`%s`: unexpected argument `%s`", cmd, argv[optind_ + 1]);
        return NULL;
    }
    return argv[optind_];
}

char *cli_bundle(const char *arg, cerr_t *err)
{
    char real[PATH_MAX];
    const char *b = arg ? arg : ".";
    if (realpath(b, real) == NULL) {
        cerr_set(err, errno, "bundle `%s`", b);
        return NULL;
    }
    return xstrdup(real);
}

char *cli_abs_path(const char *path)
{
    if (path[0] == '/')
        return xstrdup(path);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return xstrdup(path); /* the error shows when the file is written */
    return xasprintf("%s/%s", cwd, path);
}

int cli_signal(const char *s, cerr_t *err)
{
    long n;
    if (parse_long(s, &n) == 0) {
        /* 0 sends nothing: `kill ID 0` only asks whether the container is alive (runc). */
        if (n < 0 || n > SIGRTMAX)
            return cerr_set(err, 0, "unknown signal `%s`", s);
        return (int)n;
    }
    const char *name = s;
    if (strncasecmp(name, "SIG", 3) == 0)
        name += 3;
    for (int i = 1; i < NSIG; i++) {
        const char *abbrev = sigabbrev_np(i);
        if (abbrev != NULL && strcasecmp(abbrev, name) == 0)
            return i;
    }
    if (strcasecmp(name, "RTMIN") == 0)
        return SIGRTMIN;
    if (strcasecmp(name, "RTMAX") == 0)
        return SIGRTMAX;
    if (strncasecmp(name, "RTMIN+", 6) == 0 && parse_long(name + 6, &n) == 0 && n >= 0 &&
        n <= SIGRTMAX - SIGRTMIN)
        return SIGRTMIN + (int)n;
    if (strncasecmp(name, "RTMAX-", 6) == 0 && parse_long(name + 6, &n) == 0 && n >= 0 &&
        n <= SIGRTMAX - SIGRTMIN)
        return SIGRTMAX - (int)n;
    return cerr_set(err, 0, "unknown signal `%s`", s);
}

int cli_usage_error(cerr_t *err, const char *cmd, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    cerr_set(err, 0, "%s: %s (see cella %s --help)", cmd, msg ? msg : "usage error", cmd);
    free(msg);
    return -1;
}
