#!/bin/bash
# What callers of a runc drop-in see at the command line: runc 1.1's options,
# exit codes, files and output shapes, side by side with Debian's runc where
# it is installed (RUNC=/path to choose another, RUNC= to skip those checks).
source "$(dirname "$0")/lib.sh"

RUNC=${RUNC-$(command -v runc 2>/dev/null)}
RROOT=$WORK/runc-root
runc_() { timeout -k 2 "$CELLA_TIMEOUT" "$RUNC" --root "$RROOT" "$@"; }
on_exit 'for i in $(ls "$RROOT" 2>/dev/null); do "$RUNC" --root "$RROOT" delete -f "$i"; done'

B=$WORK/bundle
make_bundle "$B"
args "$B" 'exec sleep 100'
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# status_of CMD...: the exit status of CMD (its output in $WORK/out, $WORK/err).
status_of() {
    "$@" > "$WORK/out" 2> "$WORK/err"
    echo $?
}

# ---- kill ID 0: does the container exist and live? ---------------------------------------
reset
id=$(newid k0)
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
expect_eq "kill ID 0 of a running container exits 0" 0 "$(status_of cella kill "$id" 0)"
cella kill "$id" KILL > /dev/null 2>&1
wait_for 50 sh -c "\"$CELLA\" --root \"$ROOT\" state $id | grep -q '\"stopped\"'"
expect_eq "kill ID 0 of a stopped container fails" 1 "$(status_of cella kill "$id" 0)"
cella delete "$id" > /dev/null 2>&1
expect_eq "kill ID 0 of a missing container fails" 1 "$(status_of cella kill "$id" 0)"
if [ -n "$RUNC" ]; then
    rid=$(newid rk0)
    runc_ run -d --bundle "$B" "$rid" > /dev/null 2>&1
    expect_eq "runc agrees: kill ID 0 of a running container exits 0" 0 "$(status_of runc_ kill "$rid" 0)"
    runc_ delete -f "$rid" > /dev/null 2>&1
    expect_eq "runc agrees: kill ID 0 of a missing container fails" 1 "$(status_of runc_ kill "$rid" 0)"
fi

# ---- exec --ignore-paused ----------------------------------------------------------------
reset
id=$(newid ip)
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
cella pause "$id" > /dev/null 2>&1
expect_eq "exec in a paused container fails (exit 255)" 255 "$(status_of cella exec "$id" true)"
expect_match "... and the error names --ignore-paused" 'paused.*--ignore-paused' "$(cat "$WORK/err")"
# The process joins the frozen cgroup, so it runs once the container is resumed.
cella exec --ignore-paused "$id" sh -c 'echo ran; exit 3' > "$WORK/ip.out" 2>&1 &
epid=$!
# Resumed once the exec's process is in the container (frozen with it).
wait_for 50 sh -c "\"$CELLA\" --root \"$ROOT\" ps -f json $id | grep -q ','"
cella resume "$id" > /dev/null 2>&1
wait $epid
expect_eq "exec --ignore-paused in a paused container runs after resume (exit 3)" 3 "$?"
expect_eq "exec --ignore-paused: the process's output" ran "$(cat "$WORK/ip.out")"
cella delete --force "$id" > /dev/null 2>&1
assert_clean "exec --ignore-paused leaves nothing behind" "$id"

# ---- run --keep ----------------------------------------------------------------------------
reset
args "$B" 'exit 4'
id=$(newid keep)
expect_eq "run --keep: the process's exit code" 4 "$(status_of cella run --keep --bundle "$B" "$id")"
expect_eq "run --keep: the container stays, stopped" stopped "$(state_field "$id" status)"
check "run --keep: delete removes it" cella delete "$id"
assert_clean "run --keep then delete leaves nothing behind" "$id"
id=$(newid nokeep)
cella run --bundle "$B" "$id" > /dev/null 2>&1
expect_eq "run without --keep deletes the container" "" "$(state_field "$id" status)"
check_fail "create has no --keep (as runc)" cella create --keep --bundle "$B" "$(newid ck)"

# ---- exec's exit codes: 255 for its own errors ----------------------------------------------
reset
expect_eq "exec in a missing container exits 255" 255 "$(status_of cella exec nosuch-$$ true)"
if [ -n "$RUNC" ]; then
    expect_eq "runc agrees: exec in a missing container exits 255" 255 "$(status_of runc_ exec nosuch-$$ true)"
fi
id=$(newid ex)
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
expect_eq "exec of a missing program exits 255" 255 "$(status_of cella exec "$id" /no/such/program)"
expect_eq "exec passes the process's own exit code (7)" 7 "$(status_of cella exec "$id" sh -c 'exit 7')"

# ---- a relative --pid-file is relative to the caller's directory -------------------------------
mkdir -p "$WORK/cwd"
id2=$(newid pf)
(cd "$WORK/cwd" && cella run -d --pid-file run.pid --bundle "$B" "$id2") > /dev/null 2>&1
expect_match "run -d --pid-file run.pid: written in the caller's directory" '^[0-9]+$' "$(cat "$WORK/cwd/run.pid" 2>/dev/null)"
expect_eq "... and not in the bundle" no "$([ -e "$B/run.pid" ] && echo yes || echo no)"
(cd "$WORK/cwd" && cella exec -d --pid-file exec.pid "$id" sleep 1) > /dev/null 2>&1
expect_match "exec -d --pid-file exec.pid: written in the caller's directory" '^[0-9]+$' "$(cat "$WORK/cwd/exec.pid" 2>/dev/null)"
id3=$(newid pfc)
(cd "$WORK/cwd" && cella create --pid-file create.pid --bundle "$B" "$id3") > /dev/null 2>&1
expect_eq "create --pid-file create.pid: the container's pid, in the caller's directory" \
    "$(state_field "$id3" pid)" "$(cat "$WORK/cwd/create.pid" 2>/dev/null)"
cella delete --force "$id" > /dev/null 2>&1
cella delete --force "$id2" > /dev/null 2>&1
cella delete --force "$id3" > /dev/null 2>&1

plan_done
exit 0
