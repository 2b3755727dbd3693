#!/bin/bash
# Where a container without linux.cgroupsPath goes: /ID in every hierarchy, as
# runc 1.1 and crun put it (a shared parent such as /cella would make every
# container share that parent's one CPU weight); --systemd-cgroup keeps runc's
# system.slice:PREFIX:ID shape with cella as the prefix; delete removes it.
. "$(dirname "$0")/lib.sh"

B=$WORK/bundle
make_bundle "$B"
args "$B" 'sleep 300'

# cgroup_lines PID: /proc/PID/cgroup, one "hierarchy:path" a line, sorted, for the
# hierarchies mounted here (a runtime makes no cgroup in one it cannot see, such as
# a net_cls hierarchy some other namespace mounted).
cgroup_lines() {
    local h rest
    cut -d: -f2- "/proc/$1/cgroup" 2>/dev/null | sort | while IFS=: read -r h rest; do
        case $h in
        '') ;;
        name=*) [ -d "/sys/fs/cgroup/${h#name=}" ] || continue ;;
        *) [ -d "/sys/fs/cgroup/$h" ] || continue ;;
        esac
        echo "$h:$rest"
    done
}

# not_at PATH PID: the hierarchies of PID not at PATH (empty: PID is at PATH in all).
not_at() { cgroup_lines "$2" | grep -v ":$1\$"; }

# left_dirs PATH: the cgroup directories named PATH in any hierarchy.
left_dirs() {
    local d
    for d in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do
        [ -d "$d${1#/}" ] && echo "$d${1#/}"
    done
}

# ---- the default: /ID, as under runc ---------------------------------------------------
id=$(newid dflt)
cella run --detach --bundle "$B" "$id" > /dev/null 2>&1
pid=$(state_field "$id" pid)
check "run without linux.cgroupsPath" test -n "$pid"
expect_eq "the process is at /ID in every hierarchy of /proc/PID/cgroup" "" "$(not_at "/$id" "$pid")"
expect_eq "state.json names the cgroup /ID" "/$id" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cgroup"])' "$ROOT/$id/state.json" 2>/dev/null)"

# Side by side with Debian's runc: the same bundle, the same hierarchies, the
# same place. runc 1.1 makes a relative name (Name=ID, Path="") under its own
# cgroup of each v1 hierarchy (the parent of its own in v2), so the two agree
# where this test runs in the root cgroup; elsewhere that is noted, not compared.
if command -v runc > /dev/null; then
    rid=$(newid runc)
    on_exit "runc --root '$WORK/runc' delete --force $rid"
    (cd "$B" && timeout 20 runc --root "$WORK/runc" run --detach "$rid" > /dev/null 2>&1 < /dev/null)
    rpid=$(timeout 10 runc --root "$WORK/runc" state "$rid" 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])' 2>/dev/null)
    at_root=$(cgroup_lines self | grep ':/$' | cut -d: -f1)
    same() { cgroup_lines "$1" | sed "s|:/$2\$|:/ID|" | grep -Fxf <(sed 's|$|:/ID|' <<< "$at_root"); }
    if [ -n "$rpid" ]; then
        expect_eq "where this test is in the root cgroup, cella's place is runc's" \
            "$(same "$rpid" "$rid")" "$(same "$pid" "$id")"
        check "... in $(wc -l <<< "$at_root") hierarchies, each at /ID" test -n "$(same "$pid" "$id")"
        for h in $(cgroup_lines self | grep -v ':/$' | cut -d: -f1); do
            echo "# $h: this test is not in its root cgroup; runc is at" \
                "$(cgroup_lines "$rpid" | grep "^$h:" | cut -d: -f2-)," \
                "cella at $(cgroup_lines "$pid" | grep "^$h:" | cut -d: -f2-)"
        done
    else
        not_ok "runc runs the same bundle" "$(ls "$WORK/runc" 2>&1)"
    fi
    timeout 20 runc --root "$WORK/runc" delete --force "$rid" > /dev/null 2>&1
else
    skip "where this test is in the root cgroup, cella's place is runc's" "no runc installed"
fi

check "the cgroup exists in every hierarchy" test -n "$(left_dirs "/$id")"
check "delete --force" cella delete --force "$id"
expect_eq "delete removes /ID from every hierarchy" "" "$(left_dirs "/$id")"
assert_clean "delete leaves nothing of the container" "$id"

# ---- --cgroup-manager disabled: as cgroupfs (/ID) --------------------------------------
id=$(newid dis)
timeout -k 2 "$CELLA_TIMEOUT" "$CELLA" --root "$ROOT" --cgroup-manager disabled \
    run --detach --bundle "$B" "$id" > /dev/null 2>&1
pid=$(state_field "$id" pid)
check "--cgroup-manager disabled: run" test -n "$pid"
expect_eq "--cgroup-manager disabled: at /ID, as with cgroupfs" "" "$(not_at "/$id" "$pid")"
cella delete --force "$id" > /dev/null 2>&1
assert_clean "--cgroup-manager disabled: delete leaves nothing" "$id"

# ---- --systemd-cgroup: runc's system.slice:runc:ID with cella's prefix -----------------
id=$(newid sysd)
timeout -k 2 "$CELLA_TIMEOUT" "$CELLA" --root "$ROOT" --systemd-cgroup \
    run --detach --bundle "$B" "$id" > /dev/null 2>&1
pid=$(state_field "$id" pid)
check "--systemd-cgroup: run" test -n "$pid"
expect_eq "--systemd-cgroup: at /system.slice/cella-ID.scope" "" \
    "$(not_at "/system.slice/cella-$id.scope" "$pid")"
cella delete --force "$id" > /dev/null 2>&1
expect_eq "--systemd-cgroup: delete removes the scope" "" "$(left_dirs "/system.slice/cella-$id.scope")"
assert_clean "--systemd-cgroup: delete leaves nothing" "$id"

plan_done
