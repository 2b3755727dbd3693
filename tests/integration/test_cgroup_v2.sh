#!/bin/bash
# The container level on a pure cgroup v2 host. This machine is hybrid, so
# the test re-runs itself in a private mount namespace where cgroup2 is
# mounted on /sys/fs/cgroup (hiding the v1 hierarchies): there the only
# controller is the one v1 does not hold (hugetlb), which is enough to check
# creation, membership, freezing, killing, `unified` resources and removal;
# memory/cpu/pids limits on v2 are checked where the host is v2.
if [ "${CELLA_V2_INNER:-}" != 1 ]; then
    if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
        echo "1..0 # SKIP needs root and unshare(1)"
        exit 0
    fi
    if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
        exec env CELLA_V2_INNER=1 bash "$0" "$@" # already pure v2
    fi
    exec unshare -m --propagation private env CELLA_V2_INNER=1 bash -c \
        'mount -t cgroup2 none /sys/fs/cgroup && exec bash "$0" "$@"' "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
trap _cleanup EXIT

B=$WORK/bundle
make_bundle "$B"
expect_eq "the test sees a pure v2 host" cgroup2fs "$(stat -f -c %T /sys/fs/cgroup)"

# Membership: the process is in /ID of the one hierarchy, as under runc.
id=$(newid v2)
args "$B" 'cat /proc/self/cgroup; sleep 30'
cella run --detach --bundle "$B" "$id" >/dev/null 2>&1
check "run --detach" test "$(state_field "$id" status)" = running
pid=$(state_field "$id" pid)
expect_eq "the process is in /ID" "0::/$id" "$(grep "^0::" /proc/$pid/cgroup 2>/dev/null)"
check "the cgroup directory exists" test -d "/sys/fs/cgroup/$id"

# pause / resume through cgroup.freeze.
cella pause "$id" >/dev/null 2>&1
expect_eq "pause: state paused" paused "$(state_field "$id" status)"
expect_eq "pause: cgroup.freeze is 1" 1 "$(cat /sys/fs/cgroup/$id/cgroup.freeze 2>/dev/null)"
cella resume "$id" >/dev/null 2>&1
expect_eq "resume: state running" running "$(state_field "$id" status)"

# ps and kill --all.
check "ps --format json lists the pid" sh -c "cella() { timeout 10 \"\$CELLA\" --root \"\$ROOT\" \"\$@\"; }; cella ps --format json $id | grep -q $pid"
cella kill --all "$id" KILL >/dev/null 2>&1
wait_for 50 sh -c "! kill -0 $pid 2>/dev/null"
expect_eq "kill --all: stopped" stopped "$(state_field "$id" status)"
cella delete "$id" >/dev/null 2>&1
assert_clean "delete removes the v2 cgroup" "$id"

# linux.resources.unified on a controller the v2 tree has.
if grep -qw hugetlb /sys/fs/cgroup/cgroup.controllers; then
    id=$(newid v2u)
    file=$(cd /sys/fs/cgroup && ls -d cella 2>/dev/null >/dev/null; ls /sys/fs/cgroup/ | head -0)
    args "$B" 'cat /sys/fs/cgroup/hugetlb.2MB.max 2>/dev/null || echo none'
    cfg "$B" "c['linux'].setdefault('resources', {})['unified']={'hugetlb.2MB.max': '4194304'}" \
        "c['linux']['namespaces'].append({'type': 'cgroup'}) if {'type': 'cgroup'} not in c['linux']['namespaces'] else None"
    expect_eq "resources.unified: hugetlb.2MB.max applied, seen through the cgroup mount" \
        4194304 "$(cella run --bundle "$B" "$id" 2>&1)"
    assert_clean "run removes the cgroup" "$id"
    cfg "$B" "del c['linux']['resources']['unified']"
else
    skip "resources.unified" "no controller available in the v2 tree here"
fi

# A limit whose controller the v2 tree lacks: one clear line, nothing left.
if ! grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
    id=$(newid v2m)
    cfg "$B" "c['linux'].setdefault('resources', {})['memory']={'limit': 67108864}"
    out=$(cella run --bundle "$B" "$id" 2>&1)
    rc=$?
    check "memory limit without the memory controller fails" test $rc -ne 0
    expect_match "the error names the controller" "memory" "$out"
    expect_eq "one line on stderr" 1 "$(printf '%s\n' "$out" | wc -l)"
    assert_clean "nothing left after the failure" "$id"
else
    skip "missing controller error" "the memory controller is available in v2 here"
fi

# Device rules on v2: an eBPF program on the cgroup. mknod is allowed (as
# runc); reading a block device the spec does not allow is not; /dev/null is.
id=$(newid v2d)
cfg "$B" "c['linux'].setdefault('resources', {}).pop('memory', None)" \
    "c['linux']['resources']['devices']=[{'allow': False, 'access': 'rwm'}]" \
    "[c['process']['capabilities'][k].append('CAP_MKNOD') for k in ('bounding', 'effective', 'permitted')]"
args "$B" 'mknod /tmp/blk b 7 0; echo "mknod=$?"; head -c 1 /tmp/blk > /dev/null; echo "read=$?"; echo x > /dev/null; echo "null=$?"; rm -f /tmp/blk'
out=$(cella run --bundle "$B" "$id" 2>&1)
expect_match "v2 devices: mknod allowed" 'mknod=0' "$out"
expect_match "v2 devices: reading a device the rules do not allow: Operation not permitted" \
    'Operation not permitted' "$out"
expect_match "v2 devices: reading a denied device fails" 'read=1' "$out"
expect_match "v2 devices: /dev/null is usable" 'null=0' "$out"
assert_clean "v2 devices: nothing left" "$id"

# events --stats from the v2 files: cpu.stat is there without any controller.
id=$(newid v2e)
cfg "$B" "c['linux']['resources'].pop('devices', None)"
args "$B" 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 30'
cella run --detach --bundle "$B" "$id" >/dev/null 2>&1
ev=$(cella events --stats "$id" 2>&1)
expect_match "v2 events --stats: cpu usage from cpu.stat, in ns" \
    '"type":"stats".*"cpu":\{"usage":\{"total":[1-9][0-9]*,"kernel":[0-9]+,"user":[0-9]+\}' "$ev"
cella delete --force "$id" >/dev/null 2>&1

plan_done
exit 0
