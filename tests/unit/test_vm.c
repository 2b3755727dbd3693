/* The vm level's pieces that need no /dev/kvm: the vmlinux loader and its
 * PVH note, the memory map, the PVH start_info and command line in guest
 * memory (a malloc'd stand-in), the entry registers, CPUID filtering, the
 * 16550A as Linux's 8250 driver probes and drives it, the i8042 reset. */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/util.h"
#include "level/vm/vm.h"
#include "level/vmhost/backend.h"
#include "level/vmhost/vm.h"
#include "unit.h"

#define MIB (1ull << 20)

static struct guest_mem mem_new(uint64_t size)
{
    struct guest_mem m = {calloc(1, size), size};
    if (m.host == NULL)
        abort();
    return m;
}

/* An ELF64 vmlinux in miniature: text at 16 MiB, data + bss after it, a
 * PT_NOTE holding a GNU note and then Xen's PHYS32_ENTRY. */
struct tiny_elf {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[3];
    uint8_t notes[64];
    uint8_t text[16];
    uint8_t data[8];
};

static size_t note(uint8_t *p, const char *name, uint32_t type, const void *desc, uint32_t dlen)
{
    Elf64_Nhdr n = {(uint32_t)strlen(name) + 1, dlen, type};
    size_t off = 0;
    memcpy(p, &n, sizeof(n));
    off += sizeof(n);
    memcpy(p + off, name, n.n_namesz);
    off += (n.n_namesz + 3) & ~3u;
    memcpy(p + off, desc, dlen);
    off += (dlen + 3) & ~3u;
    return off;
}

static void tiny_elf(struct tiny_elf *e, bool with_pvh)
{
    memset(e, 0, sizeof(*e));
    memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
    e->eh.e_ident[EI_CLASS] = ELFCLASS64;
    e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
    e->eh.e_type = ET_EXEC;
    e->eh.e_machine = EM_X86_64;
    e->eh.e_phoff = offsetof(struct tiny_elf, ph);
    e->eh.e_phentsize = sizeof(Elf64_Phdr);
    e->eh.e_phnum = 3;
    uint32_t build_id = 0xabcdef, entry = 0x1000004;
    size_t n = note(e->notes, "GNU", 3, &build_id, 4);
    uint64_t entry64 = entry; /* the kernel's note is pointer-sized */
    n += with_pvh ? note(e->notes + n, "Xen", 18, &entry64, 8) : 0;
    e->ph[0] = (Elf64_Phdr){
        .p_type = PT_NOTE, .p_offset = offsetof(struct tiny_elf, notes), .p_filesz = n};
    memset(e->text, 0x90, sizeof(e->text));
    e->ph[1] = (Elf64_Phdr){.p_type = PT_LOAD,
                            .p_offset = offsetof(struct tiny_elf, text),
                            .p_paddr = 0x1000000,
                            .p_filesz = 16,
                            .p_memsz = 16};
    memset(e->data, 0x5a, sizeof(e->data));
    e->ph[2] = (Elf64_Phdr){.p_type = PT_LOAD,
                            .p_offset = offsetof(struct tiny_elf, data),
                            .p_paddr = 0x1200000,
                            .p_filesz = 8,
                            .p_memsz = 0x1000};
}

static void test_elf_load(void)
{
    struct tiny_elf e;
    tiny_elf(&e, true);
    struct guest_mem m = mem_new(32 * MIB);
    memset(m.host + 0x1200000, 0xee, 0x2000); /* bss must come out zeroed */
    struct vm_kernel k;
    cerr_t err = NULL;
    CHECK(vm_load_elf(&m, &e, sizeof(e), "vmlinux", &k, &err) == 0);
    CHECK(k.pvh_entry == 0x1000004);
    CHECK(k.end == 0x1201000);
    CHECK(m.host[0x1000000] == 0x90 && m.host[0x100000f] == 0x90);
    CHECK(m.host[0x1200000] == 0x5a && m.host[0x1200007] == 0x5a);
    CHECK(m.host[0x1200008] == 0 && m.host[0x1200fff] == 0 && m.host[0x1201000] == 0xee);
    free(m.host);
}

