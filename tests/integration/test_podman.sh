#!/bin/bash
# shellcheck disable=SC2016 # $VARS in single quotes are for the container's shell.
# podman drives cella as its OCI runtime: podman -> conmon -> `cella create`,
# `start`, `exec`, `kill`, `delete`, `pause`, `resume`. No image is pulled:
# every container runs `--rootfs DIR`, a directory made from /bin/busybox
# (busybox-static) and its applets.
#
# Every level: container (cella), wasm and sandbox (the annotation
# run.cella.isolation), qemu and vm (the per-level names cella-qemu, cella-vm);
# the vm level, where the host cannot run it, must be refused with its one line.
#
#   bash tests/integration/test_podman.sh        # CELLA=/path/to/cella to choose the binary
#
# Prints TAP. Podman gets a private store (--root/--runroot/--tmpdir/
# --network-config-dir in a mktemp dir, vfs storage driver) and every
# container gets `--network none`, so the host's podman state, bridge and
# firewall are left alone; everything is removed at exit.
#
# What podman itself needs on a Debian 12 host (found with runc; crun 1.8
# refuses this hybrid cgroup v1+v2 host): --events-backend file and
# --log-driver k8s-file (no journald), --cgroup-manager cgroupfs (no systemd),
# and explicit --ulimit values: its defaults (nofile 1048576, nproc = podman's
# own limit) fail with EPERM in runc ("error setting rlimit type 7") where
# root lacks CAP_SYS_RESOURCE.
#
# Environment: CELLA (default build/cella of this repository),
# PODMAN_TIMEOUT (seconds for one podman command, default 30),
# PODMAN_LOG_LEVEL (default warning; `debug` to diagnose).
set -u

HERE=.
case ${BASH_SOURCE[0]} in */*) HERE=${BASH_SOURCE[0]%/*} ;; esac
REPO=$(cd "$HERE/../.." && pwd)
CELLA=${CELLA:-$REPO/build/cella}
case $CELLA in /*) ;; *) CELLA=$PWD/$CELLA ;; esac
TMO=${PODMAN_TIMEOUT:-30}

# --- TAP --------------------------------------------------------------------
N=0
FAILED=0
REASON=""
OUT=""

diag() { sed -e 's/\r$//' -e 's/^/#   /' | head -n 25; }

# run_case NAME FUNC: FUNC returns 0 (pass), 77 (skip: $REASON) or other (fail).
run_case() {
    local name=$1 fn=$2 rc
    REASON=""
    OUT=""
    "$fn"
    rc=$?
    N=$((N + 1))
    if [ $rc -eq 0 ]; then
        echo "ok $N - $name"
    elif [ $rc -eq 77 ]; then
        echo "ok $N - $name # SKIP $REASON"
    else
        FAILED=$((FAILED + 1))
        echo "not ok $N - $name"
        [ -n "$REASON" ] && echo "# $REASON"
        [ -n "$OUT" ] && printf '%s\n' "$OUT" | diag
    fi
}

# fail MSG: record why the case failed, return 1.
fail() {
    REASON=$*
    return 1
}

CASES=(
    "run --rm echo hello: prints hello, exit 0|t_hello"
    "run --rm exit 7: exit code 7 propagates|t_exit_code"
    "run -d then exec echo hi|t_exec"
    "exec: exit code propagates (exit 5)|t_exec_exit_code"
    "exec --user 1000:1000 -e BAR=baz|t_exec_user_env"
    "stop: SIGTERM handled, Exited (0) within 5 s|t_stop"
    "stop -t 1: SIGTERM ignored, SIGKILL, Exited (137)|t_stop_kill"
    "rm: stopped container removed from podman and cella|t_rm"
    "rm -f: running container killed and removed|t_rm_force"
    "run -e FOO=bar|t_env"
    "run: the container can trap SIGPIPE (conmon ignores it)|t_sigpipe"
    "run --hostname xhost|t_hostname"
    "run --user 1000:1000|t_user"
    "run -v HOSTDIR:/data: write visible on host|t_volume"
    "run --read-only: / read-only, /tmp writable|t_read_only"
    "run -t: process has a tty, exit code propagates|t_tty"
    "exec -t: process has a tty|t_exec_tty"
    "pause / unpause|t_pause"
    "kill: SIGKILL, Exited (137)|t_kill"
    "run --memory 64m --cpus 0.5: the container's cgroup limits|t_limits"
    "run --network ns:PATH joins that network namespace|t_netns_path"
    "wasm (annotation): run a module, its output and exit code|t_wasm_run"
    "wasm: --network host, HTTP through run.cella.wasm.tcplisten, rm -f|t_wasm_http"
    "wasm: logs, pause / unpause, stop (143), kill (137)|t_wasm_signals"
    "qemu (cella-qemu): run, output, exit code|t_qemu_run"
    "qemu: run -d, exec (output, exit code), stop, rm|t_qemu_lifecycle"
    "qemu: logs, pause / unpause, kill (137)|t_qemu_signals"
    "qemu: run --memory 192m --cpus 2 size the VM|t_qemu_limits"
    "sandbox (annotation): run sh -c with a pipeline, exit code|t_sandbox_run"
    "sandbox: run -d, logs, kill (137), rm|t_sandbox_kill"
    "sandbox: exec|t_sandbox_exec"
    "sandbox: run -t|t_sandbox_tty"
    "vm (cella-vm): refused with one line where it cannot run, nothing left|t_vm"
)

skip_all() {
    local c
    for c in "${CASES[@]}"; do
        N=$((N + 1))
        echo "ok $N - ${c%%|*} # SKIP $1"
    done
    echo "1..$N"
    exit 0
}

if ! command -v podman > /dev/null 2>&1; then
    skip_all "podman not installed"
fi
command -v conmon > /dev/null 2>&1 || [ -x /usr/libexec/podman/conmon ] ||
    skip_all "conmon not installed"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (rootless podman is not tested)"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || BUSYBOX=$(command -v busybox 2>/dev/null)
{ [ -n "$BUSYBOX" ] && [ -x "$BUSYBOX" ]; } || skip_all "busybox (busybox-static) not installed"
ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic' ||
    skip_all "$BUSYBOX is not statically linked (install busybox-static)"
if [ ! -x "$CELLA" ]; then
    echo "not ok 1 - cella binary \`$CELLA\` is executable (run make)"
    echo "1..1"
    exit 1
fi

# --- private podman ---------------------------------------------------------
T=$(mktemp -d /tmp/cella-podman.XXXXXX)
ROOTFS=$T/rootfs
VOL=$T/vol
NETNS=""
# With --cgroup-manager cgroupfs podman makes /libpod_parent in each
# hierarchy; the ones that were not there before are removed at exit.
NEW_CG=()
for d in /sys/fs/cgroup /sys/fs/cgroup/*/; do
    d=${d%/}
    [ -d "$d/libpod_parent" ] || NEW_CG+=("$d/libpod_parent")
