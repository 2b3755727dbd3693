#!/bin/bash
# qemu-baseline.sh [--runs N] [--mem MB] [--smp N] [--machine M] [--timeout S]
#                  [--append ARGS] [--append-b ARGS] [--kernel-b VMLINUX] [--keep]
#
# The baseline of the `qemu` level (issue 5), in one run: N boots each of
#   a) Debian's linux-image-cloud-amd64 kernel (its vmlinuz unpacked to vmlinux)
#   b) cella's guest kernel (scripts/kernel.sh, built when missing)
# under QEMU -M microvm, booting the uncompressed vmlinux directly with the same
# trivial init (guest/kernel/probe-init.c in an uncompressed initramfs). Times
# QEMU's exec to the init's line on the serial console (monotonic clock) and to
# QEMU's exit; QEMU's peak RSS (wait4) and peak PSS (smaps_rollup, sampled every
# 5 ms). Prints median/min/p95 per kernel and the ratio b/a. Boots alternate
# a, b, a, b ... after one unmeasured warm-up boot each, so that load on the
# shared machine falls on both alike. Needs root when packages are missing.
# --machine defaults to microvm,acpi=off: with ACPI on, Debian's kernel hangs
# at boot whenever its TSC calibration fails, which under TCG is a matter of
# chance (docs/guest-kernel.md). --append-b adds arguments for cella's kernel
# only (e.g. to measure a tuned command line against the same baseline);
# --kernel-b boots another vmlinux as b) (e.g. a variant of the fragment).
set -euo pipefail

runs=10
mem=128
smp=1
machine=microvm,acpi=off
timeout=60
append="console=ttyS0 quiet reboot=k panic=-1"
append_b=""
kernel_b=""
keep=0

usage() {
    sed -n '2,20s/^# \{0,1\}//p' "$0" >&2
    exit 2
}
die() {
    echo "qemu-baseline: $*" >&2
    exit 1
}
note() { echo "qemu-baseline: $*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
    --mem) [ $# -ge 2 ] || usage; mem=$2; shift 2 ;;
    --smp) [ $# -ge 2 ] || usage; smp=$2; shift 2 ;;
    --machine) [ $# -ge 2 ] || usage; machine=$2; shift 2 ;;
    --timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
    --append) [ $# -ge 2 ] || usage; append=$2; shift 2 ;;
    --append-b) [ $# -ge 2 ] || usage; append_b=$2; shift 2 ;;
    --kernel-b) [ $# -ge 2 ] || usage; kernel_b=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage ;;
    *) echo "qemu-baseline: unknown argument \`$1'" >&2; usage ;;
    esac
done
case "$runs" in '' | *[!0-9]* | 0) die "--runs: expected a positive integer, got \`$runs'" ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${CELLA_BASELINE_CACHE:-/var/cache/cella/baseline}

"$root/scripts/deps.sh" --only qemu-system-x86 python3 gcc ||
    die "installing qemu-system-x86 python3 gcc failed"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found"

# b) cella's kernel, and the kernel source tree for extract-vmlinux and gen_init_cpio.
if [ -n "$kernel_b" ]; then
    [ -f "$kernel_b" ] || die "--kernel-b: \`$kernel_b' is not a file"
    cella_vmlinux=$(realpath "$kernel_b")
else
    cella_vmlinux=$("$root/scripts/kernel.sh") || die "cannot build cella's kernel (scripts/kernel.sh)"
fi
src=$("$root/scripts/kernel.sh" --source-dir) || die "cannot unpack the kernel source"

