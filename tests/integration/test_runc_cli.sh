#!/bin/bash
# What callers of a runc drop-in see at the command line: runc 1.1's options,
# exit codes, files and output shapes, side by side with Debian's runc where
# it is installed (RUNC=/path to choose another, RUNC= to skip those checks).
source "$(dirname "$0")/lib.sh"

RUNC=${RUNC-$(command -v runc 2>/dev/null)}
RROOT=$WORK/runc-root
runc_() { timeout -k 2 "$CELLA_TIMEOUT" "$RUNC" --root "$RROOT" "$@"; }
on_exit 'for i in $(ls "$RROOT" 2>/dev/null); do "$RUNC" --root "$RROOT" delete -f "$i"; done'

B=$WORK/bundle
make_bundle "$B"
args "$B" 'exec sleep 100'
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# status_of CMD...: the exit status of CMD (its output in $WORK/out, $WORK/err).
status_of() {
    "$@" > "$WORK/out" 2> "$WORK/err"
    echo $?
}

# ---- kill ID 0: does the container exist and live? ---------------------------------------
reset
id=$(newid k0)
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
expect_eq "kill ID 0 of a running container exits 0" 0 "$(status_of cella kill "$id" 0)"
cella kill "$id" KILL > /dev/null 2>&1
wait_for 50 sh -c "\"$CELLA\" --root \"$ROOT\" state $id | grep -q '\"stopped\"'"
expect_eq "kill ID 0 of a stopped container fails" 1 "$(status_of cella kill "$id" 0)"
cella delete "$id" > /dev/null 2>&1
expect_eq "kill ID 0 of a missing container fails" 1 "$(status_of cella kill "$id" 0)"
if [ -n "$RUNC" ]; then
    rid=$(newid rk0)
    runc_ run -d --bundle "$B" "$rid" > /dev/null 2>&1
    expect_eq "runc agrees: kill ID 0 of a running container exits 0" 0 "$(status_of runc_ kill "$rid" 0)"
    runc_ delete -f "$rid" > /dev/null 2>&1
    expect_eq "runc agrees: kill ID 0 of a missing container fails" 1 "$(status_of runc_ kill "$rid" 0)"
fi

# ---- exec --ignore-paused ----------------------------------------------------------------
reset
id=$(newid ip)
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
cella pause "$id" > /dev/null 2>&1
expect_eq "exec in a paused container fails (exit 255)" 255 "$(status_of cella exec "$id" true)"
expect_match "... and the error names --ignore-paused" 'paused.*--ignore-paused' "$(cat "$WORK/err")"
# The process joins the frozen cgroup, so it runs once the container is resumed.
cella exec --ignore-paused "$id" sh -c 'echo ran; exit 3' > "$WORK/ip.out" 2>&1 &
epid=$!
# Resumed once the exec's process is in the container (frozen with it).
wait_for 50 sh -c "\"$CELLA\" --root \"$ROOT\" ps -f json $id | grep -q ','"
cella resume "$id" > /dev/null 2>&1
wait $epid
expect_eq "exec --ignore-paused in a paused container runs after resume (exit 3)" 3 "$?"
expect_eq "exec --ignore-paused: the process's output" ran "$(cat "$WORK/ip.out")"
cella delete --force "$id" > /dev/null 2>&1
assert_clean "exec --ignore-paused leaves nothing behind" "$id"

# ---- run --keep ----------------------------------------------------------------------------
reset
args "$B" 'exit 4'
id=$(newid keep)
expect_eq "run --keep: the process's exit code" 4 "$(status_of cella run --keep --bundle "$B" "$id")"
expect_eq "run --keep: the container stays, stopped" stopped "$(state_field "$id" status)"
check "run --keep: delete removes it" cella delete "$id"
assert_clean "run --keep then delete leaves nothing behind" "$id"
id=$(newid nokeep)
cella run --bundle "$B" "$id" > /dev/null 2>&1
expect_eq "run without --keep deletes the container" "" "$(state_field "$id" status)"
check_fail "create has no --keep (as runc)" cella create --keep --bundle "$B" "$(newid ck)"

# ---- exec's exit codes: 255 for its own errors ----------------------------------------------
reset
expect_eq "exec in a missing container exits 255" 255 "$(status_of cella exec nosuch-$$ true)"
if [ -n "$RUNC" ]; then
    expect_eq "runc agrees: exec in a missing container exits 255" 255 "$(status_of runc_ exec nosuch-$$ true)"
fi
id=$(newid ex)
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
expect_eq "exec of a missing program exits 255" 255 "$(status_of cella exec "$id" /no/such/program)"
expect_eq "exec passes the process's own exit code (7)" 7 "$(status_of cella exec "$id" sh -c 'exit 7')"

