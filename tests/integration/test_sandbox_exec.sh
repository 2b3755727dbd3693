#!/bin/bash
# `cella exec` at the sandbox level: the process runs inside the sandbox, a
# sandbox process served by the same kernel (never a host process beside
# it), with the request's args, env and cwd and the caller's stdio; exec
# waits for it and exits with its code. Each check runs the same exec at
# the container level too where the two should agree (exit codes, env,
# cwd, getppid 0, the refusal of a stopped container).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sandbox_lib.sh"

sandbox_bundle "sandbox exec" busybox
# Host network, for the server below.
cfg "$B" "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='network']" \
    "c['process']['env'].append('FROM_SPEC=spec')"
printf '#!/bin/sh\necho script\n' > "$B/rootfs/bin/script.sh"
chmod +x "$B/rootfs/bin/script.sh"

# run_bg LEVEL ID ARGS...: `run -d` of ARGS at LEVEL.
run_bg() {
    local level=$1 id=$2
    shift 2
    setargs "$@"
    cella --isolation "$level" run -d --bundle "$B" "$id" > /dev/null 2> "$WORK/serr" < /dev/null
}
# x [OPTIONS] ID ARGS...: `cella exec ...`; $out (stdout), $rc, $WORK/xerr.
x() {
    out=$(cella exec "$@" 2> "$WORK/xerr" < /dev/null)
    rc=$?
}
up() { [ -f "$B/rootfs/tmp/up.$1" ]; }

# The init waits for a file an exec writes, and copies it where the test
# reads it: what an exec'd process writes, the first process sees.
sid=$(newid sb)
run_bg sandbox "$sid" /bin/busybox sh -c 'echo > /tmp/up.sb; while [ ! -f /tmp/from-exec ]; do sleep 0.1; done; cat /tmp/from-exec > /tmp/seen; exec sleep 1000'
check "the sandbox's init runs" wait_for 100 up sb
cid=$(newid ct)
run_bg container "$cid" /bin/busybox sh -c 'echo > /tmp/up.ct; exec sleep 1000'
check "the container level's init runs" wait_for 100 up ct

x "$sid" /bin/busybox echo hello from exec
expect_eq "exec busybox echo: its output, exit 0" "hello from exec 0" "$out $rc"

# same NAME 'OPTIONS' ARGS...: the same exec at both levels, the same
# stdout and exit code.
same() {
    local name=$1 opts=$2 sout srcs
    shift 2
    # shellcheck disable=SC2086
    x $opts "$sid" "$@"
    sout="$out" srcs=$rc
    # shellcheck disable=SC2086
    x $opts "$cid" "$@"
    if [ "$sout/$srcs" = "$out/$rc" ]; then
        ok "$name"
    else
        not_ok "$name" "sandbox: $sout (exit $srcs)" "container: $out (exit $rc)"
    fi
}
same "exec's exit code (sh -c 'exit 7')" "" /bin/busybox sh -c 'exit 7'
same "exec killed by a signal: 128 + TERM" "" /bin/busybox sh -c 'kill -TERM $$'
same "exec's environment: the spec's and --env" "--env FOO=bar" /bin/busybox sh -c 'echo $FOO $FROM_SPEC $PATH'
same "exec --cwd" "--cwd /etc" /bin/busybox pwd
# runc 1.1 looks args[0] up after its chdir (setns_init_linux.go): a path
# with a slash is from the cwd (cella's container level takes it from /).
x --cwd /bin "$sid" ./busybox echo relative
expect_eq "exec of a relative path with a slash: from the cwd, as runc's exec" "relative 0" "$out $rc"
same "an exec'd process has no parent in the pid namespace (getppid 0)" "" /bin/busybox sh -c 'echo $PPID'
same "stdin is the caller's" "" /bin/busybox cat
out=$(echo "piped in" | cella exec "$sid" /bin/busybox cat 2>&1)
expect_eq "exec reads the caller's stdin" "piped in" "$out"
x "$sid" /bin/busybox sh -c 'echo to-stderr >&2; echo to-stdout'
expect_eq "exec writes the caller's stdout and stderr" "to-stdout/to-stderr" "$out/$(cat "$WORK/xerr")"

