#!/bin/bash
# process.terminal at the qemu level (docs/vmhost.md, Terminals): the host
# pty's master through --console-socket (console.py) or `run`'s own stdio,
# the process on a pty of the guest (/dev/pts/N there) with consoleSize,
# resizes of the host pty passed on (stty size, SIGWINCH), the exit code, and
# exec --tty the same way with a pty of its own. The vm level shares this
# code (src/level/vmhost/); its nested test is too slow to repeat it here.
source "$(dirname "$0")/lib.sh"

KERNEL=${CELLA_KERNEL:-$REPO_ROOT/build/vmlinux}
AGENT=${CELLA_AGENT_INITRD:-$REPO_ROOT/build/cella-agent.cpio}
why=""
command -v qemu-system-x86_64 > /dev/null || why="qemu-system-x86_64 is not installed (scripts/deps.sh)"
[ -n "$why" ] || [ -r "$KERNEL" ] || why="no guest kernel $KERNEL (make kernel)"
[ -n "$why" ] || [ -r "$AGENT" ] || why="no guest agent initramfs $AGENT (make)"
if [ -n "$why" ]; then
    skip "qemu level terminals" "$why"
    plan_done
    exit 0
fi
export CELLA_KERNEL=$KERNEL CELLA_AGENT_INITRD=$AGENT
CELLA_TIMEOUT=60 # a boot under TCG with the sanitizer build, on a loaded machine
cq() { cella --isolation qemu "$@"; }

CONSOLE="python3 $LIB_DIR/console.py"
B=$WORK/bundle
make_bundle "$B"
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# listen NAME [console.py args]: a receiver on $WORK/NAME.sock writing
# $WORK/NAME.out; sets LPID.
listen() {
    local name=$1
    shift
    rm -f "$WORK/$name.sock" "$WORK/$name.out"
    $CONSOLE "$WORK/$name.sock" --out "$WORK/$name.out" --timeout 60 "$@" 2> "$WORK/$name.err" &
    LPID=$!
    wait_for 50 test -S "$WORK/$name.sock" || not_ok "console.py $name listens" "$(cat "$WORK/$name.err")"
}
# line OUT N: line N of the pty output, without carriage returns.
line() { tr -d '\r' < "$WORK/$1.out" 2> /dev/null | sed -n "$2p"; }

# ---- run --console-socket: the process on the guest's pty ------------------------------------
reset
cfg "$B" "c['process']['terminal']=True" "c['process']['consoleSize']={'height':40,'width':120}"
args "$B" 'tty; echo $TERM; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty; echo err >&2; exit 3'
id=$(newid run)
listen run
cq run --console-socket "$WORK/run.sock" --bundle "$B" "$id" > "$WORK/run.log" 2>&1
rc=$?
wait $LPID
expect_eq "run --console-socket: console.py got the master and saw the end of the terminal" 0 $?
expect_eq "run --console-socket: the process's exit code is run's" 3 $rc
expect_match "tty inside the VM is /dev/pts/N" '^/dev/pts/[0-9]+$' "$(line run 1)"
expect_eq "TERM from the config" xterm "$(line run 2)"
expect_eq "consoleSize 40x120 is the guest pty's (stty size)" "40 120" "$(line run 3)"
expect_eq "stdin, stdout and stderr are the terminal" all-tty "$(line run 4)"
expect_eq "stderr comes through the terminal too" err "$(line run 5)"
expect_eq "nothing on run's own stdio" "" "$(cat "$WORK/run.log")"
assert_clean "run --console-socket leaves nothing behind" "$id"

# ---- create, start, a resize of the host pty, typed input ----------------------------------
reset
cfg "$B" "c['process']['terminal']=True"
args "$B" "trap 'stty size; read -r l; echo \"typed: \$l\"; exit 6' WINCH; echo ready; sleep 1000 & wait"
id=$(newid rsz)
listen rsz --expect ready --resize 50,132 --send 'hello\r'
# create's output read to its end, as containerd's shim reads it: with a
# terminal nothing of the VM keeps create's stdout (bounded: a holder is a hang).
mkfifo "$WORK/create.fifo"
(cq create --console-socket "$WORK/rsz.sock" --bundle "$B" "$id" > "$WORK/create.fifo" 2>&1; echo $? > "$WORK/create.rc") &
timeout 60 cat "$WORK/create.fifo" > "$WORK/create.out"
expect_eq "create --console-socket: its stdout ends when create does (status, create's exit code)" "0 0" \
    "$? $(wait $!; cat "$WORK/create.rc")"