# ---- a relative --pid-file is relative to the caller's directory -------------------------------
mkdir -p "$WORK/cwd"
id2=$(newid pf)
(cd "$WORK/cwd" && cella run -d --pid-file run.pid --bundle "$B" "$id2") > /dev/null 2>&1
expect_match "run -d --pid-file run.pid: written in the caller's directory" '^[0-9]+$' "$(cat "$WORK/cwd/run.pid" 2>/dev/null)"
expect_eq "... and not in the bundle" no "$([ -e "$B/run.pid" ] && echo yes || echo no)"
(cd "$WORK/cwd" && cella exec -d --pid-file exec.pid "$id" sleep 1) > /dev/null 2>&1
expect_match "exec -d --pid-file exec.pid: written in the caller's directory" '^[0-9]+$' "$(cat "$WORK/cwd/exec.pid" 2>/dev/null)"
id3=$(newid pfc)
(cd "$WORK/cwd" && cella create --pid-file create.pid --bundle "$B" "$id3") > /dev/null 2>&1
expect_eq "create --pid-file create.pid: the container's pid, in the caller's directory" \
    "$(state_field "$id3" pid)" "$(cat "$WORK/cwd/create.pid" 2>/dev/null)"
cella delete --force "$id" > /dev/null 2>&1
cella delete --force "$id2" > /dev/null 2>&1
cella delete --force "$id3" > /dev/null 2>&1

# ---- list: sorted by ID, runc's table -----------------------------------------------------
reset
L=$WORK/listroot
for n in zz aa mm; do
    timeout 10 "$CELLA" --root "$L" run -d --bundle "$B" "$n-$$" > /dev/null 2>&1
done
on_exit 'for n in zz aa mm; do "$CELLA" --root "$L" delete -f "$n-$$"; done'
expect_eq "list -q is sorted by ID" "aa-$$ mm-$$ zz-$$" "$(timeout 10 "$CELLA" --root "$L" list -q | tr '\n' ' ' | sed 's/ $//')"
expect_eq "list (table) is sorted by ID" "ID aa-$$ mm-$$ zz-$$" \
    "$(timeout 10 "$CELLA" --root "$L" list | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')"
# The columns as runc's tabwriter sets them: each as wide as its widest cell + 3, at least 12.
expect_match "list: runc's header" '^ID {10,}PID {9}STATUS {6}BUNDLE {3,}CREATED {3,}OWNER$' \
    "$(timeout 10 "$CELLA" --root "$L" list | head -n 1)"
if [ -n "$RUNC" ]; then
    for n in zz aa; do runc_ run -d --bundle "$B" "$n-$$" > /dev/null 2>&1; done
    expect_eq "list --format json has runc's keys in runc's order" \
        "$(runc_ list -f json | python3 -c 'import json,sys; print([list(o) for o in json.load(sys.stdin)])')" \
        "$(timeout 10 "$CELLA" --root "$L" list -f json | python3 -c 'import json,sys; print([list(o) for o in json.load(sys.stdin)][:2])')"
    expect_eq "list: the same header as runc's for the same IDs and bundle" \
        "$(runc_ list | head -n 1)" "$(timeout 10 "$CELLA" --root "$L" list | grep -v "^mm-" | head -n 1)"
    for n in zz aa; do runc_ delete -f "$n-$$" > /dev/null 2>&1; done
fi
for n in zz aa mm; do timeout 10 "$CELLA" --root "$L" delete -f "$n-$$" > /dev/null 2>&1; done

# ---- --log and --debug ----------------------------------------------------------------------
rm -f "$WORK/ok.log"
cella --log "$WORK/ok.log" list > /dev/null 2>&1
expect_eq "--log FILE is created when nothing fails" yes "$([ -f "$WORK/ok.log" ] && echo yes || echo no)"
rm -f "$WORK/debug.log"
cella --debug --log "$WORK/debug.log" list > /dev/null 2> "$WORK/debug.err"
expect_match "--debug writes debug lines to --log" 'debug' "$(cat "$WORK/debug.log" 2>/dev/null)"
expect_eq "--debug with --log keeps stderr quiet" "" "$(cat "$WORK/debug.err")"
cella --debug --log-format json --log "$WORK/debug.json" list > /dev/null 2>&1
expect_eq "--debug --log-format json: every line is JSON at level debug" ok \
    "$(python3 -c 'import json,sys
