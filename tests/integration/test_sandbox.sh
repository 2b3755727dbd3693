#!/bin/bash
# The sandbox level: cella's own kernel serves the workload's system calls.
# A static C probe (tests/sandbox/probe.c, musl-gcc -static) and
# busybox-static applets run from an OCI bundle; the pid the workload sees is
# the sandbox's even through a raw `syscall` instruction, unimplemented calls
# are ENOSYS (and listed with --debug), `..` stops at the root, and nothing is
# left behind.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sandbox_lib.sh"

sandbox_bundle "sandbox level" busybox
echo "a file in the rootfs" > "$B/rootfs/etc/msg"
echo "the host's secret" > "$B/secret" # beside the rootfs, outside the sandbox
cfg "$B" "c['hostname']='sandboxed'"

# srun NAME ARGS...: `cella --isolation sandbox run` of ARGS in a new container;
# stdout in $out, exit code in $rc, stderr in $WORK/serr.

id=$(newid hello)
srun "$id" /bin/probe hello
expect_eq "a static C program runs (stdout)" "hello from the sandbox" "$out"
expect_eq "... and exits 0" 0 "$rc"
assert_clean "nothing left after run" "$id"

srun "$(newid exit)" /bin/probe exit 42
expect_eq "the exit code is the workload's" 42 "$rc"

srun "$(newid partial)" /bin/probe partial /etc/msg
expect_eq "read into a partly mapped buffer stops at the hole (EFAULT when nothing fits)" \
    "read 5, then -1 Bad address" "$out"

cp /bin/ls "$B/rootfs/bin/dynamic"
srun "$(newid exec)" /bin/probe exec /bin/busybox echo replaced
expect_eq "execve replaces the program (busybox echo)" "replaced" "$out"
srun "$(newid exec)" /bin/probe exec /bin/probe exit 5
expect_eq "... and its exit code is the new program's" 5 "$rc"
srun "$(newid exec)" /bin/probe exec /bin/probe exec /bin/probe hello
expect_eq "... twice" "hello from the sandbox" "$out"
srun "$(newid sh)" /bin/busybox sh -c 'echo a shell builtin; exit 3'
expect_eq "busybox sh runs a builtin" "a shell builtin" "$out"
expect_eq "... and exits with its code" 3 "$rc"
srun "$(newid sh)" /bin/busybox sh -c 'exec cat /etc/msg'
expect_eq "busybox sh execs an applet" "a file in the rootfs" "$out"
srun "$(newid sh)" /bin/busybox sh -c 'echo written > /tmp/out; read x < /tmp/out; echo "read back: $x"; echo to stderr >&2'
expect_eq "busybox sh redirections: a file written and read back (open, dup2, fcntl, poll)" "read back: written" "$out"
expect_eq "... the file is in the rootfs" "written" "$(cat "$B/rootfs/tmp/out" 2>&1)"
expect_eq "... >&2 reaches stderr" "to stderr" "$(cat "$WORK/serr")"
srun "$(newid sh)" /bin/busybox sh -c 'cd /etc && pwd && read l < msg && echo "$l"; cd ../bin/..; pwd; test -r /etc/msg && echo readable; test -x /etc/msg || echo not executable; cd /nonexistent 2>/dev/null || echo no such dir'
expect_eq "busybox sh: cd, pwd, relative paths, test -r/-x" "/etc
a file in the rootfs
/
readable
not executable
no such dir" "$out"
id=$(newid fork)
srun "$id" /bin/busybox sh -c 'cat /etc/msg; echo "status $?"; false; echo "false: $?"; (cd /etc; pwd); pwd; /bin/probe exit 7; echo "probe: $?"'
expect_eq "busybox sh runs commands in forked processes (fork, execve, wait4; a subshell's cd stays in it)" \
    "a file in the rootfs
