#!/bin/bash
# compute.sh [--runs N] [--engine CMD] [--quick]
#
# The compute benchmarks (bench/compute/*.c: sha256, nbody, sieve, parse),
# each run natively, as WebAssembly under node's WASI (bench/compute/node-wasi.mjs)
# and as WebAssembly under cella's engine (`build/cella wasm run FILE.wasm ARGS`,
# or CMD), with the best wall time of N runs each (default 3). Builds into
# build/compute/ (native with $CC, default gcc -O2; wasm32-wasi with clang -O2),
# prints a table and writes build/compute/results.json. An engine that is not
# there (no wasi toolchain, no node, cella's engine failing a trivial module)
# shows "-" and does not fail the run; a wrong checksum or a failed run does
# (exit 1). --quick: small sizes, to check the checksums only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=$repo/build/compute
runs=3
engine="$repo/build/cella wasm run"
engine_label="build/cella wasm run"
quick=0
cc=${CC:-gcc}
wasi_cc=${WASI_CLANG:-clang}
wasi_sysroot=${WASI_SYSROOT:-/usr}
programs=(sha256 nbody sieve parse)

usage() {
    sed -n '2,13s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
    --engine) [ $# -ge 2 ] || usage; engine=$2; engine_label=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    -h | --help) usage ;;
    *) usage ;;
    esac
done
case "$runs" in '' | *[!0-9]* | 0) echo "compute.sh: --runs wants a positive integer" >&2; exit 2 ;; esac
read -r -a engine_cmd <<<"$engine"
[ ${#engine_cmd[@]} -gt 0 ] || usage

# Arguments per program: none (each program's default size) or --quick's.
args_of() {
    [ "$quick" = 1 ] || return 0
    case "$1" in
    sha256) echo 4 ;;
    nbody) echo 100000 ;;
    sieve) echo 2000000 ;;
    parse) echo 1 ;;
    esac
}

mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- build ----
cflags=(-std=gnu11 -O2 -Wall -Wextra -Werror)
stale() { [ ! -e "$1" ] || [ "$2" -nt "$1" ] || [ "$0" -nt "$1" ]; }
# run_wasm LABEL CMD...: best time of CMD on program $p's module; sets res_s (seconds,
# FAIL or MISMATCH against the native checksum $ref) and res_ok.
run_wasm() {
    local label=$1
    shift
    if ! best "$@" "$out/$p.wasm" "${args[@]}"; then
        echo "compute: $p: $label failed: $why" >&2
        res_s=FAIL res_ok=false status=1
    elif [ "$(cat "$tmp/out")" != "$ref" ]; then
        echo "compute: $p: $label printed \`$(head -n1 "$tmp/out")\`, native \`$ref\`" >&2
        res_s=MISMATCH res_ok=false status=1
    else
        res_s=$(secs "$best") res_ok=true
    fi
}

# Sources of program $1 beyond bench/compute/$1.c: sha256 hashes with cella's own
# src/core/sha256.c.
sources_of() {
    echo "$here/compute/$1.c"
    [ "$1" != sha256 ] || echo "$repo/src/core/sha256.c"
}
# stale_any TARGET SOURCES...: whether TARGET is older than one of them
stale_any() {
    local t=$1 s
    shift
    for s in "$@"; do stale "$t" "$s" && return 0; done
    return 1
}
cflags+=(-I"$repo/src")

for p in "${programs[@]}"; do
    mapfile -t srcs < <(sources_of "$p")
    if stale_any "$out/$p" "${srcs[@]}"; then
        "$cc" "${cflags[@]}" -o "$out/$p" "${srcs[@]}" -lm
    fi
done

wasm=1
wasm_status=""
printf '#include <stdio.h>\nint main(void)\n{\n    puts("ok");\n    return 0;\n}\n' >"$tmp/trivial.c"
if ! "$wasi_cc" --target=wasm32-wasi --sysroot="$wasi_sysroot" -O2 -o "$out/trivial.wasm" \
    "$tmp/trivial.c" 2>"$tmp/err"; then
    wasm=0
    wasm_status="skipped: no wasm32-wasi toolchain ($wasi_cc --target=wasm32-wasi --sysroot=$wasi_sysroot: $(head -n1 "$tmp/err"); scripts/deps.sh installs clang lld wasi-libc libclang-rt-14-dev-wasm32)"
    echo "compute: $wasm_status" >&2
else
    for p in "${programs[@]}"; do
        mapfile -t srcs < <(sources_of "$p")
        if stale_any "$out/$p.wasm" "${srcs[@]}"; then
            "$wasi_cc" --target=wasm32-wasi --sysroot="$wasi_sysroot" "${cflags[@]}" \
                -o "$out/$p.wasm" "${srcs[@]}" -lm
        fi
    done
fi

# ---- which engines work ----
node_cmd=()
node_version=""
node_status=""
if [ "$wasm" = 0 ]; then
    node_status="skipped: no wasm32-wasi toolchain"
elif ! command -v node >/dev/null; then
    node_status="skipped: node not installed"
