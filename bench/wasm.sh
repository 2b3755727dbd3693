#!/bin/bash
# wasm.sh [--runs N] [--quick]
#
# The wasm level's performance report, measured side by side in one run:
#  1. cold start, exec -> first HTTP 200, of the bench's workload built for
#     wasm32-wasi under `cella wasm run --tcplisten` next to the same server
#     built natively (cella-bench exec-start, N runs, default 30), and the PSS
#     of the serving process at that moment;
#  2. compute speed (bench/compute.sh): sha256, n-body, sieve and a parser,
#     native vs cella's engine vs node's WASI on the same .wasm.
# Needs `make` first (build/cella, build/cella-bench{,-httpd,-httpd.wasm}).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=30
quick=()

usage() {
    sed -n '2,11s/^# \{0,1\}//p' "$0" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
    --quick) quick=(--quick); runs=5; shift ;;
    *) usage ;;
    esac
done

cella=$repo/build/cella
httpd=$repo/build/cella-bench-httpd
wasm=$repo/build/cella-bench-httpd.wasm
cs=$repo/build/cella-bench
for f in "$cella" "$httpd" "$wasm" "$cs"; do
    [ -e "$f" ] || { echo "wasm.sh: $f is not built (make)" >&2; exit 2; }
done
port=$((20000 + RANDOM % 20000))

echo "== cold start: exec -> first HTTP 200 ($runs runs; probes 100 us apart) =="
# A pause between probes keeps the probing loop from starving the server of
# the CPU on small machines; both servers are measured the same way.
"$cs" exec-start --port "$port" --runs "$runs" --poll-us 100 --name native \
    "$httpd" "$port" | tee "$repo/build/wasm-coldstart.txt"
"$cs" exec-start --port "$port" --runs "$runs" --poll-us 100 --name cella-wasm \
    "$cella" wasm run --env RUNTIME_NAME=cella-wasm --tcplisten "127.0.0.1:$port" "$wasm" |
    tee -a "$repo/build/wasm-coldstart.txt"
python3 - "$repo/build/wasm-coldstart.txt" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {r["runtime"]: r for r in rows}
n, w = by.get("native"), by.get("cella-wasm")
if n and w and n["ok"] and w["ok"]:
    print("cella-wasm cold start %.2f ms median (native %.2f ms: +%.2f ms), PSS %d KiB (native %d KiB)"
          % (w["median_ms"], n["median_ms"], w["median_ms"] - n["median_ms"],
             w["pss_kib_median"], n["pss_kib_median"]))
PY
echo
echo "== compute: native vs cella's engine vs node (best of runs) =="
"$here/compute.sh" --engine "$cella wasm run" "${quick[@]}"
