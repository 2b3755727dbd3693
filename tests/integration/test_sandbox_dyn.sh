#!/bin/bash
# Dynamic executables and the memory calls at the sandbox level: programs
# linked against the host's glibc, copied into the rootfs with their
# libraries (ldd), run by cella's kernel with their interpreter from the
# rootfs; each prints the same as on the host. A dynamic executable whose
# interpreter is missing is refused with one line naming it (create; run
# exits 127 as runc's "no such file or directory"; execve: ENOENT).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sandbox_lib.sh"

sandbox_bundle "sandbox dynamic executables" busybox
LDSO=/lib64/ld-linux-x86-64.so.2
if ! command -v gcc > /dev/null || [ ! -e $LDSO ]; then
    skip "sandbox dynamic executables" "no gcc or no glibc $LDSO on the host"
    plan_done
    exit 0
fi
R=$B/rootfs

gcc -O2 -o "$WORK/dynprobe" "$REPO_ROOT/tests/sandbox/dynprobe.c" || { echo "Bail out! dynprobe"; exit 1; }
with_libs "$WORK/dynprobe" /bin/ls /bin/cat /usr/bin/env "$(readlink -f /lib/x86_64-linux-gnu/libm.so.6)"
mv "$R$WORK/dynprobe" "$R/bin/dynprobe"
rm -f "$R/lib/x86_64-linux-gnu/libm.so.6"
cp -L /lib/x86_64-linux-gnu/libm.so.6 "$R/lib/x86_64-linux-gnu/libm.so.6"
# A data file of four pages and a tail, for the file mappings.
python3 -c "import sys; sys.stdout.write(''.join(('page%d' % i).ljust(4096, '.') for i in range(4)) + 'tail!')" > "$R/data"
cp "$R/data" "$WORK/data"
mkdir -p "$R/d" && touch "$R/d/b" "$R/d/a" "$R/d/c"

# same NAME SANDBOX-ARGS -- HOST-ARGS: stdout and exit code as on the host.
same() {
    local name=$1 host_out host_rc
    shift
    local sargs=() hargs=()
    while [ "$1" != -- ]; do sargs+=("$1"); shift; done
    shift
    hargs=("$@")
    host_out=$("${hargs[@]}" 2> /dev/null)
    host_rc=$?
    srun "$(newid dyn)" "${sargs[@]}"
    expect_eq "$name" "$host_out" "$out"
    expect_eq "... exits $host_rc as on the host" "$host_rc" "$rc"
}

srun "$(newid dyn)" /bin/dynprobe hello
expect_eq "a dynamic C program runs (its interpreter and libc from the rootfs)" \
    "hello from a dynamic executable" "$out"
expect_eq "... exits 0, nothing on stderr" "0 " "$rc $(cat "$WORK/serr")"
srun "$(newid dyn)" /bin/dynprobe exit 7
expect_eq "... its exit code" 7 "$rc"
same "Debian's ls" /bin/ls -a /d -- /bin/ls -a "$R/d"
same "Debian's cat, a missing file among them (exit 1)" /bin/cat /data /nope -- /bin/cat "$WORK/data" /nope
same "Debian's env" /usr/bin/env -i A=1 B=two /usr/bin/env -- /usr/bin/env -i A=1 B=two /usr/bin/env
same "dlopen of libm and a call into it" /bin/dynprobe dlopen libm.so.6 cos -- "$WORK/dynprobe" dlopen libm.so.6 cos
same "mremap (in place, moved, shrunk, fixed, dontunmap), madvise, msync, mlock, mincore, brk" \
    /bin/dynprobe mem -- "$WORK/dynprobe" mem
same "file mappings: an offset, private copies, shared read-only, refusals (EACCES, ENODEV, EBADF)" \
    /bin/dynprobe filemap /data -- "$WORK/dynprobe" filemap "$WORK/data"
same "mmap's flags: MAP_32BIT placed low, MAP_LOCKED, MAP_GROWSDOWN, unknown ones ignored unless MAP_SHARED_VALIDATE" \
    /bin/dynprobe mapflags /data -- "$WORK/dynprobe" mapflags "$WORK/data"
