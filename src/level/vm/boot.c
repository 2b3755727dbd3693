/* Direct boot of the uncompressed vmlinux through its PVH entry.
 *
 * Why PVH and not the 64-bit Linux boot protocol: the vmlinux carries its
 * PVH entry as an ELF note (XEN_ELFNOTE_PHYS32_ENTRY, CONFIG_PVH), entered
 * in flat 32-bit protected mode with paging off, so the VMM builds no page
 * tables and no zero page (whose setup_header a vmlinux lacks: it lives in
 * the bzImage's setup code): the kernel makes its own boot_params from the
 * small start_info below (memory map, command line, initramfs as module 0).
 * It is also the entry the qemu level's microvm takes with the same kernel,
 * so both levels boot the guest the same way. */
#define _GNU_SOURCE
#include <elf.h>
#include <linux/kvm.h>
#include <string.h>

#include "core/util.h"
#include "level/vm/vm.h"
#include "level/vmhost/vm.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_START_MAGIC          0x336ec578u

/* The PVH boot ABI (xen/include/public/arch-x86/hvm/start_info.h). */
struct hvm_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry {
    uint64_t paddr, size, cmdline_paddr, reserved;
};
struct hvm_memmap_entry {
    uint64_t addr, size;
    uint32_t type, reserved;
};

#define MAX_E820 8

/* The PVH entry in one PT_NOTE segment, 0 when absent. */
static uint32_t pvh_note(const uint8_t *p, uint64_t len)
{
    uint64_t off = 0;
    while (off + sizeof(Elf64_Nhdr) <= len) {
        const Elf64_Nhdr *n = (const void *)(p + off);
        uint64_t name = off + sizeof(*n), desc = name + ((n->n_namesz + 3ull) & ~3ull);
        uint64_t next = desc + ((n->n_descsz + 3ull) & ~3ull);
        if (next > len)
            return 0;
        if (n->n_type == XEN_ELFNOTE_PHYS32_ENTRY && n->n_namesz == 4 &&
            memcmp(p + name, "Xen", 4) == 0 && n->n_descsz >= 4) {
            uint32_t entry;
            memcpy(&entry, p + desc, 4);
            return entry;
        }
        off = next;
    }
    return 0;
}

int vm_load_elf(struct guest_mem *m, const void *elf, size_t len, const char *what,
                struct vm_kernel *k, cerr_t *err)
{
    const uint8_t *b = elf;
    const Elf64_Ehdr *eh = elf;
    memset(k, 0, sizeof(*k));
    if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return cerr_set(err, 0, "%s: not an ELF file (the vm level boots an uncompressed vmlinux)",
                        what);
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
        eh->e_phentsize != sizeof(Elf64_Phdr))
        return cerr_set(err, 0, "%s: not an x86-64 ELF64 vmlinux", what);
    if (eh->e_phoff > len || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
        return cerr_set(err, 0, "%s: program headers beyond the end of the file", what);
    const Elf64_Phdr *ph = (const void *)(b + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type != PT_LOAD && p->p_type != PT_NOTE)
            continue;
        if (p->p_offset > len || p->p_filesz > len - p->p_offset)
            return cerr_set(err, 0, "%s: segment %u beyond the end of the file", what, i);
        if (p->p_type == PT_NOTE) {
            if (k->pvh_entry == 0)
                k->pvh_entry = pvh_note(b + p->p_offset, p->p_filesz);
            continue;
        }
        if (p->p_filesz > p->p_memsz)
            return cerr_set(err, 0, "%s: segment %u: file size above memory size", what, i);
        uint8_t *dst = guest_ptr(m, p->p_paddr, p->p_memsz);
        if (dst == NULL || p->p_paddr < VM_HIGH_RAM)
            return cerr_set(err, 0,
                            "%s: segment %u at 0x%llx-0x%llx does not fit in %llu MiB of guest "
                            "memory",
                            what, i, (unsigned long long)p->p_paddr,
                            (unsigned long long)(p->p_paddr + p->p_memsz),
                            (unsigned long long)(m->size >> 20));
        memcpy(dst, b + p->p_offset, p->p_filesz);
        memset(dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
        if (p->p_paddr + p->p_memsz > k->end)
            k->end = p->p_paddr + p->p_memsz;
    }
    if (k->end == 0)
        return cerr_set(err, 0, "%s: no loadable segment", what);
    if (k->pvh_entry == 0)
        return cerr_set(err, 0,
                        "%s: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): build the "
                        "kernel with CONFIG_PVH",
                        what);
    return 0;
}

size_t vm_e820(uint64_t ram, struct vm_e820 *out, size_t max)
{
    /* Low RAM below the EBDA, the legacy BIOS area reserved (the MP table
     * for SMP goes there next), the rest from 1 MiB. */
    const struct vm_e820 map[] = {
        {0, VM_LOW_RAM_END, E820_RAM},
        {0xf0000, 0x10000, E820_RESERVED},
        {VM_HIGH_RAM, ram - VM_HIGH_RAM, E820_RAM},
    };
    size_t n = ram > VM_HIGH_RAM ? ARRAY_SIZE(map) : 0;
    n = n < max ? n : max;
    memcpy(out, map, n * sizeof(*out));
    return n;
}