done
# Empty directories that podman or `ip netns` make on the host; the ones that
# were not there before are removed at exit (only while empty).
NEW_DIRS=()
for d in /run/containers/networks /run/containers /run/netns; do
    [ -d "$d" ] || NEW_DIRS+=("$d")
done
mkdir -p "$T/root" "$T/runroot" "$T/tmp" "$T/net" "$ROOTFS"/{bin,dev,proc,sys,tmp,etc,data} "$VOL"
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
for a in $("$BUSYBOX" --list); do
    [ -e "$ROOTFS/bin/$a" ] || ln -s busybox "$ROOTFS/bin/$a"
done

# The levels: per-level names beside cella's kernel and initramfs (the qemu
# level finds them next to the binary it runs as), a rootfs holding the
# wasm modules (the probe needs a C to wasm32-wasi toolchain).
CELLA_DIR=$(dirname "$CELLA")
for l in qemu vm; do ln -s "$CELLA" "$T/cella-$l"; done
for f in vmlinux cella-agent.cpio; do
    [ -e "$CELLA_DIR/$f" ] && ln -s "$(readlink -f "$CELLA_DIR/$f")" "$T/$f"
done
WASM=$T/wasm
mkdir -p "$WASM"/{dev,proc,sys,tmp,etc}
cp "$CELLA_DIR/cella-bench-httpd.wasm" "$WASM/httpd.wasm" 2> /dev/null
clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$WASM/probe.wasm" "$REPO/tests/wasm/probe.c" 2> /dev/null
SANDBOX_BUILT=""
"$CELLA" features 2> /dev/null | grep -o '"run.cella.levels": "[^(]*(built)' | grep -qw sandbox &&
    SANDBOX_BUILT=1

PODMAN=(podman --root "$T/root" --runroot "$T/runroot" --tmpdir "$T/tmp"
    --network-config-dir "$T/net" --storage-driver vfs
    --events-backend file --cgroup-manager cgroupfs
    --log-level "${PODMAN_LOG_LEVEL:-warning}")
