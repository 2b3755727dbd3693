#!/bin/bash
# Regression tests for bugs found by review (issue 17), each failing before its fix.
. "$(dirname "$0")/lib.sh"
trap _cleanup EXIT

B=$WORK/b
make_bundle "$B"

# ---- delete of a paused container whose resume fails ----------------------------------
# The freezer reads FROZEN but refuses THAWED (a read-only file bound over it):
# delete must say that the resume failed, naming the container.
id=$(newid resume)
args "$B" 'exec sleep 100'
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
fz=/sys/fs/cgroup/freezer/$id/freezer.state
if [ ! -e "$fz" ]; then
    skip "delete warns when resume fails" "no v1 freezer cgroup for the container"
else
    echo FROZEN > "$WORK/frozen"
    # In a private mount namespace that ends with the commands: a bind mount
    # over a file of a cgroup that delete removes could not be unmounted
    # after (its path is gone), and stayed in the host's mount table.
    out=$(unshare -m --propagation private sh -c '
        mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" || exit 99
        "$3" --root "$4" state "$5" | grep -q "\"paused\"" || echo "not paused"
        exec "$3" --root "$4" delete --force "$5"' sh "$WORK/frozen" "$fz" "$CELLA" "$ROOT" "$id" 2>&1)
    expect_match "delete warns when resume fails, naming the container" \
        "^cella: warning: delete \`$id\`: resume before destroy: .*freezer.state" "$out"
    check "the container read as paused while its freezer said FROZEN" \
        sh -c "! printf '%s' \"\$1\" | grep -q 'not paused'" sh "$out"
    cella delete --force "$id" > /dev/null 2>&1
    check "no bind mount over freezer.state is left" sh -c "! grep -q '$id/freezer.state' /proc/self/mountinfo"
    assert_clean "delete after a failed resume leaves nothing" "$id"
fi

# ---- uid/gid maps beyond what the kernel takes in one write ------------------------------
# The kernel takes a map in one write of fewer than 4096 bytes, 340 lines at most.
# 300 lines of 16 bytes (4800): cut at 4095 bytes, the first 256 made a valid
# map on their own, written without a word. It must be refused, naming the field.
UB=$WORK/userns
make_bundle "$UB"
args "$UB" 'exec sleep 100'
cfg "$UB" "c['linux']['namespaces'].append({'type':'user'})" \
    "c['linux']['gidMappings']=[{'containerID':0,'hostID':100000,'size':65536}]" \
    "c['linux']['uidMappings']=[{'containerID':0,'hostID':1000000000,'size':10}]" \
    "c['linux']['uidMappings']+=[{'containerID':100000+i,'hostID':200000+i,'size':1} for i in range(299)]"
id=$(newid map)
fails "a uid map of 4800 bytes is refused, naming the field" "$id" \
    '^cella: linux\.uidMappings: 300 lines in 4800 bytes: the kernel takes at most 340 lines in fewer than 4096$' \
    cella create --bundle "$UB" "$id"
# 340 short lines (3740 bytes) are written whole.
cfg "$UB" "c['linux']['uidMappings']=[{'containerID':0,'hostID':1000,'size':1}]" \
    "c['linux']['uidMappings']+=[{'containerID':i,'hostID':1000+i,'size':1} for i in range(1, 340)]"
id=$(newid map)
if cella create --bundle "$UB" "$id" > "$WORK/out" 2>&1; then
    pid=$(state_field "$id" pid)
    expect_eq "a uid map of 340 lines is written whole" 340 "$(wc -l < "/proc/$pid/uid_map")"
else
    not_ok "a uid map of 340 lines is written whole" "$(cat "$WORK/out")"
fi
cella delete --force "$id" > /dev/null 2>&1
assert_clean "the container with 340 map lines leaves nothing" "$id"

# A map the kernel refuses (overlapping ranges): one line, not the map quoted.
cfg "$UB" "c['linux']['uidMappings']=[{'containerID':0,'hostID':100000,'size':10},{'containerID':5,'hostID':200000,'size':10}]"
id=$(newid map)
fails "an overlapping uid map is refused in one line" "$id" \
    '^cella: linux\.uidMappings: write `/proc/[0-9]+/uid_map`: Invalid argument$' \
    cella create --bundle "$UB" "$id"

# ---- a run that fails after its create ----------------------------------------------------
# run keeps the container locked from its create to its start, so nothing but an
# injected fault (src/core/fault.h) makes it fail in between: the container create made
# must go with the failure (run returned and left it created).
RB=$WORK/runfail
make_bundle "$RB"
args "$RB" 'exec sleep 100'
id=$(newid runfail)
export CELLA_FAULT=run.after-create
fails "a run failing after its create removes the container" "$id" \
    '^cella: injected fault at run\.after-create \(CELLA_FAULT\)$' cella run --bundle "$RB" "$id"
unset CELLA_FAULT

# ---- cella-bench exec-start (bench/wasm.sh's cold start, once bench/coldstart's) ---------
BENCH=$(dirname "$CELLA")/cella-bench
HTTPD=$(dirname "$CELLA")/cella-bench-httpd
if [ ! -x "$BENCH" ] || [ ! -x "$HTTPD" ]; then
    skip "exec-start measures a server run directly" "cella-bench is not built next to $CELLA"
else
    port=$((20000 + RANDOM % 20000))
    out=$("$BENCH" exec-start --port $port --runs 3 --name native "$HTTPD" $port 2>&1)
    expect_match "exec-start measures a server run directly" \
        '^\{"runtime":"native",.*"runs":3,"ok":3,"failed":0,.*"pss_kib_median":[1-9]' "$out"
    check "exec-start leaves the port free" sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
    fails "exec-start of a command that never serves fails in one line" - \
        "^cella bench: x: \`/bin/false\` exited before serving on port $port\$" \
        sh -c "'$BENCH' exec-start --port $port --runs 2 --name x /bin/false >/dev/null"
fi

plan_done
exit 0
