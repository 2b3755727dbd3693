#!/bin/bash
# Container-only fields of config.json at the levels that do not run the
# container level's process setup (issue 16): each one the level cannot
# apply is refused by its check with one line naming the field and the
# level, before anything exists (src/level/fields.h). The field refusals
# come before the VM levels ask the host about QEMU, a guest kernel or
# /dev/kvm, so they are tested here whatever this host can boot; what the
# sandbox level keeps (it runs the container's setup for its kernel) is
# read back from the host's view of its processes where the sandbox runs.
. "$(dirname "$0")/lib.sh"

B=$WORK/b
make_bundle "$B"

# refused LEVEL FIELD WANT 'python on c' ...: create at LEVEL of $B with the edits fails
# with one line matching WANT (an ERE; empty: "FIELD: not supported at the LEVEL
# level"), and leaves nothing.
refused() {
    local level=$1 field=$2 want=$3 id
    shift 3
    id=$(newid "$level")
    rm -rf "$WORK/f"
    cp -a "$B" "$WORK/f"
    cfg "$WORK/f" "$@"
    [ -n "$want" ] || want="^cella: ${field//./\\.}: not supported at the $level level\$"
    fails "$level: $field refused" "$id" "$want" cella --isolation "$level" create --bundle "$WORK/f" "$id"
}

for level in qemu vm; do
    refused $level linux.personality '' "c['linux']['personality'] = {'domain': 'LINUX'}"
    refused $level process.scheduler '' "c['process']['scheduler'] = {'policy': 'SCHED_BATCH'}"
    refused $level process.ioPriority '' \
        "c['process']['ioPriority'] = {'class': 'IOPRIO_CLASS_BE', 'priority': 4}"
    refused $level linux.timeOffsets '' \
        "c['linux']['namespaces'].append({'type': 'time'})" \
        "c['linux']['timeOffsets'] = {'monotonic': {'secs': 10, 'nanosecs': 0}}"
    # Applied by the guest agent (Docker sets one on every container): only a
    # name that is not a sysctl's is refused here.
    refused $level linux.sysctl '^cella: linux\.sysctl: `\.\./x`: not a sysctl name$' \
        "c['linux']['sysctl'] = {'../x': '1'}"
    refused $level domainname '' "c['domainname'] = 'example.org'"
    refused $level process.apparmorProfile '^cella: process\.apparmorProfile: not supported by cella yet: refused rather than ignored$' \
        "c['process']['apparmorProfile'] = 'unconfined'"
    refused $level process.selinuxLabel '^cella: process\.selinuxLabel: not supported by cella yet: refused rather than ignored$' \
        "c['process']['selinuxLabel'] = 'system_u:system_r:container_t:s0'"
    refused $level linux.intelRdt '^cella: linux\.intelRdt: not supported by cella yet( \(and this host has no resctrl filesystem\))?: refused rather than ignored$' \
        "c['linux']['intelRdt'] = {'closID': 'x'}"
    refused $level linux.resources.cpu.burst '^cella: linux\.resources\.cpu\.burst: not supported by cella yet: refused rather than ignored$' \
        "c['linux'].setdefault('resources', {})['cpu'] = {'burst': 1000}"
done

# The sandbox level: what its workload could only see through uname, which cella's
# kernel answers itself.
refused sandbox linux.personality '^cella: linux\.personality: not supported at the sandbox level \(domain LINUX32: its kernel answers uname as x86_64\)$' \
    "c['linux']['personality'] = {'domain': 'LINUX32'}"
refused sandbox domainname '' "c['domainname'] = 'example.org'"

# With --log (as every engine gives it), a warning goes to that file only, as
# runc's: the engine hands the runtime the container's stdio as its stderr.
rm -rf "$WORK/f"
cp -a "$B" "$WORK/f"
cfg "$WORK/f" "c['process']['capabilities']['bounding'].append('CAP_NOT_A_CAP')"
id=$(newid logw)
cella --log "$WORK/w.log" create --bundle "$WORK/f" "$id" > /dev/null 2> "$WORK/werr"
cella delete --force "$id" > /dev/null 2>&1
expect_eq "--log: a warning (an unknown capability) is not on stderr" "" "$(cat "$WORK/werr")"
check "--log: the warning is in the log file" grep -q "CAP_NOT_A_CAP" "$WORK/w.log"

