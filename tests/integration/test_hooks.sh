#!/bin/bash
# OCI hooks: the six kinds, their order, the state they get on stdin, their
# env and args, and failures (non-zero exit, timeout) leaving nothing behind.
source "$(dirname "$0")/lib.sh"

B=$WORK/bundle
make_bundle "$B"
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# The log lives in the rootfs: host hooks and createContainer (run before
# pivot_root, where host paths still resolve) write $B/rootfs/tmp/hooks.log;
# startContainer runs after pivot_root and writes /tmp/hooks.log, the same file.
LOG=$B/rootfs/tmp/hooks.log
HPATH='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
hook() { # hook NAME LOGPATH -> JSON hook entry writing "NAME <stdin>" to LOGPATH
    printf '{"path":"/bin/sh","args":["sh","-c","printf \\"%%s \\" \\"$0\\" >> %s; cat >> %s; echo >> %s; echo \\"$0 env=$HOOKVAR args=$1\\" >> %s.env","%s","arg1"],"env":["%s","HOOKVAR=%s-var"]}' \
        "$2" "$2" "$2" "$2" "$1" "$HPATH" "$1"
}
reset
cfg "$B" "c['hooks']={
 'prestart':[$(hook prestart "$LOG")],
 'createRuntime':[$(hook createRuntime "$LOG")],
 'createContainer':[$(hook createContainer "$LOG")],
 'startContainer':[$(hook startContainer /tmp/hooks.log)],
 'poststart':[$(hook poststart "$LOG")],
 'poststop':[$(hook poststop "$LOG")]}"
args "$B" 'exec sleep 100'

id=$(newid hooks)
rm -f "$LOG" "$LOG.env"
check "create with all six hooks" cella create --bundle "$B" "$id"
expect_eq "after create: prestart, createRuntime, createContainer ran" \
    "prestart createRuntime createContainer" "$(echo $(awk '{print $1}' "$LOG" 2>/dev/null))"
check "start with hooks" cella start "$id"
pid=$(state_field "$id" pid)
check "kill" cella kill "$id" KILL
wait_for 30 sh -c "\"$CELLA\" --root \"$ROOT\" state $id | grep -q '\"stopped\"'"
check "delete runs poststop" cella delete "$id"
expect_eq "hook order" "prestart createRuntime createContainer startContainer poststart poststop" \
    "$(echo $(awk '{print $1}' "$LOG" 2>/dev/null))"
# Each line: NAME {state JSON}. Status as runc: creating for the first three,
# created for startContainer, running for poststart, stopped for poststop.
python3 - "$LOG" "$id" "$B" "$pid" > "$WORK/hookcheck" 2>&1 <<'EOF'
import json, sys
log, cid, bundle, pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4] or 0)
want_status = {"prestart": "creating", "createRuntime": "creating", "createContainer": "creating",
               "startContainer": "created", "poststart": "running", "poststop": "stopped"}
for line in open(log):
    name, _, text = line.strip().partition(" ")
    try:
        s = json.loads(text)
    except Exception as e:
        print("%s: bad JSON on stdin (%s): %r" % (name, e, text[:200]))
        continue
    bad = []
    if s.get("id") != cid: bad.append("id=%r" % s.get("id"))
    if s.get("bundle") != bundle: bad.append("bundle=%r" % s.get("bundle"))
    if not s.get("ociVersion"): bad.append("no ociVersion")
    if s.get("status") != want_status[name]: bad.append("status=%r (want %s)" % (s.get("status"), want_status[name]))
    # OCI: hooks run in the container namespace see the pid as the container
    # sees it (1 in a new pid namespace; runc passes getpid()).
    want_pid = 1 if name in ("createContainer", "startContainer") else pid
    if name != "poststop" and s.get("pid") != want_pid: bad.append("pid=%r (want %d)" % (s.get("pid"), want_pid))
    print("%s %s" % (name, "ok" if not bad else " ".join(bad)))
EOF
for h in prestart createRuntime createContainer startContainer poststart poststop; do
    got=$(grep "^$h " "$WORK/hookcheck")
    expect_eq "$h hook got the state (id, pid, status, bundle) on stdin" "$h ok" "$got"
