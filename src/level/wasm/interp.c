/* The interpreter: runs the threaded code of compile.c with computed gotos.
 *
 * Registers: ip (next cell), sp (top of the value stack), fp (the frame),
 * inst and the memory's base and size (reloaded whenever a call, return or
 * memory.grow may have changed them). wasm-to-wasm calls do not recurse in
 * C: frames are pushed on an explicit stack, so deep recursion in a module
 * ends in the "call stack exhausted" trap and never in a host crash.
 * Float arithmetic is C's on IEEE binary32/64 (SSE on x86-64), which gives
 * the spec's results including NaN propagation; min, max, nearest and the
 * float-to-int conversions need explicit code. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "level/wasm/interp.h"
#include "level/wasm/jit.h"

#define STACK_CELLS (1u << 20) /* 8 MiB of value stack, touched as used */
#define MAX_FRAMES  65536u

struct frame {
    const union cell *ip;
    wasm_val *fp;
    struct wasm_instance *inst;
};

struct exec {
    wasm_val *stack, *end;
    wasm_val *free; /* first cell not in use (nested wasm_call from a host function) */
    struct frame *frames;
    uint32_t nframes;
    /* Translated functions call each other on the C stack: a call whose
     * frame would be below this address traps "call stack exhausted". 0
     * until machine code first runs (finding it reads /proc/self/maps, which
     * a run without translated code should not pay for). */
    uintptr_t native_floor;
};

/* Keep this much of the thread's stack for host functions and the C code
 * below the deepest translated call. */
#define NATIVE_RESERVE (256u << 10)

static uintptr_t native_floor(void)
{
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        int r = pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
        uintptr_t lo = (uintptr_t)addr;
        if (r == 0 && here > lo + 2 * NATIVE_RESERVE && here - lo <= size)
            return lo + NATIVE_RESERVE;
    }
    /* Bounds unknown: glibc reads the main thread's from /proc/self/maps,
     * which a container's process may not have yet. Assume the main
     * thread's stack, RLIMIT_STACK (at most 8 MiB) below a frame that sits
     * near its top, as the first call into the engine does. */
    struct rlimit rl;
    size = 8u << 20;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < size)
        size = rl.rlim_cur;
    size_t budget = size > 4 * NATIVE_RESERVE ? size - 2 * NATIVE_RESERVE : size / 2;
    return here > budget ? here - budget : 0;
}

static __thread struct exec exec_tls;

/* Whether entering machine code here would go below the C stack's floor. */
static inline bool native_exhausted(struct exec *ex)
{
    if (__builtin_expect(ex->native_floor == 0, 0))
        ex->native_floor = native_floor();
    return (uintptr_t)__builtin_frame_address(0) < ex->native_floor;
}

