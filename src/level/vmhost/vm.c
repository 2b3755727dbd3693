/* The VM's configuration: guest files, size, network; the VMM's part is
 * the backend's. */
#define _GNU_SOURCE
#include "level/vmhost/vm.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/self_exe.h"
#include "core/util.h"
#include "level/vmhost/tap.h"

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
static char *find_guest_file(const struct vm_backend *b, const char *env, const char *name,
                             const char *what, const char *how, cerr_t *err)
{
    const char *e = getenv(env);
    if (e != NULL && *e) {
        if (access(e, R_OK) == 0)
            return xstrdup(e);
        return cerr_set(err, errno, "%s level: %s `%s` (from $%s)", b->level, what, e, env), NULL;
    }
    char exe[PATH_MAX];
    snprintf(exe, sizeof(exe), "%s", self_exe_path());
    autofree char *beside = xasprintf("%s/%s", exe[0] ? dirname(exe) : ".", name);
    if (access(beside, R_OK) == 0)
        return realpath(beside, NULL);
    autofree char *lib = xasprintf(LIB_DIR "/%s", name);
    if (access(lib, R_OK) == 0)
        return xstrdup(lib);
    cerr_set(err, 0, "%s level: no %s: tried %s, %s and $%s (%s)", b->level, what, beside, lib, env,
             how);
    return NULL;
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

char *vm_annotation(const struct vm_backend *b, const char *name)
{
    return xasprintf("%s%s", b->annotation_prefix, name);
}

/* The level's annotation NAME, else $PREFIX_NAME (upper case, '_' for '-'). */
static const char *setting(const struct vm_backend *b, const struct spec *s, const char *name,
                           char **origin)
{
    autofree char *ann = vm_annotation(b, name);
    const char *v = spec_annotation(s, ann);
    if (v != NULL) {
        *origin = xasprintf("annotation %s", ann);
        return v;
    }
    char *env = xasprintf("%s%s", b->env_prefix, name);
    for (char *c = env + strlen(b->env_prefix); *c; c++)
        *c = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
    *origin = xasprintf("$%s", env);
    v = getenv(env);
    free(env);
    return v;
}

/* The backend's default unless the annotation or environment says. */
static int boot_timeout(const struct vm_backend *b, const struct spec *s, unsigned *out,
                        cerr_t *err)
{
    autofree char *origin = NULL;
    const char *v = setting(b, s, "boot-timeout", &origin);
    if (v == NULL || *v == '\0')
        return 0;
    long n;
    if (parse_long(v, &n) < 0 || n <= 0 || n > 3600)
        return cerr_set(err, 0, "%s: expected seconds (1-3600), got `%s`", origin, v);
    *out = (unsigned)n;
    return 0;
}

/* A named network namespace: a tap in it (tap.h); else the VMM's own. */
static int net_make(struct vm_config *cfg, const struct spec *s, cerr_t *err)
{
    const struct spec_namespace *ns = &s->linux_.ns[NS_NETWORK];
    const char *nspath = ns->present ? ns->path : NULL;
    if (cfg->backend->user_net(cfg, s, nspath, err) < 0)
        return -1;
    if (nspath == NULL) {
        cfg->hooked_netns =
            ns->present && (s->hooks[HOOK_PRESTART].n > 0 || s->hooks[HOOK_CREATE_RUNTIME].n > 0);
        return 0;
    }
    if (vm_tap_make(cfg, nspath, &cfg->netns_dev, err) < 0)
        return -1;
    cfg->netns = xstrdup(nspath);
    return 0;
}

/* What net_make would refuse, without making the tap. */
static int net_check(struct vm_config *cfg, const struct spec *s, cerr_t *err)
{
    const struct spec_namespace *ns = &s->linux_.ns[NS_NETWORK];
    const char *nspath = ns->present ? ns->path : NULL;
    if (cfg->backend->user_net(cfg, s, nspath, err) < 0)
        return -1;
    if (nspath != NULL && access(nspath, R_OK) < 0)
        return cerr_set(err, errno, "linux.namespaces: network namespace `%s`", nspath);
    return 0;
}

/* Everything but the network: the VMM, guest files, size, boot timeout. */
static int config_host(struct vm_config *cfg, const struct spec *s, cerr_t *err)
{
    const struct vm_backend *b = cfg->backend;
    /* The sizes first: the backend may refuse what it cannot give. */
    cfg->vcpus = spec_vcpus(&s->linux_.resources);
    cfg->mem_mib = spec_mem_mib(&s->linux_.resources);
    cfg->readonly = s->root.readonly;
    if (b->configure(cfg, s, err) < 0)
        return -1;
    cfg->kernel = find_guest_file(b, "CELLA_KERNEL", "vmlinux", "guest kernel",
                                  "run `make kernel` to build it", err);
    if (cfg->kernel == NULL)
        return -1;
    cfg->initrd = find_guest_file(b, "CELLA_AGENT_INITRD", "cella-agent.cpio",
                                  "guest agent initramfs", "run `make` to build it", err);
    if (cfg->initrd == NULL)
        return -1;
    return boot_timeout(b, s, &cfg->boot_timeout_s, err);
}

int vm_config_check(const struct vm_backend *b, const struct spec *s, cerr_t *err)
{
    struct vm_config cfg = {.backend = b, .tap_fd = -1};
    int r = config_host(&cfg, s, err) < 0 || net_check(&cfg, s, err) < 0 ? -1 : 0;
    vm_config_free(&cfg);
    return r;
}

int vm_config_make(struct vm_config *cfg, const struct vm_backend *b, const struct spec *s,
                   cerr_t *err)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->backend = b;
    cfg->tap_fd = -1;
    if (config_host(cfg, s, err) < 0 || net_make(cfg, s, err) < 0) {
        vm_config_free(cfg);
        return -1;
    }
    return 0;
}

void vm_config_free(struct vm_config *cfg)
{
    if (cfg->backend != NULL && cfg->vmm != NULL)
        cfg->backend->release(cfg);
    free(cfg->kernel);
    free(cfg->initrd);
    free(cfg->image);
    free(cfg->guest_net);
    free(cfg->mac);
    free(cfg->netns);
    free(cfg->netns_dev);
    if (cfg->tap_fd >= 0)
        close(cfg->tap_fd);
    memset(cfg, 0, sizeof(*cfg));
    cfg->tap_fd = -1;
}

bool vm_host_vmx_svm(void)
{
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

char *vm_agent_words(const struct vm_config *cfg)
{
    return xasprintf("cella.root=/dev/vda cella.rootfstype=%s%s %s", cfg->fstype,
                     cfg->readonly ? " cella.readonly=1" : "", cfg->guest_net);
}

char **vm_config_annotations(const struct vm_config *cfg)
{
    char **v = calloc(7, sizeof(char *));
    if (v == NULL)
        abort();
    v[0] = vm_annotation(cfg->backend, "accel");
    v[1] = xstrdup(cfg->backend->accel(cfg));
    v[2] = vm_annotation(cfg->backend, "vcpus");
    v[3] = xasprintf("%u", cfg->vcpus);
    v[4] = vm_annotation(cfg->backend, "memory");
    v[5] = xasprintf("%uM", cfg->mem_mib);
    return v;
}
