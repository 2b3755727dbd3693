#!/bin/bash
# Terminals through --console-socket: the pty master arrives over SCM_RIGHTS
# (console.py), the process runs on /dev/pts/N inside, for create/start and
# for exec --tty.
source "$(dirname "$0")/lib.sh"

CONSOLE="python3 $LIB_DIR/console.py"
B=$WORK/bundle
make_bundle "$B"
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# listen NAME [console.py args]: start a receiver on $WORK/NAME.sock writing
# $WORK/NAME.out; sets LPID.
listen() {
    local name=$1
    shift
    rm -f "$WORK/$name.sock" "$WORK/$name.out"
    $CONSOLE "$WORK/$name.sock" --out "$WORK/$name.out" --timeout 15 "$@" 2> "$WORK/$name.err" &
    LPID=$!
    wait_for 50 test -S "$WORK/$name.sock" || not_ok "console.py $name listens" "$(cat "$WORK/$name.err")"
}

# clean OUT: the pty output without carriage returns.
clean() { tr -d '\r' < "$1" 2>/dev/null; }

# ---- create --console-socket + start --------------------------------------------------------
reset
cfg "$B" "c['process']['terminal']=True" "c['process']['consoleSize']={'height':40,'width':120}" \
    "c['process']['args']=['sh','-c','tty; echo \$TERM; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty']"
id=$(newid tty)
listen tty
check "create --console-socket with process.terminal" cella create --console-socket "$WORK/tty.sock" --bundle "$B" "$id"
check "start of a terminal container" cella start "$id"
wait $LPID
rc=$?
expect_eq "console.py received the pty master (SCM_RIGHTS) and saw the end" 0 "$rc"
out=$(clean "$WORK/tty.out")
expect_eq "tty inside is /dev/pts/0" /dev/pts/0 "$(printf '%s\n' "$out" | sed -n 1p)"
expect_eq "TERM from the config" xterm "$(printf '%s\n' "$out" | sed -n 2p)"
expect_eq "consoleSize 40x120 (stty size)" "40 120" "$(printf '%s\n' "$out" | sed -n 3p)"
expect_eq "stdin, stdout and stderr are the terminal" all-tty "$(printf '%s\n' "$out" | sed -n 4p)"
wait_for 30 sh -c "\"$CELLA\" --root \"$ROOT\" state $id | grep -q '\"stopped\"'"
check "delete of the terminal container" cella delete "$id"
assert_clean "terminal container leaves nothing behind" "$id"

# An interactive shell: commands written to the master run inside.
reset
cfg "$B" "c['process']['terminal']=True" "c['process']['args']=['sh']"
id=$(newid itty)
listen itty --send 'echo "sum=$((40+2))"; tty; exit 5\n'
cella run -d --console-socket "$WORK/itty.sock" --bundle "$B" "$id" > "$WORK/itty.run" 2>&1
rc=$?
wait $LPID
out=$(clean "$WORK/itty.out")
expect_eq "run -d --console-socket succeeds" 0 "$rc"
expect_match "command written to the master runs (sum=42)" '^sum=42$' "$(printf '%s\n' "$out" | grep -x 'sum=42')"
expect_match "interactive shell is on /dev/pts/0" '^/dev/pts/0$' "$(printf '%s\n' "$out" | grep -x '/dev/pts/0')"
cella delete --force "$id" > /dev/null 2>&1
assert_clean "interactive terminal container leaves nothing behind" "$id"

# ---- exec --tty --console-socket ------------------------------------------------------------
reset
args "$B" 'exec sleep 100'
id=$(newid etty)
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
listen etty
cella exec --tty --console-socket "$WORK/etty.sock" "$id" sh -c 'tty; echo $TERM; [ -t 0 ] && echo stdin-tty; exit 4' > "$WORK/etty.exec" 2>&1
rc=$?
wait $LPID
out=$(clean "$WORK/etty.out")
expect_eq "exec --tty propagates the exit code" 4 "$rc"
expect_match "exec --tty: tty inside is /dev/pts/N" '^/dev/pts/[0-9]+$' "$(printf '%s\n' "$out" | sed -n 1p)"
expect_eq "exec --tty: TERM" xterm "$(printf '%s\n' "$out" | sed -n 2p)"
expect_eq "exec --tty: stdin is the terminal" stdin-tty "$(printf '%s\n' "$out" | sed -n 3p)"
# In the foreground cella holds the terminal itself (test_runc_cli.sh); detached it needs the socket.
out=$(cella exec --tty --detach "$id" true 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'console-socket'; then ok "exec --tty --detach without --console-socket fails naming it"; else not_ok "exec --tty --detach without --console-socket fails naming it" "exit $rc: $out"; fi
cella delete --force "$id" > /dev/null 2>&1
assert_clean "exec --tty container leaves nothing behind" "$id"

# A console socket nobody listens on: create fails naming it and leaves nothing.
reset
cfg "$B" "c['process']['terminal']=True"
id=$(newid notty)
out=$(cella create --console-socket "$WORK/nobody.sock" --bundle "$B" "$id" 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'nobody.sock'; then ok "unreachable --console-socket: create fails naming it"; else not_ok "unreachable --console-socket: create fails naming it" "exit $rc: $out"; fi
assert_clean "unreachable --console-socket leaves nothing behind" "$id"

plan_done
exit 0