ls=[json.loads(l) for l in open(sys.argv[1])]
print("ok" if ls and all(l["level"]=="debug" for l in ls) else ls)' "$WORK/debug.json" 2>&1)"
fails "--log in a missing directory fails naming it" - "$WORK/nodir/x.log" cella --log "$WORK/nodir/x.log" list

# ---- spec: runc's default config, byte for byte but for ociVersion ----------------------------
# ociVersion differs on purpose: it names the runtime-spec the config follows,
# and cella reads 1.1.0 (runc 1.1 was built against 1.0.2-dev).
for mode in "" --rootless; do
    rm -rf "$WORK/spec-c" "$WORK/spec-r"
    mkdir -p "$WORK/spec-c" "$WORK/spec-r"
    check "spec $mode writes config.json" cella spec $mode --bundle "$WORK/spec-c"
    expect_eq "spec $mode: ociVersion 1.1.0" 1.1.0 \
        "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ociVersion"])' "$WORK/spec-c/config.json" 2>&1)"
    if [ -n "$RUNC" ]; then
        (cd "$WORK/spec-r" && "$RUNC" spec $mode)
        d=$(diff <(grep -v '"ociVersion"' "$WORK/spec-r/config.json") <(grep -v '"ociVersion"' "$WORK/spec-c/config.json"))
        expect_eq "spec $mode: the same bytes as \`runc spec $mode\` (but ociVersion)" "" "$d"
    fi
