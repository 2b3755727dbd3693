#!/bin/bash
# The sandbox level's check at create: process.args[0], found in the rootfs
# as the container's init finds it, must be an x86-64 ELF executable whose
# interpreter, if it names one, is in the rootfs. A missing file, a script,
# a dynamic executable without its interpreter or a directory fails create
# with one line and leaves nothing; `run` then exits as a shell would: 127
# for a program (or interpreter) that is not there, 126 for one the kernel
# cannot run. Dynamic executables that run: test_sandbox_dyn.sh.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sandbox_lib.sh"

sandbox_bundle "sandbox check"
printf '#!/bin/sh\necho a script\n' > "$B/rootfs/bin/script"
chmod +x "$B/rootfs/bin/script"
cp /bin/ls "$B/rootfs/bin/dynamic"
ln -s /bin/probe "$B/rootfs/bin/plink"

# refused NAME RE RC ARGS...: create fails with one line matching RE, run exits RC.
refused() {
    local name=$1 re=$2 want=$3 id
    shift 3
    setargs "$@"
    id=$(newid chk)
    fails "create: $name" "$id" "$re" cella --isolation sandbox create --bundle "$B" "$id"
    id=$(newid chk)
    cella --isolation sandbox run --bundle "$B" "$id" > /dev/null 2>&1
    expect_eq "run: $name exits $want" "$want" "$?"
    assert_clean "run: $name: nothing left" "$id"
}

refused "a missing file is named" 'process.args\[0\]: `/bin/nope` in the rootfs: No such file' 127 /bin/nope
refused "a name not on PATH" 'process.args\[0\]: `nope` not found in \$PATH of the rootfs' 127 nope
refused "a script" '`/bin/script`: a script' 126 /bin/script
refused "a script found on PATH" '`/bin/script`: a script' 126 script
refused "a dynamic executable whose interpreter is missing" '`/bin/dynamic`: its interpreter `/lib64/ld-linux-x86-64.so.2` in the rootfs: No such file or directory$' 127 /bin/dynamic
refused "a directory" '`/etc` in the rootfs: Is a directory' 126 /etc

setargs probe hello
out=$(cella --isolation sandbox run --bundle "$B" "$(newid ok)" 2>&1)
expect_eq "a static executable found on PATH runs" "hello from the sandbox" "$out"
setargs /bin/plink hello
out=$(cella --isolation sandbox run --bundle "$B" "$(newid ok)" 2>&1)
expect_eq "... and through a symlink in the rootfs" "hello from the sandbox" "$out"
# Beneath a mount of the spec: known only at run time, so not refused up front.
mkdir -p "$WORK/mnt"
cp "$B/rootfs/bin/probe" "$WORK/mnt/probe"
cfg "$B" "c['mounts'].append({'destination': '/opt', 'type': 'bind', 'source': '$WORK/mnt', 'options': ['bind', 'ro']})"
setargs /opt/probe hello
id=$(newid mnt)
cella --isolation sandbox create --bundle "$B" "$id" > /dev/null 2> "$WORK/cerr"
expect_eq "a program beneath a mount of the spec is not refused at create" 0 "$?"
cella delete --force "$id" > /dev/null 2>&1
assert_clean "... nothing left after delete" "$id"

plan_done
