#!/bin/bash
# The container's init as runc's: seccomp user notification that binds the
# container's process only, runc's ENOSYS for syscalls newer than the profile,
# rootfs safety, signal state, hooks' working directory and exec failures at
# create.
source "$(dirname "$0")/lib.sh"

B=$WORK/bundle
make_bundle "$B"
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }
AGENT=$LIB_DIR/seccomp_agent.py

# ---- 1. seccomp user notification ------------------------------------------------------

# notify_profile NAMES...: allow everything, SCMP_ACT_NOTIFY on NAMES, agent at $WORK/agent.sock
notify_profile() {
    local names
    names=$(printf '"%s",' "$@")
    cfg "$B" "c['linux']['seccomp']={'defaultAction':'SCMP_ACT_ALLOW',
 'listenerPath':'$WORK/agent.sock','listenerMetadata':'meta',
 'syscalls':[{'names':[${names%,}],'action':'SCMP_ACT_NOTIFY'}]}"
}

# start_agent: the agent in the background, its log in $WORK/agent.log
start_agent() {
    rm -f "$WORK/agent.sock" "$WORK/agent.log"
    timeout 20 python3 "$AGENT" "$WORK/agent.sock" "$WORK/agent.log" &
    AGENT_PID=$!
    wait_for 50 test -S "$WORK/agent.sock"
}

for nnp in True False; do
    for sc in execve open,openat read close; do
        reset
        cfg "$B" "c['process']['noNewPrivileges']=$nnp"
        args "$B" 'cat /etc/group > /tmp/copy && head -n1 /tmp/copy'
        IFS=, read -ra names <<< "$sc"
        notify_profile "${names[@]}"
        start_agent
        id=$(newid notify)
        # Into a file: a process stuck in a notification keeps a pipe open.
        cella run --bundle "$B" "$id" > "$WORK/out" 2>&1
        rc=$?
        if [ $rc -ne 0 ]; then
            kill "$AGENT_PID" 2>/dev/null
            cella delete --force "$id" > /dev/null 2>&1
        fi
        wait "$AGENT_PID"
        expect_eq "notify on $sc (noNewPrivileges $nnp): the container runs" "0 root:x:0:" \
            "$rc $(cat "$WORK/out")"
        expect_match "notify on $sc (noNewPrivileges $nnp): the agent got the state and answered" \
            '"metadata":"meta"' "$(head -n1 "$WORK/agent.log" 2>/dev/null) $(sed -n 2p "$WORK/agent.log" 2>/dev/null)"
        check "notify on $sc (noNewPrivileges $nnp): the agent answered notifications" \
            test "$(wc -l < "$WORK/agent.log")" -gt 1
        assert_clean "notify on $sc: nothing left" "$id"
    done
done

reset
notify_profile write
id=$(newid notifywrite)
fails "a notify rule on write is refused (as runc)" "$id" \
    'SCMP_ACT_NOTIFY cannot be used for the write syscall' cella run --bundle "$B" "$id"
reset
cfg "$B" "c['linux']['seccomp']={'defaultAction':'SCMP_ACT_NOTIFY','listenerPath':'$WORK/agent.sock'}"
id=$(newid notifydefault)
fails "SCMP_ACT_NOTIFY as default action is refused (as runc)" "$id" \
    'SCMP_ACT_NOTIFY cannot be used as default action' cella run --bundle "$B" "$id"

# ---- 2. rootfs safety ----------------------------------------------------------------

for d in proc sys; do
    reset
    mv "$B/rootfs/$d" "$B/rootfs/$d.real"
    ln -s tmp "$B/rootfs/$d"
    id=$(newid symlink)
    type=$d
    [ $d = sys ] && type=sysfs
    fails "/$d a symlink in the rootfs is refused (as runc)" "$id" \
        "filesystem \"$type\" must be mounted on ordinary directory" cella run --bundle "$B" "$id"
    rm "$B/rootfs/$d"
    mv "$B/rootfs/$d.real" "$B/rootfs/$d"
done

# --no-pivot: the host's procfs would let a new user namespace mount a fresh one.
# CAP_SETFCAP: mapping root into a new user namespace needs it (as runc's test).
reset
args "$B" 'unshare -r -m -p -f sh -c "mkdir -p /tmp/p && mount -t proc proc /tmp/p && echo mounted"; unshare -r echo userns'
cfg "$B" "[c['process']['capabilities'][k].append('CAP_SETFCAP') for k in ('bounding','effective','permitted')]"
id=$(newid userns)
if ! cella run --bundle "$B" "$id" 2>&1 | grep -qx userns; then
    skip "--no-pivot: no fresh procfs from a new user namespace" \
        "the container cannot map root into a new user namespace here (unshare -r)"
