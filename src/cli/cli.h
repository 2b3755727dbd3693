/* One function per command: argv (after the command name) -> lifecycle call.
 * Returns the exit status, or -N with *err set to fail with status N (-1 for
 * most; `exec` fails with 255 as runc's does, apart from its own process's codes). */
#ifndef CELLA_CLI_H
#define CELLA_CLI_H

#include <stdio.h>

#include "core/error.h"
#include "level/level.h"

typedef int (*cmd_fn)(const struct globals *g, int argc, char **argv, cerr_t *err);

int cmd_create(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_start(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_run(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_state(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_kill(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_delete(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_exec(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_list(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_ps(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_pause(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_resume(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_update(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_events(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_spec(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_bench(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_wasm(const struct globals *g, int argc, char **argv, cerr_t *err);
int cmd_features(const struct globals *g, int argc, char **argv, cerr_t *err);

/* Helpers shared by the commands. */
/* Exactly one positional ID after options ("`start` needs a container ID"). */
const char *cli_one_id(const char *cmd, int argc, char **argv, int optind_, cerr_t *err);
/* An absolute bundle path (default: current directory). */
char *cli_bundle(const char *arg, cerr_t *err);
/* PATH made absolute against the caller's working directory (create chdirs
 * to the bundle): --pid-file as runc reads it. */
char *cli_abs_path(const char *path);
/* Signal by name (KILL, SIGKILL, kill) or number. */
int cli_signal(const char *s, cerr_t *err);
/* runc-shaped help of a command (help.c) on stdout, then exit 0. */
__attribute__((noreturn)) void cli_help(const char *cmd);
/* The one-line summary of a command, for the list of commands. */
const char *cli_summary(const char *cmd);
/* What --version prints after "cella version " (help shows it too). */
void cli_version(FILE *f);
int cli_usage_error(cerr_t *err, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* create and run share their options; run adds --detach. Returns the ID. */
const char *cli_create_opts(const char *cmd, int argc, char **argv, struct create_opts *o,
                            bool *detach, cerr_t *err);

#endif
