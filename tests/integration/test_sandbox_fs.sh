#!/bin/bash
# The sandbox level's files: the calls that change the tree (mkdir, unlink,
# rename, link, symlink, chmod, utimes, truncate, locks, statx...) give the
# same results as on the host (tests/sandbox/fsprobe.c run both ways) and
# busybox builds the same tree as at the container level; no path leaves
# the root, whatever a symlink says; /proc and /dev are the sandbox's own
# (its pids, its processes, its devices), never the host's, and never written.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sandbox_lib.sh"

sandbox_bundle "sandbox files" busybox
musl-gcc -static -O2 -o "$B/rootfs/bin/fsprobe" "$REPO_ROOT/tests/sandbox/fsprobe.c" ||
    { echo "Bail out! fsprobe"; exit 1; }
echo "the rootfs's marker" > "$B/rootfs/etc/marker"
echo "the host's secret" > "$B/secret" # beside the rootfs, outside the sandbox
chmod 640 "$B/secret"

# ---- the file calls, against the host's answers -----------------------------
mkdir "$WORK/host" "$B/rootfs/tmp/probe"
(cd "$WORK/host" && "$B/rootfs/bin/fsprobe") > "$WORK/host.out" 2>&1
cfg "$B" "c['process']['cwd']='/tmp/probe'"
id=$(newid probe)
srun "$id" /bin/fsprobe
expect_eq "the file calls answer as the host's (creat, O_EXCL/O_APPEND/O_NOFOLLOW/O_DIRECTORY/O_PATH, *at with a dirfd, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, mkdirat, unlinkat, renameat2, linkat, symlinkat, readlinkat, fchmodat, fchownat, utimensat, truncate, statx, statfs, fsync, fallocate, sendfile, copy_file_range, flock, F_SETLK/F_GETLK across fork, umask)" \
    "$(cat "$WORK/host.out")" "$out"
expect_eq "... and the probe's directory is empty again" "" "$(ls -A "$B/rootfs/tmp/probe")"
assert_clean "... nothing left" "$id"
cfg "$B" "c['process']['cwd']='/'"

# ---- busybox builds the same tree as at the container level -----------------
tree='cd /tmp/$T && mkdir -p a/b/c && echo one > a/b/c/f && ln -s c/f a/b/l && ln a/b/c/f a/hard &&
mv a/b/c a/c2 && chmod 751 a/c2 && chmod 600 a/hard && touch -d "2001-02-03 04:05:06" a/hard &&
cp -a a copy && mkdir -p x/y && echo z > x/y/z && rm -r x && tar cf ../$T.tar a && mkdir untar &&
cd untar && tar xf ../../$T.tar && cd .. && rm ../$T.tar && find . | sort && readlink a/b/l && readlink copy/b/l &&
stat -c "%n %Y" a/hard copy/hard untar/a/hard && mkdir a 2>&1; rmdir a 2>&1; rm a 2>&1;
ln -s x a/b/l 2>&1; mv a a/c2 2>&1; df / | tail -n 1 | grep -c " /$"'
setargs sh -c "T=ct; mkdir /tmp/ct; $tree"
ct_out=$(cella run --bundle "$B" "$(newid ct)" 2>&1)
srun "$(newid tree)" sh -c "T=sb; mkdir /tmp/sb; $tree"
expect_eq "busybox mkdir -p, ln -s, ln, mv, chmod, touch -d, cp -a, rm -r, tar, find, readlink, stat, df print the same as at the container level" \
    "$ct_out" "$out"
listing() { (cd "$1" && find . -printf '%p %M %n %s %l %U %G\n' | sort); }
expect_eq "... and the trees are the same (names, modes, links, sizes, targets, owners)" \
    "$(listing "$B/rootfs/tmp/ct")" "$(listing "$B/rootfs/tmp/sb")"
check "... not empty" test -n "$(listing "$B/rootfs/tmp/sb")"

# ---- no way out of the root -------------------------------------------------
srun "$(newid escape)" sh -c 'cd /tmp; ln -s /etc/marker m; cat m; ln -s ../../../../../secret up;
cat up 2>&1; echo written > up; ln -s ../../../../.. dd; mkdir dd/made; echo new > dd/../../made/f;
mv /etc/marker dd/../moved; chmod 604 up; ln -s /etc/passwd pw; wc -l < pw; readlink -f dd/../..'
expect_eq "symlinks resolve beneath the root: an absolute target, ../../.. and .. at the root stay inside" \
    "the rootfs's marker
cat: can't open 'up': No such file or directory
3
/" "$out"
expect_eq "... writing through a dangling ../../.. symlink creates the file in the rootfs" \
    "written" "$(cat "$B/rootfs/secret" 2>&1)"
expect_eq "... the host's file beside the rootfs is untouched (contents, mode)" \
    "the host's secret 640" "$(cat "$B/secret") $(stat -c %a "$B/secret")"
expect_eq "... mkdir, a new file and mv through ../.. land in the rootfs" \
    "new|the rootfs's marker|604" \
    "$(cat "$B/rootfs/made/f")|$(cat "$B/rootfs/moved")|$(stat -c %a "$B/rootfs/secret")"