srun "$(newid dyn)" /bin/dynprobe rlimit
expect_eq "getrlimit, setrlimit, prlimit64 on the process itself" \
    "getrlimit STACK: ok setrlimit CORE: ok now 1000 2000 soft above hard: Invalid argument prlimit64 on itself: ok 1000 2000 a bad resource: Invalid argument another process: No such process" \
    "$(echo $out)"
same "sysinfo: the host's memory as it was at the start (sysconf's physical pages)" \
    /bin/dynprobe sysinfo -- "$WORK/dynprobe" sysinfo
srun "$(newid dyn)" /bin/busybox sh -c 'ulimit -c 77; /bin/dynprobe rlimit > /dev/null; ulimit -c'
expect_eq "a limit set by a shell is its child's" 77 "$out"
cfg "$B" "c['process']['rlimits'] = [{'type': 'RLIMIT_NOFILE', 'soft': 100, 'hard': 200}, {'type': 'RLIMIT_STACK', 'soft': 4194304, 'hard': 8388608}]"
srun "$(newid dyn)" /bin/busybox sh -c 'ulimit -n; ulimit -Hn; ulimit -s; ulimit -n 300 2>/dev/null || echo "raising the hard limit refused"; ulimit -n 150; ulimit -n'
expect_eq "the spec's rlimits are the workload's; a hard limit is not raised" \
    "100 200 4096 raising the hard limit refused 150" "$(echo $out)"
cfg "$B" "c['process'].pop('rlimits', None)"
srun "$(newid dyn)" /bin/probe exec /bin/dynprobe hello
expect_eq "execve of a dynamic executable from a static one" "hello from a dynamic executable" "$out"
srun "$(newid dyn)" /bin/busybox sh -c '/bin/cat /data | /bin/busybox wc -c; /bin/ls /d | /bin/busybox tr "\n" " "'
expect_eq "dynamic programs forked from a shell, in pipelines" "16389 a b c" "$(echo $out)"
# As in a Debian rootfs: the interpreter an absolute symlink (resolved in the root).
real=$(readlink -f $LDSO)
mkdir -p "$R$(dirname "$real")"
cp "$R$LDSO" "$R$real"
[ "$R$real" = "$R$LDSO" ] || ln -sf "$real" "$R$LDSO"
srun "$(newid dyn)" /bin/dynprobe hello
expect_eq "an interpreter reached through an absolute symlink in the rootfs" \
    "hello from a dynamic executable" "$out"
srun "$(newid dyn)" $LDSO /bin/dynprobe hello
expect_eq "the interpreter run as the program, loading one itself" "hello from a dynamic executable" "$out"
if printf '#include <stdio.h>\nint main(void){puts("static-pie");return 4;}\n' |
    gcc -static-pie -O2 -x c -o "$R/bin/spie" - 2> /dev/null; then
    srun "$(newid dyn)" /bin/spie
    expect_eq "a glibc static-pie program" "static-pie 4" "$out $rc"
else
    skip "a glibc static-pie program" "gcc -static-pie failed (no libc.a?)"
fi

# musl's dynamic linker is its libc.so (Debian's musl: a relative symlink to it).
MUSL_LD=/lib/ld-musl-x86_64.so.1
if [ -e $MUSL_LD ] &&
    printf '#include <stdio.h>\nint main(void){puts("musl, dynamic");return 6;}\n' |
    musl-gcc -O2 -x c -o "$R/bin/mdyn" - 2> /dev/null && file "$R/bin/mdyn" | grep -q "interpreter $MUSL_LD"; then
    mkdir -p "$R/lib/x86_64-linux-musl"
    cp -L $MUSL_LD "$R/lib/x86_64-linux-musl/libc.so"
    ln -sf x86_64-linux-musl/libc.so "$R$MUSL_LD"
    srun "$(newid dyn)" /bin/mdyn
    expect_eq "a musl dynamic program (its interpreter through a relative symlink)" "musl, dynamic 6" "$out $rc"
else
    skip "a musl dynamic program" "no $MUSL_LD, or musl-gcc makes no dynamic executable"
