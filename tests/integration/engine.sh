# shellcheck shell=bash
# Pieces shared by the tests that drive cella through a container engine
# (test_docker.sh, test_containerd.sh); sourced after lib.sh.
#
#   engine_rootfs DIR        busybox rootfs (static busybox and its applets)
#   engine_wasm OUT          tests/wasm/probe.c built for wasm32-wasi (1 if no toolchain)
#   pty_run SECS TEXT CMD... CMD on a pseudo-terminal, TEXT typed into it;
#                            prints what the terminal showed, exits with CMD's status
#   wait_until SECS CMD...   polls CMD every 0.1 s until it succeeds (1 on timeout)
#   our_pids DIR             processes whose command line names DIR
#   kill_ours DIR            SIGKILL them (what outlived the engine's shutdown)
#   umount_under DIR         lazy-unmount everything mounted below DIR
#   new_cgroups NAME         the cgroup directories NAME that exist now (one a line)

engine_rootfs() {
    local dir=$1 a
    mkdir -p "$dir"/{bin,dev,proc,sys,tmp,etc}
    cp "$BUSYBOX" "$dir/bin/busybox"
    for a in $("$BUSYBOX" --list); do
        [ -e "$dir/bin/$a" ] || ln -s busybox "$dir/bin/$a"
    done
}

engine_wasm() {
    clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$1" "$REPO_ROOT/tests/wasm/probe.c" 2> /dev/null
}

pty_run() {
    local secs=$1 text=$2
    shift 2
    timeout -k 2 "$secs" python3 -c '
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
os.write(fd, sys.argv[1].encode())
out = b""
while True:
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.exit(os.waitstatus_to_exitcode(st))' "$text" "$@"
}

wait_until() {
    local secs=$1 _
    shift
    for _ in $(seq $((secs * 10))); do
        "$@" > /dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

our_pids() {
    local p
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = $$ ] && continue
        grep -qaF "$1" "$p/cmdline" 2> /dev/null && echo "${p#/proc/}"
    done
}

kill_ours() {
    local pids _
    for _ in 1 2 3 4 5; do
        pids=$(our_pids "$1")
        [ -z "$pids" ] && return 0
        # shellcheck disable=SC2086
        kill -9 $pids 2> /dev/null
        sleep 0.2
    done
}

umount_under() {
    awk -v t="$1" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" 2> /dev/null; done
}

new_cgroups() {
    local d
    for d in /sys/fs/cgroup/"$1" /sys/fs/cgroup/*/"$1"; do
        [ -d "$d" ] && echo "$d"
    done
}

# rm_cgroups NAME: remove the cgroup trees NAME (deepest first, while empty).
rm_cgroups() {
    local d
    for d in $(new_cgroups "$1"); do
        find "$d" -depth -type d -exec rmdir {} \; 2> /dev/null
    done
}
