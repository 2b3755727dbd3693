/* The virtual machine on /dev/kvm: guest memory from a memfd (one memslot,
 * so that snapshots and page sharing can come later), the in-kernel
 * interrupt controllers and PIT, one thread per vCPU running KVM_RUN and
 * handing its port and MMIO exits to the devices. The process is the VM: it
 * ends when the guest reboots (reboot=k) or a vCPU fails. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "level/vm/virtio/virtio.h"
#include "level/vm/vm.h"
#include "level/vmhost/vm.h"
#include "proto/protocol.h"

#define CPUID_HYPERVISOR (1u << 31) /* leaf 1, ECX */
#define CPUID_HTT        (1u << 28) /* leaf 1, EDX */
/* Where KVM keeps the TSS and identity map of real-mode emulation (Intel):
 * just below 4 GiB, outside RAM and the device window. */
#define KVM_TSS_ADDR 0xfffbd000ull
#define KVM_IDMAP    0xfffbc000ull

void vm_cpuid_filter(struct kvm_cpuid2 *c, unsigned index, unsigned n)
{
    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        switch (e->function) {
        case 1:
            /* The initial APIC id and the logical processor count; say
             * there is a hypervisor (the guest then looks for KVM's
             * leaves: kvmclock spares it calibrating its clocks). */
            e->ebx = (e->ebx & 0x0000ffffu) | (index << 24) | ((n & 0xff) << 16);
            e->ecx |= CPUID_HYPERVISOR;
            if (n > 1)
                e->edx |= CPUID_HTT;
            else
                e->edx &= ~CPUID_HTT;
            break;
        case 0xa:
            /* No performance counters: each counter MSR access would be
             * an exit, and nothing in a container's guest reads them. */
            e->eax = e->ebx = e->ecx = e->edx = 0;
            break;
        case 0xb:
        case 0x1f:
            e->edx = index; /* the x2APIC id */
            break;
        }
    }
}

struct vcpu {
    struct vmm *vmm;
    int fd;
    unsigned index;
    struct kvm_run *run;
    pthread_t thread;
};

struct vmm {
    int kvm, vm, mem_fd;
    struct guest_mem mem;
    struct vcpu *vcpus;
    unsigned nvcpus;
    size_t run_size;
    pthread_mutex_t lock; /* the devices, the end */
    pthread_cond_t ended;
    pthread_cond_t never; /* what a thread that is done waits on */
    bool done;
    int code;
    char *why; /* a failure's one line */
    struct serial serial;
    /* virtio-mmio: the agent's console, the root disk, the tap's card. */
    struct virtio_dev dev[3];
    unsigned ndev;
    /* The data path in the kernel where KVM allows: a queue's notify
     * signals an eventfd (KVM_IOEVENTFD) that the I/O thread polls instead
     * of exiting to a vCPU thread, and a device's interrupt is a write to
     * an eventfd (KVM_IRQFD) instead of two KVM_IRQ_LINE ioctls. -1: the
     * MMIO exit and KVM_IRQ_LINE (the fallback). */
    int notify_fd[3][VIRTIO_MAX_QUEUES];
    int irq_fd[3];
    pthread_t io;
};

enum { DEV_CONSOLE, DEV_BLK, DEV_NET };
/* The devices' lines on the PIC/IOAPIC (edge), after the serial port's 4. */
#define VIRTIO_IRQ0 5

void vm_say(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n] = '\n';
    (void)!write(2, line, (size_t)n + 1);
}

/* The first end wins: the code of the process, and a failure's line. */
static void vm_end(struct vmm *v, int code, char *why)
{
    pthread_mutex_lock(&v->lock);
    if (!v->done) {
        v->done = true;
        v->code = code;
        v->why = why;
        why = NULL;
        serial_flush(&v->serial);
        pthread_cond_signal(&v->ended);
    }
    pthread_mutex_unlock(&v->lock);
    free(why);
}

static void serial_irq(void *ctx, bool level)
{
    struct vmm *v = ctx;
    struct kvm_irq_level irq = {.irq = SERIAL_IRQ, .level = level};
    ioctl(v->vm, KVM_IRQ_LINE, &irq);
}

