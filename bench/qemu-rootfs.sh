#!/bin/bash
# qemu-rootfs.sh [--runs N] [--debian DIR] [--kernel VMLINUX] [--no-read] [--keep]
#
# How the bundle's rootfs should reach the guest of the qemu level (issue 5,
# docs/rootfs-delivery.md): for each rootfs of `cella bench` (distroless: the
# server alone; busybox: busybox-static + the server; Debian minbase with
# --debian DIR, made by debootstrap as the bench does when DIR does not exist)
# and each way of delivering it
#   erofs           mkfs.erofs image on virtio-blk (what src/level/vmhost/rootfs.c builds)
#   erofs-noinline  the same with -Enoinline_data (file tails in their own blocks)
#   erofs-lz4(hc)   lz4 / lz4hc-compressed (booted only if the kernel has EROFS_FS_ZIP,
#                   e.g. --kernel a build of the fragment plus CONFIG_EROFS_FS_ZIP=y)
#   ext4            mke2fs -d image on virtio-blk, no journal
#   initramfs       the tree in a cpio appended to the init's (the rootfs in guest RAM)
# it measures the image's build time (median of 3) and size, then boots each
# N times under QEMU microvm TCG with bench/qemu-rootfs-init.c as PID 1, which
# mounts the image read-only under a tmpfs-backed overlay (as the guest agent
# does), walks the tree (lstat of every entry) and reads every file. Reported:
# host time from QEMU's exec to the init's first line and to its last line,
# the same two points in guest time (since the kernel started: no QEMU
# start-up in them), guest milliseconds for the mount, the walk and the read,
# QEMU's peak RSS,
# against a boot without any rootfs in the same run. Boots alternate between
# the variants of one rootfs after one unmeasured warm-up each. Last, what
# `create` pays in vm_rootfs_image (bench/qemu-rootfs-cache.c): the first
# call (key + build) and a cached one.
set -euo pipefail

runs=5
debian=""
kernel=""
read_all=1
keep=0

usage() {
    sed -n '2,30s/^# \{0,1\}//p' "$0" >&2
    exit 2
}
die() {
    echo "qemu-rootfs: $*" >&2
    exit 1
}
note() { echo "qemu-rootfs: $*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
    --debian) [ $# -ge 2 ] || usage; debian=$2; shift 2 ;;
    --kernel) [ $# -ge 2 ] || usage; kernel=$2; shift 2 ;;
    --no-read) read_all=0; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) usage ;;
    *) echo "qemu-rootfs: unknown argument \`$1'" >&2; usage ;;
    esac
done
case "$runs" in '' | *[!0-9]* | 0) die "--runs: expected a positive integer, got \`$runs'" ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" --only qemu-system-x86 python3 erofs-utils e2fsprogs cpio \
    busybox-static musl-tools ||
    die "installing the packages failed"

if [ -n "$kernel" ]; then
    [ -f "$kernel" ] || die "--kernel: \`$kernel' is not a file"
    vmlinux=$(realpath "$kernel")
else
    vmlinux=$("$root/scripts/kernel.sh") || die "cannot build cella's kernel (scripts/kernel.sh)"
fi
# The kernel cache keeps each vmlinux's .config next to it.
lz4_boot=0
grep -qx 'CONFIG_EROFS_FS_ZIP=y' "$(dirname "$vmlinux")/config" 2>/dev/null && lz4_boot=1

make -s -C "$root" build/cella-bench-httpd >&2 || die "cannot build the bench's httpd"
httpd=$root/build/cella-bench-httpd

