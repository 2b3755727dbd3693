#!/bin/bash
# User-caused failures: each prints ONE line on stderr naming the culprit,
# exits non-zero, and leaves nothing behind.
source "$(dirname "$0")/lib.sh"

B=$WORK/bundle
make_bundle "$B"
args "$B" 'exec sleep 100'
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# ---- bundle and config --------------------------------------------------------------------
id=$(newid e)
fails "missing bundle dir" "$id" "bundle .*$WORK/nope.*No such file" cella create --bundle "$WORK/nope" "$id"
mkdir -p "$WORK/empty"
id=$(newid e)
fails "bundle without config.json" "$id" "$WORK/empty/config.json.*No such file" cella create --bundle "$WORK/empty" "$id"

reset
printf '{\n  "ociVersion": "1.1.0",\n  "process": {\n    "args": ["sh",]\n  }\n}\n' > "$B/config.json"
id=$(newid e)
fails "malformed JSON names line and column" "$id" 'config.json.*line 4.*column' cella create --bundle "$B" "$id"

reset
cfg "$B" "c['process']['args']=[5]"
id=$(newid e)
fails "wrong type: process.args[0]: expected string" "$id" 'process\.args\[0\]: expected string' cella create --bundle "$B" "$id"
reset
cfg "$B" "c['process']['rlimits']=[{'type':'RLIMIT_NOFILE','soft':10,'hard':'lots'}]"
id=$(newid e)
fails "wrong type: process.rlimits[0].hard: expected integer" "$id" 'process\.rlimits\[0\]\.hard: expected integer' cella create --bundle "$B" "$id"
reset
cfg "$B" "c['process']['rlimits']=[{'type':'RLIMIT_BOGUS','soft':1,'hard':1}]"
id=$(newid e)
fails "unknown rlimit type is named" "$id" 'RLIMIT_BOGUS' cella create --bundle "$B" "$id"
# Unknown capability names are ignored, as runc and crun do (not an error).
reset
cfg "$B" "[c['process']['capabilities'][k].append('CAP_BOGUS') for k in ('bounding','effective','permitted')]"
args "$B" 'grep CapEff /proc/self/status'
id=$(newid e)
expect_match "unknown capability is ignored (as runc): run succeeds with the known ones" \
    'CapEff:[[:space:]]+0000000020000420' "$(cella run --bundle "$B" "$id" 2>&1)"
reset
cfg "$B" "del c['ociVersion']"
id=$(newid e)
fails "missing ociVersion is named" "$id" 'ociVersion' cella create --bundle "$B" "$id"

reset
id='bad/id'
fails "invalid container id" - 'invalid container id' cella create --bundle "$B" "$id"

# ---- things that fail while creating -----------------------------------------------------------
reset
cfg "$B" "c['mounts'].append({'destination':'/mnt/x','type':'bind','source':'$WORK/no-such-src','options':['bind']})"
id=$(newid e)
fails "bind mount of a missing source names the source" "$id" "$WORK/no-such-src" cella create --bundle "$B" "$id"
reset
cfg "$B" "c['process']['args']=['no-such-program','arg']"
id=$(newid e)
fails "missing executable: executable ... not found" "$id" '`?no-such-program`?: executable file not found' cella create --bundle "$B" "$id"
id=$(newid e)
fails "missing executable with run" "$id" '`?no-such-program`?: executable file not found' cella run --bundle "$B" "$id"
reset
cfg "$B" "c['process']['args']=['/bin/no-such-program']"
id=$(newid e)
fails "missing executable by absolute path is named" "$id" '/bin/no-such-program' cella create --bundle "$B" "$id"
reset
cfg "$B" "[n.update(path='/var/run/netns/cella-no-such-ns') for n in c['linux']['namespaces'] if n['type']=='network']"
id=$(newid e)
fails "namespace path that does not exist is named" "$id" '/var/run/netns/cella-no-such-ns' cella create --bundle "$B" "$id"
reset
cfg "$B" "c['root']['path']='no-such-rootfs'"
id=$(newid e)
fails "missing rootfs is named" "$id" 'no-such-rootfs' cella create --bundle "$B" "$id"
reset
cfg "$B" "c['process']['cwd']='relative/dir'"
id=$(newid e)
fails "relative process.cwd is refused" "$id" 'cwd' cella create --bundle "$B" "$id"
reset
cfg "$B" "c['process']['user']={'uid':0,'gid':0}" "c['process']['terminal']=True"
id=$(newid e)
fails "terminal without --console-socket" "$id" 'console-socket' cella create --bundle "$B" "$id"

# ---- isolation levels ------------------------------------------------------------------------
reset
cfg "$B" "c['annotations']={'run.cella.isolation':'bogus'}"
id=$(newid e)
fails "unknown isolation level from the annotation" "$id" 'unknown isolation level `?bogus`?.*annotation' cella create --bundle "$B" "$id"
reset
cfg "$B" "c['annotations']={'run.cella.isolation':'sandbox'}"
id=$(newid e)
fails "isolation level sandbox: not built yet" "$id" 'sandbox.*not built' cella create --bundle "$B" "$id"
reset
id=$(newid e)
fails "--isolation bogus" "$id" 'unknown isolation level `?bogus`?.*--isolation' "$CELLA" --root "$ROOT" --isolation bogus create --bundle "$B" "$id"

