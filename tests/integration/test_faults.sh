#!/bin/bash
# Faults (issue 13, point 3): cella killed (SIGKILL, CELLA_FAULT=kill:POINT,
# src/core/fault.h) at every step of create, start, exec and delete, then
# `delete --force` removes everything (reliab_lib.sh: state, cgroups,
# mounts, processes, taps, temp files); the container's init killed at its
# own steps fails create with one line. Then: a full --root (ENOSPC) gives
# one line and leaves nothing; a dead QEMU or monitor: the state says
# stopped and delete cleans up; a hook that hangs past its timeout; ten
# commands at once on one container (the lock: one delete wins, the others
# fail with one line).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/reliab_lib.sh"

# make check runs every point at the container level and a few elsewhere;
# make soak (CELLA_SOAK=1) every one at every level.
SOAK=${CELLA_SOAK:-0}

B=$WORK/bundle
make_bundle "$B"
args "$B" 'exec sleep 1000'
# A hook, so that the create's hook steps are reached.
cfg "$B" "c['hooks']={'prestart':[{'path':'/bin/true'}]}"

# killed_at NAME POINT WANT-RC SETUP-CMD CMD...: SETUP (a string, run
# first, may use $id), then CMD with CELLA_FAULT=kill:POINT exits WANT-RC
# (137: cella died by SIGKILL); then delete --force succeeds and nothing is
# left.
killed_at() {
    local name=$1 point=$2 want=$3 setup=$4 before=$WORK/before rc
    shift 4
    host_snapshot > "$before"
    id=$(newid f)
    eval "$setup" > /dev/null 2>&1 < /dev/null
    CELLA_FAULT="kill:$point" "$@" "$id" > /dev/null 2> "$WORK/ferr" < /dev/null
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        not_ok "$name: killed at $point (exit $want)" "exit $rc: $(cat "$WORK/ferr")"
    elif ! cella delete --force "$id" > /dev/null 2> "$WORK/derr"; then
        not_ok "$name: killed at $point, then delete --force" "$(cat "$WORK/derr")"
    else
        assert_host_clean "$name: killed at $point, delete --force leaves nothing" "$before"
        return
    fi
    cella delete --force "$id" > /dev/null 2>&1
}

create_cmd() { cella create --bundle "$B" "$@"; }
CREATE='cella create --bundle "$B" "$id"'
RUNNING='cella run -d --bundle "$B" "$id"'
STOPPED="$RUNNING && cella kill \"\$id\" KILL && wait_status \"\$id\" stopped"

# ---- cella killed between two steps, container level ----------------------------------------
for p in create.after-state-dir create.after-config create.after-state create.after-exec-sock \
    create.after-cgroup create.after-clone create.after-cgroup-enter create.before-hooks \
    create.after-hooks create.after-ready create.after-level; do
    killed_at create "$p" 137 : create_cmd
done
for p in start.before start.after-level start.before-poststart; do
    killed_at start "$p" 137 "$CREATE" cella start
done
exec_in() { cella exec "$1" true; }
for p in exec.after-fork exec.after-cgroup; do
    killed_at exec "$p" 137 "$RUNNING" exec_in
done
for p in delete.before-destroy delete.after-kill delete.after-destroy delete.after-poststop; do
    killed_at "delete --force" "$p" 137 "$RUNNING" cella delete --force
    [ "$SOAK" = 1 ] && killed_at "delete (stopped)" "$p" 137 "$STOPPED" cella delete
done
# The container's init (cella until its execve) killed at its own steps:
# create sees it die and says so in one line.
for p in init.after-namespaces init.after-mounts; do
    killed_at "create (init killed)" "$p" 1 : create_cmd
done

