#!/bin/bash
# shellcheck disable=SC2016 # $VARS in single quotes are for the container's shell.
# Docker drives cella: a private dockerd (Debian's docker.io) with cella's
# levels registered as runtimes in its daemon.json, `docker run
# --runtime=cella-LEVEL` of images made with `docker import` (a busybox
# rootfs, the bench's static httpd, the wasm probe module).
#
#   bash tests/integration/test_docker.sh     # CELLA=/path/to/cella to choose the binary
#
# The daemon is the test's own (scripts/dockerd.sh, shared with `cella bench
# --engine docker`): data root, exec root (runtime state, its containerd,
# netns files), pidfile, socket and cgroup parent in a temporary directory,
# never the system's. `iptables: false` and no default bridge: dockerd adds no
# firewall rule (checked: `iptables -S` is the same before and after); -p is
# served by docker-proxy on a user bridge network. Everything is stopped and
# removed at exit.
#
# Environment: CELLA, DOCKER_TIMEOUT (seconds for one docker command, default 60).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engine.sh"

TMO=${DOCKER_TIMEOUT:-60}

skip_file() {
    skip "docker: the engine starts" "$1"
    plan_done
    exit 0
}

T=$WORK/docker
IPT_BEFORE=$(iptables -S 2> /dev/null)
on_exit "dockerd_stop $T"
reason=$(dockerd_start "$T" "$CELLA" 2>&1) || skip_file "$reason"
# SOCK, NET, BRIDGE, CGPARENT, DOCKER
. "$T/env"
CELLA_DIR=$(dirname "$CELLA")
d() { timeout -k 5 "$TMO" "$DOCKER" -H "unix://$SOCK" "$@"; }
ok "docker: a private dockerd starts with cella's runtimes in its daemon.json"

# ---- images --------------------------------------------------------------------------
engine_rootfs "$T/bb"
tar -C "$T/bb" -c . | d import - cella-bb:1 > /dev/null || { echo "Bail out! docker import busybox"; exit 1; }
mkdir -p "$T/httpd/bin"
cp "$CELLA_DIR/cella-bench-httpd" "$T/httpd/bin/httpd" 2> /dev/null &&
    tar -C "$T/httpd" -c . | d import -c 'CMD ["/bin/httpd", "8080"]' - cella-httpd:1 > /dev/null
HAVE_WASM=0
mkdir -p "$T/wasm"
cp "$CELLA_DIR/cella-bench-httpd.wasm" "$T/wasm/httpd.wasm" 2> /dev/null
if engine_wasm "$T/wasm/probe.wasm"; then
    tar -C "$T/wasm" -c . | d import - cella-wasm:1 > /dev/null && HAVE_WASM=1
fi

# state NAME: "status exitcode"
state() { d inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$1" 2>&1; }
is_state() { case $(state "$1") in "$2"*) return 0 ;; esac; return 1; }
running() { is_state "$1" running; }
# logged NAME TEXT: a line of NAME's log is TEXT.
logged() { d logs "$1" 2>&1 | grep -qx "$2"; }

# A container that exits 0 on SIGTERM.
LOOP='trap "exit 0" TERM; echo started; while :; do sleep 0.1; done'

# A free TCP port on the host.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
http_get() {
    python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=5).read().decode())' "$1"
}

