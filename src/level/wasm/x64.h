/* A small x86-64 instruction encoder for the JIT (jit.c): only the forms it
 * uses. Memory operands are [base + index*scale + disp32]; every function
 * appends to a growable buffer and sets `oom` instead of failing. */
#ifndef CELLA_WASM_X64_H
#define CELLA_WASM_X64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum x64_reg { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
#define NOREG (-1)

/* Condition codes (the low nibble of Jcc/SETcc/CMOVcc). */
enum x64_cc {
    CC_O,
    CC_NO,
    CC_B,
    CC_AE,
    CC_E,
    CC_NE,
    CC_BE,
    CC_A,
    CC_S,
    CC_NS,
    CC_P,
    CC_NP,
    CC_L,
    CC_GE,
    CC_LE,
    CC_G
};

struct x64 {
    uint8_t *p;
    size_t n, cap;
    bool oom;
};

/* A memory operand. */
struct x64_mem {
    int base, index, scale; /* index NOREG for none; scale 1, 2, 4, 8 */
    int32_t disp;
};

static inline struct x64_mem x64_at(int base, int32_t disp)
{
    return (struct x64_mem){base, NOREG, 1, disp};
}

void x64_byte_slow(struct x64 *a, uint8_t b);

static inline void x64_byte(struct x64 *a, uint8_t b)
{
    if (a->n < a->cap)
        a->p[a->n++] = b;
    else
        x64_byte_slow(a, b);
}
void x64_u32_slow(struct x64 *a, uint32_t v);

static inline void x64_u32(struct x64 *a, uint32_t v)
{
    if (a->n + 4 <= a->cap) {
        for (int i = 0; i < 4; i++)
            a->p[a->n++] = (uint8_t)(v >> (8 * i));
    } else {
        x64_u32_slow(a, v);
    }
}

void x64_u64(struct x64 *a, uint64_t v);

/* An instruction with a memory operand: [prefix] [REX] opcode (1-3 bytes,
 * high byte first) ModRM/SIB/disp; x64_reg_op is the same with a register
 * operand (ModRM mod=11). `reg` is the ModRM reg field (a register or an
 * opcode extension /digit); prefix 0 for none. x64_mov_imm uses the
 * shortest form; x64_call_abs calls through RAX; x64_lea_rip and x64_jump
 * return the offset of their rel32, for x64_patch_rel32. Inline: the JIT
 * spends its time here. */

static inline void opcode_bytes(struct x64 *a, uint32_t opcode)
{
    if (opcode > 0xFFFF)
        x64_byte(a, (uint8_t)(opcode >> 16));
    if (opcode > 0xFF)
        x64_byte(a, (uint8_t)(opcode >> 8));
    x64_byte(a, (uint8_t)opcode);
}

static inline void rex(struct x64 *a, bool w, int reg, int index, int base)
{
    uint8_t r = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) |
                          (index >= 0 && (index & 8) ? 2 : 0) | (base >= 0 && (base & 8) ? 1 : 0));
    if (r != 0x40)
        x64_byte(a, r);
}

static inline uint8_t scale_bits(int scale)
{
    return scale == 8 ? 3 : scale == 4 ? 2 : scale == 2 ? 1 : 0;
}

static inline void x64_mem_op(struct x64 *a, uint8_t prefix, bool w, uint32_t opcode, int reg,
                              struct x64_mem m)
{
    if (prefix)
        x64_byte(a, prefix);
    rex(a, w, reg, m.index, m.base);
    opcode_bytes(a, opcode);
    /* mod=01 with a disp8 when it fits, else mod=10 with a disp32 (never
     * mod=00, which would make RBP/R13 as a base mean RIP-relative) */
    bool short_disp = m.disp >= -128 && m.disp <= 127;
    uint8_t mod = short_disp ? 0x40 : 0x80;
    if (m.index == NOREG && (m.base & 7) != RSP) {
        x64_byte(a, (uint8_t)(mod | (reg & 7) << 3 | (m.base & 7)));
    } else {
        int index = m.index == NOREG ? RSP : m.index; /* 100: no index */
        x64_byte(a, (uint8_t)(mod | (reg & 7) << 3 | 4));
        x64_byte(a, (uint8_t)(scale_bits(m.scale) << 6 | (index & 7) << 3 | (m.base & 7)));
    }
    if (short_disp)
        x64_byte(a, (uint8_t)(int8_t)m.disp);
    else
        x64_u32(a, (uint32_t)m.disp);
}

static inline void x64_reg_op(struct x64 *a, uint8_t prefix, bool w, uint32_t opcode, int reg,
                              int rm)
{
    if (prefix)
        x64_byte(a, prefix);
    rex(a, w, reg, NOREG, rm);
    opcode_bytes(a, opcode);
    x64_byte(a, (uint8_t)(0xC0 | (reg & 7) << 3 | (rm & 7)));
}

static inline void x64_mov_imm(struct x64 *a, int reg, uint64_t v)
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

static inline void x64_push(struct x64 *a, int reg)
{
    rex(a, false, 0, NOREG, reg);
    x64_byte(a, (uint8_t)(0x50 + (reg & 7)));
}

static inline void x64_pop(struct x64 *a, int reg)
{
    rex(a, false, 0, NOREG, reg);
    x64_byte(a, (uint8_t)(0x58 + (reg & 7)));
}

static inline void x64_call_abs(struct x64 *a, const void *fn)
{
    x64_mov_imm(a, RAX, (uint64_t)(uintptr_t)fn);
    x64_reg_op(a, 0, false, 0xFF, 2, RAX); /* call rax */
}

static inline size_t x64_lea_rip(struct x64 *a, int reg)
{
    rex(a, true, reg, NOREG, NOREG);
    x64_byte(a, 0x8D);
    x64_byte(a, (uint8_t)((reg & 7) << 3 | 5)); /* mod=00 rm=101: RIP + disp32 */
    size_t at = a->n;
    x64_u32(a, 0);
    return at;
}

static inline size_t x64_jump(struct x64 *a, int cc)
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

static inline void x64_patch_rel32(struct x64 *a, size_t at, size_t target)
{
    if (a->oom)
        return;
    int32_t rel = (int32_t)((int64_t)target - (int64_t)(at + 4));
    memcpy(a->p + at, &rel, 4);
}

#endif
