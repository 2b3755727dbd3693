#!/bin/bash
# The qemu level: OCI bundles in QEMU microVMs (TCG here, a boot is ~1 s, so
# VMs are reused): create/start/state/exec/kill/delete and `run`, exit codes,
# stdout and stderr, env, hostname, cwd, the rootfs under its overlay, hooks,
# signals, the bench's HTTP server through a published port, and every error
# of the level (missing QEMU, kernel or agent, boot failure and timeout, agent
# failure, start failure) as one line that leaves nothing behind.
source "$(dirname "$0")/lib.sh"

BUILD_DIR=$(dirname "$CELLA")
KERNEL=${CELLA_KERNEL:-$REPO_ROOT/build/vmlinux}
AGENT=${CELLA_AGENT_INITRD:-$REPO_ROOT/build/cella-agent.cpio}
why=""
command -v qemu-system-x86_64 > /dev/null || why="qemu-system-x86_64 is not installed (scripts/deps.sh)"
[ -n "$why" ] || [ -r "$KERNEL" ] || why="no guest kernel $KERNEL (make kernel)"
[ -n "$why" ] || [ -r "$AGENT" ] || why="no guest agent initramfs $AGENT (make)"
if [ -n "$why" ]; then
    skip "qemu level" "$why"
    plan_done
    exit 0
fi
# The sanitizer and clang builds live elsewhere: the guest files are named.
export CELLA_KERNEL=$KERNEL CELLA_AGENT_INITRD=$AGENT
# A boot under TCG with the sanitizer build, on a loaded machine: room.
CELLA_TIMEOUT=60
cq() { cella --isolation qemu "$@"; }

B=$WORK/bundle
make_bundle "$B"
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# ---- run in the foreground: the process's view -------------------------------------------
# Selected by the program name (a cella-qemu symlink).
ln -s "$CELLA" "$WORK/cella-qemu"
args "$B" 'echo "out $FOO"; echo err >&2; hostname; pwd; echo written > /etc/new; cat /etc/new; exit 7'
cfg "$B" "c['process']['env'].append('FOO=bar baz')" "c['hostname']='vmhost'" \
    "c['process']['cwd']='/tmp'"
timeout -k 2 60 "$WORK/cella-qemu" --root "$ROOT" run --bundle "$B" "$(newid r)" \
    > "$WORK/run.out" 2> "$WORK/run.err" < /dev/null
expect_eq "run: the process's exit code is run's" 7 $?
expect_eq "run: stdout, env, hostname, cwd, a write to the rootfs (overlay)" \
    "out bar baz
vmhost
/tmp
written" "$(cat "$WORK/run.out")"
expect_eq "run: stderr" "err" "$(cat "$WORK/run.err")"
expect_eq "the bundle's rootfs is untouched by the guest's writes" "absent" \
    "$([ -e "$B/rootfs/etc/new" ] && echo present || echo absent)"

# ---- create, start, state, exec, kill, delete, hooks ---------------------------------------
reset
args "$B" 'echo started; read line; echo "stdin: $line"; exec sleep 1000'
cfg "$B" "c['root']['readonly']=True" "c['hostname']='vmhost'" "c['hooks']={'prestart':[{'path':'/bin/sh','args':['sh','-c','cat > $WORK/prestart']}],
 'poststop':[{'path':'/bin/sh','args':['sh','-c','touch $WORK/poststop']}]}"
id=$(newid l)
t0=$(date +%s%N)
echo "from create" | cq create --pid-file "$WORK/c.pid" --bundle "$B" "$id" > "$WORK/c.out" 2> "$WORK/c.err"
rc=$?
t1=$(date +%s%N)
expect_eq "create boots the VM and returns once the agent is ready" 0 $rc
echo "# create -> agent READY: $(((t1 - t0) / 1000000)) ms ($(state_field "$id" annotations))"
expect_eq "state after create: created" created "$(state_field "$id" status)"
pid=$(state_field "$id" pid)
expect_match "the container's pid is QEMU's" "^qemu-system" "$(cat /proc/"$pid"/comm 2>&1)"
# What a supervisor (conmon, containerd's shim) reaps: the monitor, which
# exits as process 0 does.
mpid=$(cat "$WORK/c.pid" 2>&1)
expect_match "--pid-file names the VM's monitor (its parent is QEMU's)" "^$mpid\$" \
    "$(awk '{print $4}' /proc/"$pid"/stat 2>&1)"