fi

# Missing interpreter: refused at create naming it, 127 from run, ENOENT from execve.
gcc -O2 -Wl,--dynamic-linker=/lib/ld-missing.so.2 -o "$R/bin/noldso" "$REPO_ROOT/tests/sandbox/dynprobe.c" ||
    { echo "Bail out! noldso"; exit 1; }
setargs /bin/noldso hello
id=$(newid noldso)
fails "a missing interpreter fails create, naming it" "$id" \
    '^cella: process.args\[0\]: `/bin/noldso`: its interpreter `/lib/ld-missing.so.2` in the rootfs: No such file or directory$' \
    cella --isolation sandbox create --bundle "$B" "$id"
id=$(newid noldso)
cella --isolation sandbox run --bundle "$B" "$id" > /dev/null 2> "$WORK/serr"
expect_eq "... run exits 127, as for a missing program" 127 "$?"
expect_eq "... with one line" 1 "$(wc -l < "$WORK/serr")"
assert_clean "... nothing left" "$id"
srun "$(newid dyn)" /bin/probe exec /bin/noldso hello
expect_eq "... execve: ENOENT, the caller goes on" "exec: No such file or directory" "$out"
# An interpreter that is not a program of its own: ELIBBAD at execve, refused at create.
gcc -O2 -Wl,--dynamic-linker=/data -o "$R/bin/badldso" "$REPO_ROOT/tests/sandbox/dynprobe.c"
srun "$(newid dyn)" /bin/dynprobe exec /bin/badldso hello
expect_eq "an interpreter that is not ELF: execve fails (ELIBBAD)" "exec: Accessing a corrupted shared library" "$out"
setargs /bin/badldso
id=$(newid badldso)
fails "... and create refuses it" "$id" '^cella: process.args\[0\]: `/bin/badldso`: its interpreter `/data`: `/data`: not an ELF executable$' \
    cella --isolation sandbox create --bundle "$B" "$id"
# The interpreter resolves beneath the root: an absolute symlink out of it stays in.
ln -s /../../../../lib64 "$R/escape"
gcc -O2 -Wl,--dynamic-linker=/escape/ld-nothere.so.2 -o "$R/bin/escld" "$REPO_ROOT/tests/sandbox/dynprobe.c"
srun "$(newid dyn)" /bin/probe exec /bin/escld hello
expect_eq "an interpreter path never leaves the root" "exec: No such file or directory" "$out"

# Debian's python3 with its standard library, copied into the rootfs.
if sandbox_python; then
    same "python3 -c 'print(1+1)'" /usr/bin/python3 -c 'print(1+1)' -- $PY -c 'print(1+1)'
    script='import json, os, re, hashlib, collections
print(json.dumps({"a": [1, 2.5, None], "b": re.sub("a+", "-", "baaad")}, sort_keys=True))
print(hashlib.sha256(b"sandbox").hexdigest())
print(sorted(os.listdir("/d")), os.path.exists("/data"), len(open("/data").read()))
print(collections.Counter("sandbox").most_common(2))'
    printf '%s\n' "$script" > "$R/s.py"
    printf '%s\n' "$script" > "$WORK/s.py"
    sed -i "s|\"/d\"|\"$R/d\"|; s|\"/data\"|\"$WORK/data\"|g" "$WORK/s.py"
    same "a python script: json, re, hashlib, os, collections" /usr/bin/python3 /s.py -- $PY "$WORK/s.py"
    srun "$(newid dyn)" /usr/bin/python3 -c 'import subprocess, sys; r = subprocess.run(["/bin/cat", "/d/a"]); print("child", r.returncode); sys.exit(5)'
    expect_eq "python3's subprocess runs a dynamic child; sys.exit's code" "child 0 5" "$(echo $out) $rc"
    code='import sqlite3; c = sqlite3.connect(":memory:"); c.execute("create table t(x)")
