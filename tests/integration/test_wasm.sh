#!/bin/bash
# The wasm level and `cella wasm run`: WASI arguments, environment, preopened
# directories (and escapes from them), exit codes and traps, bad modules,
# the HTTP workload on a preopened socket; OCI bundles run by the engine
# inside a container (level chosen by args[0], annotation, --isolation),
# their lifecycle, cgroup and namespaces, and load errors that leave nothing.
source "$(dirname "$0")/lib.sh"

WASI_CC=(clang --target=wasm32-wasi --sysroot=/usr)
if ! echo 'int main(void){return 0;}' | "${WASI_CC[@]}" -x c -o "$WORK/t.wasm" - 2>/dev/null; then
    skip "wasm level" "no C to wasm32-wasi toolchain (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)"
    plan_done
    exit 0
fi
PROBE=$WORK/probe.wasm
"${WASI_CC[@]}" -O2 -o "$PROBE" "$REPO_ROOT/tests/wasm/probe.c" || { echo "Bail out! probe.wasm"; exit 1; }
HTTPD=$WORK/httpd.wasm
"${WASI_CC[@]}" -Os -o "$HTTPD" "$REPO_ROOT/bench/httpd.c" || { echo "Bail out! httpd.wasm"; exit 1; }

wrun() { timeout -k 2 20 "$CELLA" wasm run "$@"; }

# ---- cella wasm run ---------------------------------------------------------------------
out=$(wrun "$PROBE" args one "two words")
expect_eq "argv reaches the module (argv[0] is the file as given)" \
    "argv[0]=$PROBE
argv[1]=args
argv[2]=one
argv[3]=two words" "$out"
expect_eq "--env sets a variable" "GREETING=hi there" "$(wrun --env 'GREETING=hi there' "$PROBE" env GREETING)"
expect_eq "the host environment is not passed" "HOME=(unset)" "$(wrun "$PROBE" env HOME)"
expect_eq "--env NAME takes the host's value" "CELLA_T=from-host" "$(CELLA_T=from-host wrun --env CELLA_T "$PROBE" env CELLA_T)"

D=$WORK/dir
mkdir -p "$D/sub" "$WORK/outside"
echo "inside file" > "$D/in.txt"
echo "secret" > "$WORK/outside/secret.txt"
ln -s / "$D/rootlink"
ln -s ../../outside "$D/sub/up"
ln -s "$WORK/outside/secret.txt" "$D/abslink"
expect_eq "--dir HOST::GUEST: a file is read" "inside file" "$(wrun --dir "$D::/data" "$PROBE" cat /data/in.txt)"
expect_eq "--dir HOST: the guest path is the host path" "inside file" "$(wrun --dir "$D" "$PROBE" cat "$D/in.txt")"
wrun --dir "$D::/data" "$PROBE" write /data/new.txt written > /dev/null
expect_eq "a file written by the module is on the host" "written" "$(cat "$D/new.txt" 2>&1)"
expect_eq "a directory is listed" "abslink in.txt new.txt rootlink sub" "$(wrun --dir "$D::/data" "$PROBE" ls /data | sort | xargs)"
for p in /data/../outside/secret.txt /data/rootlink/etc/passwd /data/sub/up/secret.txt /data/abslink /etc/passwd "$WORK/outside/secret.txt"; do
    out=$(wrun --dir "$D::/data" "$PROBE" escape "$p")
    expect_eq "no escape from the preopen: $p" "$p: refused" "$out"
done
expect_match "without --dir nothing is visible" "open /data/in.txt: (Capabilities insufficient|No such file)" \
    "$(wrun "$PROBE" cat /data/in.txt 2>&1)"

wrun "$PROBE" exit 42 > /dev/null
expect_eq "proc_exit's code is the command's exit code" 42 $?
out=$(wrun "$PROBE" trap 2>&1)
rc=$?
expect_eq "a trap exits with 134 (as wasmtime)" 134 $rc
expect_eq "a trap is one line on stderr" "wasm trap: unreachable" "$out"
out=$(wrun "$PROBE" recurse 2>&1)
expect_eq "runaway recursion ends in a trap, not a crash ($out)" 134 $?

