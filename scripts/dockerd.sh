#!/bin/bash
# A private dockerd with cella's levels registered as runtimes: its own data
# root, exec root, pidfile, socket and cgroup parent under DIR, never the
# system's. Used by `cella bench --engine docker` and sourced by the tests
# that drive Docker (tests/integration/engine.sh).
#
#   dockerd.sh start DIR CELLA   start it; DIR/env then holds (shell syntax)
#                                SOCK, NET (a user bridge network with a subnet
#                                of its own, so containers can be given --ip),
#                                SUBNET, BRIDGE, CGPARENT, and IP, MAC: an
#                                address for one container at a time, with a
#                                permanent neighbour entry on the bridge (a
#                                client then never waits for ARP to time out
#                                while the container is starting); on failure one line
#                                on stderr saying why, nothing left, status 1
#   dockerd.sh stop DIR          remove its containers and network, stop it,
#                                remove everything it left (processes, mounts,
#                                cgroups, the bridge, the system directories
#                                dockerd created)
#
# The daemon: `iptables: false`, `ip-masq: false`, no default bridge, so
# dockerd adds no firewall rule; -p is served by docker-proxy. dockerd 20.10
# needs nothing more on a hybrid cgroup v1+v2 host (it picks cgroupfs on v1).
# cella-LEVEL names are symlinks to CELLA in DIR, with the qemu level's kernel
# and initramfs beside them (it finds them next to the binary it runs as).
#
# Sourced (not run), it only defines the functions, and the helpers below.

# our_pids DIR: processes whose command line names DIR.
our_pids() {
    local p
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = $$ ] && continue
        grep -qaF "$1" "$p/cmdline" 2> /dev/null && echo "${p#/proc/}"
    done
}

# kill_ours DIR: SIGKILL them (what outlived the engine's shutdown).
kill_ours() {
    local pids _
    for _ in 1 2 3 4 5; do
        pids=$(our_pids "$1")
        [ -z "$pids" ] && return 0
        # shellcheck disable=SC2086
        kill -9 $pids 2> /dev/null
        sleep 0.2
    done
}

# umount_under DIR: lazy-unmount everything mounted below DIR.
umount_under() {
    awk -v t="$1" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" 2> /dev/null; done
}