expect_match "state reports the accelerator" "'run.cella.qemu.accel': '(tcg|kvm)'" \
    "$(state_field "$id" annotations)"
expect_match "the prestart hook ran on the host with QEMU's pid" "\"pid\": ?$pid" \
    "$(cat "$WORK/prestart" 2>&1)"
check "start" cq start "$id"
expect_eq "state after start: running" running "$(state_field "$id" status)"
wait_for 100 grep -q "stdin: from create" "$WORK/c.out"
expect_eq "process 0's stdout and stdin are create's" "started
stdin: from create" "$(cat "$WORK/c.out")"
out=$(cq exec "$id" sh -c 'echo in exec; echo exec err >&2; hostname; exit 5' 2>&1)
expect_eq "exec: its exit code" 5 $?
expect_eq "exec: its stdout and stderr, the container's hostname" "in exec
exec err
vmhost" "$out"
expect_match "root.readonly: the rootfs cannot be written" "Read-only file system" \
    "$(cq exec "$id" sh -c 'echo x > /etc/x' 2>&1)"
expect_eq "exec: stdin is relayed" "piped in" "$(echo "piped in" | cq exec "$id" cat)"
head -c 20000000 /dev/urandom > "$WORK/big"
expect_eq "exec: 20 MB of stdin through the monitor's queue to the guest, intact" \
    "$(md5sum < "$WORK/big" | cut -d' ' -f1)" "$(cq exec "$id" md5sum < "$WORK/big" | cut -d' ' -f1)"
# More stdin than the guest's memory, to a process that does not read it: the
# host waits (the agent's window), the guest is not run out of memory.
expect_eq "exec: 300 MB of stdin to a process that sleeps" "slept" \
    "$(head -c 300000000 /dev/zero | cq exec "$id" sh -c 'sleep 3; echo slept' 2>&1)"
expect_eq "exec --env --cwd" "v=1 /etc" "$(cq exec --env V=1 --cwd /etc "$id" sh -c 'echo "v=$V $(pwd)"')"
# The guest's serial console flooded (by root in the guest): console.log,
# in ROOT (a tmpfs: the host's memory), stops growing at 1 MiB.
cq exec "$id" sh -c 'mknod /dev/ttyS0 c 4 64 && head -c 1300000 /dev/zero | tr "\0" x > /dev/ttyS0'
expect_eq "console.log is bounded (1 MiB) and the VM goes on" "yes hi" \
    "$([ "$(stat -c %s "$ROOT/$id/console.log")" -le 1048576 ] && echo yes) $(cq exec "$id" echo hi)"
check "exec --detach" cq exec --detach "$id" sh -c 'echo detached > /dev/shm/d'
wait_for 100 cq exec "$id" grep -q detached /dev/shm/d
expect_eq "a detached exec ran" "detached" "$(cq exec "$id" cat /dev/shm/d 2>&1)"
fails "exec of a missing program: the agent's error" - "/no/such.*No such file" \
    cq exec "$id" /no/such
# A foreground exec passes the signals it gets on to its process.
"$CELLA" --root "$ROOT" exec "$id" sh -c 'echo up > /dev/shm/up; exec sleep 1000' > /dev/null 2>&1 &
epid=$!
wait_for 100 cq exec "$id" grep -q up /dev/shm/up
kill -TERM $epid
wait $epid
expect_eq "exec: SIGTERM to cella exec reaches the process (143)" 143 $?
# Two signals in a row: both are passed on (neither is lost while the first
# is being sent, nor replaced by the second).
"$CELLA" --root "$ROOT" exec "$id" sh -c 'trap "touch /dev/shm/u1" USR1; trap "touch /dev/shm/u2" USR2
    touch /dev/shm/up2; until [ -e /dev/shm/u1 ] && [ -e /dev/shm/u2 ]; do sleep 0.1; done; exit 7' \
    > /dev/null 2>&1 &
