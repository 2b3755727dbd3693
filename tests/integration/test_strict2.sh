#!/bin/bash
# Fields cella refused as "not yet" and now applies (issue 16 point 3), each
# read back from inside the container or from the host.
source "$(dirname "$0")/lib.sh"

B=$WORK/bundle
make_bundle "$B"
args "$B" 'exec sleep 100'
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# ---- linux.personality: the execution domain, seen by uname -------------------------------
reset
args "$B" 'uname -m'
cfg "$B" "c['linux']['personality']={'domain':'LINUX32'}"
if [ "$(uname -m)" != x86_64 ]; then
    skip "linux.personality LINUX32: uname -m inside is i686" "host is $(uname -m), not x86_64"
else
    id=$(newid p)
    expect_eq "linux.personality LINUX32: uname -m inside is i686" i686 "$(cella run --bundle "$B" "$id" 2>&1)"
    cella delete --force "$id" > /dev/null 2>&1
    cfg "$B" "c['linux']['personality']={'domain':'LINUX'}"
    id=$(newid p)
    expect_eq "linux.personality LINUX: uname -m inside is the host's" "$(uname -m)" "$(cella run --bundle "$B" "$id" 2>&1)"
    cella delete --force "$id" > /dev/null 2>&1
    # exec: the same domain as the init
    reset
    cfg "$B" "c['linux']['personality']={'domain':'LINUX32'}"
    id=$(newid p)
    cella run -d --bundle "$B" "$id" > /dev/null 2>&1
    expect_eq "linux.personality LINUX32: exec'd process's uname -m is i686" i686 "$(cella exec "$id" uname -m 2>&1)"
    cella delete --force "$id" > /dev/null 2>&1
fi
reset
cfg "$B" "c['linux']['personality']={'domain':'PER_SVR4'}"
id=$(newid p)
fails "linux.personality: an unknown domain refused, named" "$id" 'linux\.personality\.domain: unknown domain `PER_SVR4`' cella create --bundle "$B" "$id"
reset
cfg "$B" "c['linux']['personality']={'domain':'LINUX','flags':['ADDR_NO_RANDOMIZE']}"
id=$(newid p)
fails "linux.personality: a flag refused, named" "$id" 'linux\.personality\.flags: `ADDR_NO_RANDOMIZE` is not supported' cella create --bundle "$B" "$id"

# ---- process.scheduler: sched_setattr, read back from /proc/PID/stat ---------------------------
# Fields after the command's ")": 19 nice and 41 policy of stat(5) are the 17th and 39th.
stat_of() { sed 's/.*) //' | awk -v f="$1" '{print $(f - 2)}'; }
sched_run() { # POLICY-JSON: starts container $id with it; got="policy nice" from the host
    reset
    cfg "$B" "c['process']['scheduler']=$1"
    id=$(newid q)
    got=
    cella run -d --bundle "$B" "$id" > "$WORK/sched.out" 2>&1
    pid=$(state_field "$id" pid)
    [ -z "$pid" ] || got="$(stat_of 41 < /proc/$pid/stat) $(stat_of 19 < /proc/$pid/stat)"
}
sched_run "{'policy':'SCHED_BATCH','nice':7}"
expect_eq "process.scheduler SCHED_BATCH nice 7: the init's policy is 3, its nice 7" "3 7" "$got"
cella delete --force "$id" > /dev/null 2>&1
sched_run "{'policy':'SCHED_IDLE'}"
expect_eq "process.scheduler SCHED_IDLE: the init's policy is 5" "5 0" "$got"
# exec --process: the exec'd process reads its own policy
printf '{"args":["cat","/proc/self/stat"],"cwd":"/","scheduler":{"policy":"SCHED_BATCH","nice":3}}' > "$WORK/proc.json"
got=$(cella exec --process "$WORK/proc.json" "$id" 2>&1)
expect_eq "exec --process with process.scheduler SCHED_BATCH nice 3: its policy 3, nice 3" "3 3" \
    "$(echo "$got" | stat_of 41) $(echo "$got" | stat_of 19)"
cella delete --force "$id" > /dev/null 2>&1
# A real-time policy: applied where the host lets the container's cgroup run
# real-time tasks, else refused in one line naming the field and the errno.
sched_run "{'policy':'SCHED_FIFO','priority':10}"
if [ "$got" = "1 0" ]; then
    ok "process.scheduler SCHED_FIFO 10: the init's policy is 1"
