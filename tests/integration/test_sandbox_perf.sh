#!/bin/bash
# The sandbox level's fast paths (docs/sandbox.md, "cella bench"): a recv
# or read of a non-blocking socket the kernel found empty as it answered
# the short one before is answered by the stub itself with EAGAIN. The
# static probe (tests/sandbox/recvprobe.c) prints the same lines in the
# sandbox as on the host's Linux: the empty socket, MSG_DONTWAIT and
# MSG_PEEK, no bytes, read(), data the process sent itself since, the
# peer's end of stream, data another thread sent and announced through
# memory alone; in the sandbox the answer's hint is there after a short
# recv or read and gone after the next call.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sandbox_lib.sh"

sandbox_bundle "sandbox fast paths"
musl-gcc -static -O2 -o "$B/rootfs/bin/recvprobe" "$REPO_ROOT/tests/sandbox/recvprobe.c" -lpthread ||
    { echo "Bail out! recvprobe"; exit 1; }
# Host network: loopback of the host's namespace, as the bench's httpd.
cfg "$B" "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='network']"

native=$("$B/rootfs/bin/recvprobe" 2>&1)
id=$(newid recv)
srun "$id" /bin/recvprobe sandbox
expect_eq "the probe exits 0 in the sandbox" 0 "$rc"
expect_eq "recv on non-blocking sockets: the same lines as on Linux" "$native" \
    "$(grep -v hint <<< "$out")"
expect_eq "the short recv's answer carries the hint, the next call clears it" \
    "the answer's hint: this socket
the hint after that recv: none
the read's hint: this socket" "$(grep hint <<< "$out")"
assert_clean "nothing left" "$id"

plan_done
