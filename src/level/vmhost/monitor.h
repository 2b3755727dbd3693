/* The VM monitor: the host process that holds one VM of a VM level, the
 * container's supervisor (level/supervisor.h).
 *
 * cella's commands are short processes, so something must stay with the
 * VM between them: `create` forks the monitor (no exec: it is cella), which
 * spawns the VMM (the backend's spawn: QEMU), owns the agent channel (a
 * socketpair, one end passed to the VMM), keeps create's stdio for process 0
 * (STDOUT/STDERR frames go to its fd 1 and 2, its fd 0 becomes STDIN frames)
 * and serves later commands on ROOT/ID/monitor.sock (level/ctl.h). It ends
 * when the VMM does. */
#ifndef CELLA_VMHOST_MONITOR_H
#define CELLA_VMHOST_MONITOR_H

#include "level/vmhost/vm.h"

struct monitor_args {
    struct vm_config *cfg; /* the monitor's copy: the network may be made late */
    int dirfd;             /* the state directory (the locked fd of create: not kept) */
    const char *cgroup;    /* the VMM's cgroup */
    int report;            /* to create: "PID vmm-pid start-time\n", then "OK\n" or "ERR msg\n" */
    bool relay_stdin;      /* fd 0 becomes process 0's stdin (else it gets EOF) */
    /* cfg->hooked_netns: the VMM's process enters a new network namespace
     * before it execs, and the monitor reports "NET\n" after its PID line;
     * that process waits for one byte on go (create has run the hooks)
     * before it makes the tap and execs the VMM; EOF instead: create failed.
     * -1 otherwise. */
    int go;
    /* process.terminal: the host pty's slave, process 0's stdin and output
     * (instead of create's stdio); -1 otherwise. */
    int tty;
};

/* Runs in the forked child of create; never returns. */
void monitor_main(const struct monitor_args *a) __attribute__((noreturn));

#define MONITOR_CONSOLE "console.log"

#endif