static void test_elf_refused(void)
{
    struct tiny_elf e;
    struct guest_mem m = mem_new(32 * MIB);
    struct vm_kernel k;
    cerr_t err = NULL;
    tiny_elf(&e, false);
    CHECK(vm_load_elf(&m, &e, sizeof(e), "/k/vmlinux", &k, &err) < 0);
    CHECK_STR(cerr_msg(err), "/k/vmlinux: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): build "
                             "the kernel with CONFIG_PVH");
    cerr_free(&err);
    /* A bzImage or anything else. */
    CHECK(vm_load_elf(&m, "MZ\0\0", 4, "/k/bzImage", &k, &err) < 0);
    CHECK(strstr(cerr_msg(err), "/k/bzImage: not an ELF file") == cerr_msg(err));
    cerr_free(&err);
    /* Truncated: the program headers are gone. */
    tiny_elf(&e, true);
    CHECK(vm_load_elf(&m, &e, sizeof(Elf64_Ehdr) + 8, "v", &k, &err) < 0);
    CHECK_STR(cerr_msg(err), "v: program headers beyond the end of the file");
    cerr_free(&err);
    /* A segment past the guest's memory. */
    e.ph[2].p_paddr = 32 * MIB - 8;
    CHECK(vm_load_elf(&m, &e, sizeof(e), "v", &k, &err) < 0);
    CHECK(strstr(cerr_msg(err), "v: segment 2 at 0x1fffff8-0x2000ff8 does not fit in 32 MiB") ==
          cerr_msg(err));
    cerr_free(&err);
    free(m.host);
}

/* The kernel this tree builds, when it is there: its PVH note is found. */
static void test_real_vmlinux(void)
{
    const char *path = getenv("CELLA_KERNEL") ? getenv("CELLA_KERNEL") : "build/vmlinux";
    size_t len;
    autofree char *elf = read_file(path, &len, NULL);
    if (elf == NULL)
        SKIP("no build/vmlinux (make kernel)");
    struct guest_mem m = mem_new(64 * MIB);
    struct vm_kernel k;
    cerr_t err = NULL;
    CHECK(vm_load_elf(&m, elf, len, path, &k, &err) == 0);
    if (err)
        printf("# %s\n", cerr_msg(err));
    CHECK(k.pvh_entry >= 0x1000000 && k.pvh_entry < k.end && k.end < 64 * MIB);
    cerr_free(&err);
    free(m.host);
}

static void test_e820(void)
{
    struct vm_e820 e[8];
    size_t n = vm_e820(128 * MIB, e, 8);
    CHECK(n == 3);
    CHECK(e[0].addr == 0 && e[0].size == VM_LOW_RAM_END && e[0].type == E820_RAM);
    CHECK(e[1].type == E820_RESERVED && e[1].addr >= VM_LOW_RAM_END &&
          e[1].addr + e[1].size <= VM_HIGH_RAM);
    CHECK(e[2].addr == VM_HIGH_RAM && e[2].addr + e[2].size == 128 * MIB && e[2].type == E820_RAM);
    CHECK(vm_e820(128 * MIB, e, 2) == 2);
}

static void test_initrd_addr(void)
{
    cerr_t err = NULL;
    uint64_t at = vm_initrd_addr(128 * MIB, 300000, 0x1c00123, &err);
    CHECK(at != 0 && at % 4096 == 0 && at + 300000 <= 128 * MIB && 128 * MIB - at < 300000 + 4096);
    CHECK(vm_initrd_addr(32 * MIB, 8 * MIB, 0x1c00123, &err) == 0);
    CHECK_STR(cerr_msg(err), "guest memory: 32 MiB hold no 8192 KiB initramfs above the kernel's "
                             "28 MiB");
    cerr_free(&err);
}

struct start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist, cmdline, rsdp, memmap;
    uint32_t memmap_entries, reserved;
};

