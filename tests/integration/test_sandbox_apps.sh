#!/bin/bash
# Applications people run in gVisor, each run in the sandbox and compared
# with the same program on the host (issue 10's Go/CPython matrix): python3
# (http.server answering curl on the host, a ThreadPoolExecutor, subprocess
# pipelines), a static Go program, busybox httpd, Debian's sqlite3 CLI, and
# Debian's dynamic sort, find, tar and gzip on a 10 MB file. A program that
# cannot run yet is a skip naming the call the kernel answered ENOSYS
# (`cella --debug` lists them), never a silent pass.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sandbox_lib.sh"

sandbox_bundle "sandbox applications" busybox
if ! command -v gcc > /dev/null || [ ! -e /lib64/ld-linux-x86-64.so.2 ]; then
    skip "sandbox applications" "no glibc programs on the host to copy"
    plan_done
    exit 0
fi
R=$B/rootfs
CELLA_TIMEOUT=60 # a 10 MB sort takes a while through trapped calls
# Host network: servers in the sandbox answer curl on the host.
cfg "$B" "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='network']"

# same NAME SANDBOX-ARGS -- HOST-ARGS: stdout and exit code as on the host;
# a difference shows the ENOSYS list of the sandbox's run. With
# pending="CALL: why" a difference is a skip when CALL was ENOSYS.
same() {
    local name=$1 host_out host_rc
    shift
    local sargs=() hargs=()
    while [ "$1" != -- ]; do sargs+=("$1"); shift; done
    shift
    hargs=("$@")
    host_out=$("${hargs[@]}" 2> /dev/null)
    host_rc=$?
    setargs "${sargs[@]}"
    out=$(cella --debug --isolation sandbox run --bundle "$B" "$(newid app)" 2> "$WORK/serr")
    rc=$?
    if [ "$out" = "$host_out" ] && [ "$rc" = "$host_rc" ]; then
        ok "$name"
    elif [ -n "${pending:-}" ] && grep -q "unimplemented.*${pending%%:*}(" "$WORK/serr"; then
        skip "$name" "${pending%%:*} is ENOSYS:${pending#*:}"
    else
        not_ok "$name" "exit $rc (host $host_rc): $(echo "$out" | tail -3) / host: $(echo "$host_out" | tail -3) / $(grep -v 'debug: run' "$WORK/serr" | tail -3)"
    fi
}

# serve NAME PORT FILE ARGS...: ARGS run detached in a sandbox serve FILE
# (from the rootfs's /srv) on PORT; curl on the host gets it byte for byte
# and a 404 for a missing one; cella kill ends the server.
serve() {
    local name=$1 port=$2 file=$3 id
    shift 3
    id=$(newid srv)
    setargs "$@"
    cella --isolation sandbox run --detach --bundle "$B" "$id" > /dev/null 2> "$WORK/srv.err"
    if ! listening "$port"; then
        not_ok "$name listens" "$(cat "$WORK/srv.err")"
    else
        curl -s -m 20 -o "$WORK/got" "http://127.0.0.1:$port/$file"
        if cmp -s "$WORK/got" "$R/srv/$file"; then
            ok "$name serves a file to curl on the host, byte for byte"
        else
            not_ok "$name serves a file to curl on the host" "$(head -c 200 "$WORK/got")"
        fi
        expect_eq "... a 404 for a missing one" 404 \
            "$(curl -s -m 20 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")"
    fi
    cella kill "$id" KILL 2> /dev/null
    stopped() { [ "$(state_field "$id" status)" = stopped ]; }
    wait_for 100 stopped
    cella delete "$id" 2> /dev/null
    assert_clean "... nothing left after the server" "$id"
}

mkdir -p "$R/srv"
head -c 300000 /dev/urandom > "$R/srv/blob.bin"
printf '<h1>static</h1>\n' > "$R/srv/index.html"

# ---- busybox httpd --------------------------------------------------------
P=$(free_port)
serve "busybox httpd" "$P" blob.bin /bin/busybox httpd -f -p "127.0.0.1:$P" -h /srv

# ---- python3 ----------------------------------------------------------------
if sandbox_python; then
    P=$(free_port)
    serve "python3 -m http.server" "$P" blob.bin /usr/bin/python3 -m http.server "$P" --bind 127.0.0.1 --directory /srv
    code='from concurrent.futures import ThreadPoolExecutor
import hashlib, threading
def work(i):
    h = hashlib.sha256()
    for j in range(2000): h.update(b"%d:%d" % (i, j))
    return i, h.hexdigest()[:12]
with ThreadPoolExecutor(max_workers=6) as ex:
    res = list(ex.map(work, range(24)))
print(res[:3], res[-1], len(res), len({threading.get_ident()}))'
    same "python3 ThreadPoolExecutor: 6 workers, 24 jobs" /usr/bin/python3 -c "$code" -- $PY -c "$code"
    with_libs /usr/bin/sort /usr/bin/head /usr/bin/tr
    code='import subprocess as sp
