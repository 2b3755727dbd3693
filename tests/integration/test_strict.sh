#!/bin/bash
# The container level as a strict validator tries it (issue 16): every
# config.json field is applied or refused with one line naming it, never
# silently ignored; a refused bundle leaves nothing behind.
source "$(dirname "$0")/lib.sh"

B=$WORK/bundle
make_bundle "$B"
args "$B" 'exec sleep 100'
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# ---- ociVersion -------------------------------------------------------------------------
reset
cfg "$B" "c['ociVersion']='invalid'"
id=$(newid s)
fails "ociVersion 'invalid' is refused, named" "$id" 'ociVersion: `invalid` is not a SemVer' cella create --bundle "$B" "$id"
reset
cfg "$B" "c['ociVersion']='2.0.0'"
id=$(newid s)
fails "ociVersion of another major version is refused" "$id" 'ociVersion: `2\.0\.0`: cella implements runtime-spec 1\.x' cella create --bundle "$B" "$id"

# ---- capabilities ----------------------------------------------------------------------
# runtime-spec 1.3: a name that maps to no kernel capability MUST be logged as
# a warning, and the runtime SHOULD NOT fail (as runc and crun): one line each.
reset
cfg "$B" "c['process']['capabilities']['ambient']=['CAP_NET_RAW','CAP_NOT_A_CAP']"
id=$(newid s)
cella create --bundle "$B" "$id" > /dev/null 2> "$WORK/caps.err"
expect_eq "unknown capability: one warning line naming it and its place" \
    'cella: warning: process.capabilities.ambient[1]: `CAP_NOT_A_CAP` is not a capability of this kernel: ignored' \
    "$(cat "$WORK/caps.err")"
expect_eq "unknown capability: the container is created" created "$(state_field "$id" status)"
cella delete --force "$id" > /dev/null 2>&1

# ---- linux.resources.network: net_cls / net_prio, cgroup v1 only ------------------------
has_v1() { grep -qE "^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ .* - cgroup [^ ]+ .*[ ,]$1(,| |\$)" /proc/self/mountinfo; }
reset
cfg "$B" "c['linux']['resources']['network']={'classID':1048577}"
id=$(newid s)
if has_v1 net_cls; then
    skip "network.classID refused without net_cls" "net_cls is mounted on this host"
else
    fails "network.classID refused, naming the field and net_cls" "$id" \
        'linux\.resources\.network\.classID: no cgroup hierarchy of this host has the `net_cls` controller' \
        cella create --bundle "$B" "$id"
fi
reset
cfg "$B" "c['linux']['resources']['network']={'priorities':[{'name':'lo','priority':5}]}"
id=$(newid s)
if has_v1 net_prio; then
    skip "network.priorities refused without net_prio" "net_prio is mounted on this host"
else
    fails "network.priorities refused, naming the field and net_prio" "$id" \
        'linux\.resources\.network\.priorities: no cgroup hierarchy of this host has the `net_prio` controller' \
        cella create --bundle "$B" "$id"
fi
# Where the controllers exist they are applied: mount them (a private mount
# namespace, so the host's layout is untouched) and read the container's files.
if has_v1 net_cls || has_v1 net_prio; then
    skip "network applied through net_cls and net_prio" "already mounted on the host"
