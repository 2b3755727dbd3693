#!/bin/bash
# Load (issue 13, point 2): CELLA_PARALLEL containers of each level started
# at once with `run -d` (the container level: the bench's static httpd; the
# wasm level: the bench's httpd.wasm on a preopened socket), each answering
# HTTP with its own name; `cella list` shows every id once, running; all
# stopped at once (kill TERM, as an engine does), deleted at once, every
# command succeeding; then nothing left on the host (reliab_lib.sh).
# make check: 20 per level; make soak: 200.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/reliab_lib.sh"

K=${CELLA_PARALLEL:-20}
BUILD_DIR=$(dirname "$CELLA")
HTTPD=$BUILD_DIR/cella-bench-httpd
HTTPD_WASM=$BUILD_DIR/cella-bench-httpd.wasm
# Many commands at once on 2 cores, the sanitizer build: room.
CELLA_TIMEOUT=120
echo "# $K containers per level at once"

# A port range free of anything else: PORT0 + level * K + i.
PORT0=$((20000 + (RANDOM % 200) * 100))

# load LEVEL N: the K bundles $WORK/LEVEL.i (ports PORT0 + N * K + i) run
# at once, answer, are listed, and end at once.
load() {
    local level=$1 i bad="" listed want got before
    before=$WORK/before.$level
    host_snapshot > "$before"
    local -a ids=() ports=()
    for ((i = 0; i < K; i++)); do
        ids+=("$(newid "$level")")
        ports+=($((PORT0 + ${2} * K + i)))
    done
    for ((i = 0; i < K; i++)); do
        (
            cella run -d --bundle "$WORK/$level.$i" "${ids[$i]}" < /dev/null > "$WORK/run.$level.$i" 2>&1
            echo $? > "$WORK/rc.$level.$i"
        ) &
    done
    wait
    for ((i = 0; i < K; i++)); do
        [ "$(cat "$WORK/rc.$level.$i")" = 0 ] || bad="$bad
${ids[$i]}: $(cat "$WORK/run.$level.$i")"
    done
    expect_eq "$level: $K run -d at once all succeed" "" "$bad"

    bad=""
    for ((i = 0; i < K; i++)); do
        want="hello from ${ids[$i]}"
        wait_for 100 curl -sf "http://127.0.0.1:${ports[$i]}/"
        got=$(curl -s --max-time 5 "http://127.0.0.1:${ports[$i]}/")
        [ "$got" = "$want" ] || bad="$bad
${ids[$i]} on port ${ports[$i]}: $got"
    done
    expect_eq "$level: each of the $K answers HTTP with its own name" "" "$bad"

    listed=$(cella list --format json | python3 -c 'import json,sys
for c in json.load(sys.stdin) or []: print(c["id"], c["status"])' | grep -F -- "$level-$$-" | sort)
    want=$(for id in "${ids[@]}"; do echo "$id running"; done | sort)
    expect_eq "$level: cella list shows each id once, running" "$want" "$listed"

    for ((i = 0; i < K; i++)); do
        (
            r=0
            cella kill "${ids[$i]}" TERM > /dev/null 2>> "$WORK/end.$level.$i" || r=1
            wait_status "${ids[$i]}" stopped || { r=1; echo "not stopped" >> "$WORK/end.$level.$i"; }
            cella delete "${ids[$i]}" > /dev/null 2>> "$WORK/end.$level.$i" || r=1
            echo $r > "$WORK/endrc.$level.$i"
        ) &
    done
    wait
    bad=""
    for ((i = 0; i < K; i++)); do
        [ "$(cat "$WORK/endrc.$level.$i")" = 0 ] || bad="$bad
${ids[$i]}: $(cat "$WORK/end.$level.$i")"
    done
    expect_eq "$level: $K kill TERM, stopped, delete at once all succeed" "" "$bad"
    expect_eq "$level: cella list is empty of them" "" "$(cella list -q | grep -F -- "$level-$$-")"
    assert_host_clean "$level: nothing left after $K at once" "$before"
}

# One bundle per container (its own name and port), sharing one rootfs.
bundles() {
    local level=$1 n=$2 i b
    for ((i = 0; i < K; i++)); do
        b=$WORK/$level.$i
        mkdir -p "$b"
        ln -s "$WORK/rootfs.$level" "$b/rootfs"
        sed -e "s/@NAME@/$level-$$-$((FIRST + i))/" -e "s/@PORT@/$((PORT0 + n * K + i))/" \
            "$WORK/config.$level" > "$b/config.json"
    done
}

# The ids newid will give, in order: the next K.
FIRST=$(($(cat "$WORK/.idn" 2>/dev/null || echo 0) + 1))

if [ -x "$HTTPD" ]; then
    make_bundle "$WORK/cbase"
    cp "$HTTPD" "$WORK/cbase/rootfs/httpd"
    cfg "$WORK/cbase" "c['process']['args']=['/httpd']" \
        "c['process']['env']+=['RUNTIME_NAME=@NAME@','PORT=@PORT@','ADDR=127.0.0.1']" \
        "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='network']"
    mv "$WORK/cbase/rootfs" "$WORK/rootfs.container"
    mv "$WORK/cbase/config.json" "$WORK/config.container"
    bundles container 0
    load container 0
else
    skip "container level load" "$HTTPD is not built (make)"
fi

FIRST=$(($(cat "$WORK/.idn" 2>/dev/null || echo 0) + 1))
if [ -e "$HTTPD_WASM" ]; then
    make_bundle "$WORK/wbase"
    cp "$HTTPD_WASM" "$WORK/wbase/rootfs/httpd.wasm"
    cfg "$WORK/wbase" "c['process']['args']=['/httpd.wasm']" \
        "c['process']['env']+=['RUNTIME_NAME=@NAME@']" \
        "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='network']" \
        "c['annotations']={'run.cella.wasm.tcplisten':'127.0.0.1:@PORT@'}"
    mv "$WORK/wbase/rootfs" "$WORK/rootfs.wasm"
    mv "$WORK/wbase/config.json" "$WORK/config.wasm"
    bundles wasm 1
    load wasm 1
else
    skip "wasm level load" "$HTTPD_WASM is not built (no wasm32-wasi toolchain)"
fi

plan_done