status 0
false: 1
/etc
/
probe: 7" "$out"
assert_clean "... and nothing is left" "$id"
srun "$(newid fork)" /bin/busybox sh -c '/bin/probe rawpid; echo "the shell: $$"'
expect_eq "a forked process has the sandbox's next pid" "pid 2 tid 2
the shell: 1" "$out"
srun "$(newid fork)" /bin/busybox sh -c 'i=0; while [ $i -lt 100 ]; do /bin/busybox true || exit 1; i=$((i+1)); done; echo "$i forks"'
expect_eq "100 forks in a row (more than the kernel's 64 processes at once: the ended are reaped)" "100 forks" "$out"
srun "$(newid fork)" /bin/busybox sh -c '/bin/probe segv; echo "segv: $?"'
expect_eq "a child killed by a fault: its parent sees the signal" "segv: 139" "$out"
id=$(newid pipe)
srun "$id" /bin/busybox sh -c 'ls /etc | sort -r | tr a-z A-Z'
expect_eq "a pipeline: ls | sort | tr (pipes between forked processes)" "PASSWD MSG GROUP" "$(echo $out)"
assert_clean "... and nothing is left" "$id"
srun "$(newid pipe)" /bin/busybox sh -c 'seq 1 50000 | tail -n 1'
expect_eq "more than a pipe's buffer through it (the writer waits for the reader)" "50000" "$out"
srun "$(newid pipe)" /bin/busybox sh -c 'seq 1 1000000 | head -n 2; echo "status $?"'
expect_eq "a reader that stops early ends the pipeline" "1 2 status 0" "$(echo $out)"
srun "$(newid pipe)" /bin/busybox sh -c 'set -o pipefail; yes | head -n 1 > /dev/null; echo "writer: $?"'
expect_eq "a writer to a pipe nobody reads ends by SIGPIPE (141), as on Linux" "writer: 141" "$out"
expect_eq "... silently" "" "$(cat "$WORK/serr")"
srun "$(newid time)" /bin/probe time
expect_eq "the time system call (what the C library calls without a vDSO)" "time agrees" "$out"
srun "$(newid kill)" /bin/probe kill
expect_eq "kill: a sleeping child ends by SIGTERM, seen by wait4" "kill: 0, wait: reaped 15" "$out"
expect_eq "... a process that kills itself with SIGUSR1 ends with it" 138 "$rc"
srun "$(newid sleep)" /bin/probe sleep
expect_eq "nanosleep lasts (the process is parked, not answered at once)" "nanosleep 0, at least 50 ms" "$out"
srun "$(newid sleep)" /bin/busybox sh -c 'sleep 0.1 | cat; echo "slept: $?"'
expect_eq "... while another process runs (clock_nanosleep)" "slept: 0" "$out"
srun "$(newid dev)" /bin/busybox sh -c 'echo gone > /dev/null; echo "null: $?"; head -c 3 /dev/zero | od -An -tx1; head -c 8 /dev/urandom | wc -c; [ -c /dev/null ] && echo "a character device"'
expect_eq "/dev/null, /dev/zero, /dev/urandom are the kernel's" "null: 0 00 00 00 8 a character device" "$(echo $out)"
srun "$(newid exec)" /bin/probe exec /nonexistent
expect_eq "execve of a missing file: ENOENT, the caller goes on" "exec: No such file or directory" "$out"
srun "$(newid exec)" /bin/probe exec /bin/dynamic
expect_eq "execve of a dynamic executable whose interpreter is not in the rootfs: ENOENT" "exec: No such file or directory" "$out"
srun "$(newid exec)" /bin/probe exec /../../secret
expect_eq "execve resolves beneath the root" "exec: No such file or directory" "$out"

srun "$(newid stub)" /bin/probe stub
expect_eq "the stub region is not the workload's to map, and scribbling on its context page changes no answer" \
    "mmap over the stub: Out of memory
munmap of the context: Invalid argument
mprotect of the code: Out of memory
getpid after scribbling: 0 wrong of 1000" "$out"

srun "$(newid segv)" /bin/probe segv
expect_eq "a workload killed by a fault ends the sandbox with 128 + SIGSEGV" 139 "$rc"

id=$(newid kill)
cfg "$B" "c['process']['args']=['/bin/probe','spin']"
cella --isolation sandbox run --bundle "$B" "$id" > "$WORK/spin.out" 2>&1 &
runner=$!
spinning() { grep -q spinning "$WORK/spin.out"; }
check "a workload making system calls without end runs" wait_for 100 spinning
# On the host: the workload's process (a child of the kernel) holds no
# capability, runs under a seccomp filter with no_new_privs, and has nothing
# of cella's mapped: only its memfd and the stub region.
# (The kernel's other child, the zygote that makes stubs, has cella mapped.)
kpid=$(state_field "$id" pid)
stub=
for c in $(cat "/proc/$kpid/task/$kpid/children" 2>/dev/null); do
    grep -q 'memfd:cella-sandbox-mm' "/proc/$c/maps" 2>/dev/null && ! grep -q "$(readlink -f "$CELLA")" "/proc/$c/maps" && stub=$c
done
expect_eq "the stub process: no capabilities" "0000000000000000" "$(awk '/^CapEff/ {print $2}' "/proc/$stub/status" 2>&1)"
expect_eq "... seccomp filter mode, no_new_privs" "2 1" "$(awk '/^Seccomp:/ {s=$2} /^NoNewPrivs/ {n=$2} END {print s, n}' "/proc/$stub/status" 2>&1)"
expect_eq "... nothing mapped but its address space's memfd" "/memfd:cella-sandbox-mm (deleted)" \
    "$(awk '{print $6, $7}' "/proc/$stub/maps" 2>&1 | sort -u | grep -v '^ *$' | grep -v vsyscall)"
expect_eq "cella exec runs in the sandbox beside a workload that never stops calling (test_sandbox_exec)" \
    "exec'd" "$(cella exec "$id" /bin/busybox echo "exec'd" 2>&1)"
cella kill "$id" KILL
wait $runner
expect_eq "cella kill KILL ends it with 137 (TERM is not for an init without a handler: test_sandbox_signals2)" 137 "$?"
assert_clean "... and nothing is left" "$id"

