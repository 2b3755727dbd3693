#!/bin/bash
# The test command (make check): installs what is missing, builds cella with
# gcc, with clang, and with ASan+UBSan, then runs every test against the
# sanitizer build and prints one summary line: `N passed, N failed, N skipped`.
#
#   scripts/test.sh [--quick]    --quick: skip crun's test suite
set -uo pipefail
cd "$(dirname "$0")/.."
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
scripts/deps.sh
JOBS=$(nproc)
make -s -j"$JOBS" >/dev/null || { echo "build with gcc failed"; echo "0 passed, 1 failed"; exit 1; }
make -s -j"$JOBS" CC=clang BUILD=build-clang >/dev/null ||
    { echo "build with clang failed"; echo "0 passed, 1 failed"; exit 1; }
make -s -j"$JOBS" SAN=1 all unit >/dev/null ||
    { echo "sanitizer build failed"; echo "0 passed, 1 failed"; exit 1; }
# The qemu level's guest kernel: built once per machine (6-18 minutes here),
# then cached by content (scripts/kernel.sh); test_qemu.sh boots it.
if [ ! -e build/vmlinux ]; then
    echo "building the guest kernel (make kernel; once per machine, several minutes)"
    make -s kernel > /dev/null || echo "make kernel failed: the qemu level's tests will be skipped"
fi
# The VM levels look for the kernel next to the binary that runs: the tests
# run the sanitizer build, and engines (docker, containerd) start it by path.
[ -e build/vmlinux ] && ln -sf ../build/vmlinux build-san/vmlinux

export CELLA="$PWD/build-san/cella"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
LOGDIR=$(mktemp -d /tmp/cella-tests.XXXXXX)
pass=0 fail=0 skip=0
SKIPPED_SUITES=()

# Count the TAP lines of one suite's output (already printed), given its exit
# status. A suite that skips itself whole (`1..0 # SKIP reason`) is one skip,
# listed with its reason at the end; one that reports no case otherwise, or
# fails without a failing case, is one failure.
count() {
    local name=$1 f=$2 rc=$3 p n s plan reason
    p=$(grep -cE '^ok ' "$f")
    s=$(grep -cE '^ok .*# SKIP' "$f")
    n=$(grep -cE '^not ok ' "$f")
    pass=$((pass + p - s)); skip=$((skip + s)); fail=$((fail + n))
    if [ $((p + n)) -eq 0 ]; then
        plan=$(grep -m1 -E '^1\.\.0([^0-9]|$)' "$f")
        if [ -n "$plan" ] && [ "$rc" -eq 0 ]; then
            reason=$(sed -E 's/^1\.\.0[[:space:]]*(#[[:space:]]*([Ss][Kk][Ii][Pp])?[[:space:]]*)?//' <<<"$plan")
            SKIPPED_SUITES+=("$name: ${reason:-no reason given}")
            skip=$((skip + 1))
        else
            echo "not ok - $name ran no test case (exit status $rc)"
            fail=$((fail + 1))
        fi
    elif [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then
        echo "not ok - $name exited with status $rc"
        fail=$((fail + 1))
    fi
}

# The host's own device nodes, as a container's /dev gets them: a suite whose
# containers made their default devices on the host's /dev (a rootfs or a
# mount that resolved outside the container) re-creates them, which shows in
# their birth times. Checked after every suite, so the report names it.
HOST_DEVS="/dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty"
host_devs() { stat -c '%n %W %a %t:%T' $HOST_DEVS 2>&1; }
DEVS_BEFORE=$(host_devs)

run_suite() {
    local name=$1; shift
    echo "== $name"
    "$@" > "$LOGDIR/$name.log" 2>&1
    local rc=$?
    local devs
    devs=$(host_devs)
    if [ "$devs" != "$DEVS_BEFORE" ]; then
        echo "not ok - $name re-created or changed the host's device nodes" >> "$LOGDIR/$name.log"
        printf '%s\n' "$devs" | sed 's/^/#   now: /' >> "$LOGDIR/$name.log"
        DEVS_BEFORE=$devs
    fi
    cat "$LOGDIR/$name.log"
    count "$name" "$LOGDIR/$name.log" $rc
}

for t in build-san/tests/test_* build-san/tests/bench-test_*; do
    run_suite "unit-$(basename "$t")" "$t"
done
for t in tests/integration/test_*.sh; do
    [ -e "$t" ] && run_suite "integration-$(basename "$t" .sh)" bash "$t"
done
# The WebAssembly spec suite three ways: every function translated at its
# first call (the runner's default, CELLA_WASM_JIT=eager); tiered with a
# threshold of 2, so that every loop moves its running activation from the
# interpreter into machine code at its first iteration (OSR); and the
# interpreter alone (CELLA_WASM_JIT=0). All must pass all of it.
run_suite wasm-spec build-san/tests/wasm_spec
CELLA_WASM_JIT=tiered CELLA_WASM_JIT_HOT=2 run_suite wasm-spec-tiered build-san/tests/wasm_spec
CELLA_WASM_JIT=0 run_suite wasm-spec-interpreter build-san/tests/wasm_spec
# The bench's HTML report in headless Chromium (skipped when absent).
TEST_REPORT=build-san/tests/bench-test_report run_suite html-check bash tests/bench/html_check.sh
if [ $QUICK -eq 0 ]; then
    # crun's own test suite against cella (one TAP line per case): a suite
    # that cannot run (exit status 2) or runs no case is a failure.
    run_suite crun-suite tests/crun-suite/run.sh --runtime "$CELLA" --keep-going --tap --tty \
        --expect tests/crun-suite/expected-cella.txt
fi
rm -rf "$LOGDIR"
if [ ${#SKIPPED_SUITES[@]} -gt 0 ]; then
    echo "suites skipped whole:"
    printf '  %s\n' "${SKIPPED_SUITES[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
