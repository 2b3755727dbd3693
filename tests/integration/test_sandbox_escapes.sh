#!/bin/bash
# Attacks on the sandbox level (issue 13 point 5, issue 10 point 1): a hostile
# static program (tests/sandbox/escape.c) tries the stub region through every
# memory call, descriptors that are not the sandbox's, ways out of the root,
# host paths in what it reads, clone flags and forged context pages. Each
# attack is a case that fails when the attack succeeds; docs/sandbox.md
# ("Attacks tried") lists them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sandbox_lib.sh"

sandbox_bundle "sandbox escapes"
musl-gcc -static -O2 -o "$B/rootfs/bin/escape" "$REPO_ROOT/tests/sandbox/escape.c" -lpthread ||
    { echo "Bail out! escape.c"; exit 1; }
echo "a file in the rootfs" > "$B/rootfs/etc/msg"
echo "the host's secret" > "$B/secret" # beside the rootfs
echo "the host's secret" > "$WORK/secret"
mkdir -p "$WORK/data" "$WORK/ro"
echo "host data" > "$WORK/data/file"
echo "read-only data" > "$WORK/ro/file"
cfg "$B" "c['mounts'] += [{'destination': '/data', 'type': 'bind', 'source': '$WORK/data', 'options': ['rbind', 'rw']},
 {'destination': '/ro', 'type': 'bind', 'source': '$WORK/ro', 'options': ['rbind', 'ro']}]"

# attack GROUP: run the group, then one case per line of its output.
attack() {
    local group=$1
    srun "$(newid "$group")" /bin/escape "$group"
    local n=0 line
    while IFS= read -r line; do
        case $line in
        *": blocked") ok "$group: ${line%: blocked}"; n=$((n + 1)) ;;
        *": ESCAPED "*) not_ok "$group: $line"; n=$((n + 1)) ;;
        esac
    done <<< "$out"
    expect_eq "$group: the attacks ran and the sandbox lives on (the last line)" "alive" "$(tail -n 1 <<< "$out")"
    check "$group: some attacks ran" [ "$n" -gt 0 ]
}

attack mem
attack fds
expect_eq "fds: the host's /dev/null keeps its mode" "666" "$(stat -c %a /dev/null)"
attack paths
expect_eq "paths: the host's file beside the rootfs is untouched" "the host's secret" "$(cat "$B/secret")"
expect_eq "paths: the read-only mount's file is untouched" "read-only data" "$(cat "$WORK/ro/file")"
attack threads
attack forge

# What the workload reads about its files never names a host path.
srun "$(newid leaks)" /bin/escape leaks
expect_match "leaks: the program ran (readlink of /proc/self/fd/N of a directory is its sandbox path)" \
    "/proc/self/fd/[0-9]+ -> /etc" "$out"
expect_match "... getcwd in a bind mount is the sandbox's path" "getcwd /data" "$out"
for host in "$B" "$WORK" "$ROOT" "$REPO_ROOT"; do
    expect_eq "leaks: no host path ($host) in readlink of /proc links, getcwd, /proc/mounts, maps, status" \
        "" "$(grep -F "$host" <<< "$out")"
done
expect_eq "... nor in stderr" "" "$(grep -F "$WORK" "$WORK/serr")"

plan_done