/* One port access of a vCPU; false when the guest asked for the end. */
static bool port_io(struct vmm *v, struct kvm_run *run)
{
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    uint16_t port = run->io.port;
    bool out = run->io.direction == KVM_EXIT_IO_OUT, reset = false;
    pthread_mutex_lock(&v->lock);
    for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
        if (port >= SERIAL_BASE && port < SERIAL_BASE + 8) {
            if (out)
                serial_out(&v->serial, port - SERIAL_BASE, data[0]);
            else
                data[0] = serial_in(&v->serial, port - SERIAL_BASE);
        } else if (port == 0x60 || port == 0x64) {
            if (out)
                reset |= i8042_out(port, data[0]);
            else
                data[0] = i8042_in(port);
        } else if (!out) {
            memset(data, 0xff, run->io.size); /* nothing there */
        }
    }
    pthread_mutex_unlock(&v->lock);
    return !reset;
}

/* One MMIO access: a virtio device's registers; elsewhere reads see
 * zeros and writes go nowhere. */
static void mmio(struct vmm *v, struct kvm_run *run)
{
    uint64_t a = run->mmio.phys_addr;
    uint32_t len = run->mmio.len <= 8 ? run->mmio.len : 8;
    pthread_mutex_lock(&v->lock);
    struct virtio_dev *d = NULL;
    for (unsigned i = 0; i < v->ndev; i++)
        if (a >= v->dev[i].base && a - v->dev[i].base < VIRTIO_MMIO_SIZE)
            d = &v->dev[i];
    if (d != NULL && run->mmio.is_write)
        virtio_mmio_write(d, a - d->base, run->mmio.data, len);
    else if (d != NULL)
        virtio_mmio_read(d, a - d->base, run->mmio.data, len);
    else if (!run->mmio.is_write)
        memset(run->mmio.data, 0, sizeof(run->mmio.data));
    pthread_mutex_unlock(&v->lock);
}

/* A device's interrupt: an edge on its line (the guest's PIC is
 * edge-triggered for ISA lines): its irqfd (KVM raises and lowers the line)
 * or the line raised and lowered here. */
static void pulse_irq(void *ctx, unsigned irq)
{
    struct vmm *v = ctx;
    unsigned i = irq - VIRTIO_IRQ0;
    if (i < ARRAY_SIZE(v->irq_fd) && v->irq_fd[i] >= 0 &&
        write(v->irq_fd[i], &(uint64_t){1}, 8) == 8)
        return;
    ioctl(v->vm, KVM_IRQ_LINE, &(struct kvm_irq_level){.irq = irq, .level = 1});
    ioctl(v->vm, KVM_IRQ_LINE, &(struct kvm_irq_level){.irq = irq, .level = 0});
}

/* The eventfds of the data path (notify_fd, irq_fd). A KVM that refuses
 * them leaves the MMIO exit and KVM_IRQ_LINE, which always work; --debug
 * says which ran. */
static void eventfds_make(struct vmm *v, bool want)
{
    bool ioeventfd = want, irqfd = want;
    for (unsigned i = 0; i < ARRAY_SIZE(v->irq_fd); i++) {
        v->irq_fd[i] = -1;
        for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
            v->notify_fd[i][q] = -1;
    }
    for (unsigned i = 0; i < v->ndev && want; i++) {
        struct virtio_dev *d = &v->dev[i];
        int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        struct kvm_irqfd irqfd_req = {.fd = (uint32_t)fd, .gsi = d->irq};
        if (fd >= 0 && ioctl(v->vm, KVM_IRQFD, &irqfd_req) == 0) {
            v->irq_fd[i] = fd;
        } else {
            irqfd = false;
            if (fd >= 0)
                close(fd);
        }
        for (unsigned q = 0; q < d->ops->nqueues && ioeventfd; q++) {
            fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            struct kvm_ioeventfd io = {.datamatch = q,
                                       .addr = d->base + VIRTIO_MMIO_QUEUE_NOTIFY,
                                       .len = 4,
                                       .fd = fd,
                                       .flags = KVM_IOEVENTFD_FLAG_DATAMATCH};
            if (fd >= 0 && ioctl(v->vm, KVM_IOEVENTFD, &io) == 0) {
                v->notify_fd[i][q] = fd;
                continue;
            }
            ioeventfd = false;
            if (fd >= 0)
                close(fd);
        }
    }
    if (!ioeventfd) /* all or none: the notifies that were taken stay in KVM, unused */
        for (unsigned i = 0; i < v->ndev; i++)
            for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
                v->notify_fd[i][q] = -1;
    log_debug("vm level: queue notifies by %s, device interrupts by %s%s",
              ioeventfd ? "ioeventfd (the I/O thread)" : "MMIO exits (the vCPU threads)",
              irqfd ? "irqfd" : "KVM_IRQ_LINE", want ? "" : " (run.cella.vm.eventfds=off)");
}