check "... and nothing outside it" test ! -e "$WORK/made" -a ! -e "$B/made" -a ! -e "$B/moved"
rm -rf "$B/rootfs/made" "$B/rootfs/secret"
mv "$B/rootfs/moved" "$B/rootfs/etc/marker"

# ---- the spec's mounts --------------------------------------------------------
mkdir -p "$WORK/shared/sub" "$WORK/ro" "$B/rootfs/data" "$B/rootfs/ro" "$B/rootfs/scratch" "$B/rootfs/hostproc"
chmod 755 "$WORK/shared" "$WORK/ro"
echo "host data" > "$WORK/shared/file"
echo "read-only data" > "$WORK/ro/file"
echo "a bound file" > "$WORK/bound"
touch "$B/rootfs/etc/bound"
ln -s /etc/marker "$WORK/shared/abs"
ln -s ../../../../../etc/marker "$WORK/shared/sub/up"
cfg "$B" "c['mounts'] += [{'destination': '/data', 'type': 'bind', 'source': '$WORK/shared', 'options': ['rbind', 'rw']},
 {'destination': '/ro', 'type': 'bind', 'source': '$WORK/ro', 'options': ['rbind', 'ro']},
 {'destination': '/scratch', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['nosuid']},
 {'destination': '/etc/bound', 'type': 'bind', 'source': '$WORK/bound', 'options': ['bind', 'ro']},
 {'destination': '/hostproc', 'type': 'proc', 'source': 'proc'}]"
id=$(newid mounts)
srun "$id" sh -c 'ls /data; cat /data/file /ro/file /etc/bound; echo new > /data/new; echo t > /scratch/t; cat /scratch/t;
cd /data/sub && cd .. && cd .. && pwd; cat /data/../etc/marker /data/sub/../file /data/abs /data/sub/up;
ln -s /data/sub /tmp/dsub; touch /tmp/dsub/made; ls /data/sub; ln -s ../../../.. /data/top; ls /data/top/etc/marker;
mv /data/new /tmp/moved && cat /tmp/moved; rm -r /data/top /data/sub/made /tmp/dsub /tmp/moved; echo kept > /data/kept; grep " /data \| /ro \| /scratch \| /etc/bound " /proc/mounts'
expect_eq "bind mounts (a directory, a file) and a tmpfs of the spec are seen; .. at a mount's root is its parent; symlinks in a mount resolve from the sandbox's root; mv across mounts" \
    "abs
file
sub
host data
read-only data
a bound file
t
/
the rootfs's marker
host data
the rootfs's marker
the rootfs's marker
made
up
/data/top/etc/marker
new
none /data bind rw 0 0
none /ro bind ro 0 0
tmpfs /scratch tmpfs rw 0 0
none /etc/bound bind ro 0 0" "$out"
expect_eq "... the host's directory holds what the sandbox left there, and only that" "abs file kept sub kept" \
    "$(ls "$WORK/shared" | tr '\n' ' ')$(cat "$WORK/shared/kept")"
srun "$(newid romount)" sh -c 'echo x > /ro/new; rm /ro/file; mkdir /ro/d; echo x > /etc/bound; touch /ro/file; ls /sys; cat /hostproc/self/status'
expect_eq "read-only mounts refuse writes (EROFS); /sys and a proc the spec mounts elsewhere (the kernel process's) stay out of reach" \
    "sh: can't create /ro/new: Read-only file system
rm: can't remove '/ro/file': Read-only file system
mkdir: can't create directory '/ro/d': Read-only file system
sh: can't create /etc/bound: Read-only file system
touch: /ro/file: Read-only file system
ls: /sys: Permission denied
cat: can't open '/hostproc/self/status': Permission denied" "$(cat "$WORK/serr")"
assert_clean "... nothing left" "$id"
# A directory holding a proc mount moved to where a file mount's name was:
# the name leads to another mount now, which is not crossed into.
mkdir -p "$B/rootfs/a/bound"
cfg "$B" "c['mounts'].append({'destination': '/a/bound', 'type': 'proc', 'source': 'proc'})"
srun "$(newid moved)" sh -c 'mv /etc /e2 && mv /a /etc && ls /etc/bound; cat /etc/bound/self/status; mv /etc /a; mv /e2 /etc; cat /etc/bound'
expect_eq "a mount moved under a file mount's name is not reached through it" \
    "ls: /etc/bound: Permission denied
cat: can't open '/etc/bound/self/status': Permission denied" "$(cat "$WORK/serr")"
expect_eq "... and the file mount is reached again once back" "a bound file" "$out"
cfg "$B" "c['mounts'] = [m for m in c['mounts'] if m['destination'] != '/a/bound']"
rm -rf "$B/rootfs/a"
cp "$B/rootfs/bin/probe" "$WORK/ro/probe"
srun "$(newid mntexe)" /ro/probe hello
expect_eq "the first program may be beneath a mount" "hello from the sandbox" "$out"
srun "$(newid mntexe)" sh -c 'cd /ro && ./probe exec /ro/probe hello'
expect_eq "... and execve reaches one there" "hello from the sandbox" "$out"
cfg "$B" "c['mounts'] = [m for m in c['mounts'] if m['destination'] not in ('/data', '/ro', '/scratch', '/etc/bound', '/hostproc')]"

