#!/bin/bash
# `cella bench --engine docker`: the levels as Docker runs them, against
# Docker's default runtime runc in the same daemon (a dockerd of the bench's
# own, scripts/dockerd.sh) and rounds. The report has a row per level and the
# ratios to docker-runc; where dockerd cannot start, the rows say why; the
# bench leaves no daemon, bridge, cgroup or directory behind.
#
#   bash tests/integration/test_bench_engine.sh     # CELLA=/path/to/cella
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engine.sh"
trap _cleanup EXIT

BENCH_DIR=$(dirname "$CELLA")
if [ ! -x "$BENCH_DIR/cella-bench" ] || [ ! -x "$BENCH_DIR/cella-bench-httpd" ]; then
    echo "Bail out! cella-bench is not built next to $CELLA (make all)"
    exit 1
fi

check_json() { # NAME PYTHON-EXPRESSION-ON-d (and r: the rows by name)
    local got
    got=$(python3 - "$WORK/b.json" "$2" << 'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
r = {x['name']: x for x in d['runtimes']}
print(bool(eval(sys.argv[2])))
PY
    )
    expect_eq "$1" True "$got"
}

# Left by the bench whose stderr is FILE: its directory (named there), a
# process naming it (its dockerd), the bridge and cgroups named for it
# (dockerd_tag).
leftovers() {
    local dir left="" tag
    dir=$(sed -n 's/^cella bench: starting a dockerd of its own in \(.*\)\/docker$/\1/p' "$1")
    [ -n "$dir" ] || { echo "no bench directory in $1"; return; }
    tag=$(dockerd_tag "$dir/docker")
    [ -e "$dir" ] && left="$left dir:$dir"
    [ -n "$(our_pids "$dir/")" ] && left="$left processes:$(our_pids "$dir/" | tr '\n' ' ')"
    ip link show "cdk$tag" > /dev/null 2>&1 && left="$left bridge:cdk$tag"
    [ -n "$(new_cgroups "cella-docker-$tag")" ] && left="$left cgroups:cella-docker-$tag"
    echo "$left"
}

# ---- dockerd cannot start: the rows say why --------------------------------------------
# Without /usr/sbin on PATH there is no dockerd (Debian installs it there).
out=$(PATH=/usr/bin:/bin timeout 300 "$CELLA" bench --engine docker --rounds 1 --runs 1 --duration 0.2 \
    --port 18741 --runtimes docker-runc,docker-cella --json "$WORK/b.json" 2> "$WORK/err0")
expect_eq "bench --engine docker without dockerd exits 0 (the bare row is measured)" 0 $?
expect_match "the table's docker rows say why: dockerd is not installed" \
    "^docker-cella .*FAILED: dockerd: dockerd not installed" "$out"
check_json "JSON: engine docker, baseline docker-runc, both docker rows failed with the reason" \
    "d['engine'] == 'docker' and d['baseline'] == 'docker-runc' and all(not r[n]['ok'] and 'dockerd not installed' in r[n]['error'] for n in ('docker-runc', 'docker-cella')) and r['bare']['ok']"
expect_match "the ratios section says the baseline was not measured" "docker-runc was not measured: no ratios" "$out"
expect_eq "bench --engine docker without dockerd: nothing left (directory)" "" "$(leftovers "$WORK/err0")"

# ---- a --quick docker bench --------------------------------------------------------------
list=docker-runc,docker-cella,docker-cella-sandbox
wasm=0
[ -e "$BENCH_DIR/cella-bench-httpd.wasm" ] && wasm=1 && list=$list,docker-cella-wasm
qemu=0
command -v qemu-system-x86_64 > /dev/null && [ -e "$BENCH_DIR/vmlinux" ] && [ -e "$BENCH_DIR/cella-agent.cpio" ] &&
    qemu=1 && list=$list,docker-cella-qemu
