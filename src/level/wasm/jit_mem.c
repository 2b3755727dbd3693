/* Executable memory for the JIT: never writable and executable at once.
 *
 * A chunk is a memfd mapped twice: a read+write view the code is copied
 * through and a read+execute view it runs from, so placing a function costs
 * a memcpy, not two mprotect calls (which made the bench server's start-up,
 * some 100 functions, ~1 ms slower). Where memfd_create is refused (a
 * seccomp profile, vm.memfd_noexec), one anonymous mapping is flipped
 * between the two protections instead. Code is never freed: functions live
 * as long as the process (instances of a WASI command do). */
#define _GNU_SOURCE
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "level/wasm/jit_helpers.h"

struct chunk {
    uint8_t *rw, *rx; /* rw == NULL: flipped with mprotect */
    size_t used, size;
};

static struct chunk chunk;

static bool new_chunk(size_t size)
{
    int fd = memfd_create("cella-wasm-jit", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, (off_t)size) == 0) {
        void *rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        void *rx = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
        close(fd);
        if (rw != MAP_FAILED && rx != MAP_FAILED) {
            chunk = (struct chunk){rw, rx, 0, size};
            return true;
        }
        if (rw != MAP_FAILED)
            munmap(rw, size);
        if (rx != MAP_FAILED)
            munmap(rx, size);
    } else if (fd >= 0) {
        close(fd);
    }
    void *rx = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rx == MAP_FAILED)
        return false;
    chunk = (struct chunk){NULL, rx, 0, size};
    return true;
}

void *jit_place(const uint8_t *p, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    n = (n + 15) & ~(size_t)15;
    if (chunk.rx == NULL || chunk.size - chunk.used < n) {
        /* the rest of a full chunk is left unused: its functions stay */
        if (!new_chunk(n > (1u << 20) ? (n + page - 1) & ~(page - 1) : 1u << 20))
            return NULL;
    }
    uint8_t *dst = chunk.rx + chunk.used;
    if (chunk.rw != NULL) {
        memcpy(chunk.rw + chunk.used, p, n);
    } else {
        uint8_t *lo = (uint8_t *)((uintptr_t)dst & ~(page - 1));
        size_t len = (size_t)(dst + n - lo);
        if (mprotect(lo, len, PROT_READ | PROT_WRITE) < 0)
            return NULL;
        memcpy(dst, p, n);
        if (mprotect(lo, len, PROT_READ | PROT_EXEC) < 0)
            return NULL;
    }
    chunk.used += n;
    return dst;
}
