#!/bin/bash
# tests/crun-suite/run.sh - run crun's own Python test suite against any
# OCI runtime binary (crun, runc, cella, ...).
#
# Usage:
#   tests/crun-suite/run.sh [--runtime /path/to/binary] [--tests LIST]
#                           [--keep-going] [--hide-unified] [--timeout SEC]
#                           [--tty] [--no-pidns] [--verbose] [--log-dir DIR]
#                           [--list]
#
#   --runtime PATH   runtime under test (default /usr/bin/crun). It is handed
#                    to crun's tests through OCI_RUNTIME, exactly as crun's
#                    own `make check` / tests/run_all_tests.sh do.
#   --tests LIST     comma separated test files and/or single cases, e.g.
#                    test_exec.py,test_cwd,test_start.py:run-twice
#                    (default: every tests/test_*.py of crun's source).
#   --keep-going     run everything even after a failure. Without it the run
#                    stops after the first failing test case (like make).
#   --hide-unified   run the suite inside a private mount namespace in which
#                    /sys/fs/cgroup/unified is unmounted, i.e.
#                      unshare -m --propagation private <this script> ...
#                      + umount /sys/fs/cgroup/unified
#                    This machine has a hybrid cgroup v1+v2 layout (v2 at
#                    /sys/fs/cgroup/unified) and crun 1.8 refuses it with
#                    "cgroups in hybrid mode not supported, drop all
#                    controllers from cgroupv2". Needed for crun; other
#                    runtimes (runc, cella) are run WITHOUT it by default.
#                    The host's mounts are not changed. (Inside it crun 1.8
#                    still creates /sys/fs/cgroup/unified/<id>/ as plain
#                    directories on the bare cgroup tmpfs, hidden under the
#                    v2 mount outside; those of the suite's containers are
#                    removed after each case.)
#   --timeout SEC    per test case timeout (default 60); a case that runs
#                    longer is killed and counted as failed.
#   --no-pidns       do not give each case its own PID namespace (below).
#   --tty            run each case under script(1) so that its stdout is a
#                    terminal; otherwise test_tty.py skips itself, as it does
#                    under crun's own harness (which pipes stdout).
#   --verbose        print the full output of failing cases.
#   --log-dir DIR    where per-case logs go (default
#                    ${TMPDIR:-/tmp}/cella-crun-suite/logs-<runtime name>).
#   --list           only list the test cases, run nothing.
#
# What it does:
#   1. Installs what is missing (python3, gcc, libc6-dev for the static libc,
#      dpkg-dev + xz-utils for `apt-get source`, libseccomp-dev, util-linux)
#      with apt-get, and enables deb-src once by writing
#      /etc/apt/sources.list.d/debian-src.sources (a copy of debian.sources
#      with `Types: deb-src`) followed by `apt-get update`.
#   2. `apt-get source crun` into a cache outside the repository,
#      ${CELLA_CACHE_DIR:-${XDG_CACHE_HOME:-/var/cache}/cella}/crun-src,
#      done only once; crun's code is never copied into this repository.
#   3. Builds crun's tests/init.c statically (`cc -static`, as crun's
#      Makefile.am does with -all-static) into that cache.
#   4. Copies crun's tests/*.py plus the init binary into a fresh work
#      directory and runs every test case on its own, from that directory,
#      as `python3 tests/test_X.py` with OCI_RUNTIME=<runtime>,
#      INIT=tests/init and RUN_TESTS=<case> (crun's tests_utils.py filter),
#      under `timeout`. Each case prints TAP: "ok N - name",
#      "ok N - name #SKIP" (the case returned 77) or "not ok N - name".
#      Each case runs as PID 1's child in a fresh PID + mount namespace
#      (`unshare --pid --fork --mount-proc`): when the case ends every
#      container it leaked dies with the namespace, /proc/1 is the case's
#      own init (test_exec.py joins /proc/1/ns/net; the real PID 1 of this
#      sandbox cannot be opened), and PIDs start at 10000
#      (test_exec.py:exec_write_pid_file wants a 5-digit PID). Cgroups
#      named after the suite's container ids that a case leaves behind are
#      removed afterwards.
#      If Python has no `libmount` module (Debian ships none) the small
#      stand-in in pyshim/ is put on PYTHONPATH, otherwise test_mounts.py
#      would skip itself entirely ("1..0").
#
# Output: one line per case, "PASS|FAIL|SKIP: test_file.py:case (time)",
# then the summary line
#   # crun-suite RUNTIME: N passed, N failed, N skipped (--tap: TAP lines too)
#   --expect FILE  known differences: a listed case that fails counts as a skip
#   --tap          also print a TAP line per case (for scripts/test.sh)
# Exit status: 0 when nothing failed, 1 when a case failed, 2 on setup error.
set -uo pipefail

