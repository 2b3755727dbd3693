/* A dynamically linked probe for the sandbox level (built with gcc against
 * the host's glibc, run from a rootfs holding its libraries): each command
 * prints lines that must read the same on the host and in the sandbox.
 *   hello            a line
 *   mem              mremap, madvise, msync, mlock, mincore, brk
 *   filemap FILE     file mappings (FILE: at least 3 pages, written by the test)
 *   dlopen LIB SYM   dlopen a library, call SYM(0.0) as double(double)
 *   rlimit           getrlimit/setrlimit/prlimit64 on itself
 *   sysinfo          sysinfo's memory, as sysconf reports it
 *   mapflags FILE    mmap's flags: MAP_32BIT, MAP_LOCKED, unknown ones
 *   exit N           exit N
 *   exec PROG ARGS   execv, its error if it fails */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define PG 4096UL

static const char *err(long r)
{
    return r < 0 ? strerror(errno) : "ok";
}

/* The first byte of each page of [p, p+n pages). */
static void firsts(const char *what, const char *p, int n)
{
    printf("%s:", what);
    for (int i = 0; i < n; i++)
        printf(" %d", p[i * PG]);
    printf("\n");
}

/* An address with nothing mapped (until the next mapping is made). */
static char *unmapped(void)
{
    char *p = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p, PG);
    return p;
}

static char *fill(int pages, char base)
{
    char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < pages; i++)
        p[i * PG] = (char)(base + i);
    return p;
}

