#!/bin/bash
# The vm level (cella's own VMM on /dev/kvm). On this host: what it refuses
# up front (no /dev/kvm, the PVM module's /dev/kvm), as one line that leaves
# nothing behind. Then for real: these machines have no hardware
# virtualization, so the test boots a QEMU TCG guest whose emulated CPU has
# AMD SVM (-cpu max) with Debian's kernel and kvm-amd (a real /dev/kvm,
# ../shared/notes/nested-kvm), and runs `cella --isolation vm run` of a
# bundle inside it; the guest prints one VMTEST marker line that this side
# greps. Mode: nested SVM under TCG.
source "$(dirname "$0")/lib.sh"

BUILD_DIR=$(dirname "$CELLA")
KERNEL=${CELLA_KERNEL:-$REPO_ROOT/build/vmlinux}
AGENT=${CELLA_AGENT_INITRD:-$REPO_ROOT/build/cella-agent.cpio}
B=$WORK/bundle
make_bundle "$B"

# ---- refused up front on a host whose /dev/kvm cannot run the guest ----------------------
if [ -d /sys/module/kvm_pvm ]; then
    id=$(newid pvm)
    fails "a PVM /dev/kvm is named and refused at once" "$id" \
        'vm level: /dev/kvm is the PVM module \(kvm_pvm\)' cella --isolation vm run --bundle "$B" "$id"
    # The same through the program name.
    ln -s "$CELLA" "$WORK/cella-vm"
    id=$(newid pvm)
    fails "cella-vm selects the level" "$id" 'vm level: /dev/kvm is the PVM module' \
        timeout 10 "$WORK/cella-vm" --root "$ROOT" create --bundle "$B" "$id"
elif [ ! -e /dev/kvm ]; then
    id=$(newid nokvm)
    fails "no /dev/kvm is refused at once" "$id" 'vm level: no /dev/kvm' \
        cella --isolation vm run --bundle "$B" "$id"
else
    skip "refusal of an unusable /dev/kvm" "this host's /dev/kvm is not PVM"
fi
# A network namespace path needs virtio-net, not built yet: refused by check.
if [ -d /sys/module/kvm_pvm ] || [ ! -e /dev/kvm ]; then
    skip "network namespace path refused" "refused earlier for /dev/kvm on this host"
fi

# ---- for real, in a TCG guest with nested SVM ----------------------------------------------
KV=$(ls /lib/modules 2> /dev/null | grep -- '-amd64$' | sort -V | tail -1)
why=""
command -v qemu-system-x86_64 > /dev/null || why="qemu-system-x86_64 is not installed (scripts/deps.sh)"
[ -n "$why" ] || { [ -n "$KV" ] && [ -r "/boot/vmlinuz-$KV" ]; } ||
    why="no Debian kernel for the TCG guest (apt-get install linux-image-amd64)"
[ -n "$why" ] || [ -r "$KERNEL" ] || why="no guest kernel $KERNEL (make kernel)"
[ -n "$why" ] || [ -r "$AGENT" ] || why="no guest agent initramfs $AGENT (make)"
[ -n "$why" ] || command -v mkfs.erofs > /dev/null || why="no mkfs.erofs (scripts/deps.sh)"
[ -n "$why" ] || [ -x /bin/busybox ] || why="no static busybox (apt-get install busybox-static)"
if [ -n "$why" ]; then
    skip "vm level under nested SVM" "$why"
    plan_done
    exit 0
fi

# The L1 guest's initramfs: busybox, the kvm modules, cella with its shared
# libraries, mkfs.erofs (the rootfs image), the guest kernel and agent, the
# bundle.
L1=$WORK/l1
mkdir -p "$L1"/{bin,sbin,proc,sys,dev,tmp,run,etc,modules,cella,var/tmp}
cp /bin/busybox "$L1/bin/"
for a in $("$L1/bin/busybox" --list); do [ -e "$L1/bin/$a" ] || ln -s busybox "$L1/bin/$a"; done
for m in irqbypass kvm ccp kvm-amd; do
    f=$(modinfo -k "$KV" -n "$m")
    case $f in
        *.xz) xz -dc "$f" > "$L1/modules/$m.ko" ;;
        *.zst) zstd -dc "$f" > "$L1/modules/$m.ko" ;;
        *) cp "$f" "$L1/modules/$m.ko" ;;
    esac
