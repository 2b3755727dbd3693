/* QEMU as the VMM of the VM host side (level/vmhost/backend.h): finding it,
 * choosing the accelerator, its user-mode network, and exec'ing it with the
 * command line of qemu_cmd.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "level/qemu/net.h"
#include "level/qemu/qemu.h"
#include "level/qemu/qemu_cmd.h"

#define QEMU_BINARY "qemu-system-x86_64"

/* Hardware virtualization: /dev/kvm alone is not enough (PVM hosts have it
 * without vmx/svm, and cannot run a Linux guest at useful speed). */
static bool host_has_kvm(void)
{
    const char *force = getenv("CELLA_QEMU_ACCEL");
    if (force != NULL && *force)
        return strcmp(force, "kvm") == 0;
    return access("/dev/kvm", R_OK | W_OK) == 0 && vm_host_vmx_svm();
}

/* Under TCG the guest's TSC runs at the host's rate; telling the guest that
 * rate spares its PIT calibration, which fails by chance under emulation
 * (docs/guest-kernel.md). Only trusted when the host kernel itself knows
 * its TSC rate (tsc_known_freq: "cpu MHz" is then the TSC's). */
static unsigned long host_tsc_khz(void)
{
    autofree char *info = read_file("/proc/cpuinfo", NULL, NULL);
    if (info == NULL || strstr(info, " tsc_known_freq") == NULL)
        return 0;
    const char *mhz = strstr(info, "cpu MHz");
    const char *colon = mhz ? strchr(mhz, ':') : NULL;
    double v = colon ? strtod(colon + 1, NULL) : 0;
    return v > 0 ? (unsigned long)(v * 1000 + 0.5) : 0;
}

static int configure(struct vm_config *cfg, const struct spec *s, cerr_t *err)
{
    (void)s;
    struct qemu_config *q = calloc(1, sizeof(*q));
    if (q == NULL)
        abort();
    cfg->vmm = q;
    q->qemu = vm_find_program(QEMU_BINARY);
    if (q->qemu == NULL)
        return cerr_set(err, 0,
                        "qemu level: " QEMU_BINARY " not found (install qemu-system-x86: "
                        "scripts/deps.sh does)");
    q->kvm = host_has_kvm();
    q->tsc_khz = q->kvm ? 0 : host_tsc_khz();
    cfg->boot_timeout_s = q->kvm ? 10 : 30;
    return 0;
}

static void release(struct vm_config *cfg)
{
    struct qemu_config *q = QEMU(cfg);
    free(q->qemu);
    free(q->hostfwd);
    free(q);
    cfg->vmm = NULL;
}

static const char *accel(const struct vm_config *cfg)
{
    return QEMU(cfg)->kvm ? "kvm" : "tcg";
}

static void __attribute__((noreturn)) spawn(const struct vm_config *cfg, int agent_fd)
{
    char **argv = qemu_argv(cfg, agent_fd);
    execv(argv[0], argv);
    dprintf(2, "cella-monitor: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Nothing to shut down gracefully: the rootfs is read-only and the guest's
 * writes live in its tmpfs. */
static void kill_vm(pid_t vm)
{
    kill(vm, SIGKILL);
}

static void ready(const struct vm_config *cfg, pid_t vm, int vm_pidfd)
{
    if (*QEMU(cfg)->hostfwd)
        qemu_net_raise_backlog(vm, vm_pidfd);
}

static const char *const marks[] = {"qemu-system-x86_64: ", "qemu: ", NULL};

const struct vm_backend qemu_backend = {
    .level = "qemu",
    .vmm = "QEMU",
    .annotation_prefix = "run.cella.qemu.",
    .env_prefix = "CELLA_QEMU_",
    .configure = configure,
    .release = release,
    .user_net = qemu_user_net,
    .accel = accel,
    .spawn = spawn,
    .kill = kill_vm,
    .ready = ready,
    .console_marks = marks,
};