static int mem(void)
{
    /* Grow: in place when the next pages are free, else moved (MAYMOVE).
     * Within an area of its own: pages 2 and 3 free, 4 on reserved. */
    char *area = mmap(NULL, 32 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(area, 4 * PG);
    char *p =
        mmap(area, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    p[0] = 10, p[PG] = 11;
    char *q = mremap(p, 2 * PG, 4 * PG, 0);
    printf("grow in place: %s, same address %d\n", err(q == MAP_FAILED ? -1 : 0), q == p);
    q[3 * PG] = 7;
    firsts("  contents", q, 4);
    errno = 0;
    char *r = mremap(q, 4 * PG, 8 * PG, 0);
    printf("grow blocked without MAYMOVE: %s\n", r == MAP_FAILED ? strerror(errno) : "grew");
    r = mremap(q, 4 * PG, 8 * PG, MREMAP_MAYMOVE);
    printf("grow with MAYMOVE: moved %d\n", r != MAP_FAILED && r != q);
    firsts("  contents", r, 8);
    printf("  old address unmapped: %d\n",
           mincore(q, PG, (unsigned char[1]){0}) < 0 && errno == ENOMEM);
    /* Shrink keeps the address. */
    char *s = mremap(r, 8 * PG, 3 * PG, 0);
    printf("shrink: same address %d\n", s == r);
    printf("  the tail unmapped: %d\n",
           mincore(r + 3 * PG, PG, (unsigned char[1]){0}) < 0 && errno == ENOMEM);
    /* MREMAP_FIXED moves to the given address, replacing what is there. */
    char *dst = fill(3, 50);
    char *f = mremap(s, 3 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    printf("fixed: at the address %d\n", f == dst);
    firsts("  contents", f, 3);
    errno = 0;
    printf("fixed without MAYMOVE: %s\n",
           mremap(f, PG, PG, MREMAP_FIXED, f + 8 * PG) == MAP_FAILED ? strerror(errno) : "moved");
    printf("overlapping fixed: %s\n",
           mremap(f, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, f + PG) == MAP_FAILED
               ? strerror(errno)
               : "moved");
    printf("unmapped source: %s\n", mremap(unmapped(), PG, 2 * PG, MREMAP_MAYMOVE) == MAP_FAILED
                                        ? strerror(errno)
                                        : "moved");
    printf("unaligned: %s\n",
           mremap(f + 1, PG, 2 * PG, MREMAP_MAYMOVE) == MAP_FAILED ? strerror(errno) : "moved");
    /* DONTUNMAP: the pages move, the old range stays mapped and reads zero. */
    char *to = mmap(NULL, 3 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *d = mremap(f, 3 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, to);
    if (d == MAP_FAILED)
        return printf("dontunmap: %s\n", strerror(errno)), 1;
    printf("dontunmap: at the address %d\n", d == to);
    firsts("  new", d, 3);
    firsts("  old", f, 3);

    /* MADV_DONTNEED: private anonymous pages read zero again. */
    char *m = fill(4, 20);
    printf("madvise DONTNEED: %s\n", err(madvise(m + PG, 2 * PG, MADV_DONTNEED)));
    unsigned char gone[4];
    mincore(m, 4 * PG, gone);
    printf("  pages kept: %d %d %d %d\n", gone[0] & 1, gone[1] & 1, gone[2] & 1, gone[3] & 1);
    firsts("  contents", m, 4);
    printf("madvise unmapped: %s\n", err(madvise(unmapped(), PG, MADV_DONTNEED)));
    printf("madvise unaligned: %s\n", err(madvise(m + 1, PG, MADV_NORMAL)));
    printf("madvise bad advice: %s\n", err(madvise(m, PG, 12345)));
    printf("madvise WILLNEED: %s\n", err(madvise(m, PG, MADV_WILLNEED)));
    /* msync, mlock: nothing to write back or page in, the range checked. */
    printf("msync: %s\n", err(msync(m, 4 * PG, MS_SYNC)));
    printf("msync both: %s\n", err(msync(m, PG, MS_SYNC | MS_ASYNC)));
    printf("msync unmapped: %s\n", err(msync(unmapped(), PG, MS_ASYNC)));
    printf("mlock: %s, munlock: %s\n", err(mlock(m + 5, 100)), err(munlock(m, PG)));
    printf("mlock unmapped: %s\n", err(mlock(unmapped(), PG)));
    /* mincore: the pages it has. */
    unsigned char vec[4];
    char *z = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    z[2 * PG] = 1;
    printf("mincore: %s", err(mincore(z, 4 * PG, vec)));
    for (int i = 0; i < 4; i++)
        printf(" %d", vec[i] & 1);
    printf("\n");
    /* brk: grows, shrinks, refuses below its start. */
    char *b0 = sbrk(0);
    printf("brk grow: %d\n", brk(b0 + 3 * PG) == 0 && sbrk(0) == b0 + 3 * PG);
    b0[3 * PG - 1] = 1;
    printf("brk shrink: %d\n", brk(b0 + PG) == 0 && sbrk(0) == b0 + PG);
    printf("brk grow again, zero: %d\n", brk(b0 + 3 * PG) == 0 && b0[3 * PG - 1] == 0);
    long cur = syscall(SYS_brk, 0);
    printf("brk(0) is the current break: %d\n", cur == (long)(b0 + 3 * PG));
    printf("brk below the start keeps it: %d\n", syscall(SYS_brk, 0x10000) == cur);
    return 0;
}

static int filemap(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return perror(path), 1;
    /* An offset: the file's second page on. */
    char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PG);
    printf("private at offset: %.5s\n", p == MAP_FAILED ? "(failed)" : p);
    p[0] = 'X';
    char byte;
    pread(fd, &byte, 1, PG);
    printf("  written privately, the file keeps %c\n", byte);
    printf("  DONTNEED: %s\n", err(madvise(p, PG, MADV_DONTNEED)));
    char *s = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 2 * PG);
    printf("shared read-only: %.5s\n", s == MAP_FAILED ? "(failed)" : s);
    printf("  made writable: %s\n", err(mprotect(s, PG, PROT_READ | PROT_WRITE)));
    errno = 0;
    printf("shared writable of a read-only file: %s\n",
           mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? strerror(errno)
                                                                                   : "mapped");
    printf("unaligned offset: %s\n", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 100) == MAP_FAILED
                                         ? strerror(errno)
                                         : "mapped");
    /* The file's last page: its end, then zeros (the page after it is
     * mapped too; touching it would be SIGBUS on Linux). */
    char *end = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 4 * PG);
    printf("the last page: %.5s, then %d\n", end, end[100]);
    int wr = open(path, O_WRONLY);
    printf("a write-only descriptor: %s\n",
           mmap(NULL, PG, PROT_READ, MAP_PRIVATE, wr, 0) == MAP_FAILED ? strerror(errno)
                                                                       : "mapped");
    int pfd[2];
    pipe(pfd);
    printf("a pipe: %s\n", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, pfd[0], 0) == MAP_FAILED
                               ? strerror(errno)
                               : "mapped");
    printf("a closed descriptor: %s\n", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 99, 0) == MAP_FAILED
                                            ? strerror(errno)
                                            : "mapped");
    int zero = open("/dev/zero", O_RDWR);
    char *zp = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, zero, 0);
    printf("/dev/zero: %s, reads %d\n", err(zp == MAP_FAILED ? -1 : 0),
           zp == MAP_FAILED ? -1 : zp[10]);
    return 0;
}

static int dl(const char *lib, const char *sym)
{
    void *h = dlopen(lib, RTLD_NOW);
    if (h == NULL)
        return printf("dlopen: %s\n", dlerror()), 1;
    double (*fn)(double) = (double (*)(double))dlsym(h, sym);
    if (fn == NULL)
        return printf("dlsym: %s\n", dlerror()), 1;
    printf("%s(0) = %g\n", sym, fn(0.0));
    return dlclose(h);
}