uint64_t vm_initrd_addr(uint64_t ram, uint64_t initrd_size, uint64_t kernel_end, cerr_t *err)
{
    uint64_t top = ram & ~0xfffull;
    uint64_t end = (kernel_end + 0xfff) & ~0xfffull;
    if (initrd_size > top || ((top - initrd_size) & ~0xfffull) < end) {
        cerr_set(err, 0,
                 "guest memory: %llu MiB hold no %llu KiB initramfs above the kernel's %llu MiB",
                 (unsigned long long)(ram >> 20), (unsigned long long)(initrd_size >> 10),
                 (unsigned long long)(end >> 20));
        return 0;
    }
    return (top - initrd_size) & ~0xfffull;
}

int vm_boot_info(struct guest_mem *m, const char *cmdline, uint64_t initrd_addr,
                 uint64_t initrd_size, cerr_t *err)
{
    size_t clen = strlen(cmdline) + 1;
    if (clen > VM_CMDLINE_MAX)
        return cerr_set(err, 0, "kernel command line: %zu bytes, at most %llu", clen,
                        (unsigned long long)VM_CMDLINE_MAX);
    struct vm_e820 e820[MAX_E820];
    size_t n = vm_e820(m->size, e820, MAX_E820);
    uint64_t map_at = VM_START_INFO + sizeof(struct hvm_start_info);
    uint64_t mod_at = map_at + n * sizeof(struct hvm_memmap_entry);
    struct hvm_start_info *si = guest_ptr(m, VM_START_INFO, sizeof(*si));
    struct hvm_memmap_entry *map = guest_ptr(m, map_at, n * sizeof(*map));
    struct hvm_modlist_entry *mod = guest_ptr(m, mod_at, sizeof(*mod));
    char *cl = guest_ptr(m, VM_CMDLINE_ADDR, clen);
    uint64_t *gdt = guest_ptr(m, VM_GDT_ADDR, 4 * sizeof(uint64_t));
    if (si == NULL || map == NULL || mod == NULL || cl == NULL || gdt == NULL ||
        guest_ptr(m, initrd_addr, initrd_size) == NULL)
        return cerr_set(err, 0, "guest memory: %llu bytes are too few for the boot structures",
                        (unsigned long long)m->size);
    memcpy(cl, cmdline, clen);
    for (size_t i = 0; i < n; i++)
        map[i] = (struct hvm_memmap_entry){e820[i].addr, e820[i].size, e820[i].type, 0};
    *mod = (struct hvm_modlist_entry){initrd_addr, initrd_size, 0, 0};
    *si = (struct hvm_start_info){
        .magic = PVH_START_MAGIC,
        .version = 1, /* with the memory map */
        .nr_modules = initrd_size ? 1 : 0,
        .modlist_paddr = initrd_size ? mod_at : 0,
        .cmdline_paddr = VM_CMDLINE_ADDR,
        .memmap_paddr = map_at,
        .memmap_entries = (uint32_t)n,
    };
    /* Null, flat 32-bit code (0x08), flat data (0x10), a TSS (0x18): what
     * the hidden parts of the segment registers below say. */
    gdt[0] = 0;
    gdt[1] = 0x00cf9b000000ffffull;
    gdt[2] = 0x00cf93000000ffffull;
    gdt[3] = 0x008f8b000000ffffull;
    return 0;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
    *s = (struct kvm_segment){
        .base = 0,
        .limit = 0xffffffff,
        .selector = sel,
        .type = type,
        .present = 1,
        .dpl = 0,
        .db = 1,
        .s = code || type != 11,
        .l = 0,
        .g = 1,
    };
}

void vm_boot_regs(uint32_t entry, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
    memset(regs, 0, sizeof(*regs));
    regs->rip = entry;
    regs->rbx = VM_START_INFO;
    regs->rflags = 0x2; /* IF and VM clear */
    flat_segment(&sregs->cs, 0x08, 11, true);
    flat_segment(&sregs->ds, 0x10, 3, false);
    sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
    flat_segment(&sregs->tr, 0x18, 11, false);
    sregs->tr.s = 0;
    sregs->tr.db = 0;
    sregs->tr.limit = 0xfffff;
    sregs->tr.g = 0;
    sregs->gdt.base = VM_GDT_ADDR;
    sregs->gdt.limit = 4 * 8 - 1;
    sregs->cr0 = 0x11; /* PE, ET; paging off */
    sregs->cr4 = 0;
    sregs->efer = 0;
}

char *vm_kernel_cmdline(const struct vm_config *cfg, const char *devices)
{
    /* reboot=k: the guest's reboot (the agent ends the VM so) goes through
     * the keyboard controller's reset line, which ends this VMM (i8042.c);
     * panic=-1 turns a panic into that reboot. */
    autofree char *agent = vm_agent_words(cfg);
    return xasprintf("console=ttyS0 reboot=k panic=-1 quiet%s %s", devices, agent);
}