# new_cgroups NAME: the cgroup directories NAME that exist now (one a line).
new_cgroups() {
    local d
    for d in /sys/fs/cgroup/"$1" /sys/fs/cgroup/*/"$1"; do
        [ -d "$d" ] && echo "$d"
    done
}

# rm_cgroups NAME: remove the cgroup trees NAME (deepest first, while empty).
rm_cgroups() {
    local d
    for d in $(new_cgroups "$1"); do
        find "$d" -depth -type d -exec rmdir {} \; 2> /dev/null
    done
}

# wait_until SECS CMD...: polls CMD every 0.1 s until it succeeds (1 on timeout).
wait_until() {
    local secs=$1 _
    shift
    for _ in $(seq $((secs * 10))); do
        "$@" > /dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# Debian's client matches its daemon; another docker on PATH may be newer.
_dockerd_client() {
    if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else command -v docker; fi
}

# dockerd_tag DIR: what names the daemon's bridge (cdkTAG), network
# (cella-net-TAG) and cgroup parent (cella-docker-TAG): the checksum of DIR,
# short (an interface name has at most 15 characters) and known to whoever
# knows DIR.
dockerd_tag() {
    printf '%s' "$1" | cksum | cut -d' ' -f1
}

# dockerd_start DIR CELLA: 0, or 1 with the reason on stderr and nothing left.
dockerd_start() {
    local T=$1 cella=$2 dockerd docker cdir l f tag subnet
    dockerd=$(command -v dockerd) || {
        echo "dockerd not installed (apt-get install docker.io)" >&2
        return 1
    }
    docker=$(_dockerd_client) || {
        echo "docker client not installed (apt-get install docker.io)" >&2
        return 1
    }
    mkdir -p "$T" || return 1
    T=$(cd "$T" && pwd)
    tag=$(dockerd_tag "$T")
    cat > "$T/env" << EOF
DOCKER=$docker
SOCK=$T/docker.sock
NET=cella-net-$tag
BRIDGE=cdk$tag
CGPARENT=cella-docker-$tag
EOF
    # shellcheck disable=SC1091
    . "$T/env"
    : > "$T/new-dirs"
    for f in /run/docker /var/lib/docker /etc/docker /run/containerd; do
        [ -e "$f" ] || echo "$f" >> "$T/new-dirs"
    done
    cdir=$(dirname "$cella")
    for l in qemu wasm sandbox vm; do ln -sf "$cella" "$T/cella-$l"; done
    for f in vmlinux cella-agent.cpio; do
        for l in "$cdir" "$cdir/../lib/cella"; do
            if [ -e "$l/$f" ]; then
                ln -sf "$(readlink -f "$l/$f")" "$T/$f"
                break
            fi
        done
    done
    cat > "$T/daemon.json" << EOF
{
  "runtimes": {
    "cella": {"path": "$cella"},
    "cella-qemu": {"path": "$T/cella-qemu"},
    "cella-wasm": {"path": "$T/cella-wasm"},
    "cella-sandbox": {"path": "$T/cella-sandbox"},
    "cella-vm": {"path": "$T/cella-vm"}
  },
  "data-root": "$T/data",
  "exec-root": "$T/exec",
  "pidfile": "$T/docker.pid",
  "hosts": ["unix://$SOCK"],
  "cgroup-parent": "/$CGPARENT",
  "storage-driver": "vfs",
  "iptables": false,
  "ip-masq": false,
  "bridge": "none",
  "deprecated-key-path": "$T/key.json",
  "log-driver": "json-file"
}
EOF
    setsid "$dockerd" --config-file "$T/daemon.json" > "$T/dockerd.log" 2>&1 < /dev/null &
    if ! wait_until 30 "$docker" -H "unix://$SOCK" version; then
        echo "dockerd did not start: $(grep -a -m1 -i 'level=fatal\|failed to start' "$T/dockerd.log" ||
            tail -n1 "$T/dockerd.log")" >&2
        dockerd_stop "$T"
        return 1
    fi
    # A subnet dockerd picks (it avoids the host's routes), then given back
    # explicitly: only a network with a configured subnet takes --ip.
    if "$docker" -H "unix://$SOCK" network create "$NET" > /dev/null 2>&1; then
        subnet=$("$docker" -H "unix://$SOCK" network inspect -f '{{(index .IPAM.Config 0).Subnet}}' "$NET" 2> /dev/null)
        "$docker" -H "unix://$SOCK" network rm "$NET" > /dev/null 2>&1
    fi
    if [ -z "${subnet:-}" ] || ! "$docker" -H "unix://$SOCK" network create --subnet "$subnet" \
        -o com.docker.network.bridge.name="$BRIDGE" "$NET" > /dev/null 2>&1; then
        echo "docker network create failed (no bridge network for -p)" >&2
        dockerd_stop "$T"
        return 1
    fi
    local ip mac a b c
    IFS=. read -r a b c _ <<< "${subnet%/*}"
    ip=$a.$b.$c.2
    mac=$(printf '02:42:%02x:%02x:%02x:02' "$a" "$b" "$c")
    ip neigh replace "$ip" lladdr "$mac" dev "$BRIDGE" nud permanent 2> /dev/null
    printf 'SUBNET=%s\nIP=%s\nMAC=%s\n' "$subnet" "$ip" "$mac" >> "$T/env"
    return 0
}

# dockerd_stop DIR: everything dockerd_start made is gone afterwards.
dockerd_stop() {
    local T=$1 pid d
    [ -f "$T/env" ] || return 0
    # shellcheck disable=SC1091
    . "$T/env"
    pid=$(cat "$T/docker.pid" 2> /dev/null)
    if [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; then
        timeout -k 5 60 "$DOCKER" -H "unix://$SOCK" ps -aq 2> /dev/null |
            xargs -r timeout -k 5 60 "$DOCKER" -H "unix://$SOCK" rm -f > /dev/null 2>&1
        timeout -k 5 60 "$DOCKER" -H "unix://$SOCK" network rm "$NET" > /dev/null 2>&1
        kill -TERM "$pid"
        wait_until 30 sh -c "! kill -0 $pid" || kill -9 "$pid"
    fi
    kill_ours "$T/"
    ip link del "$BRIDGE" 2> /dev/null
    umount_under "$T/"
    rm_cgroups "$CGPARENT"
    while read -r d; do rm -rf "$d"; done < "$T/new-dirs"
    return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case ${1:-}:$# in
    start:3) dockerd_start "$2" "$3" ;;
    stop:2) dockerd_stop "$2" ;;
    *)
        echo "usage: $0 start DIR CELLA | stop DIR" >&2
        exit 2
        ;;
    esac
fi
