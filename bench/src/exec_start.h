/* `cella-bench exec-start`: cold start of a server command run directly. */
#ifndef CELLA_BENCH_EXEC_START_H
#define CELLA_BENCH_EXEC_START_H

#include "core/error.h"

/* argv[0] is "exec-start". The exit status: 0, 1 or 2 with *err set, 130 when interrupted. */
int exec_start_main(int argc, char **argv, cerr_t *err);

#endif
