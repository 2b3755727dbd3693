#!/bin/bash
# Fields cella refused as "not yet" and now applies (issue 16 point 3), each
# read back from inside the container or from the host.
source "$(dirname "$0")/lib.sh"

B=$WORK/bundle
make_bundle "$B"
args "$B" 'exec sleep 100'
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# ---- linux.personality: the execution domain, seen by uname -------------------------------
reset
args "$B" 'uname -m'
cfg "$B" "c['linux']['personality']={'domain':'LINUX32'}"
if [ "$(uname -m)" != x86_64 ]; then
    skip "linux.personality LINUX32: uname -m inside is i686" "host is $(uname -m), not x86_64"
else
    id=$(newid p)
    expect_eq "linux.personality LINUX32: uname -m inside is i686" i686 "$(cella run --bundle "$B" "$id" 2>&1)"
    cella delete --force "$id" > /dev/null 2>&1
    cfg "$B" "c['linux']['personality']={'domain':'LINUX'}"
    id=$(newid p)
    expect_eq "linux.personality LINUX: uname -m inside is the host's" "$(uname -m)" "$(cella run --bundle "$B" "$id" 2>&1)"
    cella delete --force "$id" > /dev/null 2>&1
    # exec: the same domain as the init
    reset
    cfg "$B" "c['linux']['personality']={'domain':'LINUX32'}"
    id=$(newid p)
    cella run -d --bundle "$B" "$id" > /dev/null 2>&1
    expect_eq "linux.personality LINUX32: exec'd process's uname -m is i686" i686 "$(cella exec "$id" uname -m 2>&1)"
    cella delete --force "$id" > /dev/null 2>&1
fi
reset
cfg "$B" "c['linux']['personality']={'domain':'PER_SVR4'}"
id=$(newid p)
fails "linux.personality: an unknown domain refused, named" "$id" 'linux\.personality\.domain: unknown domain `PER_SVR4`' cella create --bundle "$B" "$id"
reset
cfg "$B" "c['linux']['personality']={'domain':'LINUX','flags':['ADDR_NO_RANDOMIZE']}"
id=$(newid p)
fails "linux.personality: a flag refused, named" "$id" 'linux\.personality\.flags: `ADDR_NO_RANDOMIZE` is not supported' cella create --bundle "$B" "$id"

plan_done
