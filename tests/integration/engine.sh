# shellcheck shell=bash
# Pieces shared by the tests that drive cella through a container engine
# (test_docker.sh, test_containerd.sh); sourced after lib.sh.
#
#   engine_rootfs DIR        busybox rootfs (static busybox and its applets)
#   engine_wasm OUT          tests/wasm/probe.c built for wasm32-wasi (1 if no toolchain)
#   pty_run SECS TEXT CMD... CMD on a pseudo-terminal, TEXT typed into it;
#                            prints what the terminal showed, exits with CMD's status
#   wait_until, our_pids, kill_ours, umount_under, new_cgroups, rm_cgroups, and
#   dockerd_start / dockerd_stop (a private dockerd): scripts/dockerd.sh

# shellcheck source=../../scripts/dockerd.sh
. "$REPO_ROOT/scripts/dockerd.sh"

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
