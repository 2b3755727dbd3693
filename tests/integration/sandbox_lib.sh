# Helpers sourced by the sandbox level's test files (after lib.sh).
#
#   sandbox_bundle WHAT [busybox]   skip the whole file (named WHAT) without
#                                   musl-gcc, or without a static busybox when
#                                   asked; else B=$WORK/b, a bundle whose
#                                   rootfs holds the static probe /bin/probe
#   setargs ARGS...                 process.args of $B
#   srun NAME ARGS...               `cella --isolation sandbox run` of ARGS as
#                                   container NAME: $out (stdout), $rc, $WORK/serr

sandbox_bundle() {
    if ! command -v musl-gcc > /dev/null; then
        skip "$1" "no musl-gcc to build the static probe (apt-get install musl-tools)"
        plan_done
        exit 0
    fi
    if [ "${2:-}" = busybox ] && ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
        skip "$1" "$BUSYBOX is not static (apt-get install busybox-static)"
        plan_done
        exit 0
    fi
    B=$WORK/b
    make_bundle "$B"
    musl-gcc -static -O2 -o "$B/rootfs/bin/probe" "$REPO_ROOT/tests/sandbox/probe.c" ||
        { echo "Bail out! probe"; exit 1; }
}

setargs() { cfg "$B" "c['process']['args']=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@")"; }

srun() {
    local id=$1
    shift
    setargs "$@"
    out=$(cella --isolation sandbox run --bundle "$B" "$id" 2> "$WORK/serr")
    rc=$?
}
