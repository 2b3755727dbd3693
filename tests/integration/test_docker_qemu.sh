#!/bin/bash
# shellcheck disable=SC2016 # $VARS in single quotes are for the container's shell.
# Docker's networks reach a VM of the qemu level. Docker gives a container a
# new network namespace and moves a veth into it from libnetwork's prestart
# hook; the qemu level makes that namespace in its monitor, runs the hooks
# there before QEMU starts, then joins the veth to a tap (tc redirects) and
# the guest takes the veth's address, MAC and gateway. Without an interface
# (`--network none`, the default of the tests' dockerd) the VM keeps QEMU's
# user-mode network from the host's namespace, as before.
#
#   bash tests/integration/test_docker_qemu.sh     # CELLA=/path/to/cella
#
# The daemon: scripts/dockerd.sh (shared with test_docker.sh and
# `cella bench --engine docker`).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engine.sh"

TMO=${DOCKER_TIMEOUT:-90}
skip_file() {
    skip "docker qemu: the checks" "$1"
    plan_done
    exit 0
}
CELLA_DIR=$(dirname "$CELLA")
command -v qemu-system-x86_64 > /dev/null || skip_file "no qemu-system-x86_64 (apt-get install qemu-system-x86)"
[ -e "$CELLA_DIR/vmlinux" ] && [ -e "$CELLA_DIR/cella-agent.cpio" ] ||
    skip_file "no guest kernel or agent initramfs next to $CELLA (make kernel)"

T=$WORK/docker
on_exit "dockerd_stop $T"
reason=$(dockerd_start "$T" "$CELLA" 2>&1) || skip_file "$reason"
# SOCK, NET, BRIDGE, CGPARENT, DOCKER
. "$T/env"
d() { timeout -k 5 "$TMO" "$DOCKER" -H "unix://$SOCK" "$@"; }
ok "docker qemu: a private dockerd starts"

engine_rootfs "$T/bb"
tar -C "$T/bb" -c . | d import - cella-bb:1 > /dev/null || { echo "Bail out! docker import busybox"; exit 1; }
# busybox (for exec) and the bench's server.
cp "$CELLA_DIR/cella-bench-httpd" "$T/bb/cella-httpd"
tar -C "$T/bb" -c . | d import -c 'CMD ["/cella-httpd", "8080"]' - cella-httpd:1 > /dev/null ||
    { echo "Bail out! docker import httpd"; exit 1; }

