#!/bin/bash
# The sandbox level's threads: pthreads of musl (clone) and glibc (clone3)
# in cella's kernel — create/join with a mutex-protected counter, condition
# variables and a timed wait, a thread ending while others run, detached
# threads, identities, exit_group and a fault from a thread, fork and
# execve from a thread, tgkill to one thread's handler, a robust mutex whose
# owner died, the main thread ending first. The static probe
# (tests/sandbox/threads.c) prints the same lines and exits with the same
# status in the sandbox as on the host's Linux.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sandbox_lib.sh"

sandbox_bundle "sandbox threads"

cases="sum cond exitwhile detach ids exitgroup fault fork exec tgkill robust mainexit"
musl-gcc -static -O2 -o "$B/rootfs/bin/threads-musl" "$REPO_ROOT/tests/sandbox/threads.c" -lpthread ||
    { echo "Bail out! threads probe (musl)"; exit 1; }
libcs=musl
if gcc -static -O2 -o "$B/rootfs/bin/threads-glibc" "$REPO_ROOT/tests/sandbox/threads.c" -lpthread \
    2> "$WORK/gcc.err"; then
    libcs="musl glibc"
else
    skip "threads with glibc" "gcc -static cannot link the probe: $(head -1 "$WORK/gcc.err")"
fi

for libc in $libcs; do
    for c in $cases; do
        native=$("$B/rootfs/bin/threads-$libc" "$c" 2> /dev/null)
        native_rc=$?
        id=$(newid "thr-$c")
        srun "$id" "/bin/threads-$libc" "$c"
        expect_eq "$libc $c: the same output as on Linux" "$native" "$out"
        expect_eq "$libc $c: the same exit status ($native_rc)" "$native_rc" "$rc"
        assert_clean "$libc $c: nothing left" "$id"
    done
done

# Many threads at once (the stub's slots): 15 adders.
srun "$(newid many)" /bin/threads-musl sum 15
expect_eq "15 threads at once" "threads 15 counter 240000 joined 1050 distinct tids yes" "$out"

# ENOSYS is not how any of it is served.
setargs /bin/threads-musl sum 4
cella --debug --isolation sandbox run --bundle "$B" "$(newid dbg)" > /dev/null 2> "$WORK/dbg"
if grep -E 'unimplemented.*(clone|futex|set_robust_list|sched_)' "$WORK/dbg" > /dev/null; then
    not_ok "no thread call is ENOSYS" "$(grep unimplemented "$WORK/dbg")"
else
    ok "no thread call is ENOSYS"
fi

plan_done
