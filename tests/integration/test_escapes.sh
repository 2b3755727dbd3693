#!/bin/bash
# Escapes (issue 13, point 5): each attack is a case that fails if the
# attack succeeds. The container level: writes to masked and read-only
# /proc and /sys paths; /proc/self/exe reopened for writing from inside
# (CVE-2019-5736); a mount destination that is a symlink out of the rootfs,
# also swapped while create runs (CVE-2021-30465); fds of cella leaked into
# the process and a process.cwd through them (CVE-2024-21626). The wasm
# level: a symlink swapped under a preopen while the module opens it, loads
# past linear memory (JIT and interpreter), a huge memory.grow. The sandbox
# level: symlinks (absolute, climbing) and `..` out of its root. The other
# attacks have their cases where their level is tested (docs/reliability.md):
# `..` and symlinks out of a preopen (test_wasm.sh), the sandbox's stub
# region and a forged signal frame (test_sandbox*.sh), a
# guest's oversized frame and console flood (test_qemu.sh, test_agent.c).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/reliab_lib.sh"

ATTACK=$WORK/attack
gcc -static -O2 -o "$ATTACK" "$REPO_ROOT/tests/escapes/attack.c" || { echo "Bail out! attack.c"; exit 1; }
B=$WORK/bundle
make_bundle "$B"
cp "$ATTACK" "$B/rootfs/bin/attack"
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# ---- masked and read-only paths -------------------------------------------------------------
# Opened for writing, nothing written: a success on the host's /proc/sys
# would change the host.
PATHS="/proc/kcore /proc/sysrq-trigger /proc/sys/kernel/core_pattern /proc/sys/vm/overcommit_memory
/proc/timer_list /proc/keys /sys/kernel/uevent_helper /sys/fs/cgroup/cgroup.procs /proc/irq/0/smp_affinity"
cfg "$B" "c['process']['args']=['/bin/attack','write']+'''$PATHS'''.split()"
out=$(cella run --bundle "$B" "$(newid mask)" 2>&1)
for p in $PATHS; do
    line=$(printf '%s\n' "$out" | grep -F -- "$p:")
    case "$line" in
    *"opened for writing"* | "") not_ok "no write to $p from the container" "${line:-no answer: $out}" ;;
    *) ok "no write to $p from the container (${line#*: })" ;;
    esac
done

# ---- CVE-2019-5736: the runtime's binary through /proc/self/exe -----------------------------
# The container's process waits for a process of cella's size to appear in
# it (a `#!/proc/self/exe` script given to exec runs cella's image there),
# holds its exe open and, once it is gone, reopens it for writing. The
# runtime is a copy, so that a success breaks nothing else.
reset
mkdir -p "$WORK/rt"
cp "$CELLA" "$WORK/rt/cella"
RT=$WORK/rt/cella
size=$(stat -c %s "$RT")
h0=$(sha256sum < "$RT")
printf '#!/proc/self/exe\n' > "$B/rootfs/bin/evil"
chmod 755 "$B/rootfs/bin/evil"
cfg "$B" "c['process']['args']=['/bin/attack','exe','$size']"
id=$(newid exe)
timeout 20 "$RT" --root "$ROOT" run -d --bundle "$B" "$id" < /dev/null > "$WORK/exe.out" 2>&1
for ((i = 0; i < 50; i++)); do
    timeout 10 "$RT" --root "$ROOT" exec "$id" /bin/evil > /dev/null 2>&1
    grep -q opened "$WORK/exe.out" && break
done
for ((i = 0; i < 150; i++)); do
    grep -qE 'write|reopen|never' "$WORK/exe.out" && break
    sleep 0.1
done
expect_match "CVE-2019-5736: the container got hold of the exe of cella's process in it (the attack ran)" \
    "opened that of pid" "$(cat "$WORK/exe.out")"