work=$(mktemp -d /tmp/cella-qemu-rootfs.XXXXXX)
cleanup() {
    if [ "$keep" = 1 ]; then note "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The PID 1 and its initramfs; /dev/console must exist before init runs.
musl-gcc -std=gnu11 -Wall -Wextra -Werror -Os -static -s -o "$work/init" \
    "$root/bench/qemu-rootfs-init.c" || die "cannot build bench/qemu-rootfs-init.c"
mkdir -p "$work/initramfs/dev"
cp "$work/init" "$work/initramfs/init"
mknod -m 600 "$work/initramfs/dev/console" c 5 1
(cd "$work/initramfs" && find . | cpio -o -H newc --quiet) >"$work/init.cpio" ||
    die "cannot pack the init's cpio"

# The bench's rootfs trees, made as src/cli/bench.c makes them.
trees=()
make_trees() {
    mkdir -p "$work/distroless/rootfs"/{proc,dev,sys,tmp}
    cp "$httpd" "$work/distroless/rootfs/httpd"
    trees+=(distroless)
    mkdir -p "$work/busybox/rootfs/bin"
    cp /bin/busybox "$work/busybox/rootfs/bin/busybox"
    cp "$httpd" "$work/busybox/rootfs/httpd"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -sf busybox "$work/busybox/rootfs/bin/$a"
    done
    trees+=(busybox)
    if [ -z "$debian" ]; then
        note "Debian minbase not measured: give --debian DIR (debootstrap makes it when missing)"
        return
    fi
    if [ ! -f "$debian/etc/debian_version" ]; then
        note "debootstrap --variant=minbase bookworm $debian"
        debootstrap --variant=minbase bookworm "$debian" >/dev/null 2>&1 ||
            die "debootstrap --variant=minbase failed (is debootstrap installed?)"
    fi
    cp "$httpd" "$debian/httpd"
    mkdir -p "$work/debian"
    ln -s "$(realpath "$debian")" "$work/debian/rootfs"
    trees+=(debian)
}
make_trees

# One image of TREE's rootfs as KIND into FILE.
build_image() {
    local kind=$1 dir=$2 out=$3
    rm -f "$out"
    case "$kind" in
    erofs) mkfs.erofs --quiet "$out" "$dir" ;;
    erofs-noinline) mkfs.erofs --quiet -Enoinline_data "$out" "$dir" ;;
    erofs-lz4) mkfs.erofs --quiet -zlz4 "$out" "$dir" ;;
    erofs-lz4hc) mkfs.erofs --quiet -zlz4hc "$out" "$dir" ;;
    ext4)
        # Room for the data, one 256-byte inode per entry, and a margin for
        # ext4's own metadata; no journal: the guest mounts it read-only.
        local kb n
        kb=$(du -sk "$dir" | cut -f1)
        n=$(find "$dir" | wc -l)
        mke2fs -q -t ext4 -b 4096 -O ^has_journal -m 0 -I 256 -N $((n + n / 10 + 64)) -d "$dir" "$out" \
            $((kb * 11 / 10 + n / 4 + 4096))k >/dev/null
        ;;
    initramfs)
        (cd "$(dirname "$dir")" && find rootfs/ | cpio -o -H newc --quiet) >"$out.part" &&
            cat "$work/init.cpio" "$out.part" >"$out" && rm -f "$out.part"
        ;;
    esac
}

# What `create` pays: vm_rootfs_image into an empty cache, then on a hit.
gcc -std=gnu11 -Wall -Wextra -Werror -O2 -I"$root/src" -o "$work/rootfs-cache" \
    "$root/bench/qemu-rootfs-cache.c" "$root/src/level/vmhost/rootfs.c" "$root/src/core/sha256.c" \
    "$root/src/core/util.c" "$root/src/core/error.c" || die "cannot build bench/qemu-rootfs-cache.c"
cache_args=()
for t in "${trees[@]}"; do cache_args+=("$work/$t/rootfs"); done
"$work/rootfs-cache" "$work/cache" "${cache_args[@]}" >"$work/cache.txt" ||
    die "vm_rootfs_image failed"
rm -rf "$work/cache"