/* A thread's end: it waits until the process exits. Its return would make
 * system calls its seccomp filter does not allow (the C library's and the
 * sanitizers' thread clean-up), and nothing is left for it to do. */
static void *thread_done(struct vmm *v)
{
    pthread_mutex_lock(&v->lock);
    for (;;)
        pthread_cond_wait(&v->never, &v->lock);
    return NULL;
}

/* The I/O thread: the agent's bytes and the tap's frames into the guest,
 * as they come and as the guest gives buffers; the queues' notifies that
 * KVM signals (ioeventfd). */
static void io_run(struct vmm *v);
static void *io_loop(void *arg)
{
    io_run(arg);
    return thread_done(arg);
}

static void io_run(struct vmm *v)
{
    cerr_t err = NULL;
    if (vm_confine_thread(VM_THREAD_IO, &err) < 0) {
        vm_end(v, 1, xstrdup(cerr_msg(err)));
        cerr_free(&err);
        return;
    }
    struct virtio_dev *con = &v->dev[DEV_CONSOLE],
                      *net = v->ndev > DEV_NET ? &v->dev[DEV_NET] : NULL;
    struct pollfd p[4 + ARRAY_SIZE(v->dev) * VIRTIO_MAX_QUEUES];
    unsigned nnotify = 0, notify_dev[ARRAY_SIZE(v->dev) * VIRTIO_MAX_QUEUES],
             notify_q[ARRAY_SIZE(p)];
    for (unsigned i = 0; i < v->ndev; i++)
        for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
            if (v->notify_fd[i][q] >= 0) {
                p[4 + nnotify] = (struct pollfd){.fd = v->notify_fd[i][q], .events = POLLIN};
                notify_dev[nnotify] = i;
                notify_q[nnotify++] = q;
            }
    for (;;) {
        int fd[2] = {-1, -1}, wake[2] = {-1, -1};
        bool want[2] = {false, false};
        pthread_mutex_lock(&v->lock);
        virtio_console_poll_fds(con, &fd[0], &wake[0], &want[0]);
        if (net != NULL)
            virtio_net_poll_fds(net, &fd[1], &wake[1], &want[1]);
        pthread_mutex_unlock(&v->lock);
        p[0] = (struct pollfd){.fd = want[0] ? fd[0] : -1, .events = POLLIN};
        p[1] = (struct pollfd){.fd = wake[0], .events = POLLIN};
        p[2] = (struct pollfd){.fd = want[1] ? fd[1] : -1, .events = POLLIN};
        p[3] = (struct pollfd){.fd = wake[1], .events = POLLIN};
        if (poll(p, 4 + nnotify, -1) < 0 && errno != EINTR)
            return;
        for (unsigned i = 1; i < 4; i += 2)
            if (p[i].revents & POLLIN)
                (void)!read(p[i].fd, &(uint64_t){0}, 8);
        pthread_mutex_lock(&v->lock);
        for (unsigned k = 0; k < nnotify; k++)
            if ((p[4 + k].revents & POLLIN) && read(p[4 + k].fd, &(uint64_t){0}, 8) == 8)
                virtio_notify(&v->dev[notify_dev[k]], notify_q[k]);
        virtio_console_io(con);
        if (net != NULL)
            virtio_net_io(net);
        pthread_mutex_unlock(&v->lock);
    }
}