else
    node_version=$(node --version)
    # node:wasi's V8 fast API calls crash node 20 now and then after a module
    # grew its memory a lot (nodejs/node#53087; the sieve here): off when this
    # node knows the flag. Node 18 wants WASI enabled by a flag.
    node_flags=(--no-warnings)
    node --no-turbo-fast-api-calls -e 0 2>/dev/null && node_flags+=(--no-turbo-fast-api-calls)
    for flag in "" --experimental-wasi-unstable-preview1; do
        try=(node "${node_flags[@]}" ${flag:+"$flag"} "$here/compute/node-wasi.mjs")
        if [ "$("${try[@]}" "$out/trivial.wasm" 2>/dev/null)" = ok ]; then
            node_cmd=("${try[@]}")
            break
        fi
    done
    [ ${#node_cmd[@]} -gt 0 ] || node_status="skipped: node $node_version cannot run WASI modules"
fi

engine_ok=0
engine_status=""
if [ "$wasm" = 0 ]; then
    engine_status="skipped: no wasm32-wasi toolchain"
else
    to=()
    command -v timeout >/dev/null && to=(timeout 30)
    if got=$("${to[@]}" "${engine_cmd[@]}" "$out/trivial.wasm" 2>"$tmp/err") && [ "$got" = ok ]; then
        engine_ok=1
    else
        why=$(head -n1 "$tmp/err")
        engine_status="skipped: engine not available (\`$engine_label\` on a trivial module: ${why:-printed \`$got\`, not \`ok\`})"
    fi
fi

echo "compute: native: $cc -O2 ($("$cc" --version | head -n1))"
if [ ${#node_cmd[@]} -gt 0 ]; then echo "compute: node: $node_version (node:wasi; ${node_cmd[*]:1:${#node_cmd[@]}-2})"; else echo "compute: node: $node_status"; fi
if [ "$engine_ok" = 1 ]; then echo "compute: cella: $engine_label"; else echo "compute: cella: $engine_status"; fi
echo "compute: best of $runs runs each"

# ---- measure ----
# best CMD...: the least wall time of $runs runs in ns into $best, the output
# into $tmp/out; fails (with the reason in $why) when a run fails or prints
# something else than the first run did.
best() {
    local i t0 t1 dt rc
    best=""
    why=""
    for ((i = 0; i < runs; i++)); do
        rc=0
        t0=$(date +%s%N)
        "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
        t1=$(date +%s%N)
        if [ "$rc" -ne 0 ]; then
            why="exit status $rc: $(head -n1 "$tmp/err")"
            return 1
        fi
        dt=$((t1 - t0))
        if [ "$i" -eq 0 ]; then
            cp "$tmp/out" "$tmp/first"
        elif ! cmp -s "$tmp/out" "$tmp/first"; then
            why="output differs between runs"
            return 1
        fi
        if [ -z "$best" ] || [ "$dt" -lt "$best" ]; then best=$dt; fi
    done
}

secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
json_str() { printf '"%s"' "$(printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
is_num() { case "$1" in [0-9]*) return 0 ;; *) return 1 ;; esac; }
num_or_null() { if is_num "$1"; then echo "$1"; else echo null; fi; }

status=0
rows=()
json_rows=()
for p in "${programs[@]}"; do
    read -r -a args <<<"$(args_of "$p")"
    ref=""
    native_s=- node_s=- cella_s=- node_ok=null cella_ok=null
    if best "$out/$p" "${args[@]}"; then
        native_s=$(secs "$best")
        ref=$(cat "$tmp/out")
    else
        echo "compute: $p: native run failed: $why" >&2
        native_s=FAIL
        status=1
    fi
    if [ ${#node_cmd[@]} -gt 0 ]; then
        run_wasm node "${node_cmd[@]}"
        node_s=$res_s node_ok=$res_ok
    fi
    if [ "$engine_ok" = 1 ]; then
        run_wasm "$engine_label" "${engine_cmd[@]}"
        cella_s=$res_s cella_ok=$res_ok
    fi
    cn=- cnode=- nn=-
    is_num "$cella_s" && is_num "$native_s" && cn=$(ratio "$cella_s" "$native_s")
    is_num "$cella_s" && is_num "$node_s" && cnode=$(ratio "$cella_s" "$node_s")
    is_num "$node_s" && is_num "$native_s" && nn=$(ratio "$node_s" "$native_s")
    rows+=("$(printf '%-8s %10s %10s %10s %13s %11s %12s' "$p" "$native_s" "$cella_s" "$node_s" "$cn" "$cnode" "$nn")")
    json_rows+=("    {\"program\": $(json_str "$p"), \"args\": $(json_str "${args[*]}"), \"checksum\": $(json_str "$ref"), \"native_s\": $(num_or_null "$native_s"), \"cella_s\": $(num_or_null "$cella_s"), \"node_s\": $(num_or_null "$node_s"), \"cella_native\": $(num_or_null "$cn"), \"cella_node\": $(num_or_null "$cnode"), \"node_native\": $(num_or_null "$nn"), \"node_ok\": $node_ok, \"cella_ok\": $cella_ok}")
done

echo
printf '%-8s %10s %10s %10s %13s %11s %12s\n' program "native s" "cella s" "node s" cella/native cella/node node/native
printf '%s\n' "${rows[@]}"

{
    echo "{"
    echo "  \"runs\": $runs,"
    echo "  \"quick\": $([ "$quick" = 1 ] && echo true || echo false),"
    echo "  \"native_cc\": $(json_str "$("$cc" --version | head -n1)"),"
    echo "  \"node_version\": $(if [ -n "$node_version" ]; then json_str "$node_version"; else echo null; fi),"
    echo "  \"node_status\": $(json_str "${node_status:-ok}"),"
    echo "  \"engine\": $(json_str "$engine_label"),"
    echo "  \"engine_available\": $([ "$engine_ok" = 1 ] && echo true || echo false),"
    echo "  \"engine_status\": $(json_str "${engine_status:-ok}"),"
    echo "  \"programs\": ["
    for i in "${!json_rows[@]}"; do
        sep=,
        [ "$i" -eq $((${#json_rows[@]} - 1)) ] && sep=""
        echo "${json_rows[$i]}$sep"
    done
    echo "  ]"
    echo "}"
} >"$out/results.json"
echo
echo "compute: wrote ${out#"$repo"/}/results.json"
exit $status