static void test_boot_info(void)
{
    struct guest_mem m = mem_new(64 * MIB);
    cerr_t err = NULL;
    CHECK(vm_boot_info(&m, "console=ttyS0 x=1", 60 * MIB, 12345, &err) == 0);
    struct start_info si;
    memcpy(&si, m.host + VM_START_INFO, sizeof(si));
    CHECK(si.magic == 0x336ec578 && si.version == 1 && si.nr_modules == 1);
    CHECK_STR((char *)m.host + si.cmdline, "console=ttyS0 x=1");
    CHECK(si.memmap_entries == 3);
    uint64_t e[3];
    memcpy(e, m.host + si.memmap + 2 * 24, sizeof(e)); /* the third entry: addr, size, type */
    CHECK(e[0] == VM_HIGH_RAM && e[1] == 64 * MIB - VM_HIGH_RAM && (uint32_t)e[2] == E820_RAM);
    uint64_t mod[2];
    memcpy(mod, m.host + si.modlist, sizeof(mod));
    CHECK(mod[0] == 60 * MIB && mod[1] == 12345);
    /* The structures do not overlap each other or the GDT. */
    CHECK(si.memmap >= VM_START_INFO + sizeof(si) && si.modlist >= si.memmap + 3 * 24);
    CHECK(si.modlist + 32 <= VM_CMDLINE_ADDR && VM_GDT_ADDR + 32 <= VM_START_INFO);
    /* Without an initramfs: no module. */
    CHECK(vm_boot_info(&m, "", 0, 0, &err) == 0);
    memcpy(&si, m.host + VM_START_INFO, sizeof(si));
    CHECK(si.nr_modules == 0 && si.modlist == 0);
    /* A command line past its room. */
    autofree char *big = malloc(VM_CMDLINE_MAX + 1);
    memset(big, 'a', VM_CMDLINE_MAX);
    big[VM_CMDLINE_MAX] = '\0';
    CHECK(vm_boot_info(&m, big, 0, 0, &err) < 0);
    CHECK_STR(cerr_msg(err), "kernel command line: 65537 bytes, at most 65536");
    cerr_free(&err);
    /* An initramfs beyond memory. */
    CHECK(vm_boot_info(&m, "", 64 * MIB - 10, 20, &err) < 0);
    cerr_free(&err);
    free(m.host);
}

static void test_boot_regs(void)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    memset(&s, 0xff, sizeof(s));
    vm_boot_regs(0x1000500, &r, &s);
    CHECK(r.rip == 0x1000500 && r.rbx == VM_START_INFO && !(r.rflags & (1u << 9)));
    CHECK((s.cr0 & 1) && !(s.cr0 & 0x80000000u) && s.cr4 == 0 && s.efer == 0);
    CHECK(s.cs.db == 1 && s.cs.l == 0 && s.cs.base == 0 && s.cs.limit == 0xffffffff &&
          s.cs.type == 11 && s.cs.selector == 0x08);
    CHECK(s.ss.selector == 0x10 && s.ds.type == 3 && s.ss.db == 1);
    CHECK(s.gdt.base == VM_GDT_ADDR && s.tr.type == 11 && s.tr.s == 0);
}

static void test_cmdline(void)
{
    struct vm_config cfg = {.fstype = "erofs", .readonly = true, .guest_net = ""};
    autofree char *line = vm_kernel_cmdline(&cfg, " virtio_mmio.device=4K@0xd0000000:5");
    CHECK(strstr(line, "console=ttyS0 reboot=k panic=-1 ") == line);
    CHECK(strstr(line, " virtio_mmio.device=4K@0xd0000000:5 cella.root=/dev/vda "
                       "cella.rootfstype=erofs cella.readonly=1") != NULL);
}

static void test_cpuid_filter(void)
{
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 4 * sizeof(struct kvm_cpuid_entry2));
    c->nent = 4;
    c->entries[0] = (struct kvm_cpuid_entry2){.function = 0, .eax = 0xd};
    c->entries[1] = (struct kvm_cpuid_entry2){.function = 1, .ebx = 0xff120800, .edx = 1u << 28};
    c->entries[2] = (struct kvm_cpuid_entry2){.function = 0xa, .eax = 0x07300403, .edx = 0x603};
    c->entries[3] = (struct kvm_cpuid_entry2){.function = 0xb, .edx = 77};
    vm_cpuid_filter(c, 2, 4);
    CHECK(c->entries[0].eax == 0xd);
    CHECK(c->entries[1].ebx == 0x02040800); /* APIC id 2 of 4, the rest kept */
    CHECK(c->entries[1].ecx & (1u << 31));  /* a hypervisor is there */
    CHECK(c->entries[1].edx & (1u << 28));
    CHECK(c->entries[2].eax == 0 && c->entries[2].edx == 0); /* no PMU */
    CHECK(c->entries[3].edx == 2);
    vm_cpuid_filter(c, 0, 1);
    CHECK(c->entries[1].ebx == 0x00010800 && !(c->entries[1].edx & (1u << 28)));
    free(c);
}

static int irq_level = -1, irq_changes;
static void record_irq(void *ctx, bool level)
{
    (void)ctx;
    irq_level = level;
    irq_changes++;
}

