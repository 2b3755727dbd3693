/* What a VM level's host side needs of its virtual machine monitor. The rest
 * of a VM level — the monitor process with the agent relay and the control
 * server (monitor.h), the commands (commands.h), the process's RUN fields,
 * the rootfs image, the tap networking and the generic configuration
 * (vm.h) — is the same for every VMM. QEMU implements this now
 * (level/qemu/backend.c); cella's own VMM (the vm level) next.
 * docs/vmhost.md says what a new VMM must provide. */
#ifndef CELLA_VMHOST_BACKEND_H
#define CELLA_VMHOST_BACKEND_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/error.h"
#include "oci/spec.h"

struct vm_config;

struct vm_backend {
    const char *level; /* "qemu": errors begin "qemu level: " */
    const char *vmm;   /* "QEMU": "QEMU exited during boot" */
    /* The level's annotations and environment variables: "run.cella.qemu."
     * (boot-timeout; accel, vcpus, memory in `state`) and "CELLA_QEMU_"
     * (BOOT_TIMEOUT). */
    const char *annotation_prefix, *env_prefix;
    /* First, from the spec and the host (cfg->vcpus, mem_mib and readonly
     * are set): find the VMM and choose how it runs, refuse what it cannot
     * give. Fills cfg->vmm (the backend's part, freed by release) and the
     * default cfg->boot_timeout_s. */
    int (*configure)(struct vm_config *cfg, const struct spec *s, cerr_t *err);
    void (*release)(struct vm_config *cfg);
    /* The guest's network when the spec names no network namespace (nspath
     * NULL): the VMM's own (QEMU: user-mode, with published ports); fills
     * cfg->guest_net. With a namespace path the VM gets a tap (tap.h), and
     * this only refuses what needs the VMM's own network. */
    int (*user_net)(struct vm_config *cfg, const struct spec *s, const char *nspath, cerr_t *err);
    /* `state`'s accelerator annotation: "kvm", "tcg". */
    const char *(*accel)(const struct vm_config *cfg);
    /* In the VM's process, forked by the monitor: already in the container's
     * cgroup, console log on fd 1 and 2, /dev/null on 0, signals as at exec,
     * dying with the monitor; agent_fd (the guest's end of the agent
     * channel) and cfg->tap_fd are inherited. Becomes the VM; on a failure
     * writes "cella-monitor: why" to fd 2 and exits. */
    void (*spawn)(const struct vm_config *cfg, int agent_fd) __attribute__((noreturn));
    /* End the VM now (vm: the monitor's child). */
    void (*kill)(pid_t vm);
    /* Once the agent is READY; may be NULL. */
    void (*ready)(const struct vm_config *cfg, pid_t vm, int vm_pidfd);
    /* How the VMM's own lines in the console log begin, best first,
     * NULL-terminated: a failed boot's reason is picked from the console by
     * them (after the monitor's, before the agent's and a kernel panic). */
    const char *const *console_marks;
    /* The VMM stops writing the console log at VM_CONSOLE_MAX bytes itself
     * (cella's VMM: its guest memory is a memfd, which the RLIMIT_FSIZE
     * bounding QEMU's log would bound too). */
    bool console_bounded;
};

/* The console log's bound: the guest's serial output beyond is dropped. */
#define VM_CONSOLE_MAX (1 << 20)

#endif