else
    reset
    cfg "$B" "c['linux']['resources']['network']={'classID':1048577,'priorities':[{'name':'lo','priority':5}]}"
    id=$(newid s)
    mkdir -p "$WORK/netcg"
    got=$(unshare -m --propagation private bash -c '
        mount -t cgroup -o net_cls,net_prio cgroup "$1" || exit 1
        timeout 10 "$CELLA" --root "$ROOT" create --bundle "$2" "$3" 2>&1 || { umount "$1"; exit 1; }
        echo "classid $(cat "$1/$3/net_cls.classid")"
        grep "^lo " "$1/$3/net_prio.ifpriomap"
        timeout 10 "$CELLA" --root "$ROOT" delete --force "$3"
        [ -d "$1/$3" ] && echo "cgroup left"
        umount "$1"' - "$WORK/netcg" "$B" "$id" 2>&1)
    expect_eq "network applied: net_cls.classid and net_prio.ifpriomap set, removed by delete" \
        "classid 1048577
lo 5" "$got"
fi

# ---- linux.resources.hugepageLimits: on whichever hierarchy has hugetlb -----------------
reset
cfg "$B" "c['linux']['resources']['hugepageLimits']=[{'pageSize':'2MB','limit':4194304}]"
id=$(newid s)
if has_v1 hugetlb; then
    check "hugepageLimits applied on the v1 hugetlb hierarchy" cella create --bundle "$B" "$id"
    expect_eq "hugetlb.2MB.limit_in_bytes" 4194304 "$(cat /sys/fs/cgroup/hugetlb/$id/hugetlb.2MB.limit_in_bytes 2>&1)"
    cella delete --force "$id"
elif grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
    check "hugepageLimits applied on the v2 tree of a hybrid host (hugetlb only there)" cella create --bundle "$B" "$id"
    expect_eq "hugetlb.2MB.max of the container's v2 cgroup" 4194304 "$(cat /sys/fs/cgroup/unified/$id/hugetlb.2MB.max 2>&1)"
    cella delete --force "$id"
    assert_clean "hugepageLimits container deleted: nothing left" "$id"
    # And where no hierarchy has it (the v2 tree hidden): refused, nothing made.
    id=$(newid s)
    got=$(unshare -m --propagation private bash -c '
        umount /sys/fs/cgroup/unified || exit 1
        timeout 10 "$CELLA" --root "$ROOT" create --bundle "$1" "$2"' - "$B" "$id" 2>&1)
    expect_match "hugepageLimits refused where no hierarchy has hugetlb" \
        '^cella: linux\.resources\.hugepageLimits: no cgroup hierarchy of this host has the `hugetlb` controller' "$got"
    assert_clean "hugepageLimits refused: nothing left" "$id"
else
    skip "hugepageLimits applied" "no hierarchy of this host has hugetlb"
fi
reset
cfg "$B" "c['linux']['resources']['hugepageLimits']=[{'pageSize':'3MB','limit':4194304}]"
id=$(newid s)
fails "hugepageLimits with a page size the host lacks is refused" "$id" \
    'linux\.resources\.hugepageLimits\[0\]\.pageSize: `3MB` is not a huge page size of this host' \
    cella create --bundle "$B" "$id"

# ---- what hooks read on stdin: the runtime-spec State, as runc passes it -----------------
# Keys exactly ociVersion, id, status, pid, bundle, annotations (no pid once
# stopped); startContainer runs in the container's root (bind
# mounted /hk), the others see the host's paths.
reset
mkdir -p "$WORK/hk" "$B/rootfs/hk"
args "$B" 'sleep 0.2'
cfg "$B" "c['annotations']={'k':'v'}" \
    "c['mounts'].append({'destination':'/hk','type':'bind','source':os.environ['WORK']+'/hk','options':['rbind']})" \
    "c['hooks']={k:[{'path':'/bin/sh','args':['sh','-c','cat > '+('/hk/' if k == 'startContainer' else os.environ['WORK']+'/hk/')+k]}] for k in ('prestart','createRuntime','createContainer','startContainer','poststart','poststop')}"
id=$(newid s)
cella run --bundle "$B" "$id" > /dev/null 2>&1
cella delete "$id" > /dev/null 2>&1
for h in prestart createRuntime createContainer startContainer poststart poststop; do
    got=$(python3 -c 'import json,sys
s=json.load(open(sys.argv[1]))
print(" ".join(sorted(s)), s["status"], s["annotations"])' "$WORK/hk/$h" 2>&1)
    case $h in
    prestart | createRuntime | createContainer) st=creating ;;
    startContainer) st=created ;;
    poststart) st=running ;;
    poststop) st=stopped ;;
    esac
    if [ $h = poststop ]; then keys="annotations bundle id ociVersion status"; else keys="annotations bundle id ociVersion pid status"; fi
    expect_eq "$h hook reads the runtime-spec State on stdin" "$keys $st {'k': 'v'}" "$got"
done

# ---- no mount namespace: the container shares the host's (as runc and crun) --------------
# The rootfs is a chroot; the bundle's mounts are made below it in the host's
# namespace and removed by delete (runc and crun leave them).
nomnt() {
    reset
    cfg "$B" "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='mount']" \
        "c['linux'].pop('maskedPaths',None)" "c['linux'].pop('readonlyPaths',None)" "$@"
}
mounts_below() { grep -c " $B/rootfs/" /proc/self/mountinfo; }
nomnt
args "$B" 'readlink /proc/self/ns/mnt; cat /etc/passwd | grep -c ^user:; sleep 100'
before=$(mounts_below)
id=$(newid s)
check "no mount namespace: create succeeds" cella create --bundle "$B" "$id"
check "no mount namespace: start" cella start "$id"
got=$(cella exec "$id" sh -c 'readlink /proc/self/ns/mnt; grep -c ^user: /etc/passwd; ls /proc/1/root/bin/busybox' 2>&1)
expect_eq "no mount namespace: the host's mount namespace, the rootfs as root (exec too)" \
    "$(readlink /proc/self/ns/mnt)
