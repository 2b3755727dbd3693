#!/bin/bash
# Build cella's guest kernel: an uncompressed x86-64 vmlinux from Debian's
# linux-source-6.1 with the config fragment guest/kernel/cella.config.
#
#   scripts/kernel.sh               build if needed; print the vmlinux path
#   scripts/kernel.sh --source-dir  unpack the source if needed; print its path
#   scripts/kernel.sh --key         print the cache key only
#
# The result is cached by content: $CACHE/<key>/vmlinux, where <key> is the
# sha256 of the fragment's option lines (not its comments), the source
# package's version and this recipe's tag, so a second run with the same inputs
# only hashes the fragment and prints the path. A build happens in a temporary directory renamed into place at the end:
# a failed or interrupted build leaves no cache entry. Errors are one line on
# stderr and a non-zero exit.
#
# Environment: CELLA_KERNEL_CACHE (default /var/cache/cella/kernel),
# CELLA_KERNEL_CONFIG (default guest/kernel/cella.config), CELLA_KERNEL_JOBS
# (default nproc), CELLA_KERNEL_NICE (default 10: the machines are shared).
set -euo pipefail

die() {
    echo "kernel: $*" >&2
    exit 1
}
note() { echo "kernel: $*" >&2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CELLA_KERNEL_CACHE:-/var/cache/cella/kernel}
FRAGMENT=${CELLA_KERNEL_CONFIG:-$ROOT/guest/kernel/cella.config}
JOBS=${CELLA_KERNEL_JOBS:-$(nproc)}
NICE=${CELLA_KERNEL_NICE:-10}
SRC_PKG=linux-source-6.1
SRC_TAR=/usr/src/linux-source-6.1.tar.xz
# Bump when the way the kernel is built changes (not the fragment: it is hashed).
RECIPE="cella-kernel-1 ARCH=x86_64 allnoconfig+fragment vmlinux"
BUILD_PKGS="$SRC_PKG bc bison flex libelf-dev libssl-dev make gcc xz-utils"

mode=build
case "${1:-}" in
"") ;;
--source-dir) mode=source ;;
--key) mode=key ;;
*) die "unknown option \`$1' (usage: scripts/kernel.sh [--source-dir|--key])" ;;
esac

[ -r "$FRAGMENT" ] || die "config fragment \`$FRAGMENT' cannot be read"

install_missing() {
    # shellcheck disable=SC2086
    "$ROOT/scripts/deps.sh" --only $BUILD_PKGS || die "installing$BUILD_PKGS failed"
}

src_version() { dpkg-query -W -f='${Version}' "$SRC_PKG" 2>/dev/null; }

# The options of the fragment in order (its comments do not change the kernel),
# the source version and the recipe.
cache_key() {
    {
        grep -E '^(CONFIG_|# CONFIG_[A-Za-z0-9_]+ is not set)' "$FRAGMENT" || true
        printf '%s %s\n%s\n' "$SRC_PKG" "$1" "$RECIPE"
    } | sha256sum | cut -d' ' -f1
}

# Fast path: the cached vmlinux for this fragment and source version.
version=$(src_version || true)
if [ -n "$version" ]; then
    key=$(cache_key "$version")
    if [ "$mode" = key ]; then echo "$key"; exit 0; fi
    if [ "$mode" = build ] && [ -f "$CACHE/$key/vmlinux" ]; then
        echo "$CACHE/$key/vmlinux"
        exit 0
    fi
fi

install_missing
version=$(src_version) || die "$SRC_PKG is not installed"
[ -r "$SRC_TAR" ] || die "$SRC_TAR is missing (reinstall $SRC_PKG)"
key=$(cache_key "$version")
[ "$mode" = key ] && { echo "$key"; exit 0; }

# The source tree and the entry appear by rename, whole: no lock to read them.
src="$CACHE/src-$version"
if [ "$mode" = source ] && [ -f "$src/Makefile" ]; then echo "$src"; exit 0; fi

