# Helpers sourced by every tests/integration/test_*.sh file.
#
#   $CELLA        the binary under test (absolute; default build/cella)
#   $ROOT         a --root state directory private to this test file
#   $WORK         scratch directory (bundles, logs), removed at exit
#   cella ARGS    runs "$CELLA --root $ROOT ARGS" (killed after $CELLA_TIMEOUT s)
#   newid NAME    a container id unique to this test file (cgroups are global)
#   make_bundle DIR          busybox rootfs + config.json (no terminal, rw root)
#   cfg DIR 'python on c'...  edit DIR/config.json (c is the parsed JSON)
#   ok / not_ok / skip / check / expect_eq / expect_match / plan_done   (TAP)
#   assert_clean NAME ID     no state dir, no cgroup, no process left for ID
#   fails NAME ID ERE CMD... CMD fails with one stderr line matching ERE, then assert_clean
#
# Each file prints TAP and exits 0 unless the harness itself broke.
set -u
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$LIB_DIR/../.." && pwd)
CELLA=${CELLA:-$REPO_ROOT/build/cella}
case $CELLA in /*) ;; *) CELLA=$REPO_ROOT/$CELLA ;; esac
if [ ! -x "$CELLA" ]; then
    echo "Bail out! $CELLA is not built (make -j2)"
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "1..0 # SKIP integration tests need root"
    exit 0
fi
export CELLA
# The sanitizer build: report leaks, but as a failing status, not an abort.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

TEST_NAME=$(basename "$0" .sh)
ROOT=$(mktemp -d "/tmp/cella-it-root.$TEST_NAME.XXXXXX")
WORK=$(mktemp -d "/tmp/cella-it-work.$TEST_NAME.XXXXXX")
# Bundles must be reachable by uids mapped into user namespaces.
chmod 755 "$WORK"
export ROOT WORK
BUSYBOX=${BUSYBOX:-/bin/busybox}
_TAP_N=0
_TAP_FAIL=0
_CLEANUP_CMDS=()

# Every command is bounded (CELLA_TIMEOUT seconds, then SIGKILL): a hang is a
# failure (exit 124/137), not a stuck test run.
CELLA_TIMEOUT=${CELLA_TIMEOUT:-10}
cella() { timeout -k 2 "$CELLA_TIMEOUT" "$CELLA" --root "$ROOT" "$@"; }

# The counter lives in a file: newid is mostly called as id=$(newid x).
newid() {
    local n
    n=$(($(cat "$WORK/.idn" 2>/dev/null || echo 0) + 1))
    echo $n > "$WORK/.idn"
    echo "${1:-c}-$$-$n"
}

# ---- TAP ----------------------------------------------------------------------

_diag() {
    [ $# -gt 0 ] && [ -n "$*" ] || return 0
    printf '%s\n' "$*" | head -n 30 | sed 's/^/#   /'
}

ok() {
    _TAP_N=$((_TAP_N + 1))
    echo "ok $_TAP_N - $1"
}

not_ok() {
    _TAP_N=$((_TAP_N + 1))
    _TAP_FAIL=$((_TAP_FAIL + 1))
    echo "not ok $_TAP_N - $1"
    shift
    _diag "$*"
}

skip() {
    _TAP_N=$((_TAP_N + 1))
    echo "ok $_TAP_N - $1 # SKIP ${2:-}"
}

# check NAME CMD...: ok when CMD exits 0 (its output is shown otherwise).
# Output goes to a file, not a pipe: a created container keeps the caller's
# stdio, and reading a pipe would wait for the container to exit.
check() {
    local name=$1 out rc f
    shift
    f=$(mktemp "$WORK/check.XXXXXX")
    "$@" > "$f" 2>&1
    rc=$?
    out=$(head -c 4000 "$f")
    if [ $rc -eq 0 ]; then ok "$name"; else not_ok "$name" "command: $*" "exit $rc" "$out"; fi
}

# check_fail NAME CMD...: ok when CMD exits non-zero.
check_fail() {
    local name=$1 out rc f
    shift
    f=$(mktemp "$WORK/check.XXXXXX")
    "$@" > "$f" 2>&1
    rc=$?
    out=$(head -c 4000 "$f")
    if [ $rc -ne 0 ]; then ok "$name"; else not_ok "$name" "command: $* succeeded" "$out"; fi
}

expect_eq() {
    if [ "$2" == "$3" ]; then
        ok "$1"
    else
        not_ok "$1" "expected: $(printf '%q' "$2")" "actual:   $(printf '%q' "$3")"
    fi
}

# expect_match NAME ERE TEXT
expect_match() {
    if printf '%s' "$3" | grep -Eq -- "$2"; then
        ok "$1"
    else
        not_ok "$1" "expected to match: $2" "actual: $3"
    fi
}

# expect_nomatch NAME ERE TEXT
expect_nomatch() {
    if printf '%s' "$3" | grep -Eq -- "$2"; then
        not_ok "$1" "expected NOT to match: $2" "actual: $3"
    else
        ok "$1"
    fi
}

plan_done() {
    echo "1..$_TAP_N"
}

# ---- bundles -----------------------------------------------------------------------

# make_bundle DIR: rootfs of busybox with its applets, /etc/passwd and group,
# and a config.json from `cella spec` with terminal off and a writable root.
make_bundle() {
    local b=$1 a
    mkdir -p "$b/rootfs"/{bin,sbin,etc,proc,sys,dev,tmp,root,home/user,usr/bin,var}
    chmod 755 "$b" "$b/rootfs"
    chmod 1777 "$b/rootfs/tmp"
    cp "$BUSYBOX" "$b/rootfs/bin/busybox"
    for a in $("$BUSYBOX" --list); do
        [ "$a" = busybox ] && continue
        ln -s busybox "$b/rootfs/bin/$a" 2>/dev/null || true
    done
    cat > "$b/rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/sh
EOF
    cat > "$b/rootfs/etc/group" <<'EOF'
root:x:0:
user:x:1000:
nogroup:x:65534:
EOF
    (cd "$b" && "$CELLA" spec) || { echo "Bail out! cella spec failed"; exit 1; }
    cfg "$b" "c['process']['terminal']=False" "c['root']['readonly']=False" \
        "c['process']['args']=['sh','-c','true']"
}

# cfg DIR EXPR...: each EXPR is Python run with c = the config (json, os, sys available).
cfg() {
    local b=$1
    shift
    python3 - "$b/config.json" "$@" <<'PYEOF' || { echo "Bail out! cfg $b: $*"; exit 1; }
import json, os, sys
path = sys.argv[1]
with open(path) as f:
    c = json.load(f)
for e in sys.argv[2:]:
    exec(e)
with open(path, "w") as f:
    json.dump(c, f, indent=2)
PYEOF
}

# args DIR 'shell command': the process runs `sh -c 'shell command'`.
args() {
    CELLA_ARGS_CMD=$2 cfg "$1" "c['process']['args']=['sh','-c',os.environ['CELLA_ARGS_CMD']]"
}

# state_field ID FIELD: one field of `cella state ID` (empty if it fails).
state_field() {
    cella state "$1" 2>/dev/null | python3 -c "import json,sys
try: print(json.load(sys.stdin).get(sys.argv[1], ''))
except Exception: pass" "$2"
}

# wait_for TIMEOUT_DS CMD...: retry CMD every 0.1 s until it succeeds.
wait_for() {
    local n=$1 i
    shift
    for ((i = 0; i < n; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# ---- cleanliness ----------------------------------------------------------------------

# leftovers ID: prints what is left of ID (empty when clean).
leftovers() {
    local id=$1 d p
    [ -e "$ROOT/$id" ] && echo "state dir $ROOT/$id"
    for d in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do
        [ -d "$d$id" ] && echo "cgroup $d$id"
    done
    # In the container's cgroup, or a cella process (the container's init is
    # one until it execs) still holding the id as an argument.
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = $$ ] && continue
        if grep -qsE ":/$id(/|\$)" "$p/cgroup" 2>/dev/null ||
            tr '\0' '\n' 2>/dev/null < "$p/cmdline" | grep -qxF -- "$id"; then
            echo "process ${p#/proc/}: $(tr '\0' ' ' 2>/dev/null < "$p/cmdline")"
        fi
    done
    return 0
}

# assert_clean NAME ID (cgroup removal may lag a moment after a kill).
assert_clean() {
    local name=$1 id=$2 left i
    for ((i = 0; i < 20; i++)); do
        left=$(leftovers "$id")
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -z "$left" ]; then ok "$name"; else not_ok "$name" "$left"; fi
}

# fails NAME ID ERE CMD...: CMD exits non-zero with exactly one stderr line
# matching ERE, and nothing is left of ID (unless ID is "-").
fails() {
    local name=$1 id=$2 re=$3 rc err
    shift 3
    "$@" > "$WORK/out" 2> "$WORK/err"
    rc=$?
    err=$(cat "$WORK/err")
    if [ $rc -ne 0 ] && [ "$(grep -c . "$WORK/err")" = 1 ] && printf '%s' "$err" | grep -Eq -- "$re"; then
        ok "$name"
    else
        not_ok "$name" "command: $*" "exit $rc; stderr:" "$err" "(wanted one line matching: $re)"
    fi
    [ "$id" = - ] || assert_clean "$name: nothing left" "$id"
}

# on_exit CMD: run CMD (a string) at exit, before the containers are deleted.
on_exit() {
    _CLEANUP_CMDS+=("$1")
}

_cleanup() {
    local rc=$? id c
    for c in "${_CLEANUP_CMDS[@]}"; do
        eval "$c" >/dev/null 2>&1 || true
    done
    if [ -d "$ROOT" ]; then
        for id in $(ls "$ROOT" 2>/dev/null); do
            timeout 10 "$CELLA" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
        done
        # Anything that delete could not remove: its cgroups, then the files.
        for id in $(ls "$ROOT" 2>/dev/null); do
            for c in /sys/fs/cgroup/*/"$id"; do
                [ -d "$c" ] || continue
                for p in $(cat "$c/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
                rmdir "$c" 2>/dev/null
            done
        done
        rm -rf "$ROOT"
    fi
    [ -d "$WORK" ] && rm -rf "$WORK"
    exit $rc
}
trap _cleanup EXIT
trap 'exit 130' INT TERM