epid=$!
wait_for 100 cq exec "$id" test -e /dev/shm/up2
kill -USR1 $epid
kill -USR2 $epid
(sleep 20 && kill -KILL $epid) 2> /dev/null &
watchdog=$!
wait $epid
expect_eq "exec: SIGUSR1 and SIGUSR2 at once both reach the process" 7 $?
kill $watchdog 2> /dev/null
# exec -d --pid-file: a host process stands in for the guest's (conmon
# reaps it): it lives while the process does, and passes signals on.
check "exec --detach --pid-file" cq exec --detach --pid-file "$WORK/e.pid" "$id" sleep 1000
epid=$(cat "$WORK/e.pid" 2>/dev/null)
# Alive, and not a zombie (an orphan waits for whoever reaps it here).
alive() { [ -n "$1" ] && [ -e "/proc/$1" ] && ! grep -q ') Z ' "/proc/$1/stat" 2>/dev/null; }
expect_eq "the stand-in lives while the guest's process does" yes "$(alive "$epid" && echo yes)"
kill -TERM "$epid" 2>/dev/null
for ((i = 0; i < 100; i++)); do alive "$epid" || break; sleep 0.1; done
expect_eq "SIGTERM to the stand-in ends the guest's process, and the stand-in" "gone" \
    "$(alive "$epid" && echo alive || echo gone)"
ps_out=$(cq ps "$id" 2>&1)
expect_match "ps lists QEMU" "qemu-system" "$ps_out"
check "kill TERM" cq kill "$id" TERM
wait_for 100 sh -c "[ \"\$(timeout 5 '$CELLA' --root '$ROOT' state '$id' | grep -c '\"stopped\"')\" = 1 ]"
expect_eq "the VM stops when process 0 ends" stopped "$(state_field "$id" status)"
check "kill --all KILL of a stopped container" cq kill --all "$id" KILL
check "delete" cq delete "$id"
expect_eq "the poststop hook ran" yes "$([ -e "$WORK/poststop" ] && echo yes)"
assert_clean "nothing left after delete" "$id"

# ---- signals: run in the foreground reports the signal as runc does ----------------------
reset
args "$B" 'exec sleep 1000'
id=$(newid s)
"$CELLA" --root "$ROOT" --isolation qemu run --bundle "$B" "$id" > /dev/null 2>&1 < /dev/null &
runpid=$!
(sleep 60 && kill -KILL $runpid) 2> /dev/null & # a hang fails, it does not block
watchdog=$!
wait_for 300 sh -c "timeout 5 '$CELLA' --root '$ROOT' state '$id' | grep -q '\"running\"'"
# SIGTERM to `run` itself: passed on to process 0, which it kills.
kill -TERM $runpid
wait $runpid
expect_eq "run passes SIGTERM on; the process killed by it: run exits 143" 143 $?
kill $watchdog 2> /dev/null
assert_clean "run deletes the VM" "$id"