done
copy_prog() { # PROG DEST: the program and every library it loads
    local lib
    cp "$1" "$L1/$2"
    for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
        mkdir -p "$L1$(dirname "$lib")"
        cp -L "$lib" "$L1$lib"
    done
}
copy_prog "$CELLA" cella/cella
copy_prog "$(command -v mkfs.erofs)" bin/mkfs.erofs
cp -L "$KERNEL" "$L1/cella/vmlinux"
cp "$AGENT" "$L1/cella/cella-agent.cpio"
args "$B" 'echo hello from the vm level; exit 7'
cp -a "$B" "$L1/bundle"
cat > "$L1/init" <<'EOI'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp; mount -t tmpfs run /run; mount -t tmpfs vt /var/tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
for m in irqbypass kvm ccp kvm-amd; do insmod /modules/$m.ko || echo "VMTEST insmod $m failed"; done
echo "VMTEST L1 up at $(cut -d' ' -f1 /proc/uptime) s, /dev/kvm: $(ls /dev/kvm 2>&1)"
export CELLA_KERNEL=/cella/vmlinux CELLA_AGENT_INITRD=/cella/cella-agent.cpio
start=$(cut -d' ' -f1 /proc/uptime)
timeout 90 /cella/cella --debug --root /run/cella --isolation vm run --bundle /bundle t1 \
    > /tmp/out 2> /tmp/err < /dev/null
rc=$?
echo "VMTEST run rc=$rc in $(echo "$(cut -d' ' -f1 /proc/uptime) $start" | awk '{print $1 - $2}') s"
sed 's/^/VMTEST stdout: /' /tmp/out; sed 's/^/VMTEST stderr: /' /tmp/err | tail -20
# A VM that did not end: its console (the monitor keeps it while the VM runs).
[ -f /run/cella/t1/console.log ] && tail -80 /run/cella/t1/console.log | sed 's/^/VMTEST console: /'
if [ $rc = 7 ] && grep -qx 'hello from the vm level' /tmp/out; then
    echo "VMTEST RESULT: PASS"
else
    echo "VMTEST RESULT: FAIL"
fi
poweroff -f
EOI
chmod +x "$L1/init"
(cd "$L1" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/l1.cpio.gz"

t0=$(date +%s)
timeout -k 5 240 qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 -nographic -no-reboot \
    -nodefaults -serial stdio -kernel "/boot/vmlinuz-$KV" -initrd "$WORK/l1.cpio.gz" \
    -append "console=ttyS0 panic=-1 quiet" < /dev/null > "$WORK/l1.log" 2>&1
rc=$?
echo "# the L1 guest ran $(($(date +%s) - t0)) s (qemu rc=$rc)"
grep -a '^VMTEST' "$WORK/l1.log" | sed 's/^/# /'
if ! grep -aq 'VMTEST L1 up.*/dev/kvm: /dev/kvm' "$WORK/l1.log"; then
    not_ok "the TCG guest has a /dev/kvm (nested SVM)"
    tail -20 "$WORK/l1.log" | sed 's/^/# /'
else
    ok "the TCG guest has a /dev/kvm (nested SVM)"
    # The guest kernel ran to its init (the agent) and wrote through the
    # VMM's serial port: the agent's own lines reach the console log.
    if grep -aq '^VMTEST RESULT: PASS' "$WORK/l1.log" ||
        grep -aq '^VMTEST stderr: .*cella-agent: ' "$WORK/l1.log"; then
        ok "the guest kernel boots to the agent under cella's VMM (serial console)"
    else
        not_ok "the guest kernel boots to the agent under cella's VMM (serial console)"
    fi
    if grep -aq '^VMTEST RESULT: PASS' "$WORK/l1.log"; then
        ok "cella --isolation vm run under nested SVM: stdout and exit code"
    else
        not_ok "cella --isolation vm run under nested SVM: stdout and exit code"
    fi
fi
plan_done
