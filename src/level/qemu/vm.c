/* The VM's configuration: host programs and files, accelerator, size. */
#define _GNU_SOURCE
#include "level/qemu/vm.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "level/qemu/net.h"

#define QEMU_BINARY     "qemu-system-x86_64"
#define DEFAULT_MEM_MIB 128
#define MIN_MEM_MIB     64
#define MAX_VCPUS       8 /* NR_CPUS of the guest kernel (guest/kernel/cella.config) */
#define LIB_DIR         "/usr/local/lib/cella"

char *vm_find_program(const char *name)
{
    /* Supervisors may run us without PATH (conmon's delete does), and
     * libc's default has no sbin directories. */
    const char *path = getenv("PATH");
    autofree char *copy = xstrdup(
        path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    char *s = copy;
    for (char *dir; (dir = strsep(&s, ":")) != NULL;) {
        autofree char *cand = xasprintf("%s/%s", *dir ? dir : ".", name);
        if (access(cand, X_OK) == 0)
            return realpath(cand, NULL);
    }
    return NULL;
}

/* A guest file: $ENV, then next to the cella binary (its build directory),
 * then LIB_DIR. The error names every place tried. */
static char *find_guest_file(const char *env, const char *name, const char *what, const char *how,
                             cerr_t *err)
{
    const char *e = getenv(env);
    if (e != NULL && *e) {
        if (access(e, R_OK) == 0)
            return xstrdup(e);
        return cerr_set(err, errno, "qemu level: %s `%s` (from $%s)", what, e, env), NULL;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    autofree char *beside = xasprintf("%s/%s", n > 0 ? dirname(exe) : ".", name);
    if (access(beside, R_OK) == 0)
        return realpath(beside, NULL);
    autofree char *lib = xasprintf(LIB_DIR "/%s", name);
    if (access(lib, R_OK) == 0)
        return xstrdup(lib);
    cerr_set(err, 0, "qemu level: no %s: tried %s, %s and $%s (%s)", what, beside, lib, env, how);
    return NULL;
}

/* Hardware virtualization: /dev/kvm alone is not enough (PVM hosts have it
 * without vmx/svm, and cannot run a Linux guest at useful speed). */
static bool host_has_kvm(void)
{
    const char *force = getenv("CELLA_QEMU_ACCEL");
    if (force != NULL && *force)
        return strcmp(force, "kvm") == 0;
    if (access("/dev/kvm", R_OK | W_OK) != 0)
        return false;
    autofree char *info = read_file("/proc/cpuinfo", NULL, NULL);
    if (info == NULL)
        return false;
    const char *flags = strstr(info, "\nflags");
    const char *eol = flags ? strchr(flags + 1, '\n') : NULL;
    if (eol == NULL)
        return false;
    autofree char *line = strndup(flags, (size_t)(eol - flags));
    return line && (strstr(line, " vmx") || strstr(line, " svm"));
}

/* Under TCG the guest's TSC runs at the host's rate; telling the guest that
 * rate spares its PIT calibration, which fails by chance under emulation
 * (docs/guest-kernel.md). Only trusted when the host kernel itself knows
 * its TSC rate (tsc_known_freq: "cpu MHz" is then the TSC's). */
static unsigned long host_tsc_khz(void)
{
    autofree char *info = read_file("/proc/cpuinfo", NULL, NULL);
    if (info == NULL || strstr(info, " tsc_known_freq") == NULL)
        return 0;
    const char *mhz = strstr(info, "cpu MHz");
    const char *colon = mhz ? strchr(mhz, ':') : NULL;
    double v = colon ? strtod(colon + 1, NULL) : 0;
    return v > 0 ? (unsigned long)(v * 1000 + 0.5) : 0;
}

/* linux.resources.cpu: quota/period rounded up, else the cpuset's size. */
static unsigned spec_vcpus(const struct spec_resources *r)
{
    unsigned n = 1;
    if (r->cpu.quota.set && r->cpu.quota.v > 0 && r->cpu.period.set && r->cpu.period.v > 0) {
        n = (unsigned)(((uint64_t)r->cpu.quota.v + r->cpu.period.v - 1) / r->cpu.period.v);
    } else if (r->cpu.cpus != NULL && *r->cpu.cpus) {
        n = 0;
        autofree char *copy = xstrdup(r->cpu.cpus);
        char *s = copy;
        for (char *tok; (tok = strsep(&s, ",")) != NULL;) {
            unsigned a, b;
            int k = sscanf(tok, "%u-%u", &a, &b);
            n += k == 2 && b >= a ? b - a + 1 : k == 1 ? 1 : 0;
        }
    }
    return n < 1 ? 1 : n > MAX_VCPUS ? MAX_VCPUS : n;
}

/* linux.resources.memory.limit in MiB (rounded up, at least MIN_MEM_MIB:
 * the guest kernel and agent need that much before any workload). */
static unsigned spec_mem_mib(const struct spec_resources *r)
{
    if (!r->memory.limit.set || r->memory.limit.v <= 0)
        return DEFAULT_MEM_MIB;
    uint64_t mib = ((uint64_t)r->memory.limit.v + (1 << 20) - 1) >> 20;
    return mib < MIN_MEM_MIB ? MIN_MEM_MIB : mib > 1u << 20 ? 1u << 20 : (unsigned)mib;
}

static int boot_timeout(const struct spec *s, bool kvm, unsigned *out, cerr_t *err)
{
    const char *v = spec_annotation(s, QEMU_ANN_BOOT_TIMEOUT);
    const char *origin = "annotation " QEMU_ANN_BOOT_TIMEOUT;
    if (v == NULL) {
        v = getenv("CELLA_QEMU_BOOT_TIMEOUT");
        origin = "$CELLA_QEMU_BOOT_TIMEOUT";
    }
    *out = kvm ? 10 : 30;
    if (v == NULL || *v == '\0')
        return 0;
    long n;
    if (parse_long(v, &n) < 0 || n <= 0 || n > 3600)
        return cerr_set(err, 0, "%s: expected seconds (1-3600), got `%s`", origin, v);
    *out = (unsigned)n;
    return 0;
}

/* Everything but the network: programs, files, accelerator, size. */
static int config_host(struct vm_config *cfg, const struct spec *s, cerr_t *err)
{
    cfg->qemu = vm_find_program(QEMU_BINARY);
    if (cfg->qemu == NULL)
        return cerr_set(err, 0,
                        "qemu level: " QEMU_BINARY " not found (install qemu-system-x86: "
                        "scripts/deps.sh does)");
    cfg->kernel = find_guest_file("CELLA_KERNEL", "vmlinux", "guest kernel",
                                  "run `make kernel` to build it", err);
    if (cfg->kernel == NULL)
        return -1;
    cfg->initrd = find_guest_file("CELLA_AGENT_INITRD", "cella-agent.cpio", "guest agent initramfs",
                                  "run `make` to build it", err);
    if (cfg->initrd == NULL)
        return -1;
    cfg->kvm = host_has_kvm();
    cfg->tsc_khz = cfg->kvm ? 0 : host_tsc_khz();
    cfg->vcpus = spec_vcpus(&s->linux_.resources);
    cfg->mem_mib = spec_mem_mib(&s->linux_.resources);
    cfg->readonly = s->root.readonly;
    return boot_timeout(s, cfg->kvm, &cfg->boot_timeout_s, err);
}

int vm_config_check(const struct spec *s, cerr_t *err)
{
    struct vm_config cfg = {.tap_fd = -1};
    int r = config_host(&cfg, s, err);
    vm_config_free(&cfg);
    return r < 0 ? -1 : vm_net_check(s, err);
}

int vm_config_make(struct vm_config *cfg, const struct spec *s, cerr_t *err)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->tap_fd = -1;
    if (config_host(cfg, s, err) < 0 || vm_net_make(cfg, s, err) < 0) {
        vm_config_free(cfg);
        return -1;
    }
    return 0;
}

void vm_config_free(struct vm_config *cfg)
{
    free(cfg->qemu);
    free(cfg->kernel);
    free(cfg->initrd);
    free(cfg->image);
    free(cfg->hostfwd);
    free(cfg->guest_net);
    free(cfg->mac);
    free(cfg->netns);
    free(cfg->netns_dev);
    if (cfg->tap_fd >= 0)
        close(cfg->tap_fd);
    memset(cfg, 0, sizeof(*cfg));
    cfg->tap_fd = -1;
}

char **vm_config_annotations(const struct vm_config *cfg)
{
    char **v = calloc(7, sizeof(char *));
    if (v == NULL)
        abort();
    v[0] = xstrdup(QEMU_ANN_ACCEL);
    v[1] = xstrdup(cfg->kvm ? "kvm" : "tcg");
    v[2] = xstrdup(QEMU_ANN_VCPUS);
    v[3] = xasprintf("%u", cfg->vcpus);
    v[4] = xstrdup(QEMU_ANN_MEMORY);
    v[5] = xasprintf("%uM", cfg->mem_mib);
    return v;
}