SELF=$(readlink -f "$0")
SUITE_DIR=$(dirname "$SELF")

die() { echo "crun-suite: error: $*" >&2; exit 2; }
note() { echo "crun-suite: $*" >&2; }

# ---------------------------------------------------------------- options --
RUNTIME=/usr/bin/crun
TESTS=""
KEEP_GOING=0
EXPECT=
TAP=0
HIDE_UNIFIED=0
TIMEOUT=60
TTY=0
VERBOSE=0
LOG_DIR=""
LIST_ONLY=0
PIDNS=1
IN_NS=0
CACHE_DIR=${CELLA_CACHE_DIR:-${XDG_CACHE_HOME:-/var/cache}/cella}
SRC_CACHE=$CACHE_DIR/crun-src
PY=/usr/bin/python3

usage() { sed -n '2,/^set -uo/{/^#/s/^# \{0,1\}//p}' "$SELF"; }

if [ "${1:-}" = --_case-init ]; then shift; CASE_INIT=1; fi

while [ "${CASE_INIT:-0}" = 0 ] && [ $# -gt 0 ]; do
    case $1 in
        --runtime) RUNTIME=${2:?--runtime needs a path}; shift 2 ;;
        --runtime=*) RUNTIME=${1#*=}; shift ;;
        --tests) TESTS=${2:?--tests needs a list}; shift 2 ;;
        --tests=*) TESTS=${1#*=}; shift ;;
        --keep-going|-k) KEEP_GOING=1; shift ;;
        --hide-unified) HIDE_UNIFIED=1; shift ;;
        --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
        --timeout=*) TIMEOUT=${1#*=}; shift ;;
        --tty) TTY=1; shift ;;
        --verbose|-v) VERBOSE=1; shift ;;
        --log-dir) LOG_DIR=${2:?--log-dir needs a directory}; shift 2 ;;
        --log-dir=*) LOG_DIR=${1#*=}; shift ;;
        --list) LIST_ONLY=1; shift ;;
        --expect) EXPECT=${2:?--expect needs a file}; shift 2 ;;
        --tap) TAP=1; shift ;;
        --no-pidns) PIDNS=0; shift ;;
        --_in-ns) IN_NS=1; shift ;;   # internal: re-invoked inside unshare
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

case $TIMEOUT in ''|*[!0-9]*) die "--timeout wants a number of seconds" ;; esac

# ------------------------------------------------------------------ setup --
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_install() {
    note "installing: $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "$@" >&2 ||
        { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "$@" >&2; } ||
        die "apt-get install $* failed"
}

