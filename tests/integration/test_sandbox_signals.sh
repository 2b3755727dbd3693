#!/bin/bash
# The sandbox level's signals: handlers run on frames cella's kernel writes
# on the workload's stack (SA_SIGINFO, sa_mask, SA_RESTORER, rt_sigreturn
# restoring the registers, a forged frame's flags refused), sigsuspend,
# sigtimedwait, SIGCHLD, kill of a process with a handler. The static probe
# prints the same lines in the sandbox as on the host's Linux; busybox sh's
# trap and `wait` for a background job work.
source "$(dirname "$0")/lib.sh"

if ! command -v musl-gcc > /dev/null; then
    skip "sandbox signals" "no musl-gcc to build the static probe (apt-get install musl-tools)"
    plan_done
    exit 0
fi
if ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
    skip "sandbox signals" "$BUSYBOX is not static (apt-get install busybox-static)"
    plan_done
    exit 0
fi

B=$WORK/b
make_bundle "$B"
musl-gcc -static -O2 -o "$B/rootfs/bin/probe" "$REPO_ROOT/tests/sandbox/probe.c" || { echo "Bail out! probe"; exit 1; }

srun() {
    local id=$1
    shift
    cfg "$B" "c['process']['args']=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@")"
    out=$(cella --isolation sandbox run --bundle "$B" "$id" 2> "$WORK/serr")
    rc=$?
}

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
