#!/bin/bash
# The vm level's network: virtio-net on the tap vmhost makes in the network
# namespace the spec names (as at the qemu level). Inside the nested-SVM TCG
# guest (vm_lib.sh): a namespace with one end of a veth at 10.213.0.2, the
# bench's HTTP server run in a cella-vm VM in it (the guest takes over that
# address and MAC), and an HTTP request from the TCG guest's root namespace
# (10.213.0.1) answered by the server inside the VM.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vm_lib.sh"

HTTPD=$BUILD_DIR/cella-bench-httpd
[ -x "$HTTPD" ] || HTTPD=$REPO_ROOT/build/cella-bench-httpd
why=$(vm_nested_why)
[ -n "$why" ] || [ -x "$HTTPD" ] || why="no build/cella-bench-httpd (make)"
[ -n "$why" ] || command -v tc > /dev/null || why="no tc (apt-get install iproute2)"
if [ -n "$why" ]; then
    skip "the vm level's virtio-net under nested SVM" "$why"
    plan_done
    exit 0
fi

L1=$WORK/l1
# tun (the tap), veth (the namespace's wire), the ingress qdisc, u32 and
# mirred (tap.c's redirects).
vm_l1_make tun veth sch_ingress cls_u32 act_mirred
vm_l1_copy "$(command -v tc)" bin/tc # cella runs the first tc on PATH
vm_l1_copy "$(command -v ip)" sbin/ip
H=$WORK/httpd
make_bundle "$H"
cp "$HTTPD" "$H/rootfs/httpd"
cfg "$H" "c['process']['args']=['/httpd','8080']" "c['process']['env']=['RUNTIME_NAME=vm']" \
    "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='network']" \
    "c['linux']['namespaces'].append({'type':'network','path':'/run/netns/vmn'})"
