#!/bin/bash
# Lifecycle: create/start/kill/delete, run, state, list, pause/resume, ps,
# exec, update, features, spec, --version, and concurrent commands.
source "$(dirname "$0")/lib.sh"

B=$WORK/bundle
make_bundle "$B"

# ---- create → start → kill → delete ---------------------------------------------------
id=$(newid life)
args "$B" 'exec sleep 100'
check "create succeeds" cella create --pid-file "$WORK/create.pid" --bundle "$B" "$id"
expect_eq "state after create is created" created "$(state_field "$id" status)"
pid=$(state_field "$id" pid)
expect_match "state pid > 0 after create" '^[1-9][0-9]*$' "$pid"
expect_eq "create --pid-file holds the container pid" "$pid" "$(cat "$WORK/create.pid" 2>/dev/null)"
cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)
if [ -d "/proc/$pid" ] && ! printf '%s' "$cmd" | grep -q 'sleep 100'; then
    ok "created process waits (cmdline is not yet the user process)"
else
    not_ok "created process waits (cmdline is not yet the user process)" "cmdline: $cmd"
fi
check "start succeeds" cella start "$id"
expect_eq "state after start is running" running "$(state_field "$id" status)"
wait_for 20 grep -q sleep "/proc/$pid/cmdline"
expect_match "after start the pid runs the user process" 'sleep' \
    "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)"