# Options for every `podman run`; --rootfs DIR then takes the image's place.
BASEOPTS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --log-driver k8s-file)
RUNOPTS=("${BASEOPTS[@]}" --network none)

# The runtime is $RT when set (a per-level name: RT=$T/cella-qemu p ...), else
# cella; the commands on one container must all name the runtime it was made with.
pod() { timeout -k 5 "$TMO" "${PODMAN[@]}" --runtime "${RT:-$CELLA}" "$@"; }

# p ARGS...: run podman, output (stdout+stderr, \r removed) in $OUT, status in $RC.
p() {
    OUT=$(pod "$@" 2>&1 < /dev/null)
    RC=$?
    OUT=$(printf '%s' "$OUT" | tr -d '\r')
    OUT="\$ podman ${*}
$OUT
(exit status $RC)"
    return 0
}
# The output of the last p, without the command line and status we added.
out() { printf '%s\n' "$OUT" | sed -e '1d' -e '$d'; }

# Processes whose command line holds our private dir: conmon and runtime
# calls that outlived a podman command killed by the timeout.
our_pids() {
    local p
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = $$ ] && continue
        grep -qaF "$T/" "$p/cmdline" 2>/dev/null && echo "${p#/proc/}"
    done
}

cleanup() {
    local ids p d
    ids=$(pod ps -aq 2>/dev/null)
    # shellcheck disable=SC2086
    [ -n "$ids" ] && pod rm -f -t 0 $ids > /dev/null 2>&1
    # What is still alive hangs. Kill conmon before the container processes
    # (its children, found first), or it would run its exit command, a
    # `podman container cleanup` that writes to the store again.
    local _ pids kids
    for _ in 1 2 3 4 5; do
        pids=$(our_pids)
        [ -z "$pids" ] && break
        kids=""
        for p in $pids; do kids="$kids $(pgrep -P "$p")"; done
        # shellcheck disable=SC2086
        kill -9 $pids $kids 2>/dev/null
        sleep 0.2
    done
    [ -n "$NETNS" ] && ip netns del "$NETNS" 2>/dev/null
    # Nothing of ours may stay mounted before rm -rf.
    awk -v t="$T" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null; done
    rm -rf "$T"
    # A libpod-ID cgroup left behind stays (and keeps its parent): a leak to see.
    for d in "${NEW_CG[@]}"; do
        for _ in 1 2 3 4 5; do
            [ -d "$d" ] || break
            rmdir "$d/conmon" 2>/dev/null
            rmdir "$d" 2>/dev/null && break
            sleep 0.2
        done
    done
    for d in "${NEW_DIRS[@]}"; do
        [ -d "$d" ] && rmdir "$d" 2>/dev/null
    done
    return 0
}
trap cleanup EXIT

# state CTR: "status exitcode"
state() { pod inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$1" 2>&1; }

# wait_status CTR STATUS: poll up to 10 s.
wait_status() {
    local _
    for _ in $(seq 50); do
        case $(state "$1") in "$2"*) return 0 ;; esac
        sleep 0.2
    done
    return 1
}

# start_bg NAME [OPTS...]: a detached container that exits 0 on SIGTERM.
start_bg() {
    local name=$1
    shift
    p run -d --name "$name" "${RUNOPTS[@]}" "$@" --rootfs "$ROOTFS" \
        /bin/sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
    [ $RC -eq 0 ] || fail "run -d failed (exit $RC)" || return 1
    wait_status "$name" running || fail "container $name not running: $(state "$name")"
}

# running NAME: NAME is running, else it is made anew by start_bg.
running() {
    case $(state "$1") in running*) return 0 ;; esac
    pod rm -f -t 0 "$1" > /dev/null 2>&1
    start_bg "$1"
}

# --- cases ------------------------------------------------------------------
t_hello() {
    p run --rm "${RUNOPTS[@]}" --rootfs "$ROOTFS" /bin/sh -c 'echo hello'
    [ $RC -eq 0 ] || fail "exit status $RC, want 0" || return
    [ "$(out)" = hello ] || fail "output is not exactly \`hello\`"
}

t_exit_code() {
    p run --rm "${RUNOPTS[@]}" --rootfs "$ROOTFS" /bin/sh -c 'exit 7'
    [ $RC -eq 7 ] || fail "exit status $RC, want 7"
}

t_exec() {
    start_bg cx || return
    p exec cx echo hi
    [ $RC -eq 0 ] || fail "exec exit status $RC, want 0" || return
    [ "$(out)" = hi ] || fail "exec output is not exactly \`hi\`"
}

