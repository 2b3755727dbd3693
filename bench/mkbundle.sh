#!/bin/sh
# mkbundle.sh OUTDIR [--runtime-name NAME] [--port P]
#
# Builds the OCI bundle used by the cold-start benchmark in OUTDIR:
#   OUTDIR/rootfs/   only /httpd (static) plus empty proc, dev, sys, tmp
#   OUTDIR/config.json   runtime-spec 1.1: runs "/httpd P" with RUNTIME_NAME=NAME,
#                        no terminal, read-only root, pid/ipc/uts/mount namespaces
#                        (no network namespace: the benchmark connects to
#                        127.0.0.1:P on the host), runc-spec-like mounts,
#                        3 capabilities, noNewPrivileges, no seccomp.
# httpd is built with "make -C bench" unless it is already up to date.
set -eu

usage() {
    echo "usage: $0 OUTDIR [--runtime-name NAME] [--port P]" >&2
    exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
out=""
name=unknown
port=8080
while [ $# -gt 0 ]; do
    case "$1" in
    --runtime-name) [ $# -ge 2 ] || usage; name=$2; shift 2 ;;
    --runtime-name=*) name=${1#*=}; shift ;;
    --port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
    --port=*) port=${1#*=}; shift ;;
    -h | --help) usage ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) [ -z "$out" ] || usage; out=$1; shift ;;
    esac
done
[ -n "$out" ] || usage

# Both values land in JSON unescaped, so keep them to safe characters.
case "$name" in
"" | *[!A-Za-z0-9._+-]*) echo "bad --runtime-name '$name' (allowed: A-Z a-z 0-9 . _ + -)" >&2; exit 2 ;;
esac
case "$port" in
"" | *[!0-9]*) echo "bad --port '$port'" >&2; exit 2 ;;
esac
if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    echo "bad --port '$port'" >&2
    exit 2
fi

make -s -C "$here" httpd >&2

mkdir -p "$out"
rm -rf "$out/rootfs"
mkdir -p "$out/rootfs/proc" "$out/rootfs/dev" "$out/rootfs/sys" "$out/rootfs/tmp"
cp "$here/httpd" "$out/rootfs/httpd"
chmod 0755 "$out/rootfs/httpd"

cat >"$out/config.json" <<JSON
{
  "ociVersion": "1.1.0",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": [ "/httpd", "$port" ],
    "env": [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "RUNTIME_NAME=$name"
    ],
    "cwd": "/",
    "capabilities": {
      "bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
      "effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
      "permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
    },
    "rlimits": [
      { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }
    ],
    "noNewPrivileges": true
  },
  "root": {
    "path": "rootfs",
    "readonly": true
  },
  "hostname": "cella-bench",
  "mounts": [
    {
      "destination": "/proc",
      "type": "proc",
      "source": "proc"
    },
    {
      "destination": "/dev",
      "type": "tmpfs",
      "source": "tmpfs",
      "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ]
    },
    {
      "destination": "/dev/pts",
      "type": "devpts",
      "source": "devpts",
      "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ]
    },
    {
      "destination": "/dev/shm",
      "type": "tmpfs",
      "source": "shm",
      "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ]
    },
    {
      "destination": "/dev/mqueue",
      "type": "mqueue",
      "source": "mqueue",
      "options": [ "nosuid", "noexec", "nodev" ]
    },
    {
      "destination": "/sys",
      "type": "sysfs",
      "source": "sysfs",
      "options": [ "nosuid", "noexec", "nodev", "ro" ]
    }
  ],
  "linux": {
    "resources": {
      "devices": [
        { "allow": false, "access": "rwm" }
      ]
    },
    "namespaces": [
      { "type": "pid" },
      { "type": "ipc" },
      { "type": "uts" },
      { "type": "mount" }
    ],
    "maskedPaths": [
      "/proc/acpi",
      "/proc/asound",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/proc/sched_debug",
      "/proc/scsi",
      "/sys/firmware"
    ],
    "readonlyPaths": [
      "/proc/bus",
      "/proc/fs",
      "/proc/irq",
      "/proc/sys",
      "/proc/sysrq-trigger"
    ]
  }
}
JSON
echo "$out"
