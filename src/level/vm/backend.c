/* cella's own VMM as the VM host side's backend (level/vmhost/backend.h):
 * spawn runs the VM (kvm.c) in the process the monitor forked, where the
 * qemu level exec's QEMU. configure refuses, before anything exists, a host
 * whose /dev/kvm cannot run the guest. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "level/vm/level.h"
#include "level/vm/vm.h"
#include "level/vmhost/vm.h"

/* Why /dev/kvm cannot run a Linux guest here; 0 when it can. The PVM
 * module gives a /dev/kvm without hardware virtualization whose guest
 * kernel runs by instruction emulation (minutes to boot): named, not
 * waited on. */
int vm_kvm_usable(cerr_t *err)
{
    if (access("/sys/module/kvm_pvm", F_OK) == 0)
        return cerr_set(err, 0,
                        "vm level: /dev/kvm is the PVM module (kvm_pvm), which emulates a guest "
                        "kernel's instructions instead of running them: it cannot boot the "
                        "guest at a useful speed (use --isolation qemu)");
    if (access("/dev/kvm", F_OK) != 0)
        return cerr_set(err, 0,
                        "vm level: no /dev/kvm (needs hardware virtualization and the kvm_intel "
                        "or kvm_amd module)");
    if (access("/dev/kvm", R_OK | W_OK) != 0)
        return cerr_set(err, errno, "vm level: /dev/kvm");
    if (!vm_host_vmx_svm())
        return cerr_set(err, 0,
                        "vm level: /dev/kvm without hardware virtualization (no vmx or svm flag "
                        "in /proc/cpuinfo)");
    return 0;
}

/* run.cella.vm.eventfds: on (the default) or off. */
static int eventfds_setting(const struct spec *s, bool *on, cerr_t *err)
{
    autofree char *key = vm_annotation(&vm_backend, "eventfds");
    const char *v = spec_annotation(s, key);
    *on = v == NULL || strcmp(v, "on") == 0;
    if (v != NULL && !*on && strcmp(v, "off") != 0)
        return cerr_set(err, 0, "vm level: annotation %s: expected on or off, got `%s`", key, v);
    return 0;
}

static int configure(struct vm_config *cfg, const struct spec *s, cerr_t *err)
{
    bool eventfds;
    if (eventfds_setting(s, &eventfds, err) < 0)
        return -1;
    if ((uint64_t)cfg->mem_mib << 20 > VM_RAM_MAX)
        return cerr_set(err, 0,
                        "vm level: linux.resources.memory.limit: %u MiB, at most %llu MiB (the "
                        "guest's RAM lies below its devices at 0x%llx)",
                        cfg->mem_mib, VM_RAM_MAX >> 20, VM_RAM_MAX);
    if (vm_kvm_usable(err) < 0)
        return -1;
    cfg->boot_timeout_s = 30; /* nested virtualization boots in seconds */
    struct vm_opts *o = calloc(1, sizeof(*o));
    if (o == NULL)
        abort();
    o->eventfds = eventfds;
    cfg->vmm = o;
    return 0;
}

static void release(struct vm_config *cfg)
{
    free(cfg->vmm);
    cfg->vmm = NULL;
}

/* No network of the VMM's own: with a namespace path the guest gets a
 * virtio-net card on vmhost's tap there (virtio/net.c); without one, no
 * network at all. */
static int user_net(struct vm_config *cfg, const struct spec *s, const char *nspath, cerr_t *err)
{
    (void)s;
    (void)err;
    if (nspath == NULL)
        cfg->guest_net = xstrdup("");
    return 0;
}

static const char *accel(const struct vm_config *cfg)
{
    (void)cfg;
    return "kvm";
}

/* What exec does for QEMU: the monitor's other descriptors (its report
 * pipe to create, the control socket, ...) are not the VM's. Held here
 * they would keep create waiting for the report's end. */
static void close_inherited(int keep_a, int keep_b)
{
    int lo = keep_a < keep_b ? keep_a : keep_b, hi = keep_a < keep_b ? keep_b : keep_a;
    unsigned from = 3;
    for (int k = 0; k < 2; k++) {
        int keep = k == 0 ? lo : hi;
        if (keep < 3)
            continue;
        if ((unsigned)keep > from)
            close_range(from, (unsigned)keep - 1, 0);
        from = (unsigned)keep + 1 > from ? (unsigned)keep + 1 : from;
    }
    close_range(from, ~0u, 0);
}

static void __attribute__((noreturn)) spawn(const struct vm_config *cfg, int agent_fd)
{
    cerr_t err = NULL;
    close_inherited(agent_fd, cfg->tap_fd);
    int code = vm_confine_process(&err) < 0 ? -1 : 0;
    static const char *const kind[] = {"vCPU threads", "the I/O thread", "the main thread"};
    for (int k = VM_THREAD_VCPU; code == 0 && log_debug_enabled() && k <= VM_THREAD_MAIN; k++) {
        autofree char *l = vm_confine_list((enum vm_thread)k);
        log_debug("vm level: seccomp filter of %s: %s", kind[k], l);
    }
    if (code == 0)
        code = vm_run(cfg, agent_fd, &err);
    if (code < 0)
        vm_say("cella-monitor: %s", cerr_msg(err));
    /* The system call itself: the main thread is under its filter, and a
     * sanitizer build's _exit does more (the VM died of SIGSYS there). */
    syscall(SYS_exit_group, code < 0 ? 1 : code);
    _exit(1);
}

static void kill_vm(pid_t vm)
{
    kill(vm, SIGKILL);
}

static const char *const marks[] = {"cella-vm: ", NULL};

const struct vm_backend vm_backend = {
    .level = "vm",
    .vmm = "cella's VMM",
    .annotation_prefix = "run.cella.vm.",
    .env_prefix = "CELLA_VM_",
    .configure = configure,
    .release = release,
    .user_net = user_net,
    .accel = accel,
    .spawn = spawn,
    .kill = kill_vm,
    .console_marks = marks,
    .console_bounded = true, /* serial.c */
};
