#!/bin/bash
# `cella bench`'s cella-vm row: measured where /dev/kvm can run the guest,
# else present with the vm level's reason (no /dev/kvm, no vmx/svm, the PVM
# module) as its one line, and the other rows unaffected.
. "$(dirname "$0")/lib.sh"
trap _cleanup EXIT

BENCH_DIR=$(dirname "$CELLA")
if [ ! -x "$BENCH_DIR/cella-bench" ] || [ ! -x "$BENCH_DIR/cella-bench-httpd" ]; then
    echo "Bail out! cella-bench is not built next to $CELLA (make all)"
    exit 1
fi
if [ -d /sys/module/kvm_pvm ]; then
    why='vm level: /dev/kvm is the PVM module \(kvm_pvm\), which emulates a guest kernel.s instructions'
elif [ ! -e /dev/kvm ]; then
    why='vm level: no /dev/kvm'
elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
    why='vm level: /dev/kvm without hardware virtualization'
else
    why=""
fi
out=$(timeout 300 "$CELLA" bench --quick --runs 1 --rounds 1 --duration 0.3 --port 18733 \
    --runtimes cella-vm --json "$WORK/b.json" 2> "$WORK/err")
expect_eq "cella bench exits 0" 0 "$?"
expect_match "the table has a cella-vm row" "^cella-vm +hardware VM" "$out"
expect_match "the bare row is measured beside it" "^bare +none \(bare process\) +1/1" "$out"
if [ -n "$why" ]; then
    expect_match "the cella-vm row says why it cannot run here" "^cella-vm .*FAILED: .*$why" "$out"
    got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [r for r in d["runtimes"] if r["name"] == "cella-vm"][0]
print(r["ok"], r["boundary"], "vm level: " in r["error"])' "$WORK/b.json" 2>&1)
    expect_eq "JSON: cella-vm not measured, a hardware VM, the level's reason" "False hardware_vm True" "$got"
else
    skip "the cella-vm row's reason" "this host's /dev/kvm can run the guest"
fi
plan_done
