#!/bin/bash
# Isolation, checked from inside the container (the output of `cella run`):
# namespaces, user namespace, mounts, read-only root, masked and read-only
# paths, capabilities, rlimits, user, umask, env, cwd, cgroup limits,
# seccomp, sysctl and devices.
source "$(dirname "$0")/lib.sh"

B=$WORK/bundle
make_bundle "$B"
BASE=$(cat "$B/config.json")

reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# crun [BUNDLE]: `cella run` with a fresh id; prints stdout+stderr, returns its status.
crun() {
    local b=${1:-$B}
    timeout -k 2 20 "$CELLA" --root "$ROOT" run --bundle "$b" "iso-$$-$RANDOM$RANDOM" 2>&1
}

# ---- namespaces -----------------------------------------------------------------------
reset
# `cella spec` has a cgroup namespace only on a cgroup v2 host (as runc's): ask for it.
cfg "$B" "c['hostname']='isohost'" \
    "c['linux']['namespaces']+=[{'type':'cgroup'}] if {'type':'cgroup'} not in c['linux']['namespaces'] else []"
args "$B" 'echo pid=$$; hostname; for n in pid net ipc uts mnt cgroup user; do echo "$n $(readlink /proc/self/ns/$n)"; done'
out=$(crun)
expect_match "the process is pid 1 inside" '^pid=1$' "$(printf '%s\n' "$out" | head -n1)"
expect_eq "hostname from config" isohost "$(printf '%s\n' "$out" | sed -n 2p)"
for n in pid net ipc uts mnt cgroup; do
    in=$(printf '%s\n' "$out" | awk -v n=$n '$1 == n {print $2}')
    host=$(readlink /proc/self/ns/$n)
    if [ -n "$in" ] && [ "$in" != "$host" ]; then
        ok "$n namespace differs from the host's"
    else
        not_ok "$n namespace differs from the host's" "inside '$in' host '$host'" "$out"
    fi
done
in=$(printf '%s\n' "$out" | awk '$1 == "user" {print $2}')
expect_eq "user namespace (not configured) is the host's" "$(readlink /proc/self/ns/user)" "$in"

# A namespace left out of the config is shared with the host.
reset
cfg "$B" "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='network']"
args "$B" 'readlink /proc/self/ns/net'
expect_eq "network namespace left out is the host's" "$(readlink /proc/self/ns/net)" "$(crun)"

# Join a network namespace by path.
NETNS=cella-it-$$
if ip netns add "$NETNS" 2>/dev/null; then
    on_exit "ip netns del $NETNS"
    reset
    cfg "$B" "[n.update(path='/var/run/netns/$NETNS') for n in c['linux']['namespaces'] if n['type']=='network']"
    args "$B" 'readlink /proc/self/ns/net'
    want="net:[$(stat -L -c %i /var/run/netns/$NETNS)]"
    expect_eq "joins the network namespace given by path" "$want" "$(crun)"
    ip netns del "$NETNS"
else
    skip "joins the network namespace given by path" "ip netns add failed"
fi

# Join the pid and uts namespaces of another container by path.
reset
cfg "$B" "c['hostname']='firsthost'"
args "$B" 'exec sleep 100'
first=$(newid first)
cella run -d --bundle "$B" "$first" > /dev/null 2>&1
fpid=$(state_field "$first" pid)
reset
cfg "$B" "del c['hostname']" \
    "[n.update(path='/proc/$fpid/ns/'+{'pid':'pid','uts':'uts'}[n['type']]) for n in c['linux']['namespaces'] if n['type'] in ('pid','uts')]"
args "$B" 'echo "$(cat /proc/1/comm) $(hostname) $(readlink /proc/self/ns/pid)"'
expect_eq "joins the pid and uts namespaces given by path (sees the other's pid 1 and hostname)" \
    "sleep firsthost $(readlink /proc/$fpid/ns/pid)" "$(crun)"
cella delete --force "$first" > /dev/null 2>&1
assert_clean "container whose namespaces were joined deletes cleanly" "$first"