# ---- the bench's HTTP server through a published port ---------------------------------------
HTTPD=$BUILD_DIR/cella-bench-httpd
[ -x "$HTTPD" ] || HTTPD=$REPO_ROOT/build/cella-bench-httpd
if [ -x "$HTTPD" ]; then
    H=$WORK/httpd
    mkdir -p "$H/rootfs"
    cp "$HTTPD" "$H/rootfs/httpd"
    printf '%s\n' "$BASE" > "$H/config.json"
    port=$((20000 + $$ % 10000))
    cfg "$H" "c['process']['args']=['/httpd','8080']" "c['process']['env']=['RUNTIME_NAME=vm']" \
        "c['annotations']={'run.cella.isolation':'qemu','run.cella.qemu.ports':'tcp:127.0.0.1:$port:8080'}"
    id=$(newid h)
    check "run --detach of the HTTP server (annotation run.cella.isolation=qemu)" \
        cella run --detach --bundle "$H" "$id"
    wait_for 100 curl -sf -o /dev/null "http://127.0.0.1:$port/"
    expect_eq "an HTTP request reaches the guest through the published port" "hello from vm" \
        "$(curl -s --max-time 5 "http://127.0.0.1:$port/")"
    check "pause (the cgroup freezer stops QEMU)" cella pause "$id"
    expect_eq "state: paused" paused "$(state_field "$id" status)"
    check "resume" cella resume "$id"
    expect_eq "the resumed VM answers" "hello from vm" "$(curl -s --max-time 10 "http://127.0.0.1:$port/")"
    check "delete --force of a running VM" cella delete --force "$id"
    assert_clean "nothing left of the server" "$id"

    # The spec names a network namespace: the guest takes over its interface
    # (a tap joined to it by tc redirects) and answers at its address.
    ns=cq$$ va=vq$$a vb=vq$$b
    on_exit "ip netns del $ns; ip link del $va"
    if ip netns add "$ns" && ip link add "$va" type veth peer name "$vb" &&
        ip link set "$vb" netns "$ns" && ip addr add 10.213.0.1/24 dev "$va" &&
        ip link set "$va" up && ip -n "$ns" addr add 10.213.0.2/24 dev "$vb" &&
        ip -n "$ns" link set "$vb" up && ip -n "$ns" route add default via 10.213.0.1; then
        cfg "$H" "c['annotations']={'run.cella.isolation':'qemu'}" \
            "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='network']" \
            "c['linux']['namespaces'].append({'type':'network','path':'/var/run/netns/$ns'})"
        id=$(newid n)
        check "run --detach in a named network namespace" cella run --detach --bundle "$H" "$id"
        wait_for 100 curl -sf -o /dev/null --max-time 1 "http://10.213.0.2:8080/"
        expect_eq "an HTTP request reaches the guest at the namespace interface's address" \
            "hello from vm" "$(curl -s --max-time 5 "http://10.213.0.2:8080/")"
        expect_match "the namespace's interface is redirected to a tap" "ingress" \
            "$(tc -n "$ns" qdisc show dev "$vb")"
        # A second VM cannot take the interface too; its failure leaves the
        # first one's redirect alone.
        fails "a second VM in the namespace: tc's error" - "tc qdisc add dev $vb ingress. failed" \
            cella create --bundle "$H" "$(newid n)"
        expect_eq "the first VM still answers" "hello from vm" \
            "$(curl -s --max-time 5 "http://10.213.0.2:8080/")"
        # Without PATH, as conmon runs `delete`: tc is still found.
        check "delete of the VM in the namespace (no PATH)" \
            env -u PATH "$CELLA" --root "$ROOT" delete --force "$id"
        assert_clean "nothing left of it" "$id"
        expect_eq "the namespace's interface is given back (no redirect, no tap)" "" \
            "$(tc -n "$ns" qdisc show dev "$vb" | grep ingress; ip -n "$ns" -br link | grep cella)"
        cfg "$H" "c['annotations']['run.cella.qemu.ports']='tcp:$port:8080'"
        fails "published ports in a named network namespace are refused" "$id" \
            "annotation run.cella.qemu.ports: .*only" cella create --bundle "$H" "$id"
        ip -n "$ns" link set "$vb" down
        cfg "$H" "del c['annotations']['run.cella.qemu.ports']"
        fails "a network namespace without an interface to take over" "$id" \
            "network namespace ./var/run/netns/$ns.: it has no interface up with an IPv4 address" \
            cella create --bundle "$H" "$id"
    else
        skip "a VM in a named network namespace" "could not make a network namespace with a veth"
    fi
else
    skip "HTTP through a published port" "no build/cella-bench-httpd (make)"
fi

# ---- errors: one line, nothing left ----------------------------------------------------------
reset
args "$B" 'true'
id=$(newid e)
fails "missing QEMU" "$id" "qemu-system-x86_64 not found \(install qemu-system-x86" \
    env PATH=/nonexistent "$CELLA" --root "$ROOT" --isolation qemu create --bundle "$B" "$id"
fails "missing kernel" "$id" "guest kernel .*/nope/vmlinux.*CELLA_KERNEL" \
    env CELLA_KERNEL=/nope/vmlinux "$CELLA" --root "$ROOT" --isolation qemu create --bundle "$B" "$id"
fails "missing agent initramfs" "$id" "guest agent initramfs .*/nope.cpio.*CELLA_AGENT_INITRD" \
    env CELLA_AGENT_INITRD=/nope.cpio "$CELLA" --root "$ROOT" --isolation qemu create --bundle "$B" "$id"
echo "not a kernel" > "$WORK/bad-kernel"
fails "boot failure: QEMU's own error" "$id" "QEMU exited during boot \(status 1\): qemu(-system-x86_64)?: " \
    env CELLA_KERNEL="$WORK/bad-kernel" "$CELLA" --root "$ROOT" --isolation qemu create --bundle "$B" "$id"