# The VM levels apply process.oomScoreAdj on the host, to the VM's monitor and
# VMM (what the host's OOM killer sees of the container; Docker sets it on every
# container): at the qemu level, where it boots here.
QK=${CELLA_KERNEL:-$REPO_ROOT/build/vmlinux}
QA=${CELLA_AGENT_INITRD:-$REPO_ROOT/build/cella-agent.cpio}
if ! command -v qemu-system-x86_64 > /dev/null || [ ! -r "$QK" ] || [ ! -r "$QA" ]; then
    skip "qemu: process.oomScoreAdj on the VM's host processes" "no QEMU, guest kernel or agent initramfs"
else
    rm -rf "$WORK/q"
    cp -a "$B" "$WORK/q"
    cfg "$WORK/q" "c['process']['args'] = ['sleep', '60']" "c['process']['oomScoreAdj'] = 321"
    id=$(newid oom)
    if CELLA_KERNEL=$QK CELLA_AGENT_INITRD=$QA CELLA_TIMEOUT=90 \
        cella --isolation qemu run -d --bundle "$WORK/q" "$id" > /dev/null 2> "$WORK/qerr"; then
        vmm=$(cella state "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
        mon=$(cat "$ROOT/$id/monitor.pid" 2> /dev/null | cut -d' ' -f1)
        expect_eq "qemu: oomScoreAdj 321 on the VMM ($vmm) and the monitor ($mon), not on cella" \
            "321 321 $(cat /proc/self/oom_score_adj)" \
            "$(cat /proc/$vmm/oom_score_adj 2>&1) $(cat /proc/$mon/oom_score_adj 2>&1) $(cat /proc/self/oom_score_adj)"
    else
        not_ok "qemu: a bundle with oomScoreAdj runs" "$(cat "$WORK/qerr")"
    fi
    cella delete --force "$id" > /dev/null 2>&1
    assert_clean "qemu: delete leaves nothing" "$id"
    cfg "$WORK/q" "c['process']['args'] = ['cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start']" \
        "c['linux']['sysctl'] = {'net.ipv4.ip_unprivileged_port_start': '80'}"
    id=$(newid sysctl)
    out=$(CELLA_KERNEL=$QK CELLA_AGENT_INITRD=$QA CELLA_TIMEOUT=90 \
        cella --isolation qemu run --bundle "$WORK/q" "$id" 2>&1)
    expect_eq "qemu: linux.sysctl applied in the guest by the agent" "0 80" "$? $out"
    assert_clean "qemu: linux.sysctl: nothing left" "$id"
fi

# ... and what it keeps: the container's setup makes cella's kernel process, whose
# scheduler, I/O priority and OOM score its stubs (the workload) inherit.
. "$(dirname "$0")/sandbox_lib.sh"
rm -rf "$B"
sandbox_bundle "sandbox keeps the process setup's knobs"
setargs /bin/probe spin
cfg "$B" "c['process']['oomScoreAdj'] = 123" \
    "c['process']['scheduler'] = {'policy': 'SCHED_BATCH', 'nice': 5}" \
    "c['process']['ioPriority'] = {'class': 'IOPRIO_CLASS_BE', 'priority': 6}" \
    "c['linux']['personality'] = {'domain': 'LINUX'}"
id=$(newid keep)
if ! cella --isolation sandbox run -d --bundle "$B" "$id" > /dev/null 2> "$WORK/kerr"; then
    not_ok "sandbox: a bundle with scheduler, ioPriority, oomScoreAdj and personality LINUX runs" \
        "$(cat "$WORK/kerr")"
else
    ok "sandbox: a bundle with scheduler, ioPriority, oomScoreAdj and personality LINUX runs"
    # every process of the container: the kernel, the zygote, the workload's stub
    pids=""
    wait_for 50 sh -c "[ \$(timeout 5 '$CELLA' --root '$ROOT' ps --format json '$id' | tr -cd , | wc -c) -ge 1 ]"
    pids=$(cella ps --format json "$id" | tr -d '[]' | tr ',' ' ')
    bad=""
    for p in $pids; do
        [ "$(cat /proc/$p/oom_score_adj 2> /dev/null)" = 123 ] || bad="$bad $p:oom"
        grep -Eq '^policy +: +3$' /proc/$p/sched 2> /dev/null || bad="$bad $p:policy"
        [ "$(awk '{print $19}' /proc/$p/stat 2> /dev/null)" = 5 ] || bad="$bad $p:nice"
        ionice -p "$p" 2> /dev/null | grep -q 'best-effort: prio 6' || bad="$bad $p:ioprio"
    done
    expect_match "sandbox: its processes ($pids) have them all" '^ok [0-9]' \
        "$([ -n "$pids" ] && [ -z "$bad" ] && echo "ok $pids" || echo "wrong:$bad")"
    cella delete --force "$id" > /dev/null 2>&1
fi
assert_clean "sandbox: delete leaves nothing" "$id"

plan_done