now_ns() { date +%s%N; }
kinds=(erofs erofs-noinline erofs-lz4 erofs-lz4hc ext4 initramfs)
: >"$work/images"
for t in "${trees[@]}"; do
    dir=$work/$t/rootfs/
    for k in "${kinds[@]}"; do
        img=$work/$t.$k.img
        times=()
        for _ in 1 2 3; do
            s=$(now_ns)
            build_image "$k" "$dir" "$img" || die "$t: building the $k image failed"
            times+=($((($(now_ns) - s) / 1000)))
        done
        med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
        size=$(stat -c %s "$img")
        [ "$k" = initramfs ] && size=$((size - $(stat -c %s "$work/init.cpio")))
        boot=1
        case "$k" in erofs-lz4*) [ "$lz4_boot" = 1 ] || boot=0 ;; esac
        echo "$t $k $img $size $med $boot" >>"$work/images"
        note "$t $k: $size bytes, built in $((med / 1000)) ms"
    done
done

tsc_khz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9]*\)\.\([0-9]*\) MHz.*/\1\2/p' | head -n1)
if grep -qwE 'vmx|svm' /proc/cpuinfo; then
    hw="the CPU has vmx/svm (KVM would be usable; this measures TCG)"
else
    hw="no vmx/svm: TCG is the mode here"
fi

export QR_RUNS=$runs QR_KERNEL=$vmlinux QR_INITRD=$work/init.cpio QR_IMAGES=$work/images
export QR_READ=$read_all QR_TSC=${tsc_khz:-} QR_HW=$hw QR_CACHE=$work/cache.txt
python3 - <<'EOF'
import os, re, subprocess, sys, threading, time

env = os.environ
runs = int(env["QR_RUNS"])
append = "console=ttyS0 quiet reboot=k panic=-1 noreplace-smp nolapic_timer"
if env["QR_TSC"]:
    append += f" tsc_early_khz={env['QR_TSC']} tsc=reliable"
if env["QR_READ"] == "1":
    append += " rfs_read=1"

images = {}  # tree -> [(kind, path, size, build_us, boot)]
for line in open(env["QR_IMAGES"]):
    t, k, path, size, us, boot = line.split()
    images.setdefault(t, []).append((k, path, int(size), int(us), boot == "1"))

def qemu_cmd(kind, path, mem):
    cmd = ["qemu-system-x86_64", "-M", "microvm,acpi=off", "-accel", "tcg", "-m", str(mem),
           "-smp", "1", "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
           "-device", "i8042", "-kernel", env["QR_KERNEL"]]
    word = kind.split("-")[0]
    if kind == "initramfs":
        cmd += ["-initrd", path]
    else:
        cmd += ["-initrd", env["QR_INITRD"]]
    if word in ("erofs", "ext4"):
        cmd += ["-drive", f"id=rfs,file={path},format=raw,if=none,readonly=on",
                "-device", "virtio-blk-device,drive=rfs"]
    return cmd + ["-append", f"{append} rfs_kind={word}"]

