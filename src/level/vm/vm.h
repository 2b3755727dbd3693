/* The vm level: cella's own virtual machine monitor on /dev/kvm, one file
 * per piece as kvmtool has them: kvm.c (the VM, its memory and vCPUs),
 * boot.c (the vmlinux's PVH entry), serial.c (the console), i8042.c (the
 * guest's reboot), backend.c (vmhost's backend: spawn runs this VMM in the
 * VM's process), level.c (the level's operations). docs/vm-level.md. */
#ifndef CELLA_VM_VM_H
#define CELLA_VM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct kvm_cpuid2;
struct kvm_regs;
struct kvm_sregs;
struct vm_config;

/* Guest physical memory as the VMM sees it: one mapping from address 0
 * (one memslot). Unit tests use a malloc'd buffer in its place. */
struct guest_mem {
    uint8_t *host;
    uint64_t size;
};

/* The host address of [gpa, gpa + len), NULL when any of it is outside. */
static inline void *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    if (gpa > m->size || len > m->size - gpa)
        return NULL;
    return m->host + gpa;
}

/* The guest's physical layout: low structures below 1 MiB, the kernel where
 * its ELF says (16 MiB), the initramfs at the top of RAM, devices in the
 * 32-bit hole. RAM stays below the hole (VM_RAM_MAX). */
#define VM_GDT_ADDR     0x500ull
#define VM_START_INFO   0x6000ull /* struct hvm_start_info, then the memory map */
#define VM_CMDLINE_ADDR 0x20000ull
#define VM_CMDLINE_MAX  0x10000ull
#define VM_LOW_RAM_END  0x9fc00ull /* below the EBDA, as a PC has it */
#define VM_MPTABLE_ADDR 0xf0000ull /* in the reserved BIOS area */
#define VM_HIGH_RAM     0x100000ull
#define VM_MMIO_BASE    0xd0000000ull /* virtio-mmio devices, 4 KiB each */
#define VM_RAM_MAX      VM_MMIO_BASE
#define VM_MIN_RAM      (32ull << 20)

/* What the kernel's ELF gives: where to enter, where its image ends. */
struct vm_kernel {
    uint32_t pvh_entry; /* XEN_ELFNOTE_PHYS32_ENTRY */
    uint64_t end;       /* the end of its highest segment (bss included) */
};

/* e820 types, as the PVH memory map carries them. */
#define E820_RAM      1
#define E820_RESERVED 2

struct vm_e820 {
    uint64_t addr, size;
    uint32_t type;
};

/* boot.c */
/* Loads an ELF64 x86-64 vmlinux's segments at their physical addresses
 * and finds its PVH entry; errors name `what` (the file). */
int vm_load_elf(struct guest_mem *m, const void *elf, size_t len, const char *what,
                struct vm_kernel *k, cerr_t *err);
/* The guest's memory map for a RAM size: returns the number of entries. */
size_t vm_e820(uint64_t ram, struct vm_e820 *out, size_t max);
/* Where the initramfs goes: the top of RAM, page aligned, above the
 * kernel; 0 when it does not fit (then *err says so). */
uint64_t vm_initrd_addr(uint64_t ram, uint64_t initrd_size, uint64_t kernel_end, cerr_t *err);
/* The PVH start_info, its memory map and module list, the command line and
 * the GDT of the entry state, written into guest memory. */
int vm_boot_info(struct guest_mem *m, const char *cmdline, uint64_t initrd_addr,
                 uint64_t initrd_size, cerr_t *err);
/* The registers of the PVH entry: 32-bit protected mode, flat segments,
 * paging off, %ebx = start_info. */
void vm_boot_regs(uint32_t entry, struct kvm_regs *regs, struct kvm_sregs *sregs);
/* The kernel command line cella's guest needs (the agent's words). */
char *vm_kernel_cmdline(const struct vm_config *cfg, const char *devices);

/* mptable.c: the MP table of n vCPUs at VM_MPTABLE_ADDR (SMP without ACPI). */
size_t vm_mptable_size(unsigned ncpus);
int vm_mptable(struct guest_mem *m, unsigned ncpus, cerr_t *err);

/* kvm.c: CPUID as KVM supports it, adjusted for vCPU `index` of `n`. */
void vm_cpuid_filter(struct kvm_cpuid2 *c, unsigned index, unsigned n);

/* serial.c: a 16550A UART whose output goes to a file descriptor. */
struct serial {
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    bool thri_pending; /* the "transmitter empty" interrupt, until IIR is read */
    bool irq;          /* the level of its interrupt line */
    int out_fd;
    size_t room; /* what the console log takes yet (VM_CONSOLE_MAX) */
    char buf[256];
    size_t len;
    void (*set_irq)(void *ctx, bool level);
    void *ctx;
};
#define SERIAL_BASE 0x3f8
#define SERIAL_IRQ  4
void serial_init(struct serial *s, int out_fd, void (*set_irq)(void *, bool), void *ctx);
void serial_out(struct serial *s, unsigned off, uint8_t v);
uint8_t serial_in(struct serial *s, unsigned off);
void serial_flush(struct serial *s);

/* i8042.c: the keyboard controller's ports; true when the guest pulsed the
 * reset line (the guest's reboot: the VM ends). */
bool i8042_out(uint16_t port, uint8_t v);
uint8_t i8042_in(uint16_t port);

/* confine.c: the VMM's confinement (docs/vm-level.md). The process, before
 * the VM is made: own mount, IPC, UTS and network namespaces, no
 * capabilities, no new privileges. Then each thread, once made, its kind's
 * seccomp filter. */
enum vm_thread { VM_THREAD_VCPU, VM_THREAD_IO, VM_THREAD_MAIN };
int vm_confine_process(cerr_t *err);
int vm_confine_thread(enum vm_thread kind, cerr_t *err);
/* What a kind's filter allows, as one line (malloc'd). */
char *vm_confine_list(enum vm_thread kind);

/* The backend's part of the VM's configuration (cfg->vmm). */
struct vm_opts {
    /* The data path through ioeventfd and irqfd where KVM has them (the
     * default); false: the MMIO exit and KVM_IRQ_LINE, the fallback, as
     * the annotation run.cella.vm.eventfds=off asks (to compare them, or
     * to test the fallback on a KVM that has both). */
    bool eventfds;
};

/* kvm.c: one line to the console log (stderr), in one write: no stdio,
 * whose stream set-up (fstat) the seccomp filters do not allow. */
void vm_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* kvm.c: runs the VM of cfg in this process; returns the process's exit
 * code when the guest ends (0: it rebooted), or -1 with *err. */
int vm_run(const struct vm_config *cfg, int agent_fd, cerr_t *err);

#endif