done
# A cgroup namespace only where runc's default has one: on a cgroup v2 host.
[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && want=yes || want=no
expect_eq "spec: a cgroup namespace only on a cgroup v2 host ($want here)" "$want" \
    "$(python3 -c 'import json,sys
ns=[n["type"] for n in json.load(open(sys.argv[1]))["linux"]["namespaces"]]
print("yes" if "cgroup" in ns else "no")' "$WORK/spec-c/config.json" 2>&1)"
check_fail "spec refuses to overwrite config.json" cella spec --bundle "$WORK/spec-c"

# ---- devices: access strings and fileMode as runc takes them ------------------------------------
# /dev/net/tun (c 10:200) is not among the devices every container gets.
tun() {
    reset
    cfg "$B" "c['linux']['devices']=[{'path':'/dev/net/tun','type':'c','major':10,'minor':200,'fileMode':$1}]" \
        "c['linux']['resources']['devices']=[{'allow':False,'access':'rwm'},{'allow':True,'type':'c','major':10,'minor':200,'access':'$2'}]"
    args "$B" 'stat -c "%F %a" /dev/net/tun; exec 3<>/dev/net/tun && echo opened'
}
if [ -c /dev/net/tun ]; then
    # 8630 = 0o20666: podman --privileged passes the host node's whole st_mode.
    tun 8630 rwm
    id=$(newid dev)
    expect_eq "linux.devices fileMode with the file type bits (0o20666): mode 666" \
        "character special file 666
opened" "$(cella run --bundle "$B" "$id" 2>&1)"
    tun 0o640 rwa
    id=$(newid dev)
    expect_eq "access \"rwa\" (runc ignores the a): the device opens read-write" \
        "character special file 640
opened" "$(cella run --bundle "$B" "$id" 2>&1)"
    tun 0o640 wr
    id=$(newid dev)
    expect_eq "access \"wr\" (any order): the device opens read-write" \
        "character special file 640
opened" "$(cella run --bundle "$B" "$id" 2>&1)"
    if [ -n "$RUNC" ]; then
        tun 8630 rwa
        expect_eq "runc agrees: fileMode 0o20666 and access rwa" "character special file 666
opened" "$(runc_ run --bundle "$B" "$(newid rdev)" 2>&1)"
    fi
else
    skip "linux.devices fileMode and access" "no /dev/net/tun on this host"
fi
reset
cfg "$B" "c['linux']['resources']['devices']=[{'allow':True,'type':'c','major':1,'minor':3,'access':''}]"
args "$B" true
id=$(newid dev)
fails "an empty access is refused (as runc)" "$id" 'linux\.resources\.devices\[0\]\.access' cella run --bundle "$B" "$id"

# ---- podman --privileged: the host's devices with their whole st_mode ----------------------------
# A private podman (its own store under $WORK, vfs, cgroupfs, no network), as
# test_podman.sh drives it.
if command -v podman > /dev/null 2>&1 && { command -v conmon > /dev/null 2>&1 || [ -x /usr/libexec/podman/conmon ]; }; then
    # podman refuses a runroot longer than 50 characters.
    T=$(mktemp -d /tmp/cella-pm.XXXXXX)
    mkdir -p "$T"/{root,runroot,tmp,net} "$T"/rootfs/{bin,dev,proc,sys,tmp,etc}
    cp "$BUSYBOX" "$T/rootfs/bin/busybox"
    for a in sh stat cat; do ln -s busybox "$T/rootfs/bin/$a"; done
    NEW_CG=()
    for d in /sys/fs/cgroup /sys/fs/cgroup/*/; do
        [ -d "${d%/}/libpod_parent" ] || NEW_CG+=("${d%/}/libpod_parent")
    done
    PODMAN=(podman --root "$T/root" --runroot "$T/runroot" --tmpdir "$T/tmp" --network-config-dir "$T/net"
        --storage-driver vfs --events-backend file --cgroup-manager cgroupfs --runtime "$CELLA")
    on_exit 'timeout 30 "${PODMAN[@]}" rm -af -t 0; awk -v t="$T" "index(\$5, t) == 1 { print \$5 }" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l; for d in "${NEW_CG[@]}"; do rmdir "$d/conmon" "$d"; done; rm -rf "$T"'
    # podman reads "executable file not found in" in the runtime's error as
    # "command not found": exit 127, as with runc.
    timeout -k 5 60 "${PODMAN[@]}" run -d --name cx --network none --log-driver k8s-file \
        --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --rootfs "$T/rootfs" /bin/sh -c 'exec sleep 100' \
        > /dev/null 2>&1 < /dev/null
    timeout -k 5 60 "${PODMAN[@]}" exec cx nosuch > /dev/null 2>&1 < /dev/null
    expect_eq "podman exec of a missing command exits 127 (as with runc)" 127 "$?"
    timeout -k 5 60 "${PODMAN[@]}" rm -f -t 0 cx > /dev/null 2>&1 < /dev/null
    out=$(timeout -k 5 60 "${PODMAN[@]}" run --rm --privileged --network none --log-driver k8s-file \
        --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --rootfs "$T/rootfs" \
        /bin/sh -c 'stat -c "%a %F" /dev/null' 2>&1 < /dev/null)
    expect_eq "podman run --privileged: runs, /dev/null has its host mode" "$(stat -c '%a %F' /dev/null)" \
        "$(printf '%s\n' "$out" | tr -d '\r')"
else
    skip "podman run --privileged" "podman or conmon not installed"
fi

# ---- exec -t without --console-socket: cella holds the terminal, as runc -------------------------
# ontty.py TEXT MARK CMD...: runs CMD on a new terminal (its controlling one),
# writes TEXT to it once CMD wrote MARK there (the relay is up by then), prints
# what CMD wrote there (\r removed), then "exit N".
cat > "$WORK/ontty.py" <<'PYEOF'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
out = b""
sent = False
deadline = time.monotonic() + 15
while time.monotonic() < deadline:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
    if not sent and sys.argv[2].encode() in out:
        os.write(fd, sys.argv[1].encode())
        sent = True
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
print("exit %d" % os.waitstatus_to_exitcode(st))
PYEOF
reset
id=$(newid etty)
cella run -d --bundle "$B" "$id" > /dev/null 2>&1
out=$(python3 "$WORK/ontty.py" $'hello\n' all-tty "$CELLA" --root "$ROOT" exec -t "$id" \
    sh -c 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty; read l; echo "got $l"; exit 5' 2>&1)
expect_match "exec -t in the foreground: the process runs on a pty of the container" '^/dev/pts/[0-9]+$' "$out"
expect_match "exec -t: stdin, stdout and stderr are the terminal" '^all-tty$' "$out"
expect_match "exec -t: the caller's terminal input reaches it" '^got hello$' "$out"
expect_match "exec -t: its exit code (5)" '^exit 5$' "$out"
fails "exec -t -d without --console-socket fails naming it" - 'console-socket' cella exec -t -d "$id" true
if [ -n "$RUNC" ]; then
    rid=$(newid rtty)
    runc_ run -d --bundle "$B" "$rid" > /dev/null 2>&1
    rout=$(python3 "$WORK/ontty.py" $'hello\n' all-tty "$RUNC" --root "$RROOT" exec -t "$rid" \
        sh -c 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty; read l; echo "got $l"; exit 5' 2>&1)
    expect_eq "exec -t: the same lines as runc's but the pty number" \
        "$(printf '%s\n' "$rout" | sed 's|/dev/pts/[0-9]*|PTS|')" "$(printf '%s\n' "$out" | sed 's|/dev/pts/[0-9]*|PTS|')"
    runc_ delete -f "$rid" > /dev/null 2>&1
fi
cella delete --force "$id" > /dev/null 2>&1
assert_clean "exec -t leaves nothing behind" "$id"

# ---- --help, --version, unknown commands in runc's shape ------------------------------------------
# sections CMD...: the section headers of a help text (NAME:, USAGE:, ...).
sections() { "$@" 2>&1 | grep -E '^[A-Z][A-Z ]*:$' | tr '\n' ' '; }
for c in create start run state kill delete exec list ps pause resume spec features; do
    got=$(cella "$c" --help 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && printf '%s\n' "$got" | sed -n 2p | grep -q "^   cella $c - "; then
        ok "$c --help: exit 0, NAME \"cella $c - ...\""
    else
        not_ok "$c --help: exit 0, NAME \"cella $c - ...\"" "exit $rc" "$got"
    fi
    expect_eq "help $c is $c --help" "$got" "$(cella help "$c" 2>&1)"
    if [ -n "$RUNC" ]; then
        expect_eq "$c --help: the sections of runc's" "$(sections "$RUNC" "$c" --help)" "$(sections cella "$c" --help)"
    fi
done
expect_match "exec --help documents --ignore-paused" '--ignore-paused' "$(cella exec --help)"
expect_match "delete --help documents cella's --regex" '--regex' "$(cella delete --help)"
expect_match "--help documents cella's --isolation" '--isolation' "$(cella --help)"
expect_match "cella without a command: the help, exit 0" $'^NAME:\n   cella - .*\nexit 0$' "$(cella; echo "exit $?")"
if [ -n "$RUNC" ]; then
    expect_eq "--help: the sections of runc's" "$(sections "$RUNC" --help)" "$(sections cella --help)"
fi
expect_eq "unknown command: runc's message, exit 3" "cella: No help topic for 'frobnicate'
exit 3" "$(cella frobnicate 2>&1; echo "exit $?")"
expect_eq "help of an unknown command: the same" "cella: No help topic for 'frobnicate'
exit 3" "$(cella help frobnicate 2>&1; echo "exit $?")"
if [ -n "$RUNC" ]; then
    expect_match "runc agrees: No help topic, exit 3" "No help topic for 'frobnicate'.*exit 3" \
        "$({ runc_ frobnicate 2>&1; echo "exit $?"; } | tr '\n' ' ')"
fi
# What containerd's go-runc and podman read of --version: the first line
# "NAME version X", then "spec: ..." (and "commit: ..." when known).
ver=$(cella --version)
expect_match "--version: first line \"cella version X\"" '^cella version [0-9]+\.[0-9]+' "$(printf '%s\n' "$ver" | head -n 1)"
expect_match "--version: a \"spec: \" line with the runtime-spec version" $'\nspec: 1\\.[0-9]+\\.[0-9]+' "$ver"
expect_eq "-v is --version" "$ver" "$(cella -v)"
if [ -n "$RUNC" ]; then
    expect_eq "--version: the line kinds of runc's, but go" \
        "$("$RUNC" --version | sed -E '1s/^[a-z]+ version .*/NAME/; s/^([a-z]+)[: ].*/\1/' | grep -v -e '^go$' -e '^commit$' | tr '\n' ' ')" \
        "$(printf '%s\n' "$ver" | grep -v '^+' | sed -E '1s/^[a-z]+ version .*/NAME/; s/^([a-z]+)[: ].*/\1/' | tr '\n' ' ')"
fi

# ---- relative --root and --log are the caller's (runc makes them absolute) ----------------------
reset
mkdir -p "$WORK/caller"
id=$(newid rel)
(cd "$WORK/caller" && timeout 10 "$CELLA" --root relroot --log rel.log run -d --bundle "$B" "$id") > /dev/null 2>&1
expect_eq "--root relroot: run -d works from another directory than the bundle" running \
    "$(cd "$WORK/caller" && timeout 10 "$CELLA" --root relroot state "$id" 2>&1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>&1)"
(cd "$WORK/caller" && timeout 10 "$CELLA" --root relroot --log rel.log delete "$id") > /dev/null 2>&1
expect_match "--log rel.log: written in the caller's directory" 'cannot delete' "$(cat "$WORK/caller/rel.log" 2>/dev/null)"
(cd "$WORK/caller" && timeout 10 "$CELLA" --root relroot delete -f "$id") > /dev/null 2>&1
expect_eq "--root relroot: delete -f leaves the root empty" "" "$(ls -A "$WORK/caller/relroot" 2>&1)"
expect_eq "... and nothing in the bundle" no "$([ -e "$B/relroot" ] || [ -e "$B/rel.log" ] && echo yes || echo no)"
assert_clean "--root relroot: nothing left" "$id"

plan_done
exit 0
