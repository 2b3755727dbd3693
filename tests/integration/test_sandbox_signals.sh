#!/bin/bash
# The sandbox level's signals: handlers run on frames cella's kernel writes
# on the workload's stack (SA_SIGINFO, sa_mask, SA_RESTORER, rt_sigreturn
# restoring the registers, a forged frame's flags refused), sigsuspend,
# sigtimedwait, SIGCHLD, kill of a process with a handler. The static probe
# prints the same lines in the sandbox as on the host's Linux; busybox sh's
# trap and `wait` for a background job work.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sandbox_lib.sh"

sandbox_bundle "sandbox signals" busybox


native=$("$B/rootfs/bin/probe" signals)
id=$(newid sig)
srun "$id" /bin/probe signals
expect_eq "handlers, sa_mask, sigsuspend + SIGCHLD, sigtimedwait, a forged frame, a child's handler: as on Linux" \
    "$native" "$out"
expect_eq "... exit 0" 0 "$rc"
assert_clean "nothing left" "$id"

srun "$(newid restart)" /bin/probe restart
expect_eq "a blocking read interrupted by a handler with SA_RESTART is made again" \
    "$("$B/rootfs/bin/probe" restart)" "$out"

srun "$(newid trap)" /bin/busybox sh -c 'trap "echo got USR1" USR1; kill -USR1 $$; echo after'
expect_eq "busybox sh: trap runs on kill -USR1 \$\$" "got USR1
after" "$out"
srun "$(newid wait)" /bin/busybox sh -c 'sleep 1 & wait; echo "waited: $?"; (exit 4) & wait $!; echo "job: $?"'
expect_eq "busybox sh: sleep 1 & wait returns (SIGCHLD ends its sigsuspend)" "waited: 0
job: 4" "$out"
srun "$(newid term)" /bin/busybox sh -c 'sleep 10 & kill -TERM $!; wait $!; echo "killed: $?"'
expect_eq "busybox sh: a background job killed with TERM" "killed: 143" "$out"

plan_done
