/* The VM monitor: the host process that holds one VM of the qemu level.
 *
 * cella's commands are short processes, so something must stay with the
 * VM between them: `create` forks the monitor (no exec: it is cella), which
 * spawns QEMU, owns the agent channel (a socketpair, one end passed to QEMU
 * as its chardev's fd), keeps create's stdio for process 0 (STDOUT/STDERR
 * frames go to its fd 1 and 2, its fd 0 becomes STDIN frames) and serves
 * later commands on ROOT/ID/monitor.sock (ctl.h). It ends when QEMU does. */
#ifndef CELLA_QEMU_MONITOR_H
#define CELLA_QEMU_MONITOR_H

#include "level/qemu/vm.h"

struct monitor_args {
    const struct vm_config *cfg;
    int dirfd;          /* the state directory (the locked fd of create: not kept) */
    const char *cgroup; /* QEMU's cgroup */
    int report;         /* to create: "PID qemu-pid start-time\n", then "OK\n" or "ERR msg\n" */
    bool relay_stdin;   /* fd 0 becomes process 0's stdin (else it gets EOF) */
};

/* Runs in the forked child of create; never returns. */
void monitor_main(const struct monitor_args *a) __attribute__((noreturn));

/* The exit code of process 0, kept by the monitor in the state directory
 * for `run` when the monitor has already gone: -1 when there is none. */
int monitor_saved_exit(int dirfd);

#define MONITOR_PID_FILE "monitor.pid"
#define MONITOR_CONSOLE  "console.log"

#endif