x "$sid" /bin/busybox sh -c 'echo written by exec > /tmp/from-exec'
seen() { [ -s "$B/rootfs/tmp/seen" ]; }
check "a file an exec writes is seen by the init" wait_for 100 seen
expect_eq "... with its contents" "written by exec" "$(cat "$B/rootfs/tmp/seen")"

out=$(cella exec "$sid" /bin/busybox cat /proc/1/cmdline 2>&1 | tr '\0' ' ')
expect_eq "exec sees the init in the sandbox's /proc (/proc/1/cmdline)" "sleep 1000 " "$out"
x "$sid" /bin/busybox ps
pids=$(printf '%s\n' "$out" | awk 'NR > 1 {print $1, $3}' | tr '\n' ' ')
expect_match "exec's ps lists the init (pid 1) and itself, sandbox pids" '^1 sleep [0-9]+ (\{ps\} )?/bin/busybox $' "$pids"

# A missing program, one not on PATH, one that cannot run: one line, 127 / 126.
x "$sid" /nonexistent
expect_eq "exec of a missing program: exit 127" 127 "$rc"
expect_eq "... one line naming it" "cella: exec: \`/nonexistent\`: No such file or directory" "$(cat "$WORK/xerr")"
x "$sid" nonexistent
expect_eq "exec of a name not on PATH: exit 127, one line" \
    "127 cella: exec: \`nonexistent\` not found in \$PATH of the sandbox" "$rc $(cat "$WORK/xerr")"
x "$sid" /etc
expect_eq "exec of a directory: exit 126" 126 "$rc"
expect_eq "... one line" 1 "$(grep -c . "$WORK/xerr")"
x "$sid" /bin/script.sh
expect_eq "exec of a script (the kernel runs ELF executables only): exit 126, one line" \
    "126 1" "$rc $(grep -c . "$WORK/xerr")"
x --cwd /nonexistent "$sid" /bin/busybox true
expect_eq "exec with a missing cwd fails with one line" \
    "255 cella: exec: cwd \`/nonexistent\` in the sandbox: No such file or directory" "$rc $(cat "$WORK/xerr")"
x --user 1000:1000 "$sid" /bin/busybox id
expect_match "exec as another user is refused (one line)" \
    '^255 cella: exec: user 1000:1000: the sandbox level runs every process as the container.s user \(0:0\)$' \
    "$rc $(cat "$WORK/xerr")"
x --tty "$sid" /bin/busybox true
expect_eq "exec --tty is refused (one line)" "255 cella: exec --tty: not supported by the sandbox level yet" \
    "$rc $(cat "$WORK/xerr")"

# The signals the waiting command gets go to the exec'd process (runc's
# exec passes them on too): a trap's own exit code.
"$CELLA" --root "$ROOT" exec "$sid" /bin/busybox sh -c 'trap "exit 5" TERM; echo > /tmp/trapped; while :; do sleep 0.1; done' < /dev/null > /dev/null 2>&1 &
xp=$!
trapped() { [ -f "$B/rootfs/tmp/trapped" ]; }
check "an exec'd shell sets its trap" wait_for 100 trapped
kill -TERM $xp
wait $xp
expect_eq "TERM to the exec command reaches the process: its trap exits 5" 5 "$?"

# No leak: after many execs the kernel has its first process only (the
# sandbox's /proc), the same host children (the zygote and the init's
# stub) and the same descriptors.
kpid=$(state_field "$sid" pid)
children() { wc -w < "/proc/$kpid/task/$kpid/children"; }
fds() { ls "/proc/$kpid/fd" | wc -l; }
c0=$(children) f0=$(fds)
n=0
for i in $(seq 30); do
    x "$sid" /bin/busybox sh -c "exit $((i % 3))"
    [ "$rc" = $((i % 3)) ] && n=$((n + 1))
done
expect_eq "30 execs in a row, each with its exit code" 30 "$n"
x "$sid" /bin/busybox ls /proc
expect_eq "... then the sandbox's processes: the init and this ls" 2 "$(printf '%s\n' "$out" | grep -c '^[0-9][0-9]*$')"
expect_eq "... the kernel's host children: the zygote and the init's stub, as before" "$c0 2" "$(children) $c0"
expect_eq "... the kernel's descriptors, as before" "$f0" "$(fds)"

