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
fz=/sys/fs/cgroup/freezer/cella/$id/freezer.state
if [ ! -e "$fz" ]; then
    skip "delete warns when resume fails" "no v1 freezer cgroup for the container"
else
    echo FROZEN > "$WORK/frozen"
    mount --bind "$WORK/frozen" "$fz" && mount -o remount,bind,ro "$fz"
    on_exit "umount '$fz'"
    expect_eq "the container reads as paused" paused "$(state_field "$id" status)"
    out=$(cella delete --force "$id" 2>&1)
    expect_match "delete warns when resume fails, naming the container" \
        "^cella: warning: delete \`$id\`: resume before destroy: .*freezer.state" "$out"
    umount "$fz" 2>/dev/null
    cella delete --force "$id" > /dev/null 2>&1
    assert_clean "delete after a failed resume leaves nothing" "$id"
fi

plan_done
exit 0