check "start" cq start "$id"
wait $LPID
expect_eq "console.py saw the end of the terminal" 0 $?
expect_eq "the program's output" ready "$(line rsz 1)"
# The typed line may be echoed before or after the trap's output.
expect_eq "a resize of the host pty reaches the guest's (SIGWINCH, stty size)" "50 132" \
    "$(line rsz 2,4 | grep -x '50 132')"
# raw on the host, cooked in the guest: one echo of the typed line, CR -> NL there
expect_eq "typed input, echoed once (by the guest's terminal)" 1 "$(line rsz 2,4 | grep -cx hello)"
expect_eq "typed input read by the process" "typed: hello" "$(line rsz 4)"
wait_for 300 sh -c "\"$CELLA\" --root \"$ROOT\" state $id 2>/dev/null | grep -q '\"stopped\"'"
expect_eq "state after the process exited: stopped" stopped "$(state_field "$id" status)"
check "delete" cq delete "$id"
assert_clean "create/start with a terminal leaves nothing behind" "$id"

# ---- run -t in the foreground: cella relays its own stdio -----------------------------------
reset
cfg "$B" "c['process']['terminal']=True" "c['process']['args']=['sh']"
id=$(newid fg)
printf 'echo "sum=$((40+2))"; tty; exit 5\n' | cq run --bundle "$B" "$id" > "$WORK/fg.out" 2>&1
rc=$?
expect_eq "run with a terminal, no console socket: the exit code" 5 $rc
expect_match "the shell read the piped line through the terminal (sum=42)" 'sum=42' "$(tr -d '\r' < "$WORK/fg.out" | grep -x 'sum=42')"
expect_match "and it is on the guest's pty" '^/dev/pts/[0-9]+$' "$(tr -d '\r' < "$WORK/fg.out" | grep -x '/dev/pts/[0-9]*')"
assert_clean "run -t in the foreground leaves nothing behind" "$id"

# ---- refusals --------------------------------------------------------------------------------
reset
cfg "$B" "c['process']['terminal']=True"
id=$(newid det)
fails "a detached terminal without --console-socket is refused before boot" "$id" \
    'process.terminal is true: use --console-socket' cq create --bundle "$B" "$id"
id=$(newid nob)
fails "an unreachable --console-socket is refused naming it" "$id" 'nobody.sock' \
    cq create --console-socket "$WORK/nobody.sock" --bundle "$B" "$id"

# ---- exec --tty -------------------------------------------------------------------------------
reset
args "$B" 'exec sleep 1000'
id=$(newid ex)
check "create and start a VM for exec" sh -c "\"$CELLA\" --root \"$ROOT\" --isolation qemu run -d --bundle \"$B\" $id < /dev/null"
listen ex
cq exec --tty --console-socket "$WORK/ex.sock" "$id" sh -c 'tty; stty size; [ -t 0 ] && echo stdin-tty; exit 4' > "$WORK/ex.log" 2>&1
rc=$?
wait $LPID
expect_eq "exec --tty --console-socket: the exit code" 4 $rc
expect_match "exec --tty: its own /dev/pts/N in the guest" '^/dev/pts/[0-9]+$' "$(line ex 1)"
expect_eq "exec --tty: stdin is the terminal" stdin-tty "$(line ex 3)"
listen exr --expect ready --resize 33,77
cq exec --tty --console-socket "$WORK/exr.sock" "$id" sh -c "trap 'stty size; exit 2' WINCH; echo ready; sleep 1000 & wait" > "$WORK/exr.log" 2>&1
rc=$?
wait $LPID
expect_eq "exec --tty: a resize reaches the process (stty size)" "33 77" "$(line exr 2)"
expect_eq "exec --tty after a resize: the exit code" 2 $rc
out=$(printf 'echo "in=$((6*7))"; exit 9\n' | cq exec --tty "$id" sh 2>&1)
rc=$?
expect_eq "exec --tty in the foreground without a console socket: the exit code" 9 $rc
expect_match "exec --tty in the foreground: cella relays its stdio (in=42)" 'in=42' "$out"
out=$(cq exec --tty --detach "$id" true 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'console-socket'; then
    ok "exec --tty --detach without --console-socket fails naming it"
else
    not_ok "exec --tty --detach without --console-socket fails naming it" "exit $rc: $out"
fi
expect_eq "the container runs on after its exec's terminals ended" running "$(state_field "$id" status)"
check "delete --force" cq delete --force "$id"
assert_clean "exec --tty leaves nothing behind" "$id"

plan_done
exit 0
