#!/bin/bash
# qemu.sh [--runs N]
#
# The qemu level's performance report (issue 5), measured in one run:
#  1. the baseline: QEMU -M microvm under TCG booting Debian's cloud kernel
#     to a trivial init, next to cella's guest kernel with the same init
#     (bench/qemu-baseline.sh, N boots each, alternating);
#  2. the level: `cella bench --runtimes cella-qemu` (N cold starts, create +
#     start -> first HTTP 200 of the bench's server through the published
#     port; PSS of QEMU and the monitor, idle and under load);
# then the ratio of 2's median cold start to the Debian kernel's median boot
# (the issue's goal: <= 0.5) and the acceleration mode. Needs `make` (and
# builds the guest kernel when missing, through qemu-baseline.sh). Output in
# build/qemu-report.txt and build/qemu-bench.json.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=10
case "${1:-}" in
--runs)
    runs=${2:?--runs wants a number}
    ;;
"") ;;
*)
    sed -n '2,15s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
cella=$repo/build/cella
[ -x "$cella" ] || { echo "qemu.sh: $cella is not built (make)" >&2; exit 2; }
out=$repo/build/qemu-report.txt
json=$repo/build/qemu-bench.json

echo "== 1. baseline: QEMU microvm, TCG, trivial init ($runs boots per kernel) ==" | tee "$out"
"$here/qemu-baseline.sh" --runs "$runs" | tee -a "$out"
echo | tee -a "$out"
echo "== 2. the qemu level: cella bench --runtimes cella-qemu ($runs runs) ==" | tee -a "$out"
"$cella" bench --runtimes cella-qemu --runs "$runs" --json "$json" --markdown /dev/null \
    --html /dev/null 2>&1 | grep -v '^cella bench: ' | tee -a "$out"
echo | tee -a "$out"
python3 - "$out" "$json" <<'EOF' | tee -a "$out"
import json, re, sys
text = open(sys.argv[1]).read()
m = re.search(r"^a\) Debian.*?\|\s+([0-9.]+)", text, re.M)
rt = [r for r in json.load(open(sys.argv[2]))["runtimes"] if r["name"] == "cella-qemu"]
if not m or not rt or not rt[0]["ok"]:
    sys.exit("qemu.sh: no result to compare (" + (rt[0]["error"] if rt else "no cella-qemu row") + ")")
base = float(m.group(1))
r = rt[0]
cold = r["cold_ms"]["median"] / 1000
import os
flags = open("/proc/cpuinfo").read()
kvm = os.path.exists("/dev/kvm") and re.search(r"\b(vmx|svm)\b", flags) is not None
# the level's own rule (src/level/qemu): KVM with /dev/kvm and vmx/svm, else TCG
print(f"mode of the qemu level: {'KVM' if kvm else 'TCG'} (the baseline always boots under TCG)")
print(f"cella-qemu cold start (create+start -> first HTTP 200): median {cold:.3f} s, "
      f"p95 {r['cold_ms']['p95'] / 1000:.3f} s ({r['runs_ok']}/{r['runs']} runs)")
print(f"baseline (Debian cloud kernel -> trivial init, same run): median {base:.3f} s")
print(f"ratio: {cold / base:.2f} (goal <= 0.50)")
print(f"host PSS of QEMU + monitor: idle {r['mem_idle']['pss_kb'] / 1024:.1f} MiB, "
      f"under load {r['mem_load']['pss_kb'] / 1024:.1f} MiB")
EOF