expect_nomatch "CVE-2019-5736: ... and could not write to it" "write: OK" "$(cat "$WORK/exe.out")"
expect_eq "CVE-2019-5736: cella's binary on the host is unchanged" "$h0" "$(sha256sum < "$RT")"
timeout 10 "$RT" --root "$ROOT" delete --force "$id" > /dev/null 2>&1

# ---- CVE-2021-30465: a mount destination that is a symlink out of the rootfs ----------------
reset
HOSTDIR=$WORK/hostdir
mkdir -p "$HOSTDIR"
ln -s "$HOSTDIR" "$B/rootfs/abs"
ln -s "../../../../../../../../..$HOSTDIR" "$B/rootfs/rel"
cfg "$B" "c['mounts']+=[{'destination':'/abs','type':'tmpfs','source':'tmpfs'},{'destination':'/rel','type':'tmpfs','source':'tmpfs'}]"
args "$B" 'echo in > /abs/x; echo in > /rel/y; grep -c " /abs \| /rel \| $(echo "'"$HOSTDIR"'") " /proc/self/mountinfo'
out=$(cella run --bundle "$B" "$(newid link)" 2>&1)
expect_eq "... the tmpfs are mounted in the container (the attack ran)" 2 "$out"
expect_eq "CVE-2021-30465: symlinked mount destinations stay in the rootfs (host dir untouched)" "" \
    "$(ls -A "$HOSTDIR")"
expect_eq "... and no mount on the host's side" "" "$(grep -F " $HOSTDIR " /proc/self/mountinfo)"

# The destination swapped between a directory and a symlink to the host
# dir while creates run (the race of the CVE): never a mount outside.
reset
rm -f "$B/rootfs/abs" "$B/rootfs/rel"
cfg "$B" "c['mounts']+=[{'destination':'/swap','type':'tmpfs','source':'tmpfs'}]"
args "$B" 'echo in > /swap/x 2>/dev/null; true'
(
    for ((i = 0; i < 4000; i++)); do
        rm -rf "$B/rootfs/swap.d" && mkdir "$B/rootfs/swap.d" && mv -T "$B/rootfs/swap.d" "$B/rootfs/swap"
        ln -sfn "$HOSTDIR" "$B/rootfs/swap.l" && mv -T "$B/rootfs/swap.l" "$B/rootfs/swap"
        [ -e "$WORK/stop" ] && break
    done
) 2> /dev/null &
swapper=$!
for ((i = 0; i < 20; i++)); do
    cella run --bundle "$B" "$(newid swap)" > /dev/null 2>&1
done
touch "$WORK/stop"
wait $swapper
expect_eq "CVE-2021-30465: 20 runs while /swap flips to a symlink to the host: host dir untouched" "" \
    "$(ls -A "$HOSTDIR")"
expect_eq "... and no mount on the host's side" "" "$(grep -F " $HOSTDIR " /proc/self/mountinfo)"

# ---- CVE-2024-21626: fds of cella in the process, process.cwd through them ------------------
reset
cfg "$B" "c['process']['args']=['/bin/attack','fds']"
out=$(cella run --bundle "$B" "$(newid fds)" 2>&1)
expect_eq "CVE-2024-21626: the process has no fd beyond 0-2, and its cwd is its own /" "cwd: /" "$out"
# exec: the same view.
reset
args "$B" 'exec sleep 1000'
id=$(newid fdexec)
cella run -d --bundle "$B" "$id" < /dev/null > /dev/null 2>&1
expect_eq "CVE-2024-21626: an exec'd process has no fd beyond 0-2 either" "cwd: /" \
    "$(cella exec "$id" /bin/attack fds 2>&1)"
