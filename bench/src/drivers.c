#define _GNU_SOURCE
#include "drivers.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct driver table[] = {
    /* The floor every report shows: the same server without any runtime,
     * on the CPU the bundle's cpuset gives the containers. */
    {.name = "bare",
     .detach_flag = "",
     .boundary = B_NONE,
     .bare = true,
     .note = "the server run directly, no runtime"},
    {.name = "cella-container",
     .binary = NULL,
     .global_args = {"--isolation", "container"},
     .takes_root = true,
     .detach_flag = "--detach",
     .boundary = B_SHARED_KERNEL,
     .note = "cella's container level"},
    {.name = "cella-wasm",
     .binary = NULL,
     .global_args = {"--isolation", "wasm"},
     .takes_root = true,
     .detach_flag = "--detach",
     .boundary = B_WASM_SANDBOX,
     .wasm = true,
     .note = "cella's WebAssembly engine inside a container"},
    /* A VM behind QEMU's user-mode network: the bundle's annotation
     * run.cella.qemu.ports publishes the server's port on 127.0.0.1. Fails
     * with the level's own reason without QEMU, `make kernel` or the agent. */
    {.name = "cella-qemu",
     .binary = NULL,
     .global_args = {"--isolation", "qemu"},
     .takes_root = true,
     .detach_flag = "--detach",
     .boundary = B_HARDWARE_VM,
     .note = "cella's QEMU microVM level (TCG without vmx/svm)"},
    /* cella's own VMM on /dev/kvm. Where /dev/kvm cannot run a guest (no
     * /dev/kvm, no vmx/svm, the PVM module) create fails at once with the
     * level's one line, which is the row's reason. */
    {.name = "cella-vm",
     .binary = NULL,
     .global_args = {"--isolation", "vm"},
     .takes_root = true,
     .detach_flag = "--detach",
     .boundary = B_HARDWARE_VM,
     .note = "cella's own VMM on /dev/kvm (virtio-mmio, PVH boot)"},
    /* cella's own user-space kernel serves every system call of the server
     * (host network: its sockets are the kernel's, in the host's namespace). */
    {.name = "cella-sandbox",
     .binary = NULL,
     .global_args = {"--isolation", "sandbox"},
     .takes_root = true,
     .detach_flag = "--detach",
     .boundary = B_SYSCALL_INTERPOSITION,
     .note = "cella's user-space kernel (seccomp trap + futex hand-off)"},
    {.name = "crun",
     .binary = "crun",
     .detach_flag = "--detach",
     .boundary = B_SHARED_KERNEL,
     .takes_root = true,
     .hide_unified_cgroup = true},
    {.name = "runc",
     .binary = "runc",
     .detach_flag = "--detach",
     .boundary = B_SHARED_KERNEL,
     .takes_root = true},
    /* --platform=kvm hangs on PVM hosts and the default netstack needs
     * /proc/sys/net hidden with Debian's 2022 build: ptrace + host network. */
    {.name = "runsc",
     .binary = "runsc",
     .global_args = {"--platform=ptrace", "--network=host"},
     .detach_flag = "-detach",
     .boundary = B_SYSCALL_INTERPOSITION,
     .note = "gVisor, ptrace platform, host network"},
    /* --engine docker: each level as Docker runs it (containerd's runc v2
     * shim, a bridge network), against Docker's own default, runc, in the
     * same daemon and rounds: the baseline of that report. */
    {.name = "docker-runc",
     .binary = "docker",
     .engine_runtime = "runc",
     .boundary = B_SHARED_KERNEL,
     .note = "Docker's default runtime: the baseline"},
    {.name = "docker-cella",
     .binary = "docker",
     .engine_runtime = "cella",
     .boundary = B_SHARED_KERNEL,
     .note = "cella's container level under Docker"},
    {.name = "docker-cella-wasm",
     .binary = "docker",
     .engine_runtime = "cella-wasm",
     .boundary = B_WASM_SANDBOX,
     .wasm = true,
     .note = "cella's wasm level under Docker"},
    {.name = "docker-cella-qemu",
     .binary = "docker",
     .engine_runtime = "cella-qemu",
     .boundary = B_HARDWARE_VM,
     .note = "cella's qemu level under Docker"},
    {.name = "docker-cella-sandbox",
     .binary = "docker",
     .engine_runtime = "cella-sandbox",
     .boundary = B_SYSCALL_INTERPOSITION,
     .note = "cella's sandbox level under Docker"},
};

static const char *cella_path;

const struct driver *drivers_all(const char *cella, size_t *n)
{
    cella_path = cella;
    *n = sizeof(table) / sizeof(table[0]);
    return table;
}

char *driver_path(const struct driver *d)
{
    const char *bin = d->binary ? d->binary : cella_path;
    if (bin == NULL)
        return NULL;
    if (strchr(bin, '/') != NULL)
        return access(bin, X_OK) == 0 ? realpath(bin, NULL) : NULL;
    const char *path = getenv("PATH");
    char *copy =
        strdup(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    char *s = copy, *dir, *found = NULL;
    while (copy != NULL && found == NULL && (dir = strsep(&s, ":")) != NULL) {
        char cand[PATH_MAX];
        snprintf(cand, sizeof(cand), "%s/%s", dir, bin);
        if (access(cand, X_OK) == 0)
            found = strdup(cand);
    }
    /* /usr/sbin is not always on a user's PATH (runc lives there). */
    if (found == NULL) {
        char cand[PATH_MAX];
        snprintf(cand, sizeof(cand), "/usr/sbin/%s", bin);
        if (access(cand, X_OK) == 0)
            found = strdup(cand);
    }
    free(copy);
    return found;
}