/* What Linux's 8250 driver does to find and use the port. */
static void test_serial_probe(void)
{
    struct serial s;
    serial_init(&s, -1, record_irq, NULL);
    /* The scratch register and IER hold what is written. */
    serial_out(&s, 7, 0xa5);
    CHECK(serial_in(&s, 7) == 0xa5);
    serial_out(&s, 1, 0);
    CHECK(serial_in(&s, 1) == 0);
    serial_out(&s, 1, 0x0f);
    CHECK((serial_in(&s, 1) & 0x0f) == 0x0f);
    CHECK(irq_level == 1); /* THRE: the transmitter is empty */
    serial_out(&s, 1, 0);
    CHECK(irq_level == 0);
    /* Loop-back: MSR mirrors MCR (OUT2|RTS -> DCD|CTS = 0x90). */
    serial_out(&s, 4, 0x10 | 0x0a);
    CHECK((serial_in(&s, 6) & 0xf0) == 0x90);
    serial_out(&s, 4, 0);
    /* FIFOs enabled: IIR's top bits say 16550A. */
    serial_out(&s, 2, 0x01);
    CHECK((serial_in(&s, 2) & 0xc0) == 0xc0);
    /* The divisor latch behind DLAB. */
    serial_out(&s, 3, 0x80);
    serial_out(&s, 0, 0x01);
    serial_out(&s, 1, 0x00);
    CHECK(serial_in(&s, 0) == 0x01 && serial_in(&s, 1) == 0);
    serial_out(&s, 3, 0x03);
    CHECK(serial_in(&s, 5) & 0x60); /* transmitter empty */
    CHECK(irq_changes == 2);
}