t_exec_exit_code() {
    running cx || return
    p exec cx /bin/sh -c 'exit 5'
    [ $RC -eq 5 ] || fail "exec exit status $RC, want 5"
}

t_exec_user_env() {
    running cx || return
    p exec --user 1000:1000 -e BAR=baz cx /bin/sh -c 'echo "$(id -u):$(id -g) $BAR"'
    [ $RC -eq 0 ] || fail "exec exit status $RC, want 0" || return
    [ "$(out)" = "1000:1000 baz" ] || fail "want \`1000:1000 baz\`"
}

t_stop() {
    running cx || return
    local t0 t1
    t0=$(date +%s%N)
    p stop -t 10 cx
    t1=$(date +%s%N)
    [ $RC -eq 0 ] || fail "stop exit status $RC" || return
    local ms=$(((t1 - t0) / 1000000))
    [ $ms -le 5000 ] || fail "stop took ${ms} ms, want <= 5000 (SIGTERM not delivered?)" || return
    local st
    st=$(state cx)
    [ "$st" = "exited 0" ] || fail "state \`$st\`, want \`exited 0\`"
}

t_stop_kill() {
    # /bin/sleep as PID 1 has no SIGTERM handler: the kernel ignores it.
    p run -d --name cs "${RUNOPTS[@]}" --rootfs "$ROOTFS" /bin/sleep 1000
    [ $RC -eq 0 ] || fail "run -d exit status $RC" || return
    wait_status cs running || fail "not running: $(state cs)" || return
    local t0 t1
    t0=$(date +%s%N)
    p stop -t 1 cs
    t1=$(date +%s%N)
    [ $RC -eq 0 ] || fail "stop exit status $RC" || return
    local ms=$(((t1 - t0) / 1000000))
    [ $ms -le 6000 ] || fail "stop -t 1 took ${ms} ms, want <= 6000" || return
    local st
    st=$(state cs)
    [ "$st" = "exited 137" ] || fail "state \`$st\`, want \`exited 137\`"
}

t_rm() {
    # cx was stopped by t_stop; make our own stopped container if it was not.
    case $(state cx) in
    exited*) ;;
    *)
        pod rm -f -t 0 cx > /dev/null 2>&1
        p run --name cx "${RUNOPTS[@]}" --rootfs "$ROOTFS" /bin/true
        [ $RC -eq 0 ] || fail "run exit status $RC" || return
        ;;
    esac
    local id
    id=$(pod inspect -f '{{.Id}}' cx 2>/dev/null)
    p rm cx
    [ $RC -eq 0 ] || fail "rm exit status $RC" || return
    if pod container exists cx; then fail "podman still knows cx"; return; fi
    if [ -n "$id" ] && "$CELLA" state "$id" > /dev/null 2>&1; then
        fail "\`cella state $id\` still succeeds after podman rm"
    fi
}

t_rm_force() {
    start_bg cf || return
    local pid id
    pid=$(pod inspect -f '{{.State.Pid}}' cf 2>/dev/null)
    id=$(pod inspect -f '{{.Id}}' cf 2>/dev/null)
    p rm -f -t 2 cf
    [ $RC -eq 0 ] || fail "rm -f exit status $RC" || return
    if pod container exists cf; then fail "podman still knows cf"; return; fi
    if [ -n "$pid" ] && [ "$pid" != 0 ] && [ -d "/proc/$pid" ] &&
        ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
        fail "container process $pid still alive"
        return
    fi
    if [ -n "$id" ] && "$CELLA" state "$id" > /dev/null 2>&1; then
        fail "\`cella state $id\` still succeeds after podman rm -f"
    fi
}

t_env() {
    p run --rm "${RUNOPTS[@]}" -e FOO=bar --rootfs "$ROOTFS" /bin/sh -c 'echo "FOO=$FOO"'
    [ $RC -eq 0 ] || fail "exit status $RC" || return
    [ "$(out)" = FOO=bar ] || fail "want \`FOO=bar\`"
}

# conmon ignores SIGPIPE; the container's process must start with it at its
# default (a shell cannot trap a signal ignored on entry).
t_sigpipe() {
    p run --rm "${RUNOPTS[@]}" --rootfs "$ROOTFS" /bin/sh -c \
        'trap "echo trapped" PIPE; kill -PIPE $$; grep -E "^Sig(Ign|Blk)" /proc/self/status'
    [ $RC -eq 0 ] || fail "exit status $RC" || return
    [ "$(out | tr -s ' \t\n' ' ')" = "trapped SigBlk: 0000000000000000 SigIgn: 0000000000000000 " ] ||
        fail "SIGPIPE not trapped or signals ignored/blocked in the container"
}
t_hostname() {
    p run --rm "${RUNOPTS[@]}" --hostname xhost --rootfs "$ROOTFS" /bin/hostname
    [ $RC -eq 0 ] || fail "exit status $RC" || return
    [ "$(out)" = xhost ] || fail "want \`xhost\`"
}