c.executemany("insert into t values (?)", [(i,) for i in range(100)]); print(c.execute("select sum(x), count(*) from t").fetchone())'
    same "python3's sqlite3 (an extension module and libsqlite3 loaded by dlopen)" \
        /usr/bin/python3 -c "$code" -- $PY -c "$code"
    code='import ctypes, os; print(ctypes.CDLL("libc.so.6").getpid() == os.getpid())'
    same "python3's ctypes calling into libc" /usr/bin/python3 -c "$code" -- $PY -c "$code"
    # pysame NAME CODE: python3 -c CODE prints the same in the sandbox as on the host.
    pysame() { same "$1" /usr/bin/python3 -c "$2" -- $PY -c "$2"; }
    pysame "python3 threading: 8 threads, a lock, a queue, a condition" 'import threading, queue
n = [0]; lock = threading.Lock(); q = queue.Queue(); cv = threading.Condition(); ready = []
def work(i):
    for _ in range(1000):
        with lock: n[0] += 1
    q.put(i * i)
    with cv: ready.append(i); cv.notify()
ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in ts: t.start()
with cv: cv.wait_for(lambda: len(ready) == 8, timeout=30)
for t in ts: t.join()
print(n[0], sorted(q.get() for _ in range(8)), threading.active_count())'
    pysame "python3 ssl and hashlib through OpenSSL" 'import ssl, hashlib
print(ssl.OPENSSL_VERSION.split()[0], hashlib.md5(b"x").hexdigest(), hashlib.new("sha512_256", b"x").hexdigest())
print(hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 1000).hex(), len(ssl.RAND_bytes(16)))
print(ssl.create_default_context().verify_mode)'
    pysame "python3 asyncio: sleeps, gather, wait_for, call_later (clock_getres, socketpair, FIONBIO)" 'import asyncio, time
print(time.get_clock_info("monotonic").resolution)
async def main():
    loop = asyncio.get_running_loop(); fut = loop.create_future()
    loop.call_later(0.01, fut.set_result, "later")
    r = await asyncio.gather(*(asyncio.sleep(0.01 * i, result=i) for i in range(5)))
    try: await asyncio.wait_for(asyncio.sleep(5), 0.02)
    except asyncio.TimeoutError: r.append("timeout")
    return r + [await fut]
print(asyncio.run(main()))'
    code='import tempfile, shutil, os
d = tempfile.mkdtemp(); p = os.path.join(d, "a"); open(p, "w").write("x" * 100000)
os.chmod(p, 0o640); shutil.copy(p, p + ".copy"); shutil.copy2(p, p + ".copy2")
shutil.copytree(d, d + ".tree"); os.symlink("a", p + ".link")
print(sorted(os.listdir(d)), sorted(os.listdir(d + ".tree")), oct(os.stat(p + ".copy2").st_mode), os.listxattr(p))
print(os.stat(p).st_mtime == os.stat(p + ".copy2").st_mtime, os.path.getsize(d + ".tree/a.copy"))
with tempfile.NamedTemporaryFile() as f:
    f.write(b"hi"); f.flush(); name = f.name; print(os.path.exists(name))
print(os.path.exists(name)); shutil.rmtree(d); shutil.rmtree(d + ".tree"); print(os.path.exists(d))'
    same "python3 tempfile, shutil.copy, copy2 (no xattrs), copytree, rmtree, chmod" \
        /usr/bin/python3 -c "$code" -- env TMPDIR="$WORK" $PY -c "$code"
    pysame "python3 multiprocessing: a Process and a Pipe (simplex; duplex: socketpair)" 'import multiprocessing as mp
def child(w, n):
    w.send(sum(range(n))); w.close()
if __name__ == "__main__":
    for duplex in (False, True):
        r, w = mp.Pipe(duplex)
        p = mp.Process(target=child, args=(w, 1000)); p.start(); w.close()
        print(duplex, r.recv()); p.join(); print("exitcode", p.exitcode)'
    skip "python3 multiprocessing's Pool, Queue, Lock" "sem_open needs /dev/shm (a tmpfs of the kernel's: ENOENT) and a MAP_SHARED writable mapping of its file shared across fork (ENODEV: file mappings are copies; docs/sandbox.md Next 3 and 5)"
    pysame "python3 signal.alarm, setitimer, getitimer (SIGALRM interrupts a sleep, a pause, a busy loop)" 'import signal, time