out=$(timeout 1200 "$CELLA" bench --engine docker --quick --runs 3 --duration 0.5 --port 18742 \
    --runtimes "$list" --json "$WORK/b.json" --markdown "$WORK/b.md" --html "$WORK/b.html" 2> "$WORK/err")
rc=$?
if grep -q '"error": "dockerd: ' "$WORK/b.json" 2> /dev/null; then
    skip "bench --engine docker: the report" "dockerd cannot start here: $(grep -o '"error": "dockerd: [^"]*' "$WORK/b.json" | head -1 | cut -c11-)"
    expect_eq "bench --engine docker: nothing left (daemon, directory, bridge, cgroups)" "" "$(leftovers "$WORK/err")"
    plan_done
    exit 0
fi
expect_eq "bench --engine docker --quick exits 0" 0 "$rc"
for n in bare ${list//,/ }; do
    expect_match "the table has a row for $n" "^$n " "$out"
done
check_json "JSON: engine docker, baseline docker-runc, measured in all 3 rounds" \
    "d['engine'] == 'docker' and d['baseline'] == 'docker-runc' and r['docker-runc']['ok'] and r['docker-runc']['rounds_ok'] == 3"
check_json "JSON: docker-cella measured: cold start, req/s, latency, PSS of its processes (the shim's too)" \
    "r['docker-cella']['ok'] and r['docker-cella']['cold_ms']['median'] > 0 and r['docker-cella']['rps_c10']['median'] > 0 and r['docker-cella']['mem_idle']['pss_kb'] > 0 and r['docker-cella']['mem_idle']['nprocs'] >= 2"
check_json "JSON: every measured docker row has its ratios to docker-runc (req/s paired over 3 rounds)" \
    "all(x['vs_baseline']['cold_ms'] > 0 and x['vs_baseline']['lat_p50_ms'] > 0 and x['vs_baseline']['pss_idle'] > 0 and x['vs_baseline']['rps_c10']['n'] == 3 for n, x in r.items() if x['ok'] and n not in ('bare', 'docker-runc'))"
check_json "JSON: the baseline and the bare row are not compared with the baseline" \
    "r['docker-runc']['vs_baseline'] is None and r['bare']['vs_baseline'] is None"
check_json "JSON: a docker row that was not measured says why" \
    "all(x['error'] for x in r.values() if not x['ok'])"
expect_match "the text report has the ratios to docker-runc" "^  docker-cella +cold [0-9.]+x, req/s [0-9.]+x \([0-9.]+-[0-9.]+\), lat p50 [0-9.]+x, PSS idle [0-9.]+x" "$out"
expect_match "the Markdown report has them too" "^- docker-cella: cold [0-9.]+x" "$(cat "$WORK/b.md")"
expect_match "the HTML report has them too" "<h2>Against docker-runc</h2>.*<li>docker-cella: cold [0-9.]+x" "$(tr -d '\n' < "$WORK/b.html")"
if [ $wasm = 1 ]; then
    check_json "JSON: docker-cella-wasm serves httpd.wasm under Docker (-e CELLA_WASM_TCPLISTEN)" "r['docker-cella-wasm']['ok']"
else
    skip "JSON: docker-cella-wasm" "no wasm32-wasi build of the server"
fi
if [ $qemu = 1 ]; then
    # On Docker's bridge network: the VM takes the container's address.
    check_json "JSON: docker-cella-qemu measured (the VM on Docker's network), as a hardware VM" \
        "r['docker-cella-qemu']['ok'] and r['docker-cella-qemu']['boundary'] == 'hardware_vm' and r['docker-cella-qemu']['vs_baseline']['rps_c10']['n'] == 3"
else
    skip "JSON: docker-cella-qemu" "no qemu-system-x86_64, guest kernel (make kernel) or agent initramfs"
fi
expect_eq "bench --engine docker: nothing left (daemon, directory, bridge, cgroups)" "" "$(leftovers "$WORK/err")"
plan_done