out=$(cella start "$id" 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'not created'; then
    ok "start twice fails with 'not created'"
else
    not_ok "start twice fails with 'not created'" "exit $rc: $out"
fi
out=$(cella delete "$id" 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ -d "$ROOT/$id" ] && kill -0 "$pid" 2>/dev/null; then
    ok "delete of a running container without --force fails and keeps it"
else
    not_ok "delete of a running container without --force fails and keeps it" "exit $rc: $out"
fi
check "kill SIGKILL" cella kill "$id" SIGKILL
wait_for 30 sh -c "[ \"\$(\"$CELLA\" --root \"$ROOT\" state $id 2>/dev/null | grep -o '\"status\": *\"[a-z]*\"')\" != '' ] && \"$CELLA\" --root \"$ROOT\" state $id | grep -q stopped"
expect_eq "state after SIGKILL is stopped" stopped "$(state_field "$id" status)"
expect_eq "state pid of a stopped container is 0" 0 "$(state_field "$id" pid)"
out=$(cella kill "$id" KILL 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -qi 'not running'; then
    ok "kill of a stopped container fails (not running)"
else
    not_ok "kill of a stopped container fails (not running)" "exit $rc: $out"
fi
check "delete of a stopped container" cella delete "$id"
check_fail "state after delete fails" cella state "$id"
assert_clean "nothing left after delete" "$id"

# SIGTERM: pid 1 only gets signals it handles, so the process traps it.
id=$(newid term)
args "$B" 'trap "exit 0" TERM; while :; do sleep 0.05; done'
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
expect_eq "run --detach leaves it running" running "$(state_field "$id" status)"
check "kill SIGTERM (default signal)" cella kill "$id"
wait_for 30 sh -c "\"$CELLA\" --root \"$ROOT\" state $id | grep -q '\"stopped\"'"
expect_eq "state after SIGTERM is stopped" stopped "$(state_field "$id" status)"
check "delete after SIGTERM" cella delete "$id"
assert_clean "nothing left after SIGTERM + delete" "$id"

# ---- run ------------------------------------------------------------------------------
id=$(newid run)
args "$B" 'echo hello from inside; exit 3'
out=$(cella run --bundle "$B" "$id" 2>&1)
rc=$?
expect_eq "run propagates exit code 3" 3 "$rc"
expect_eq "run output" "hello from inside" "$out"
assert_clean "run leaves nothing behind" "$id"

# Killed by a signal: run exits 128+N, as a shell would report it.
id=$(newid runsig)
args "$B" 'exec sleep 100'
cella run --bundle "$B" "$id" > /dev/null 2>&1 &
rpid=$!
wait_for 30 sh -c "\"$CELLA\" --root \"$ROOT\" state $id | grep -q '\"running\"'"
cella kill "$id" KILL
wait $rpid
expect_eq "run of a process killed by SIGKILL exits 137" 137 "$?"
assert_clean "run killed by SIGKILL leaves nothing behind" "$id"

# run --detach with --pid-file; state fields.
id=$(newid det)
args "$B" 'exec sleep 100'
start=$(date +%s%N)
cella run --detach --pid-file "$WORK/det.pid" --bundle "$B" "$id" > /dev/null 2>&1
rc=$?
el=$((($(date +%s%N) - start) / 1000000))
if [ $rc -eq 0 ] && [ $el -lt 5000 ]; then ok "run --detach returns at once"; else not_ok "run --detach returns at once" "exit $rc after ${el} ms"; fi
pid=$(state_field "$id" pid)
expect_eq "--pid-file holds the container pid" "$pid" "$(cat "$WORK/det.pid" 2>/dev/null)"
st=$(cella state "$id" 2>&1)
fields=$(printf '%s' "$st" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(s.get("ociVersion", "").startswith("1."), s.get("id"), s.get("status"), isinstance(s.get("pid"), int) and s["pid"] > 0, s.get("bundle"))' 2>&1)
expect_eq "state JSON has ociVersion, id, status, pid, bundle" "True $id running True $B" "$fields"

# ---- list -----------------------------------------------------------------------------
out=$(cella list 2>&1)
expect_match "list prints a table header" '^ID +PID +STATUS +BUNDLE' "$out"
expect_match "list table has the container as running" "^$id +$pid +running +$B" "$out"
out=$(cella list --format json 2>&1)
got=$(printf '%s' "$out" | python3 -c '
import json, sys
l = json.load(sys.stdin)
print(" ".join(sorted("%s:%s:%s" % (c["id"], c["status"], c["pid"]) for c in l)))' 2>&1)
expect_eq "list --format json" "$id:running:$pid" "$got"
expect_eq "list -q prints only ids" "$id" "$(cella list -q 2>&1)"

# ---- exec -----------------------------------------------------------------------------
expect_eq "exec output" "hi from exec" "$(cella exec "$id" echo hi from exec 2>&1)"
cella exec "$id" sh -c 'exit 7' > /dev/null 2>&1
expect_eq "exec propagates exit code 7" 7 "$?"
expect_eq "exec --env" "bar" "$(cella exec --env FOO=bar "$id" sh -c 'echo $FOO' 2>&1)"
expect_eq "exec --cwd" "/tmp" "$(cella exec --cwd /tmp "$id" pwd 2>&1)"
expect_eq "exec --user 1000:1000 (id -u)" "1000" "$(cella exec --user 1000:1000 "$id" id -u 2>&1)"
expect_eq "exec --user 1000:1000 (id -g)" "1000" "$(cella exec --user 1000:1000 "$id" id -g 2>&1)"
expect_eq "exec --user 1000 alone: gid 0 (as runc)" "1000 0" "$(cella exec --user 1000 "$id" sh -c 'echo $(id -u) $(id -g)' 2>&1)"
expect_match "update: --resources and single options together are refused" "either --resources" "$(echo "{}" > "$WORK/res.json"; cella update --resources "$WORK/res.json" --memory 1000000 "$id" 2>&1)"
expect_eq "exec sees the container's pid namespace (sleep is pid 1)" "sleep" \
    "$(cella exec "$id" sh -c 'cat /proc/1/comm' 2>&1)"
cella exec --detach --pid-file "$WORK/exec.pid" "$id" sh -c 'echo detached > /tmp/exec-detach; exec sleep 100' > /dev/null 2>&1
rc=$?
epid=$(cat "$WORK/exec.pid" 2>/dev/null)
if [ $rc -eq 0 ] && [ -n "$epid" ] && wait_for 20 grep -q 'sleep' "/proc/$epid/cmdline"; then
    ok "exec --detach --pid-file: pid file names the running process"
else
    not_ok "exec --detach --pid-file: pid file names the running process" "exit $rc, pid '$epid'"
fi
wait_for 20 test -s "$B/rootfs/tmp/exec-detach"
expect_eq "exec --detach process ran in the container" detached "$(cat "$B/rootfs/tmp/exec-detach" 2>/dev/null)"
pids=$(cella ps --format json "$id" 2>&1)
got=$(printf '%s' "$pids" | python3 -c '
import json, sys
l = json.load(sys.stdin)
print(int(sys.argv[1]) in l, int(sys.argv[2] or 0) in l)' "$pid" "$epid" 2>&1)
expect_eq "ps --format json lists the init and exec pids" "True True" "$got"

# ---- update ---------------------------------------------------------------------------
if [ -d /sys/fs/cgroup/memory/"$id" ]; then
    check "update --memory 64M" cella update --memory 67108864 "$id"
    expect_eq "update changed memory.limit_in_bytes (host)" 67108864 \
        "$(cat /sys/fs/cgroup/memory/"$id"/memory.limit_in_bytes 2>&1)"
else
    skip "update --memory 64M" "no v1 memory cgroup for the container"
    skip "update changed memory.limit_in_bytes (host)" "no v1 memory cgroup"
fi
check "delete --force of a running container" cella delete --force "$id"
assert_clean "delete --force leaves nothing (exec'd process too)" "$id"
if [ -n "$epid" ] && ! wait_for 20 sh -c "! grep -q sleep /proc/$epid/cmdline"; then
    not_ok "exec'd process is gone after delete --force" "pid $epid alive: $(cat /proc/$epid/status | head -3)"
else
    ok "exec'd process is gone after delete --force"
fi

# ---- pause / resume -------------------------------------------------------------------
id=$(newid pause)
args "$B" 'rm -f /tmp/cnt; while :; do echo x >> /tmp/cnt; sleep 0.01; done'
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
wait_for 20 test -s "$B/rootfs/tmp/cnt"
check "pause" cella pause "$id"
expect_eq "state after pause is paused" paused "$(state_field "$id" status)"
expect_match "list shows paused" "^$id +[0-9]+ +paused" "$(cella list 2>&1)"
s1=$(stat -c %s "$B/rootfs/tmp/cnt")
sleep 0.3
s2=$(stat -c %s "$B/rootfs/tmp/cnt")
expect_eq "paused processes are frozen (counter does not advance)" "$s1" "$s2"
out=$(cella resume "$id" 2>&1)
if cella state "$id" | grep -q '"running"'; then ok "resume → running"; else not_ok "resume → running" "$out"; fi
wait_for 50 sh -c "[ \$(stat -c %s '$B/rootfs/tmp/cnt') -gt $s2 ]"
s3=$(stat -c %s "$B/rootfs/tmp/cnt")
if [ "$s3" -gt "$s2" ]; then ok "resumed processes run (counter advances)"; else not_ok "resumed processes run (counter advances)" "$s2 → $s3"; fi
out=$(cella resume "$id" 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'not paused'; then ok "resume of a running container fails"; else not_ok "resume of a running container fails" "exit $rc: $out"; fi
check "pause again, then delete --force a paused container" sh -c "\"$CELLA\" --root \"$ROOT\" pause $id && \"$CELLA\" --root \"$ROOT\" delete --force $id"
assert_clean "delete --force of a paused container leaves nothing" "$id"

# ---- kill --all -----------------------------------------------------------------------
id=$(newid all)
args "$B" 'sleep 100 & sleep 100 & trap "" TERM; while :; do sleep 1; done'
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
wait_for 20 sh -c "[ \$(\"$CELLA\" --root \"$ROOT\" ps --format json $id | tr ',' '\n' | wc -l) -ge 3 ]"
n=$(cella ps --format json "$id" 2>/dev/null | tr ',' '\n' | grep -c '[0-9]')
expect_match "ps lists several processes" '^[3-9]$' "$n"
check "kill --all KILL" cella kill --all "$id" KILL
wait_for 30 sh -c "\"$CELLA\" --root \"$ROOT\" state $id | grep -q '\"stopped\"'"
expect_eq "after kill --all the container is stopped" stopped "$(state_field "$id" status)"
left=$(cat /sys/fs/cgroup/pids/"$id"/cgroup.procs 2>/dev/null | wc -l)
expect_eq "after kill --all no process is left in the cgroup" 0 "$left"
check "delete after kill --all" cella delete "$id"
assert_clean "kill --all + delete leaves nothing" "$id"

# ---- concurrency ----------------------------------------------------------------------
id=$(newid conc)
args "$B" 'exec sleep 100'
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
for i in 1 2 3 4 5; do
    (cella delete --force "$id" > "$WORK/conc.$i" 2>&1; echo $? >> "$WORK/conc.$i") &
done
wait
bad=""
for i in 1 2 3 4 5; do
    [ "$(tail -n1 "$WORK/conc.$i")" = 0 ] || bad="$bad [$i: $(tr '\n' ' ' < "$WORK/conc.$i")]"
done
if [ -z "$bad" ]; then ok "5 parallel delete --force all succeed"; else not_ok "5 parallel delete --force all succeed" "$bad"; fi
assert_clean "5 parallel delete --force leave nothing" "$id"

id=$(newid race)
args "$B" 'exec sleep 100'
: > "$WORK/race.log"
(cella create --bundle "$B" "$id" > "$WORK/race.create" 2>&1; echo "rc=$?" >> "$WORK/race.create") &
cpid=$!
for i in $(seq 30); do
    out=$(cella state "$id" 2>&1)
    echo "rc=$? $out" | tr '\n' ' ' >> "$WORK/race.log"
    echo >> "$WORK/race.log"
done
wait $cpid
bad=$(grep -vE '^rc=0 .*"status": "(creating|created)"|^rc=1 cella: container .* does not exist' "$WORK/race.log" | head -3)
if [ -z "$bad" ] && grep -q 'rc=0' "$WORK/race.create"; then
    ok "state during create is well-formed (creating/created or does not exist)"
else
    not_ok "state during create is well-formed (creating/created or does not exist)" "$bad" "$(cat "$WORK/race.create")"
fi
expect_eq "container created in the race is created" created "$(state_field "$id" status)"
for i in 1 2 3; do cella delete --force "$id" > /dev/null 2>&1 & done
for i in 1 2 3; do cella state "$id" > /dev/null 2>&1 & done
wait
assert_clean "concurrent delete/state on a created container leave nothing" "$id"

# ---- features / spec / --version ------------------------------------------------------------
got=$(cella features 2>&1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["ociVersionMax"])' 2>&1)
expect_match "features prints JSON with ociVersionMax" '^1\.[0-9]+\.[0-9]+' "$got"
before=$(md5sum < "$B/config.json")
out=$(cd "$B" && "$CELLA" spec 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ "$(md5sum < "$B/config.json")" = "$before" ] && printf '%s' "$out" | grep -q 'config.json'; then
    ok "spec refuses to overwrite config.json"
else
    not_ok "spec refuses to overwrite config.json" "exit $rc: $out"
fi
mkdir -p "$WORK/specdir"
check "spec --bundle DIR writes valid JSON" sh -c "\"$CELLA\" spec --bundle \"$WORK/specdir\" && python3 -m json.tool \"$WORK/specdir/config.json\""
expect_match "--version" '^cella version [0-9]' "$("$CELLA" --version 2>&1)"

# state and list never wait for a create in progress (they read without the lock).
B2=$WORK/slow
make_bundle "$B2"
cfg "$B2" "c['hooks']={'prestart': [{'path': '/bin/sleep', 'args': ['sleep', '3']}]}"
sid=$(newid slow)
cella create --bundle "$B2" "$sid" >/dev/null 2>&1 &
slow=$!
wait_for 50 test -e "$ROOT/$sid/state.json"
t0=$(date +%s%N)
st=$(state_field "$sid" status)
t1=$(date +%s%N)
expect_eq "state during a slow create: creating" creating "$st"
check "state during a slow create answers at once (< 1 s)" test $(((t1 - t0) / 1000000)) -lt 1000
check "list during a slow create answers" sh -c "timeout 1 '$CELLA' --root '$ROOT' list -q | grep -qx '$sid'"
wait $slow
cella delete --force "$sid" >/dev/null 2>&1

plan_done
exit 0
