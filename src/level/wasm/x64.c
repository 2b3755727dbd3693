/* The x86-64 encoder of x64.h (Intel SDM vol. 2, chapter 2: REX, ModRM, SIB). */
#include "level/wasm/x64.h"

#include <stdlib.h>
#include <string.h>

void x64_byte(struct x64 *a, uint8_t b)
{
    if (a->oom) {
        a->n++; /* only counted: the code is thrown away at the end */
        return;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        uint8_t *p = realloc(a->p, cap);
        if (p == NULL) {
            a->oom = true;
            a->n++;
            return;
        }
        a->p = p;
        a->cap = cap;
    }
    a->p[a->n++] = b;
}

void x64_u32(struct x64 *a, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        x64_byte(a, (uint8_t)(v >> (8 * i)));
}

void x64_u64(struct x64 *a, uint64_t v)
{
    x64_u32(a, (uint32_t)v);
    x64_u32(a, (uint32_t)(v >> 32));
}

static void opcode_bytes(struct x64 *a, uint32_t opcode)
{
    if (opcode > 0xFFFF)
        x64_byte(a, (uint8_t)(opcode >> 16));
    if (opcode > 0xFF)
        x64_byte(a, (uint8_t)(opcode >> 8));
    x64_byte(a, (uint8_t)opcode);
}

static void rex(struct x64 *a, bool w, int reg, int index, int base)
{
    uint8_t r = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) |
                          (index >= 0 && (index & 8) ? 2 : 0) | (base >= 0 && (base & 8) ? 1 : 0));
    if (r != 0x40)
        x64_byte(a, r);
}

static uint8_t scale_bits(int scale)
{
    return scale == 8 ? 3 : scale == 4 ? 2 : scale == 2 ? 1 : 0;
}

void x64_mem_op(struct x64 *a, uint8_t prefix, bool w, uint32_t opcode, int reg, struct x64_mem m)
{
    if (prefix)
        x64_byte(a, prefix);
    rex(a, w, reg, m.index, m.base);
    opcode_bytes(a, opcode);
    /* mod=10: disp32 always, which also covers RBP/R13 as a base */
    if (m.index == NOREG && (m.base & 7) != RSP) {
        x64_byte(a, (uint8_t)(0x80 | (reg & 7) << 3 | (m.base & 7)));
    } else {
        int index = m.index == NOREG ? RSP : m.index; /* 100: no index */
        x64_byte(a, (uint8_t)(0x80 | (reg & 7) << 3 | 4));
        x64_byte(a, (uint8_t)(scale_bits(m.scale) << 6 | (index & 7) << 3 | (m.base & 7)));
    }
    x64_u32(a, (uint32_t)m.disp);
}

void x64_reg_op(struct x64 *a, uint8_t prefix, bool w, uint32_t opcode, int reg, int rm)
{
    if (prefix)
        x64_byte(a, prefix);
    rex(a, w, reg, NOREG, rm);
    opcode_bytes(a, opcode);
    x64_byte(a, (uint8_t)(0xC0 | (reg & 7) << 3 | (rm & 7)));
}

void x64_mov_imm(struct x64 *a, int reg, uint64_t v)
{
    if (v == 0) {
        x64_reg_op(a, 0, false, 0x33, reg, reg); /* xor r32, r32 */
    } else if (v <= UINT32_MAX) {
        rex(a, false, 0, NOREG, reg);
        x64_byte(a, (uint8_t)(0xB8 + (reg & 7)));
        x64_u32(a, (uint32_t)v);
    } else if ((int64_t)v >= INT32_MIN && (int64_t)v < 0) {
        x64_reg_op(a, 0, true, 0xC7, 0, reg); /* mov r/m64, simm32 */
        x64_u32(a, (uint32_t)v);
    } else {
        rex(a, true, 0, NOREG, reg);
        x64_byte(a, (uint8_t)(0xB8 + (reg & 7)));
        x64_u64(a, v);
    }
}

void x64_push(struct x64 *a, int reg)
{
    rex(a, false, 0, NOREG, reg);
    x64_byte(a, (uint8_t)(0x50 + (reg & 7)));
}

void x64_pop(struct x64 *a, int reg)
{
    rex(a, false, 0, NOREG, reg);
    x64_byte(a, (uint8_t)(0x58 + (reg & 7)));
}

void x64_call_abs(struct x64 *a, const void *fn)
{
    x64_mov_imm(a, RAX, (uint64_t)(uintptr_t)fn);
    x64_reg_op(a, 0, false, 0xFF, 2, RAX); /* call rax */
}

size_t x64_lea_rip(struct x64 *a, int reg)
{
    rex(a, true, reg, NOREG, NOREG);
    x64_byte(a, 0x8D);
    x64_byte(a, (uint8_t)((reg & 7) << 3 | 5)); /* mod=00 rm=101: RIP + disp32 */
    size_t at = a->n;
    x64_u32(a, 0);
    return at;
}

size_t x64_jump(struct x64 *a, int cc)
{
    if (cc < 0) {
        x64_byte(a, 0xE9);
    } else {
        x64_byte(a, 0x0F);
        x64_byte(a, (uint8_t)(0x80 + cc));
    }
    size_t at = a->n;
    x64_u32(a, 0);
    return at;
}

void x64_patch_rel32(struct x64 *a, size_t at, size_t target)
{
    if (a->oom)
        return;
    int32_t rel = (int32_t)((int64_t)target - (int64_t)(at + 4));
    memcpy(a->p + at, &rel, 4);
}