done
for h in prestart createRuntime createContainer startContainer poststart poststop; do
    expect_eq "$h hook got its env and args" "$h env=$h-var args=arg1" "$(grep "^$h " "$LOG.env" 2>/dev/null)"
done
assert_clean "hooks run leaves nothing behind" "$id"

# run: the same six, in order, in one command.
id=$(newid runhooks)
rm -f "$LOG" "$LOG.env"
args "$B" 'true'
cella run --bundle "$B" "$id" > "$WORK/run.out" 2>&1
expect_eq "run: hook order" "prestart createRuntime createContainer startContainer poststart poststop" \
    "$(echo $(awk '{print $1}' "$LOG" 2>/dev/null))"
assert_clean "run with hooks leaves nothing behind" "$id"

# ---- failures ---------------------------------------------------------------------------------
failing() { # failing KIND HOOKJSON: create must fail naming the hook, and clean up
    local kind=$1 json=$2 what=$3 id out rc
    id=$(newid "f$kind")
    reset
    args "$B" 'exec sleep 100'
    cfg "$B" "c['hooks']={'$kind':[$json]}"
    start=$(date +%s%N)
    cella create --bundle "$B" "$id" > "$WORK/fail.out" 2>&1
    rc=$?
    el=$((($(date +%s%N) - start) / 1000000))
    out=$(cat "$WORK/fail.out")
    if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q "$kind" && printf '%s' "$out" | grep -q "$what"; then
        ok "failing $kind hook: create fails naming the hook ($what)"
    else
        not_ok "failing $kind hook: create fails naming the hook ($what)" "exit $rc: $out"
    fi
    expect_eq "failing $kind hook: one line on stderr" 1 "$(printf '%s\n' "$out" | grep -c .)"
    assert_clean "failing $kind hook leaves nothing behind" "$id"
    LAST_ELAPSED=$el
}
failing prestart '{"path":"/bin/false"}' '/bin/false'
failing createRuntime '{"path":"/bin/sh","args":["sh","-c","exit 4"]}' 'status 4'
failing createContainer '{"path":"/bin/sh","args":["sh","-c","exit 5"]}' 'status 5'
failing prestart '{"path":"/nonexistent/hook"}' '/nonexistent/hook'
failing prestart '{"path":"/bin/sleep","args":["sleep","5"],"timeout":1}' 'timed out'
if [ "${LAST_ELAPSED:-99999}" -lt 4000 ]; then ok "hook timeout: create gives up after about 1 s"; else not_ok "hook timeout: create gives up after about 1 s" "${LAST_ELAPSED} ms"; fi

# A failing startContainer hook makes start fail, naming the hook.
id=$(newid fstart)
reset
args "$B" 'exec sleep 100'
cfg "$B" "c['hooks']={'startContainer':[{'path':'/bin/sh','args':['sh','-c','exit 6']}]}"
cella create --bundle "$B" "$id" > "$WORK/fs.out" 2>&1
out=$(cella start "$id" 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q startContainer; then
    ok "failing startContainer hook: start fails naming the hook"
else
    not_ok "failing startContainer hook: start fails naming the hook" "exit $rc: $out"
fi
st=$(state_field "$id" status)
if [ "$st" != running ]; then ok "failing startContainer hook: container is not running"; else not_ok "failing startContainer hook: container is not running" "status $st"; fi
cella delete --force "$id" > /dev/null 2>&1
assert_clean "failing startContainer hook: delete --force leaves nothing" "$id"

# A failing poststart hook: start reports it but the container runs (runc warns).
id=$(newid fpost)
reset
args "$B" 'exec sleep 100'
cfg "$B" "c['hooks']={'poststart':[{'path':'/bin/false'}],'poststop':[{'path':'/bin/false'}]}"
cella create --bundle "$B" "$id" > "$WORK/fp.out" 2>&1
out=$(cella start "$id" 2>&1)
expect_match "failing poststart hook is reported" 'poststart' "$out"
out=$(cella delete --force "$id" 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q poststop; then ok "failing poststop hook: delete warns and succeeds"; else not_ok "failing poststop hook: delete warns and succeeds" "exit $rc: $out"; fi
assert_clean "failing poststart/poststop hooks leave nothing after delete" "$id"

plan_done
exit 0