# An initramfs whose init never speaks: the boot times out.
cat > "$WORK/init.sh" << 'EOF'
#!/bin/busybox sh
/bin/busybox echo "init that never answers"
exec /bin/busybox sleep 1000
EOF
printf 'dir dev 0755\nnod dev/console 0600 c 5 1\ndir bin 0755\nfile bin/busybox 0755 %s\nfile init 0755 %s\n' \
    "$BUSYBOX" "$WORK/init.sh" > "$WORK/cpio.list"
if cc -o "$WORK/mkcpio" "$REPO_ROOT/guest/initramfs/mkcpio.c" &&
    "$WORK/mkcpio" < "$WORK/cpio.list" > "$WORK/silent.cpio"; then
    fails "boot timeout: named, with the console's last line" "$id" \
        "boot timed out after 3 s: .*init that never answers" \
        env CELLA_AGENT_INITRD="$WORK/silent.cpio" CELLA_QEMU_BOOT_TIMEOUT=3 \
        "$CELLA" --root "$ROOT" --isolation qemu create --bundle "$B" "$id"
else
    skip "boot timeout" "could not write a cpio"
fi
cfg "$B" "c['annotations']={'run.cella.qemu.boot-timeout':'soon'}"
fails "a bad boot timeout annotation" "$id" "annotation run.cella.qemu.boot-timeout: expected seconds" \
    cq create --bundle "$B" "$id"
reset
cfg "$B" "c['annotations']={'run.cella.qemu.ports':'tcp:99999:80'}"
fails "a bad port annotation" "$id" "annotation run.cella.qemu.ports: .tcp:99999:80." \
    cq create --bundle "$B" "$id"
reset
cfg "$B" "c['process']['terminal']=True"
fails "a detached terminal without --console-socket is refused (test_vm_tty.sh has the rest)" "$id" \
    "process.terminal is true: use --console-socket" \
    cq create --bundle "$B" "$id"
reset
# The agent cannot mount the container's /proc: it says so on the console
# and ends the VM.
A=$WORK/badroot
mkdir -p "$A/rootfs/bin"
cp "$BUSYBOX" "$A/rootfs/bin/sh"
touch "$A/rootfs/proc"
printf '%s\n' "$BASE" > "$A/config.json"
fails "agent failure at boot: the agent's line" "$id" "cella-agent: .*proc" \
    cq create --bundle "$A" "$id"
# A signal to a created container (nothing runs in the VM yet) ends the VM,
# as it ends runc's waiting init.
check "create (to be killed before start)" cq create --bundle "$B" "$id"
check "kill KILL of a created container" cq kill "$id" KILL
wait_for 100 sh -c "timeout 5 '$CELLA' --root '$ROOT' state '$id' | grep -q '\"stopped\"'"
expect_eq "a created container killed is stopped" stopped "$(state_field "$id" status)"
check "delete of the killed container" cq delete "$id"
assert_clean "nothing left of it" "$id"
# A program that does not exist: start fails with the agent's reason.
cfg "$B" "c['process']['args']=['/no/such/program']"
check "create (for a failing start)" cq create --bundle "$B" "$id"
fails "start of a missing program: the agent's error" - "/no/such/program.*No such file" \
    cq start "$id"
check "delete after a failed start" cq delete --force "$id"
assert_clean "nothing left after a failed start" "$id"

# ---- a guest that breaks the protocol: the host side neither hangs nor reads past a frame --
# A stand-in for QEMU (found first on PATH) plays a malicious guest on the
# agent channel: no VM boots, so these take no time.
FAKE=$WORK/fakeqemu
mkdir -p "$FAKE"
cat > "$FAKE/qemu-system-x86_64" << 'EOF2'
#!/bin/bash
for a in "$@"; do case $a in socket,id=agent,fd=*) fd=${a##*fd=} ;; esac; done
frame() { printf "$1" >&"$fd"; } # printf's \x escapes: header then payload
if [ "$FAKE_GUEST" = hostile-error ]; then # ERROR before READY, with terminal escapes
    frame '\x0e\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00boom \x1b[2J\x07 end'
    exec sleep 1000
fi
frame '\x0d\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00cella-agent 3' # READY
case $FAKE_GUEST in
exit-before-started) # EXIT for exec id 1 (status 0), until there is one to answer
    while sleep 0.1; do frame '\x04\x00\x00\x00\x06\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00'; done ;;