# ---- user namespace -----------------------------------------------------------------
UB=$WORK/ubundle
make_bundle "$UB"
mkdir -p "$WORK/udata"
chown 100000:100000 "$WORK/udata"
# The rootfs belongs to the mapped root, as with any user-namespaced image.
chown -R -h 100000:100000 "$UB/rootfs"
cfg "$UB" "c['linux']['namespaces'].append({'type':'user'})" \
    "c['linux']['uidMappings']=[{'containerID':0,'hostID':100000,'size':65536}]" \
    "c['linux']['gidMappings']=[{'containerID':0,'hostID':100000,'size':65536}]" \
    "c['mounts'].append({'destination':'/data','type':'bind','source':'$WORK/udata','options':['rbind','rw']})"
args "$UB" 'id -u; id -g; touch /data/made-inside; cat /proc/self/uid_map'
out=$(crun "$UB")
expect_eq "user namespace: id -u inside is 0" 0 "$(printf '%s\n' "$out" | sed -n 1p)"
expect_eq "user namespace: id -g inside is 0" 0 "$(printf '%s\n' "$out" | sed -n 2p)"
expect_match "user namespace: uid_map is 0 100000 65536" '^ *0 +100000 +65536' "$(printf '%s\n' "$out" | sed -n 3p)"
expect_eq "user namespace: file made inside is owned by 100000:100000 on the host" "100000:100000" \
    "$(stat -c %u:%g "$WORK/udata/made-inside" 2>&1)"

# A new user namespace joining a network namespace of the host's (podman --userns with a netns).
NETNS2=cella-it-u$$
if ip netns add "$NETNS2" 2>/dev/null; then
    on_exit "ip netns del $NETNS2"
    cp "$UB/config.json" "$WORK/ucfg.json"
    cfg "$UB" "[n.update(path='/var/run/netns/$NETNS2') for n in c['linux']['namespaces'] if n['type']=='network']"
    args "$UB" 'id -u; readlink /proc/self/ns/net'
    out=$(crun "$UB")
    want="net:[$(stat -L -c %i /var/run/netns/$NETNS2)]"
    expect_eq "new user namespace + network namespace by path: joined" "0 $want" \
        "$(printf '%s\n' "$out" | tr '\n' ' ' | sed 's/ $//')"
    cp "$WORK/ucfg.json" "$UB/config.json"
    ip netns del "$NETNS2"
else
    skip "new user namespace + network namespace by path: joined" "ip netns add failed"
fi

# ---- mounts -----------------------------------------------------------------------------
mkdir -p "$WORK/ro" "$WORK/rb/sub"
echo hostfile > "$WORK/ro/file"
if mount -t tmpfs -o size=1m tmpfs "$WORK/rb/sub"; then
    on_exit "umount -l '$WORK/rb/sub'"
    echo submount > "$WORK/rb/sub/file"
fi
reset
cfg "$B" "c['mounts'] += [
  {'destination':'/mnt/t','type':'tmpfs','source':'tmpfs','options':['nosuid','nodev','size=1m','mode=700']},
  {'destination':'/mnt/ro','type':'bind','source':'$WORK/ro','options':['bind','ro']},
  {'destination':'/mnt/rb','type':'bind','source':'$WORK/rb','options':['rbind']},
  {'destination':'/mnt/b','type':'bind','source':'$WORK/rb','options':['bind']}]"