static void vcpu_run(struct vcpu *c);
static void *vcpu_loop(void *arg)
{
    struct vcpu *c = arg;
    vcpu_run(c);
    return thread_done(c->vmm);
}

static void vcpu_run(struct vcpu *c)
{
    struct vmm *v = c->vmm;
    cerr_t err = NULL;
    if (vm_confine_thread(VM_THREAD_VCPU, &err) < 0) {
        vm_end(v, 1, xasprintf("vCPU %u: %s", c->index, cerr_msg(err)));
        cerr_free(&err);
        return;
    }
    for (;;) {
        if (ioctl(c->fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            vm_end(v, 1, xasprintf("vCPU %u: KVM_RUN: %s", c->index, strerror(errno)));
            return;
        }
        struct kvm_run *run = c->run;
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            if (!port_io(v, run)) {
                vm_end(v, 0, NULL);
                return;
            }
            break;
        case KVM_EXIT_MMIO:
            mmio(v, run);
            break;
        case KVM_EXIT_HLT:
        case KVM_EXIT_INTR:
            break;
        case KVM_EXIT_SHUTDOWN:
            /* A triple fault: a PC resets; the guest's end here as well. */
            vm_say("cella-vm: vCPU %u: the guest reset itself (triple fault)", c->index);
            vm_end(v, 0, NULL);
            return;
        case KVM_EXIT_SYSTEM_EVENT:
            vm_end(v, 0, NULL);
            return;
        case KVM_EXIT_FAIL_ENTRY:
            vm_end(v, 1,
                   xasprintf("vCPU %u: KVM_RUN: entry failed, hardware reason 0x%llx", c->index,
                             (unsigned long long)run->fail_entry.hardware_entry_failure_reason));
            return;
        case KVM_EXIT_INTERNAL_ERROR:
            vm_end(v, 1,
                   xasprintf("vCPU %u: KVM_RUN: KVM internal error, suberror %u", c->index,
                             run->internal.suberror));
            return;
        default:
            vm_end(v, 1,
                   xasprintf("vCPU %u: KVM_RUN: unexpected exit reason %u", c->index,
                             run->exit_reason));
            return;
        }
    }
}

static int kvm_ioctl(int fd, unsigned long req, void *arg, const char *name, cerr_t *err)
{
    int r = ioctl(fd, req, arg);
    if (r < 0)
        cerr_set(err, errno, "%s", name);
    return r;
}

/* KVM's CPUID, grown until it fits. */
static struct kvm_cpuid2 *supported_cpuid(int kvm, cerr_t *err)
{
    for (unsigned n = 64;; n *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
        if (c == NULL)
            abort();
        c->nent = n;
        if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) == 0)
            return c;
        free(c);
        if (errno != E2BIG || n >= 4096)
            return cerr_set(err, errno, "KVM_GET_SUPPORTED_CPUID"), NULL;
    }
}