mkdir -p "$CACHE" || die "cannot create $CACHE"
# One build at a time per cache; a second caller waits and then finds the entry.
exec 9>"$CACHE/.lock"
flock 9 || die "cannot lock $CACHE/.lock"

tmp=""
cleanup() {
    if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The pristine source tree, unpacked once per source version (builds use O=).
if [ ! -f "$src/Makefile" ]; then
    note "unpacking $SRC_TAR into $src"
    tmp=$(mktemp -d "$CACHE/.src.XXXXXX")
    tar -xJf "$SRC_TAR" -C "$tmp" --strip-components=1 || die "cannot unpack $SRC_TAR"
    chmod 755 "$tmp"
    rm -rf "$src"
    mv "$tmp" "$src" || die "cannot move the source into $src"
    tmp=""
    # 1.5 GB each: keep only the tree of the installed source version.
    for old in "$CACHE"/src-*; do
        [ "$old" = "$src" ] || rm -rf "$old"
    done
fi
if [ "$mode" = source ]; then echo "$src"; exit 0; fi

out="$CACHE/$key"
if [ -f "$out/vmlinux" ]; then echo "$out/vmlinux"; exit 0; fi

tmp=$(mktemp -d "$CACHE/.build.XXXXXX")
obj="$tmp/obj"
log="$CACHE/last-build.log"
mkdir -p "$obj"
kmake() { nice -n "$NICE" make -C "$src" O="$obj" ARCH=x86_64 "$@"; }

note "configuring (allnoconfig + ${FRAGMENT#"$ROOT"/})"
kmake allnoconfig KCONFIG_ALLCONFIG="$FRAGMENT" >"$log" 2>&1 ||
    die "make allnoconfig failed; log: $log"

# Every option of the fragment must have come out as written: Kconfig drops an
# option whose dependencies are off without a word.
bad=""
while IFS= read -r line; do
    case "$line" in
    CONFIG_*=n) line="# ${line%=n} is not set" ;;
    esac
    case "$line" in
    CONFIG_*=*)
        grep -qxF -- "$line" "$obj/.config" && continue
        name=${line%%=*}
        got=$(grep -E "^$name=" "$obj/.config" | cut -d= -f2- || true)
        bad="$bad ${name}(wanted ${line#*=}, got ${got:-not set})"
        ;;
    "# CONFIG_"*" is not set")
        name=${line#"# "}
        name=${name%" is not set"}
        got=$(grep -E "^$name=" "$obj/.config" | cut -d= -f2- || true)
        [ -n "$got" ] && bad="$bad ${name}(wanted not set, got $got)"
        ;;
    esac
done <"$FRAGMENT"
[ -z "$bad" ] ||
    die "options of ${FRAGMENT#"$ROOT"/} that did not end up as written (a dependency is missing):$bad"

note "building vmlinux (make -j$JOBS, nice $NICE; a few minutes)"
start=$(date +%s)
if ! kmake -j"$JOBS" vmlinux >>"$log" 2>&1; then
    first=$(grep -m1 -E 'error:|Error [0-9]+' "$log" || true)
    die "make vmlinux failed${first:+: $first}; log: $log"
fi
secs=$(($(date +%s) - start))

entry="$tmp/entry"
mkdir "$entry"
if ! cp "$obj/vmlinux" "$obj/System.map" "$entry/" || ! cp "$obj/.config" "$entry/config" ||
    ! printf 'source %s %s\nrecipe %s\nbuild_seconds %s\nbuilt %s\n' \
        "$SRC_PKG" "$version" "$RECIPE" "$secs" "$(date -u +%FT%TZ)" >"$entry/info"; then
    die "cannot copy the build into $entry"
fi
mv "$entry" "$out" || die "cannot move the build into $out"
note "built in ${secs}s: $out/vmlinux ($(stat -c %s "$out/vmlinux") bytes)"
echo "$out/vmlinux"