# ---- the other levels: the lifecycle's own steps --------------------------------------------
WASI_CC=(clang --target=wasm32-wasi --sysroot=/usr)
if "${WASI_CC[@]}" -O2 -o "$WORK/probe.wasm" "$REPO_ROOT/tests/wasm/probe.c" 2>/dev/null; then
    SAVED=$B
    B=$WORK/wbundle
    make_bundle "$B"
    cp "$WORK/probe.wasm" "$B/rootfs/probe.wasm"
    cfg "$B" "c['process']['args']=['/probe.wasm','sleep','1000']"
    killed_at "wasm create" create.after-clone 137 : create_cmd
    if [ "$SOAK" = 1 ]; then
        for p in create.after-state create.after-cgroup create.after-level; do
            killed_at "wasm create" "$p" 137 : create_cmd
        done
        killed_at "wasm start" start.after-level 137 "$CREATE" cella start
        killed_at "wasm delete" delete.after-kill 137 "$RUNNING" cella delete --force
    fi
    B=$SAVED
else
    skip "wasm level faults" "no C to wasm32-wasi toolchain"
fi

KERNEL=${CELLA_KERNEL:-$REPO_ROOT/build/vmlinux}
AGENT=${CELLA_AGENT_INITRD:-$REPO_ROOT/build/cella-agent.cpio}
qwhy=""
command -v qemu-system-x86_64 > /dev/null || qwhy="qemu-system-x86_64 is not installed"
[ -n "$qwhy" ] || [ -r "$KERNEL" ] || qwhy="no guest kernel $KERNEL (make kernel)"
[ -n "$qwhy" ] || [ -r "$AGENT" ] || qwhy="no guest agent initramfs $AGENT (make)"
if [ -z "$qwhy" ]; then
    export CELLA_KERNEL=$KERNEL CELLA_AGENT_INITRD=$AGENT
    SAVED_T=$CELLA_TIMEOUT
    CELLA_TIMEOUT=60
    qcreate() { cella --isolation qemu create --bundle "$B" "$@"; }
    if [ "$SOAK" = 1 ]; then
        for p in create.after-state create.after-level; do
            killed_at "qemu create" "$p" 137 : qcreate
        done
        killed_at "qemu start" start.after-level 137 'cella --isolation qemu create --bundle "$B" "$id"' cella start
        killed_at "qemu delete" delete.before-destroy 137 'cella --isolation qemu run -d --bundle "$B" "$id"' \
            cella delete --force
    fi

    # A dead QEMU, then a dead monitor: the state says stopped, delete cleans up.
    victims=qemu
    [ "$SOAK" = 1 ] && victims="qemu monitor"
    for who in $victims; do
        before=$WORK/before.dead
        host_snapshot > "$before"
        id=$(newid dead)
        cella --isolation qemu run -d --bundle "$B" "$id" < /dev/null > "$WORK/dead.out" 2>&1
        if [ $who = qemu ]; then
            victim=$(state_field "$id" pid)
        else
            victim=$(awk '{print $1; exit}' "$ROOT/$id/monitor.pid" 2>/dev/null)
        fi
        if [ -z "$victim" ] || [ "$(state_field "$id" status)" != running ]; then
            not_ok "dead $who: the container runs" "$(cat "$WORK/dead.out")"
            cella delete --force "$id" > /dev/null 2>&1
            continue
        fi
        kill -9 "$victim"
        if wait_status "$id" stopped; then
            ok "dead $who (kill -9): the state says stopped"
        else
            not_ok "dead $who (kill -9): the state says stopped" "status: $(state_field "$id" status)"
        fi
        check "dead $who: delete succeeds" cella delete "$id"
        assert_host_clean "dead $who: nothing left" "$before"
    done
    CELLA_TIMEOUT=$SAVED_T
else
    skip "qemu level faults" "$qwhy"
fi

