/* The qemu level: the VM host side (level/vmhost) with QEMU as the VMM. This
 * is QEMU's part of a VM's configuration and the backend that runs it. */
#ifndef CELLA_QEMU_QEMU_H
#define CELLA_QEMU_QEMU_H

#include <stdbool.h>

#include "level/vmhost/vm.h"

#define QEMU_ANN_PORTS "run.cella.qemu.ports"

struct qemu_config {
    char *qemu;            /* qemu-system-x86_64, absolute */
    bool kvm;              /* -accel kvm (vmx/svm), else TCG */
    unsigned long tsc_khz; /* the host TSC rate for a TCG guest; 0: unknown */
    char *hostfwd;         /* ",hostfwd=...,hostfwd=..." for -netdev user, "" for none */
};

static inline struct qemu_config *QEMU(const struct vm_config *cfg)
{
    return cfg->vmm;
}

extern const struct vm_backend qemu_backend;

#endif