static void test_serial_output(void)
{
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    struct serial s;
    irq_level = -1;
    irq_changes = 0;
    serial_init(&s, p[1], record_irq, NULL);
    /* Enabling the THRE interrupt raises the line; reading IIR drops it. */
    serial_out(&s, 1, 0x02);
    CHECK(irq_level == 1);
    CHECK((serial_in(&s, 2) & 0x0f) == 0x02);
    CHECK(irq_level == 0);
    CHECK((serial_in(&s, 2) & 0x0f) == 0x01); /* nothing pending now */
    /* Each byte written raises it again: the driver's cue for the next. */
    const char *msg = "Linux version 6.1\nrest";
    for (const char *c = msg; *c; c++) {
        serial_out(&s, 0, (uint8_t)*c);
        CHECK(irq_level == 1);
        serial_in(&s, 2);
    }
    char buf[64] = {0};
    CHECK(read(p[0], buf, sizeof(buf)) == 18); /* whole lines go out */
    CHECK_STR(buf, "Linux version 6.1\n");
    serial_flush(&s);
    memset(buf, 0, sizeof(buf));
    CHECK(read(p[0], buf, sizeof(buf)) == 4 && strcmp(buf, "rest") == 0);
    /* The console log's bound: what is past it is dropped. */
    CHECK(s.room == VM_CONSOLE_MAX - 22);
    s.room = 5;
    for (const char *c = "0123456789\nabc\n"; *c; c++)
        serial_out(&s, 0, (uint8_t)*c);
    memset(buf, 0, sizeof(buf));
    CHECK(read(p[0], buf, sizeof(buf)) == 5 && strcmp(buf, "01234") == 0);
    CHECK(s.room == 0);
    /* Masked, no interrupt; loop-back, no output. */
    serial_out(&s, 1, 0);
    CHECK(irq_level == 0);
    serial_out(&s, 4, 0x10);
    serial_out(&s, 0, 'x');
    serial_flush(&s);
    CHECK(read(p[0], buf, sizeof(buf)) < 0);
    close(p[0]);
    close(p[1]);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* What Linux's mpparse checks and reads. */
static void test_mptable(void)
{
    struct guest_mem m = mem_new(32 * MIB);
    cerr_t err = NULL;
    CHECK(vm_mptable(&m, 3, &err) == 0);
    const uint8_t *fp = m.host + VM_MPTABLE_ADDR;
    CHECK(memcmp(fp, "_MP_", 4) == 0 && fp[8] == 1 && fp[9] == 4 && sum(fp, 16) == 0);
    uint32_t at;
    memcpy(&at, fp + 4, 4);
    const uint8_t *cfg = m.host + at;
    uint16_t len, count;
    memcpy(&len, cfg + 4, 2);
    memcpy(&count, cfg + 34, 2);
    CHECK(memcmp(cfg, "PCMP", 4) == 0 && sum(cfg, len) == 0);
    CHECK(16u + len == vm_mptable_size(3) && VM_MPTABLE_ADDR + 16 + len <= 0x100000);
    /* The entries: three processors (the first the BSP), the bus, the
     * IOAPIC after the APIC ids, 16 ISA interrupts, two local ones. */
    const uint8_t *e = cfg + 44;
    unsigned cpus = 0, bsp = 0, ioapic = 0, ints = 0, lints = 0;
    for (unsigned i = 0; i < count; i++) {
        switch (e[0]) {
        case 0:
            CHECK(e[1] == cpus && (e[3] & 1));
            bsp += (e[3] & 2) != 0;
            cpus++;
            e += 20;
            continue;
        case 2:
            ioapic++;
            CHECK(e[1] == 3 && (e[3] & 1));
            break;
        case 3:
            CHECK(e[5] == e[7] && e[6] == 3); /* ISA irq n on pin n */
            ints++;
            break;
        case 4:
            lints++;
            break;
        }
        e += 8;
    }
    CHECK(cpus == 3 && bsp == 1 && ioapic == 1 && ints == 16 && lints == 2);
    CHECK(e == cfg + len);
    /* The area is reserved in the memory map. */
    struct vm_e820 map[8];
    size_t n = vm_e820(32 * MIB, map, 8);
    bool reserved = false;
    for (size_t i = 0; i < n; i++)
        reserved |= map[i].type == E820_RESERVED && map[i].addr <= VM_MPTABLE_ADDR &&
                    map[i].addr + map[i].size >= VM_MPTABLE_ADDR + vm_mptable_size(3);
    CHECK(reserved);
    free(m.host);
}

static void test_i8042(void)
{
    CHECK(i8042_in(0x64) == 0); /* input buffer empty: reboot=k goes on */
    CHECK(!i8042_out(0x64, 0xad));
    CHECK(!i8042_out(0x60, 0xfe));
    CHECK(i8042_out(0x64, 0xfe));
}

/* In a child: the kind's filter, then `what`; how the child ended: its
 * exit code, or 128 + the signal that killed it. */
static int filtered(enum vm_thread kind, int what)
{
    pid_t pid = fork();
    if (pid == 0) {
        cerr_t err = NULL;
        int fd = open("/dev/null", O_RDWR);
        if (vm_confine_thread(kind, &err) < 0)
            _exit(99);
        long r = 0;
        switch (what) {
        case 0: /* KVM_RUN on a file that is no vCPU: allowed, fails */
            r = syscall(SYS_ioctl, fd, KVM_RUN, 0);
            break;
        case 1: /* a terminal ioctl: not in any list */
            r = syscall(SYS_ioctl, fd, TCGETS, &(struct termios){0});
            break;
        case 2: /* a new file: no thread opens one */
            r = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
            break;
        case 3: /* the I/O thread's wait */
            r = syscall(SYS_ppoll, NULL, 0, &(struct timespec){0}, NULL, 0);
            break;
        }
        syscall(SYS_exit_group, r < 0 ? 1 : 0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

static void test_confine_filters(void)
{
    CHECK(filtered(VM_THREAD_VCPU, 0) == 1); /* ENOTTY, not killed */
    CHECK(filtered(VM_THREAD_VCPU, 1) == 128 + SIGSYS);
    CHECK(filtered(VM_THREAD_VCPU, 2) == 128 + SIGSYS);
    CHECK(filtered(VM_THREAD_MAIN, 0) == 128 + SIGSYS); /* KVM_RUN is the vCPUs' */
    CHECK(filtered(VM_THREAD_IO, 3) == 0);
    CHECK(filtered(VM_THREAD_VCPU, 3) == 128 + SIGSYS);
    autofree char *l = vm_confine_list(VM_THREAD_VCPU);
    CHECK(strstr(l, "ioctl(KVM_RUN)") != NULL && strstr(l, "futex") != NULL);
    autofree char *m = vm_confine_list(VM_THREAD_MAIN);
    CHECK(strstr(m, "KVM_RUN") == NULL);
}

int main(void)
{
    RUN(test_elf_load);
    RUN(test_elf_refused);
    RUN(test_real_vmlinux);
    RUN(test_e820);
    RUN(test_initrd_addr);
    RUN(test_boot_info);
    RUN(test_boot_regs);
    RUN(test_cmdline);
    RUN(test_cpuid_filter);
    RUN(test_serial_probe);
    RUN(test_serial_output);
    RUN(test_mptable);
    RUN(test_i8042);
    RUN(test_confine_filters);
    return UNIT_DONE();
}