ensure_packages() {
    local missing=() p
    [ -x /usr/bin/python3 ] || missing+=(python3)
    command -v gcc >/dev/null 2>&1 || missing+=(gcc)
    # the static libc (libc.a) comes with libc6-dev
    for p in libc6-dev dpkg-dev xz-utils libseccomp-dev util-linux; do
        have_pkg "$p" || missing+=("$p")
    done
    command -v timeout >/dev/null 2>&1 || missing+=(coreutils)
    if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

have_crun_source() { [ -n "$(apt-cache showsrc crun 2>/dev/null | sed -n 's/^Version: //p')" ]; }

ensure_deb_src() {
    local dir=/etc/apt/sources.list.d updated=0
    if [ ! -e $dir/debian-src.sources ] && ! have_crun_source; then
        if [ -f $dir/debian.sources ]; then
            note "enabling deb-src: $dir/debian-src.sources"
            if ! sed 's/^Types:.*/Types: deb-src/' $dir/debian.sources > $dir/debian-src.sources.tmp ||
               ! mv $dir/debian-src.sources.tmp $dir/debian-src.sources; then
                die "cannot write $dir/debian-src.sources"
            fi
        elif [ -f /etc/apt/sources.list ]; then
            note "enabling deb-src: $dir/debian-src.list"
            sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > $dir/debian-src.list
        else
            die "no Debian apt sources found to derive deb-src from"
        fi
        apt-get update -q >&2 || die "apt-get update failed"
        updated=1
    fi
    if ! have_crun_source && [ $updated = 0 ]; then
        apt-get update -q >&2 || die "apt-get update failed"
    fi
    have_crun_source || die "no source package for crun visible to apt (deb-src missing?)"
}

# Sets SRC to the unpacked crun source tree, downloading it only once.
ensure_source() {
    if [ -f "$SRC_CACHE/.srcdir" ]; then
        SRC=$SRC_CACHE/$(cat "$SRC_CACHE/.srcdir")
        [ -f "$SRC/tests/tests_utils.py" ] && return 0
    fi
    ensure_deb_src
    note "fetching crun's Debian source package into $SRC_CACHE"
    rm -rf "$SRC_CACHE"
    mkdir -p "$SRC_CACHE/dl" || die "cannot create $SRC_CACHE"
    (cd "$SRC_CACHE/dl" && apt-get source -q -o APT::Sandbox::User=root crun >&2) ||
        die "apt-get source crun failed"
    local d
    d=$(cd "$SRC_CACHE/dl" && for x in crun-*/; do [ -f "$x/tests/tests_utils.py" ] && echo "${x%/}"; done | head -n1)
    [ -n "$d" ] || die "unpacked crun source has no tests/tests_utils.py"
    mv "$SRC_CACHE/dl"/* "$SRC_CACHE"/ && rmdir "$SRC_CACHE/dl"
    echo "$d" > "$SRC_CACHE/.srcdir"
    SRC=$SRC_CACHE/$d
}

# Builds crun's tests/init.c statically (as crun's Makefile.am does).
build_init() {
    INIT_BIN=$SRC_CACHE/build/init
    [ -x "$INIT_BIN" ] && [ "$INIT_BIN" -nt "$SRC/tests/init.c" ] && return 0
    mkdir -p "$SRC_CACHE/build"
    # init.c includes autoconf's config.h; only these two macros matter.
    {
        echo '#define HAVE_ERROR_H 1'
        if echo '#include <seccomp.h>' | gcc -E -x c - >/dev/null 2>&1; then
            echo '#define HAVE_SECCOMP 1'
        fi
    } > "$SRC_CACHE/build/config.h"
    note "building static init helper"
    gcc -static -O2 -I"$SRC_CACHE/build" -o "$INIT_BIN.tmp" "$SRC/tests/init.c" >&2 ||
        die "building tests/init.c failed"
    mv "$INIT_BIN.tmp" "$INIT_BIN"
}

# ----------------------------------------------------------------- running --
# Cgroup directories that a case's containers may leave behind: only those
# created during this run (not in the snapshot) whose name is one of the ids
# the suite gives its containers (test-tmpXXXX, container-PID) or the
# freezer cgroup "frozen" made by test_delete.py. Nothing else is touched.
suite_cgroups() {
    find /sys/fs/cgroup -mindepth 2 -maxdepth 6 -type d \
        \( -name '*test-tmp*' -o -name '*container-[0-9]*' -o -path '/sys/fs/cgroup/freezer/frozen' \) \
        2>/dev/null | sort
}

thaw_suite_freezers() {
    local d
    while IFS= read -r d; do
        case $d in /sys/fs/cgroup/freezer/*) echo THAWED > "$d/freezer.state" 2>/dev/null ;; esac
    done < <(comm -13 "${CG_SNAPSHOT:-/dev/null}" <(suite_cgroups))
}

cleanup_leftovers() {
    # A killed (timed-out) case leaves its .testsuite-run-PID dir behind:
    # let the runtime delete what it still knows of, then remove the dir.
    # (The containers' processes died with the case's PID namespace.)
    local d c left
    for d in "$WORK"/.testsuite-run-*; do
        [ -d "$d" ] || continue
        for c in "$d"/root/*/; do
            [ -d "$c" ] || continue
            timeout -k 5 20 "$RUNTIME" --root "$d/root" delete -f "$(basename "$c")" >/dev/null 2>&1
        done
        rm -rf --one-file-system "$d" 2>/dev/null
    done
    [ -n "${CG_SNAPSHOT:-}" ] || return 0
    # Remove (deepest first) the empty cgroups the containers left behind.
    for _ in 1 2 3 4 5; do
        left=$(comm -13 "$CG_SNAPSHOT" <(suite_cgroups))
        [ -n "$left" ] || return 0
        thaw_suite_freezers
        sort -r <<<"$left" | while IFS= read -r d; do
            if [ "$(stat -f -c %T "$d" 2>/dev/null)" = tmpfs ]; then
                # not a cgroup: with --hide-unified crun 1.8 still creates
                # /sys/fs/cgroup/unified/<id>/cgroup.procs on the bare tmpfs
                rm -rf --one-file-system "$d" 2>/dev/null
            else
                rmdir "$d" 2>/dev/null
            fi
        done
        left=$(comm -13 "$CG_SNAPSHOT" <(suite_cgroups))
        [ -n "$left" ] || return 0
        sleep 0.5
    done
    note "warning: cgroups left behind: $(tr '\n' ' ' <<<"$left")"
}

# PID 1 of each case's private PID namespace (see run_case): makes the
# case's PIDs start at 10000, runs the case, thaws freezer cgroups the
# case froze (a frozen task would block the namespace's teardown) and
# exits, which kills every process the case left running.
case_init() {
    echo 9999 > /proc/sys/kernel/ns_last_pid 2>/dev/null
    "$@"
    local rc=$?
    thaw_suite_freezers
    exit $rc
}

# Prints the case names of one test file (keys of its all_tests dict), or
# "1..0" when the file skips itself on import.
list_cases() {
    (cd "$WORK" && PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$PYPATH "$PY" -c '
import importlib, sys
sys.path.insert(0, "tests")
m = importlib.import_module(sys.argv[1])
print("\n".join(m.all_tests))' "${1%.py}")
}

PASSED=0 FAILED=0 SKIPPED=0
FAILED_LIST=()
STOPPED=0
TAP_N=0

# --expect FILE: "test_x.py:case  reason" lines; such a case failing is
# reported as a skip with that reason (a known, documented difference).
expected_reason() { # NAME
    [ -n "$EXPECT" ] || return 1
    local line
    line=$(grep -E "^${1//./\\.}[[:space:]]" "$EXPECT" | head -n 1) || return 1
    [ -n "$line" ] || return 1
    echo "${line#*[[:space:]]}" | sed 's/^[[:space:]]*//'
}

record() { # RESULT NAME SECONDS [REASON]
    local r=$1 name=$2 secs=$3 reason=${4:-} why
    if [ "$r" = FAIL ] && why=$(expected_reason "$name"); then
        r=SKIP reason="known difference: $why"
    fi
    printf '%s: %s (%ss)%s\n' "$r" "$name" "$secs" "${reason:+ - $reason}"
    if [ $TAP = 1 ]; then
        TAP_N=$((TAP_N + 1))
        case $r in
            PASS) echo "ok $TAP_N - crun-suite $name" ;;
            SKIP) echo "ok $TAP_N - crun-suite $name # SKIP ${reason:-skipped by the test}" ;;
            FAIL) echo "not ok $TAP_N - crun-suite $name" ;;
        esac
    fi
    case $r in
        PASS) PASSED=$((PASSED + 1)) ;;
        SKIP) SKIPPED=$((SKIPPED + 1)) ;;
        FAIL) FAILED=$((FAILED + 1)); FAILED_LIST+=("$name") ;;
    esac
}

