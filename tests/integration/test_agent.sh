#!/bin/bash
# The guest agent (guest/agent, docs/guest-agent.md) as PID 1 of a QEMU
# microVM under TCG, driven through its virtio-serial port by
# build/tests/agent_client: READY; a process's stdout, stderr, exit code, env,
# cwd, uid/gid/groups, umask, rlimit, no_new_privs and hostname; an erofs root
# that stays read-only under a writable overlay whose writes vanish with the
# VM; exec while process 0 runs; stdin, also 16 MiB echoed back; SIGNAL to
# one process and to all; ERROR lines for a missing binary and a bad cwd;
# orphans reaped; malformed frames; a host that reconnects; the network
# (address, route, DNS, a request from the guest to the host and one from the
# host to a server in the guest); the VM ending after process 0; a bad boot
# word ending the VM with one console line; the initramfs as the root. Four
# boots, a second or two each.
source "$(dirname "$0")/lib.sh"

BUILD_DIR=$(dirname "$CELLA")
CPIO=$BUILD_DIR/cella-agent.cpio
CLIENT=$BUILD_DIR/tests/agent_client
KERNEL=${CELLA_KERNEL:-$REPO_ROOT/build/vmlinux}
reason=""
command -v qemu-system-x86_64 >/dev/null || reason="qemu-system-x86_64 is not installed"
[ -z "$reason" ] && ! command -v musl-gcc >/dev/null && reason="musl-gcc is not installed (the agent is not built)"
[ -z "$reason" ] && [ ! -f "$CPIO" ] && reason="$CPIO is not built (make)"
[ -z "$reason" ] && [ ! -x "$CLIENT" ] && reason="$CLIENT is not built (make)"
[ -z "$reason" ] && [ ! -f "$KERNEL" ] && reason="no guest kernel at $KERNEL (make kernel)"
[ -z "$reason" ] && ! command -v mkfs.erofs >/dev/null && reason="mkfs.erofs is not installed (erofs-utils)"
if [ -z "$reason" ] && ! { [ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1; }; then
    reason="no static busybox at $BUSYBOX (busybox-static)"
fi
if [ -n "$reason" ]; then
    skip "guest agent" "$reason"
    plan_done
    exit 0
fi

# ---- the rootfs image: busybox and a file to read and overwrite ----
R=$WORK/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/data" "$R/home/user"
cp "$BUSYBOX" "$R/bin/busybox"
for a in $("$BUSYBOX" --list); do
    [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"
done
echo "from the image" > "$R/data/hello"
chmod 755 "$R/data"
mkfs.erofs --all-root --quiet "$WORK/root.img" "$R" >/dev/null || { echo "Bail out! mkfs.erofs"; exit 1; }
IMG_SUM=$(sha256sum < "$WORK/root.img")

# A file on the host for the guest to fetch through QEMU's user network
# (10.0.2.2 is the host's 127.0.0.1).
mkdir -p "$WORK/www"
echo "served by the host" > "$WORK/www/file"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$PORT" >/dev/null 2>&1 &
HTTP_PID=$!
on_exit "kill $HTTP_PID"

# A host port forwarded to the guest's 8080.
FWD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

KHZ=$(awk -F': ' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
APPEND_BASE="console=ttyS0 reboot=t panic=-1 quiet noreplace-smp nolapic_timer"
[ -n "$KHZ" ] && APPEND_BASE="$APPEND_BASE tsc_early_khz=$KHZ tsc=reliable"
NET_WORDS="cella.ip=10.0.2.15/24 cella.gw=10.0.2.2 cella.mtu=1500 cella.dns=10.0.2.3"

# boot NAME "WORDS" [QEMU ARGS...]: start the VM in the background; its
# console goes to $WORK/NAME.console, its agent port to $WORK/NAME.sock (after
# the virtio-serial ports in ARGS); QEMU_PID is set.
boot() {
    local name=$1 words=$2
    shift 2
    rm -f "$WORK/$name.sock"
    timeout -k 2 60 qemu-system-x86_64 -M microvm,acpi=off -accel tcg -m 128 -smp 1 \
        -nodefaults -no-user-config -display none -no-reboot \
        -kernel "$KERNEL" -initrd "$CPIO" -append "$APPEND_BASE $words" \
        -serial "file:$WORK/$name.console" \
        -device virtio-serial-device "$@" \
        -chardev "socket,id=agent,path=$WORK/$name.sock,server=on,wait=off" \
        -device virtserialport,chardev=agent,name=cella.agent \
        -drive "id=root,file=$WORK/root.img,format=raw,if=none,readonly=on" \
        -device virtio-blk-device,drive=root \
        -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$FWD-:8080" -device virtio-net-device,netdev=n0 \
        > "$WORK/$name.qemu" 2>&1 &
    QEMU_PID=$!
    on_exit "kill $QEMU_PID"
}

# drive NAME < SCRIPT: the client's transcript in $WORK/NAME.out.
drive() {
    timeout -k 2 90 "$CLIENT" "$WORK/$1.sock" > "$WORK/$1.out" 2> "$WORK/$1.err"
}

# line NAME PREFIX: the transcript's first line starting with PREFIX.
line() {
    grep -m1 -F -- "$2" "$WORK/$1.out" || true
}

# qemu_ended: QEMU exits within 10 s (the agent ended the VM); its status.
qemu_ended() {
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$QEMU_PID" 2>/dev/null || break
        sleep 0.1
    done
    wait "$QEMU_PID"
}

# ---- boot 1: processes, the filesystem, the network, the protocol ----
boot vm1 "cella.root=/dev/vda cella.rootfstype=erofs $NET_WORDS"
# The host's side of a request to a server in the guest (run 17 below),
# retried until the server answers; fetched.done tells the script.
python3 -c '
import sys, time, urllib.request
for _ in range(300):
    try:
        print(urllib.request.urlopen("http://127.0.0.1:%s/hello" % sys.argv[1], timeout=2).read().decode(), end="")
        break
    except Exception:
        time.sleep(0.1)
' "$FWD" > "$WORK/fetched" 2>&1 && touch "$WORK/fetched.done" &
drive vm1 <<EOF
ready
run 0 hostname=cella-guest env=PATH=/bin -- sh -c 'read l; echo "got \$l"; exit 5'
run 1 env=PATH=/bin env=GREETING=hi cwd=/data uid=1000 gid=1001 group=27 group=100 umask=027 nnp rlimit=7,123,456 -- sh -c 'echo "\$GREETING"; pwd; id -u; id -g; id -G; umask; ulimit -n; ulimit -Hn; grep NoNewPrivs /proc/self/status; echo to-stderr >&2; exit 7'
wait 1
run 2 -- /bin/hostname
wait 2
run 3 env=PATH=/bin -- sh -c 'cat /data/hello; echo written > /data/hello; echo new > /data/new; cat /data/hello /data/new; grep " / " /proc/mounts | cut -d" " -f3'
wait 3
run 4 -- /bin/nope
run 5 env=PATH=/usr/bin:/bin -- nope
run 6 cwd=/nope -- /bin/true
run 7 -- /bin/sleep 100
signal 7 15
wait 7
run 8 -- /bin/cat
stdin 8 "line one\n"
stdin 8 "line two\n"
stdin-close 8
wait 8
run 9 env=PATH=/bin -- sh -c 'echo early; exec >&- 2>&-; sleep 0.2; exit 3'
wait 9
run 10 -- /bin/cat
stdin-bulk 10 16777216
wait-bulk 10
raw 00000000630000000a000000
raw 03000000100000000b000000616263
answer 11
run 12 -- /bin/true
wait 12
reconnect
run 13 env=PATH=/bin -- sh -c 'ip -4 addr show eth0 | grep inet | sed "s/^ *//" | cut -d" " -f1-2; ip route | grep default; cat /etc/resolv.conf; ip -4 addr show lo | grep -c 127.0.0.1; wget -q -O - http://10.0.2.2:$PORT/file'
wait 13
run 17 -- /bin/httpd -f -p 8080 -h /data
wait-file $WORK/fetched.done
signal 17 9
wait 17
run 15 env=PATH=/bin -- sh -c 'sleep 0.2 & echo parent done'
wait 15
run 16 env=PATH=/bin -- sh -c 'sleep 1; cat /proc/[0-9]*/stat | cut -d" " -f3 | grep -c Z'
wait 16
run 14 -- /bin/sleep 100
run 0 -- /bin/true
signal-all 15
wait 0
closed
EOF
rc=$?
echo "# $(cat "$WORK/vm1.err")"
if [ $rc -ne 0 ]; then
    not_ok "the client ran its script on the first VM" "exit $rc" "$(tail -n 5 "$WORK/vm1.out")" \
        "console: $(tail -n 5 "$WORK/vm1.console")"
fi
expect_eq "READY with the agent's version" "ready cella-agent 3" "$(line vm1 ready)"
expect_eq "RUN 0 is STARTED" "started 0" "$(line vm1 'started 0')"
expect_eq "exit code" "exit 1 code 7" "$(line vm1 'exit 1 ')"
expect_eq "stdout: env, cwd, uid, gid, groups, umask, rlimit, no_new_privs" \
    'stdout 1: hi\n/data\n1000\n1001\n1001 27 100\n0027\n123\n456\nNoNewPrivs:\t1\n' \
    "$(line vm1 'stdout 1: ' | sed 's/\\x09/\\t/')"
expect_eq "stderr" 'stderr 1: to-stderr\n' "$(line vm1 'stderr 1: ')"
expect_eq "RUN 0's hostname, seen by an exec" 'stdout 2: cella-guest\n' "$(line vm1 'stdout 2: ')"
expect_eq "the root is an overlay: the image's file, then writes" \
    'stdout 3: from the image\nwritten\nnew\noverlay\n' "$(line vm1 'stdout 3: ')"
expect_eq "a missing binary is one ERROR line" \
    "error 4: exec /bin/nope: No such file or directory" "$(line vm1 'error 4')"
expect_eq "the process's PATH is searched" \
    "error 5: exec nope: not found in PATH=/usr/bin:/bin" "$(line vm1 'error 5')"
expect_eq "a missing cwd is one ERROR line" \
    "error 6: chdir /nope: No such file or directory" "$(line vm1 'error 6')"
expect_eq "SIGNAL 15: the wait status says signal 15" "exit 7 signal 15" "$(line vm1 'exit 7 ')"
expect_eq "STDIN reaches the process; empty STDIN closes it" \
    'stdout 8: line one\nline two\n' "$(line vm1 'stdout 8: ')"
expect_eq "a process that closes stdout early still gets its EXIT" "exit 9 code 3" \
    "$(line vm1 'exit 9 ')"
expect_eq "... after its output" 'stdout 9: early\n' "$(line vm1 'stdout 9: ')"
# 16 MiB each way fills every buffer between host and guest: a host that
# writes all of it before reading only finishes if the agent keeps reading.
expect_eq "16 MiB through cat: stdin and stdout at once" \
    "stdout 10: 16777216 bytes, pattern ok" "$(line vm1 'stdout 10: ')"
expect_match "a frame of unknown type is logged and ignored" \
    "cella-agent: frame of unknown type 99 from the host: ignored" "$(cat "$WORK/vm1.console")"
expect_eq "a RUN with malformed fields is an ERROR" \
    "error 11: RUN: malformed field at byte 0 of 3" "$(line vm1 'error 11')"
expect_eq "the agent serves on after malformed frames" "exit 12 code 0" "$(line vm1 'exit 12 ')"
expect_eq "the network: eth0's address, the default route, DNS, lo, TCP to the host" \
    "stdout 13: inet 10.0.2.15/24\\ndefault via 10.0.2.2 dev eth0 \\nnameserver 10.0.2.3\\n1\\nserved by the host\\n" \
    "$(line vm1 'stdout 13: ')"
expect_eq "a server in the guest answers the host (hostfwd; the overlay's copy)" "written" \
    "$(cat "$WORK/fetched")"
expect_eq "a host that reconnects is served" "exit 13 code 0" "$(line vm1 'exit 13 ')"
expect_eq "a process that leaves a child behind gets its EXIT" "exit 15 code 0" "$(line vm1 'exit 15 ')"
expect_eq "orphans are reaped: no zombie" 'stdout 16: 0\n' "$(line vm1 'stdout 16: ')"
expect_eq "RUN of a running id is an ERROR" "error 0: RUN: process 0 is already running" \
    "$(line vm1 'error 0')"
expect_eq "SIGNAL to all processes reaches process 0" "exit 0 signal 15" "$(line vm1 'exit 0 ')"
expect_eq "the VM ends after process 0's EXIT" "closed" "$(line vm1 closed)"
qemu_ended
expect_eq "QEMU exits with 0 (the agent's reboot and -no-reboot)" 0 $?
expect_eq "the image is not written" "$IMG_SUM" "$(sha256sum < "$WORK/root.img")"

# ---- boot 2: a fresh overlay; process 0's stdin and exit code end the VM ----
# Another port comes first, so that the agent's is not vport0p1.
boot vm2 "cella.root=/dev/vda cella.readonly=1" \
    -chardev null,id=other -device virtserialport,chardev=other,name=other
drive vm2 <<'EOF'
ready
run 0 env=PATH=/bin -- sh -c 'ls /sys/class/virtio-ports; cat /data/hello; ls /data; touch /x 2>&1 | sed "s/.*: //"; read l; echo "got $l"; exit 5'
stdin 0 "the end\n"
wait 0
closed
EOF
expect_eq "the agent's port found by name; writes of the first VM gone; cella.readonly=1" \
    'stdout 0: vport0p1\nvport0p2\nfrom the image\nhello\nRead-only file system\ngot the end\n' \
    "$(line vm2 'stdout 0: ')"
expect_eq "process 0's exit code" "exit 0 code 5" "$(line vm2 'exit 0 ')"
expect_eq "the VM ends once process 0 exits" "closed" "$(line vm2 closed)"
qemu_ended
expect_eq "QEMU exits with 0" 0 $?

# ---- boot 3: no cella.root: the container runs in the initramfs, here the
# agent's with a second archive appended (the kernel unpacks both) ----
{
    echo "dir /bin 0755"
    echo "file /bin/busybox 0755 $BUSYBOX"
    for a in sh ls cat; do echo "slink /bin/$a 0777 busybox"; done
} | "$BUILD_DIR/mkcpio" > "$WORK/busybox.cpio" || { echo "Bail out! mkcpio"; exit 1; }
cat "$CPIO" "$WORK/busybox.cpio" > "$WORK/initramfs.cpio"
CPIO=$WORK/initramfs.cpio boot vm3 ""
drive vm3 <<'EOF'
ready
run 0 env=PATH=/bin -- sh -c 'ls /; ls /dev; echo x > /new && cat /new'
wait 0
closed
EOF
expect_eq "the initramfs as the root, with the container's /dev" \
    'stdout 0: bin\ndev\ninit\nmnt\nproc\nroot\nrun\nsys\ntmp\nfd\nfull\nmqueue\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\nx\n' \
    "$(line vm3 'stdout 0: ')"
expect_eq "... and the VM ends after it" "closed" "$(line vm3 closed)"
qemu_ended

# ---- boot 4: a boot failure is one console line and the end of the VM ----
boot vm4 "cella.ip=10.0.2.15"
qemu_ended
expect_eq "QEMU ends after the agent's boot error" 0 $?
expect_eq "the console names the bad word" \
    "cella-agent: kernel command line: cella.ip: expected ADDR/PREFIX, got \`10.0.2.15'" \
    "$(grep -a '^cella-agent: ' "$WORK/vm4.console" | tr -d '\r')"

plan_done
