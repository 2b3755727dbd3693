/* The VMM confined as Firecracker's jailer confines it: its own mount, IPC,
 * UTS and (empty) network namespaces (it holds its tap, agent socket and
 * files as descriptors and needs nothing of the host's), no capabilities,
 * no new privileges, and once the guest runs one seccomp filter per kind of
 * thread allowing only the system calls, and the KVM ioctls by request
 * number, that thread makes; anything else kills the VM. docs/vm-level.md
 * publishes the lists. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "core/util.h"
#include "level/container/caps.h"
#include "level/vm/vm.h"

/* clang-format off */
/* Every thread: the C library's locks, allocator and thread end, a line to
 * the console before a failure's end. */
static const char *const common[] = {
    "futex", "mmap", "munmap", "mprotect", "madvise", "mremap", "brk", "rt_sigprocmask",
    "rt_sigreturn", "restart_syscall", "exit", "exit_group", "write", "clock_gettime",
};
/* vCPU threads: KVM_RUN and the devices on their exits (the serial line and
 * the MMIO fallback's notifies: disk reads, the agent's and the tap's
 * writes, an eventfd's wake). */
static const char *const vcpu[] = {"pread64", NULL};
/* The I/O thread: polling the agent's socket, the tap and the eventfds,
 * reading them, the disk reads of the notifies it serves. */
static const char *const io[] = {"poll", "ppoll", "read", "recvmsg", "pread64", NULL};
/* The main thread waits for the end. */
static const char *const main_[] = {NULL};
/* clang-format on */

static const unsigned long vcpu_ioctls[] = {KVM_RUN, KVM_IRQ_LINE, 0};
static const unsigned long io_ioctls[] = {KVM_IRQ_LINE, 0};
static const unsigned long main_ioctls[] = {0};

static const struct {
    const char *name;
    const char *const *calls;
    const unsigned long *ioctls;
} kinds[] = {[VM_THREAD_VCPU] = {"vCPU", vcpu, vcpu_ioctls},
             [VM_THREAD_IO] = {"I/O", io, io_ioctls},
             [VM_THREAD_MAIN] = {"main", main_, main_ioctls}};

int vm_confine_process(cerr_t *err)
{
    if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET) < 0)
        return cerr_set(err, errno, "confine the VMM: unshare (mount, IPC, UTS, network)");
    struct caps_set none = {.present = true};
    if (caps_drop_bounding(&none, err) < 0 || caps_apply(&none, err) < 0)
        return cerr_wrap(err, "confine the VMM");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return cerr_set(err, errno, "confine the VMM: PR_SET_NO_NEW_PRIVS");
    return 0;
}

int vm_confine_thread(enum vm_thread kind, cerr_t *err)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (ctx == NULL)
        return cerr_set(err, 0, "%s thread's seccomp filter: seccomp_init", kinds[kind].name);
    int rc = 0;
    for (size_t i = 0; i < ARRAY_SIZE(common) && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name(common[i]), 0);
    for (const char *const *c = kinds[kind].calls; *c != NULL && rc == 0; c++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name(*c), 0);
    for (const unsigned long *r = kinds[kind].ioctls; *r != 0 && rc == 0; r++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, *r));
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc < 0)
        return cerr_set(err, -rc, "%s thread's seccomp filter", kinds[kind].name);
    return 0;
}

char *vm_confine_list(enum vm_thread kind)
{
    char *s = xstrdup("");
    for (size_t i = 0; i < ARRAY_SIZE(common); i++) {
        char *t = xasprintf("%s%s%s", s, *s ? " " : "", common[i]);
        free(s);
        s = t;
    }
    for (const char *const *c = kinds[kind].calls; *c != NULL; c++) {
        char *t = xasprintf("%s %s", s, *c);
        free(s);
        s = t;
    }
    for (const unsigned long *r = kinds[kind].ioctls; *r != 0; r++) {
        char *t = xasprintf("%s ioctl(%s)", s, *r == KVM_RUN ? "KVM_RUN" : "KVM_IRQ_LINE");
        free(s);
        s = t;
    }
    return s;
}