def boot(kind, path, mem):
    t0 = time.monotonic()
    p = subprocess.Popen(qemu_cmd(kind, path, mem), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    killer = threading.Timer(120, p.kill)
    killer.start()
    out, t_init, t_done = b"", None, None
    while True:
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        out += chunk
        if t_init is None and b"rfs: init" in out:
            t_init = time.monotonic() - t0
        if t_done is None and re.search(rb"rfs: done [0-9.]+\r?\n", out):
            t_done = time.monotonic() - t0
    _, status, ru = os.wait4(p.pid, 0)
    killer.cancel()
    text = out.decode(errors="replace")
    if t_done is None or "FAILED" in text:
        tail = " | ".join(text.strip().splitlines()[-3:])
        sys.exit(f"qemu-rootfs: {kind} {path}: boot failed (status {status}): {tail}")
    def ms(pat):
        m = re.search(pat, text)
        return float(m.group(1)) if m else None
    return dict(init=t_init, done=t_done, rss=ru.ru_maxrss / 1024,
                g_init=ms(r"rfs: init ([0-9.]+)"), g_done=ms(r"rfs: done ([0-9.]+)"),
                mount=ms(r"rfs: mounted [0-9.]+ ([0-9.]+) ms"),
                walk=ms(r"rfs: walk .* ([0-9.]+) ms"), read=ms(r"rfs: read .* ([0-9.]+) ms"),
                )

def med(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2

def size_mem(variants):
    """Guest memory: the initramfs variant holds the tree twice while unpacking."""
    big = max(v[2] for v in variants)
    return max(128, (2 * big + 96 * 2**20 + 2**20 - 1) // 2**20)

rows, mems = [], {}
for tree, variants in images.items():
    mem = size_mem(variants)
    todo = [("none", "", 0, 0, True)] + [v for v in variants if v[4]]
    res = {v[0]: [] for v in todo}
    for v in todo:
        boot(v[0], v[1], mem)  # warm-up
    for r in range(runs):
        for v in todo:
            res[v[0]].append(boot(v[0], v[1], mem))
        print(f"qemu-rootfs: {tree}: run {r + 1}/{runs}", file=sys.stderr)
    base = med(x["g_done"] for x in res["none"])
    mems[tree] = mem
    for v in [("none", "", 0, 0, True)] + variants:
        k = v[0]
        rs = res.get(k, [])
        m = {f: med(x[f] for x in rs) for f in ("init", "done", "mount", "walk", "read", "rss",
                                                 "g_init", "g_done")} if rs else {}
        rows.append((tree, k, v[2], v[3], m, base))

ver = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                     text=True).stdout.splitlines()[0]
print(f"mode: TCG ({env['QR_HW']}); {os.cpu_count()} cores, {os.uname().release}; {ver}")
print(f"kernel: {env['QR_KERNEL']}")
print(f"append: {append} rfs_kind=...")
print(f"runs: {runs} per variant (median), alternating, after 1 warm-up each")
print("guest memory: " + ", ".join(f"{t} {m} MiB" for t, m in mems.items()))
print("to init, to done: host clock from QEMU's exec; guest: init, done: guest clock since the "
      "kernel started; +vs none: guest done minus the no-rootfs boot's")
print()
def f(x, fmt):
    return format(x, fmt) if x is not None else "-"
print("| rootfs | delivery | image | build | to init | to done | guest: init | done | "
      "+vs none | mount | walk | read | QEMU RSS |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for tree, k, size, us, m, base in rows:
    if k == "none":
        img, build = "-", "-"
    else:
        img, build = f"{size / 2**20:.2f} MiB", f"{us / 1000:.1f} ms"
    if not m:
        print(f"| {tree} | {k} | {img} | {build} | not booted: the kernel has no "
              "EROFS_FS_ZIP | | | | | | | | |")
        continue
    extra = (m["g_done"] - base) * 1e3 if k != "none" else None
    print(f"| {tree} | {k} | {img} | {build} | {f(m['init'], '.3f')} s | "
          f"{f(m['done'], '.3f')} s | {f(m['g_init'], '.3f')} s | {f(m['g_done'], '.3f')} s | "
          f"{f(extra, '+.0f')} ms | {f(m['mount'], '.1f')} ms | "
          f"{f(m['walk'], '.1f')} ms | {f(m['read'], '.1f')} ms | {f(m['rss'], '.0f')} MB |")
print()
print("vm_rootfs_image (src/level/vmhost/rootfs.c), as create calls it:")
print("| rootfs | first call: key + mkfs.erofs + fsync | cached: key walk only (median of 5) |")
print("|---|---|---|")
for line in open(env["QR_CACHE"]):
    _, path, _, build, _, hit = line.split()
    tree = os.path.basename(os.path.dirname(path.rstrip("/")))
    print(f"| {tree} | {float(build):.1f} ms | {float(hit):.1f} ms |")
EOF
