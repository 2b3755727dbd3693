#!/bin/bash
# The sandbox level's sockets, host network mode: cella's kernel owns the
# host sockets (in the container's network namespace, here the host's) and
# serves socket/bind/listen/accept4/connect/send/recv and epoll for the
# workload. Real programs: the bench's static httpd (epoll, accept4,
# signalfd) serving curl on the host, busybox wget inside fetching from it,
# busybox nc listening (a blocking accept and read park the process, not
# the kernel); Unix and netlink sockets are refused. A blocking read of
# stdin from outside parks as a socket's does.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sandbox_lib.sh"

HTTPD=${HTTPD:-$(dirname "$CELLA")/cella-bench-httpd}
if ! file -L "$HTTPD" 2>/dev/null | grep -q 'statically linked'; then
    skip "sandbox sockets" "no static $HTTPD (make)"
    plan_done
    exit 0
fi
sandbox_bundle "sandbox sockets" busybox
cp "$HTTPD" "$B/rootfs/httpd" # not bin/httpd: busybox's applet link
# Host network: no network namespace of its own.
cfg "$B" "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='network']" \
    "c['process']['env'].append('RUNTIME_NAME=the sandbox')"

P=$(free_port)
id=$(newid httpd)
setargs /httpd "$P"
cella --isolation sandbox run --detach --bundle "$B" "$id" > /dev/null 2> "$WORK/serr"
if listening "$P"; then ok "the bench's httpd listens from the sandbox (socket, setsockopt, bind, listen)"; else not_ok "the bench's httpd listens" "$(cat "$WORK/serr")"; fi
expect_eq "curl on the host gets its answer (epoll_wait parked until the connection, accept4, recvfrom, sendto)" \
    "hello from the sandbox" "$(curl -s -m 10 "http://127.0.0.1:$P/")"
expect_eq "... a 404 for another path" 404 "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/nope")"
urls=()
for i in $(seq 50); do urls+=("http://127.0.0.1:$P/"); done
expect_eq "... 50 requests on one kept-alive connection" 50 "$(curl -s -m 30 "${urls[@]}" | grep -c 'hello from the sandbox')"

# A client inside, the server in another sandbox: connect parks until done.
W=$WORK/w
cp -a "$B" "$W"
cfg "$W" "c['process']['args']=['/bin/busybox','wget','-q','-O','-','http://127.0.0.1:$P/']"
out=$(cella --isolation sandbox run --bundle "$W" "$(newid wget)" 2> "$WORK/werr")
expect_eq "busybox wget in a sandbox fetches from it (connect, poll, read, write)" "hello from the sandbox" "$out"
cella kill "$id" TERM
stopped() { [ "$(state_field "$id" status)" = stopped ]; }
if wait_for 100 stopped; then ok "the httpd ends with cella kill"; else not_ok "the httpd ends with cella kill" "$(state_field "$id" status)"; fi
cella delete "$id"
assert_clean "nothing left after the httpd" "$id"

# busybox nc listening: a blocking accept and read park the process.
P=$(free_port)
setargs /bin/busybox nc -l -p "$P"
id=$(newid nc)
cella --isolation sandbox run --bundle "$B" "$id" > "$WORK/ncout" 2> "$WORK/ncerr" &
pid=$!
if listening "$P"; then
    exec 3<> "/dev/tcp/127.0.0.1/$P"
    echo "to the sandbox" >&3
    exec 3>&-
    wait "$pid"
    rc=$?
    expect_eq "busybox nc -l receives what the host sends (a blocking accept, then read)" "to the sandbox" "$(cat "$WORK/ncout")"
    expect_eq "... and exits 0 at the end of the stream" 0 "$rc"
else
    not_ok "busybox nc -l listens" "$(cat "$WORK/ncerr")"
    kill "$pid" 2> /dev/null
fi
assert_clean "nothing left after nc" "$id"

setargs /bin/probe families
out=$(cella --isolation sandbox run --bundle "$B" "$(newid fam)" 2>&1)
expect_eq "IPv4 and IPv6 sockets; Unix (host paths) and netlink sockets refused" "inet: ok
inet6: ok
unix: Address family not supported by protocol
netlink: Address family not supported by protocol" "$out"

# stdin from outside (a FIFO nobody writes yet): cat's blocking read parks
# it; the kernel's loop keeps serving the other process, which prints.
mkfifo "$WORK/in"
setargs /bin/busybox sh -c '(sleep 0.2; echo ticked) & cat; wait'
id=$(newid stdin)
cella --isolation sandbox run --bundle "$B" "$id" < "$WORK/in" > "$WORK/stdin.out" 2>&1 &
pid=$!
exec 4> "$WORK/in"
ticked() { grep -q ticked "$WORK/stdin.out"; }
if wait_for 100 ticked; then
    ok "a blocking read of stdin (a FIFO) does not stop the other processes"
else
    not_ok "a blocking read of stdin (a FIFO) does not stop the other processes" "$(cat "$WORK/stdin.out")"
fi
echo "from stdin" >&4
exec 4>&-
wait "$pid"
expect_eq "... and the read gets what comes later" "ticked
from stdin" "$(cat "$WORK/stdin.out")"

# cella bench drives the sandbox level through the OCI command line as the
# others: a row with every figure, as syscall interposition.
BENCH_DIR=$(dirname "$CELLA")
if [ -x "$BENCH_DIR/cella-bench" ]; then
    P=$(free_port)
    timeout 300 "$CELLA" bench --quick --runs 3 --duration 0.5 --port "$P" --runtimes cella-sandbox \
        --json "$WORK/bench.json" > "$WORK/bench.out" 2> "$WORK/bench.err"
    got=$(python3 - "$WORK/bench.json" <<'PY' 2>&1
import json, sys
r = [x for x in json.load(open(sys.argv[1]))['runtimes'] if x['name'] == 'cella-sandbox'][0]
print(r['name'], r['ok'], r['boundary'], r['runs_ok'], r['thr_c10']['rps'] > 10,
      r['lat_c1']['errors'], r['mem_idle']['pss_kb'] > 0)
PY
)
    expect_eq "cella bench measures cella-sandbox (cold start, latency, req/s, PSS)" \
        "cella-sandbox True syscall_interposition 3 True 0 True" "$got"
else
    skip "cella bench's cella-sandbox row" "cella-bench is not built next to $CELLA"
fi

plan_done