# a) Debian's cloud kernel: the versioned package the metapackage points at,
# downloaded (not installed) and unpacked; cached per package version.
pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
if [ -z "$pkg" ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
fi
[ -n "$pkg" ] || die "apt-cache knows no linux-image-cloud-amd64 (apt-get update?)"
pkgver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
base_dir="$cache/${pkg}_$pkgver"
base_vmlinux="$base_dir/vmlinux"
if [ ! -f "$base_vmlinux" ]; then
    note "fetching $pkg $pkgver"
    mkdir -p "$cache"
    t=$(mktemp -d "$cache/.dl.XXXXXX")
    (cd "$t" && apt-get download -q "$pkg=$pkgver" >/dev/null 2>&1) || {
        rm -rf "$t"
        die "apt-get download $pkg=$pkgver failed"
    }
    dpkg-deb -x "$t"/*.deb "$t/deb" || { rm -rf "$t"; die "cannot unpack $pkg's .deb"; }
    vmlinuz=$(find "$t/deb/boot" -name 'vmlinuz-*' 2>/dev/null | head -n1)
    [ -n "$vmlinuz" ] || { rm -rf "$t"; die "$pkg has no /boot/vmlinuz-*"; }
    mkdir "$t/out"
    if ! sh "$src/scripts/extract-vmlinux" "$vmlinuz" >"$t/out/vmlinux" 2>/dev/null ||
        [ "$(head -c4 "$t/out/vmlinux" | od -An -tx1 | tr -d ' ')" != 7f454c46 ]; then
        rm -rf "$t"
        die "extract-vmlinux found no ELF vmlinux in $vmlinuz"
    fi
    cp "$vmlinuz" "$t/out/"
    rm -rf "$base_dir"
    mv "$t/out" "$base_dir"
    rm -rf "$t"
fi

# The trivial init and its initramfs (the kernel's own gen_init_cpio: a
# /dev/console node without mknod on the host).
work=$(mktemp -d /tmp/cella-qemu-baseline.XXXXXX)
cleanup() {
    if [ "$keep" = 1 ]; then note "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
initcc=gcc
command -v musl-gcc >/dev/null && initcc=musl-gcc
$initcc -std=gnu11 -Wall -Wextra -Werror -Os -static -s -o "$work/init" \
    "$root/guest/kernel/probe-init.c" || die "cannot build guest/kernel/probe-init.c with $initcc"
gcc -O2 -o "$work/gen_init_cpio" "$src/usr/gen_init_cpio.c" || die "cannot build gen_init_cpio"
printf 'dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\nfile /init %s 0755 0 0\n' \
    "$work/init" >"$work/initramfs.list"
"$work/gen_init_cpio" "$work/initramfs.list" >"$work/init.cpio" || die "gen_init_cpio failed"

if grep -qwE 'vmx|svm' /proc/cpuinfo; then
    hw="the CPU has vmx/svm (KVM would be usable; this baseline measures TCG)"
elif [ -d /sys/module/kvm_pvm ]; then
    hw="no vmx/svm, /dev/kvm is PVM: TCG is the mode here"
else
    hw="no vmx/svm: TCG is the mode here"
fi

export QB_RUNS=$runs QB_MEM=$mem QB_SMP=$smp QB_TIMEOUT=$timeout QB_APPEND=$append
export QB_MACHINE=$machine QB_APPEND_B=$append_b
export QB_INITRD=$work/init.cpio QB_HW=$hw QB_INITCC=$initcc
export QB_A="Debian $pkg $pkgver=$base_vmlinux"
key=$(basename "$(dirname "$cella_vmlinux")" | cut -c1-12)
export QB_B="cella guest kernel $key=$cella_vmlinux"
python3 - <<'EOF'
import os, re, signal, subprocess, sys, threading, time

env = os.environ
runs, timeout = int(env["QB_RUNS"]), float(env["QB_TIMEOUT"])
kernels = []
for k in ("QB_A", "QB_B"):
    name, path = env[k].rsplit("=", 1)
    kernels.append((name, path))
MARK = b"cella-probe: init reached"

def qemu_cmd(vmlinux, extra):
    return ["qemu-system-x86_64", "-M", env["QB_MACHINE"], "-accel", "tcg",
            "-m", env["QB_MEM"], "-smp", env["QB_SMP"],
            "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
            "-device", "i8042", "-kernel", vmlinux, "-initrd", env["QB_INITRD"],
            "-append", (env["QB_APPEND"] + " " + extra).strip()]

def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

def boot(vmlinux, extra):
    """One boot: (s to init line, s to exit, guest s, peak RSS kB, peak PSS kB)."""
    t0 = time.monotonic()
    p = subprocess.Popen(qemu_cmd(vmlinux, extra), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = [0]
    done = threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], pss_kb(p.pid))
            done.wait(0.005)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    killer = threading.Timer(timeout, lambda: p.kill())
    killer.start()
    out, t_init, guest = b"", None, None
    fd = p.stdout.fileno()
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        out += chunk
        if t_init is None and MARK in out:
            t_init = time.monotonic() - t0
        m = re.search(rb"init reached at ([0-9.]+) s", out)
        if m and guest is None and out.find(b"\n", m.start()) >= 0:
            guest = float(m.group(1))
    _, status, ru = os.wait4(p.pid, 0)
    t_exit = time.monotonic() - t0
    p.returncode = status
    killer.cancel()
    done.set()
    th.join()
    if t_init is None:
        tail = out.decode(errors="replace").strip().splitlines()[-3:]
        sys.exit(f"qemu-baseline: {vmlinux}: no init line within {timeout:.0f} s "
                 f"(exit status {status}); console ends: {' | '.join(tail)}")
    return t_init, t_exit, guest or 0.0, ru.ru_maxrss, peak[0]

def pct(xs, q):
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, -(-len(s) * q // 100) - 1))]  # nearest rank

def med(xs):
    s = sorted(xs); n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2

res = {k: [] for k in range(len(kernels))}
extras = ["", env["QB_APPEND_B"]]
for i, (_, path) in enumerate(kernels):
    boot(path, extras[i])  # warm-up: page cache, QEMU's own start-up files
for r in range(runs):
    for i, (_, path) in enumerate(kernels):
        res[i].append(boot(path, extras[i]))
    print(f"qemu-baseline: run {r + 1}/{runs} done", file=sys.stderr)

ver = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                     text=True).stdout.splitlines()[0]
print(f"mode: TCG ({env['QB_HW']})")
print(f"host: {os.cpu_count()} cores, {os.uname().release}; {ver}")
print(f"qemu: -M {env['QB_MACHINE']} -accel tcg -m {env['QB_MEM']} -smp {env['QB_SMP']}, "
      f"vmlinux via -kernel (PVH), init: {env['QB_INITCC']} static, uncompressed cpio")
print(f"append: {env['QB_APPEND']}" +
      (f"; cella's kernel also: {env['QB_APPEND_B']}" if env["QB_APPEND_B"] else ""))
print(f"runs: {runs} per kernel, alternating, after 1 warm-up each; p95 = nearest rank")
print()
W = max(len(f"a) {n}") for n, _ in kernels)
hdr = (f"{'kernel':<{W}} {'vmlinux':>8} | {'to init (s)':^20} | {'exit':>5} | "
       f"{'guest':>5} | {'RSS MB':>6} {'PSS MB':>6}")
print(hdr)
print(f"{'':<{W}} {'MB':>8} | {'median':>6} {'min':>6} {'p95':>6} | {'med':>5} | "
      f"{'med':>5} | {'peak':>6} {'peak':>6}")
print("-" * len(hdr))
summ = []
for i, (name, path) in enumerate(kernels):
    rs = res[i]
    ti = [x[0] for x in rs]; te = [x[1] for x in rs]; tg = [x[2] for x in rs]
    rss = max(x[3] for x in rs) / 1024; pss = max(x[4] for x in rs) / 1024
    size = os.path.getsize(path) / 1e6
    label = f"{'ab'[i]}) {name}"
    print(f"{label:<{W}} {size:8.1f} | {med(ti):6.3f} {min(ti):6.3f} {pct(ti, 95):6.3f} | "
          f"{med(te):5.2f} | {med(tg):5.2f} | {rss:6.1f} {pss:6.1f}")
    summ.append((med(ti), rss, pss))
print()
a, b = summ
print(f"ratio b/a: to init {b[0] / a[0]:.2f}, peak RSS {b[1] / a[1]:.2f}, peak PSS {b[2] / a[2]:.2f}")
print(f"issue 5 goal for the whole level: cold start <= 0.5 x baseline = {0.5 * a[0]:.3f} s "
      f"(the kernel alone takes {b[0]:.3f} s, {b[0] / a[0] * 100:.0f}% of the baseline)")
EOF
