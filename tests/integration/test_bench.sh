#!/bin/bash
# `cella bench --quick` over the runtimes installed here: the JSON report
# holds every field with plausible values, and the other reports are written.
. "$(dirname "$0")/lib.sh"
trap _cleanup EXIT

BENCH_DIR=$(dirname "$CELLA")
if [ ! -x "$BENCH_DIR/cella-bench" ] || [ ! -x "$BENCH_DIR/cella-bench-httpd" ]; then
    echo "Bail out! cella-bench is not built next to $CELLA (make all)"
    exit 1
fi
list="cella-container"
# The wasm level runs the wasm32-wasi build of the workload (needs the WASI toolchain).
wasm_built=0
[ -e "$BENCH_DIR/cella-bench-httpd.wasm" ] && wasm_built=1 && list="$list,cella-wasm"
# The qemu level boots a VM per run (QEMU, `make kernel` and the agent's initramfs).
qemu_ok=0
export CELLA_KERNEL=${CELLA_KERNEL:-$REPO_ROOT/build/vmlinux}
export CELLA_AGENT_INITRD=${CELLA_AGENT_INITRD:-$REPO_ROOT/build/cella-agent.cpio}
command -v qemu-system-x86_64 >/dev/null && [ -r "$CELLA_KERNEL" ] && [ -r "$CELLA_AGENT_INITRD" ] &&
    qemu_ok=1 && list="$list,cella-qemu"
for r in runc crun runsc; do
    command -v "$r" >/dev/null 2>&1 || [ -x "/usr/sbin/$r" ] && list="$list,$r"
done
# The bench's own temp dir and cgroups only (its pid names them): another bench may run
# on this machine at the same time.
mkdir -p "$WORK/tmp"
export TMPDIR=$WORK/tmp
timeout 600 "$CELLA" bench --quick --runs 3 --duration 0.5 --port 18731 \
    --runtimes "$list" --json "$WORK/b.json" --markdown "$WORK/b.md" --html "$WORK/b.html" \
    > "$WORK/out" 2> "$WORK/err" &