static struct exec *exec_get(void)
{
    struct exec *ex = &exec_tls;
    if (ex->stack != NULL)
        return ex;
    size_t ssize = STACK_CELLS * sizeof(wasm_val), fsize = MAX_FRAMES * sizeof(struct frame);
    void *s = mmap(NULL, ssize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    void *f = mmap(NULL, fsize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (s == MAP_FAILED || f == MAP_FAILED) {
        if (s != MAP_FAILED)
            munmap(s, ssize);
        if (f != MAP_FAILED)
            munmap(f, fsize);
        return NULL;
    }
    ex->stack = ex->free = s;
    ex->end = ex->stack + STACK_CELLS;
    ex->frames = f;
    return ex;
}

/* "uninitialized element 2": the reference interpreter's wording. */
static const char *element_trap(const char *what, uint32_t i)
{
    static __thread char buf[48];
    snprintf(buf, sizeof(buf), "%s %u", what, i);
    return buf;
}

/* The first call of a function compiles it; a failure (an instruction the
 * interpreter lacks, memory) is a trap with the compiler's message. */
static const char *compile_now(struct wasm_func *fn)
{
    static __thread char buf[256];
    cerr_t err = NULL;
    if (wasm_compile(fn->inst, fn->code->index, &err) == 0)
        return NULL;
    snprintf(buf, sizeof(buf), "%s", cerr_msg(err));
    cerr_free(&err);
    return buf;
}

#include "level/wasm/numeric.h"

/* ---- the loop ---- */

#define NEXT() goto *(ip++)->op
#define TRAP(msg)                                                                                  \
    do {                                                                                           \
        trap = (msg);                                                                              \
        goto trapped;                                                                              \
    } while (0)
#define LOAD_MEM()                                                                                 \
    do {                                                                                           \
        mem = inst->mem0;                                                                          \
        mbase = mem ? mem->data : NULL;                                                            \
        msize = mem ? mem->size : 0;                                                               \
    } while (0)
/* Back to the caller's frame, the results being in place. */
#define RETURN_TO_CALLER()                                                                         \
    do {                                                                                           \
        struct frame *f = &ex->frames[--ex->nframes];                                              \
        ip = f->ip;                                                                                \
        fp = f->fp;                                                                                \
        inst = f->inst;                                                                            \
        LOAD_MEM();                                                                                \
        NEXT();                                                                                    \
    } while (0)
/* Operand k of the current instruction: a frame slot. */
#define S(k) fp[ip[k].u]

/* [dst][a][b]: a op b */
#define BIN(n, F, T, expr)                                                                         \
    L_##n:                                                                                         \
    {                                                                                              \
        T a = (T)S(1).F, b = (T)S(2).F;                                                            \
        S(0).F = (expr);                                                                           \
        ip += 3;                                                                                   \
        NEXT();                                                                                    \
    }
/* [dst][a][b]: a op b -> i32 */
#define CMP(n, F, T, expr)                                                                         \
    L_##n:                                                                                         \
    {                                                                                              \
        T a = (T)S(1).F, b = (T)S(2).F;                                                            \
        S(0).i32 = (expr);                                                                         \
        ip += 3;                                                                                   \
        NEXT();                                                                                    \
    }
/* The same with [dst][a][imm] forms (OP_IMM) for integers. */
#define BINI(n, F, T, expr)                                                                        \
    BIN(n, F, T, expr)                                                                             \
    L_imm_##n:                                                                                     \
    {                                                                                              \
        T a = (T)S(1).F, b = (T)((wasm_val){.bits = ip[2].u}).F;                                   \
        S(0).F = (expr);                                                                           \
        ip += 3;                                                                                   \
        NEXT();                                                                                    \
    }
/* Comparisons: also the [dst][a][imm] form and the compare-and-branch
 * forms [a][b][target] and [a][imm][target] (k: their index). */
#define CMPI(n, k, F, T, expr)                                                                     \
    CMP(n, F, T, expr)                                                                             \
    L_imm_##n:                                                                                     \
    {                                                                                              \
        T a = (T)S(1).F, b = (T)ip[2].u;                                                           \
        S(0).i32 = (expr);                                                                         \
        ip += 3;                                                                                   \
        NEXT();                                                                                    \
    }                                                                                              \
    L_brc_##k:                                                                                     \
    {                                                                                              \
        T a = (T)S(0).F, b = (T)S(1).F;                                                            \
        ip = (expr) ? ip[2].p : ip + 3;                                                            \
        NEXT();                                                                                    \
    }                                                                                              \
    L_brci_##k:                                                                                    \
    {                                                                                              \
        T a = (T)S(0).F, b = (T)ip[1].u;                                                           \
        ip = (expr) ? ip[2].p : ip + 3;                                                            \
        NEXT();                                                                                    \
    }
/* [dst][a]: op a, from field F to field R */
#define UN(n, F, T, R, expr)                                                                       \
    L_##n:                                                                                         \
    {                                                                                              \
        T a = (T)S(1).F;                                                                           \
        S(0).R = (expr);                                                                           \
        ip += 2;                                                                                   \
        NEXT();                                                                                    \
    }
#define TRUNC(n, F, R, RT, lo, hi)                                                                 \
    L_##n:                                                                                         \
    {                                                                                              \
        double x = (double)S(1).F;                                                                 \
        const char *t = trunc_check(x, lo, hi);                                                    \
        if (t != NULL)                                                                             \
            TRAP(t);                                                                               \
        S(0).R = (RT)x;                                                                            \
        ip += 2;                                                                                   \
        NEXT();                                                                                    \
    }
/* [dst][addr][offset] */
#define LOAD(n, T, R, RT)                                                                          \
    L_##n:                                                                                         \
    {                                                                                              \
        uint64_t ea = (uint64_t)S(1).i32 + ip[2].u;                                                \
        if (ea + sizeof(T) > msize)                                                                \
            TRAP(T_OOB);                                                                           \
        T v;                                                                                       \
        memcpy(&v, mbase + ea, sizeof(T));                                                         \
        S(0).R = (RT)v;                                                                            \
        ip += 3;                                                                                   \
        NEXT();                                                                                    \
    }
/* [dst][x][imm][offset]: a load from i32.add(x, imm) + offset (the add
 * wraps at 32 bits, as it did as its own instruction) */
#define LOADX(n, T, R, RT)                                                                         \
    LOAD(n, T, R, RT)                                                                              \
    L_addi_##n:                                                                                    \
    {                                                                                              \
        uint64_t ea = (uint64_t)(uint32_t)(S(1).i32 + (uint32_t)ip[2].u) + ip[3].u;                \
        if (ea + sizeof(T) > msize)                                                                \
            TRAP(T_OOB);                                                                           \
        T v;                                                                                       \
        memcpy(&v, mbase + ea, sizeof(T));                                                         \
        S(0).R = (RT)v;                                                                            \
        ip += 4;                                                                                   \
        NEXT();                                                                                    \
    }
/* [addr][value][offset] */
#define STORE(n, T, F)                                                                             \
    L_##n:                                                                                         \
    {                                                                                              \
        uint64_t ea = (uint64_t)S(0).i32 + ip[2].u;                                                \
        if (ea + sizeof(T) > msize)                                                                \
            TRAP(T_OOB);                                                                           \
        T v = (T)S(1).F;                                                                           \
        memcpy(mbase + ea, &v, sizeof(T));                                                         \
        ip += 3;                                                                                   \
        NEXT();                                                                                    \
    }

/* [x][value][imm][offset]: a store to i32.add(x, imm) + offset */
#define STOREX(n, T, F)                                                                            \
    STORE(n, T, F)                                                                                 \
    L_saddi_##n:                                                                                   \
    {                                                                                              \
        uint64_t ea = (uint64_t)(uint32_t)(S(0).i32 + (uint32_t)ip[2].u) + ip[3].u;                \
        if (ea + sizeof(T) > msize)                                                                \
            TRAP(T_OOB);                                                                           \
        T v = (T)S(1).F;                                                                           \
        memcpy(mbase + ea, &v, sizeof(T));                                                         \
        ip += 4;                                                                                   \
        NEXT();                                                                                    \
    }

/* Bounds check of [off, off+n) in a region of len: false when outside. */
static inline bool in_bounds(uint64_t off, uint64_t n, uint64_t len)
{
    return off <= len && n <= len - off;
}

static inline void copy_cells(wasm_val *d, const wasm_val *s, uint64_t n)
{
    if (d != s)
        for (uint64_t k = 0; k < n; k++)
            d[k] = s[k];
}

/* A host function's call: nested wasm calls it makes use the stack above
 * its arguments and results. */
static const char *call_host(struct exec *ex, struct wasm_func *fn, struct wasm_memory *mem,
                             wasm_val *nfp)
{
    const struct wasm_sig *sig = fn->sig;
    wasm_val *saved_free = ex->free;
    ex->free = nfp + (sig->param_cells > sig->result_cells ? sig->param_cells : sig->result_cells);
    const char *t = fn->host(fn->host_ctx, mem, nfp);
    ex->free = saved_free;
    return t;
}

static const char *run(struct exec *ex, struct wasm_func *fn, wasm_val *base,
                       const void *const **labels_out)
{
    static const void *const labels[OP_COUNT] = {
        [0x28] = &&L_0x28,
        [0x29] = &&L_0x29,
        [0x2A] = &&L_0x2A,
        [0x2B] = &&L_0x2B,
        [0x2C] = &&L_0x2C,
        [0x2D] = &&L_0x2D,
        [0x2E] = &&L_0x2E,
        [0x2F] = &&L_0x2F,
        [0x30] = &&L_0x30,
        [0x31] = &&L_0x31,
        [0x32] = &&L_0x32,
        [0x33] = &&L_0x33,
        [0x34] = &&L_0x34,
        [0x35] = &&L_0x35,
        [0x36] = &&L_0x36,
        [0x37] = &&L_0x37,
        [0x38] = &&L_0x38,
        [0x39] = &&L_0x39,
        [0x3A] = &&L_0x3A,
        [0x3B] = &&L_0x3B,
        [0x3C] = &&L_0x3C,
        [0x3D] = &&L_0x3D,
        [0x3E] = &&L_0x3E,
        [0x3F] = &&L_0x3F,
        [0x40] = &&L_0x40,
        [0x45] = &&L_0x45,
        [0x46] = &&L_0x46,
        [0x47] = &&L_0x47,
        [0x48] = &&L_0x48,
        [0x49] = &&L_0x49,
        [0x4A] = &&L_0x4A,
        [0x4B] = &&L_0x4B,
        [0x4C] = &&L_0x4C,
        [0x4D] = &&L_0x4D,
        [0x4E] = &&L_0x4E,
        [0x4F] = &&L_0x4F,
        [0x50] = &&L_0x50,
        [0x51] = &&L_0x51,
        [0x52] = &&L_0x52,
        [0x53] = &&L_0x53,
        [0x54] = &&L_0x54,
        [0x55] = &&L_0x55,
        [0x56] = &&L_0x56,
        [0x57] = &&L_0x57,
        [0x58] = &&L_0x58,
        [0x59] = &&L_0x59,
        [0x5A] = &&L_0x5A,
        [0x5B] = &&L_0x5B,
        [0x5C] = &&L_0x5C,
        [0x5D] = &&L_0x5D,
        [0x5E] = &&L_0x5E,
        [0x5F] = &&L_0x5F,
        [0x60] = &&L_0x60,
        [0x61] = &&L_0x61,
        [0x62] = &&L_0x62,
        [0x63] = &&L_0x63,
        [0x64] = &&L_0x64,
        [0x65] = &&L_0x65,
        [0x66] = &&L_0x66,
        [0x67] = &&L_0x67,
        [0x68] = &&L_0x68,
        [0x69] = &&L_0x69,
        [0x6A] = &&L_0x6A,
        [0x6B] = &&L_0x6B,
        [0x6C] = &&L_0x6C,
        [0x6D] = &&L_0x6D,
        [0x6E] = &&L_0x6E,
        [0x6F] = &&L_0x6F,
        [0x70] = &&L_0x70,
        [0x71] = &&L_0x71,
        [0x72] = &&L_0x72,
        [0x73] = &&L_0x73,
        [0x74] = &&L_0x74,
        [0x75] = &&L_0x75,
        [0x76] = &&L_0x76,
        [0x77] = &&L_0x77,
        [0x78] = &&L_0x78,
        [0x79] = &&L_0x79,
        [0x7A] = &&L_0x7A,
        [0x7B] = &&L_0x7B,
        [0x7C] = &&L_0x7C,
        [0x7D] = &&L_0x7D,
        [0x7E] = &&L_0x7E,
        [0x7F] = &&L_0x7F,
        [0x80] = &&L_0x80,
        [0x81] = &&L_0x81,
        [0x82] = &&L_0x82,
        [0x83] = &&L_0x83,
        [0x84] = &&L_0x84,
        [0x85] = &&L_0x85,
        [0x86] = &&L_0x86,
        [0x87] = &&L_0x87,
        [0x88] = &&L_0x88,
        [0x89] = &&L_0x89,
        [0x8A] = &&L_0x8A,
        [0x8B] = &&L_0x8B,
        [0x8C] = &&L_0x8C,
        [0x8D] = &&L_0x8D,
        [0x8E] = &&L_0x8E,
        [0x8F] = &&L_0x8F,
        [0x90] = &&L_0x90,
        [0x91] = &&L_0x91,
        [0x92] = &&L_0x92,
        [0x93] = &&L_0x93,
        [0x94] = &&L_0x94,
        [0x95] = &&L_0x95,
        [0x96] = &&L_0x96,
        [0x97] = &&L_0x97,
        [0x98] = &&L_0x98,
        [0x99] = &&L_0x99,
        [0x9A] = &&L_0x9A,
        [0x9B] = &&L_0x9B,
        [0x9C] = &&L_0x9C,
        [0x9D] = &&L_0x9D,
        [0x9E] = &&L_0x9E,
        [0x9F] = &&L_0x9F,
        [0xA0] = &&L_0xA0,
        [0xA1] = &&L_0xA1,
        [0xA2] = &&L_0xA2,
        [0xA3] = &&L_0xA3,
        [0xA4] = &&L_0xA4,
        [0xA5] = &&L_0xA5,
        [0xA6] = &&L_0xA6,
        [0xA8] = &&L_0xA8,
        [0xA9] = &&L_0xA9,
        [0xAA] = &&L_0xAA,
        [0xAB] = &&L_0xAB,
        [0xAC] = &&L_0xAC,
        [0xAD] = &&L_0xAD,
        [0xAE] = &&L_0xAE,
        [0xAF] = &&L_0xAF,
        [0xB0] = &&L_0xB0,
        [0xB1] = &&L_0xB1,
        [0xB2] = &&L_0xB2,
        [0xB3] = &&L_0xB3,
        [0xB4] = &&L_0xB4,
        [0xB5] = &&L_0xB5,
        [0xB6] = &&L_0xB6,
        [0xB7] = &&L_0xB7,
        [0xB8] = &&L_0xB8,
        [0xB9] = &&L_0xB9,
        [0xBA] = &&L_0xBA,
        [0xBB] = &&L_0xBB,
        [0xC0] = &&L_0xC0,
        [0xC1] = &&L_0xC1,
        [0xC2] = &&L_0xC2,
        [0xC3] = &&L_0xC3,
        [0xC4] = &&L_0xC4,
        [OP_FC + 0] = &&L_fc0,
        [OP_FC + 1] = &&L_fc1,
        [OP_FC + 2] = &&L_fc2,
        [OP_FC + 3] = &&L_fc3,
        [OP_FC + 4] = &&L_fc4,
        [OP_FC + 5] = &&L_fc5,
        [OP_FC + 6] = &&L_fc6,
        [OP_FC + 7] = &&L_fc7,
        [OP_FC + 8] = &&L_memory_init,
        [OP_FC + 9] = &&L_data_drop,
        [OP_FC + 10] = &&L_memory_copy,
        [OP_FC + 11] = &&L_memory_fill,
        [OP_FC + 12] = &&L_table_init,
        [OP_FC + 13] = &&L_elem_drop,
        [OP_FC + 14] = &&L_table_copy,
        [OP_FC + 15] = &&L_table_grow,
        [OP_FC + 16] = &&L_table_size,
        [OP_FC + 17] = &&L_table_fill,
        [OP_UNREACHABLE] = &&L_unreachable,
        [OP_BR] = &&L_br,
        [OP_BR_COPY] = &&L_br_copy,
        [OP_BR_IF] = &&L_br_if,
        [OP_BR_IF_COPY] = &&L_br_if_copy,
        [OP_BR_UNLESS] = &&L_br_unless,
        [OP_BR_TABLE] = &&L_br_table,
        [OP_RETURN] = &&L_return,
        [OP_CALL] = &&L_call,
        [OP_CALL_INDIRECT] = &&L_call_indirect,
        [OP_MOV] = &&L_mov,
        [OP_SELECT] = &&L_select,
        [OP_GLOBAL_GET] = &&L_global_get,
        [OP_GLOBAL_SET] = &&L_global_set,
        [OP_TABLE_GET] = &&L_table_get,
        [OP_TABLE_SET] = &&L_table_set,
        [OP_CONST] = &&L_const,
        [OP_REF_IS_NULL] = &&L_ref_is_null,
        [OP_LOOP] = &&L_loop,
        [OP_EXIT] = &&L_exit,
        [OP_STORE_ADDI + 0x36 - 0x36] = &&L_saddi_0x36,
        [OP_STORE_ADDI + 0x37 - 0x36] = &&L_saddi_0x37,
        [OP_STORE_ADDI + 0x38 - 0x36] = &&L_saddi_0x38,
        [OP_STORE_ADDI + 0x39 - 0x36] = &&L_saddi_0x39,
        [OP_STORE_ADDI + 0x3A - 0x36] = &&L_saddi_0x3A,
        [OP_STORE_ADDI + 0x3B - 0x36] = &&L_saddi_0x3B,
        [OP_STORE_ADDI + 0x3C - 0x36] = &&L_saddi_0x3C,
        [OP_STORE_ADDI + 0x3D - 0x36] = &&L_saddi_0x3D,
        [OP_STORE_ADDI + 0x3E - 0x36] = &&L_saddi_0x3E,
        [OP_IMM + 0x92 - 0x46] = &&L_imm_0x92,
        [OP_IMM + 0x93 - 0x46] = &&L_imm_0x93,
        [OP_IMM + 0x94 - 0x46] = &&L_imm_0x94,
        [OP_IMM + 0x95 - 0x46] = &&L_imm_0x95,
        [OP_IMM + 0xA0 - 0x46] = &&L_imm_0xA0,
        [OP_IMM + 0xA1 - 0x46] = &&L_imm_0xA1,
        [OP_IMM + 0xA2 - 0x46] = &&L_imm_0xA2,
        [OP_IMM + 0xA3 - 0x46] = &&L_imm_0xA3,
        [OP_LOAD_ADDI + 0x28 - 0x28] = &&L_addi_0x28,
        [OP_LOAD_ADDI + 0x29 - 0x28] = &&L_addi_0x29,
        [OP_LOAD_ADDI + 0x2A - 0x28] = &&L_addi_0x2A,
        [OP_LOAD_ADDI + 0x2B - 0x28] = &&L_addi_0x2B,
        [OP_LOAD_ADDI + 0x2C - 0x28] = &&L_addi_0x2C,
        [OP_LOAD_ADDI + 0x2D - 0x28] = &&L_addi_0x2D,
        [OP_LOAD_ADDI + 0x2E - 0x28] = &&L_addi_0x2E,
        [OP_LOAD_ADDI + 0x2F - 0x28] = &&L_addi_0x2F,
        [OP_LOAD_ADDI + 0x30 - 0x28] = &&L_addi_0x30,
        [OP_LOAD_ADDI + 0x31 - 0x28] = &&L_addi_0x31,
        [OP_LOAD_ADDI + 0x32 - 0x28] = &&L_addi_0x32,
        [OP_LOAD_ADDI + 0x33 - 0x28] = &&L_addi_0x33,
        [OP_LOAD_ADDI + 0x34 - 0x28] = &&L_addi_0x34,
        [OP_LOAD_ADDI + 0x35 - 0x28] = &&L_addi_0x35,
        [OP_IMM + 0x46 - 0x46] = &&L_imm_0x46,
        [OP_IMM + 0x47 - 0x46] = &&L_imm_0x47,
        [OP_IMM + 0x48 - 0x46] = &&L_imm_0x48,
        [OP_IMM + 0x49 - 0x46] = &&L_imm_0x49,
        [OP_IMM + 0x4A - 0x46] = &&L_imm_0x4A,
        [OP_IMM + 0x4B - 0x46] = &&L_imm_0x4B,
        [OP_IMM + 0x4C - 0x46] = &&L_imm_0x4C,
        [OP_IMM + 0x4D - 0x46] = &&L_imm_0x4D,
        [OP_IMM + 0x4E - 0x46] = &&L_imm_0x4E,
        [OP_IMM + 0x4F - 0x46] = &&L_imm_0x4F,
        [OP_IMM + 0x51 - 0x46] = &&L_imm_0x51,
        [OP_IMM + 0x52 - 0x46] = &&L_imm_0x52,
        [OP_IMM + 0x53 - 0x46] = &&L_imm_0x53,
        [OP_IMM + 0x54 - 0x46] = &&L_imm_0x54,
        [OP_IMM + 0x55 - 0x46] = &&L_imm_0x55,
        [OP_IMM + 0x56 - 0x46] = &&L_imm_0x56,
        [OP_IMM + 0x57 - 0x46] = &&L_imm_0x57,
        [OP_IMM + 0x58 - 0x46] = &&L_imm_0x58,
        [OP_IMM + 0x59 - 0x46] = &&L_imm_0x59,
        [OP_IMM + 0x5A - 0x46] = &&L_imm_0x5A,
        [OP_IMM + 0x6A - 0x46] = &&L_imm_0x6A,
        [OP_IMM + 0x6B - 0x46] = &&L_imm_0x6B,
        [OP_IMM + 0x6C - 0x46] = &&L_imm_0x6C,
        [OP_IMM + 0x71 - 0x46] = &&L_imm_0x71,
        [OP_IMM + 0x72 - 0x46] = &&L_imm_0x72,
        [OP_IMM + 0x73 - 0x46] = &&L_imm_0x73,
        [OP_IMM + 0x74 - 0x46] = &&L_imm_0x74,
        [OP_IMM + 0x75 - 0x46] = &&L_imm_0x75,
        [OP_IMM + 0x76 - 0x46] = &&L_imm_0x76,
        [OP_IMM + 0x77 - 0x46] = &&L_imm_0x77,
        [OP_IMM + 0x78 - 0x46] = &&L_imm_0x78,
        [OP_IMM + 0x7C - 0x46] = &&L_imm_0x7C,
        [OP_IMM + 0x7D - 0x46] = &&L_imm_0x7D,
        [OP_IMM + 0x7E - 0x46] = &&L_imm_0x7E,
        [OP_IMM + 0x83 - 0x46] = &&L_imm_0x83,
        [OP_IMM + 0x84 - 0x46] = &&L_imm_0x84,
        [OP_IMM + 0x85 - 0x46] = &&L_imm_0x85,
        [OP_IMM + 0x86 - 0x46] = &&L_imm_0x86,
        [OP_IMM + 0x87 - 0x46] = &&L_imm_0x87,
        [OP_IMM + 0x88 - 0x46] = &&L_imm_0x88,
        [OP_IMM + 0x89 - 0x46] = &&L_imm_0x89,
        [OP_IMM + 0x8A - 0x46] = &&L_imm_0x8A,
        [OP_BRC + 0] = &&L_brc_0,
        [OP_BRCI + 0] = &&L_brci_0,
        [OP_BRC + 1] = &&L_brc_1,
        [OP_BRCI + 1] = &&L_brci_1,
        [OP_BRC + 2] = &&L_brc_2,
        [OP_BRCI + 2] = &&L_brci_2,
        [OP_BRC + 3] = &&L_brc_3,
        [OP_BRCI + 3] = &&L_brci_3,
        [OP_BRC + 4] = &&L_brc_4,
        [OP_BRCI + 4] = &&L_brci_4,
        [OP_BRC + 5] = &&L_brc_5,
        [OP_BRCI + 5] = &&L_brci_5,
        [OP_BRC + 6] = &&L_brc_6,
        [OP_BRCI + 6] = &&L_brci_6,
        [OP_BRC + 7] = &&L_brc_7,
        [OP_BRCI + 7] = &&L_brci_7,
        [OP_BRC + 8] = &&L_brc_8,
        [OP_BRCI + 8] = &&L_brci_8,
        [OP_BRC + 9] = &&L_brc_9,
        [OP_BRCI + 9] = &&L_brci_9,
        [OP_BRC + 10] = &&L_brc_10,
        [OP_BRCI + 10] = &&L_brci_10,
        [OP_BRC + 11] = &&L_brc_11,
        [OP_BRCI + 11] = &&L_brci_11,
        [OP_BRC + 12] = &&L_brc_12,
        [OP_BRCI + 12] = &&L_brci_12,
        [OP_BRC + 13] = &&L_brc_13,
        [OP_BRCI + 13] = &&L_brci_13,
        [OP_BRC + 14] = &&L_brc_14,
        [OP_BRCI + 14] = &&L_brci_14,
        [OP_BRC + 15] = &&L_brc_15,
        [OP_BRCI + 15] = &&L_brci_15,
        [OP_BRC + 16] = &&L_brc_16,
        [OP_BRCI + 16] = &&L_brci_16,
        [OP_BRC + 17] = &&L_brc_17,
        [OP_BRCI + 17] = &&L_brci_17,
        [OP_BRC + 18] = &&L_brc_18,
        [OP_BRCI + 18] = &&L_brci_18,
        [OP_BRC + 19] = &&L_brc_19,
        [OP_BRCI + 19] = &&L_brci_19,
    };
    static const union cell exit_code[1] = {{.op = &&L_exit}};
    if (labels_out != NULL) {
        *labels_out = labels;
        return NULL;
    }

    const union cell *ip = exit_code;
    wasm_val *fp = base, *nfp = base;
    struct wasm_instance *inst = fn->inst;
    struct wasm_memory *mem;
    uint8_t *mbase;
    uint64_t msize;
    const char *trap = NULL;
    uint32_t entry_frames = ex->nframes;
    wasm_val *const stack_end = ex->end;
    LOAD_MEM();
    goto call_fn; /* returns to exit_code */

    /* ---- control ---- */
L_unreachable:
    TRAP("unreachable");
L_br:
    ip = ip->p;
    NEXT();
L_br_copy: /* target dst src n */
    copy_cells(fp + ip[1].u, fp + ip[2].u, ip[3].u);
    ip = ip->p;
    NEXT();
L_br_if: /* cond target */
    if (S(0).i32 != 0)
        ip = ip[1].p;
    else
        ip += 2;
    NEXT();
L_br_if_copy: /* cond target dst src n */
    if (S(0).i32 != 0) {
        ip++;
        goto L_br_copy;
    }
    ip += 5;
    NEXT();
L_br_unless: /* cond target */
    if (S(0).i32 == 0)
        ip = ip[1].p;
    else
        ip += 2;
    NEXT();
L_br_table : { /* index count arity src (target dst)... */
    uint64_t i = S(0).i32, count = ip[1].u, arity = ip[2].u;
    if (i > count)
        i = count;
    const union cell *e = ip + 4 + 2 * i;
    copy_cells(fp + e[1].u, fp + ip[3].u, arity);
    ip = e[0].p;
    NEXT();
}
L_return : { /* src n */
    copy_cells(fp, fp + ip[0].u, ip[1].u);
    RETURN_TO_CALLER();
}
L_call: /* func base */
    fn = ip[0].p;
    nfp = fp + ip[1].u;
    ip += 2;
call_fn:
    if (fn->host != NULL) {
        const char *t = call_host(ex, fn, mem, nfp);
        if (t != NULL)
            TRAP(t);
        LOAD_MEM();
        NEXT();
    } else {
        struct wasm_fn_code *fc = fn->code;
        if (__builtin_expect(fc->code == NULL, 0)) {
            if ((trap = compile_now(fn)) != NULL)
                goto trapped;
        } else if (fc->jit == NULL) {
            wasm_jit_count_call(fn->inst, fc);
        }
        if (ex->nframes == MAX_FRAMES || fc->max_cells > (size_t)(stack_end - nfp))
            TRAP(T_EXHAUSTED);
        for (uint32_t k = fc->nparams, e = fc->nparams + fc->nlocals; k < e; k++)
            nfp[k].bits = 0;
        if (fc->jit != NULL) {
            if (native_exhausted(ex))
                TRAP(T_EXHAUSTED);
            const char *t = fc->jit(nfp);
            if (t != NULL)
                TRAP(t);
            LOAD_MEM(); /* the callee may have grown memory */
            NEXT();
        }
        ex->frames[ex->nframes++] = (struct frame){ip, fp, inst};
        fp = nfp;
        ip = fc->code;
        if (fn->inst != inst) {
            inst = fn->inst;
            LOAD_MEM();
        }
        NEXT();
    }
L_call_indirect : { /* table sig index base */
    struct wasm_table *t = ip[0].p;
    const struct wasm_sig *sig = ip[1].p;
    uint32_t i = S(2).i32;
    nfp = fp + ip[3].u;
    ip += 4;
    if (i >= t->size)
        TRAP(element_trap("undefined element", i));
    fn = t->elems[i];
    if (fn == NULL)
        TRAP(element_trap("uninitialized element", i));
    if (fn->sig != sig)
        TRAP("indirect call type mismatch");
    goto call_fn;
}
L_select: /* dst a b cond */
    S(0) = S(3).i32 != 0 ? S(1) : S(2);
    ip += 4;
    NEXT();
L_mov:
    S(0) = S(1);
    ip += 2;
    NEXT();
L_global_get:
    S(0) = *(wasm_val *)ip[1].p;
    ip += 2;
    NEXT();
L_global_set:
    *(wasm_val *)ip[1].p = S(0);
    ip += 2;
    NEXT();
L_const:
    S(0).bits = ip[1].u;
    ip += 2;
    NEXT();
L_loop : { /* fc k: count an iteration; once hot, go on in machine code */
    struct wasm_fn_code *lf = ip[0].p;
    const char *(*entry)(wasm_val *) = NULL;
    if (__builtin_expect(++lf->hot >= wasm_jit_hot(), 0))
        entry = wasm_jit_osr(inst, lf, (uint32_t)ip[1].u);
    if (entry == NULL) {
        ip += 2;
        NEXT();
    }
    if (native_exhausted(ex))
        TRAP(T_EXHAUSTED);
    const char *t = entry(fp);
    if (t != NULL)
        TRAP(t);
    /* the activation ran to its end in machine code: its results are at fp */
    RETURN_TO_CALLER();
}
L_ref_is_null:
    S(0).i32 = S(1).ref == NULL;
    ip += 2;
    NEXT();

    /* ---- tables ---- */
L_table_get : { /* dst index table */
    struct wasm_table *t = ip[2].p;
    uint32_t i = S(1).i32;
    if (i >= t->size)
        TRAP(T_TABLE);
    S(0).ref = t->elems[i];
    ip += 3;
    NEXT();
}
L_table_set : { /* index value table */
    struct wasm_table *t = ip[2].p;
    uint32_t i = S(0).i32;
    if (i >= t->size)
        TRAP(T_TABLE);
    t->elems[i] = S(1).ref;
    ip += 3;
    NEXT();
}
L_table_size: /* dst table */
    S(0).i32 = ((struct wasm_table *)ip[1].p)->size;
    ip += 2;
    NEXT();
L_table_grow: /* dst init n table */
    S(0).i32 = (uint32_t)wasm_table_grow(ip[3].p, S(2).i32, S(1).ref);
    ip += 4;
    NEXT();
L_table_fill : { /* i v n table */
    struct wasm_table *t = ip[3].p;
    uint32_t i = S(0).i32, n = S(2).i32;
    void *v = S(1).ref;
    if (!in_bounds(i, n, t->size))
        TRAP(T_TABLE);
    for (uint32_t k = 0; k < n; k++)
        t->elems[i + k] = v;
    ip += 4;
    NEXT();
}
L_table_copy : { /* d s n dst-table src-table */
    struct wasm_table *dt = ip[3].p, *st = ip[4].p;
    uint32_t d = S(0).i32, s = S(1).i32, n = S(2).i32;
    if (!in_bounds(s, n, st->size) || !in_bounds(d, n, dt->size))
        TRAP(T_TABLE);
    if (n > 0)
        memmove(dt->elems + d, st->elems + s, (size_t)n * sizeof(void *));
    ip += 5;
    NEXT();
}
L_table_init : { /* d s n table seg */
    struct wasm_table *t = ip[3].p;
    struct wasm_elemseg *e = ip[4].p;
    uint32_t d = S(0).i32, s = S(1).i32, n = S(2).i32;
    if (!in_bounds(s, n, e->len) || !in_bounds(d, n, t->size))
        TRAP(T_TABLE);
    if (n > 0)
        memcpy(t->elems + d, e->refs + s, (size_t)n * sizeof(void *));
    ip += 5;
    NEXT();
}
L_data_drop: /* a dropped segment is an empty one */
    ((struct wasm_dataseg *)(ip++)->p)->len = 0;
    NEXT();
L_elem_drop:
    ((struct wasm_elemseg *)(ip++)->p)->len = 0;
    NEXT();

    /* ---- memory ---- */
    LOADX(0x28, uint32_t, i32, uint32_t)
    LOADX(0x29, uint64_t, i64, uint64_t)
    LOADX(0x2A, uint32_t, i32, uint32_t)
    LOADX(0x2B, uint64_t, i64, uint64_t)
    LOADX(0x2C, int8_t, i32, uint32_t)
    LOADX(0x2D, uint8_t, i32, uint32_t)
    LOADX(0x2E, int16_t, i32, uint32_t)
    LOADX(0x2F, uint16_t, i32, uint32_t)
    LOADX(0x30, int8_t, i64, uint64_t)
    LOADX(0x31, uint8_t, i64, uint64_t)
    LOADX(0x32, int16_t, i64, uint64_t)
    LOADX(0x33, uint16_t, i64, uint64_t)
    LOADX(0x34, int32_t, i64, uint64_t)
    LOADX(0x35, uint32_t, i64, uint64_t)
    STOREX(0x36, uint32_t, i32)
    STOREX(0x37, uint64_t, i64)
    STOREX(0x38, uint32_t, i32)
    STOREX(0x39, uint64_t, i64)
    STOREX(0x3A, uint8_t, i32)
    STOREX(0x3B, uint16_t, i32)
    STOREX(0x3C, uint8_t, i64)
    STOREX(0x3D, uint16_t, i64)
    STOREX(0x3E, uint32_t, i64)
L_0x3F: /* dst */
    S(0).i32 = mem->pages;
    ip += 1;
    NEXT();
L_0x40: /* dst delta */
    S(0).i32 = (uint32_t)wasm_memory_grow(mem, S(1).i32);
    msize = mem->size;
    ip += 2;
    NEXT();
L_memory_init : { /* d s n seg */
    struct wasm_dataseg *seg = ip[3].p;
    uint32_t d = S(0).i32, s = S(1).i32, n = S(2).i32;
    if (!in_bounds(s, n, seg->len) || !in_bounds(d, n, msize))
        TRAP(T_OOB);
    if (n > 0)
        memcpy(mbase + d, seg->bytes + s, n);
    ip += 4;
    NEXT();
}
L_memory_copy : { /* d s n */
    uint32_t d = S(0).i32, s = S(1).i32, n = S(2).i32;
    if (!in_bounds(s, n, msize) || !in_bounds(d, n, msize))
        TRAP(T_OOB);
    if (n > 0)
        memmove(mbase + d, mbase + s, n);
    ip += 3;
    NEXT();
}
L_memory_fill : { /* d v n */
    uint32_t d = S(0).i32, n = S(2).i32;
    if (!in_bounds(d, n, msize))
        TRAP(T_OOB);
    if (n > 0)
        memset(mbase + d, (int)S(1).i32, n);
    ip += 3;
    NEXT();
}
    /* ---- numeric ---- */
    UN(0x45, i32, uint32_t, i32, a == 0)
    CMPI(0x46, 0, i32, uint32_t, a == b)
    CMPI(0x47, 1, i32, uint32_t, a != b)
    CMPI(0x48, 2, i32, int32_t, a < b)
    CMPI(0x49, 3, i32, uint32_t, a < b)
    CMPI(0x4A, 4, i32, int32_t, a > b)
    CMPI(0x4B, 5, i32, uint32_t, a > b)
    CMPI(0x4C, 6, i32, int32_t, a <= b)
    CMPI(0x4D, 7, i32, uint32_t, a <= b)
    CMPI(0x4E, 8, i32, int32_t, a >= b)
    CMPI(0x4F, 9, i32, uint32_t, a >= b)
    UN(0x50, i64, uint64_t, i32, a == 0)
    CMPI(0x51, 10, i64, uint64_t, a == b)
    CMPI(0x52, 11, i64, uint64_t, a != b)
    CMPI(0x53, 12, i64, int64_t, a < b)
    CMPI(0x54, 13, i64, uint64_t, a < b)
    CMPI(0x55, 14, i64, int64_t, a > b)
    CMPI(0x56, 15, i64, uint64_t, a > b)
    CMPI(0x57, 16, i64, int64_t, a <= b)
    CMPI(0x58, 17, i64, uint64_t, a <= b)
    CMPI(0x59, 18, i64, int64_t, a >= b)
    CMPI(0x5A, 19, i64, uint64_t, a >= b)
    CMP(0x5B, f32, float, a == b)
    CMP(0x5C, f32, float, a != b)
    CMP(0x5D, f32, float, a < b)
    CMP(0x5E, f32, float, a > b)
    CMP(0x5F, f32, float, a <= b)
    CMP(0x60, f32, float, a >= b)
    CMP(0x61, f64, double, a == b)
    CMP(0x62, f64, double, a != b)
    CMP(0x63, f64, double, a < b)
    CMP(0x64, f64, double, a > b)
    CMP(0x65, f64, double, a <= b)
    CMP(0x66, f64, double, a >= b)

    UN(0x67, i32, uint32_t, i32, a ? (uint32_t)__builtin_clz(a) : 32)
    UN(0x68, i32, uint32_t, i32, a ? (uint32_t)__builtin_ctz(a) : 32)
    UN(0x69, i32, uint32_t, i32, (uint32_t)__builtin_popcount(a))
    BINI(0x6A, i32, uint32_t, a + b)
    BINI(0x6B, i32, uint32_t, a - b)
    BINI(0x6C, i32, uint32_t, a * b)
L_0x6D : {
    int32_t a = (int32_t)S(1).i32, b = (int32_t)S(2).i32;
    if (b == 0)
        TRAP(T_DIV0);
    if (a == INT32_MIN && b == -1)
        TRAP(T_OVERFLOW);
    ip += 3;
    S(-3).i32 = (uint32_t)(a / b);
    NEXT();
}
L_0x6E : {
    uint32_t a = S(1).i32, b = S(2).i32;
    if (b == 0)
        TRAP(T_DIV0);
    ip += 3;
    S(-3).i32 = a / b;
    NEXT();
}
L_0x6F : {
    int32_t a = (int32_t)S(1).i32, b = (int32_t)S(2).i32;
    if (b == 0)
        TRAP(T_DIV0);
    ip += 3;
    S(-3).i32 = b == -1 ? 0 : (uint32_t)(a % b);
    NEXT();
}
L_0x70 : {
    uint32_t a = S(1).i32, b = S(2).i32;
    if (b == 0)
        TRAP(T_DIV0);
    ip += 3;
    S(-3).i32 = a % b;
    NEXT();
}
    BINI(0x71, i32, uint32_t, a & b)
    BINI(0x72, i32, uint32_t, a | b)
    BINI(0x73, i32, uint32_t, a ^ b)
    BINI(0x74, i32, uint32_t, a << (b & 31))
    BINI(0x75, i32, uint32_t, (uint32_t)((int32_t)a >> (b & 31)))
    BINI(0x76, i32, uint32_t, a >> (b & 31))
    BINI(0x77, i32, uint32_t, rotl32(a, b))
    BINI(0x78, i32, uint32_t, rotr32(a, b))

    UN(0x79, i64, uint64_t, i64, a ? (uint64_t)__builtin_clzll(a) : 64)
    UN(0x7A, i64, uint64_t, i64, a ? (uint64_t)__builtin_ctzll(a) : 64)
    UN(0x7B, i64, uint64_t, i64, (uint64_t)__builtin_popcountll(a))
    BINI(0x7C, i64, uint64_t, a + b)
    BINI(0x7D, i64, uint64_t, a - b)
    BINI(0x7E, i64, uint64_t, a * b)
L_0x7F : {
    int64_t a = (int64_t)S(1).i64, b = (int64_t)S(2).i64;
    if (b == 0)
        TRAP(T_DIV0);
    if (a == INT64_MIN && b == -1)
        TRAP(T_OVERFLOW);
    ip += 3;
    S(-3).i64 = (uint64_t)(a / b);
    NEXT();
}
L_0x80 : {
    uint64_t a = S(1).i64, b = S(2).i64;
    if (b == 0)
        TRAP(T_DIV0);
    ip += 3;
    S(-3).i64 = a / b;
    NEXT();
}
L_0x81 : {
    int64_t a = (int64_t)S(1).i64, b = (int64_t)S(2).i64;
    if (b == 0)
        TRAP(T_DIV0);
    ip += 3;
    S(-3).i64 = b == -1 ? 0 : (uint64_t)(a % b);
    NEXT();
}
L_0x82 : {
    uint64_t a = S(1).i64, b = S(2).i64;
    if (b == 0)
        TRAP(T_DIV0);
    ip += 3;
    S(-3).i64 = a % b;
    NEXT();
}
    BINI(0x83, i64, uint64_t, a & b)
    BINI(0x84, i64, uint64_t, a | b)
    BINI(0x85, i64, uint64_t, a ^ b)
    BINI(0x86, i64, uint64_t, a << (b & 63))
    BINI(0x87, i64, uint64_t, (uint64_t)((int64_t)a >> (b & 63)))
    BINI(0x88, i64, uint64_t, a >> (b & 63))
    BINI(0x89, i64, uint64_t, rotl64(a, b))
    BINI(0x8A, i64, uint64_t, rotr64(a, b))

    UN(0x8B, i32, uint32_t, i32, a & 0x7FFFFFFFu)
    UN(0x8C, i32, uint32_t, i32, a ^ 0x80000000u)
    UN(0x8D, f32, float, f32, f32_ceil(a))
    UN(0x8E, f32, float, f32, f32_floor(a))
    UN(0x8F, f32, float, f32, f32_trunc(a))
    UN(0x90, f32, float, f32, f32_nearest(a))
    UN(0x91, f32, float, f32, sqrtf(a))
    BINI(0x92, f32, float, a + b)
    BINI(0x93, f32, float, a - b)
    BINI(0x94, f32, float, a *b)
    BINI(0x95, f32, float, a / b)
    BIN(0x96, f32, float, f32_min(a, b))
    BIN(0x97, f32, float, f32_max(a, b))
    BIN(0x98, i32, uint32_t, (a & 0x7FFFFFFFu) | (b & 0x80000000u))

    UN(0x99, i64, uint64_t, i64, a & 0x7FFFFFFFFFFFFFFFull)
    UN(0x9A, i64, uint64_t, i64, a ^ 0x8000000000000000ull)
    UN(0x9B, f64, double, f64, f64_ceil(a))
    UN(0x9C, f64, double, f64, f64_floor(a))
    UN(0x9D, f64, double, f64, f64_trunc(a))
    UN(0x9E, f64, double, f64, f64_nearest(a))
    UN(0x9F, f64, double, f64, sqrt(a))
    BINI(0xA0, f64, double, a + b)
    BINI(0xA1, f64, double, a - b)
    BINI(0xA2, f64, double, a *b)
    BINI(0xA3, f64, double, a / b)
    BIN(0xA4, f64, double, f64_min(a, b))
    BIN(0xA5, f64, double, f64_max(a, b))
    BIN(0xA6, i64, uint64_t, (a & 0x7FFFFFFFFFFFFFFFull) | (b & 0x8000000000000000ull))

    TRUNC(0xA8, f32, i32, int32_t, I32_LO, I32_HI)
    TRUNC(0xA9, f32, i32, uint32_t, -1.0, U32_HI)
    TRUNC(0xAA, f64, i32, int32_t, I32_LO, I32_HI)
    TRUNC(0xAB, f64, i32, uint32_t, -1.0, U32_HI)
    UN(0xAC, i32, int32_t, i64, (uint64_t)(int64_t)a)
    UN(0xAD, i32, uint32_t, i64, (uint64_t)a)
    TRUNC(0xAE, f32, i64, int64_t, I64_LO, I64_HI)
    TRUNC(0xAF, f32, i64, uint64_t, -1.0, U64_HI)
    TRUNC(0xB0, f64, i64, int64_t, I64_LO, I64_HI)
    TRUNC(0xB1, f64, i64, uint64_t, -1.0, U64_HI)
    UN(0xB2, i32, int32_t, f32, (float)a)
    UN(0xB3, i32, uint32_t, f32, (float)a)
    UN(0xB4, i64, int64_t, f32, (float)a)
    UN(0xB5, i64, uint64_t, f32, (float)a)
    UN(0xB6, f64, double, f32, (float)a)
    UN(0xB7, i32, int32_t, f64, (double)a)
    UN(0xB8, i32, uint32_t, f64, (double)a)
    UN(0xB9, i64, int64_t, f64, (double)a)
    UN(0xBA, i64, uint64_t, f64, (double)a)
    UN(0xBB, f32, float, f64, (double)a)
    UN(0xC0, i32, uint32_t, i32, (uint32_t)(int32_t)(int8_t)a)
    UN(0xC1, i32, uint32_t, i32, (uint32_t)(int32_t)(int16_t)a)
    UN(0xC2, i64, uint64_t, i64, (uint64_t)(int64_t)(int8_t)a)
    UN(0xC3, i64, uint64_t, i64, (uint64_t)(int64_t)(int16_t)a)
    UN(0xC4, i64, uint64_t, i64, (uint64_t)(int64_t)(int32_t)a)
    UN(fc0, f32, float, i32, sat_i32(a))
    UN(fc1, f32, float, i32, sat_u32(a))
    UN(fc2, f64, double, i32, sat_i32(a))
    UN(fc3, f64, double, i32, sat_u32(a))
    UN(fc4, f32, float, i64, sat_i64(a))
    UN(fc5, f32, float, i64, sat_u64(a))
    UN(fc6, f64, double, i64, sat_i64(a))
    UN(fc7, f64, double, i64, sat_u64(a))

L_exit:
    return NULL;
trapped:
    ex->nframes = entry_frames;
    return trap;
}

const void *const *wasm_interp_labels(void)
{
    const void *const *labels = NULL;
    run(NULL, NULL, NULL, &labels);
    return labels;
}

const char *wasm_call(struct wasm_func *f, const wasm_val *args, wasm_val *results)
{
    struct exec *ex = exec_get();
    if (ex == NULL)
        return T_EXHAUSTED;
    const struct wasm_sig *sig = f->sig;
    uint32_t cells = sig->param_cells > sig->result_cells ? sig->param_cells : sig->result_cells;
    if ((size_t)(ex->end - ex->free) < cells + 16u)
        return T_EXHAUSTED;
    wasm_val *base = ex->free;
    if (sig->param_cells > 0)
        memcpy(base, args, sig->param_cells * sizeof(wasm_val));
    const char *trap;
    if (f->host != NULL) {
        ex->free = base + cells;
        trap = f->host(f->host_ctx, NULL, base);
    } else {
        /* A frame whose return address is the exit instruction. */
        trap = run(ex, f, base, NULL);
    }
    ex->free = base;
    if (trap == NULL && sig->result_cells > 0)
        memcpy(results, base, sig->result_cells * sizeof(wasm_val));
    return trap;
}

/* ---- calls from translated code (jit.h) ---- */

const char *wasm_jit_call(struct wasm_func *fn, wasm_val *nfp, struct wasm_memory *caller_mem)
{
    struct exec *ex = &exec_tls;
    if (native_exhausted(ex))
        return T_EXHAUSTED;
    if (fn->host != NULL)
        return call_host(ex, fn, caller_mem, nfp);
    struct wasm_fn_code *fc = fn->code;
    if (fc->jit == NULL)
        return run(ex, fn, nfp, NULL); /* compiles it first when needed */
    if (fc->max_cells > (size_t)(ex->end - nfp))
        return T_EXHAUSTED;
    for (uint32_t k = fc->nparams, e = fc->nparams + fc->nlocals; k < e; k++)
        nfp[k].bits = 0;
    return fc->jit(nfp);
}

const char *wasm_jit_call_indirect(struct wasm_table *t, const struct wasm_sig *sig, uint32_t i,
                                   wasm_val *nfp, struct wasm_memory *caller_mem)
{
    if (i >= t->size)
        return element_trap("undefined element", i);
    struct wasm_func *fn = t->elems[i];
    if (fn == NULL)
        return element_trap("uninitialized element", i);
    if (fn->sig != sig)
        return "indirect call type mismatch";
    return wasm_jit_call(fn, nfp, caller_mem);
}