# exec -d returns at once; --pid-file names a host process that ends as
# the exec'd one does (the exec's own stub is the kernel's child, which a
# shim cannot wait for): this command, or for -d a stand-in child of it.
x -d "$sid" /bin/busybox sh -c 'sleep 0.3; echo detached > /tmp/detached'
expect_eq "exec -d returns 0 at once" "0" "$rc"
det() { [ -s "$B/rootfs/tmp/detached" ]; }
check "... and its process runs on" wait_for 100 det
"$CELLA" --root "$ROOT" exec --pid-file "$WORK/fg.pid" "$sid" /bin/busybox sh -c 'read l' < /dev/null &
fg=$!
wait $fg
expect_eq "exec --pid-file names the exec command itself in the foreground" "$fg" "$(cat "$WORK/fg.pid" 2>&1)"
# (not in $(...): the stand-in holds the exec's stdout, as the process does)
cella exec -d --pid-file "$WORK/d.pid" "$sid" /bin/busybox sh -c 'while [ ! -f /tmp/go ]; do sleep 0.1; done' > /dev/null 2>&1 < /dev/null
sp=$(cat "$WORK/d.pid" 2>/dev/null)
check "exec -d --pid-file: a host process (the stand-in) runs while the exec'd one does" test -n "$sp" -a -d "/proc/$sp"
touch "$B/rootfs/tmp/go"
gone() { [ ! -d "/proc/$sp" ] || grep -q '^State:.*Z' "/proc/$sp/status"; }
check "... and ends with it" wait_for 100 gone

# Exec while the init serves: busybox nc listens (parked in accept, the
# kernel asleep in the host's poll) and an exec'd nc talks to it.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P=$(free_port)
nid=$(newid srv)
run_bg sandbox "$nid" /bin/busybox sh -c "echo > /tmp/up.srv; nc -l -p $P > /tmp/got; echo > /tmp/served; exec sleep 1000"
check "a sandbox serving on a port runs" wait_for 100 up srv
listening() { ss -Hltn "sport = :$P" | grep -q LISTEN; }
check "... listening" wait_for 100 listening
x "$nid" /bin/busybox echo while serving
expect_eq "exec while the init waits in accept" "while serving 0" "$out $rc"
x "$nid" /bin/busybox sh -c "echo ping | nc 127.0.0.1 $P"
served() { [ -f "$B/rootfs/tmp/served" ]; }
check "an exec'd client reaches the init's server" wait_for 100 served
expect_eq "... which got its bytes" "ping" "$(cat "$B/rootfs/tmp/got" 2>&1)"

# The init's end ends the exec'd processes: a waiting exec exits 137.
"$CELLA" --root "$ROOT" exec "$nid" /bin/busybox sleep 100 < /dev/null > /dev/null 2>&1 &
xp=$!
asleep() { cella exec "$nid" /bin/busybox ps 2> /dev/null | grep -q 'sleep 100'; }
check "an exec'd sleep runs" wait_for 100 asleep
cella kill "$nid" KILL
wait $xp
expect_eq "... and when the sandbox is killed, its exec exits 137" 137 "$?"

# A stopped container, a created one: refused as at the container level.
for lvl in sandbox container; do
    id=$(newid "st$lvl")
    run_bg $lvl "$id" /bin/busybox true
    stopped() { [ "$(state_field "$id" status)" = stopped ]; }
    check "a $lvl container that ended is stopped" wait_for 100 stopped
    fails "exec into a stopped container ($lvl level)" - "^cella: cannot exec in container \`$id\`: it is stopped$" \
        cella exec "$id" /bin/busybox true
    cella delete "$id" 2> /dev/null
done
id=$(newid created)
setargs /bin/busybox true
cella --isolation sandbox create --bundle "$B" "$id" > /dev/null 2>&1 < /dev/null
fails "exec into a created sandbox (its kernel starts with start)" - \
    "^cella: cannot exec in container \`$id\`: it is created" cella exec "$id" /bin/busybox true
cella delete -f "$id" 2> /dev/null

for id in "$sid" "$cid" "$nid"; do
    cella delete -f "$id" 2> /dev/null
    assert_clean "nothing is left of $id" "$id"
done
plan_done
