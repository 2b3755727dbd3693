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
source "$(dirname "$0")/vm_lib.sh"

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
# More memory than fits below the device window: refused by check, first.
id=$(newid mem)
cp -a "$B" "$WORK/bmem"
cfg "$WORK/bmem" "c['linux'].setdefault('resources', {})['memory'] = {'limit': 4 << 30}"
fails "4 GiB of guest memory is refused up front" "$id" \
    'vm level: linux.resources.memory.limit: 4096 MiB, at most 3328 MiB' \
    cella --isolation vm create --bundle "$WORK/bmem" "$id"
# The data path's setting: on or off, anything else refused up front.
id=$(newid ev)
cp -a "$B" "$WORK/bev"
cfg "$WORK/bev" "c['annotations']={'run.cella.vm.eventfds':'maybe'}"
fails "run.cella.vm.eventfds=maybe is refused up front" "$id" \
    'vm level: annotation run.cella.vm.eventfds: expected on or off, got .maybe.' \
    cella --isolation vm create --bundle "$WORK/bev" "$id"

# ---- for real, in a TCG guest with nested SVM ----------------------------------------------
why=$(vm_nested_why)
if [ -n "$why" ]; then
    skip "vm level under nested SVM" "$why"
    plan_done
    exit 0
fi

# The L1 guest's initramfs: busybox, the kvm modules, cella with its shared
# libraries, mkfs.erofs (the rootfs image), the guest kernel and agent, the
# bundle.
L1=$WORK/l1
vm_l1_make
args "$B" 'echo hello from the vm level; echo to stderr >&2; exit 7'
cp -a "$B" "$L1/bundle"
cp -a "$B" "$WORK/b2"
args "$WORK/b2" 'echo started; exec sleep 600'
cp -a "$WORK/b2" "$L1/bundle2"
cp -a "$B" "$WORK/b5"
args "$WORK/b5" 'grep -c ^processor /proc/cpuinfo'
cfg "$WORK/b5" "c['linux'].setdefault('resources', {})['cpu'] = {'quota': 200000, 'period': 100000}"
cp -a "$WORK/b5" "$L1/bundle5"
# A "kernel" whose PVH entry is ud2, with no IDT: the guest triple-faults.
python3 - "$L1/cella/crash.elf" <<'EOP'
import struct, sys
code = b"\x0f\x0b"
note = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", 0x1000000)
eh = 64; ph = 56
off_note = eh + 2 * ph; off_code = off_note + len(note)
ehdr = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack(
    "<HHIQQQIHHHHHH", 2, 62, 1, 0x1000000, eh, 0, 0, eh, ph, 2, 0, 0, 0)