else
    for how in --no-pivot ""; do
        id=$(newid nopivot)
        out=$(cella run $how --bundle "$B" "$id" 2>&1)
        expect_eq "${how:-pivot_root}: no fresh procfs from a new user namespace" "userns" \
            "$(echo "$out" | grep -E '^(mounted|userns)$' | tr '\n' ' ' | sed 's/ $//')"
    done
fi

# A read-only /dev (as runc: mounted writable, made read-only once filled).
reset
cfg "$B" "[m['options'].append('ro') for m in c['mounts'] if m['destination']=='/dev']"
args "$B" 'grep " /dev " /proc/mounts | cut -d" " -f4 | cut -d, -f1; test -c /dev/null && test -d /dev/pts && echo filled'
id=$(newid rodev)
expect_eq "a read-only /dev mount works" "ro filled" "$(echo $(cella run --bundle "$B" "$id" 2>&1))"

# ---- 3. signals ---------------------------------------------------------------------

# cella run by a caller that ignores SIGPIPE, SIGHUP, 32 and 33 and blocks
# SIGUSR1 (conmon ignores SIGPIPE): the container's process starts with none of it.
reset
cfg "$B" "c['process']['args']=['grep','-E','^Sig(Ign|Blk)','/proc/self/status']"
id=$(newid sigs)
out=$(python3 -c 'import os, signal, sys
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
# 32 and 33, which the C library keeps from sigaction: the raw call ignores them.
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
ign = (ctypes.c_uint64 * 4)(1, 0, 0, 0)
for sig in (32, 33):
    libc.syscall(13, sig, ctypes.byref(ign), None, 8)
os.execvp(sys.argv[1], sys.argv[1:])' timeout 10 "$CELLA" --root "$ROOT" run --bundle "$B" "$id" 2>&1)
expect_eq "signals ignored or blocked by cella's caller are not the container's" \
    "SigBlk: 0000000000000000 SigIgn: 0000000000000000" "$(echo $out)"
reset
args "$B" 'trap "echo trapped" PIPE; kill -PIPE $$; echo done'
id=$(newid sigpipe)
out=$( (trap '' PIPE; cella run --bundle "$B" "$id") 2>&1)
expect_eq "under trap '' PIPE the container can trap SIGPIPE" "trapped done" "$(echo $out)"

# ---- 4. seccomp as runc -----------------------------------------------------------

# A syscall newer than every syscall the profile names: ENOSYS (so that the C
# library falls back, e.g. from clone3), not the default EPERM. The profile
# allows every x86_64 syscall up to rseq (334) except getppid.
UNISTD=/usr/include/x86_64-linux-gnu/asm/unistd_64.h
cat > "$WORK/sysno.c" <<'CEOF'
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* sysno NR...: calls each syscall NR (bad arguments), prints its errno text */
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        long r = syscall(atol(argv[i]), -1L, 0L, 0L, 0L);
        printf("%s %s\n", argv[i], r == -1 ? strerror(errno) : "ok");
    }
    return 0;
}
CEOF
if [ "$(uname -m)" != x86_64 ] || [ ! -f "$UNISTD" ] ||
    ! cc -static -o "$B/rootfs/bin/sysno" "$WORK/sysno.c" 2> /dev/null; then
    skip "syscalls newer than the profile get ENOSYS" "needs x86_64, $UNISTD and cc -static"
else
    reset
    cfg "$B" "import re
names=[m.group(1) for m in re.finditer(r'#define __NR_(\\w+) (\\d+)', open('$UNISTD').read()) if int(m.group(2)) <= 334 and m.group(1) != 'getppid']
c['linux']['seccomp']={'defaultAction':'SCMP_ACT_ERRNO',
 'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86','SCMP_ARCH_X32'],
 'syscalls':[{'names':names,'action':'SCMP_ACT_ALLOW'}]}" \
        "c['process']['args']=['/bin/sysno','110','439']"
    id=$(newid enosys)
    expect_eq "syscalls newer than the profile get ENOSYS, older ones the default (as runc)" \
        "110 Operation not permitted 439 Function not implemented" \
        "$(echo $(cella run --bundle "$B" "$id" 2>&1))"
fi

# startContainer hooks run under the container's seccomp filter (as runc).
reset
cfg "$B" "c['linux']['seccomp']={'defaultAction':'SCMP_ACT_ALLOW',
 'syscalls':[{'names':['mkdir','mkdirat'],'action':'SCMP_ACT_ERRNO'}]}" \
    "c['hooks']={'startContainer':[{'path':'/bin/sh','args':['sh','-c','mkdir /tmp/hookdir 2>/dev/null || touch /tmp/hookdenied']}]}" \
    "c['process']['args']=['sh','-c','ls /tmp | grep ^hook']"
