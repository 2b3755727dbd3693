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
# cella documents (/var/cache/cella is not in these) and the test harness's
# own directories (cella-it-*, cella-tests.*, cella-crun-suite).

ID_MARK="-$$-"
CELLA_REAL=$(readlink -f "$CELLA")

_host_procs() {
    local p exe cmd
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = $$ ] && continue
        exe=$(readlink "$p/exe" 2>/dev/null) || continue
        cmd=$(tr '\0' ' ' 2>/dev/null < "$p/cmdline")
        case "$exe" in
        "$CELLA_REAL" | "$WORK"/*) ;;
        # create, run and exec run from a sealed copy of cella (self_exe.h).
        *) case "$cmd" in
            *"$ROOT"* | *"$ID_MARK"*) ;;
            *) grep -qsF -- "$ID_MARK" "$p/cgroup" || continue ;;
            esac ;;
        esac
        # Our own shell's children (the suite's helpers) are not leaks.
        case "$cmd" in *reliab_lib* | *"$0"*) continue ;; esac
        echo "process ${p#/proc/} $exe: $cmd"
    done
}

host_snapshot() {
    {
        ls -1 "$ROOT" 2>/dev/null | sed 's/^/state /'
        find /sys/fs/cgroup -maxdepth 6 -type d -name "*$ID_MARK*" 2>/dev/null | sed 's/^/cgroup /'
        awk '{print $5, $10}' /proc/self/mountinfo | grep -F -e "$WORK" -e "$ROOT" -e "$ID_MARK" |
            sed 's/^/mount /'
        ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^cella[0-9]/ {print "tap " $2}'
        tc qdisc show 2>/dev/null | grep -E 'dev cella[0-9]' | sed 's/^/qdisc /'
        ls -1d /tmp/*cella* /run/*cella* /var/run/*cella* /dev/shm/*cella* /run/cella/* \
            2>/dev/null | grep -vE '/(cella-it-|cella-tests\.|cella-crun-suite|cella-bench)' | sed 's/^/file /'
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
