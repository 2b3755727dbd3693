#!/bin/bash
# The level interface (docs/levels.md): each level's check() refuses a
# bundle before anything exists (not even the --root directory), with one
# line naming the thing; the wasm level's check resolves the module in the
# rootfs as the container will (not through the host, not when a mount
# provides it); `cella features` carries every level's annotations; the
# wasm level's pre-credentials hook binds its annotation's sockets with the
# init's privileges, and the workload still runs with its own credentials;
# exec is the level's own and runs without the state lock.
source "$(dirname "$0")/lib.sh"

B=$WORK/bundle
make_bundle "$B"
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# refused NAME ERE [ENV=VALUE...] -- CELLA-ARGS...: `create` with a --root
# that does not exist yet fails with one stderr line matching ERE, and the
# root was never made (no state directory, `list` empty).
refused() {
    local name=$1 re=$2 envs=() fresh id rc err
    shift 2
    while [ "$1" != -- ]; do
        envs+=("$1")
        shift
    done
    shift
    fresh=$WORK/fresh-root.$RANDOM
    id=$(newid ref)
    # stderr to a file: a create that wrongly succeeds leaves a process holding it.
    timeout -k 2 "$CELLA_TIMEOUT" env "${envs[@]}" "$CELLA" --root "$fresh" "$@" \
        create --bundle "$B" "$id" > /dev/null 2> "$WORK/refused.err"
    rc=$?
    err=$(cat "$WORK/refused.err")
    if [ $rc -eq 0 ] || [ "$(printf '%s\n' "$err" | wc -l)" != 1 ] ||
        ! printf '%s' "$err" | grep -Eq -- "$re"; then
        not_ok "$name: one line" "exit $rc" "expected: $re" "stderr: $err"
    else
        ok "$name: one line"
    fi
    local listed
    listed=$(timeout 5 "$CELLA" --root "$fresh" list --quiet 2>/dev/null)
    if [ -e "$fresh" ] || [ -n "$listed" ]; then
        not_ok "$name: refused before anything exists" "$(find "$fresh" 2>&1 | head -5)" "list: $listed"
    else
        ok "$name: refused before anything exists"
    fi
    timeout 5 "$CELLA" --root "$fresh" delete --force "$id" > /dev/null 2>&1
    assert_clean "$name: no cgroup or process" "$id"
    rm -rf "$fresh"
}

# ---- container level --------------------------------------------------------------------
reset
cfg "$B" "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='mount']"
refused "container: masked paths without a mount namespace" "linux.maskedPaths: needs a mount namespace" --
reset
cfg "$B" "c['process']['terminal']=True"
refused "container: a terminal without --console-socket" "process.terminal is true: use --console-socket" --
reset
cfg "$B" "c['process']['args']=[]"
refused "container: empty process.args" "process.args: must not be empty" --
reset
cfg "$B" "c['root']['path']='no-such-rootfs'"
refused "container: a missing rootfs" "root.path: .*no-such-rootfs.*No such file" --

# ---- wasm level: the module in the rootfs -----------------------------------------------
reset
cfg "$B" "c['process']['args']=['/missing.wasm']"
refused "wasm (by args[0]): a missing module" "process.args\[0\]: module ./missing.wasm. in the rootfs: No such file" --
mkdir -p "$B/rootfs/dir.wasm"
cfg "$B" "c['process']['args']=['/dir.wasm']"
refused "wasm: a directory is not a module" "process.args\[0\]: module ./dir.wasm. in the rootfs: Is a directory" --
# An absolute symlink resolves inside the rootfs, as in the container: a
# file of the host it would name on the host does not count.
echo "host file" > "$WORK/host.wasm"
ln -sf "$WORK/host.wasm" "$B/rootfs/escape.wasm"
cfg "$B" "c['process']['args']=['/escape.wasm']"
refused "wasm: a symlink is resolved in the rootfs" "module ./escape.wasm. in the rootfs: No such file" --
cfg "$B" "c['process']['args']=['nope.wasm']"
refused "wasm: a bare name is looked for on the process's PATH" "module .nope.wasm. not found in .PATH of the rootfs" --
reset
cfg "$B" "c['process']['args']=['/missing']" "c['annotations']={'module.wasm.image/variant':'compat'}"
refused "wasm (by crun's annotation): a missing module" "module ./missing. in the rootfs" --