t_user() {
    p run --rm "${RUNOPTS[@]}" --user 1000:1000 --rootfs "$ROOTFS" \
        /bin/sh -c 'echo "$(id -u):$(id -g)"'
    [ $RC -eq 0 ] || fail "exit status $RC" || return
    [ "$(out)" = 1000:1000 ] || fail "want \`1000:1000\`"
}

t_volume() {
    rm -f "$VOL/f"
    p run --rm "${RUNOPTS[@]}" -v "$VOL:/data" --rootfs "$ROOTFS" \
        /bin/sh -c 'echo written > /data/f'
    [ $RC -eq 0 ] || fail "exit status $RC" || return
    [ "$(cat "$VOL/f" 2>/dev/null)" = written ] || fail "$VOL/f on the host does not hold \`written\`"
}

t_read_only() {
    p run --rm "${RUNOPTS[@]}" --read-only --rootfs "$ROOTFS" \
        /bin/sh -c 'if touch /x 2>/dev/null; then echo root-writable; fi; touch /tmp/y && echo tmp-ok'
    [ $RC -eq 0 ] || fail "exit status $RC" || return
    [ "$(out)" = tmp-ok ] || fail "want only \`tmp-ok\` (/ read-only, /tmp a writable tmpfs)"
}

t_tty() {
    # podman -t needs no terminal on its own stdin: conmon makes the pty
    # through --console-socket.
    p run --rm -t "${RUNOPTS[@]}" --rootfs "$ROOTFS" /bin/sh -c 'tty; exit 3'
    if [ $RC -ne 3 ] && printf '%s' "$OUT" | grep -qi 'not a tty\|input device is not'; then
        REASON="podman -t needs a terminal here"
        return 77
    fi
    [ $RC -eq 3 ] || fail "exit status $RC, want 3" || return
    out | grep -q '^/dev/pts/[0-9]' || fail "tty did not print /dev/pts/N"
}

t_exec_tty() {
    start_bg ct || return
    p exec -t ct tty
    [ $RC -eq 0 ] || fail "exec -t exit status $RC" || return
    out | grep -q '^/dev/pts/[0-9]' || fail "tty did not print /dev/pts/N"
}

t_pause() {
    running ct || return
    p pause ct
    [ $RC -eq 0 ] || fail "pause exit status $RC" || return
    local st
    st=$(state ct)
    [ "${st% *}" = paused ] || fail "state after pause \`$st\`, want paused" || return
    p unpause ct
    [ $RC -eq 0 ] || fail "unpause exit status $RC" || return
    st=$(state ct)
    [ "${st% *}" = running ] || fail "state after unpause \`$st\`, want running" || return
    p exec ct echo alive
    [ "$(out)" = alive ] || fail "exec after unpause: want \`alive\`"
}

t_kill() {
    running ct || return
    p kill ct
    [ $RC -eq 0 ] || fail "kill exit status $RC" || return
    wait_status ct exited || fail "not exited: $(state ct)" || return
    local st
    st=$(state ct)
    [ "$st" = "exited 137" ] || fail "state \`$st\`, want \`exited 137\`"
}

# cgroup_file PID CONTROLLER FILE: FILE of PID's v1 cgroup of CONTROLLER.
cgroup_file() {
    local path
    path=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup")
    cat "/sys/fs/cgroup/$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $2 }' "/proc/$1/cgroup")$path/$3" 2>&1
}

t_limits() {
    local pid got
    p run -d --name clim "${RUNOPTS[@]}" --memory 64m --cpus 0.5 --rootfs "$ROOTFS" sleep 1000
    [ $RC -eq 0 ] || { fail "run -d exit status $RC"; gone clim; return 1; }
    pid=$(pod inspect -f '{{.State.Pid}}' clim 2> /dev/null)
    got="$(cgroup_file "$pid" memory memory.limit_in_bytes) $(cgroup_file "$pid" cpu cpu.cfs_quota_us)/$(cgroup_file "$pid" cpu cpu.cfs_period_us)"
    gone clim || return
    [ "$got" = "67108864 50000/100000" ] || fail "memory limit, cpu quota/period: \`$got\`, want \`67108864 50000/100000\`"
}