args "$B" 'grep " /mnt/t " /proc/mounts; stat -c %a /mnt/t; cat /mnt/ro/file; touch /mnt/ro/new; echo "ro-touch=$?"; cat /mnt/rb/sub/file; echo "b-sub=$(ls /mnt/b/sub | wc -l)"'
out=$(crun)
line=$(printf '%s\n' "$out" | grep ' /mnt/t ')
expect_match "tmpfs mount in /proc/mounts" '^tmpfs /mnt/t tmpfs ' "$line"
expect_match "tmpfs options nosuid,nodev visible" 'nosuid,nodev' "$line"
expect_match "tmpfs option size=1m visible (size=1024k)" 'size=1024k' "$line"
expect_match "tmpfs option mode=700 visible" 'mode=700' "$line"
expect_match "tmpfs root directory has mode 700" '^700$' "$(printf '%s\n' "$out" | sed -n 2p)"
expect_match "read-only bind mount is readable" '^hostfile$' "$(printf '%s\n' "$out" | sed -n 3p)"
expect_match "read-only bind mount refuses writes" 'Read-only file system' "$out"
expect_match "read-only bind mount: touch fails" 'ro-touch=1' "$out"
if [ ! -e "$WORK/ro/new" ]; then ok "read-only bind mount: nothing written on the host"; else not_ok "read-only bind mount: nothing written on the host"; fi
expect_match "rbind brings the submounts" '^submount$' "$(printf '%s\n' "$out" | grep -x submount)"
expect_match "plain bind does not bring the submounts" 'b-sub=0' "$out"

# rro: read-only down through the submounts too (plain ro only covers the top).
if mountpoint -q "$WORK/rb/sub" 2>/dev/null; then
    reset
    cfg "$B" "c['mounts'] += [
  {'destination':'/mnt/rro','type':'bind','source':'$WORK/rb','options':['rbind','rro']},
  {'destination':'/mnt/rbro','type':'bind','source':'$WORK/rb','options':['rbind','ro']}]"
    args "$B" 'touch /mnt/rro/sub/x; echo "rro-sub=$?"; touch /mnt/rbro/sub/y; echo "ro-sub=$?"'
    out=$(crun)
    expect_match "rro: a submount is read-only too" 'rro-sub=1' "$out"
    expect_match "ro alone: the submount stays writable (as the kernel does)" 'ro-sub=0' "$out"
    rm -f "$WORK/rb/sub/x" "$WORK/rb/sub/y"
else
    skip "rro: a submount is read-only too" "no submount could be made"
    skip "ro alone: the submount stays writable (as the kernel does)" "no submount could be made"
fi

# ---- root.readonly, maskedPaths, readonlyPaths -----------------------------------------------
reset
cfg "$B" "c['root']['readonly']=True"
args "$B" 'touch /newfile; echo "touch=$?"; echo "kcore=$(head -c 64 /proc/kcore | wc -c)"; echo "keys=$(cat /proc/keys | wc -c)"; echo "firmware=$(ls -A /sys/firmware | wc -l)"; echo 1 > /proc/sys/vm/overcommit_memory; echo "sysw=$?"; grep " /proc/sys " /proc/mounts; touch /tmp/ok 2>/dev/null; echo "tmp=$?"'
out=$(crun)
expect_match "root.readonly: touch / fails with Read-only file system" 'touch: /newfile: Read-only file system' "$out"
expect_match "root.readonly: touch exits non-zero" 'touch=1' "$out"
[ ! -e "$B/rootfs/newfile" ] && ok "root.readonly: nothing written to the rootfs" || not_ok "root.readonly: nothing written to the rootfs"
expect_match "maskedPaths: /proc/kcore reads empty" 'kcore=0' "$out"
expect_match "maskedPaths: /proc/keys reads empty" 'keys=0' "$out"
if [ -d /sys/firmware ]; then
    expect_match "maskedPaths: /sys/firmware directory is empty" 'firmware=0' "$out"
else
    skip "maskedPaths: /sys/firmware directory is empty" "no /sys/firmware on the host"
fi
expect_match "readonlyPaths: writing /proc/sys fails" 'sysw=1' "$out"
expect_match "readonlyPaths: /proc/sys is mounted ro" ' /proc/sys [a-z]+ ro[, ]' "$out"

