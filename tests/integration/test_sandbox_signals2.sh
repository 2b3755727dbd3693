#!/bin/bash
# The sandbox level's signals, the rest (issue 10): signals from outside
# (`cella kill`, `kill --all`) reach the workload as Linux sends them from an
# ancestor pid namespace to a container's processes — the same exit codes as
# the container level with the same bundle and commands; signalfd, eventfd,
# timerfd, a loop without system calls interrupted, faults to handlers,
# sigaltstack, FP state across signals and fork, process groups: the static
# tests/sandbox/sigprobe.c prints the same lines in the sandbox as on the host.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sandbox_lib.sh"

sandbox_bundle "sandbox signals 2" busybox
musl-gcc -static -O2 -o "$B/rootfs/bin/sigprobe" "$REPO_ROOT/tests/sandbox/sigprobe.c" ||
    { echo "Bail out! sigprobe"; exit 1; }

# The probe's lines in the sandbox are the host's.
same() { # NAME COMMAND
    local native nrc
    native=$("$B/rootfs/bin/sigprobe" "$2" 2>&1)
    nrc=$?
    srun "$(newid "$2")" /bin/sigprobe "$2"
    expect_eq "$1" "$native" "$out"
    expect_eq "... exit $nrc, as on the host" $nrc "$rc"
}
same "signalfd: readable while a signal of its mask is pending, reads signalfd_siginfo (kill, a child's SIGCHLD), in epoll, a new mask, EAGAIN/EINVAL" signalfd
same "eventfd: counter, EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC, poll/epoll, a blocking read woken by a child, EINVAL" eventfd
same "timerfd: MONOTONIC with interval, gettime, blocking read, epoll, disarm, REALTIME with TFD_TIMER_ABSTIME, EINVAL" timerfd
same "a child spinning without system calls is interrupted for its parent's kill -USR1: its handler prints and exits 5" spinchild
same "faults to the workload's handlers (siglongjmp out): a null store, a read-only page (si_code, si_addr), idiv by zero, ud2, int3; a blocked SIGSEGV kills" faults
same "sigaltstack: SA_ONSTACK runs the handler on it (SS_ONSTACK there, EPERM to change it), not without SA_ONSTACK, ENOMEM, EINVAL, SS_DISABLE" altstack
same "FP registers of a loop on doubles kept across 20 signals whose handler clobbers every xmm register" fpu
same "fork: the child's FP control state (rounding mode) is its parent's" fpfork
same "a handler starts from the default FP state (rounding to nearest), the interrupted code gets its own back" fphandler
same "process groups and sessions: setsid, getsid/getpgrp/getpgid, setpgid (EPERM, ESRCH, EINVAL), kill(-pgid), kill(0) reaching the caller and its group" pgrp

# start LEVEL ID SCRIPT: busybox sh -c SCRIPT in the background at LEVEL,
# its output in $WORK/ID.out, `cella run`'s pid in $runner.
start() {
    local lvl=$1 id=$2
    CELLA_ARGS_CMD=$3 cfg "$B" "c['process']['args']=['/bin/busybox','sh','-c',os.environ['CELLA_ARGS_CMD']]"
    cella --isolation "$lvl" run --bundle "$B" "$id" > "$WORK/$id.out" 2> "$WORK/$id.err" &
    runner=$!
}
lines() { grep -c . "$WORK/$1.out"; }
more_lines() { [ "$(lines "$1")" -gt "$2" ]; }
started() { wait_for 100 grep -q ready "$WORK/$1.out"; }

# A workload that goes on printing: after `cella kill SIG`, two more lines
# show that it lived on past the signal; then KILL ends it. Prints
# "<status> <alive|dead>".
outlives() { # LEVEL SIG SCRIPT-PREFIX
    local id n rc alive=dead
    id=$(newid "$1")
    start "$1" "$id" "$3 echo ready; while :; do echo tick; sleep 0.05; done"
    started "$id"
    cella kill "$id" "$2"
    n=$(lines "$id")
    wait_for 100 more_lines "$id" $((n + 1)) && alive=alive
    cella kill "$id" KILL
    wait $runner
    rc=$?
    echo "$rc $alive"
}

for lvl in container sandbox; do
    expect_eq "$lvl: trap '' TERM: the shell outlives cella kill TERM, ends on KILL (137)" "137 alive" \
        "$(outlives $lvl TERM "trap '' TERM;")"
    expect_eq "$lvl: no trap, own pid namespace: TERM is not for the init (SIG_DFL), KILL is" "137 alive" \
        "$(outlives $lvl TERM "")"

    id=$(newid "$lvl-trap")
    start $lvl "$id" 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done'
    started "$id"
    cella kill "$id" TERM
    wait $runner
    expect_eq "$lvl: a trap handler runs on cella kill TERM and exits with its code" "7 got TERM" \
        "$? $(grep got "$WORK/$id.out")"

    id=$(newid "$lvl-all")
    start $lvl "$id" 'sleep 100 & echo ready; wait $!; echo "sleep: $?"'
    started "$id"
    cella kill --all "$id" TERM
    wait $runner
    expect_eq "$lvl: kill --all TERM ends the child (SIG_DFL), the init's wait sees 143" "0 sleep: 143" \
        "$? $(grep sleep: "$WORK/$id.out")"
done

# A loop without system calls, signalled from outside: its handler runs.
for lvl in container sandbox; do
    id=$(newid "$lvl-spin")
    cfg "$B" "c['process']['args']=['/bin/sigprobe','spin']"
    cella --isolation "$lvl" run --bundle "$B" "$id" > "$WORK/$id.out" 2> "$WORK/$id.err" &
    runner=$!
    started "$id"
    cella kill "$id" USR1
    wait $runner
    expect_eq "$lvl: cella kill USR1 interrupts a loop without system calls, its handler prints and exits 5" \
        "5 USR1 handled in the loop" "$? $(grep USR1 "$WORK/$id.out")"
done

# A blocked signal is the init's too (kept for its signalfd), from outside.
for lvl in container sandbox; do
    id=$(newid "$lvl-sfd")
    cfg "$B" "c['process']['args']=['/bin/sigprobe','sfdwait']"
    cella --isolation "$lvl" run --bundle "$B" "$id" > "$WORK/$id.out" 2> "$WORK/$id.err" &
    runner=$!
    started "$id"
    cella kill "$id" TERM
    wait $runner
    expect_eq "$lvl: SIGTERM blocked by the init, read from its signalfd (sender outside: pid 0)" \
        "0 read 128: signo 15 code 0 pid 0" "$? $(grep "^read [0-9]" "$WORK/$id.out")"
done

# Without a pid namespace of its own the workload is no init: TERM's default
# action ends it, as on the container level.
cfg "$B" "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='pid']"
for lvl in container sandbox; do
    id=$(newid "$lvl-nopidns")
    start $lvl "$id" 'echo ready; while :; do sleep 0.05; done'
    started "$id"
    cella kill "$id" TERM
    wait $runner
    expect_eq "$lvl: no pid namespace, no trap: cella kill TERM ends the shell (143)" 143 "$?"
done
cfg "$B" "c['linux']['namespaces'].append({'type':'pid'})"
assert_clean "nothing left" "$id"

plan_done
