#!/bin/bash
# shellcheck disable=SC2016 # $VARS in single quotes are for the container's shell.
# containerd drives cella: a private containerd (Debian's containerd 1.6)
# with its runc v2 shim (io.containerd.runc.v2) running cella, driven by
# `ctr run --runc-binary CELLA --rootfs DIR`. The level comes from the binary's
# name (cella-qemu) or from the annotation run.cella.isolation, which ctr
# passes through to config.json (--annotation).
#
#   bash tests/integration/test_containerd.sh   # CELLA=/path/to/cella to choose the binary
#
# The daemon is the test's own: root, state, sockets (config.toml in a
# temporary directory), its CRI plugin disabled (no CNI, no /etc/cni), the
# shims' cella --root and the cgroups (--cgroup /cella-ctr-PID/ID) private.
# ctr has no port publishing: the httpd is reached on the host network
# (--net-host). Everything is stopped and removed at exit.
#
# Environment: CELLA, CTR_TIMEOUT (seconds for one ctr command, default 60).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engine.sh"

TMO=${CTR_TIMEOUT:-60}
CONTAINERD=$(command -v containerd)
CTR=$(command -v ctr)

skip_file() {
    skip "containerd: the engine starts" "$1"
    plan_done
    exit 0
}
[ -n "$CONTAINERD" ] || skip_file "containerd not installed (apt-get install containerd)"
[ -n "$CTR" ] || skip_file "ctr not installed (apt-get install containerd)"
command -v containerd-shim-runc-v2 > /dev/null || skip_file "containerd-shim-runc-v2 not installed"

T=$WORK/containerd
mkdir -p "$T"
SOCK=$T/containerd.sock
CGPARENT=cella-ctr-$$
CROOT=$T/cella-root
# The shim runs cella with --root RUNC-ROOT/NAMESPACE.
CSTATE=$CROOT/cella-test
CELLA_DIR=$(dirname "$CELLA")
ln -sf "$CELLA" "$T/cella-qemu"
for f in vmlinux cella-agent.cpio; do
    [ -e "$CELLA_DIR/$f" ] && ln -sf "$(readlink -f "$CELLA_DIR/$f")" "$T/$f"
done
cat > "$T/config.toml" << EOF
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
EOF

NEW_DIRS=()
[ -e /run/containerd ] || NEW_DIRS+=(/run/containerd)

c() { timeout -k 5 "$TMO" "$CTR" -a "$SOCK" -n cella-test "$@"; }

stop_daemon() {
    local t
    if [ -n "${DPID:-}" ] && kill -0 "$DPID" 2> /dev/null; then
        for t in $(c task ls -q 2> /dev/null); do c task kill -s SIGKILL "$t"; done > /dev/null 2>&1
        for t in $(c container ls -q 2> /dev/null); do
            wait_until 10 sh -c "! $CTR -a $SOCK -n cella-test task ls -q | grep -qx $t"
            c task rm -f "$t"
            c container rm "$t"
        done > /dev/null 2>&1
        kill -TERM "$DPID"
        wait_until 20 sh -c "! kill -0 $DPID" || kill -9 "$DPID"
    fi
    kill_ours "$T/"
    umount_under "$T/"
    rm_cgroups "$CGPARENT"
    for d in "${NEW_DIRS[@]}"; do rm -rf "$d"; done
    return 0
}
on_exit stop_daemon

"$CONTAINERD" --config "$T/config.toml" > "$T/containerd.log" 2>&1 &
DPID=$!
wait_until 30 c version ||
    skip_file "containerd did not start: $(grep -a -m1 -i 'level=fatal\|error' "$T/containerd.log")"
ok "containerd: a private containerd starts"

engine_rootfs "$T/bb"
HAVE_WASM=0
engine_wasm "$T/bb/probe.wasm" && HAVE_WASM=1
mkdir -p "$T/httpd/bin" "$T/httpd/proc" "$T/httpd/dev"
cp "$CELLA_DIR/cella-bench-httpd" "$T/httpd/bin/httpd" 2> /dev/null