# ---- capabilities --------------------------------------------------------------------------
capmask() {
    python3 -c '
import sys
names = ["CHOWN","DAC_OVERRIDE","DAC_READ_SEARCH","FOWNER","FSETID","KILL","SETGID","SETUID","SETPCAP","LINUX_IMMUTABLE","NET_BIND_SERVICE","NET_BROADCAST","NET_ADMIN","NET_RAW","IPC_LOCK","IPC_OWNER","SYS_MODULE","SYS_RAWIO","SYS_CHROOT","SYS_PTRACE","SYS_PACCT","SYS_ADMIN","SYS_BOOT","SYS_NICE","SYS_RESOURCE","SYS_TIME","SYS_TTY_CONFIG","MKNOD","LEASE","AUDIT_WRITE","AUDIT_CONTROL","SETFCAP","MAC_OVERRIDE","MAC_ADMIN","SYSLOG","WAKE_ALARM","BLOCK_SUSPEND","AUDIT_READ","PERFMON","BPF","CHECKPOINT_RESTORE"]
m = 0
for a in sys.argv[1:]:
    m |= 1 << names.index(a[4:])
print("%016x" % m)' "$@"
}
reset
args "$B" 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status'
out=$(crun)
want=$(capmask CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE)
for k in Eff Prm Bnd; do
    expect_eq "default caps: Cap$k matches the configured set" "$want" "$(printf '%s\n' "$out" | awk -v k="Cap$k:" '$1 == k {print $2}')"
done
expect_eq "default caps: CapAmb is empty" 0000000000000000 "$(printf '%s\n' "$out" | awk '$1 == "CapAmb:" {print $2}')"

ALLCAPS="CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID CAP_SETUID CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_SYS_CHROOT CAP_MKNOD CAP_AUDIT_WRITE CAP_SETFCAP CAP_NET_RAW"
NORAW=${ALLCAPS% CAP_NET_RAW}
reset
cfg "$B" "caps='''$NORAW'''.split()" \
    "c['process']['capabilities']={k: caps for k in ('bounding','effective','permitted')}"
