/* The `vm` isolation level: each container is a microVM of cella's own
 * VMM on /dev/kvm (the Firecracker class), with the qemu level's guest
 * kernel, agent, protocol and rootfs images. The VM host side
 * (level/vmhost) does the work with this VMM as its backend (backend.c).
 * Design: docs/vm-level.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

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

/* The VMM's process state letter ('T': stopped), 0 when it is gone or
 * another process has its pid. */
static char vmm_state(const struct container *c)
{
    if (c->st->pid <= 0 || !proc_alive(c->st->pid, c->st->start_time))
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)c->st->pid);
    autofree char *stat = read_file(path, NULL, NULL);
    const char *end = stat ? strrchr(stat, ')') : NULL;
    return end && end[1] == ' ' ? end[2] : 0;
}

/* Pause stops the VMM's process, not its cgroup: the cgroup v2 freezer
 * never reports this VM frozen, as KVM's kvm-nx-lpage-recovery kernel
 * thread lives in the VMM's cgroup and kernel threads do not freeze (Linux
 * before 6.13; seen under nested SVM). SIGSTOP takes every vCPU out of
 * KVM_RUN and keeps it out; the monitor waits for the VM's exit only. */
static int vm_pause(struct container *c, cerr_t *err)
{
    if (vmm_state(c) == 0)
        return cerr_set(err, 0, "container `%s`: its VM has stopped", c->id);
    if (kill(c->st->pid, SIGSTOP) < 0)
        return cerr_set(err, errno, "pause: kill %d SIGSTOP", (int)c->st->pid);
    for (int i = 0; i < 5000; i++) {
        char st = vmm_state(c);
        if (st == 'T' || st == 0)
            return st ? 0 : cerr_set(err, 0, "container `%s`: its VM has stopped", c->id);
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    kill(c->st->pid, SIGCONT);
    return cerr_set(err, 0, "pause: the VMM (pid %d) did not stop in 5 s", (int)c->st->pid);
}

static int vm_resume(struct container *c, cerr_t *err)
{
    if (vmm_state(c) == 0)
        return cerr_set(err, 0, "container `%s`: its VM has stopped", c->id);
    if (kill(c->st->pid, SIGCONT) < 0)
        return cerr_set(err, errno, "resume: kill %d SIGCONT", (int)c->st->pid);
    return 0;
}

static bool vm_paused(struct container *c)
{
    return vmm_state(c) == 'T';
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
    .pause = vm_pause,
    .resume = vm_resume,
    .paused = vm_paused,
    .update = vmhost_update,
    .pids = vmhost_pids,
};