t_netns_path() {
    command -v ip > /dev/null 2>&1 || { REASON="ip (iproute2) not installed"; return 77; }
    NETNS=cella-podman-$$
    ip netns add "$NETNS" 2>/dev/null || { REASON="ip netns add failed"; NETNS=""; return 77; }
    local ino
    ino=$(stat -L -c %i "/run/netns/$NETNS")
    p run --rm "${BASEOPTS[@]}" --network "ns:/run/netns/$NETNS" --rootfs "$ROOTFS" \
        /bin/readlink /proc/self/ns/net
    [ $RC -eq 0 ] || fail "exit status $RC" || return
    [ "$(out)" = "net:[$ino]" ] || fail "want \`net:[$ino]\` (the namespace of /run/netns/$NETNS)"
}

# --- the other levels -------------------------------------------------------
# left_nothing ID: cella knows no container ID, no cgroup or mount names it.
left_nothing() {
    local d
    if "$CELLA" state "$1" > /dev/null 2>&1; then fail "\`cella state $1\` still succeeds"; return; fi
    for d in /sys/fs/cgroup/libpod_parent /sys/fs/cgroup/*/libpod_parent; do
        [ -d "$d/libpod-$1" ] && { fail "cgroup $d/libpod-$1 left behind"; return; }
    done
    if grep -qF "$1" /proc/self/mountinfo; then fail "a mount naming $1 left behind"; return; fi
    return 0
}

# gone NAME: podman rm -f NAME (with $RT), then nothing of it is left.
gone() {
    local id
    id=$(pod inspect -f '{{.Id}}' "$1" 2> /dev/null)
    p rm -f -t 2 "$1"
    [ $RC -eq 0 ] || fail "rm -f $1 exit status $RC" || return
    if pod container exists "$1"; then fail "podman still knows $1"; return; fi
    [ -z "$id" ] || left_nothing "$id"
}

WASMOPTS=("${RUNOPTS[@]}" --annotation run.cella.isolation=wasm --rootfs "$WASM")
t_wasm_run() {
    [ -e "$WASM/probe.wasm" ] || { REASON="no C to wasm32-wasi toolchain (clang lld wasi-libc)"; return 77; }
    p run --rm "${WASMOPTS[@]}" /probe.wasm args one two
    [ $RC -eq 0 ] || fail "exit status $RC, want 0" || return
    [ "$(out | tr '\n' ' ')" = "argv[0]=/probe.wasm argv[1]=args argv[2]=one argv[3]=two " ] ||
        fail "want the module's arguments, one a line" || return
    p run --rm "${WASMOPTS[@]}" /probe.wasm exit 9
    [ $RC -eq 9 ] || fail "exit status $RC, want 9"
}

t_wasm_signals() {
    [ -e "$WASM/probe.wasm" ] || { REASON="no C to wasm32-wasi toolchain (clang lld wasi-libc)"; return 77; }
    local r=0 _ st c
    for c in cws cwk; do
        p run -d --name "$c" "${WASMOPTS[@]}" /probe.wasm sleep 1000
        [ $RC -eq 0 ] || { fail "run -d exit status $RC"; gone "$c"; return 1; }
    done
    for _ in $(seq 100); do
        pod logs cws 2> /dev/null | grep -q sleeping && break
        sleep 0.1
    done
    p logs cws
    [ "$(out)" = sleeping ] || { fail "logs: want \`sleeping\`"; r=1; }
    [ $r -eq 0 ] && p pause cws
    st=$(state cws)
    [ $r -eq 0 ] && [ "${st% *}" != paused ] && { fail "state after pause \`$st\`, want paused"; r=1; }
    [ $r -eq 0 ] && p unpause cws
    st=$(state cws)
    [ $r -eq 0 ] && [ "${st% *}" != running ] && { fail "state after unpause \`$st\`, want running"; r=1; }
    # WASI has no signal handlers: SIGTERM ends the module (143).
    [ $r -eq 0 ] && p stop -t 10 cws
    [ $r -eq 0 ] && [ "$(state cws)" != "exited 143" ] && { fail "after stop: \`$(state cws)\`, want \`exited 143\`"; r=1; }
    [ $r -eq 0 ] && p kill cwk
    [ $r -eq 0 ] && { wait_status cwk exited || { fail "not exited after kill: $(state cwk)"; r=1; }; }
    [ $r -eq 0 ] && [ "$(state cwk)" != "exited 137" ] && { fail "after kill: \`$(state cwk)\`, want \`exited 137\`"; r=1; }
    local o=$OUT
    gone cws || { gone cwk; return 1; }
    gone cwk || return
    OUT=$o
    return $r
}

http_get() {
    python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=5).read().decode())' "$1"
}

t_wasm_http() {
    [ -e "$WASM/httpd.wasm" ] || { REASON="no $CELLA_DIR/cella-bench-httpd.wasm"; return 77; }
    local port _ got=""
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    p run -d --name cw "${BASEOPTS[@]}" --network host --annotation run.cella.isolation=wasm \
        --annotation "run.cella.wasm.tcplisten=127.0.0.1:$port" --rootfs "$WASM" /httpd.wasm
    [ $RC -eq 0 ] || fail "run -d exit status $RC" || return
    for _ in $(seq 100); do
        got=$(http_get "$port" 2> /dev/null) && break
        case $(state cw) in running*) ;; *) break ;; esac
        sleep 0.1
    done
    [ -n "$got" ] || { fail "no HTTP answer on 127.0.0.1:$port ($(state cw))"; OUT=$(pod logs cw 2>&1); gone cw; return 1; }
    gone cw
}

qemu_ready() {
    { [ -e "$T/vmlinux" ] && [ -e "$T/cella-agent.cpio" ] && command -v qemu-system-x86_64 > /dev/null; } ||
        { REASON="no guest kernel (make kernel), agent initramfs (make) or qemu-system-x86_64"; return 77; }
}

t_qemu_run() {
    qemu_ready || return
    RT=$T/cella-qemu p run --rm "${RUNOPTS[@]}" --rootfs "$ROOTFS" /bin/sh -c 'echo "in $(uname -r)"; exit 3'
    [ $RC -eq 3 ] || fail "exit status $RC, want 3" || return
    { [ "$(out)" != "in $(uname -r)" ] && out | grep -q '^in '; } || fail "want \`in KERNEL\` from the guest's kernel"
}

t_qemu_lifecycle() {
    qemu_ready || return
    local RT=$T/cella-qemu r=0
    start_bg cq || { gone cq; return 1; }
    p exec cq echo hi
    if [ $RC -ne 0 ] || [ "$(out)" != hi ]; then fail "exec: exit $RC, want 0 and \`hi\`"; r=1; fi
    [ $r -eq 0 ] && p exec cq /bin/sh -c 'exit 5'
    if [ $r -eq 0 ] && [ $RC -ne 5 ]; then fail "exec exit status $RC, want 5"; r=1; fi
    [ $r -eq 0 ] && p stop -t 10 cq
    if [ $r -eq 0 ] && [ "$(state cq)" != "exited 0" ]; then fail "after stop: \`$(state cq)\`, want \`exited 0\`"; r=1; fi
    local o=$OUT
    gone cq || return
    OUT=$o
    return $r
}

t_qemu_signals() {
    qemu_ready || return
    local RT=$T/cella-qemu r=0 _ st
    p run -d --name cqs "${RUNOPTS[@]}" --rootfs "$ROOTFS" /bin/sh -c 'echo started; while :; do sleep 1; done'
    [ $RC -eq 0 ] || fail "run -d exit status $RC" || { gone cqs; return 1; }
    for _ in $(seq 100); do
        pod logs cqs 2> /dev/null | grep -q started && break
        sleep 0.1
    done
    p logs cqs
    [ "$(out)" = started ] || { fail "logs: want \`started\`"; r=1; }
    [ $r -eq 0 ] && p pause cqs
    st=$(state cqs)
    [ $r -eq 0 ] && [ "${st% *}" != paused ] && { fail "state after pause \`$st\`, want paused"; r=1; }
    [ $r -eq 0 ] && p unpause cqs
    st=$(state cqs)
    [ $r -eq 0 ] && [ "${st% *}" != running ] && { fail "state after unpause \`$st\`, want running"; r=1; }
    [ $r -eq 0 ] && p kill cqs
    [ $r -eq 0 ] && { wait_status cqs exited || { fail "not exited after kill: $(state cqs)"; r=1; }; }
    [ $r -eq 0 ] && [ "$(state cqs)" != "exited 137" ] && { fail "state \`$(state cqs)\`, want \`exited 137\`"; r=1; }
    local o=$OUT
    gone cqs || return
    OUT=$o
    return $r
}

t_qemu_limits() {
    qemu_ready || return
    local RT=$T/cella-qemu
    p run --rm "${RUNOPTS[@]}" --memory 192m --cpus 2 --rootfs "$ROOTFS" /bin/sh -c \
        'm=$(awk "/MemTotal/ { print \$2 }" /proc/meminfo); [ "$m" -gt 131072 ] && [ "$m" -le 196608 ] && echo 192m-vm; nproc'
    [ $RC -eq 0 ] || fail "exit status $RC" || return
    [ "$(out | tr '\n' ' ')" = "192m-vm 2 " ] || fail "want the guest's MemTotal in 128-192 MiB and 2 CPUs"
}

sandbox_built() {
    [ -n "$SANDBOX_BUILT" ] || { REASON="the sandbox level is not built (cella features)"; return 77; }
}
SBOPTS=("${RUNOPTS[@]}" --annotation run.cella.isolation=sandbox --rootfs "$ROOTFS")

t_sandbox_run() {
    sandbox_built || return
    # The sandbox's kernel names itself in uname's version.
    p run --rm "${SBOPTS[@]}" /bin/sh -c 'uname -v; echo one two three | wc -w; exit 4'
    [ $RC -eq 4 ] || fail "exit status $RC, want 4" || return
    [ "$(out | tr -d ' ' | tr '\n' ' ')" = "#1SMPcellasandbox 3 " ] ||
        fail "want \`#1 SMP cella sandbox\` (uname -v) and \`3\`"
}

t_sandbox_kill() {
    sandbox_built || return
    local _ r=0
    p run -d --name csb "${SBOPTS[@]}" /bin/sh -c 'echo started; while :; do sleep 1; done'
    [ $RC -eq 0 ] || fail "run -d exit status $RC" || return
    for _ in $(seq 100); do
        pod logs csb 2> /dev/null | grep -q started && break
        sleep 0.1
    done
    p logs csb
    [ "$(out)" = started ] || { fail "logs: want \`started\`"; r=1; }
    [ $r -eq 0 ] && p kill csb
    [ $r -eq 0 ] && { wait_status csb exited || { fail "not exited after kill: $(state csb)"; r=1; }; }
    [ $r -eq 0 ] && [ "$(state csb)" != "exited 137" ] && { fail "state \`$(state csb)\`, want \`exited 137\`"; r=1; }
    local o=$OUT
    gone csb || return
    OUT=$o
    return $r
}

# podman exec (conmon runs `exec -d --pid-file` and waits for that pid):
# the process runs in the sandbox, on its kernel.
t_sandbox_exec() {
    sandbox_built || return
    p run -d --name cse "${SBOPTS[@]}" /bin/sh -c 'while :; do sleep 1; done'
    [ $RC -eq 0 ] || fail "run -d exit status $RC" || return
    wait_status cse running || { fail "not running: $(state cse)"; gone cse; return 1; }
    p exec cse echo hi
    local rc=$RC o=$OUT
    gone cse || return
    OUT=$o
    { [ $rc -eq 0 ] && [ "$(printf '%s\n' "$o" | sed -e '1d' -e '$d')" = hi ]; } || fail "exec exit $rc, want 0 and \`hi\`"
}

t_sandbox_tty() {
    sandbox_built || return
    p run --rm -t "${SBOPTS[@]}" /bin/sh -c 'tty; exit 3'
    [ $RC -eq 3 ] || fail "exit status $RC, want 3" || return
    if out | grep -q 'not a tty'; then
        REASON="the sandbox level does not give the workload the terminal yet (tty: not a tty)"
        return 77
    fi
    out | grep -q '^/dev/pts/[0-9]' || fail "tty did not print /dev/pts/N"
}

t_vm() {
    local why=""
    if [ -d /sys/module/kvm_pvm ]; then why='vm level: /dev/kvm is the PVM module'; fi
    [ -e /dev/kvm ] || why='vm level: no /dev/kvm'
    [ -n "$why" ] || { REASON="this host's /dev/kvm may run the vm level (tests/integration/test_vm.sh runs it)"; return 77; }
    local RT=$T/cella-vm id
    p run --name cvm "${RUNOPTS[@]}" --rootfs "$ROOTFS" /bin/true
    id=$(pod inspect -f '{{.Id}}' cvm 2> /dev/null)
    [ $RC -ne 0 ] || { fail "podman run succeeded, want the vm level's refusal"; gone cvm; return 1; }
    { [ "$(out | grep -c 'vm level: ')" -eq 1 ] && out | grep -q "$why"; } ||
        { fail "podman does not show \`$why...\`"; gone cvm; return 1; }
    local o=$OUT
    gone cvm || return
    [ -z "$id" ] || left_nothing "$id" || return
    OUT=$o
}

for c in "${CASES[@]}"; do
    run_case "${c%%|*}" "${c##*|}"
done
echo "1..$N"
[ $FAILED -eq 0 ]