run_case() { # FILE CASE
    local file=$1 case=$2 log rc t0 t1 secs line reason=""
    log=$LOG_DIR/${file%.py}:$case.log
    local cmd=(env PYTHONDONTWRITEBYTECODE=1 OCI_RUNTIME="$RUNTIME" INIT=tests/init RUN_TESTS="$case"
               PYTHONPATH="$PYPATH" TMPDIR="$WORK/tmp" "$PY" "tests/$file")
    if [ $PIDNS = 1 ]; then
        cmd=(unshare --pid --fork --kill-child --mount-proc -- "$SELF" --_case-init "${cmd[@]}")
    fi
    # stdout (TAP) and stderr are kept apart so that unterminated stderr
    # output cannot glue itself to a TAP line; the log gets both.
    t0=$(date +%s%N)
    if [ $TTY = 1 ]; then
        (cd "$WORK" && timeout -k 5 "$TIMEOUT" script -qefc "$(printf '%q ' "${cmd[@]}") 2>$(printf '%q' "$log.err")" /dev/null) \
            </dev/null >"$log.out" 2>>"$log.err"
    else
        (cd "$WORK" && timeout -k 5 "$TIMEOUT" "${cmd[@]}") </dev/null >"$log.out" 2>"$log.err"
    fi
    rc=$?
    t1=$(date +%s%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b-a)/1e9}')
    cleanup_leftovers
    line=$(tr -d '\r' <"$log.out" | grep -E '^(not )?ok [0-9]+ - ' | tail -n1)
    { echo "# $file:$case runtime=$RUNTIME exit=$rc"; echo "# --- stdout"; tr -d '\r' <"$log.out"
      echo "# --- stderr"; tr -d '\r' <"$log.err"; echo; } >"$log"
    rm -f "$log.out" "$log.err"
    if [ $rc = 124 ] || [ $rc = 137 ]; then
        record FAIL "$file:$case" "$secs" "timed out after ${TIMEOUT}s"
    elif [[ $line == "ok "*"#SKIP"* ]]; then
        record SKIP "$file:$case" "$secs"
    elif [[ $line == "ok "* ]]; then
        record PASS "$file:$case" "$secs"
    else
        [ -z "$line" ] && reason="no TAP result, exit status $rc"
        record FAIL "$file:$case" "$secs" "$reason"
    fi
    if [[ $line != "ok "* ]] || [ $rc = 124 ] || [ $rc = 137 ]; then
        if [ $VERBOSE = 1 ]; then
            sed 's/^/    | /' "$log"
        else
            grep -vE '^(# .*|1\.\.[0-9]+|(not )?ok [0-9]+ - .*|)$' "$log" |
                tail -n 3 | cut -c1-300 | sed 's/^/    | /'
        fi
        [ $KEEP_GOING = 1 ] || STOPPED=1
    fi
}