srun "$(newid echo)" /bin/busybox echo hello sandbox
expect_eq "busybox echo" "hello sandbox" "$out"
srun "$(newid true)" /bin/busybox true
expect_eq "busybox true exits 0" 0 "$rc"
srun "$(newid false)" /bin/busybox false
expect_eq "busybox false exits 1" 1 "$rc"
srun "$(newid cat)" /bin/busybox cat /etc/msg
expect_eq "busybox cat reads a file of the rootfs" "a file in the rootfs" "$out"

srun "$(newid ls)" /bin/busybox ls /etc
expect_eq "busybox ls lists a rootfs directory (getdents64)" "group msg passwd" "$(echo $out)"

# A device node in the rootfs would open the host's device.
mknod "$B/rootfs/etc/hostnull" c 1 3
srun "$(newid dev)" /bin/probe cat /etc/hostnull
expect_eq "a device node in the rootfs is not opened" "/etc/hostnull: Permission denied" "$out"
rm -f "$B/rootfs/etc/hostnull"

srun "$(newid raw)" /bin/probe rawpid
expect_eq "a raw syscall instruction is served by cella's kernel (the sandbox's pid 1, not the stub's 2)" \
    "pid 1 tid 1" "$out"
# Without a pid namespace the host would answer with a host pid.
cfg "$B" "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='pid']"
srun "$(newid rawhost)" /bin/probe rawpid
expect_eq "... also without a pid namespace (the host's pid is never seen)" "pid 1 tid 1" "$out"
cfg "$B" "c['linux']['namespaces'].append({'type':'pid'})"

srun "$(newid uname)" /bin/probe uname
expect_eq "uname: Linux and the spec's hostname" "Linux sandboxed" "$out"
cfg "$B" "c['process']['user']={'uid':1000,'gid':1000}"
srun "$(newid ids)" /bin/probe ids
expect_eq "uid and gid are the spec's" "1000 1000" "$out"
cfg "$B" "c['process']['user']={'uid':0,'gid':0}"

srun "$(newid mem)" /bin/probe memory
expect_eq "brk, mmap, mprotect, munmap" "memory ok" "$out"

id=$(newid enosys)
cfg "$B" "c['process']['args']=['/bin/probe','enosys']"
out=$(cella --debug --isolation sandbox run --bundle "$B" "$id" 2> "$WORK/serr")
expect_eq "an unimplemented call is ENOSYS (ptrace)" "ptrace: -1 Function not implemented" "$out"
expect_match "--debug lists the unimplemented calls made" "unimplemented system calls.*ptrace\(101\) x1" "$(cat "$WORK/serr")"
id=$(newid enosyslog)
out=$(cella --debug --log "$WORK/debug.log" --isolation sandbox run --bundle "$B" "$id" 2> "$WORK/serr")
expect_eq "... also with --log (the kernel's filter refuses opening the log file: the list goes to stderr)" \
    "0 ptrace: -1 Function not implemented" "$? $out"
expect_match "... listed on stderr" "unimplemented system calls.*ptrace\(101\) x1" "$(cat "$WORK/serr")"

for p in /../secret /../../secret ../secret; do
    srun "$(newid escape)" /bin/probe cat "$p"
    expect_eq "no escape from the root: $p" "$p: No such file or directory" "$out"
done
srun "$(newid proc)" /bin/probe cat /proc/self/mountinfo
expect_eq "the host's /proc (the kernel process's) is not reachable: the sandbox's has no mountinfo" \
    "/proc/self/mountinfo: No such file or directory" "$out"

# The lifecycle through the level interface, chosen by the program name.
ln -sf "$CELLA" "$WORK/cella-sandbox"
id=$(newid life)
cfg "$B" "c['process']['args']=['/bin/probe','hello']"
"$WORK/cella-sandbox" --root "$ROOT" create --bundle "$B" "$id" > "$WORK/life.out" 2>&1
check "create (cella-sandbox)" test "$(state_field "$id" status)" = created
expect_eq "the level is recorded" sandbox "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("level",""))' "$ROOT/$id/state.json" 2>/dev/null)"
cella start "$id"
stopped() { [ "$(state_field "$1" status)" = stopped ]; }
check "the workload ends (stopped)" wait_for 100 stopped "$id"
expect_eq "its stdout" "hello from the sandbox" "$(cat "$WORK/life.out")"
cella delete "$id"
assert_clean "nothing left after delete" "$id"

# A program the kernel cannot run fails by name, and nothing is left (the
# level's check refuses it at create: test_sandbox_check.sh).
cfg "$B" "c['process']['args']=['/bin/dynamic']"
id=$(newid dyn)
cella --isolation sandbox run --bundle "$B" "$id" > /dev/null 2> "$WORK/serr"
rc=$?
check "a dynamic executable without its interpreter fails" test $rc -ne 0
expect_match "... naming the interpreter, once" "^cella: process.args\\[0\\]: \`/bin/dynamic\`: its interpreter \`/lib64/ld-linux-x86-64.so.2\` in the rootfs: No such file or directory$" "$(cat "$WORK/serr")"
assert_clean "... and leaves nothing" "$id"

plan_done