# ---- qemu level ---------------------------------------------------------------------------
reset
cfg "$B" "c['process']['terminal']=True"
refused "qemu: a detached terminal without --console-socket" "process.terminal is true: use --console-socket" -- --isolation qemu
reset
refused "qemu: no QEMU on PATH" "qemu-system-x86_64 not found" PATH=/nonexistent -- --isolation qemu
if command -v qemu-system-x86_64 > /dev/null; then
    refused "qemu: a missing guest kernel" "guest kernel ./nonexistent. \(from .CELLA_KERNEL\)" \
        CELLA_KERNEL=/nonexistent -- --isolation qemu
    cfg "$B" "c['annotations']={'run.cella.qemu.ports':'tcp:99999:80'}"
    refused "qemu: a bad port annotation" "annotation run.cella.qemu.ports: .tcp:99999:80." \
        CELLA_KERNEL=/dev/null CELLA_AGENT_INITRD=/dev/null -- --isolation qemu
else
    skip "qemu: a missing guest kernel" "qemu-system-x86_64 is not installed"
fi

# ---- features: every level's annotations, from the level ----------------------------------
got=$("$CELLA" features | python3 -c 'import json, sys
a = json.load(sys.stdin)["annotations"]
print(" ".join(k for k in ["run.cella.isolation", "run.cella.levels", "module.wasm.image/variant",
    "run.cella.wasm.tcplisten", "run.cella.qemu.ports", "run.cella.qemu.boot-timeout"] if k in a))' 2>&1)
expect_eq "features: the common and each level's annotations" \
    "run.cella.isolation run.cella.levels module.wasm.image/variant run.cella.wasm.tcplisten run.cella.qemu.ports run.cella.qemu.boot-timeout" \
    "$got"

# ---- wasm level: a module from a mount, the pre-credentials hook, exec ---------------------
WASI_CC=(clang --target=wasm32-wasi --sysroot=/usr)
if ! echo 'int main(void){return 0;}' | "${WASI_CC[@]}" -x c -o "$WORK/t.wasm" - 2> /dev/null; then
    skip "wasm level: modules run" "no C to wasm32-wasi toolchain (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)"
    plan_done
    exit 0
fi
PROBE=$WORK/probe.wasm
"${WASI_CC[@]}" -O2 -o "$PROBE" "$REPO_ROOT/tests/wasm/probe.c" || { echo "Bail out! probe.wasm"; exit 1; }

# A module that a mount of the spec provides is not refused up front.
mkdir -p "$WORK/mod" "$B/rootfs/app"
cp "$PROBE" "$WORK/mod/probe.wasm"
reset
cfg "$B" "c['process']['args']=['/app/probe.wasm','exit','3']" \
    "c['mounts'].append({'destination':'/app','type':'bind','source':'$WORK/mod','options':['rbind','ro']})"
id=$(newid mnt)
cella run --bundle "$B" "$id" > "$WORK/mnt.out" 2>&1
expect_eq "wasm: a module from a bind mount runs (its exit code)" 3 $?
assert_clean "... and nothing is left" "$id"

# The sockets of run.cella.wasm.tcplisten are bound before credentials and
# capabilities are applied: port 80 for a uid-1000 process without any
# capability. The module still runs as uid 1000.
cp "$PROBE" "$B/rootfs/probe.wasm"
reset
cfg "$B" "c['process']['args']=['/probe.wasm','sleep','30']" \
    "c['process']['user']={'uid':1000,'gid':1000}" \
    "c['process']['capabilities']={k:[] for k in ['bounding','effective','permitted','inheritable','ambient']}" \
    "c['process']['noNewPrivileges']=True" \
    "c['annotations']={'run.cella.wasm.tcplisten':'0.0.0.0:80'}"
id=$(newid priv)
check "wasm: create with a port below 1024 for an unprivileged process" cella create --bundle "$B" "$id"
check "... start" cella start "$id"
pid=$(state_field "$id" pid)
# /proc/PID/net/tcp is the container's network namespace: port 80 (0050) listening (0A).
expect_match "... the module's network namespace listens on port 80" ":0050 00000000:0000 0A" \
    "$(cat /proc/$pid/net/tcp 2> /dev/null)"
expect_match "... and the module runs as uid 1000" "^Uid:	1000	1000	1000" \
    "$(grep ^Uid: /proc/$pid/status 2> /dev/null)"
expect_match "... with no capability" "^CapEff:	0+$" "$(grep ^CapEff: /proc/$pid/status 2> /dev/null)"

# exec: the wasm level states the container level's exec (a native process
# in the container); the lock is released while it runs, so kill goes on.
out=$(cella exec "$id" sh -c 'id -u; exec cat /proc/self/status' 2>&1 | head -1)
expect_eq "wasm: exec runs a native process with the container's user" 1000 "$out"
cella exec "$id" sleep 30 > /dev/null 2>&1 &
execpid=$!
wait_for 50 sh -c "$CELLA --root $ROOT ps $id 2>/dev/null | grep -q 'sleep 30'"
check "a command goes on while an exec runs (no lock held)" cella kill "$id" KILL
wait "$execpid"
check "delete it" cella delete --force "$id"
assert_clean "... nothing left" "$id"

plan_done
