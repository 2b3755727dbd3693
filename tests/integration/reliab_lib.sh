# Helpers sourced by the reliability suites (test_leaks, test_load,
# test_faults; after lib.sh): what the host holds, snapshotted before and
# compared after, so that a suite can say that N lifecycles left nothing.
#
#   host_snapshot FILE     what this test file could have left on the host
#   host_leftovers FILE    prints what is there now and was not in FILE
#   assert_host_clean NAME FILE   ok when host_leftovers prints nothing
#   fd_count PID / rss_kb PID     of a long-lived process
#
# Only what is this test file's is looked at (other suites may run beside
# it): cgroups, states, mounts and processes named by its ids (newid's
# `-$$-`), its $ROOT or $WORK, or run from $CELLA or a rootfs under $WORK;
# tap devices and ingress qdiscs named cellaN (the VM levels' taps); files in
# /tmp, /run, /var/run and /dev/shm whose name says cella, less the caches
# cella documents (/var/cache/cella is not in these) and the test harnesses'
# own (cella-it-*, cella-tests.*, cella-crun-suite, cella-bench*, and any
# mktemp name cella-WORD.XXXXXX: other suites' work directories).

ID_MARK="-$$-"
CELLA_REAL=$(readlink -f "$CELLA")

# One pass over /proc in one process (a shell loop forks per pid: seconds).
_host_procs() {
    /usr/bin/python3 -S - "$$" "$CELLA_REAL" "$WORK" "$ROOT" "$ID_MARK" "$0" <<'PYEOF'
import os, sys
me, cella, work, root, mark, script = sys.argv[1:]
def read(p):
    try:
        with open(p, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return None
for pid in os.listdir("/proc"):
    if not pid.isdigit() or pid == me or pid == str(os.getpid()):
        continue
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        continue
    cmd = (read(f"/proc/{pid}/cmdline") or "").replace("\0", " ")
    # create, run and exec run from a sealed copy of cella (self_exe.h):
    # those are known by their command line or cgroup.
    ours = exe == cella or exe.startswith(work + "/") or root in cmd or mark in cmd or \
        mark in (read(f"/proc/{pid}/cgroup") or "")
    # The suite's own shell and its helpers are not leaks.
    if ours and "reliab_lib" not in cmd and script not in cmd:
        print(f"process {pid} {exe}: {cmd}")
PYEOF
}

host_snapshot() {
    {
        ls -1 "$ROOT" 2>/dev/null | sed 's/^/state /'
        find /sys/fs/cgroup -maxdepth 6 -type d -name "*$ID_MARK*" 2>/dev/null | sed 's/^/cgroup /'
        awk '{print $5, $10}' /proc/self/mountinfo | grep -F -e "$WORK" -e "$ROOT" -e "$ID_MARK" |
            sed 's/^/mount /'
        ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^cella[0-9]/ {print "tap " $2}'
        tc qdisc show 2>/dev/null | grep -E 'dev cella[0-9]' | sed 's/^/qdisc /'
        # /run/cella is cella's default --root: what is there is other users'
        # containers, unless named by this suite's ids.
        ls -1d /tmp/*cella* /run/*cella* /var/run/*cella* /dev/shm/*cella* /run/cella/*"$ID_MARK"* \
            2>/dev/null | grep -vE '/(cella-it-|cella-tests\.|cella-crun-suite|cella-bench|cella-[a-z-]+\.[A-Za-z0-9]{6}$)' | sed 's/^/file /'
        _host_procs
    } | sort -u
}

host_leftovers() {
    local before=$1
    comm -13 "$before" <(host_snapshot)
}

# assert_host_clean NAME BEFORE: what is left may lag a moment after a kill
# (a cgroup's last task, a reaped process): polled, bounded.
assert_host_clean() {
    local name=$1 before=$2 left i
    for ((i = 0; i < 30; i++)); do
        left=$(host_leftovers "$before")
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -z "$left" ]; then ok "$name"; else not_ok "$name" "$left"; fi
}

fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# wait_status ID STATUS: `cella state` says STATUS (bounded, 10 s).
wait_status() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(state_field "$1" status)" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