partial) frame '\x00\x01\x00\x00\x04' ;;                                   # 5 bytes of a header
oversize) frame '\xff\xff\xff\x7f\x04\x00\x00\x00\x00\x00\x00\x00' ;;      # 2 GiB of STDOUT
deaf) # STARTED for process 0 (guest pid 1), and never a byte read
    while sleep 0.1; do frame '\x04\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00'; done ;;
esac
exec sleep 1000
EOF2
chmod +x "$FAKE/qemu-system-x86_64"
reset
args "$B" 'true'
id=$(newid g)
check "create with a guest that answers exec with EXIT before STARTED" \
    timeout 20 env PATH="$FAKE:$PATH" FAKE_GUEST=exit-before-started "$CELLA" --root "$ROOT" \
    --isolation qemu create --bundle "$B" "$id"
fails "exec: an EXIT before STARTED is the guest's error, not an exit code" - \
    "exec: .*EXIT before STARTED" cq exec "$id" true
check "delete --force" cq delete --force "$id"
assert_clean "nothing left of the guest" "$id"
check "create with a guest that stops inside a frame header" \
    timeout 20 env PATH="$FAKE:$PATH" FAKE_GUEST=partial "$CELLA" --root "$ROOT" \
    --isolation qemu create --bundle "$B" "$id"
# The control socket unreachable for a reason other than the monitor's end:
# the error says which socket and why.
mv "$ROOT/$id/monitor.sock" "$ROOT/$id/monitor.sock.real"
ln -s monitor.sock "$ROOT/$id/monitor.sock"
fails "kill: a monitor socket that cannot be reached is named, with connect's reason" - \
    "connect to its VM monitor: connect to .*monitor.sock.: Too many levels of symbolic links" \
    cq kill "$id" KILL
mv -f "$ROOT/$id/monitor.sock.real" "$ROOT/$id/monitor.sock"
check "kill: the monitor answers while the guest's frame is incomplete" cq kill "$id" KILL
check "delete --force" cq delete --force "$id"
assert_clean "nothing left of the guest" "$id"
check "create with a guest that sends a frame longer than the protocol allows" \
    timeout 20 env PATH="$FAKE:$PATH" FAKE_GUEST=oversize "$CELLA" --root "$ROOT" \
    --isolation qemu create --bundle "$B" "$id"
wait_for 50 sh -c "timeout 5 '$CELLA' --root '$ROOT' state '$id' | grep -q '\"stopped\"'"
expect_eq "a guest that breaks the protocol is stopped" stopped "$(state_field "$id" status)"
expect_match "the console log says why" "cella-monitor: .*AGENT_MAX_PAYLOAD|cella-monitor: .*frame" \
    "$(cat "$ROOT/$id/console.log" 2>&1)"
check "delete" cq delete "$id"
assert_clean "nothing left of the guest" "$id"
out=$(timeout 20 env PATH="$FAKE:$PATH" FAKE_GUEST=hostile-error "$CELLA" --root "$ROOT" \
    --isolation qemu create --bundle "$B" "$id" 2>&1)
expect_match "a guest's boot error reaches the user" "guest agent: boom \?\[2J\? end" "$out"
expect_eq "with the terminal escapes it carried made harmless" 0 \
    "$(printf '%s' "$out" | tr -cd '\033\007' | wc -c)"
assert_clean "nothing left of the guest" "$id"
check "create with a guest that never reads (process 0's stdin: endless)" \
    timeout 20 env PATH="$FAKE:$PATH" FAKE_GUEST=deaf "$CELLA" --root "$ROOT" \
    --isolation qemu create --bundle "$B" "$id" < /dev/zero
check "start" cq start "$id"
check "kill: the monitor answers while the guest does not read" cq kill "$id" KILL
check "delete --force" cq delete --force "$id"
assert_clean "nothing left of the guest" "$id"

# ---- the rootfs image cache's size limit: least recently used go, never a running VM's ----------
# A private cache limited to 1 byte: each create keeps its own image and
# those of running VMs (their monitors hold them), and drops the rest.
lim() {
    timeout 20 env PATH="$FAKE:$PATH" FAKE_GUEST=partial CELLA_ROOTFS_CACHE="$WORK/cache" \
        CELLA_ROOTFS_CACHE_MAX=1 "$CELLA" --root "$ROOT" --isolation qemu "$@"
}
images() { ls "$WORK/cache" 2> /dev/null | grep -c '\.erofs$'; }
make_bundle "$WORK/b2"
make_bundle "$WORK/b3"
ida=$(newid c) idb=$(newid c) idc=$(newid c)
check "create (image cache limited)" lim create --bundle "$B" "$ida"
first=$(ls "$WORK/cache" | grep '\.erofs$')
check "create of another rootfs" lim create --bundle "$WORK/b2" "$idb"
expect_eq "the running VM's image stays, over the limit" "2 yes" \
    "$(images) $([ -e "$WORK/cache/$first" ] && echo yes)"
