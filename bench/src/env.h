/* What the machine `cella bench` ran on offers a virtual machine. */
#ifndef CELLA_BENCH_ENV_H
#define CELLA_BENCH_ENV_H

#include <stdbool.h>
#include <stddef.h>

/* What a VM can use, from what the host shows: the CPU's vmx/svm flag,
 * whether /dev/kvm can be opened, whether the kvm_pvm module is loaded.
 * "hardware KVM", "PVM (software KVM)", "KVM (no vmx/svm flag)", or
 * "none: TCG only" (with why when a KVM module is loaded without /dev/kvm).
 * Only a /dev/kvm that opens counts: a loaded module without it gives a VM
 * nothing. */
void env_virt(bool vmx, bool dev_kvm, bool pvm, char *buf, size_t len);

#endif
