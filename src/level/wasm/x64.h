/* A small x86-64 instruction encoder for the JIT (jit.c): only the forms it
 * uses. Memory operands are [base + index*scale + disp32]; every function
 * appends to a growable buffer and sets `oom` instead of failing. */
#ifndef CELLA_WASM_X64_H
#define CELLA_WASM_X64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

void x64_byte(struct x64 *a, uint8_t b);
void x64_u32(struct x64 *a, uint32_t v);
void x64_u64(struct x64 *a, uint64_t v);

/* An instruction with a memory operand: [prefix] [REX] opcode (1-3 bytes,
 * high byte first) ModRM/SIB/disp32. `reg` is the ModRM reg field (a
 * register or an opcode extension /digit). prefix 0 for none. */
void x64_mem_op(struct x64 *a, uint8_t prefix, bool w, uint32_t opcode, int reg, struct x64_mem m);
/* The same with a register operand (ModRM mod=11). */
void x64_reg_op(struct x64 *a, uint8_t prefix, bool w, uint32_t opcode, int reg, int rm);

void x64_mov_imm(struct x64 *a, int reg, uint64_t v); /* shortest form */
void x64_push(struct x64 *a, int reg);
void x64_pop(struct x64 *a, int reg);
void x64_call_abs(struct x64 *a, const void *fn); /* through RAX */
/* lea reg, [rip + rel32]: the rel32's offset, to patch with x64_patch_rel32. */
size_t x64_lea_rip(struct x64 *a, int reg);
/* A jump (cc < 0: unconditional) with a rel32 to patch: the rel32's offset. */
size_t x64_jump(struct x64 *a, int cc);
void x64_patch_rel32(struct x64 *a, size_t at, size_t target);

#endif