else
    expect_match "process.scheduler SCHED_FIFO refused here: one line naming the field" \
        '^cella: process\.scheduler: sched_setattr \(policy 1\): [A-Z]' "$(cat "$WORK/sched.out")"
    expect_eq "process.scheduler SCHED_FIFO refused here: one line" 1 "$(wc -l < "$WORK/sched.out")"
    assert_clean "process.scheduler SCHED_FIFO refused here" "$id"
fi
cella delete --force "$id" > /dev/null 2>&1
reset
cfg "$B" "c['process']['scheduler']={'policy':'SCHED_NOPE'}"
id=$(newid q)
fails "process.scheduler: an unknown policy refused, named" "$id" 'process\.scheduler\.policy: unknown policy `SCHED_NOPE`' cella create --bundle "$B" "$id"
reset
cfg "$B" "c['process']['scheduler']={'policy':'SCHED_OTHER','flags':['SCHED_FLAG_NOPE']}"
id=$(newid q)
fails "process.scheduler: an unknown flag refused, named" "$id" 'process\.scheduler\.flags\[0\]: unknown flag `SCHED_FLAG_NOPE`' cella create --bundle "$B" "$id"

# ---- the time namespace with linux.timeOffsets: the container's clocks are shifted -------------
if [ ! -e /proc/self/ns/time ]; then
    skip "time namespace: boottime offset shifts /proc/uptime" "this kernel has no time namespace"
else
    # An offset of 10 days: inside minus outside is it, whatever ran in between
    # (a second's slack each way for the two reads).
    reset
    args "$B" 'cat /proc/uptime'
    cfg "$B" "c['linux']['namespaces'].append({'type':'time'})" \
        "c['linux']['timeOffsets']={'boottime':{'secs':864000},'monotonic':{'secs':-5,'nanosecs':7}}"
    id=$(newid t)
    before=$(cut -d. -f1 /proc/uptime)
    inside=$(cella run --bundle "$B" "$id" 2>&1 | cut -d. -f1)
    after=$(cut -d. -f1 /proc/uptime)
    case $inside in '' | *[!0-9]*) d1=0 d2=0 ;; *) d1=$((inside - after)) d2=$((inside - before)) ;; esac
    check "time namespace: /proc/uptime inside is shifted by linux.timeOffsets.boottime (864000 s; got $inside, host $before..$after)" \
        test "$d1" -ge 863999 -a "$d2" -le 864001
    cella delete --force "$id" > /dev/null 2>&1
    # exec joins the same namespace; the offsets are the kernel's record of it
    args "$B" 'exec sleep 100'
    cfg "$B" "c['hooks']={'poststart':[{'path':'/bin/sh','args':['sh','-c','readlink /proc/self/ns/time > $WORK/hook.ns']}]}"
    id=$(newid t)
    cella run -d --bundle "$B" "$id" > /dev/null 2>&1
    expect_eq "time namespace: the container's offsets as the kernel holds them" \
        "monotonic -5 7
boottime 864000 0" "$(cella exec "$id" cat /proc/self/timens_offsets 2>&1 | tr -s ' ')"
    pid=$(state_field "$id" pid)
    check "time namespace: the container's init is in a time namespace of its own" \
        test -n "$pid" -a "$(readlink /proc/$pid/ns/time)" != "$(readlink /proc/self/ns/time)"
    expect_eq "time namespace: a hook cella runs after it stays on the host's clocks" \
        "$(readlink /proc/self/ns/time)" "$(cat "$WORK/hook.ns" 2>&1)"
    cella delete --force "$id" > /dev/null 2>&1
fi
reset
cfg "$B" "c['linux']['timeOffsets']={'boottime':{'secs':10}}"
id=$(newid t)
fails "linux.timeOffsets without a new time namespace refused" "$id" '^cella: linux\.timeOffsets: needs a new time namespace' cella create --bundle "$B" "$id"
reset
cfg "$B" "c['linux']['namespaces'].append({'type':'time'})" "c['linux']['timeOffsets']={'realtime':{'secs':10}}"
id=$(newid t)
fails "linux.timeOffsets: a clock the kernel cannot offset refused, named" "$id" 'linux\.timeOffsets\.realtime: unknown clock' cella create --bundle "$B" "$id"

# ---- features: the time namespace is listed ---------------------------------------------------
expect_eq "features: linux.namespaces lists time" True \
    "$(cella features | python3 -c 'import json,sys; print("time" in json.load(sys.stdin)["linux"]["namespaces"])' 2>&1)"

plan_done
