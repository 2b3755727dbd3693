/* An Intel MultiProcessor table (MP spec 1.4) for a guest of more than one
 * vCPU: the guest kernel has no ACPI, and without either it sees one CPU.
 * The table names each vCPU's local APIC, KVM's IOAPIC and the ISA
 * interrupts wired to its pins one to one (KVM's default routing), and is
 * put in the reserved BIOS area (0xf0000) where Linux scans for it. */
#include <string.h>

#include "level/vm/vm.h"

#define APIC_VERSION   0x14
#define IOAPIC_VERSION 0x11
#define LAPIC_ADDR     0xfee00000u
#define IOAPIC_ADDR    0xfec00000u
#define ISA_IRQS       16

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { INT_VECTORED = 0, INT_NMI = 1, INT_EXTINT = 3 };

static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)-sum;
}

static uint8_t *put(uint8_t *p, const void *v, size_t n)
{
    memcpy(p, v, n);
    return p + n;
}

size_t vm_mptable_size(unsigned ncpus)
{
    return 16 + 44 + 20 * ncpus + 8 + 8 + 8 * ISA_IRQS + 8 * 2;
}

int vm_mptable(struct guest_mem *m, unsigned ncpus, cerr_t *err)
{
    size_t size = vm_mptable_size(ncpus);
    uint8_t *base = guest_ptr(m, VM_MPTABLE_ADDR, size);
    if (base == NULL || ncpus == 0 || ncpus >= 255)
        return cerr_set(err, 0, "MP table: %u vCPUs", ncpus);
    memset(base, 0, size);
    uint8_t *fp = base, *cfg = base + 16, *p = cfg + 44;
    uint8_t ioapic_id = (uint8_t)ncpus;
    for (unsigned i = 0; i < ncpus; i++) {
        uint8_t e[20] = {MP_PROCESSOR, (uint8_t)i, APIC_VERSION,
                         (uint8_t)(1 | (i == 0 ? 2 : 0))}; /* enabled, BSP */
        uint32_t signature = 0x600, features = 0x201;      /* family 6; FPU, APIC */
        memcpy(e + 4, &signature, 4);
        memcpy(e + 8, &features, 4);
        p = put(p, e, sizeof(e));
    }
    p = put(p, (uint8_t[8]){MP_BUS, 0, 'I', 'S', 'A', ' ', ' ', ' '}, 8);
    uint8_t io[8] = {MP_IOAPIC, ioapic_id, IOAPIC_VERSION, 1};
    uint32_t ioaddr = IOAPIC_ADDR;
    memcpy(io + 4, &ioaddr, 4);
    p = put(p, io, 8);
    for (uint8_t irq = 0; irq < ISA_IRQS; irq++)
        p = put(p, (uint8_t[8]){MP_INTSRC, INT_VECTORED, 0, 0, 0, irq, ioapic_id, irq}, 8);
    /* The PIC through LINT0 (ExtINT), NMIs on LINT1, on every local APIC. */
    p = put(p, (uint8_t[8]){MP_LINTSRC, INT_EXTINT, 0, 0, 0, 0, 0xff, 0}, 8);
    p = put(p, (uint8_t[8]){MP_LINTSRC, INT_NMI, 0, 0, 0, 0, 0xff, 1}, 8);

    uint16_t len = (uint16_t)(p - cfg), count = (uint16_t)(ncpus + 2 + ISA_IRQS + 2);
    uint32_t lapic = LAPIC_ADDR;
    memcpy(cfg, "PCMP", 4);
    memcpy(cfg + 4, &len, 2);
    cfg[6] = 4; /* spec 1.4 */
    memcpy(cfg + 8, "CELLA   ", 8);
    memcpy(cfg + 16, "VM          ", 12);
    memcpy(cfg + 34, &count, 2);
    memcpy(cfg + 36, &lapic, 4);
    cfg[7] = checksum(cfg, len);

    uint32_t cfg_addr = (uint32_t)(VM_MPTABLE_ADDR + 16);
    memcpy(fp, "_MP_", 4);
    memcpy(fp + 4, &cfg_addr, 4);
    fp[8] = 1; /* length in 16-byte units */
    fp[9] = 4;
    fp[10] = checksum(fp, 16);
    return 0;
}