got = []
signal.signal(signal.SIGALRM, lambda s, f: got.append(s))
print(signal.alarm(1), signal.alarm(0), signal.alarm(0))
signal.alarm(1); t = time.monotonic()
while not got: time.sleep(5)
print("alarm", got, time.monotonic() - t < 4)
signal.setitimer(signal.ITIMER_REAL, 0.02, 0.02)
while len(got) < 4: signal.pause()
while len(got) < 6: pass
print(len(got), signal.getitimer(signal.ITIMER_REAL)[1]); signal.setitimer(signal.ITIMER_REAL, 0)
print(signal.getitimer(signal.ITIMER_REAL), signal.getitimer(signal.ITIMER_VIRTUAL))'
    srun "$(newid dyn)" /usr/bin/python3 -c 'import signal, time
signal.alarm(1); time.sleep(5); print("not reached")'
    expect_eq "python3 killed by SIGALRM's default action (142)" " 142" "$out $rc"
    # The new calls' answers and errors, as on the host (not the host file
    # system's xattrs: the sandbox's files have none).
    code='import os, signal, socket, time
def err(f, *a):
    try: return f(*a)
    except OSError as e: return os.strerror(e.errno)
p = os.environ.get("TMPF", "/tmp/errs.f"); open(p, "w").close()
print(err(os.listxattr, "/nope"), err(os.getxattr, "/nope", "user.x"), err(os.getxattr, p, ""), err(os.getxattr, p, "user." + "x" * 300))
print(err(os.setxattr, p, "user.x", b"v", 4), err(os.setxattr, p, "user.x", b"v" * 70000), err(os.listxattr, 999), err(os.removexattr, "/nope", "user.x"))
print([time.clock_getres(c) for c in (time.CLOCK_REALTIME, time.CLOCK_MONOTONIC, 6, time.CLOCK_BOOTTIME)], err(time.clock_getres, 99))
print(err(signal.setitimer, 7, 1), err(signal.setitimer, signal.ITIMER_REAL, -1), signal.alarm(3), signal.alarm(0))
signal.setitimer(signal.ITIMER_REAL, 30, 2); v = signal.getitimer(signal.ITIMER_REAL); signal.setitimer(signal.ITIMER_REAL, 0); print(29 < v[0] <= 30, v[1])
print(err(socket.socketpair, socket.AF_INET), err(socket.socketpair, 12345), [s.type for s in socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)])
r, w = os.pipe(); a, b = socket.socketpair(); f = os.open(p, os.O_RDONLY)
print(err(os.posix_fadvise, r, 0, 0, 1), err(os.posix_fadvise, f, 0, -1, 1), err(os.posix_fadvise, f, 0, 0, 9), err(os.posix_fadvise, a.fileno(), 0, 0, 1), err(os.posix_fadvise, f, 0, 0, 1), err(os.posix_fadvise, 999, 0, 0, 1))
os.set_blocking(r, False); print(err(os.read, r, 1), os.get_blocking(r))
fds = [os.dup(f) for _ in range(4)]; os.closerange(fds[0], fds[-1] + 1); print([err(os.fstat, x) for x in fds][0])
os.unlink(p)'
    same "xattr calls' checks, clock_getres, setitimer/alarm values and errors, socketpair, fadvise64, O_NONBLOCK, close_range" \
        /usr/bin/python3 -c "$code" -- env TMPF="$WORK/errs.f" $PY -c "$code"
    code='import os
print(open("/proc/self/status").read().splitlines()[0], os.readlink("/proc/self/exe"))
print(open("/proc/self/cmdline").read().split("\0")[:2], open("/proc/self/stat").read().split()[1:3])
print(os.getpid() == int(os.readlink("/proc/self")), os.path.isdir("/proc/self/fd"))'
    same "python3 reading /proc/self" /usr/bin/python3 -c "$code" -- /usr/bin/python3 -c "$code"
else
    skip "python3 in the sandbox" "no Debian $PY with its standard library"
fi

plan_done
