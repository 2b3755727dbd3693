/* QEMU's command line: a microvm booting cella's vmlinux directly, the
 * agent's initramfs, one virtio-serial port for the agent, the rootfs image
 * on virtio-blk and a virtio-net device. */
#define _GNU_SOURCE
#include "level/qemu/qemu_cmd.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "level/qemu/qemu.h"
#include "proto/protocol.h"

struct argv {
    char **v;
    size_t n;
};

static void add(struct argv *a, char *s)
{
    char **nv = realloc(a->v, (a->n + 2) * sizeof(char *));
    if (nv == NULL)
        abort();
    a->v = nv;
    nv[a->n++] = s;
    nv[a->n] = NULL;
}

static void add2(struct argv *a, const char *opt, char *value)
{
    add(a, xstrdup(opt));
    add(a, value);
}

/* A value inside QEMU's KEY=VALUE,... options: commas doubled, or QEMU
 * takes what follows one for the next option. */
static char *opt_value(const char *s)
{
    size_t n = strlen(s), commas = 0;
    for (size_t i = 0; i < n; i++)
        commas += s[i] == ',';
    char *out = malloc(n + commas + 1), *o = out;
    if (out == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        *o++ = s[i];
        if (s[i] == ',')
            *o++ = ',';
    }
    *o = '\0';
    return out;
}

char *qemu_kernel_cmdline(const struct vm_config *cfg)
{
    /* panic=-1 and reboot=k: a guest that panics or whose agent ends the VM
     * reboots, which -no-reboot turns into QEMU's exit. Under TCG, the TSC
     * rate and (one vCPU) the PIT as the tick spare the guest its timer
     * calibrations, and noreplace-smp the rewriting of every lock prefix:
     * 1.06 s -> 0.74 s to init (docs/guest-kernel.md). */
    const struct qemu_config *q = QEMU(cfg);
    const char *up = !q->kvm && cfg->vcpus == 1 ? " noreplace-smp nolapic_timer" : "";
    autofree char *tsc = !q->kvm && q->tsc_khz
                             ? xasprintf(" tsc_early_khz=%lu tsc=reliable", q->tsc_khz)
                             : xstrdup("");
    autofree char *agent = vm_agent_words(cfg);
    return xasprintf("console=ttyS0 reboot=k panic=-1 quiet%s%s %s", up, tsc, agent);
}

char **qemu_argv(const struct vm_config *cfg, int agent_fd)
{
    const struct qemu_config *q = QEMU(cfg);
    struct argv a = {0};
    add(&a, xstrdup(q->qemu));
    /* No firmware, ACPI tables or option ROMs: the kernel's PVH entry is
     * jumped into directly. */
    add2(&a, "-M", xstrdup("microvm,acpi=off,x-option-roms=off"));
    add2(&a, "-accel", xstrdup(q->kvm ? "kvm" : "tcg"));
    if (q->kvm)
        add2(&a, "-cpu", xstrdup("host"));
    add2(&a, "-smp", xasprintf("%u", cfg->vcpus));
    add2(&a, "-m", xasprintf("%u", cfg->mem_mib));
    add(&a, xstrdup("-nodefaults"));
    add(&a, xstrdup("-no-user-config"));
    add(&a, xstrdup("-no-reboot"));
    add2(&a, "-display", xstrdup("none"));
    add2(&a, "-serial", xstrdup("stdio"));
    /* The keyboard controller's reset line: the guest's reboot (reboot=k). */
    add2(&a, "-device", xstrdup("i8042"));
    add2(&a, "-kernel", xstrdup(cfg->kernel));
    add2(&a, "-initrd", xstrdup(cfg->initrd));
    add2(&a, "-append", qemu_kernel_cmdline(cfg));
    add2(&a, "-chardev", xasprintf("socket,id=agent,fd=%d", agent_fd));
    add2(&a, "-device", xstrdup("virtio-serial-device"));
    add2(&a, "-device", xstrdup("virtserialport,chardev=agent,name=" AGENT_PORT_NAME));
    autofree char *image = opt_value(cfg->image);
    add2(&a, "-drive", xasprintf("file=%s,format=raw,if=none,readonly=on,id=root", image));
    add2(&a, "-device", xstrdup("virtio-blk-device,drive=root"));
    if (cfg->tap_fd >= 0) {
        /* The guest answers for the namespace interface's address: its MAC
         * too, or the frames redirected to it would be dropped. */
        add2(&a, "-netdev", xasprintf("tap,id=n0,fd=%d", cfg->tap_fd));
        add2(&a, "-device", xasprintf("virtio-net-device,netdev=n0,mac=%s", cfg->mac));
    } else {
        add2(&a, "-netdev", xasprintf("user,id=n0%s", q->hostfwd));
        add2(&a, "-device", xstrdup("virtio-net-device,netdev=n0"));
    }
    return a.v;
}

void qemu_argv_free(char **argv)
{
    for (char **p = argv; p && *p; p++)
        free(*p);
    free(argv);
}