static int rlimit(void)
{
    struct rlimit l;
    printf("getrlimit STACK: %s\n", err(getrlimit(RLIMIT_STACK, &l)));
    struct rlimit low = {1000, 2000};
    printf("setrlimit CORE: %s\n", err(setrlimit(RLIMIT_CORE, &low)));
    getrlimit(RLIMIT_CORE, &l);
    printf("  now %lu %lu\n", (unsigned long)l.rlim_cur, (unsigned long)l.rlim_max);
    struct rlimit bad = {3000, 2000};
    printf("soft above hard: %s\n", err(setrlimit(RLIMIT_CORE, &bad)));
    struct rlimit old;
    printf("prlimit64 on itself: %s\n", err(prlimit(getpid(), RLIMIT_CORE, NULL, &old)));
    printf("  %lu %lu\n", (unsigned long)old.rlim_cur, (unsigned long)old.rlim_max);
    printf("a bad resource: %s\n", err(getrlimit(99, &l)));
    printf("another process: %s\n", err(prlimit(99999, RLIMIT_CORE, NULL, &old)));
    return 0;
}

static const char *mapped(void *p)
{
    return p == MAP_FAILED ? strerror(errno) : "ok";
}

static int mapflags(const char *path)
{
    int fd = open(path, O_RDONLY);
    const int anon = MAP_PRIVATE | MAP_ANONYMOUS, rw = PROT_READ | PROT_WRITE;
    char *low = mmap(NULL, PG, rw, anon | MAP_32BIT, -1, 0);
    printf("MAP_32BIT: %s, in the second GiB %d\n", mapped(low),
           (uintptr_t)low >= 0x40000000 && (uintptr_t)low < 0x80000000);
    printf("MAP_LOCKED: %s\n", mapped(mmap(NULL, PG, rw, anon | MAP_LOCKED, -1, 0)));
    printf("MAP_GROWSDOWN: %s\n", mapped(mmap(NULL, PG, rw, anon | MAP_GROWSDOWN, -1, 0)));
    printf("an unknown flag: %s\n", mapped(mmap(NULL, PG, rw, anon | 0x800000, -1, 0)));
    const int validate = MAP_SHARED_VALIDATE;
    printf("MAP_SHARED_VALIDATE of a file: %s\n",
           mapped(mmap(NULL, PG, PROT_READ, validate, fd, 0)));
    printf("... an unknown flag: %s\n",
           mapped(mmap(NULL, PG, PROT_READ, validate | 0x800000, fd, 0)));
    printf("... MAP_SYNC: %s\n", mapped(mmap(NULL, PG, PROT_READ, validate | MAP_SYNC, fd, 0)));
    printf("... anonymous: %s\n", mapped(mmap(NULL, PG, rw, validate | MAP_ANONYMOUS, -1, 0)));
    printf("a bad type: %s\n", mapped(mmap(NULL, PG, rw, 0x0c | MAP_ANONYMOUS, -1, 0)));
    return 0;
}

static int sysinfo_(void)
{
    struct sysinfo si;
    printf("sysinfo: %s\n", err(sysinfo(&si)));
    printf("  physical pages %ld, total RAM the same: %d\n", sysconf(_SC_PHYS_PAGES),
           (unsigned long long)si.totalram * si.mem_unit ==
               (unsigned long long)sysconf(_SC_PHYS_PAGES) * PG);
    printf("  processes counted: %d\n", si.procs > 0);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *cmd = argc > 1 ? argv[1] : "hello";
    if (strcmp(cmd, "hello") == 0)
        return printf("hello from a dynamic executable\n"), 0;
    if (strcmp(cmd, "mem") == 0)
        return mem();
    if (strcmp(cmd, "filemap") == 0 && argc > 2)
        return filemap(argv[2]);
    if (strcmp(cmd, "dlopen") == 0 && argc > 3)
        return dl(argv[2], argv[3]);
    if (strcmp(cmd, "rlimit") == 0)
        return rlimit();
    if (strcmp(cmd, "sysinfo") == 0)
        return sysinfo_();
    if (strcmp(cmd, "mapflags") == 0 && argc > 2)
        return mapflags(argv[2]);
    if (strcmp(cmd, "exit") == 0 && argc > 2)
        return atoi(argv[2]);
    if (strcmp(cmd, "exec") == 0 && argc > 2) {
        execv(argv[2], argv + 2);
        return printf("exec: %s\n", strerror(errno)), 1;
    }
    fprintf(stderr, "usage: dynprobe hello|mem|filemap FILE|dlopen LIB "
                    "SYM|rlimit|sysinfo|mapflags FILE|exit N|exec ...\n");
    return 2;
}