rm -rf "$B/rootfs/tmp/hookdir" "$B/rootfs/tmp/hookdenied"
id=$(newid hookfilter)
expect_eq "startContainer hooks run under the container's seccomp filter" "hookdenied" \
    "$(cella run --bundle "$B" "$id" 2>&1)"

# A listenerPath where no agent listens: runc's words.
reset
notify_profile getcwd
rm -f "$WORK/agent.sock"
id=$(newid noagent)
fails "run with no seccomp agent listening" "$id" \
    "failed to connect with seccomp agent.*agent.sock.*No such file or directory" \
    cella run --bundle "$B" "$id"

# ---- 5. hooks ------------------------------------------------------------------------

# createContainer hooks run in the rootfs, as runc's (before pivot_root: the
# host's path of the rootfs).
reset
cfg "$B" "c['hooks']={'createContainer':[{'path':'/bin/sh','args':['sh','-c','pwd -P > $B/rootfs/tmp/hookcwd']}]}"
rm -f "$B/rootfs/tmp/hookcwd"
id=$(newid hookcwd)
cella run --bundle "$B" "$id" > /dev/null 2>&1
expect_eq "createContainer hooks run with the container's root as working directory" \
    "$(cd "$B/rootfs" && pwd -P)" "$(cat "$B/rootfs/tmp/hookcwd" 2>/dev/null)"

# ---- 6. the container's command cannot be executed: create says so (as runc) ------------

printf '#!/bin/sh\necho hi\n' > "$B/rootfs/bin/noexec"
chmod 644 "$B/rootfs/bin/noexec"
printf '#!/bin/sh\necho hi\n' > "$B/rootfs/bin/rootonly"
chmod 700 "$B/rootfs/bin/rootonly"
while IFS='|' read -r argv0 user re; do
    reset
    cfg "$B" "c['process']['args']=['$argv0']" "c['process']['user']={'uid':$user,'gid':$user}"
    id=$(newid exe)
    fails "create refuses args[0] $argv0 (uid $user)" "$id" "$re" cella create --bundle "$B" "$id"
done <<'CASES'
/bin|0|exec: "/bin": permission denied
/nonexist|0|exec: "/nonexist": stat /nonexist: no such file or directory
nonexist|0|exec: "nonexist": executable file not found in \$PATH
/bin/noexec|0|exec: "/bin/noexec": permission denied
/bin/rootonly|1000|exec: "/bin/rootonly": permission denied
CASES
reset
cfg "$B" "c['process']['args']=['/bin/rootonly']"
id=$(newid exe)
expect_eq "the same program runs for root" "hi" "$(cella run --bundle "$B" "$id" 2>&1)"

# ---- 7. every container process leads a session of its own (runc's setsid) ---------------
# Field 6 of /proc/PID/stat is the session: 0 when its leader is outside the
# container's pid namespace (the caller's session, as cella had it).
reset
args "$B" 'cut -d" " -f6 /proc/1/stat'
id=$(newid sid)
expect_eq "the container's process leads its own session (as runc's)" "1" "$(cella run --bundle "$B" "$id" 2>&1)"
reset
args "$B" 'exec sleep 100'
id=$(newid sid)
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
out=$(cella exec "$id" sh -c 'echo "$(cut -d" " -f6 /proc/self/stat) $$"' 2>&1)
set -- $out
expect_eq "an exec'd process leads its own session (as runc's)" "${2:-none}" "${1:-}"
cella delete --force "$id" > /dev/null 2>&1

# ---- 8. /dev bound from elsewhere: its nodes are the source's --------------------------
# crun's test_devices binds the host's /dev: cella made its default nodes in
# it, unlinking and re-creating the host's /dev/null and the rest. Here the
# source is a directory of the test's: its `null` must stay the file it is.
reset
FAKEDEV=$WORK/fakedev
mkdir -p "$FAKEDEV"
echo "not a device" > "$FAKEDEV/null"
cfg "$B" "c['mounts']=[m for m in c['mounts'] if not m['destination'].startswith('/dev')]" \
    "c['mounts'].append({'destination':'/dev','type':'bind','source':'$FAKEDEV','options':['rbind','rw']})" \
    "c['process']['args']=['cat','/dev/null']"
id=$(newid devbind)
expect_eq "a bound /dev is the source's: the container reads its null" "not a device" \
    "$(cella run --bundle "$B" "$id" 2>&1)"
check "... and cella made no node in the source (as runc: needsSetupDev)" \
    sh -c "[ -f '$FAKEDEV/null' ] && [ ! -e '$FAKEDEV/zero' ] && [ ! -e '$FAKEDEV/ptmx' ]"

plan_done