# ---- the checks, for one level ------------------------------------------------------
# level_checks LEVEL RUNTIME
level_checks() {
    local L=$1 R=$2 out rc c id pid port t0 ms
    out=$(d run --rm --runtime="$R" cella-bb:1 sh -c 'echo hello; exit 7' 2>&1)
    rc=$?
    if [ $rc = 7 ] && [ "$out" = hello ]; then ok "docker $L: run prints hello, exit code 7"; else
        not_ok "docker $L: run prints hello, exit code 7" "exit $rc" "$out"; fi

    c=cd-$L-$$
    d run -d --name "$c" --runtime="$R" cella-bb:1 sh -c "$LOOP" > /dev/null 2>&1
    if wait_until 30 logged "$c" started; then
        ok "docker $L: run -d, docker logs shows the output"
    else
        not_ok "docker $L: run -d, docker logs shows the output" "$(state "$c")" "$(d logs "$c" 2>&1)"
    fi
    id=$(d inspect -f '{{.Id}}' "$c" 2> /dev/null)
    # Docker gives every runtime of io.containerd.runc.v2 this --root.
    local croot=$T/exec/runtime-runc/moby
    "$CELLA" --root "$croot" state "$id" > /dev/null 2>&1 || not_ok "docker $L: cella state of a running container under $croot"
    if [ -n "${NO_EXEC:-}" ]; then
        skip "docker $L: exec" "$NO_EXEC"
    else
    out=$(d exec "$c" sh -c 'echo "in $(hostname)"; exit 5' 2>&1)
    rc=$?
    if [ $rc = 5 ] && [ "$out" = "in ${id:0:12}" ]; then ok "docker $L: exec runs in the container, exit code 5"; else
        not_ok "docker $L: exec runs in the container, exit code 5" "exit $rc" "$out"; fi

    out=$(d exec --user 1000:1000 -e BAR=baz "$c" sh -c 'echo "$(id -u) $BAR"' 2>&1)
    expect_eq "docker $L: exec --user 1000:1000 -e BAR=baz" "1000 baz" "$out"
    fi

    # The freezer of the container's cgroup (for the qemu level it holds QEMU).
    local fz=/sys/fs/cgroup/freezer/$CGPARENT/$id/freezer.state
    d pause "$c" > /dev/null 2>&1
    out="$(d inspect -f '{{.State.Paused}}' "$c" 2>&1) $(cat "$fz" 2>&1)"
    d unpause "$c" > /dev/null 2>&1
    out="$out, $(d inspect -f '{{.State.Paused}}' "$c" 2>&1) $(cat "$fz" 2>&1)"
    expect_eq "docker $L: pause freezes the container's cgroup, unpause thaws it" "true FROZEN, false THAWED" "$out"

    t0=$(date +%s%N)
    d stop -t 20 "$c" > /dev/null 2>&1
    ms=$((($(date +%s%N) - t0) / 1000000))
    # Within 20 s SIGKILL would have come: well under it means SIGTERM was handled.
    if [ -n "${NO_HANDLER:-}" ]; then skip "docker $L: stop, SIGTERM handled, exit 0" "$NO_HANDLER"
    elif [ "$(state "$c")" = "exited 0" ] && [ $ms -lt 15000 ]; then ok "docker $L: stop, SIGTERM handled, exit 0"; else
        not_ok "docker $L: stop, SIGTERM handled, exit 0" "$(state "$c") after $ms ms"; fi

    d rm "$c" > /dev/null 2>&1
    if ! d inspect "$c" > /dev/null 2>&1 && ! "$CELLA" --root "$croot" state "$id" > /dev/null 2>&1 &&
        [ -z "$(new_cgroups "$CGPARENT/$id")" ]; then
        ok "docker $L: rm removes the container (docker, cella state, cgroup)"
    else
        not_ok "docker $L: rm removes the container (docker, cella state, cgroup)" "$(new_cgroups "$CGPARENT/$id")"
    fi

    # A shell that ignores SIGTERM: SIGKILL follows.
    c=cs-$L-$$
    d run -d --name "$c" --runtime="$R" cella-bb:1 sh -c 'trap "" TERM; echo started; while :; do sleep 0.1; done' > /dev/null 2>&1
    # Once the trap is set (the qemu level runs a booted VM's shell slowly).
    wait_until 30 logged "$c" started
    d stop -t 1 "$c" > /dev/null 2>&1
    if [ -n "${NO_IGNORE:-}" ]; then
        skip "docker $L: stop -t 1 of a process ignoring SIGTERM: SIGKILL, 137" "$NO_IGNORE (got $(state "$c"))"
    else
        expect_eq "docker $L: stop -t 1 of a process ignoring SIGTERM: SIGKILL, 137" "exited 137" "$(state "$c")"
    fi
    d rm -f "$c" > /dev/null 2>&1

    c=ck-$L-$$
    d run -d --name "$c" --runtime="$R" cella-bb:1 sh -c "$LOOP" > /dev/null 2>&1
    wait_until 20 running "$c"
    d kill "$c" > /dev/null 2>&1
    wait_until 10 is_state "$c" exited
    expect_eq "docker $L: kill, exit 137" "exited 137" "$(state "$c")"
    d rm -f "$c" > /dev/null 2>&1

    c=cm-$L-$$
    if [ "$L" = qemu ]; then
        # The limits size the VM; its host cgroup gets none (docs/qemu-level.md).
        d run -d --name "$c" --runtime="$R" --memory 192m --cpus 2 cella-bb:1 sleep 1000 > /dev/null 2>&1
        wait_until 30 running "$c"
        out=$(d exec "$c" sh -c 'm=$(awk "/MemTotal/ { print \$2 }" /proc/meminfo); [ "$m" -gt 131072 ] && [ "$m" -le 196608 ] && echo 192m-vm; nproc' 2>&1 | tr '\n' ' ')
        expect_eq "docker $L: --memory 192m --cpus 2 size the VM" "192m-vm 2 " "$out"
    else
        d run -d --name "$c" --runtime="$R" --memory 64m --cpus 0.5 cella-bb:1 sleep 1000 > /dev/null 2>&1
        wait_until 20 running "$c"
        id=$(d inspect -f '{{.Id}}' "$c" 2> /dev/null)
        out="$(cat "/sys/fs/cgroup/memory/$CGPARENT/$id/memory.limit_in_bytes" 2>&1) $(cat "/sys/fs/cgroup/cpu/$CGPARENT/$id/cpu.cfs_quota_us" 2>&1)/$(cat "/sys/fs/cgroup/cpu/$CGPARENT/$id/cpu.cfs_period_us" 2>&1)"
        expect_eq "docker $L: --memory 64m --cpus 0.5 set the container's cgroup" "67108864 50000/100000" "$out"
        d update --memory 32m --memory-swap 64m "$c" > /dev/null 2>&1
        expect_eq "docker $L: update --memory 32m changes the cgroup's limit" 33554432 \
            "$(cat "/sys/fs/cgroup/memory/$CGPARENT/$id/memory.limit_in_bytes" 2>&1)"
    fi
    d rm -f "$c" > /dev/null 2>&1

    if [ -n "${NO_TTY:-}" ]; then
        skip "docker $L: run -it" "$NO_TTY"
    else
    out=$(pty_run 30 'tty; echo in-$((6*7)); exit 3
' "$DOCKER" -H "unix://$SOCK" run -it --rm --runtime="$R" cella-bb:1 sh 2>&1)
    rc=$?
    if [ $rc = 3 ] && printf '%s\n' "$out" | grep -q '^/dev/pts/[0-9]' && printf '%s\n' "$out" | grep -q '^in-42$'; then
        ok "docker $L: run -it, a shell on a terminal reads the typed line, exit 3"
    else
        not_ok "docker $L: run -it, a shell on a terminal reads the typed line, exit 3" "exit $rc" "$out"
    fi
    fi

    if [ -n "${NO_PUBLISH:-}" ]; then
        skip "docker $L: -p publishes the httpd's port" "$NO_PUBLISH"
        return
    fi
    if ! d image inspect cella-httpd:1 > /dev/null 2>&1 || ! d network inspect "$NET" > /dev/null 2>&1; then
        skip "docker $L: -p publishes the httpd's port" "no httpd image or bridge network"
        return
    fi
    c=cp-$L-$$
    port=$(free_port)
    d run -d --name "$c" --runtime="$R" --network "$NET" -p "127.0.0.1:$port:8080" cella-httpd:1 > /dev/null 2>&1
    if wait_until 30 http_get "$port"; then ok "docker $L: -p publishes the httpd's port (HTTP through it)"; else
        not_ok "docker $L: -p publishes the httpd's port (HTTP through it)" "$(state "$c")" "$(d logs "$c" 2>&1)"; fi
    d stop "$c" > /dev/null 2>&1
    expect_eq "docker $L: the httpd ends with 0 on docker stop" "exited 0" "$(state "$c")"
    d rm -f "$c" > /dev/null 2>&1
}

level_checks container cella

# Docker maps a runtime's error text to run's exit status (127: not found,
# 126: not executable): cella's must give the same as runc's.
if command -v runc > /dev/null; then
    for r in runc cella; do
        d run -d --name "ce-$r-$$" --runtime="$r" cella-bb:1 sleep 1000 > /dev/null 2>&1
        d run --rm --runtime="$r" cella-bb:1 /nosuch > /dev/null 2>&1
        got="$? "
        d run --rm --runtime="$r" cella-bb:1 /etc > /dev/null 2>&1
        got="$got$? "
        d exec "ce-$r-$$" /nosuch > /dev/null 2>&1
        got="$got$?"
        d rm -f "ce-$r-$$" > /dev/null 2>&1
        eval "codes_$r=\$got"
    done
    # shellcheck disable=SC2154 # set by the eval above
    expect_eq "docker container: run of a missing / a non-executable program, exec of a missing one: runc's exit codes ($codes_runc)" \
        "$codes_runc" "$codes_cella"
else
    skip "docker container: the exit codes of a program not found are runc's" "runc not installed"
fi

if [ -e "$T/vmlinux" ] && [ -e "$T/cella-agent.cpio" ] && command -v qemu-system-x86_64 > /dev/null; then
    level_checks qemu cella-qemu
else
    skip "docker qemu: the level's checks" "no guest kernel (make kernel), agent initramfs or qemu-system-x86_64"
fi

# The levels built: "run.cella.levels": "container, sandbox, ... (built); vm (planned)".
if "$CELLA" features 2> /dev/null | grep -o '"run.cella.levels": "[^(]*(built)' | grep -qw sandbox; then
    NO_EXEC="exec --user (another user than the init's) is refused at the sandbox level" \
        NO_TTY="the sandbox level does not give the workload the terminal yet (tty: not a tty)" \
        level_checks sandbox cella-sandbox
fi

if [ $HAVE_WASM = 1 ]; then
    out=$(d run --rm --runtime=cella-wasm cella-wasm:1 /probe.wasm args one two 2>&1)
    rc=$?
    expect_eq "docker wasm: run of a module, its arguments and output" "0 argv[0]=/probe.wasm argv[1]=args argv[2]=one argv[3]=two" "$rc $(printf '%s' "$out" | tr '\n' ' ' | sed 's/ $//')"
    out=$(d run --rm --runtime=cella-wasm cella-wasm:1 /probe.wasm exit 9 2>&1)
    expect_eq "docker wasm: the module's exit code is docker run's" 9 $?
    if [ -e "$T/wasm/httpd.wasm" ] && d network inspect "$NET" > /dev/null 2>&1; then
        # Docker 20.10 passes no annotations: the listening socket is asked for
        # in the environment.
        c=cw-$$
        port=$(free_port)
        d run -d --name "$c" --runtime=cella-wasm --network "$NET" -e CELLA_WASM_TCPLISTEN=0.0.0.0:8080 \
            -p "127.0.0.1:$port:8080" cella-wasm:1 /httpd.wasm > /dev/null 2>&1
        if wait_until 30 http_get "$port"; then ok "docker wasm: -p publishes httpd.wasm's port (-e CELLA_WASM_TCPLISTEN)"; else
            not_ok "docker wasm: -p publishes httpd.wasm's port (-e CELLA_WASM_TCPLISTEN)" "$(state "$c")" "$(d logs "$c" 2>&1)"; fi
        d stop "$c" > /dev/null 2>&1
        # The engine ends the module on SIGTERM with the shell's status for it.
        expect_eq "docker wasm: docker stop ends the module, 143" "exited 143" "$(state "$c")"
        d rm -f "$c" > /dev/null 2>&1
    else
        skip "docker wasm: -p publishes httpd.wasm's port" "no build/cella-bench-httpd.wasm or bridge network"
    fi
    # A module that sleeps: logs, the cgroup's limits, pause, kill, rm.
    c=cwl-$$
    d run -d --name "$c" --runtime=cella-wasm --memory 64m --cpus 0.5 cella-wasm:1 /probe.wasm sleep 1000 > /dev/null 2>&1
    if wait_until 30 logged "$c" sleeping; then ok "docker wasm: run -d, docker logs shows the module's output"; else
        not_ok "docker wasm: run -d, docker logs shows the module's output" "$(state "$c")" "$(d logs "$c" 2>&1)"; fi
    id=$(d inspect -f '{{.Id}}' "$c" 2> /dev/null)
    out="$(cat "/sys/fs/cgroup/memory/$CGPARENT/$id/memory.limit_in_bytes" 2>&1) $(cat "/sys/fs/cgroup/cpu/$CGPARENT/$id/cpu.cfs_quota_us" 2>&1)/$(cat "/sys/fs/cgroup/cpu/$CGPARENT/$id/cpu.cfs_period_us" 2>&1)"
    expect_eq "docker wasm: --memory 64m --cpus 0.5 set the container's cgroup" "67108864 50000/100000" "$out"
    fz=/sys/fs/cgroup/freezer/$CGPARENT/$id/freezer.state
    d pause "$c" > /dev/null 2>&1
    out="$(d inspect -f '{{.State.Paused}}' "$c" 2>&1) $(cat "$fz" 2>&1)"
    d unpause "$c" > /dev/null 2>&1
    out="$out, $(d inspect -f '{{.State.Paused}}' "$c" 2>&1) $(cat "$fz" 2>&1)"
    expect_eq "docker wasm: pause freezes the container's cgroup, unpause thaws it" "true FROZEN, false THAWED" "$out"
    # exec runs a native program; a module is not one (the image holds no other).
    out=$(d exec "$c" /probe.wasm args 2>&1)
    expect_match "docker wasm: exec of a module is refused (exec format error, 126)" "^126 .*[Ee]xec format error" "$? $out"
    d kill "$c" > /dev/null 2>&1
    wait_until 10 is_state "$c" exited
    expect_eq "docker wasm: kill, exit 137" "exited 137" "$(state "$c")"
    d rm "$c" > /dev/null 2>&1
    if ! d inspect "$c" > /dev/null 2>&1 && [ -z "$(new_cgroups "$CGPARENT/$id")" ]; then
        ok "docker wasm: rm removes the container (docker, cgroup)"
    else
        not_ok "docker wasm: rm removes the container (docker, cgroup)" "$(new_cgroups "$CGPARENT/$id")"
    fi
    # Docker makes a terminal for the container (the module gets its stdio).
    out=$(pty_run 30 '' "$DOCKER" -H "unix://$SOCK" run -it --rm --runtime=cella-wasm cella-wasm:1 /probe.wasm exit 3 2>&1)
    expect_eq "docker wasm: run -it (stdio on a terminal): runs, exit code 3" 3 $?
else
    skip "docker wasm: the level's checks" "no C to wasm32-wasi toolchain (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)"
fi

# ---- nothing left ----------------------------------------------------------------------
dockerd_stop "$T"
left=""
[ -n "$(our_pids "$T/")" ] && left="$left processes:$(our_pids "$T/" | tr '\n' ' ')"
[ -n "$(awk -v t="$T/" 'index($5, t) == 1' /proc/self/mountinfo)" ] && left="$left mounts"
[ -n "$(new_cgroups "$CGPARENT")" ] && left="$left cgroups:$(new_cgroups "$CGPARENT" | head -3)"
ip link show "$BRIDGE" > /dev/null 2>&1 && left="$left bridge $BRIDGE"
[ "$(iptables -S 2> /dev/null)" = "$IPT_BEFORE" ] || left="$left iptables rules"
expect_eq "docker: after the daemon's stop nothing is left (processes, mounts, cgroups, bridge, iptables)" "" "$left"
plan_done