# ---- a full --root: ENOSPC writing the state ------------------------------------------------
# A tiny tmpfs: no page free (config.json cannot be copied), then one page
# free (config.json fits, state.json does not).
TINY=$WORK/tiny
mkdir -p "$TINY"
if mount -t tmpfs -o size=16k tiny "$TINY" 2> /dev/null; then
    on_exit "umount -l '$TINY'"
    for free in 0 1; do
        rm -f "$TINY/fill"
        before=$WORK/before.full
        host_snapshot > "$before"
        avail=$(df -k --output=avail "$TINY" | tail -1)
        fill=$((avail - free * 4))
        [ $fill -gt 0 ] && dd if=/dev/zero of="$TINY/fill" bs=1k count=$fill status=none 2> /dev/null
        id=$(newid full)
        timeout -k 2 10 "$CELLA" --root "$TINY" create --bundle "$B" "$id" < /dev/null > /dev/null 2> "$WORK/ferr"
        rc=$?
        if [ $rc -ne 0 ] && [ "$(grep -c . "$WORK/ferr")" = 1 ] && grep -q "No space left on device" "$WORK/ferr"; then
            ok "a full --root ($free page free): create fails with one line ($(cat "$WORK/ferr"))"
        else
            not_ok "a full --root ($free page free): create fails with one line naming ENOSPC" "exit $rc: $(cat "$WORK/ferr")"
            timeout 10 "$CELLA" --root "$TINY" delete --force "$id" > /dev/null 2>&1
        fi
        expect_eq "a full --root ($free page free): no state dir left" "fill" "$(ls "$TINY")"
        assert_host_clean "a full --root ($free page free): nothing left" "$before"
    done
    umount "$TINY"
else
    skip "a full --root" "cannot mount a tmpfs here"
fi

# ---- a hook that hangs, with the spec's timeout ---------------------------------------------
mkdir -p "$WORK/hookbin"
cp "$BUSYBOX" "$WORK/hookbin/busybox"
H=$WORK/hbundle
make_bundle "$H"
args "$H" 'exec sleep 1000'
cfg "$H" "c['hooks']={'prestart':[{'path':'$WORK/hookbin/busybox','args':['sleep','1000'],'timeout':1}]}"
before=$WORK/before.hook
host_snapshot > "$before"
id=$(newid hang)
fails "a prestart hook that hangs past its timeout: one line" "$id" "timed out after 1 s" \
    cella create --bundle "$H" "$id"
assert_host_clean "a hanging hook: nothing left (the hook killed too)" "$before"

# ---- ten commands at once on one container --------------------------------------------------
before=$WORK/before.conc
host_snapshot > "$before"
id=$(newid conc)
cella run -d --bundle "$B" "$id" < /dev/null > /dev/null 2>&1
# While it runs: kills and states together; each succeeds or says why in one line.
for i in 0 1 2 3 4 5 6 7 8 9; do
    if [ $((i % 2)) = 0 ]; then cella kill "$id" KILL; else cella state "$id"; fi \
        > "$WORK/conc.$i.out" 2> "$WORK/conc.$i.err" &
done
wait
bad=""
for i in 0 1 2 3 4 5 6 7 8 9; do
    [ "$(grep -c . "$WORK/conc.$i.err")" -le 1 ] || bad="$bad command $i: $(cat "$WORK/conc.$i.err")"
done
expect_eq "10 kill/state at once: none says more than one line" "" "$bad"
wait_status "$id" stopped
for i in 0 1 2 3 4 5 6 7 8 9; do
    (cella delete "$id" > /dev/null 2> "$WORK/del.$i.err"; echo $? > "$WORK/del.$i.rc") &
done
wait
won=0 bad=""
for i in 0 1 2 3 4 5 6 7 8 9; do
    if [ "$(cat "$WORK/del.$i.rc")" = 0 ]; then
        won=$((won + 1))
    elif [ "$(grep -c . "$WORK/del.$i.err")" != 1 ]; then
        bad="$bad delete $i (exit $(cat "$WORK/del.$i.rc")): $(cat "$WORK/del.$i.err")"
    fi
done
expect_eq "10 deletes at once: exactly one succeeds" 1 "$won"
expect_eq "10 deletes at once: each other one fails with one line" "" "$bad"
assert_host_clean "10 commands at once: nothing left" "$before"

plan_done