run_suite() {
    local files=() f c sel cases item
    CG_SNAPSHOT=$WORK/cgroups.before
    suite_cgroups > "$CG_SNAPSHOT"
    export CG_SNAPSHOT
    if [ -z "$TESTS" ]; then
        for f in "$WORK"/tests/test_*.py; do files+=("$(basename "$f")"); done
    else
        IFS=, read -r -a sel <<<"$TESTS"
        for item in "${sel[@]}"; do
            f=${item%%:*}; f=${f%.py}.py
            [ -f "$WORK/tests/$f" ] || die "no such test file in crun's suite: $f"
        done
    fi
    [ $IN_NS = 1 ] && note "running in a private mount namespace without /sys/fs/cgroup/unified"
    note "runtime: $RUNTIME ($("$RUNTIME" --version 2>/dev/null | head -n1))"

    # Build the (file, case) list.
    local todo=()
    if [ -z "$TESTS" ]; then
        for f in "${files[@]}"; do todo+=("$f:*"); done
    else
        for item in "${sel[@]}"; do
            f=${item%%:*}; f=${f%.py}.py
            if [[ $item == *:* ]]; then todo+=("$f:${item#*:}"); else todo+=("$f:*"); fi
        done
    fi
    for item in "${todo[@]}"; do
        [ $STOPPED = 1 ] && break
        f=${item%%:*}; c=${item#*:}
        if [ "$c" = "*" ]; then
            cases=$(list_cases "$f") || { record FAIL "$f" 0 "cannot list its cases"; continue; }
        else
            cases=$c
        fi
        if [ "$cases" = "1..0" ]; then
            if [ $LIST_ONLY = 1 ]; then echo "$f (skips itself)"; else record SKIP "$f" 0 "file skips itself (1..0)"; fi
            continue
        fi
        while IFS= read -r c; do
            [ -n "$c" ] || continue
            if [ $LIST_ONLY = 1 ]; then echo "$f:$c"; continue; fi
            run_case "$f" "$c"
            [ $STOPPED = 1 ] && break
        done <<<"$cases"
    done
    [ $LIST_ONLY = 1 ] && return 0

    [ $STOPPED = 1 ] && note "stopped after the first failure (use --keep-going to run everything)"
    if [ ${#FAILED_LIST[@]} -gt 25 ]; then
        note "failed: ${FAILED_LIST[*]:0:25} ... and $((${#FAILED_LIST[@]} - 25)) more"
    elif [ ${#FAILED_LIST[@]} -gt 0 ]; then
        note "failed: ${FAILED_LIST[*]}"
    fi
    note "logs in $LOG_DIR"
    echo "# crun-suite $RUNTIME: $PASSED passed, $FAILED failed, $SKIPPED skipped"
    [ $FAILED = 0 ]
}

# ------------------------------------------------------------------- main --
if [ "${CASE_INIT:-0}" = 1 ]; then case_init "$@"; fi

if [ $IN_NS = 1 ]; then
    # Inner invocation: everything was prepared by the outer one.
    WORK=${CRUN_SUITE_WORK:?} LOG_DIR=${CRUN_SUITE_LOG_DIR:?} PYPATH=${CRUN_SUITE_PYPATH-}
    if mountpoint -q /sys/fs/cgroup/unified; then
        umount /sys/fs/cgroup/unified || die "cannot unmount /sys/fs/cgroup/unified in the namespace"
    fi
    run_suite
    exit $?
fi

[ "$(id -u)" = 0 ] || die "must run as root (installs packages; crun's tests need root)"
if [ -x "$RUNTIME" ] && [[ $RUNTIME == */* ]]; then
    RUNTIME=$(readlink -f "$RUNTIME")
else
    p=$(command -v "$RUNTIME" 2>/dev/null) || die "runtime not found or not executable: $RUNTIME"
    RUNTIME=$(readlink -f "$p")
fi

ensure_packages
ensure_source
build_init

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cella-crun-suite.XXXXXX") || die "mktemp failed"
trap 'cleanup_leftovers; rm -rf --one-file-system "$WORK"' EXIT
# Containers with a user namespace (host uid 1 or 8000) must be able to
# traverse the bundle paths: keep the work dir world-searchable.
chmod 755 "$WORK"
mkdir -p "$WORK/tests" "$WORK/tmp" && chmod 1777 "$WORK/tmp"
cp "$SRC"/tests/*.py "$WORK/tests/" || die "cannot copy crun's tests"
cp "$INIT_BIN" "$WORK/tests/init"

PYPATH=""
if ! "$PY" -c 'import libmount' >/dev/null 2>&1; then
    PYPATH=$SUITE_DIR/pyshim
fi

[ -n "$LOG_DIR" ] || LOG_DIR=${TMPDIR:-/tmp}/cella-crun-suite/logs-$(basename "$RUNTIME")
if [ $LIST_ONLY = 0 ]; then
    mkdir -p "$LOG_DIR" || die "cannot create $LOG_DIR"
    rm -f "$LOG_DIR"/*.log
fi

if [ $HIDE_UNIFIED = 1 ] && [ $LIST_ONLY = 0 ]; then
    command -v unshare >/dev/null || die "unshare(1) missing"
    export CRUN_SUITE_WORK=$WORK CRUN_SUITE_LOG_DIR=$LOG_DIR CRUN_SUITE_PYPATH=$PYPATH
    args=(--runtime "$RUNTIME" --timeout "$TIMEOUT")
    [ -n "$TESTS" ] && args+=(--tests "$TESTS")
    [ $KEEP_GOING = 1 ] && args+=(--keep-going)
    [ $TTY = 1 ] && args+=(--tty)
    [ $VERBOSE = 1 ] && args+=(--verbose)
    [ $PIDNS = 0 ] && args+=(--no-pidns)
    [ -n "$EXPECT" ] && args+=(--expect "$EXPECT")
    [ $TAP = 1 ] && args+=(--tap)
    unshare -m --propagation private -- "$SELF" --_in-ns "${args[@]}"
    exit $?
fi

run_suite
exit $?