load = struct.pack("<IIQQQQQQ", 1, 5, off_code, 0, 0x1000000, len(code), len(code), 0x1000)
pnote = struct.pack("<IIQQQQQQ", 4, 4, off_note, 0, 0, len(note), len(note), 4)
open(sys.argv[1], "wb").write(ehdr + load + pnote + note + code)
EOP
{
    vm_l1_init_head
    cat <<'EOI'
# run in the foreground: stdout, stderr, exit code
t0=$(up)
c --isolation vm run --bundle /bundle t1 > /tmp/out 2> /tmp/err < /dev/null
rc=$?
echo "VMTEST figure: run (create, boot to READY, the command, delete) $(echo "$(up) $t0" | awk '{print $1 - $2}') s"
[ $rc = 7 ] && grep -qx 'hello from the vm level' /tmp/out && grep -qx 'to stderr' /tmp/err
check "vm run: stdout, stderr and exit code 7" || dump t1
[ ! -e /run/cella/t1 ]; check "vm run: nothing left in the state root"

# two vCPUs (the spec's CPU quota): the guest sees both (the MP table)
t0=$(up)
c --isolation vm run --bundle /bundle5 t5 > /tmp/out5 2> /tmp/err5 < /dev/null
rc=$?
echo "VMTEST figure: run with 2 vCPUs $(echo "$(up) $t0" | awk '{print $1 - $2}') s"
[ $rc = 0 ] && [ "$(cat /tmp/out5)" = 2 ]
check "2 vCPUs: the guest sees 2 processors" ||
    { sed 's/^/VMTEST   out: /' /tmp/out5; sed 's/^/VMTEST   err: /' /tmp/err5 | tail -5; }

# create / start / exec / kill / delete
t0=$(up)
c --debug --isolation vm create --bundle /bundle2 t2 > /tmp/out2 2> /tmp/err < /dev/null
check "vm create boots to the agent's READY" || dump t2
echo "VMTEST figure: create to READY $(echo "$(up) $t0" | awk '{print $1 - $2}') s"
[ "$(status t2)" = created ]; check "state: created"
pid=$(c state t2 | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$')
if [ -n "$pid" ] && [ -r /proc/$pid/smaps_rollup ]; then
    awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} /^Pss_Shmem:/ {s=$2} END {printf "VMTEST figure: VMM process RSS %d KiB, PSS %d KiB, PSS without guest memory (shmem) %d KiB\n", r, p, p - s}' /proc/$pid/smaps_rollup
    echo "VMTEST figure: VMM threads $(ls /proc/$pid/task | wc -l)"
fi
# The data path in KVM: --debug names it in the console (the VMM's stderr).
grep -q 'vm level: queue notifies by ioeventfd (the I/O thread), device interrupts by irqfd' \
    /run/cella/t2/console.log
check "--debug: notifies by ioeventfd, interrupts by irqfd" ||
    grep 'vm level: queue' /run/cella/t2/console.log | sed 's/^/VMTEST   /'
# Confinement: every thread of the VMM under its seccomp filter, no
# capabilities, its own namespaces.
n=0 bad=""
for t in /proc/$pid/task/*; do
    n=$((n + 1))
    grep -q '^Seccomp:[[:space:]]*2$' $t/status && grep -q '^CapEff:[[:space:]]*0*$' $t/status &&
        grep -q '^CapPrm:[[:space:]]*0*$' $t/status || bad="$bad $(grep -E '^(Name|Seccomp|CapEff):' $t/status | tr '\n' ' ')"
done
[ -n "$pid" ] && [ $n -ge 3 ] && [ -z "$bad" ]
check "every VMM thread ($n) has Seccomp: 2 and CapEff/CapPrm 0" || echo "VMTEST   $bad"
same=""
for ns in mnt net ipc uts; do
    [ "$(readlink /proc/$pid/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ] || same="$same $ns"
done
[ -n "$pid" ] && [ -z "$same" ]
check "the VMM has its own mount, network, IPC and UTS namespaces" || echo "VMTEST   shared:$same"
c start t2 2>> /tmp/err && [ "$(status t2)" = running ]
check "start: running" || dump t2
c pause t2 2> /tmp/errp && [ "$(status t2)" = paused ] && c resume t2 2>> /tmp/errp &&
    [ "$(status t2)" = running ]
check "pause, resume (the VMM process stopped, then continued)" ||
    { sed 's/^/VMTEST   pause: /' /tmp/errp; echo "VMTEST   state: $(status t2)";
      for t in $(cat /sys/fs/cgroup/t2/cgroup.threads); do
          echo "VMTEST   thread $t $(cat /proc/$t/comm) $(cut -d' ' -f3 /proc/$t/stat)"; done; }
out=$(c exec t2 sh -c 'echo exec-ok; exit 3' 2>> /tmp/err)
[ $? = 3 ] && [ "$out" = exec-ok ]
check "exec: stdout and exit code 3" || dump t2
c kill t2 TERM 2>> /tmp/err
i=0
while [ $i -lt 300 ] && [ "$(status t2)" != stopped ]; do i=$((i + 1)); sleep 0.1; done
[ "$(status t2)" = stopped ]; check "kill TERM: the process ends, the VM stops" || dump t2
c delete t2 2>> /tmp/err && [ ! -e /run/cella/t2 ] && ! kill -0 "$pid" 2> /dev/null
check "delete: nothing left (state, VMM process)"
grep -qx started /tmp/out2; check "create's stdout gets process 0's output"
# A paused VM is deleted by force: the stopped VMM is killed, nothing left
c --isolation vm run -d --bundle /bundle2 t6 > /dev/null 2> /tmp/err6 < /dev/null &&
    pid6=$(c state t6 | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$') &&
    c pause t6 2>> /tmp/err6 && c delete --force t6 2>> /tmp/err6 && [ ! -e /run/cella/t6 ] &&
    ! kill -0 "$pid6" 2> /dev/null
check "delete --force of a paused VM: nothing left" || sed 's/^/VMTEST   err: /' /tmp/err6

# A failure inside the VMM (a kernel that is no vmlinux): one line, nothing left
CELLA_KERNEL=/cella/cella-agent.cpio c --isolation vm create --bundle /bundle2 t3 \
    > /dev/null 2> /tmp/err3 < /dev/null
rc=$?
sed 's/^/VMTEST   stderr: /' /tmp/err3
[ $rc != 0 ] && [ "$(wc -l < /tmp/err3)" = 1 ] &&
    grep -q 'cella-monitor: /cella/cella-agent.cpio: not an ELF file' /tmp/err3 &&
    [ ! -e /run/cella/t3 ] && [ -z "$(ls /sys/fs/cgroup | grep t3)" ]
check "the VMM's failure: one line naming it, nothing left"
# A guest that crashes before READY: the VMM's own line says how.
CELLA_KERNEL=/cella/crash.elf c --isolation vm create --bundle /bundle2 t4 \
    > /dev/null 2> /tmp/err4 < /dev/null
rc=$?
sed 's/^/VMTEST   stderr: /' /tmp/err4
[ $rc != 0 ] && [ "$(wc -l < /tmp/err4)" = 1 ] &&
    grep -q 'cella-vm: vCPU 0: the guest reset itself (triple fault)' /tmp/err4 &&
    [ ! -e /run/cella/t4 ]
check "a guest that triple-faults: one line naming it, nothing left"
echo "VMTEST done"
poweroff -f
EOI
} > "$L1/init"
vm_l1_boot
plan_done