1
/proc/1/root/bin/busybox" "$got"
expect_match "no mount namespace: the bundle's mounts are below the rootfs on the host" '^[1-9]' "$(($(mounts_below) - before))"
cella delete --force "$id" > /dev/null 2>&1
expect_eq "no mount namespace: delete removes every mount it made below the rootfs" "$before" "$(mounts_below)"
assert_clean "no mount namespace: nothing left" "$id"
for f in "c['linux']['maskedPaths']=['/proc/kcore']" "c['linux']['readonlyPaths']=['/proc/sys']" \
    "c['root']['readonly']=True" "c['linux']['rootfsPropagation']='private'"; do
    nomnt "$f"
    field=$(printf '%s' "$f" | sed -E "s/^c\['([a-z]+)'\](\['([a-zA-Z]+)'\])?=.*/\1.\3/; s/\.$//")
    id=$(newid s)
    fails "no mount namespace: $field refused (it would change the host)" "$id" \
        "^cella: ${field//./\\.}: needs a mount namespace" cella create --bundle "$B" "$id"
done
expect_eq "no mount namespace: refused bundles left no mount" "$before" "$(mounts_below)"

# ---- a cgroup shared with other processes (create warns, as runc 1.1) ---------------------
# delete kills only the container's processes (its pid namespace, through its
# init); the other ones, and the cgroup holding them, are left alone.
reset
shared=/cella-strict-shared-$$
cgdirs=$(for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do [ -e "${d}cgroup.procs" ] && echo "${d%/}$shared"; done | sort -u | tr '\n' ' ')
sleep 1000 > /dev/null 2>&1 &
foreign=$!
# (cpuset refuses it: its new cgroup has no cpus; the other hierarchies suffice)
for d in $cgdirs; do mkdir -p "$d" && echo $foreign > "$d/cgroup.procs"; done 2> /dev/null
on_exit "kill -9 $foreign; wait $foreign; for d in $cgdirs; do rmdir \$d; done"
cfg "$B" "c['linux']['cgroupsPath']='$shared'"
args "$B" 'sleep 100 & exec sleep 100'
id=$(newid s)
cella run -d --bundle "$B" "$id" > "$WORK/shared.out" 2>&1
expect_match "create in a non-empty cgroup warns (runc 1.1)" 'warning: the cgroup .* is not empty: 1 process found' "$(cat "$WORK/shared.out")"
cpids=$(cella ps "$id" 2>/dev/null | tail -n +2 | awk '{print $2}' | grep -v "^$foreign\$" | tr '\n' ' ')
check "delete --force succeeds while other processes keep the cgroup" cella delete --force "$id"
alive=""
# (a zombie is dead: its parent, the host's init, reaps it in its own time)
for p in $cpids; do [ -n "$(awk '$3 != "Z"' "/proc/$p/stat" 2>/dev/null)" ] && alive="$alive $p"; done
expect_eq "the container's processes are gone" "" "$alive"
check "the process that is not the container's is alive" kill -0 $foreign
check "its cgroup stays" test -d "${cgdirs%% *}"
expect_eq "the container's state is gone" "" "$(ls "$ROOT" | grep -x "$id")"

# ---- runtime-spec fields cella does not implement: refused, naming the field --------------
not_yet() { # FIELD-RE PYTHON...
    local re=$1 id
    shift
    reset
    cfg "$B" "$@"
    id=$(newid s)
    fails "not implemented, refused: $re" "$id" "^cella: $re: not supported by cella yet" cella create --bundle "$B" "$id"
}
not_yet 'process\.apparmorProfile' "c['process']['apparmorProfile']='docker-default'"
not_yet 'process\.selinuxLabel' "c['process']['selinuxLabel']='system_u:system_r:container_t:s0'"
not_yet 'linux\.mountLabel' "c['linux']['mountLabel']='system_u:object_r:container_file_t:s0'"
not_yet 'linux\.intelRdt' "c['linux']['intelRdt']={'closID':'x'}"
if [ -d /sys/fs/resctrl ]; then
    skip "intelRdt: the line says resctrl is absent" "this host has /sys/fs/resctrl"
else
    expect_match "intelRdt: the line says resctrl is absent" 'no resctrl filesystem' "$(cat "$WORK/err")"