cella delete --force "$id" > /dev/null 2>&1
# process.cwd /proc/self/fd/N: refused, or a directory inside the container.
reset
for n in 3 4 5 6 7 8 9; do
    cfg "$B" "c['process']['cwd']='/proc/self/fd/$n'" "c['process']['args']=['/bin/attack','fds']"
    id=$(newid cwd)
    out=$(cella run --bundle "$B" "$id" 2>&1)
    cwd=$(printf '%s\n' "$out" | sed -n 's/^cwd: //p')
    case "$cwd" in
    "") ok "process.cwd /proc/self/fd/$n: refused ($(printf '%s' "$out" | head -1))" ;;
    /proc/* | /dev/* | /) ok "process.cwd /proc/self/fd/$n: stays in the container ($cwd)" ;;
    *) not_ok "process.cwd /proc/self/fd/$n: a directory from outside the container" "$out" ;;
    esac
done

# ---- sandbox: symlinks and `..` out of the root ----------------------------------------------
# cella's kernel resolves every path beneath the rootfs: a symlink to a host
# path, one that climbs with `..`, and `..` itself stop at the root.
if file -L "$BUSYBOX" 2> /dev/null | grep -q 'statically linked'; then
    reset
    mkdir -p "$WORK/outside"
    echo secret > "$WORK/outside/secret.txt"
    ln -sfn "$WORK/outside/secret.txt" "$B/rootfs/abs-secret"
    ln -sfn "../../../../../../../..$WORK/outside/secret.txt" "$B/rootfs/rel-secret"
    ln -sfn "$WORK/outside" "$B/rootfs/abs-dir"
    for p in /abs-secret /rel-secret /abs-dir/secret.txt "/../../../../../../..$WORK/outside/secret.txt"; do
        cfg "$B" "c['process']['args']=['/bin/busybox','cat','$p']"
        out=$(cella --isolation sandbox run --bundle "$B" "$(newid sbx)" 2>&1)
        expect_nomatch "sandbox: $p does not reach the host's file ($out)" "^secret$" "$out"
    done
else
    skip "sandbox level escapes" "$BUSYBOX is not static"
fi

# ---- wasm: a symlink swapped under a preopen --------------------------------------------------
WASI_CC=(clang --target=wasm32-wasi --sysroot=/usr)
AW=$WORK/attack.wasm
if "${WASI_CC[@]}" -O2 -o "$AW" "$REPO_ROOT/tests/escapes/attack_wasm.c" 2> /dev/null; then
    D=$WORK/pre
    mkdir -p "$D" "$WORK/outside"
    echo secret > "$WORK/outside/secret.txt"
    echo inside > "$D/in.txt"
    ln -s in.txt "$D/link"
    (
        for ((i = 0; i < 100000; i++)); do
            ln -sfn "$WORK/outside/secret.txt" "$D/l2" && mv -T "$D/l2" "$D/link"
            ln -sfn in.txt "$D/l2" && mv -T "$D/l2" "$D/link"
            [ -e "$WORK/stopw" ] && break
        done
    ) 2> /dev/null &
    swapper=$!
    out=$(timeout -k 2 60 "$CELLA" wasm run --dir "$D::/data" "$AW" race /data/link 20000 2>&1)
    touch "$WORK/stopw"
    wait $swapper
    expect_match "wasm: 20000 opens of a symlink swapped to outside the preopen: never the secret ($out)" \
        "^secret 0 failed [0-9]+$" "$out"
    for jit in 1 0; do
        for off in 0 1 65535 0x7fffffff; do
            out=$(CELLA_WASM_JIT=$jit timeout -k 2 20 "$CELLA" wasm run "$AW" oob "$off" 2>&1)
            rc=$?
            expect_eq "wasm (JIT=$jit): a load $off bytes past linear memory traps" \
                "134 wasm trap: out of bounds memory access" "$rc $out"
        done
    done
    expect_eq "wasm: memory.grow past 4 GiB is refused" "grow -1" \
        "$(timeout -k 2 20 "$CELLA" wasm run "$AW" grow 70000 2>&1)"
else
    skip "wasm level escapes" "no C to wasm32-wasi toolchain"
fi

plan_done
