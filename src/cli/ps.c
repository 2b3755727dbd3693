#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/lifecycle.h"
#include "core/util.h"

static bool has_pid(const pid_t *pids, size_t n, long pid)
{
    for (size_t i = 0; i < n; i++)
        if (pids[i] == pid)
            return true;
    return false;
}

/* Run `ps ARGS` and print its header and the lines of the container's pids. */
static int ps_table(char **ps_args, const pid_t *pids, size_t n, cerr_t *err)
{
    int fds[2];
    if (pipe(fds) < 0)
        return cerr_set(err, errno, "pipe");
    pid_t child = fork();
    if (child < 0)
        return cerr_set(err, errno, "fork");
    if (child == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execvp("ps", ps_args);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char *line = NULL;
    size_t cap = 0;
    int pid_col = -1, lineno = 0;
    while (f && getline(&line, &cap, f) > 0) {
        char *copy = xstrdup(line), *save = NULL;
        int col = 0;
        bool show = lineno == 0;
        for (char *tok = strtok_r(copy, " \t\n", &save); tok;
             tok = strtok_r(NULL, " \t\n", &save), col++) {
            if (lineno == 0 && strcmp(tok, "PID") == 0)
                pid_col = col;
            long v;
            if (lineno > 0 && col == pid_col && parse_long(tok, &v) == 0)
                show = has_pid(pids, n, v);
        }
        free(copy);
        if (show)
            fputs(line, stdout);
        lineno++;
    }
    free(line);
    if (f)
        fclose(f);
    int status;
    waitpid(child, &status, 0);
    if (pid_col < 0)
        return cerr_set(err, 0, "ps: could not find the PID column in the output of `ps`");
    return 0;
}

int cmd_ps(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    static const struct option opts[] = {
        {"format", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    bool json = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
        if (c == 'f') {
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0)
                return cli_usage_error(err, "ps", "--format: expected table or json");
            json = strcmp(optarg, "json") == 0;
        } else if (c == 'h') {
            cli_help("ps");
        } else {
            return cli_usage_error(err, "ps", "unknown option `%s`", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cerr_set(err, 0, "`ps` needs a container ID");
    const char *id = argv[optind];
    pid_t *pids = NULL;
    size_t n = 0;
    if (lc_pids(g, id, &pids, &n, err) < 0)
        return -1;
    int r = 0;
    if (json) {
        printf("[");
        for (size_t i = 0; i < n; i++)
            printf("%s%d", i ? "," : "", pids[i]);
        printf("]\n");
    } else {
        char *def[] = {"ps", "-ef", NULL};
        char **ps_args = def;
        if (optind + 1 < argc) {
            ps_args = argv + optind; /* argv[optind] is replaced by "ps" */
            ps_args[0] = "ps";
        }
        fflush(stdout);
        r = ps_table(ps_args, pids, n, err);
    }
    free(pids);
    return r;
}