static int vcpu_make(struct vmm *v, struct vcpu *c, const struct kvm_cpuid2 *cpuid, uint32_t entry,
                     cerr_t *err)
{
    c->vmm = v;
    c->fd = ioctl(v->vm, KVM_CREATE_VCPU, c->index);
    if (c->fd < 0)
        return cerr_set(err, errno, "KVM_CREATE_VCPU %u", c->index);
    c->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
    if (c->run == MAP_FAILED)
        return cerr_set(err, errno, "vCPU %u: mmap kvm_run", c->index);
    size_t size = sizeof(*cpuid) + cpuid->nent * sizeof(cpuid->entries[0]);
    autofree struct kvm_cpuid2 *mine = malloc(size);
    if (mine == NULL)
        abort();
    memcpy(mine, cpuid, size);
    vm_cpuid_filter(mine, c->index, v->nvcpus);
    if (kvm_ioctl(c->fd, KVM_SET_CPUID2, mine, "KVM_SET_CPUID2", err) < 0)
        return -1;
    if (c->index != 0)
        return 0; /* the others wait for the boot vCPU's startup IPI */
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    if (kvm_ioctl(c->fd, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS", err) < 0)
        return -1;
    vm_boot_regs(entry, &regs, &sregs);
    if (kvm_ioctl(c->fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS", err) < 0 ||
        kvm_ioctl(c->fd, KVM_SET_REGS, &regs, "KVM_SET_REGS", err) < 0)
        return -1;
    return 0;
}

/* The guest's memory: a memfd mapped shared, given to KVM as slot 0. */
static int memory_make(struct vmm *v, uint64_t size, cerr_t *err)
{
    v->mem_fd = memfd_create("cella-vm-ram", MFD_CLOEXEC);
    if (v->mem_fd < 0)
        return cerr_set(err, errno, "memfd_create");
    if (ftruncate(v->mem_fd, (off_t)size) < 0)
        return cerr_set(err, errno, "guest memory: ftruncate %llu MiB",
                        (unsigned long long)(size >> 20));
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, v->mem_fd, 0);
    if (p == MAP_FAILED)
        return cerr_set(err, errno, "guest memory: mmap %llu MiB",
                        (unsigned long long)(size >> 20));
    v->mem = (struct guest_mem){p, size};
    struct kvm_userspace_memory_region r = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = size,
        .userspace_addr = (uintptr_t)p,
    };
    return kvm_ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &r, "KVM_SET_USER_MEMORY_REGION", err);
}

/* The kernel and initramfs into guest memory, and the PVH boot data. */
static int load_guest(struct vmm *v, const struct vm_config *cfg, struct vm_kernel *k, cerr_t *err)
{
    size_t klen = 0, ilen = 0;
    autofree char *kernel = read_file(cfg->kernel, &klen, err);
    if (kernel == NULL || vm_load_elf(&v->mem, kernel, klen, cfg->kernel, k, err) < 0)
        return -1;
    autofree char *initrd = read_file(cfg->initrd, &ilen, err);
    if (initrd == NULL)
        return -1;
    uint64_t at = vm_initrd_addr(v->mem.size, ilen, k->end, err);
    if (at == 0)
        return -1;
    memcpy(guest_ptr(&v->mem, at, ilen), initrd, ilen);
    autofree char *devices = xstrdup("");
    for (unsigned i = 0; i < v->ndev; i++) {
        autofree char *e = virtio_cmdline_entry(&v->dev[i]);
        char *more = xasprintf("%s%s", devices, e);
        free(devices);
        devices = more;
    }
    autofree char *cmdline = vm_kernel_cmdline(cfg, devices);
    if (v->nvcpus > 1 && vm_mptable(&v->mem, v->nvcpus, err) < 0)
        return -1;
    return vm_boot_info(&v->mem, cmdline, at, ilen, err);
}