args "$B" 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status'
out=$(crun)
want=$(capmask $NORAW)
expect_eq "CAP_NET_RAW dropped: CapEff matches" "$want" "$(printf '%s\n' "$out" | awk '$1 == "CapEff:" {print $2}')"
expect_eq "CAP_NET_RAW dropped: CapBnd matches" "$want" "$(printf '%s\n' "$out" | awk '$1 == "CapBnd:" {print $2}')"
eff=$(printf '%s\n' "$out" | awk '$1 == "CapEff:" {print $2}')
if [ -n "$eff" ] && (( (16#$eff >> 13) & 1 )); then not_ok "CAP_NET_RAW (bit 13) is not in CapEff" "$eff"; else ok "CAP_NET_RAW (bit 13) is not in CapEff"; fi

# A non-root user keeps capabilities across execve only through the ambient
# set (as with runc): without it CapEff is empty, with it CapEff is the set.
reset
cfg "$B" "c['process']['user']={'uid':1000,'gid':1000}" \
    "c['process']['capabilities']={k: ['CAP_KILL','CAP_NET_BIND_SERVICE'] for k in ('bounding','effective','permitted')}"
args "$B" 'grep -E "^Cap(Eff|Bnd|Amb)" /proc/self/status'
out=$(crun)
expect_eq "uid 1000, caps without ambient: CapEff is empty after exec" 0000000000000000 "$(printf '%s\n' "$out" | awk '$1 == "CapEff:" {print $2}')"
expect_eq "uid 1000, caps without ambient: CapBnd is the set" "$(capmask CAP_KILL CAP_NET_BIND_SERVICE)" "$(printf '%s\n' "$out" | awk '$1 == "CapBnd:" {print $2}')"
cfg "$B" "c['process']['capabilities']={k: ['CAP_KILL','CAP_NET_BIND_SERVICE'] for k in ('bounding','effective','permitted','inheritable','ambient')}"
out=$(crun)
expect_eq "uid 1000 with ambient caps: CapEff is the set" "$(capmask CAP_KILL CAP_NET_BIND_SERVICE)" "$(printf '%s\n' "$out" | awk '$1 == "CapEff:" {print $2}')"
expect_eq "uid 1000 with ambient caps: CapAmb is the set" "$(capmask CAP_KILL CAP_NET_BIND_SERVICE)" "$(printf '%s\n' "$out" | awk '$1 == "CapAmb:" {print $2}')"

# ---- rlimits, user, umask, env, cwd -------------------------------------------------------------
reset
cfg "$B" "c['process']['rlimits']=[{'type':'RLIMIT_NOFILE','soft':512,'hard':1000},{'type':'RLIMIT_NPROC','soft':300,'hard':400}]"
args "$B" 'echo "$(ulimit -n) $(ulimit -Hn) $(ulimit -u) $(ulimit -Hu)"'
expect_eq "rlimits: NOFILE 512/1000, NPROC 300/400 (ulimit -n -Hn -u -Hu)" "512 1000 300 400" "$(crun)"

reset
cfg "$B" "c['process']['user']={'uid':1000,'gid':1000,'additionalGids':[10,20],'umask':63}" \
    "c['process']['env'].append('FOO=bar baz')" "c['process']['cwd']='/work/deep/dir'"
args "$B" 'id -u; id -g; id -G; umask; echo "$FOO"; pwd; echo "$HOME"'
out=$(crun)
expect_eq "user.uid (id -u)" 1000 "$(printf '%s\n' "$out" | sed -n 1p)"
expect_eq "user.gid (id -g)" 1000 "$(printf '%s\n' "$out" | sed -n 2p)"
groups=$(printf '%s\n' "$out" | sed -n 3p)
expect_eq "user.additionalGids (id -G)" "1000 10 20" "$(echo $(printf '%s\n' $groups | awk '!s[$0]++'))"
expect_eq "user.umask 0077" 0077 "$(printf '%s\n' "$out" | sed -n 4p)"
expect_eq "env FOO" "bar baz" "$(printf '%s\n' "$out" | sed -n 5p)"
expect_eq "cwd created when missing" /work/deep/dir "$(printf '%s\n' "$out" | sed -n 6p)"
expect_eq "HOME from the container's /etc/passwd" /home/user "$(printf '%s\n' "$out" | sed -n 7p)"

reset
args "$B" 'umask; echo "$PATH"; echo "$TERM"'
out=$(crun)
expect_eq "default umask is 0022" 0022 "$(printf '%s\n' "$out" | sed -n 1p)"
expect_match "env from config: PATH and TERM" '^/usr/local/sbin.*/bin$' "$(printf '%s\n' "$out" | sed -n 2p)"

# ---- cgroup limits --------------------------------------------------------------------------------
reset
cfg "$B" "c['linux']['resources']['memory']={'limit':67108864}" "c['linux']['resources']['pids']={'limit':10}"
# A shell dies when it cannot fork: fork from a child shell, then report with
# builtins only (the pids are used up).
args "$B" 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; cat /sys/fs/cgroup/pids/pids.max; sh -c "for i in \$(seq 50); do sleep 5 & done" 2>/tmp/err; echo "sub=$?"; read cur < /sys/fs/cgroup/pids/pids.current; echo "cur=$cur"; while read -r l; do echo "err: $l"; done < /tmp/err'
out=$(crun)
if [ -d /sys/fs/cgroup/memory ] && [ ! -L /sys/fs/cgroup/memory ]; then
    expect_eq "memory limit visible inside (memory.limit_in_bytes)" 67108864 "$(printf '%s\n' "$out" | sed -n 1p)"
    expect_eq "pids limit visible inside (pids.max)" 10 "$(printf '%s\n' "$out" | sed -n 2p)"
    cur=$(printf '%s\n' "$out" | sed -n 's/^cur=//p')
    if [ -n "$cur" ] && [ "$cur" -le 10 ] 2>/dev/null; then ok "pids.current stays <= 10"; else not_ok "pids.current stays <= 10" "$out"; fi
    if printf '%s\n' "$out" | grep -q '^sub=[1-9]' && printf '%s\n' "$out" | grep -q '^err: .*fork'; then
        ok "forks past pids.limit=10 fail (can't fork)"
    else
        not_ok "forks past pids.limit=10 fail (can't fork)" "$out"
    fi
else
    for t in "memory limit visible inside" "pids limit visible inside" "pids.current stays <= 10" "forks past pids.limit=10 fail"; do
        skip "$t" "no cgroup v1 memory/pids hierarchy"
    done
fi

# ---- seccomp ---------------------------------------------------------------------------------------
reset
cfg "$B" "c['linux']['seccomp']={'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86','SCMP_ARCH_X32'],'syscalls':[
  {'names':['mkdir','mkdirat'],'action':'SCMP_ACT_ERRNO','errnoRet':1},
  {'names':['kill'],'action':'SCMP_ACT_ERRNO','errnoRet':13,'args':[{'index':1,'value':28,'op':'SCMP_CMP_EQ'}]}]}"
args "$B" 'mkdir /tmp/newdir; echo "mkdir=$?"; kill -WINCH $$; echo "winch=$?"; kill -0 $$; echo "zero=$?"; touch /tmp/f; echo "touch=$?"'
out=$(crun)
expect_match "seccomp: mkdir fails with Operation not permitted" "mkdir: can't create directory '/tmp/newdir': Operation not permitted" "$out"
expect_match "seccomp: mkdir exits non-zero" 'mkdir=1' "$out"
expect_match "seccomp args rule: kill(pid, SIGWINCH) denied with EACCES" 'Permission denied' "$out"
expect_match "seccomp args rule: kill(pid, SIGWINCH) fails" 'winch=1' "$out"
expect_match "seccomp args rule: kill(pid, 0) allowed" 'zero=0' "$out"
expect_match "seccomp: other syscalls allowed (touch)" 'touch=0' "$out"

# ---- sysctl ------------------------------------------------------------------------------------------
reset
host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
cfg "$B" "c['linux']['sysctl']={'net.ipv4.ip_forward':'1'}"
args "$B" 'cat /proc/sys/net/ipv4/ip_forward'
out=$(crun)
expect_eq "sysctl net.ipv4.ip_forward=1 inside a new netns (with /proc/sys read-only)" 1 "$out"
expect_eq "sysctl did not change the host" "$host_fwd" "$(cat /proc/sys/net/ipv4/ip_forward)"
cfg "$B" "c['linux']['readonlyPaths']=[p for p in c['linux']['readonlyPaths'] if p != '/proc/sys']"
expect_eq "sysctl net.ipv4.ip_forward=1 inside a new netns (/proc/sys writable)" 1 "$(crun)"

# ---- devices -------------------------------------------------------------------------------------------
reset
cfg "$B" "c['linux']['devices']=[{'path':'/dev/fuse','type':'c','major':10,'minor':229,'fileMode':0o640,'uid':1000,'gid':1001}]"
args "$B" 'stat -c "%F %t:%T %a %u %g" /dev/fuse'
expect_eq "linux.devices: /dev/fuse is c 10:229, mode 640, uid 1000, gid 1001" \
    "character special file a:e5 640 1000 1001" "$(crun)"

# ---- session keyring ------------------------------------------------------------------
# As runc: a session keyring named after the container, unless --no-new-keyring.
reset
cfg "$B" "c['linux']['maskedPaths']=[]"
args "$B" 'cat /proc/keys'
kid="key-$$-$RANDOM"
out=$(timeout -k 2 20 "$CELLA" --root "$ROOT" run --bundle "$B" "$kid" 2>&1)
expect_match "own session keyring named after the container" "keyring +$kid: " "$out"
kid2="key-$$-$RANDOM"
out=$(timeout -k 2 20 "$CELLA" --root "$ROOT" run --no-new-keyring --bundle "$B" "$kid2" 2>&1)
expect_nomatch "--no-new-keyring: no keyring of its own" "keyring +$kid2: " "$out"

# ---- cgroup namespace ------------------------------------------------------------------
# Its root is the container's own cgroup: every hierarchy reads "/" inside.
reset
cfg "$B" "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'cgroup'] + [{'type': 'cgroup'}]"
args "$B" 'cat /proc/self/cgroup'
out=$(crun)
expect_eq "cgroup namespace rooted at the container's cgroup" "" \
    "$(printf '%s\n' "$out" | grep -v ':/$')"

plan_done
exit 0