fi
not_yet 'linux\.netDevices' "c['linux']['netDevices']={'eth9':{}}"
not_yet 'linux\.resources\.rdma' "c['linux']['resources']['rdma']={'mlx5_1':{'hcaHandles':3}}"
not_yet 'linux\.resources\.cpu\.burst' "c['linux']['resources']['cpu']={'burst':1000}"
not_yet 'linux\.resources\.blockIO\.throttleReadBpsDevice' "c['linux']['resources']['blockIO']={'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':1048576}]}"
# The same for exec --process and update --resources (the running container is untouched).
reset
id=$(newid s)
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
printf '{"args":["true"],"cwd":"/","apparmorProfile":"docker-default"}' > "$WORK/proc.json"
fails "exec --process: process.apparmorProfile refused" - 'process\.apparmorProfile: not supported by cella yet' cella exec --process "$WORK/proc.json" "$id"
printf '{"rdma":{"mlx5_1":{"hcaHandles":3}}}' > "$WORK/res.json"
fails "update --resources: rdma refused" - 'rdma: not supported by cella yet' cella update --resources "$WORK/res.json" "$id"
expect_eq "the container still runs" running "$(state_field "$id" status)"
cella delete --force "$id" > /dev/null 2>&1

# ---- deprecated fields: ignored with a warning when set -------------------------------------
reset
cfg "$B" "c['linux']['resources']['memory']={'kernel':67108864}"
id=$(newid s)
cella create --bundle "$B" "$id" > /dev/null 2> "$WORK/kmem.err"
expect_match "memory.kernel: ignored with a warning (NOT RECOMMENDED, gone from Linux 6)" \
    '^cella: warning: linux\.resources\.memory\.kernel: ignored' "$(cat "$WORK/kmem.err")"
expect_eq "memory.kernel: the container is created" created "$(state_field "$id" status)"
cella delete --force "$id" > /dev/null 2>&1
reset
cfg "$B" "c['linux']['resources']['memory']={'useHierarchy':False}"
id=$(newid s)
fails "memory.useHierarchy false refused (always on since Linux 5.16)" "$id" \
    'linux\.resources\.memory\.useHierarchy: false cannot be applied' cella create --bundle "$B" "$id"

reset
cfg "$B" "c['mounts'].append({'destination':'relmnt','type':'tmpfs','source':'tmpfs'})"
args "$B" 'grep -c " /relmnt " /proc/self/mountinfo'
id=$(newid s)
got=$(cella run --bundle "$B" "$id" 2>&1)
expect_eq "a relative mount destination (deprecated) is mounted below / with a warning" \
    "cella: warning: mounts[$(python3 -c "import json;print(len(json.load(open('$B/config.json'))['mounts'])-1)")].destination: \`relmnt\` is relative (deprecated by the runtime-spec): taken as relative to /
1" "$got"
cella delete --force "$id" > /dev/null 2>&1

# ---- fields applied that no other test reads back -------------------------------------------
reset
cfg "$B" "c['domainname']='strict.example'" "c['process']['oomScoreAdj']=123"
args "$B" 'cat /proc/sys/kernel/domainname /proc/self/oom_score_adj'
id=$(newid s)
expect_eq "domainname and process.oomScoreAdj are applied" "strict.example
123" "$(cella run --bundle "$B" "$id" 2>&1)"
cella delete --force "$id" > /dev/null 2>&1

# ---- process.ioPriority: applied (ioprio_set), read back from the host ------------------------
reset
cfg "$B" "c['process']['ioPriority']={'class':'IOPRIO_CLASS_BE','priority':6}"
id=$(newid s)
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
pid=$(state_field "$id" pid)
# ioprio_get(IOPRIO_WHO_PROCESS, pid) is syscall 252 on x86_64: class << 13 | level
got=$(python3 -c 'import ctypes,sys; print(ctypes.CDLL(None, use_errno=True).syscall(252, 1, int(sys.argv[1])))' "$pid" 2>&1)
expect_eq "process.ioPriority IOPRIO_CLASS_BE 6 is the process's I/O priority" $(((2 << 13) | 6)) "$got"
cella delete --force "$id" > /dev/null 2>&1

# ---- features: the version range cella reads, and what it refuses ----------------------------
got=$(cella features | python3 -c 'import json,sys
f=json.load(sys.stdin); l=f["linux"]
print(f["ociVersionMin"], f["ociVersionMax"], l["cgroup"]["rdma"], l["intelRdt"]["enabled"],
      l["mountExtensions"]["idmap"]["enabled"], l["netDevices"]["enabled"])' 2>&1)
expect_eq "features: runtime-spec 1.0.0 to 1.3.0; rdma, intelRdt, netDevices not supported; idmap mounts are" \
    "1.0.0 1.3.0 False False True False" "$got"
for v in ${got%% *} $(echo "$got" | cut -d' ' -f2); do
    reset
    cfg "$B" "c['ociVersion']='$v'"
    id=$(newid s)
    check "a bundle of ociVersion $v (the features range) is created" cella create --bundle "$B" "$id"
    cella delete --force "$id" > /dev/null 2>&1
done

plan_done