cp -a "$H" "$L1/httpd"
cfg "$H" "c['annotations']={'run.cella.vm.eventfds':'off'}"
cp -a "$H" "$L1/httpd-off"
{
    vm_l1_init_head
    cat <<'EOI'
# iproute2's ip by its path: busybox's sh runs its own applets first
# (and busybox 1.35's wget without -T, which crashes it: timeout instead).
{ /sbin/ip link set lo up && /sbin/ip netns add vmn && /sbin/ip link add va type veth peer name vb &&
    /sbin/ip link set vb netns vmn && /sbin/ip addr add 10.213.0.1/24 dev va && /sbin/ip link set va up &&
    /sbin/ip -n vmn link set lo up && /sbin/ip -n vmn addr add 10.213.0.2/24 dev vb &&
    /sbin/ip -n vmn link set vb up && /sbin/ip -n vmn route add default via 10.213.0.1; } 2> /tmp/nserr
check "a network namespace with a veth (10.213.0.1 here, 10.213.0.2 there)" ||
    sed 's/^/VMTEST   ip: /' /tmp/nserr
mac=$(/sbin/ip -n vmn -br link show vb | awk '{print $3}')
mkdir -p /tmp/w && head -c 300000 /dev/zero > /tmp/w/big && httpd -p 10.213.0.1:9002 -h /tmp/w
# serve ID BUNDLE LABEL PATH: the checks for one VM whose data path --debug
# names as PATH.
serve() {
local id=$1 bundle=$2 label=$3 path=$4 started="" t0 i out got n
t0=$(up)
c --debug --isolation vm run -d --bundle $bundle $id > /dev/null 2> /tmp/err < /dev/null
check "run --detach of the HTTP server in the namespace ($label)" && started=1 || dump $id
grep -q "vm level: queue notifies by $path" /run/cella/$id/console.log
check "--debug names the data path ($label)" || grep 'queue notifies' /run/cella/$id/console.log | sed 's/^/VMTEST   /'
pid=$(c state $id | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$')
[ -n "$pid" ] && [ -z "$(grep -L '^Seccomp:[[:space:]]*2$' /proc/$pid/task/*/status)" ]
check "every VMM thread under its seccomp filter ($label)"
i=0
while [ $i -lt 60 ] && ! timeout 3 wget -q -O /tmp/body http://10.213.0.2:8080/ 2> /tmp/wget; do
    i=$((i + 1)); sleep 0.1
done
echo "VMTEST figure: run -d to the first HTTP answer ($label) $(echo "$(up) $t0" | awk '{print $1 - $2}') s"
[ "$(cat /tmp/body 2> /dev/null)" = "hello from vm" ]
check "an HTTP request from the TCG guest reaches the server in the VM through virtio-net ($label)" || {
    dump $id
    c exec $id sh -c 'cat /proc/interrupts /proc/net/dev; ip neigh; ps' 2>&1 | sed 's/^/VMTEST   guest: /'
    { cat /tmp/wget; /sbin/ip addr; /sbin/ip route; /sbin/ip neigh; ping -c 1 -W 2 10.213.0.2;
      /sbin/ip -s link show va; /sbin/ip -n vmn -s link; } 2>&1 | sed 's/^/VMTEST   L1: /'
}
rm -f /tmp/body
out=$(timeout 20 wget -q -O - http://10.213.0.2:8080/ 2>&1)
[ "$out" = "hello from vm" ]; check "a second request on a new connection ($label)" || echo "VMTEST   got: $out"
/bin/tc -n vmn qdisc show dev vb | grep -q ingress
check "the namespace's interface is redirected to the tap ($label)"
got=$(c exec $id cat /sys/class/net/eth0/address 2> /tmp/err)
[ -n "$mac" ] && [ "$got" = "$mac" ]
check "the guest's eth0 has the namespace interface's MAC (VIRTIO_NET_F_MAC) ($label)" ||
    echo "VMTEST   eth0 $got, vb $mac"
got=$(c exec $id ip -o addr show eth0 2> /tmp/err)
echo "$got" | grep -q '10.213.0.2/24'
check "the agent gave eth0 the namespace interface's address ($label)" || echo "VMTEST   $got"
# Many frames each way: 300000 bytes from busybox's httpd in the VM (its
# transmit queue) and from the one here (its receive queue).
c exec $id sh -c 'mkdir -p /tmp/w && head -c 300000 /dev/zero > /tmp/w/big && httpd -p 9001 -h /tmp/w' \
    2> /tmp/err
n=$(timeout 20 wget -q -O - http://10.213.0.2:9001/big | wc -c)
[ "$n" = 300000 ]; check "300000 bytes over HTTP from the VM ($label)" || echo "VMTEST   got $n bytes"
n=$(c exec $id sh -c 'timeout 20 wget -q -O - http://10.213.0.1:9002/big | wc -c' 2> /tmp/err)
[ "$n" = 300000 ]; check "300000 bytes over HTTP into the VM ($label)" || echo "VMTEST   got $n bytes"
[ -n "$started" ] && c delete --force $id 2> /tmp/err && [ ! -e /run/cella/$id ]
check "delete --force of the VM: nothing left ($label)" || dump $id
[ -n "$started" ] && [ -z "$(/bin/tc -n vmn qdisc show dev vb | grep ingress; /sbin/ip -n vmn -br link | grep cella)" ]
check "the namespace's interface is given back (no redirect, no tap) ($label)"
}
serve h1 /httpd "ioeventfd, irqfd" "ioeventfd (the I/O thread), device interrupts by irqfd"
# The fallback, as a KVM without ioeventfd and irqfd would run it, under
# the same seccomp filters.
serve h2 /httpd-off "MMIO exits, KVM_IRQ_LINE" \
    "MMIO exits (the vCPU threads), device interrupts by KVM_IRQ_LINE"
echo "VMTEST done"
poweroff -f
EOI
} > "$L1/init"
vm_l1_boot
plan_done
