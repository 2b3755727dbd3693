# Helpers sourced by the sandbox level's test files (after lib.sh).
#
#   sandbox_bundle WHAT [busybox]   skip the whole file (named WHAT) without
#                                   musl-gcc, or without a static busybox when
#                                   asked; else B=$WORK/b, a bundle whose
#                                   rootfs holds the static probe /bin/probe
#   setargs ARGS...                 process.args of $B
#   srun NAME ARGS...               `cella --isolation sandbox run` of ARGS as
#                                   container NAME: $out (stdout), $rc, $WORK/serr
#   with_libs FILE...               FILE and its libraries (ldd) into $B/rootfs
#   sandbox_python                  Debian's python3 into $B/rootfs (1: none)
#   go_static OUT SRC               a static Go program (CGO_ENABLED=0)
#   free_port, listening PORT       a free TCP port; wait until one listens

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

# with_libs FILE...: FILE and the libraries ldd names, at the same paths in
# $B/rootfs (a glibc program copied from the host).
with_libs() {
    local f l
    for f in "$@"; do
        for l in "$f" $(ldd "$f" | grep -o '/[^ ]*'); do
            mkdir -p "$B/rootfs$(dirname "$l")"
            rm -f "$B/rootfs$l" # busybox's applet links: cp would write through them
            cp -L "$l" "$B/rootfs$l"
        done
    done
}

# sandbox_python: Debian's python3.11 with its standard library and the
# libraries of its extension modules (OpenSSL, sqlite3, libffi...) in
# $B/rootfs as /usr/bin/python3; PY is the host's. Fails without them.
PY=/usr/bin/python3.11
sandbox_python() {
    [ -x $PY ] && [ -d /usr/lib/python3.11 ] || return 1
    with_libs $PY /usr/lib/python3.11/lib-dynload/*.so
    tar -C / --exclude=python3.11/test --exclude=python3.11/idlelib --exclude=python3.11/tkinter \
        -cf - usr/lib/python3.11 | tar -C "$B/rootfs" -xf -
    ln -sf python3.11 "$B/rootfs/usr/bin/python3"
}

go_static() {
    CGO_ENABLED=0 GO111MODULE=off GOCACHE="$WORK/gocache" GOPATH="$WORK/gopath" go build -o "$1" "$2"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# listening PORT: a socket listens on 127.0.0.1/0.0.0.0:PORT (bounded wait).
listening() {
    local i
    for i in $(seq 200); do
        ss -Hltn "sport = :$1" | grep -q LISTEN && return 0
        sleep 0.05
    done
    return 1
}