bp=$!
wait $bp
rc=$?
out=$(cat "$WORK/out")
left() { # PID: the bench's temp dir and cgroups still there
    ls -d "$WORK"/tmp/cella-bench.* 2>/dev/null
    for d in /sys/fs/cgroup/*/cella-bench-"$1"-*; do [ -d "$d" ] && echo "$d"; done
}
expect_eq "cella bench --quick exits 0" 0 "$rc"
for r in bare ${list//,/ }; do
    expect_match "the table has a row for $r" "^$r " "$out"
done
expect_match "the table ends with the decision guide" "decision guide" "$out"
expect_match "the report says which figures are not distinguishable" "not distinguishable" "$out"

check_json() { # NAME PYTHON-EXPRESSION-ON-d
    local got
    got=$(python3 - "$WORK/b.json" "$2" <<'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
print(bool(eval(sys.argv[2])))
PY
)
    expect_eq "$1" True "$got"
}
check_json "JSON: environment (cpu, cores, kernel, virtualization)" \
    "d['env']['cores'] >= 1 and d['env']['kernel'] and d['env']['virt'] and d['env']['cpu_model']"
check_json "JSON: one entry per runtime asked for, and the bare process" \
    "len(d['runtimes']) == len('$list'.split(',')) + 1 and d['bare'] == 'bare'"
check_json "JSON: the bare process measured as the floor, no runtime" \
    "[r for r in d['runtimes'] if r['name'] == 'bare' and r['ok'] and r['bare'] and r['boundary'] == 'none']"
check_json "JSON: 3 interleaved rounds: a req/s and a latency per round for every measured runtime" \
    "d['rounds'] == 3 and all(r['rounds_ok'] == 3 and len(r['round_rps']) == 3 and all(v > 0 for v in r['round_rps']) and r['rps_c10']['n'] == 3 and r['lat_p50_ms']['n'] == 3 for r in d['runtimes'] if r['ok'])"
check_json "JSON: spreads: ci_lo <= median <= ci_hi for req/s, latency and cold start" \
    "all(0 < r[k]['ci_lo'] <= r[k]['median'] <= r[k]['ci_hi'] and 0 < r[k]['ci_level'] <= 1 for r in d['runtimes'] if r['ok'] for k in ('rps_c10', 'lat_p50_ms', 'cold_ms'))"
check_json "JSON: every runtime's req/s paired with the bare process's, round by round" \
    "all(r['rps_vs_bare']['n'] == 3 and r['rps_vs_bare']['median'] > 0 for r in d['runtimes'] if r['ok'] and not r['bare'])"
check_json "JSON: which runtimes are not distinguishable, per metric" \
    "all(isinstance(d['not_distinguishable'][k], list) for k in ('rps_c10', 'lat_p50_ms', 'cold_ms'))"
check_json "JSON: the virtualization a VM can use" \
    "d['env']['virt'] in ('hardware KVM', 'PVM (software KVM)', 'KVM (no vmx/svm flag)', 'none: TCG only', 'none: TCG only (kvm_pvm loaded, no /dev/kvm)')"
if [ -e /sys/module/kvm_pvm ] && [ ! -e /dev/kvm ]; then
    check_json "JSON: kvm_pvm without /dev/kvm is TCG only" "d['env']['virt'].startswith('none: TCG only')"
fi
check_json "JSON: cella's container level measured" \
    "[r for r in d['runtimes'] if r['name'] == 'cella-container' and r['ok']]"
if [ $wasm_built = 1 ]; then
    check_json "JSON: cella's wasm level measured, as a WASM sandbox" \
        "[r for r in d['runtimes'] if r['name'] == 'cella-wasm' and r['ok'] and r['boundary'] == 'wasm_sandbox']"
else
    skip "JSON: cella's wasm level measured" "cella-bench-httpd.wasm not built (no wasm32-wasi toolchain)"
fi
if [ $qemu_ok = 1 ]; then
    check_json "JSON: cella's qemu level measured, as a hardware VM" \
        "[r for r in d['runtimes'] if r['name'] == 'cella-qemu' and r['ok'] and r['boundary'] == 'hardware_vm']"
else
    skip "JSON: cella's qemu level measured" "no qemu-system-x86_64, build/vmlinux (make kernel) or build/cella-agent.cpio"
fi
check_json "JSON: every measured runtime has 3 cold starts (one per round), min <= median <= p95 <= max, all > 0" \
    "all(r['runs_ok'] == 3 and 0 < r['cold_ms']['min'] <= r['cold_ms']['median'] <= r['cold_ms']['p95'] <= r['cold_ms']['max'] < 10000 for r in d['runtimes'] if r['ok'])"
check_json "JSON: teardown timed apart" \
    "all(r['teardown_ms']['median'] > 0 for r in d['runtimes'] if r['ok'])"
check_json "JSON: latency at concurrency 1: requests, p50 <= p99 <= p99.9, no errors" \
    "all(r['lat_c1']['requests'] > 0 and r['lat_c1']['errors'] == 0 and 0 < r['lat_c1']['p50_ns'] <= r['lat_c1']['p99_ns'] <= r['lat_c1']['p999_ns'] for r in d['runtimes'] if r['ok'])"
check_json "JSON: throughput at concurrency 10 in req/s" \
    "all(r['thr_c10']['rps'] > 10 for r in d['runtimes'] if r['ok'])"
check_json "JSON: memory: PSS and RSS of the container's processes, idle and under load" \
    "all(0 < r['mem_idle']['pss_kb'] <= r['mem_idle']['rss_kb'] and r['mem_idle']['nprocs'] >= 1 and r['mem_load']['pss_kb'] > 0 for r in d['runtimes'] if r['ok'])"
check_json "JSON: a recommendation for each of the 5 workload classes" "len(d['guide']) == 5"
check_json "JSON: failures carry their error" "all(r['ok'] or r['error'] for r in d['runtimes'])"
check "the Markdown report is written" grep -q '| cella-container' "$WORK/b.md"
check "the HTML report is one page with SVG charts" grep -q '<svg' "$WORK/b.html"
expect_eq "nothing is left in the bench's state" "" "$(left $bp)"

# Ctrl-C: the container in flight is removed, exit status 130.
"$CELLA" bench --runtimes cella-container --runs 200 --port 18732 > "$WORK/int.out" 2>&1 &
bp=$!
check "Ctrl-C: a container is in flight, at /ID in the cgroup tree as crun's and runc's" \
    wait_for 200 sh -c "ls -d /sys/fs/cgroup/*/cella-bench-$bp-*"
check "Ctrl-C: its bundles and state are under \$TMPDIR, as mkdtemp(1)'s" \
    sh -c "ls -d '$WORK'/tmp/cella-bench.* >/dev/null 2>&1"
kill -INT $bp
wait $bp
rc=$?
expect_eq "Ctrl-C: exit status 130" 130 "$rc"
expect_eq "Ctrl-C: no container, cgroup or state left" "" "$(left $bp)"
check "Ctrl-C: nothing answers on the bench's port any more" sh -c '! (exec 3<>/dev/tcp/127.0.0.1/18732) 2>/dev/null'

plan_done
exit 0