check "delete --force of the first VM" cq delete --force "$ida"
check "create of a third rootfs" lim create --bundle "$WORK/b3" "$idc"
expect_eq "the image no VM uses any more is dropped, the running VM's kept" "2 gone" \
    "$(images) $([ -e "$WORK/cache/$first" ] && echo kept || echo gone)"
check "delete --force" cq delete --force "$idb"
check "delete --force" cq delete --force "$idc"
fails "a bad cache limit" "$ida" '\$CELLA_ROOTFS_CACHE_MAX: .lots.: expected bytes' \
    env CELLA_ROOTFS_CACHE_MAX=lots "$CELLA" --root "$ROOT" --isolation qemu create --bundle "$B" "$ida"

# ---- create's failures after the monitor has booted the VM: bounded, nothing left ----------
# A shim fails rename(2) onto a state file, as a full or broken disk would:
# create must then end the VM and its monitor, not wait for them.
cat > "$WORK/failrename.c" << 'EOF2'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* rename onto a path ending in $FAIL_RENAME fails with EIO when the new
 * file holds $FAIL_IF (if set) and not $FAIL_UNLESS (if set). */
int rename(const char *from, const char *to)
{
    const char *sfx = getenv("FAIL_RENAME"), *yes = getenv("FAIL_IF"), *no = getenv("FAIL_UNLESS");
    size_t n = strlen(to), k = sfx ? strlen(sfx) : 0;
    if (sfx && n >= k && strcmp(to + n - k, sfx) == 0) {
        char buf[65536] = "";
        int fd = open(from, O_RDONLY);
        if (fd >= 0) {
            ssize_t r = read(fd, buf, sizeof(buf) - 1);
            buf[r > 0 ? r : 0] = '\0';
            close(fd);
        }
        if ((!yes || strstr(buf, yes)) && (!no || !strstr(buf, no))) {
            errno = EIO;
            return -1;
        }
    }
    return ((int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename"))(from, to);
}
/* cella exchanges a state file with its new copy (renameat2 EXCHANGE) and
 * falls back to rename where that fails: onto the same paths, it fails as on
 * a file system without exchange, so that the rename above decides. */
int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
    const char *sfx = getenv("FAIL_RENAME");
    size_t n = strlen(to), k = sfx ? strlen(sfx) : 0;
    if (sfx && n >= k && strcmp(to + n - k, sfx) == 0) {
        errno = EINVAL;
        return -1;
    }
    return ((int (*)(int, const char *, int, const char *, unsigned))dlsym(RTLD_NEXT, "renameat2"))(
        fromfd, from, tofd, to, flags);
}
EOF2
if cc -shared -fPIC -o "$WORK/failrename.so" "$WORK/failrename.c" -ldl; then
    shim() {
        timeout 20 env PATH="$FAKE:$PATH" LD_PRELOAD="$WORK/failrename.so" \
            ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" "$@"
    }
    # The state with QEMU's pid cannot be saved: the report's read fails with
    # the monitor alive and its VM up (the stand-in says READY).
    id=$(newid f)
    fails "create whose state cannot record QEMU's pid: the error, at once" "$id" \
        "rename .*state.json.: Input/output error" \
        shim FAIL_RENAME=/state.json FAIL_IF='"status":"creating"' FAIL_UNLESS='"pid":0,' \
        "$CELLA" --root "$ROOT" --isolation qemu create --bundle "$B" "$id"
    id=$(newid f)
    fails "create that cannot record the VM monitor: the error" "$id" \
        "record the container's supervisor .*monitor.pid.: Input/output error" \
        shim FAIL_RENAME=/monitor.pid "$CELLA" --root "$ROOT" --isolation qemu create --bundle "$B" "$id"
else
    skip "create's failures after the boot" "cannot build an LD_PRELOAD shim with cc"
fi

plan_done
