/* What one VM of a VM level looks like to any VMM: the guest's files, its
 * size, its rootfs image and its network, decided once at create from the
 * spec and the host. The VMM's own part (QEMU: its binary, the accelerator,
 * user-mode networking) hangs off cfg->vmm, made by the backend
 * (backend.h). */
#ifndef CELLA_VMHOST_VM_H
#define CELLA_VMHOST_VM_H

#include <stdbool.h>

#include "core/error.h"
#include "level/vmhost/backend.h"
#include "oci/spec.h"

struct vm_config {
    const struct vm_backend *backend;
    char *kernel; /* uncompressed vmlinux */
    char *initrd; /* the agent's initramfs */
    char *image;  /* the rootfs disk, read-only */
    const char *fstype;
    unsigned vcpus, mem_mib;
    int tap_fd;  /* a tap in the spec's network namespace (tap.h), else -1: the VMM's network */
    char *mac;   /* the guest's MAC with a tap (the namespace interface's), else NULL */
    char *netns; /* with a tap: the namespace's path and its interface, for delete */
    char *netns_dev;
    char *guest_net; /* the agent's network words for the kernel command line */
    /* A new network namespace that the spec's create hooks fill (Docker's
     * libnetwork moves the container's veth in from its prestart hook): the
     * monitor makes it, create runs the hooks, then the monitor joins its
     * interface to a tap before the VMM starts; with no interface there (a
     * network "none"), the VMM's own network from the host's namespace. */
    bool hooked_netns;
    bool readonly; /* root.readonly: the guest mounts no writable layer */
    unsigned boot_timeout_s;
    void *vmm; /* the backend's part */
};

/* Everything but the image: the VMM (the backend's configure), the guest
 * files, sizes and network from the spec. One error naming the missing
 * piece or the bad field, and then nothing to free. */
int vm_config_make(struct vm_config *cfg, const struct vm_backend *b, const struct spec *s,
                   cerr_t *err);
/* What vm_config_make would refuse, found without making anything (no tap). */
int vm_config_check(const struct vm_backend *b, const struct spec *s, cerr_t *err);
void vm_config_free(struct vm_config *cfg);
/* The absolute path of a program on PATH (or the usual directories when
 * PATH is unset), NULL when missing. */
char *vm_find_program(const char *name);
/* Whether the CPU has hardware virtualization (the vmx or svm flag). */
bool vm_host_vmx_svm(void);
/* The agent's words of the kernel command line (guest/agent/cmdline.c):
 * the root disk, its type, read-only, the network (malloc'd). */
char *vm_agent_words(const struct vm_config *cfg);
/* The level's annotations for `state` (key, value, ..., NULL; malloc'd). */
char **vm_config_annotations(const struct vm_config *cfg);
/* One of the level's annotations, "run.cella.LEVEL.NAME" (malloc'd). */
char *vm_annotation(const struct vm_backend *b, const char *name);

#endif
