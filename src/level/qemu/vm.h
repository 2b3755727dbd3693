/* What one VM of the qemu level looks like: the host programs and files it
 * needs, the accelerator, its size and its network, decided once at create
 * from the spec and the host, then turned into QEMU's command line
 * (qemu_cmd.c) by the monitor. */
#ifndef CELLA_QEMU_VM_H
#define CELLA_QEMU_VM_H

#include <stdbool.h>

#include "core/error.h"
#include "oci/spec.h"

#define QEMU_ANN_PORTS        "run.cella.qemu.ports"
#define QEMU_ANN_BOOT_TIMEOUT "run.cella.qemu.boot-timeout"
#define QEMU_ANN_ACCEL        "run.cella.qemu.accel"
#define QEMU_ANN_VCPUS        "run.cella.qemu.vcpus"
#define QEMU_ANN_MEMORY       "run.cella.qemu.memory"

struct vm_config {
    char *qemu;   /* qemu-system-x86_64, absolute */
    char *kernel; /* uncompressed vmlinux */
    char *initrd; /* the agent's initramfs */
    char *image;  /* the rootfs disk, read-only */
    const char *fstype;
    bool kvm;              /* -accel kvm (vmx/svm), else TCG */
    unsigned long tsc_khz; /* the host TSC rate for a TCG guest; 0: unknown */
    unsigned vcpus, mem_mib;
    char *hostfwd; /* ",hostfwd=...,hostfwd=..." for -netdev user, "" for none */
    int tap_fd;    /* a tap in the spec's network namespace (tap.h), else -1: user-mode */
    char *mac;     /* the guest's MAC with a tap (the namespace interface's), else NULL */
    char *netns;   /* with a tap: the namespace's path and its interface, for delete */
    char *netns_dev;
    char *guest_net; /* the agent's network words for the kernel command line */
    bool readonly;   /* root.readonly: the guest mounts no writable layer */
    unsigned boot_timeout_s;
};

/* Everything but the image: binaries and files found, sizes and network
 * from the spec. One error naming the missing piece or the bad field, and
 * then nothing to free. */
int vm_config_make(struct vm_config *cfg, const struct spec *s, cerr_t *err);
/* What vm_config_make would refuse, found without making anything (no tap). */
int vm_config_check(const struct spec *s, cerr_t *err);
void vm_config_free(struct vm_config *cfg);
/* The absolute path of a program on PATH (or the usual directories when
 * PATH is unset), NULL when missing. */
char *vm_find_program(const char *name);
/* The level's annotations for `state` (key, value, ..., NULL; malloc'd). */
char **vm_config_annotations(const struct vm_config *cfg);

#endif
