# The vm level's nested setup, shared by test_vm.sh and test_vm_net.sh
# (source after lib.sh). These machines have no hardware virtualization, so
# the tests boot a QEMU TCG guest (L1) whose emulated CPU has AMD SVM
# (-cpu max) with Debian's kernel and kvm-amd (a real /dev/kvm,
# ../shared/notes/nested-kvm), and run cella's vm level inside it. The L1
# init prints "VMTEST ok - NAME" / "VMTEST not ok - NAME" lines, "VMTEST
# figure: ..." lines and "VMTEST done"; vm_l1_boot turns them into TAP.

BUILD_DIR=$(dirname "$CELLA")
KERNEL=${CELLA_KERNEL:-$REPO_ROOT/build/vmlinux}
AGENT=${CELLA_AGENT_INITRD:-$REPO_ROOT/build/cella-agent.cpio}
KV=$(ls /lib/modules 2> /dev/null | grep -- '-amd64$' | sort -V | tail -1)

# Why the nested test cannot run here (empty: it can).
vm_nested_why() {
    command -v qemu-system-x86_64 > /dev/null || { echo "qemu-system-x86_64 is not installed (scripts/deps.sh)"; return; }
    { [ -n "$KV" ] && [ -r "/boot/vmlinuz-$KV" ]; } ||
        { echo "no Debian kernel for the TCG guest (apt-get install linux-image-amd64)"; return; }
    [ -r "$KERNEL" ] || { echo "no guest kernel $KERNEL (make kernel)"; return; }
    [ -r "$AGENT" ] || { echo "no guest agent initramfs $AGENT (make)"; return; }
    command -v mkfs.erofs > /dev/null || { echo "no mkfs.erofs (scripts/deps.sh)"; return; }
    [ -x /bin/busybox ] || { echo "no static busybox (apt-get install busybox-static)"; return; }
}

# vm_l1_copy PROG DEST: the program into the L1 tree at DEST (replacing a
# busybox link there) and every library it loads.
vm_l1_copy() {
    local lib
    rm -f "$L1/$2"
    cp "$1" "$L1/$2"
    for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
        mkdir -p "$L1$(dirname "$lib")"
        cp -L "$lib" "$L1$lib"
    done
}

# vm_l1_make [MODULE...]: the L1 tree in $L1 (set it first): busybox, the kvm
# modules and the named ones (loaded in that order), cella with its shared
# libraries, mkfs.erofs (the rootfs image), the guest kernel and agent.
vm_l1_make() {
    local a m f
    mkdir -p "$L1"/{bin,sbin,proc,sys,dev,tmp,run,etc,modules,cella,var/tmp}
    ln -s /run "$L1/var/run"
    cp /bin/busybox "$L1/bin/"
    for a in $("$L1/bin/busybox" --list); do [ -e "$L1/bin/$a" ] || ln -s busybox "$L1/bin/$a"; done
    for m in irqbypass kvm ccp kvm-amd "$@"; do
        f=$(modinfo -k "$KV" -n "$m")
        case $f in
            *.xz) xz -dc "$f" > "$L1/modules/$m.ko" ;;
            *.zst) zstd -dc "$f" > "$L1/modules/$m.ko" ;;
            *) cp "$f" "$L1/modules/$m.ko" ;;
        esac
        echo "$m" >> "$L1/modules/order"
    done
    vm_l1_copy "$CELLA" cella/cella
    vm_l1_copy "$(command -v mkfs.erofs)" bin/mkfs.erofs
    cp -L "$KERNEL" "$L1/cella/vmlinux"
    cp "$AGENT" "$L1/cella/cella-agent.cpio"
}

# The first lines of the L1 init (a test appends its checks): the
# filesystems, the modules, and the helpers c (cella), up (seconds since
# boot), check NAME (the status before says), dump ID (a failure's stderr
# and console), status ID.
vm_l1_init_head() {
    cat <<'EOI'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp; mount -t tmpfs run /run; mount -t tmpfs vt /var/tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
for m in $(cat /modules/order); do insmod /modules/$m.ko || echo "VMTEST insmod $m failed"; done
echo "VMTEST L1 up at $(cut -d' ' -f1 /proc/uptime) s, /dev/kvm: $(ls /dev/kvm 2>&1)"
export CELLA_KERNEL=/cella/vmlinux CELLA_AGENT_INITRD=/cella/cella-agent.cpio
# The checks are of behaviour, not of boot speed: a nested guest under TCG
# on a loaded 2-core machine took 28-35 s to READY (load average 15), past
# the level's default of 30 s.
export CELLA_VM_BOOT_TIMEOUT=55
c() { timeout 90 /cella/cella --root /run/cella "$@"; }
up() { cut -d' ' -f1 /proc/uptime; }
check() { # NAME: the exit status of the command before says; returns it
    if [ $? = 0 ]; then echo "VMTEST ok - $1"; else echo "VMTEST not ok - $1" && return 1; fi
}
dump() { # the stderr and console of a failure
    sed 's/^/VMTEST   stderr: /' /tmp/err | tail -5
    [ -f /run/cella/$1/console.log ] && tail -20 /run/cella/$1/console.log | sed 's/^/VMTEST   console: /'
}
status() { c state $1 2>/dev/null | grep -o '"status": *"[a-z]*"' | grep -o '[a-z]*"$' | tr -d '"'; }
EOI
}

# vm_l1_boot: packs $L1 (its init written), boots it under TCG with nested
# SVM, and reports its VMTEST lines as TAP.
vm_l1_boot() {
    local t0 rc line
    chmod +x "$L1/init"
    (cd "$L1" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/l1.cpio.gz"
    t0=$(date +%s)
    timeout -k 5 420 qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 -nographic -no-reboot \
        -nodefaults -serial stdio -kernel "/boot/vmlinuz-$KV" -initrd "$WORK/l1.cpio.gz" \
        -append "console=ttyS0 panic=-1 quiet" < /dev/null > "$WORK/l1.log" 2>&1
    rc=$?
    echo "# the L1 guest ran $(($(date +%s) - t0)) s (qemu rc=$rc)"
    tr -d '\r' < "$WORK/l1.log" | grep -a '^VMTEST \(L1\|figure\|insmod\|  \)' | sed 's/^/# /'
    if ! grep -aq 'VMTEST L1 up.*/dev/kvm: /dev/kvm' "$WORK/l1.log"; then
        not_ok "the TCG guest has a /dev/kvm (nested SVM)"
        tail -20 "$WORK/l1.log" | sed 's/^/# /'
        return
    fi
    ok "the TCG guest has a /dev/kvm (nested SVM)"
    while IFS= read -r line; do
        case $line in
            "VMTEST ok - "*) ok "nested SVM: ${line#VMTEST ok - }" ;;
            "VMTEST not ok - "*) not_ok "nested SVM: ${line#VMTEST not ok - }" ;;
        esac
    done < <(tr -d '\r' < "$WORK/l1.log" | grep -a '^VMTEST \(not \)\?ok - ')
    grep -aq '^VMTEST done' "$WORK/l1.log" && ok "the test inside the TCG guest ran to its end" ||
        not_ok "the test inside the TCG guest ran to its end"
}