static int vm_make(struct vmm *v, const struct vm_config *cfg, cerr_t *err)
{
    uint64_t ram = (uint64_t)cfg->mem_mib << 20;
    if (ram > VM_RAM_MAX || ram < VM_MIN_RAM)
        return cerr_set(err, 0, "guest memory: %u MiB, the vm level takes %llu-%llu MiB",
                        cfg->mem_mib, VM_MIN_RAM >> 20, VM_RAM_MAX >> 20);
    v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (v->kvm < 0)
        return cerr_set(err, errno, "/dev/kvm");
    int api = ioctl(v->kvm, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION)
        return cerr_set(err, 0, "/dev/kvm: KVM API version %d, expected %d", api, KVM_API_VERSION);
    static const struct {
        int cap;
        const char *name;
    } caps[] = {{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
                {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
                {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
                {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"}};
    for (size_t i = 0; i < ARRAY_SIZE(caps); i++)
        if (ioctl(v->kvm, KVM_CHECK_EXTENSION, caps[i].cap) <= 0)
            return cerr_set(err, 0, "/dev/kvm: no %s", caps[i].name);
    int rs = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (rs < (int)sizeof(struct kvm_run))
        return cerr_set(err, errno, "KVM_GET_VCPU_MMAP_SIZE");
    v->run_size = (size_t)rs;
    v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
    if (v->vm < 0)
        return cerr_set(err, errno, "KVM_CREATE_VM");
    struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
    uint64_t idmap = KVM_IDMAP;
    if (kvm_ioctl(v->vm, KVM_SET_TSS_ADDR, (void *)(uintptr_t)KVM_TSS_ADDR, "KVM_SET_TSS_ADDR",
                  err) < 0 ||
        kvm_ioctl(v->vm, KVM_SET_IDENTITY_MAP_ADDR, &idmap, "KVM_SET_IDENTITY_MAP_ADDR", err) < 0 ||
        kvm_ioctl(v->vm, KVM_CREATE_IRQCHIP, NULL, "KVM_CREATE_IRQCHIP", err) < 0 ||
        kvm_ioctl(v->vm, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2", err) < 0)
        return -1;
    return memory_make(v, ram, err);
}

/* The virtio devices, in the order the guest numbers them: the network
 * card only on a tap (a spec naming a network namespace). */
static int devices_make(struct vmm *v, const struct vm_config *cfg, int agent_fd, cerr_t *err)
{
    unsigned n = cfg->tap_fd >= 0 ? 3 : 2;
    for (unsigned i = 0; i < n; i++)
        v->dev[i] = (struct virtio_dev){.mem = &v->mem,
                                        .base = VM_MMIO_BASE + i * VIRTIO_MMIO_SIZE,
                                        .irq = VIRTIO_IRQ0 + i,
                                        .interrupt = pulse_irq,
                                        .ctx = v};
    if (virtio_console_init(&v->dev[DEV_CONSOLE], agent_fd, AGENT_PORT_NAME, err) < 0 ||
        virtio_blk_init(&v->dev[DEV_BLK], cfg->image, err) < 0 ||
        (n > DEV_NET && virtio_net_init(&v->dev[DEV_NET], cfg->tap_fd, cfg->mac, err) < 0))
        return -1;
    v->ndev = n;
    return 0;
}

int vm_run(const struct vm_config *cfg, int agent_fd, cerr_t *err)
{
    static struct vmm vm; /* lives as long as the process, which is the VM */
    struct vmm *v = &vm;
    *v = (struct vmm){.kvm = -1, .vm = -1, .mem_fd = -1};
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->ended, NULL);
    pthread_cond_init(&v->never, NULL);
    serial_init(&v->serial, 1, serial_irq, v);
    /* The guest learns of more than one from the MP table (mptable.c). */
    v->nvcpus = cfg->vcpus ? cfg->vcpus : 1;
    struct vm_kernel k;
    if (vm_make(v, cfg, err) < 0 || devices_make(v, cfg, agent_fd, err) < 0 ||
        load_guest(v, cfg, &k, err) < 0)
        return -1;
    const struct vm_opts *o = cfg->vmm;
    eventfds_make(v, o == NULL || o->eventfds);
    autofree struct kvm_cpuid2 *cpuid = supported_cpuid(v->kvm, err);
    if (cpuid == NULL)
        return -1;
    v->vcpus = calloc(v->nvcpus, sizeof(*v->vcpus));
    if (v->vcpus == NULL)
        abort();
    for (unsigned i = 0; i < v->nvcpus; i++) {
        v->vcpus[i].index = i;
        if (vcpu_make(v, &v->vcpus[i], cpuid, k.pvh_entry, err) < 0)
            return -1;
    }
    int e = pthread_create(&v->io, NULL, io_loop, v);
    if (e != 0)
        return cerr_set(err, e, "I/O thread: pthread_create");
    for (unsigned i = 0; i < v->nvcpus; i++) {
        e = pthread_create(&v->vcpus[i].thread, NULL, vcpu_loop, &v->vcpus[i]);
        if (e != 0)
            return cerr_set(err, e, "vCPU %u: pthread_create", i);
    }
    /* After the threads (a filter is inherited by the threads made after it). */
    if (vm_confine_thread(VM_THREAD_MAIN, err) < 0)
        return -1;
    pthread_mutex_lock(&v->lock);
    while (!v->done)
        pthread_cond_wait(&v->ended, &v->lock);
    pthread_mutex_unlock(&v->lock);
    if (v->why != NULL)
        return cerr_set(err, 0, "%s", v->why);
    return v->code;
}