state() { d inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$1" 2>&1; }
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
http_get() { # HOST PORT
    python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://%s:%s/" % (sys.argv[1], sys.argv[2]), timeout=5).read().decode())' "$1" "$2"
}

# ---- a Docker bridge network, -p ----------------------------------------------------------
c=qp-$$
port=$(free_port)
d run -d --name "$c" --runtime=cella-qemu --network "$NET" -p "127.0.0.1:$port:8080" cella-httpd:1 > "$T/run.out" 2>&1
rc=$?
expect_eq "docker qemu: run -d --network (a bridge network) -p: created and started" "0 running" "$rc $(state "$c" | cut -d' ' -f1)"
[ $rc = 0 ] || echo "# $(cat "$T/run.out")"
# (not waited for when create failed: the container stays "created")
if [ $rc = 0 ] && wait_until 60 http_get 127.0.0.1 "$port"; then
    ok "docker qemu: -p publishes the httpd's port: HTTP through docker-proxy reaches the VM"
else
    not_ok "docker qemu: -p publishes the httpd's port: HTTP through docker-proxy reaches the VM" "$(state "$c")" "$(d logs "$c" 2>&1 | tail -3)"
fi
expect_eq "docker qemu: the server runs in the guest's kernel, not the host's" \
    "guest" "$([ "$(d exec "$c" uname -r 2>&1)" != "$(uname -r)" ] && d exec "$c" uname -r > /dev/null 2>&1 && echo guest)"
ip=$(d inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$c" 2> /dev/null)
mac=$(d inspect -f "{{(index .NetworkSettings.Networks \"$NET\").MacAddress}}" "$c" 2> /dev/null)
gw=$(ip -4 -o addr show dev "$BRIDGE" 2> /dev/null | awk '{ sub("/.*", "", $4); print $4 }')
out=$(d exec "$c" sh -c 'ip -4 -o addr show eth0 | awk "{ print \$4 }"; cat /sys/class/net/eth0/address; ip route | awk "/^default/ { print \$3 }"' 2>&1 | tr '\n' ' ')
expect_match "docker qemu: the guest took the container's address $ip, MAC and the bridge's gateway $gw" \
    "^$ip/[0-9]+ $mac $gw $" "$out"
if http_get "$ip" 8080 > /dev/null 2>&1; then
    ok "docker qemu: the container's address on the bridge ($ip) answers from the VM"
else
    not_ok "docker qemu: the container's address on the bridge ($ip) answers from the VM"
fi
# From the guest out: its gateway (the host's side of the bridge) answers a ping.
if d exec "$c" ping -c 1 -W 5 "$gw" > /dev/null 2>&1; then
    ok "docker qemu: the guest reaches its gateway over the bridge"
else
    not_ok "docker qemu: the guest reaches its gateway over the bridge" "$(d exec "$c" ping -c 1 -W 5 "$gw" 2>&1)"
fi
d stop "$c" > /dev/null 2>&1
expect_eq "docker qemu: docker stop ends the httpd with 0" "exited 0" "$(state "$c")"
d rm "$c" > /dev/null 2>&1
expect_eq "docker qemu: rm leaves no VM (no QEMU of the container)" "" "$(our_pids "$T/cella-qemu"; pgrep -f "qemu-system.*$c" || true)"

# The container restarts on the same network: the tap and redirects of the
# first are gone with it.
if d run -d --name "$c" --runtime=cella-qemu --network "$NET" -p "127.0.0.1:$port:8080" cella-httpd:1 > /dev/null 2>&1 &&
    wait_until 60 http_get 127.0.0.1 "$port"; then ok "docker qemu: a second container on the network is served too"; else
    not_ok "docker qemu: a second container on the network is served too" "$(state "$c")"; fi
d rm -f "$c" > /dev/null 2>&1

# ---- no network interface: QEMU's user-mode network -----------------------------------------
out=$(d run --rm --runtime=cella-qemu --network none cella-bb:1 sh -c 'ip -4 -o addr show eth0 | awk "{ print \$4 }"; exit 4' 2>&1)
expect_eq "docker qemu: --network none: exit code 4, the VM on QEMU's user-mode network (10.0.2.15/24)" \
    "4 10.0.2.15/24" "$? $out"

# ---- a terminal ------------------------------------------------------------------------------
out=$(pty_run 60 'tty; exit 3
' "$DOCKER" -H "unix://$SOCK" run -it --rm --runtime=cella-qemu cella-bb:1 sh 2>&1)
rc=$?
# The shell on the guest's pty, its master relayed through the host's pty
# that containerd's shim got over the console socket (docs/vmhost.md, Terminals).
expect_eq "docker qemu: run -it, a shell on the guest's terminal (tty: /dev/pts/N), exit 3" \
    "3 /dev/pts/N" "$rc $(printf '%s\n' "$out" | tr -d '\r' | grep -x '/dev/pts/[0-9]*' | sed 's/[0-9]*$/N/')"

# ---- a hooks' namespace the VM cannot take: create's error, nothing left -------------------
# What Docker's hook does, with an interface that has no IPv4 address.
export CELLA_KERNEL=$CELLA_DIR/vmlinux CELLA_AGENT_INITRD=$CELLA_DIR/cella-agent.cpio
B=$WORK/hooked
make_bundle "$B"
cat > "$WORK/hook.sh" << EOF
#!/bin/sh
pid=\$(sed 's/.*"pid": *\([0-9]*\).*/\1/')
ip link add cqa$$ type veth peer name cqb$$ && ip link set cqb$$ netns /proc/\$pid/ns/net &&
    nsenter -t "\$pid" -n ip link set cqb$$ up
EOF
chmod +x "$WORK/hook.sh"
cfg "$B" "c['hooks'] = {'prestart': [{'path': '$WORK/hook.sh'}]}"
id=$(newid hk)
CELLA_TIMEOUT=90 fails "qemu level, hooks' namespace with no IPv4 interface: create fails with one line naming it" "$id" \
    "the hooks' network: linux.namespaces: network namespace ./proc/[0-9]+/ns/net.: .*IPv4" \
    cella --isolation qemu create --bundle "$B" "$id"
ip link del "cqa$$" 2> /dev/null

# ---- nothing left ------------------------------------------------------------------------------
dockerd_stop "$T"
left=""
[ -n "$(our_pids "$T/")" ] && left="$left processes:$(our_pids "$T/" | tr '\n' ' ')"
[ -n "$(awk -v t="$T/" 'index($5, t) == 1' /proc/self/mountinfo)" ] && left="$left mounts"
[ -n "$(new_cgroups "$CGPARENT")" ] && left="$left cgroups"
ip link show "$BRIDGE" > /dev/null 2>&1 && left="$left bridge $BRIDGE"
expect_eq "docker qemu: after the daemon's stop nothing is left (processes, mounts, cgroups, bridge)" "" "$left"
plan_done