# ---- /proc of the sandbox's own ---------------------------------------------
procs='grep -E "^(Name|State|Pid|PPid|Umask)" /proc/self/status; readlink /proc/self;
echo /proc/[0-9]*; tr "\0" " " < /proc/1/cmdline; echo; cat /proc/self/comm;
cut -d" " -f1-5 /proc/self/stat; readlink /proc/self/exe; readlink /proc/1/cwd; ls /proc/self/fd;
sleep 5 & i=0; until grep -q sleep /proc/$!/comm || [ $i -ge 10000 ]; do i=$((i+1)); done;
ps -o pid,comm; kill %1; cd /proc/self && cat comm'
setargs sh -c "$procs"
ct_out=$(cella run --bundle "$B" "$(newid ct)" 2>&1)
srun "$(newid proc)" sh -c "$procs"
expect_eq "/proc/self/status, stat, comm, cmdline, exe, cwd, fd/, busybox ps: the sandbox's processes and pids, as at the container level" \
    "$ct_out" "$out"
expect_match "... which are the sandbox's own (pid 2 reads its status, ps lists 3 processes)" \
    "Pid:.2.*PID +COMMAND +1 sh +[0-9]+ sleep +[0-9]+ ps cat$" "$(echo $out)"
cfg "$B" "c['linux'].setdefault('resources', {})['memory'] = {'limit': 268435456}"
srun "$(newid mem)" sh -c 'grep MemTotal /proc/meminfo; free | grep -c "^Mem: *262144 "; uptime | grep -c "load average: 0.00, 0.00, 0.00";
grep -c "\[stack\]" /proc/self/maps; grep " / " /proc/mounts; grep -c . /proc/cpuinfo | grep -vc "^0$";
cat /proc/sys/kernel/hostname'
expect_eq "/proc/meminfo and free: the spec's memory limit; uptime, maps, mounts, cpuinfo, hostname" \
    "MemTotal:         262144 kB
1
1
1
sandbox / sandbox rw 0 0
1
runc" "$out"
cfg "$B" "del c['linux']['resources']['memory']"
srun "$(newid procw)" sh -c 'echo 1 > /proc/uptime; rm /proc/self/status; mkdir /proc/x; ls /proc/999; cat /proc/self/mountinfo'
expect_eq "/proc is never written, has no other process, nothing of the host's" \
    "sh: can't create /proc/uptime: Permission denied
rm: can't remove '/proc/self/status': Permission denied
mkdir: can't create directory '/proc/x': Permission denied
ls: /proc/999: No such file or directory
cat: can't open '/proc/self/mountinfo': No such file or directory" "$(cat "$WORK/serr")"

# ---- /dev of the sandbox's own ----------------------------------------------
srun "$(newid dev)" sh -c 'ls /dev; echo out > /dev/stdout; echo in | cat /dev/stdin; cat /dev/fd/0 < /etc/marker;
echo x > /dev/full; rm /dev/null; ls -l /dev/null | cut -c1-10; ls /proc/self/fd'
expect_eq "/dev lists the sandbox's devices and links; stdin/stdout/fd reach the descriptors" \
    "fd
full
null
random
stderr
stdin
stdout
urandom
zero
out
in
the rootfs's marker
crw-rw-rw-
0
1
2
3" "$out"
expect_eq "... /dev/full is full, nothing there is removed" \
    "sh: write error: No space left on device
rm: can't remove '/dev/null': Permission denied" "$(cat "$WORK/serr")"

# /dev/tty: the terminal of `run` with a console socket (console.py receives
# the pty master and records what the sandbox writes to it).
cfg "$B" "c['process']['terminal']=True" \
    "c['process']['args']=['sh','-c','ls /dev | grep -x tty; echo via-dev-tty > /dev/tty; test -t 0 && echo stdin-tty']"
rm -f "$WORK/tty.sock"
python3 "$LIB_DIR/console.py" "$WORK/tty.sock" --out "$WORK/tty.out" --timeout 15 2> "$WORK/tty.err" &
lpid=$!
wait_for 50 test -S "$WORK/tty.sock" || not_ok "console.py listens" "$(cat "$WORK/tty.err")"
id=$(newid tty)
cella --isolation sandbox run -d --console-socket "$WORK/tty.sock" --bundle "$B" "$id" > /dev/null 2>&1
wait $lpid
expect_eq "/dev/tty is the controlling terminal with process.terminal (listed, written)" \
    "tty
via-dev-tty
stdin-tty" "$(tr -d '\r' < "$WORK/tty.out")"
cella delete --force "$id" > /dev/null 2>&1
assert_clean "... nothing left" "$id"
cfg "$B" "c['process']['terminal']=False"

plan_done