# run_ctr ID LEVEL-OPTIONS... -- ARGS: ctr run with cella as the shim's runtime.
# LEVEL-OPTIONS (the binary, annotations) are in the array LOPTS.
LOPTS=()
crun_() {
    local id=$1
    shift
    c run --runtime io.containerd.runc.v2 --runc-root "$CROOT" --cgroup "/$CGPARENT/$id" "${LOPTS[@]}" "$@"
}
task_status() { c task ls 2> /dev/null | awk -v t="$1" '$1 == t { print $3 }'; }
is_status() { [ "$(task_status "$1")" = "$2" ]; }
remove() { c task rm -f "$1" > /dev/null 2>&1; c container rm "$1" > /dev/null 2>&1; }
logged() { grep -qx "$2" "$1" 2> /dev/null; }
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
http_get() {
    python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=5).read().decode())' "$1"
}

LOOP='trap "exit 0" TERM; echo started; while :; do sleep 0.1; done'

# level_checks LEVEL: with LOPTS set for it.
level_checks() {
    local L=$1 out rc id port bg
    id=cr-$L-$$
    out=$(crun_ "$id" --rm --rootfs "$T/bb" "$id" sh -c 'echo hello; exit 7' 2>&1)
    rc=$?
    expect_eq "containerd $L: ctr run prints hello, exit code 7" "7 hello" "$rc $out"

    id=cd-$L-$$
    crun_ "$id" --rootfs "$T/bb" "$id" sh -c "$LOOP" > "$T/$id.out" 2>&1 &
    bg=$!
    wait_until 30 logged "$T/$id.out" started
    if [ -n "${NO_EXEC:-}" ]; then
        skip "containerd $L: task exec" "$NO_EXEC"
    else
        # The level, as the workload sees it: the host's kernel or a VM's.
        out=$(c task exec --exec-id e0 "$id" cat /proc/sys/kernel/osrelease 2>&1)
        if [ "$L" = container ]; then
            expect_eq "containerd $L: the workload runs on the host's kernel" "$(uname -r)" "$out"
        else
            expect_match "containerd $L: the workload runs on a guest kernel" "^[0-9]" "$out"
            [ "$out" != "$(uname -r)" ] || not_ok "containerd $L: the guest kernel is not the host's ($out)"
        fi
        out=$(c task exec --exec-id e1 "$id" sh -c 'test -e /bin/busybox && echo exec; exit 5' 2>&1)
        rc=$?
        expect_eq "containerd $L: task exec runs in the container, exit code 5" "5 exec" "$rc $out"
    fi
    local fz=/sys/fs/cgroup/freezer/$CGPARENT/$id/freezer.state
    c task pause "$id" > /dev/null 2>&1
    out="$(task_status "$id") $(cat "$fz" 2>&1)"
    c task resume "$id" > /dev/null 2>&1
    out="$out, $(task_status "$id") $(cat "$fz" 2>&1)"
    expect_eq "containerd $L: task pause freezes the cgroup, resume thaws it" "PAUSED FROZEN, RUNNING THAWED" "$out"
    c task kill "$id" > /dev/null 2>&1
    wait "$bg"
    rc=$?
    if [ -n "${NO_HANDLER:-}" ]; then
        skip "containerd $L: task kill (SIGTERM) handled, ctr run's status 0" "$NO_HANDLER (status $rc)"
    else
        expect_eq "containerd $L: task kill (SIGTERM) handled, ctr run's status 0" 0 $rc
    fi
    remove "$id"
    out=""
    "$CELLA" --root "$CSTATE" state "$id" > /dev/null 2>&1 && out="$out cella-state"
    [ -n "$(new_cgroups "$CGPARENT/$id")" ] && out="$out cgroup"
    expect_eq "containerd $L: task rm + container rm leave no cella state, no cgroup" "" "$out"

    id=ck-$L-$$
    crun_ "$id" --rootfs "$T/bb" "$id" sh -c "$LOOP" > "$T/$id.out" 2>&1 &
    bg=$!
    wait_until 30 logged "$T/$id.out" started
    c task kill -s SIGKILL "$id" > /dev/null 2>&1
    wait "$bg"
    expect_eq "containerd $L: task kill -s SIGKILL, ctr run's status 137" 137 $?
    remove "$id"

    id=cm-$L-$$
    if [ "$L" = qemu ]; then
        crun_ "$id" --rm --memory-limit 201326592 --cpus 2 --rootfs "$T/bb" "$id" sh -c \
            'm=$(awk "/MemTotal/ { print \$2 }" /proc/meminfo); [ "$m" -gt 131072 ] && [ "$m" -le 196608 ] && echo 192m-vm; nproc' > "$T/$id.out" 2>&1
        expect_eq "containerd $L: --memory-limit 192 MiB --cpus 2 size the VM" "192m-vm 2" "$(tr '\n' ' ' < "$T/$id.out" | sed 's/ $//')"
    else
        crun_ "$id" -d --memory-limit 67108864 --cpus 0.5 --rootfs "$T/bb" "$id" sleep 1000 > /dev/null 2>&1
        out="$(cat "/sys/fs/cgroup/memory/$CGPARENT/$id/memory.limit_in_bytes" "/sys/fs/cgroup/cpu/$CGPARENT/$id/cpu.cfs_quota_us" 2>&1 | tr '\n' ' ')"
        c task kill -s SIGKILL "$id" > /dev/null 2>&1
        wait_until 10 is_status "$id" STOPPED
        remove "$id"
        expect_eq "containerd $L: --memory-limit 64 MiB --cpus 0.5 set the container's cgroup" "67108864 50000 " "$out"
    fi

    if [ -n "${NO_TTY:-}" ]; then
        skip "containerd $L: ctr run -t" "$NO_TTY"
    else
        id=ct-$L-$$
        out=$(pty_run 30 'tty; echo in-$((6*7)); exit 3
' "$CTR" -a "$SOCK" -n cella-test run -t --rm --runtime io.containerd.runc.v2 --runc-root "$CROOT" \
            --cgroup "/$CGPARENT/$id" "${LOPTS[@]}" --rootfs "$T/bb" "$id" sh 2>&1)
        rc=$?
        if [ $rc = 3 ] && printf '%s\n' "$out" | grep -q '^/dev/pts/[0-9]' && printf '%s\n' "$out" | grep -q '^in-42$'; then
            ok "containerd $L: ctr run -t, a shell on a terminal reads the typed line, exit 3"
        else
            not_ok "containerd $L: ctr run -t, a shell on a terminal reads the typed line, exit 3" "exit $rc" "$out"
        fi
        remove "$id"
    fi

    if [ -n "${NO_NET:-}" ]; then
        skip "containerd $L: the httpd on the host network" "$NO_NET"
        return
    fi
    id=ch-$L-$$
    port=$(free_port)
    crun_ "$id" -d --net-host --rootfs "$T/httpd" "$id" /bin/httpd "$port" > /dev/null 2>&1
    if wait_until 30 http_get "$port"; then ok "containerd $L: the httpd serves on the host network (--net-host)"; else
        not_ok "containerd $L: the httpd serves on the host network (--net-host)" "$(task_status "$id")"; fi
    c task kill -s SIGKILL "$id" > /dev/null 2>&1
    wait_until 10 is_status "$id" STOPPED
    remove "$id"
}

LOPTS=(--runc-binary "$CELLA")
level_checks container

if [ -e "$T/vmlinux" ] && [ -e "$T/cella-agent.cpio" ] && command -v qemu-system-x86_64 > /dev/null; then
    LOPTS=(--runc-binary "$T/cella-qemu")
    NO_NET="a VM has its own network stack: the host network is not the VM's" \
        level_checks qemu
    # The annotation chooses the level whatever the binary's name.
    id=ca-$$
    out=$(c run --rm --runtime io.containerd.runc.v2 --runc-root "$CROOT" --cgroup "/$CGPARENT/$id" \
        --runc-binary "$CELLA" --annotation run.cella.isolation=qemu --rootfs "$T/bb" "$id" \
        sh -c 'grep -q "^processor" /proc/cpuinfo && cat /proc/sys/kernel/osrelease; exit 4' 2>&1)
    rc=$?
    # The guest kernel is cella's own build, not the host's.
    if [ $rc = 4 ] && [ -n "$out" ] && [ "$out" != "$(uname -r)" ]; then
        ok "containerd: --annotation run.cella.isolation=qemu boots a VM (guest kernel $out), exit 4"
    else
        not_ok "containerd: --annotation run.cella.isolation=qemu boots a VM, exit 4" "exit $rc" "$out"
    fi
else
    skip "containerd qemu: the level's checks" "no guest kernel (make kernel), agent initramfs or qemu-system-x86_64"
fi

# The levels built: "run.cella.levels": "container, sandbox, ... (built); vm (planned)".
if "$CELLA" features 2> /dev/null | grep -o '"run.cella.levels": "[^(]*(built)' | grep -qw sandbox; then
    LOPTS=(--runc-binary "$CELLA" --annotation run.cella.isolation=sandbox)
    NO_EXEC="exec --user (another user than the init's) is refused at the sandbox level" \
        NO_TTY="the sandbox level does not give the workload the terminal yet" \
        level_checks sandbox
fi

if [ $HAVE_WASM = 1 ]; then
    id=cw-$$
    out=$(c run --rm --runtime io.containerd.runc.v2 --runc-root "$CROOT" --cgroup "/$CGPARENT/$id" \
        --runc-binary "$CELLA" --annotation run.cella.isolation=wasm --rootfs "$T/bb" "$id" \
        /probe.wasm exit 9 2>&1)
    expect_eq "containerd wasm: --annotation run.cella.isolation=wasm runs the module, its exit code" 9 $?
    out=$(c run --rm --runtime io.containerd.runc.v2 --runc-root "$CROOT" --cgroup "/$CGPARENT/$id" \
        --runc-binary "$CELLA" --annotation run.cella.isolation=wasm --rootfs "$T/bb" "$id" \
        /probe.wasm args one 2>&1)
    expect_eq "containerd wasm: the module's output" "argv[0]=/probe.wasm argv[1]=args argv[2]=one" "$(printf '%s' "$out" | tr '\n' ' ' | sed 's/ $//')"
    # A module that sleeps: its cgroup's limits, pause, SIGTERM, SIGKILL, rm.
    LOPTS=(--runc-binary "$CELLA" --annotation run.cella.isolation=wasm)
    id=cwl-$$
    crun_ "$id" --memory-limit 67108864 --cpus 0.5 --rootfs "$T/bb" "$id" /probe.wasm sleep 1000 > "$T/$id.out" 2>&1 &
    bg=$!
    wait_until 30 logged "$T/$id.out" sleeping
    out="$(cat "/sys/fs/cgroup/memory/$CGPARENT/$id/memory.limit_in_bytes" "/sys/fs/cgroup/cpu/$CGPARENT/$id/cpu.cfs_quota_us" 2>&1 | tr '\n' ' ')"
    expect_eq "containerd wasm: --memory-limit 64 MiB --cpus 0.5 set the container's cgroup" "67108864 50000 " "$out"
    fz=/sys/fs/cgroup/freezer/$CGPARENT/$id/freezer.state
    c task pause "$id" > /dev/null 2>&1
    out="$(task_status "$id") $(cat "$fz" 2>&1)"
    c task resume "$id" > /dev/null 2>&1
    out="$out, $(task_status "$id") $(cat "$fz" 2>&1)"
    expect_eq "containerd wasm: task pause freezes the cgroup, resume thaws it" "PAUSED FROZEN, RUNNING THAWED" "$out"
    # exec runs a native program; a module is not one.
    out=$(c task exec --exec-id e0 "$id" /probe.wasm args 2>&1)
    expect_match "containerd wasm: task exec of a module is refused (exec format error)" "[Ee]xec format error" "$? $out"
    # WASI has no signal handlers: SIGTERM ends the module (the shell's 143).
    c task kill "$id" > /dev/null 2>&1
    wait "$bg"
    expect_eq "containerd wasm: task kill (SIGTERM) ends the module, ctr run's status 143" 143 $?
    remove "$id"
    out=""
    "$CELLA" --root "$CSTATE" state "$id" > /dev/null 2>&1 && out="$out cella-state"
    [ -n "$(new_cgroups "$CGPARENT/$id")" ] && out="$out cgroup"
    expect_eq "containerd wasm: task rm + container rm leave no cella state, no cgroup" "" "$out"
    id=cwk-$$
    crun_ "$id" --rootfs "$T/bb" "$id" /probe.wasm sleep 1000 > "$T/$id.out" 2>&1 &
    bg=$!
    wait_until 30 logged "$T/$id.out" sleeping
    c task kill -s SIGKILL "$id" > /dev/null 2>&1
    wait "$bg"
    expect_eq "containerd wasm: task kill -s SIGKILL, ctr run's status 137" 137 $?
    remove "$id"
else
    skip "containerd wasm: the level's checks" "no C to wasm32-wasi toolchain"
fi

stop_daemon
left=""
[ -n "$(our_pids "$T/")" ] && left="$left processes:$(our_pids "$T/" | tr '\n' ' ')"
[ -n "$(awk -v t="$T/" 'index($5, t) == 1' /proc/self/mountinfo)" ] && left="$left mounts"
[ -n "$(new_cgroups "$CGPARENT")" ] && left="$left cgroups:$(new_cgroups "$CGPARENT" | head -3)"
expect_eq "containerd: after the daemon's stop nothing is left (processes, mounts, cgroups)" "" "$left"
plan_done