seq = sp.Popen(["/bin/busybox", "seq", "1", "20000"], stdout=sp.PIPE)
srt = sp.Popen(["/usr/bin/sort", "-rn"], stdin=seq.stdout, stdout=sp.PIPE)
head = sp.Popen(["/usr/bin/head", "-3"], stdin=srt.stdout, stdout=sp.PIPE)
seq.stdout.close(); srt.stdout.close()
print(head.communicate()[0].split(), head.wait(), srt.wait(), seq.wait())
r = sp.run(["/usr/bin/tr", "a-z", "A-Z"], input=b"through a pipe both ways\n", capture_output=True)
print(r.stdout, r.returncode)
print(sp.run("/bin/busybox echo $((6*7)) | /usr/bin/tr 4 X", shell=True, capture_output=True, text=True).stdout.strip())
print(sp.run(["/bin/busybox", "false"]).returncode, sp.call(["/bin/busybox", "sh", "-c", "exit 9"]))'
    same "python3 subprocess: a three-process pipeline, input/capture, shell=True, exit codes" \
        /usr/bin/python3 -c "$code" -- $PY -c "$code"
else
    skip "python3 applications" "no Debian $PY with its standard library"
fi

# ---- Go ---------------------------------------------------------------------
if ! command -v go > /dev/null; then
    skip "Go: a static program (goroutines, channels, net/http)" "no go (apt-get install golang-go)"
elif ! go_static "$R/bin/goprobe" "$REPO_ROOT/tests/sandbox/goprobe.go" 2> "$WORK/go.err"; then
    not_ok "Go: the probe builds" "$(head -3 "$WORK/go.err")"
else
    pending="sigaltstack: Go's runtime faults on it in its first thread's minit (served by the signals part of issue 10)"
    same "Go: a static program (goroutines, channels, time.Sleep, net/http on loopback)" \
        /bin/goprobe -- "$R/bin/goprobe"
    pending=
fi

# ---- sqlite3 CLI ------------------------------------------------------------
if [ -x /usr/bin/sqlite3 ]; then
    with_libs /usr/bin/sqlite3
    sql='create table t(id integer primary key, name text, v real);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 5000)
insert into t(name, v) select printf("n%05d", x), x * 1.5 from c;
create index ti on t(name);
begin; update t set v = v * 2 where id % 3 = 0; commit;
select count(*), sum(v), min(name), max(name) from t;
select name from t where name like "n0499%" order by name desc limit 3;
pragma integrity_check;'
    printf '%s\n' "$sql" > "$R/q.sql"
    rm -f "$WORK/host.db"
    same "sqlite3 CLI: a database file (journal, index, transaction, integrity check)" \
        /bin/busybox sh -c '/usr/bin/sqlite3 /tmp/app.db < /q.sql && /usr/bin/sqlite3 /tmp/app.db "select count(*) from t"' -- \
        sh -c "/usr/bin/sqlite3 '$WORK/host.db' < '$R/q.sql' && /usr/bin/sqlite3 '$WORK/host.db' 'select count(*) from t'"
else
    skip "sqlite3 CLI" "no /usr/bin/sqlite3 on the host (apt-get install sqlite3)"
fi

# ---- coreutils, findutils, tar, gzip on a 10 MB file ---------------------------
with_libs /usr/bin/sort /usr/bin/find /usr/bin/md5sum /usr/bin/wc /bin/tar /bin/gzip
mkdir -p "$R/data/sub/deeper"
python3 -c "
import random
r = random.Random(7)
with open('$R/data/big.txt', 'w') as f:
    while f.tell() < 10 << 20:
        f.write('%08d %s\n' % (r.randrange(10**8), 'x' * r.randrange(40)))
"
touch "$R/data/sub/a.txt" "$R/data/sub/deeper/b.txt" "$R/data/sub/c.log"
# The same script on both sides; D is where data/ is, T a scratch directory.
script='cd "$D/data" || exit 1
/usr/bin/wc -lc big.txt
/usr/bin/sort big.txt | /usr/bin/md5sum
/usr/bin/sort -n -k1,1 -S 2M -T "$T" big.txt | /usr/bin/md5sum
/usr/bin/find . -name "*.txt" | /usr/bin/sort
/usr/bin/find . -type d -newer big.txt -o -type f -size +1M -print | /usr/bin/sort
/bin/gzip -c big.txt > "$T/big.gz" && /bin/gzip -dc "$T/big.gz" | /usr/bin/md5sum
/bin/tar -cf "$T/d.tar" sub big.txt && /bin/tar -tf "$T/d.tar" | /usr/bin/sort
mkdir -p "$T/x" && /bin/tar -C "$T/x" -xf "$T/d.tar" && /usr/bin/md5sum < "$T/x/big.txt"
/bin/tar -czf - big.txt | /bin/gzip -t && echo gzip ok'
mkdir -p "$WORK/t"
same "Debian's sort (a 10 MB file, threads, temporary files), find, gzip, tar" \
    /bin/busybox env D=/ T=/tmp /bin/busybox sh -c "$script" -- env D="$R" T="$WORK/t" sh -c "$script"

plan_done
