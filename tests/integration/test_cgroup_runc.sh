#!/bin/bash
# cgroups where runc 1.1 is the reference: a cgroup that is frozen or holds
# processes before create, the device rules, `unified` on a v1 host, the
# cgroup namespace seen by exec, `update` sizes and realtime options, and
# `events`.
. "$(dirname "$0")/lib.sh"

B=$WORK/bundle
make_bundle "$B"
V1=/sys/fs/cgroup
MODE=v1
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
    MODE=v2
elif [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
    MODE=hybrid
fi

# A cgroup of the test's own, removed at exit.
own_cgroup() {
    local name=$1 d
    for d in $V1/*/ /sys/fs/cgroup/; do
        [ "$(stat -f -c %T "$d")" = cgroup2fs ] || [ "$(stat -f -c %T "$d")" = cgroupfs ] || continue
        mkdir -p "$d$name" 2>/dev/null
    done
    on_exit "rm_own_cgroup $name"
}

# Thaw, empty and remove it (removal waits until the killed processes are gone).
rm_own_cgroup() {
    local d p i
    for d in $V1/*/$1 $V1/$1; do
        [ -d "$d" ] || continue
        echo THAWED > "$d/freezer.state" 2>/dev/null
        echo 0 > "$d/cgroup.freeze" 2>/dev/null
        for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        for ((i = 0; i < 50; i++)); do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
    done
}

# ---- a cgroup frozen before create is refused, not waited on forever -------------------
if [ -d $V1/freezer ] && [ "$(stat -f -c %T $V1/freezer)" = cgroupfs ]; then
    id=$(newid frozen)
    cg=cella-test-frozen-$$
    own_cgroup "$cg"
    echo FROZEN > "$V1/freezer/$cg/freezer.state"
    cfg "$B" "c['linux']['cgroupsPath']='/$cg'"
    fails "create in a FROZEN v1 freezer cgroup: refused" "$id" "cgroup.*frozen" \
        cella create --bundle "$B" "$id"
    expect_eq "the frozen cgroup is left as it was" FROZEN "$(cat "$V1/freezer/$cg/freezer.state")"
    cfg "$B" "del c['linux']['cgroupsPath']"
else
    skip "create in a FROZEN v1 freezer cgroup: refused" "no v1 freezer hierarchy"
fi
if [ "$MODE" != v1 ]; then
    id=$(newid frozen2)
    cg=cella-test-frozen2-$$
    own_cgroup "$cg"
    u=$V1/unified
    [ "$MODE" = v2 ] && u=$V1
    echo 1 > "$u/$cg/cgroup.freeze"
    cfg "$B" "c['linux']['cgroupsPath']='/$cg'"
    fails "create in a cgroup frozen through cgroup.freeze (v2 tree): refused" "$id" \
        "cgroup.*frozen" cella create --bundle "$B" "$id"
    cfg "$B" "del c['linux']['cgroupsPath']"
else
    skip "create in a cgroup frozen through cgroup.freeze" "no v2 tree"
fi

# ---- a cgroup that holds processes: a warning, then the container runs -----------------
id=$(newid busy)
cg=cella-test-busy-$$
own_cgroup "$cg"
sleep 300 &
squatter=$!
on_exit "kill -9 $squatter"
for d in $V1/*/$cg/ $V1/$cg/; do
    [ -e "${d}cgroup.procs" ] && echo $squatter > "${d}cgroup.procs" 2>/dev/null
done
cfg "$B" "c['linux']['cgroupsPath']='/$cg'"
args "$B" 'true'
cella create --bundle "$B" "$id" > "$WORK/out" 2> "$WORK/err"
rc=$?
expect_eq "create in a cgroup that holds a process: succeeds (runc 1.1)" "0" "$rc"
expect_match "... with a warning naming the processes found" "cgroup .*not empty: 1 process" \
    "$(cat "$WORK/err")"
cella delete --force "$id" >/dev/null 2>&1
cfg "$B" "del c['linux']['cgroupsPath']"

# ---- device rules: linux.devices does not open a hole in linux.resources.devices ------
if [ -d $V1/devices ] && [ -c /dev/kmsg ]; then
    id=$(newid kmsg)
    cfg "$B" "c['linux']['resources']={'devices':[{'allow':False,'access':'rwm'}]}" \
        "c['linux']['devices']=[{'path':'/dev/kmsg','type':'c','major':1,'minor':11,'fileMode':0o644}]"
    args "$B" 'test -c /dev/kmsg || exit 3; echo cella-test-devices > /dev/kmsg && exit 0; exit 1'
    cella run --bundle "$B" "$id" > "$WORK/out" 2>&1
    expect_eq "deny-all + /dev/kmsg in linux.devices: the write is denied" 1 "$?"
    cella delete --force "$id" >/dev/null 2>&1
    # The spec's own allow rule still opens it.
    id=$(newid kmsg)
    cfg "$B" "c['linux']['resources']['devices'].append({'allow':True,'type':'c','major':1,'minor':11,'access':'w'})"
    cella run --bundle "$B" "$id" > "$WORK/out" 2>&1
    expect_eq "... allowed when linux.resources.devices allows c 1:11" 0 "$?"
    cella delete --force "$id" >/dev/null 2>&1
    cfg "$B" "del c['linux']['devices']" "c['linux']['resources']={}"
else
    skip "deny-all + /dev/kmsg in linux.devices: the write is denied" "no v1 devices cgroup or /dev/kmsg"
    skip "... allowed when linux.resources.devices allows c 1:11" "no v1 devices cgroup or /dev/kmsg"
fi

# ---- unified on a host that is not pure v2 ---------------------------------------------
if [ "$MODE" != v2 ]; then
    id=$(newid unified)
    cfg "$B" "c['linux']['resources']={'unified':{'pids.max':'10'}}"
    fails "linux.resources.unified on a $MODE host: invalid configuration (runc 1.1)" "$id" \
        "unified.*cgroup v1" cella create --bundle "$B" "$id"
    cfg "$B" "c['linux']['resources']={}"
else
    skip "linux.resources.unified on a v1 host" "the host is pure v2"
fi

# ---- the cgroup namespace: exec sees the container's cgroup ---------------------------
id=$(newid cgns)
cfg "$B" "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='cgroup']+[{'type':'cgroup'}]"
args "$B" 'cat /proc/self/cgroup > /tmp/init-cgroup; sleep 300'
cella run --detach --bundle "$B" "$id" >/dev/null 2>&1
check "a spec that adds the cgroup namespace runs" test "$(state_field "$id" status)" = running
wait_for 50 test -s "$B/rootfs/tmp/init-cgroup"
init_cg=$(cat "$B/rootfs/tmp/init-cgroup" 2>/dev/null)
exec_cg=$(cella exec "$id" cat /proc/self/cgroup 2>&1)
expect_eq "exec sees the same /proc/self/cgroup as the container's process" "$init_cg" "$exec_cg"
expect_match "... which is the namespace root" "^0::/$" "$(printf '%s\n' "$exec_cg" | grep '^0::')"
cella delete --force "$id" >/dev/null 2>&1
rm -f "$B/rootfs/tmp/init-cgroup"

# ---- update: sizes with units, realtime ------------------------------------------------
id=$(newid upd)
args "$B" 'sleep 300'
cella run --detach --bundle "$B" "$id" >/dev/null 2>&1
memdir=$V1/memory/$id
cpudir=$V1/cpu/$id
if [ "$MODE" = v2 ]; then memdir=$V1/$id; fi
if [ -e "$memdir/memory.limit_in_bytes" ] || [ -e "$memdir/memory.max" ]; then
    lim() { cat "$memdir/memory.limit_in_bytes" 2>/dev/null || cat "$memdir/memory.max"; }
    check "update --memory 50M" cella update --memory 50M "$id"
    expect_eq "... is 50 MiB" $((50 * 1024 * 1024)) "$(lim)"
    cella update --memory 1.5g "$id" >/dev/null 2>&1
    expect_eq "update --memory 1.5g is 1.5 GiB" $((3 * 512 * 1024 * 1024)) "$(lim)"
    cella update --memory 64MiB "$id" >/dev/null 2>&1
    expect_eq "update --memory 64MiB" $((64 * 1024 * 1024)) "$(lim)"
    cella update --memory "80 mb" "$id" >/dev/null 2>&1
    expect_eq "update --memory '80 mb'" $((80 * 1024 * 1024)) "$(lim)"
    cella update --memory 1g --memory-reservation 10m "$id" >/dev/null 2>&1
    expect_eq "update --memory-reservation 10m" $((10 * 1024 * 1024)) \
        "$(cat "$memdir/memory.soft_limit_in_bytes" 2>/dev/null || cat "$memdir/memory.low")"
    fails "update --memory 12X: refused naming the option" - "memory.*12X" \
        cella update --memory 12X "$id"
else
    for t in "update --memory 50M" "... is 50 MiB"; do skip "$t" "no memory controller"; done
fi
if [ -e "$cpudir/cpu.rt_runtime_us" ]; then
    check "update --cpu-rt-period 900000 --cpu-rt-runtime 0" \
        cella update --cpu-rt-period 900000 --cpu-rt-runtime 0 "$id"
    expect_eq "... cpu.rt_period_us" 900000 "$(cat "$cpudir/cpu.rt_period_us")"
    expect_eq "... cpu.rt_runtime_us" 0 "$(cat "$cpudir/cpu.rt_runtime_us")"
    cella update --cpu-rt-period 500000 "$id" >/dev/null 2>&1
    expect_eq "update --cpu-rt-period 500000" 500000 "$(cat "$cpudir/cpu.rt_period_us")"
else
    skip "update --cpu-rt-period/--cpu-rt-runtime" "no cpu.rt_runtime_us (kernel without RT group scheduling)"
fi
check "update --cpu-share (runc's spelling) 512" cella update --cpu-share 512 "$id"

# ---- events --------------------------------------------------------------------------
cella events --stats "$id" > "$WORK/ev" 2> "$WORK/everr"
expect_eq "events --stats: exit 0" "0" "$?"
python3 - "$WORK/ev" "$id" > "$WORK/evcheck" 2>&1 <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, "one line, got %d" % len(lines)
e = json.loads(lines[0])
assert e["type"] == "stats" and e["id"] == sys.argv[2], e
d = e["data"]
for k in ("cpu", "memory", "pids", "blkio"):
    assert k in d, "no %s" % k
assert d["pids"]["current"] >= 1, d["pids"]
assert d["cpu"]["usage"]["total"] > 0, d["cpu"]
assert d["memory"]["usage"]["usage"] > 0, d["memory"]
assert d["memory"]["usage"]["limit"] == 1024 ** 3, d["memory"]["usage"]
EOF
check "events --stats: one JSON event with cpu, memory, pids, blkio as runc prints" \
    sh -c "[ ! -s '$WORK/evcheck' ] || { cat '$WORK/evcheck'; exit 1; }"
# The same fields, in the same order, as Debian's runc prints for a container of the same bundle.
if command -v runc >/dev/null; then
    rid=$(newid runc)
    on_exit "runc --root '$WORK/runc' delete --force $rid"
    (cd "$B" && timeout 20 runc --root "$WORK/runc" run --detach "$rid" > /dev/null 2>&1 < /dev/null)
    timeout 20 runc --root "$WORK/runc" events --stats "$rid" > "$WORK/runc-ev" 2>&1
    timeout 20 runc --root "$WORK/runc" delete --force "$rid" > /dev/null 2>&1
    shape() {
        python3 -c 'import json, sys
d = json.loads(open(sys.argv[1]).readline())["data"]
print(list(d), list(d["cpu"]), list(d["cpuset"]), list(d["memory"]["usage"]), list(d["memory"]["kernelTCP"]))' "$1" 2>&1
    }
    expect_eq "events --stats: data has runc's fields in runc's order" "$(shape "$WORK/runc-ev")" \
        "$(shape "$WORK/ev")"
else
    skip "events --stats: data has runc's fields in runc's order" "no runc installed"
fi
# --interval: one stats event per interval until the container stops.
timeout 10 "$CELLA" --root "$ROOT" events --interval 100ms "$id" > "$WORK/ev2" 2>&1 &
evpid=$!
wait_for 80 sh -c "[ \$(grep -c '\"type\":\"stats\"' '$WORK/ev2') -ge 2 ]"
check "events --interval 100ms: stats events keep coming" \
    sh -c "[ \$(grep -c '\"type\":\"stats\"' '$WORK/ev2') -ge 2 ]"
cella kill "$id" KILL >/dev/null 2>&1
wait "$evpid"
expect_eq "events ends when the container stops" 0 "$?"
fails "events --interval 0: refused" - "interval" cella events --interval 0 "$id"
cella delete --force "$id" >/dev/null 2>&1
fails "events on a stopped container: refused" - "not running|does not exist" cella events --stats "$id"

# An OOM kill in the cgroup is an "oom" event. The memory hog starts once events watches.
if [ -d $V1/memory ] || grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    id=$(newid oom)
    cfg "$B" "c['linux']['resources']={'memory':{'limit':16777216}}"
    args "$B" 'while [ ! -e /tmp/go ]; do sleep 0.1; done; head -c 64m /dev/zero | tail > /dev/null; sleep 300'
    cella run --detach --bundle "$B" "$id" >/dev/null 2>&1
    timeout 20 "$CELLA" --root "$ROOT" events --interval 100ms "$id" > "$WORK/ev3" 2>&1 &
    evpid=$!
    wait_for 50 grep -q '"type":"stats"' "$WORK/ev3"
    touch "$B/rootfs/tmp/go"
    wait_for 100 grep -q '"type":"oom"' "$WORK/ev3"
    expect_eq "an OOM kill in the cgroup: an oom event" "{\"type\":\"oom\",\"id\":\"$id\"}" \
        "$(grep -m1 '"type":"oom"' "$WORK/ev3")"
    cella delete --force "$id" >/dev/null 2>&1
    wait "$evpid"
    rm -f "$B/rootfs/tmp/go"
    cfg "$B" "c['linux']['resources']={}"
else
    skip "an OOM kill in the cgroup: an oom event" "no memory controller"
fi

plan_done
