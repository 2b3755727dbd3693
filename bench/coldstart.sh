#!/bin/bash
# coldstart.sh [--runs N] [--port P] [--warmup N] [--create-start] [--verbose] [RUNTIME...]
#
# Builds httpd and coldstart, makes one OCI bundle in a temp dir, and measures
# the cold start (runtime invocation -> first HTTP 200 from the container) of
# each RUNTIME in turn, then prints them side by side with the ratio of each
# median to crun's.  RUNTIME is a command name or a path.  Default: crun, runc
# and cella when built (../build/cella relative to this folder, or $CELLA).
# Needs root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
runs=20
port=18080
warmup=1
extra=()
runtimes=()

usage() {
    sed -n '2,9s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
    --port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
    --warmup) [ $# -ge 2 ] || usage; warmup=$2; shift 2 ;;
    --create-start | --verbose) extra+=("$1"); shift ;;
    -h | --help) usage ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) runtimes+=("$1"); shift ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "coldstart.sh: must run as root (the runtimes need it)" >&2
    exit 2
fi

if [ ${#runtimes[@]} -eq 0 ]; then
    runtimes=(crun runc)
    if [ -n "${CELLA:-}" ]; then
        runtimes+=("$CELLA")
    elif [ -x "$here/../build/cella" ]; then
        runtimes+=("$(cd "$here/../build" && pwd)/cella")
    fi
fi

# On a hybrid cgroup host (v1 controllers plus cgroup2 at
# /sys/fs/cgroup/unified), crun 1.8 refuses to run: "cgroups in hybrid mode not
# supported".  It works if the cgroup2 mount is hidden, so crun (and only crun)
# is measured inside a private mount namespace where that mount is unmounted.
# The host's mounts are unaffected; runc and cella run in the normal namespace.
hybrid=0
if awk '$2 == "/sys/fs/cgroup/unified" && $3 == "cgroup2" { f = 1 } END { exit !f }' \
    /proc/self/mounts; then
    hybrid=1
fi

# Run "$@" for runtime $1, inside the private mount namespace when needed.
in_ns() {
    local rt=$1
    shift
    if [ "$hybrid" = 1 ] && [ "$(basename "$rt")" = crun ]; then
        # shellcheck disable=SC2016 # $0/$@ are for the inner sh
        unshare -m --propagation private \
            sh -c 'umount /sys/fs/cgroup/unified && exec "$0" "$@"' "$@"
    else
        "$@"
    fi
}

make -s -C "$here" >&2

work=$(mktemp -d /tmp/cella-coldstart.XXXXXX)
prefix="cs$$-"
measured=()

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    # coldstart removes its own container on Ctrl-C; this catches anything left.
    local rt id
    for rt in "${measured[@]}"; do
        for id in $(in_ns "$rt" "$rt" list -q 2>/dev/null | grep "^$prefix" || true); do
            echo "coldstart.sh: removing leftover container $id ($rt)" >&2
            in_ns "$rt" "$rt" kill "$id" KILL >/dev/null 2>&1 || true
            in_ns "$rt" "$rt" delete --force "$id" >/dev/null 2>&1 || true
        done
    done
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$here/mkbundle.sh" "$work/bundle" --runtime-name bench --port "$port" >/dev/null

for rt in "${runtimes[@]}"; do
    name=$(basename "$rt")
    if ! command -v "$rt" >/dev/null 2>&1; then
        echo "coldstart.sh: $rt not found, skipped" >&2
        continue
    fi
    measured+=("$rt")
    # Same bundle for all; only the greeting changes.
    sed -i "s/\"RUNTIME_NAME=[^\"]*\"/\"RUNTIME_NAME=$name\"/" "$work/bundle/config.json"
    echo "== $name ($runs runs, $warmup warm-up)" >&2
    rc=0
    in_ns "$rt" "$here/coldstart" --runtime "$rt" --name "$name" --bundle "$work/bundle" \
        --port "$port" --runs "$runs" --warmup "$warmup" --id-prefix "$prefix" \
        ${extra[@]+"${extra[@]}"} | tee -i "$work/$name.out" >&2 || rc=$?
    if [ "$rc" -ge 128 ]; then
        exit "$rc"
    fi
    grep '^{' "$work/$name.out" >>"$work/results.jsonl" || true
done

[ -s "$work/results.jsonl" ] || { echo "coldstart.sh: nothing measured" >&2; exit 1; }

echo
awk '
function field(line, key,   m) {
    if (match(line, "\"" key "\":[^,}]*")) {
        m = substr(line, RSTART, RLENGTH)
        sub(/^[^:]*:/, "", m)
        gsub(/"/, "", m)
        return m
    }
    return ""
}
{
    n++
    name[n] = field($0, "runtime"); ok[n] = field($0, "ok"); total[n] = field($0, "runs")
    med[n] = field($0, "median_ms"); p95[n] = field($0, "p95_ms")
    mn[n] = field($0, "min_ms"); mx[n] = field($0, "max_ms")
    down[n] = field($0, "teardown_median_ms")
    if (name[n] == "crun" && med[n] != "null") base = med[n]
}
function num(v) { return v == "null" ? "-" : sprintf("%.2f", v) }
END {
    printf "%-12s %8s %10s %10s %10s %10s %12s %8s\n", "runtime", "ok/runs", "median_ms",
        "p95_ms", "min_ms", "max_ms", "teardown_ms", "x crun"
    for (i = 1; i <= n; i++) {
        ratio = (base > 0 && med[i] != "null") ? sprintf("%.2f", med[i] / base) : "-"
        printf "%-12s %8s %10s %10s %10s %10s %12s %8s\n", name[i], ok[i] "/" total[i],
            num(med[i]), num(p95[i]), num(mn[i]), num(mx[i]), num(down[i]), ratio
    }
}' "$work/results.jsonl"
