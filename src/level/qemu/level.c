/* The `qemu` isolation level: each container is a QEMU microVM running
 * cella's guest kernel, with cella's agent as PID 1 (guest/agent). The VM
 * host side (level/vmhost) does the work with QEMU as its backend
 * (backend.c): `create` boots the VM under a monitor process and returns
 * once the agent is READY; the other commands are requests to that monitor
 * over ROOT/ID/monitor.sock. The container's pid is QEMU's. Design:
 * docs/qemu-level.md. */
#include <jansson.h>

#include "level/container/container.h"
#include "level/qemu/qemu.h"
#include "level/vmhost/vmhost.h"

static int qemu_check(const struct spec *s, const struct create_opts *o, cerr_t *err)
{
    return vmhost_check(s, o, &qemu_backend, err);
}

static void qemu_features(json_t *annotations)
{
    json_object_set_new(annotations, QEMU_ANN_PORTS,
                        json_string("[tcp:|udp:][HOSTADDR:]HOSTPORT:GUESTPORT[,...]"));
    json_object_set_new(annotations, "run.cella.qemu.boot-timeout", json_string("SECONDS"));
}

static int qemu_create(struct container *c, const struct create_opts *o, cerr_t *err)
{
    return vmhost_create(c, o, &qemu_backend, err);
}

const struct level_ops qemu_level = {
    .name = "qemu",
    .summary = "a QEMU microVM with cella's guest kernel and agent (Kata class)",
    .features = qemu_features,
    .check = qemu_check,
    .create = qemu_create,
    .start = vm_start,
    .kill = vm_kill,
    .destroy = vmhost_destroy,
    .exec = vm_exec,
    /* The cgroup freezer stops QEMU, and with it the whole VM. */
    .pause = container_pause,
    .resume = container_resume,
    .paused = container_paused,
    .update = vmhost_update,
    .pids = vmhost_pids,
};
