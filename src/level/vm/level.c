/* The `vm` isolation level: each container is a microVM of cella's own
 * VMM on /dev/kvm (the Firecracker class), with the qemu level's guest
 * kernel, agent, protocol and rootfs images. The VM host side
 * (level/vmhost) does the work with this VMM as its backend (backend.c).
 * Design: docs/vm-level.md. */
#include <jansson.h>

#include "level/container/container.h"
#include "level/vm/level.h"
#include "level/vmhost/vmhost.h"

static int vm_check(const struct spec *s, const struct create_opts *o, cerr_t *err)
{
    return vmhost_check(s, o, &vm_backend, err);
}

static void vm_features(json_t *annotations)
{
    json_object_set_new(annotations, "run.cella.vm.boot-timeout", json_string("SECONDS"));
}

static int vm_create(struct container *c, const struct create_opts *o, cerr_t *err)
{
    return vmhost_create(c, o, &vm_backend, err);
}

const struct level_ops vm_level = {
    .name = "vm",
    .summary = "a microVM of cella's own VMM on /dev/kvm (Firecracker class)",
    .features = vm_features,
    .check = vm_check,
    .create = vm_create,
    .start = vm_start,
    .kill = vm_kill,
    .destroy = vmhost_destroy,
    .exec = vm_exec,
    /* The cgroup freezer stops the VMM's process, and with it the VM. */
    .pause = container_pause,
    .resume = container_resume,
    .paused = container_paused,
    .update = vmhost_update,
    .pids = vmhost_pids,
};
