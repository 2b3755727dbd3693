#!/bin/bash
# sandbox.sh [--calls N] [--passes P]
#
# The cost of one system call at the sandbox level: bench/sandbox/getpid.c
# (N raw getpid calls, default 200000) run natively and by cella's kernel
# (`cella --isolation sandbox run`), P passes each (default 3), every pass's
# figure printed and the best of each kind at the end. Needs root, musl-gcc,
# and `make` first (build/cella).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cella=${CELLA:-$repo/build/cella}
calls=200000
passes=3
while [ $# -gt 0 ]; do
    case "$1" in
    --calls) calls=$2; shift 2 ;;
    --passes) passes=$2; shift 2 ;;
    *) sed -n '2,9s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done

work=$(mktemp -d /tmp/cella-bench-sandbox.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/b/rootfs"
musl-gcc -static -O2 -o "$work/b/rootfs/getpid" "$here/sandbox/getpid.c"
(cd "$work/b" && "$cella" spec)
python3 - "$work/b/config.json" "$calls" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c['process']['terminal'] = False
c['process']['args'] = ['/getpid', sys.argv[2]]
json.dump(c, open(sys.argv[1], 'w'))
PY

best() { sort -n | head -1; }
native=() sandbox=()
for ((p = 1; p <= passes; p++)); do
    n=$("$work/b/rootfs/getpid" "$calls" | awk '{print $2}')
    s=$("$cella" --root "$work/state" --isolation sandbox run --bundle "$work/b" "sb-bench-$$-$p" | awk '{print $2}')
    echo "pass $p: native $n ns, sandbox $s ns"
    native+=("$n")
    sandbox+=("$s")
done
echo "best of $passes ($calls calls each): native $(printf '%s\n' "${native[@]}" | best) ns," \
    "sandbox $(printf '%s\n' "${sandbox[@]}" | best) ns per getpid round trip"