head -c 100 "$REPO_ROOT/tests/wasm/probe.c" > "$WORK/bad.wasm"
out=$(wrun "$WORK/bad.wasm" 2>&1)
rc=$?
expect_match "a malformed module: one line naming the file" "^cella: $WORK/bad.wasm: malformed module: magic header not detected$" "$out"
expect_eq "a malformed module exits 1" 1 $rc
head -c 300 "$PROBE" > "$WORK/short.wasm"
out=$(wrun "$WORK/short.wasm" 2>&1)
expect_match "a truncated module is malformed" "short.wasm: malformed module" "$out"
out=$(wrun "$WORK/none.wasm" 2>&1)
expect_match "a missing module names the path" "none.wasm.*No such file" "$out"
out=$(wrun --tcplisten 127.0.0.1:notaport "$PROBE" 2>&1)
expect_match "a bad --tcplisten is a clear error" "tcplisten.*bad port" "$out"

PORT=$((20000 + RANDOM % 20000))
wrun --env RUNTIME_NAME=wasm-test --tcplisten "127.0.0.1:$PORT" "$HTTPD" > "$WORK/httpd.log" 2>&1 &
hpid=$!
on_exit "kill $hpid"
if wait_for 50 curl -sf "http://127.0.0.1:$PORT/"; then
    expect_eq "the HTTP workload answers on a preopened socket" "hello from wasm-test" "$(curl -s "http://127.0.0.1:$PORT/")"
    out=$(curl -s "http://127.0.0.1:$PORT/" "http://127.0.0.1:$PORT/" "http://127.0.0.1:$PORT/")
    expect_eq "keep-alive: three requests on one connection" 3 "$(printf '%s\n' "$out" | grep -c 'hello from wasm-test')"
else
    not_ok "the HTTP workload answers on a preopened socket" "$(cat "$WORK/httpd.log")"
fi
kill $hpid 2>/dev/null
wait $hpid 2>/dev/null

# ---- the wasm level (OCI) ------------------------------------------------------------
expect_match "cella features lists the wasm level as built" '"run.cella.levels": "[^"]*wasm[^"]*\(built\)' \
    "$("$CELLA" features)"
B=$WORK/bundle
mkdir -p "$B/rootfs/data" "$B/rootfs/proc"
chmod 755 "$B" "$B/rootfs"
cp "$PROBE" "$B/rootfs/probe.wasm"
cp "$PROBE" "$B/rootfs/probe"
echo "from the rootfs" > "$B/rootfs/data/f.txt"
(cd "$B" && "$CELLA" spec) || { echo "Bail out! cella spec"; exit 1; }
cfg "$B" "c['process']['terminal']=False" "c['root']['readonly']=False" \
    "c['process']['args']=['/probe.wasm','args','x']" "c['process']['env'].append('FROM_SPEC=yes')"
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }
orun() { timeout -k 2 20 "$CELLA" --root "$ROOT" run --bundle "$B" "$@" "$(newid w)" 2>&1; }

out=$(orun)
expect_eq "a bundle whose args[0] is a .wasm runs under the engine" "argv[0]=/probe.wasm
argv[1]=args
argv[2]=x" "$out"
cfg "$B" "c['process']['args']=['/probe.wasm','env','FROM_SPEC']"
expect_eq "process.env reaches the module" "FROM_SPEC=yes" "$(orun)"
cfg "$B" "c['process']['args']=['/probe.wasm','cat','/data/f.txt']"
expect_eq "the container's root is the module's /" "from the rootfs" "$(orun)"
cfg "$B" "c['process']['args']=['/probe.wasm','exit','7']"
orun > /dev/null
expect_eq "the module's exit code is the container's" 7 $?
reset
cfg "$B" "c['process']['args']=['/probe','args']" "c['annotations']={'module.wasm.image/variant':'compat'}"
expect_eq "annotation module.wasm.image/variant=compat selects the engine" "argv[0]=/probe
argv[1]=args" "$(orun)"
reset
cfg "$B" "c['process']['args']=['/probe','args']"
expect_eq "--isolation wasm selects the engine" "argv[0]=/probe
argv[1]=args" "$(timeout 20 "$CELLA" --root "$ROOT" --isolation wasm run --bundle "$B" "$(newid w)" 2>&1)"
cfg "$B" "c['annotations']={'run.cella.isolation':'wasm'}"
expect_eq "annotation run.cella.isolation=wasm selects the engine" "argv[0]=/probe
argv[1]=args" "$(orun)"

# Defence in depth: the container's seccomp filter and cgroup limits apply to the engine.
reset
cfg "$B" "c['process']['args']=['/probe.wasm','write','/data/new.txt','x']" \
    "c['linux']['seccomp']={'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['openat2'],'action':'SCMP_ACT_ERRNO','errnoRet':1}]}"