# ---- ids ---------------------------------------------------------------------------------------
reset
id=$(newid live)
cella create --bundle "$B" "$id" > "$WORK/live.out" 2>&1 || not_ok "create $id for the error tests" "$(cat "$WORK/live.out")"
fails "container id exists" - "container \`?$id\`? already exists" cella create --bundle "$B" "$id"
expect_eq "the existing container is untouched" created "$(state_field "$id" status)"
fails "unknown signal" - 'unknown signal `?FOO`?' cella kill "$id" FOO
fails "signal number out of range" - 'unknown signal `?99`?' cella kill "$id" 99
expect_eq "unknown signal: the container is untouched" created "$(state_field "$id" status)"
cella start "$id" > /dev/null 2>&1
fails "start of a running container" - 'not created' cella start "$id"
fails "delete of a running container without --force" - "$id.*running" cella delete "$id"
fails "resume of a running container" - "$id.*not paused" cella resume "$id"
fails "exec with no command" - 'command' cella exec "$id"
fails "exec of a missing executable" - '`?no-such-program`?: executable file not found' cella exec "$id" no-such-program
fails "exec --user with a bad value" - 'user' cella exec --user bob:x "$id" true
cella kill "$id" KILL > /dev/null 2>&1
wait_for 30 sh -c "\"$CELLA\" --root \"$ROOT\" state $id | grep -q '\"stopped\"'"
fails "pause of a stopped container" - "$id.*stopped" cella pause "$id"
fails "exec into a stopped container" - "$id.*stopped" cella exec "$id" true
fails "kill of a stopped container" - "$id.*not running" cella kill "$id" TERM
fails "update of a stopped container" - "$id.*stopped" cella update --memory 1000000 "$id"
cella delete "$id" > /dev/null 2>&1
assert_clean "the error-test container deletes cleanly" "$id"

for cmd in state start kill delete pause resume ps exec update; do
    extra=()
    [ $cmd = exec ] && extra=(true)
    [ $cmd = update ] && fails "update of a missing container" - "container \`?nosuch-$$\`? does not exist" cella update --memory 1000000 "nosuch-$$" && continue
    fails "$cmd of a missing container" - "container \`?nosuch-$$\`? does not exist" cella $cmd "nosuch-$$" "${extra[@]}"
done
expect_eq "delete --force of a missing container succeeds silently" "0:" \
    "$(cella delete --force "nosuch-$$" 2>&1; echo "$?:")"

# ---- usage errors ----------------------------------------------------------------------------
fails "unknown command (runc's words)" - "No help topic for 'frobnicate'" cella frobnicate
fails "unknown option" - '--bogus' cella create --bogus x
fails "create without an id" - 'needs a container ID' cella create --bundle "$B"
fails "unknown global option" - '--bogus-global' "$CELLA" --bogus-global list
fails "--log-format bogus" - 'log-format' "$CELLA" --log-format yaml list

# ---- --log / --log-format json -----------------------------------------------------------------
rm -f "$WORK/log.json"
id=$(newid e)
"$CELLA" --root "$ROOT" --log "$WORK/log.json" --log-format json state "$id" > /dev/null 2> "$WORK/err"
got=$(python3 - "$WORK/log.json" "$id" <<'EOF' 2>&1
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
o = json.loads(lines[-1])
print(len(lines), o.get("level"), sys.argv[2] in o.get("msg", ""))
EOF
)
expect_eq "--log FILE --log-format json: one {\"level\":\"error\",\"msg\":...} line naming the id" "1 error True" "$got"
expect_eq "--log also keeps the one line on stderr" 1 "$(grep -c . "$WORK/err")"
rm -f "$WORK/log.txt"
"$CELLA" --root "$ROOT" --log "$WORK/log.txt" state "$id" > /dev/null 2>&1
expect_match "--log FILE (text) names the error" "error.*$id.*does not exist" "$(cat "$WORK/log.txt" 2>/dev/null)"

# ---- what a container may not touch ---------------------------------------------------------
reset
cfg "$B" "c['linux']['sysctl']={'kernel.pid_max': '4194304'}"
id=$(newid e)
fails "a sysctl outside the container's namespaces is refused" "$id" \
    'kernel.pid_max.*not in a namespace of the container' cella create --bundle "$B" "$id"

# exec into a container whose process is gone never runs on the host.
reset
args "$B" 'exit 0'
id=$(newid e)
cella create --bundle "$B" "$id" >/dev/null 2>&1
cpid=$(state_field "$id" pid)
kill -9 "$cpid" 2>/dev/null
wait_for 30 sh -c "! kill -0 $cpid 2>/dev/null"
fails "exec into a stopped container is refused" - "is stopped|not running" \
    cella exec "$id" /bin/busybox touch "$WORK/exec-ran-on-host"
check "the command did not run on the host" test ! -e "$WORK/exec-ran-on-host"
cella delete --force "$id" >/dev/null 2>&1

# A create killed half-way leaves a state that delete cleans up completely.
reset
cfg "$B" "c['hooks']={'prestart': [{'path': '/bin/sleep', 'args': ['sleep', '5']}]}"
id=$(newid e)
# cella itself in the background ($! of the `cella` function would be a subshell).
"$CELLA" --root "$ROOT" create --bundle "$B" "$id" >/dev/null 2>&1 &
cpid=$!
check "create runs its prestart hook" wait_for 100 pgrep -P $cpid -x sleep
kill -9 $cpid 2>/dev/null
wait $cpid 2>/dev/null
check "kill of a half-created container does not fail on pid 0" \
    sh -c "timeout 10 '$CELLA' --root '$ROOT' kill '$id' KILL; true"
check "delete --force of a half-created container" cella delete --force "$id"
assert_clean "a half-created container leaves nothing after delete" "$id"

plan_done
exit 0