expect_eq "the container's seccomp filter applies to the engine" \
    "open /data/new.txt: Operation not permitted" "$(orun)"
reset
cfg "$B" "c['process']['args']=['/probe.wasm','touch','256']" \
    "c['linux'].setdefault('resources',{})['memory']={'limit':64*1024*1024,'swap':64*1024*1024}"
out=$(orun)
rc=$?
expect_eq "the container's memory limit applies to the module (256 MiB touched, 64 MiB allowed: killed)" \
    137 "$rc"

# Lifecycle: create / start / state / kill / delete of a module that sleeps.
reset
cfg "$B" "c['process']['args']=['/probe.wasm','sleep','30']"
id=$(newid life)
check "create a wasm container" cella create --bundle "$B" "$id"
expect_eq "state: created" created "$(state_field "$id" status)"
check "start it" cella start "$id"
expect_eq "state: running" running "$(state_field "$id" status)"
pid=$(state_field "$id" pid)
cg=$(cat /proc/$pid/cgroup 2>/dev/null | grep -c "$id")
if [ "$cg" -gt 0 ]; then ok "the engine runs in the container's cgroup"; else not_ok "the engine runs in the container's cgroup" "$(cat /proc/$pid/cgroup)"; fi
if [ "$(readlink /proc/$pid/ns/pid)" != "$(readlink /proc/self/ns/pid)" ] &&
    [ "$(readlink /proc/$pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]; then
    ok "the engine runs in the container's pid and mount namespaces"
else
    not_ok "the engine runs in the container's pid and mount namespaces"
fi
# The engine holds only stdio and what WASI opened (its copies of stdio, the
# root preopen): the fds of cella create (state directory, sync and start
# sockets) were closed as execve would close them.
extra=$(for f in /proc/$pid/fd/*; do readlink "$f"; done | grep -e "$ROOT" -e '^socket:' -e '^pipe:')
expect_eq "no fd of cella create is left in the engine" "" "$extra"
check "kill (SIGTERM) ends the module" cella kill "$id" TERM
wait_for 50 sh -c "[ \"\$(timeout 5 $CELLA --root $ROOT state $id | grep -c stopped)\" = 1 ]"
expect_eq "state: stopped after kill" stopped "$(state_field "$id" status)"
check "delete it" cella delete "$id"
assert_clean "nothing left after delete" "$id"

# Load errors reach `start` (or `run`) as one line, and nothing is left.
reset
cp "$WORK/bad.wasm" "$B/rootfs/bad.wasm"
cfg "$B" "c['process']['args']=['/bad.wasm']"
id=$(newid bad)
out=$(timeout 20 "$CELLA" --root "$ROOT" run --bundle "$B" "$id" 2>&1)
rc=$?
expect_match "a malformed module in a bundle: one clear line" "bad.wasm: malformed module: magic header not detected" "$out"
expect_eq "... and a non-zero exit" 1 "$([ $rc -ne 0 ] && echo 1 || echo 0)"
assert_clean "... and nothing left" "$id"
cfg "$B" "c['process']['args']=['/missing.wasm']"
id=$(newid miss)
out=$(timeout 20 "$CELLA" --root "$ROOT" run --bundle "$B" "$id" 2>&1)
expect_match "a missing module names process.args[0]" "process.args\[0\].*missing.wasm" "$out"
assert_clean "... and nothing left" "$id"

# The HTTP workload in a container on the host network, socket from the annotation.
reset
cp "$HTTPD" "$B/rootfs/httpd.wasm"
PORT=$((20000 + RANDOM % 20000))
cfg "$B" "c['process']['args']=['/httpd.wasm']" "c['process']['env'].append('RUNTIME_NAME=oci-wasm')" \
    "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='network']" \
    "c['annotations']={'run.cella.wasm.tcplisten':'127.0.0.1:$PORT'}"
id=$(newid http)
cella run --detach --bundle "$B" "$id" > "$WORK/http.out" 2>&1
if wait_for 50 curl -sf "http://127.0.0.1:$PORT/"; then
    expect_eq "the wasm workload in a container answers HTTP" "hello from oci-wasm" "$(curl -s "http://127.0.0.1:$PORT/")"
else
    not_ok "the wasm workload in a container answers HTTP" "$(cat "$WORK/http.out")"
fi
check "delete --force the server" cella delete --force "$id"
assert_clean "nothing left of the server" "$id"

plan_done
