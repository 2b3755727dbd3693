/* The decision guide of `cella bench`: for each workload class, the runtime
 * to use among those measured, from their isolation boundaries and their
 * measured cold start, memory, latency and throughput.
 *
 * Each class names the boundary it calls for:
 *   untrusted multi-tenant code  hardware VM, else syscall interposition;
 *   CI runners                   hardware VM (isolation + full Linux);
 *   serverless short-lived tasks the strongest boundary (VM, then syscall
 *                                interposition) starting within
 *                                GUIDE_SERVERLESS_BUDGET_MS;
 *   trusted internal services    shared kernel, the least memory under load;
 *   plugins compiled to WASM     WASM sandbox.
 * When it is absent (not measured, or failed), the best available runtime is
 * recommended with the caveat, and `ideal` is false. */
#include <stdarg.h>
#include <string.h>

#include "report.h"
#include "report_util.h"

static const char *const workload_names[GUIDE_N] = {
    [W_UNTRUSTED] = "untrusted multi-tenant code",   [W_CI] = "CI runners",
    [W_SERVERLESS] = "serverless short-lived tasks", [W_TRUSTED] = "trusted internal services",
    [W_WASM] = "plugins compiled to WebAssembly",
};

/* A bounded string builder over a fixed array. */
struct sb {
    char *p;
    size_t size, len;
};

__attribute__((format(printf, 2, 3))) static void sb_add(struct sb *s, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (s->len + 1 >= s->size)
        return;
    va_start(ap, fmt);
    n = vsnprintf(s->p + s->len, s->size - s->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    s->len = s->len + (size_t)n >= s->size ? s->size - 1 : s->len + (size_t)n;
}

static void sb_name(struct sb *s, const struct runtime_result *x)
{
    if (s->len + 1 >= s->size)
        return;
    s->len += rep_clean(s->p + s->len, s->size - s->len, x->name, sizeof(x->name), false);
}

#define SB(arr) ((struct sb){(arr), sizeof(arr), strlen(arr)})

enum key { K_COLD, K_MEM_IDLE, K_MEM_LOAD };

static double keyval(const struct runtime_result *x, enum key k)
{
    switch (k) {
    case K_COLD:
        return x->cold_ms.median;
    case K_MEM_IDLE:
        return (double)rep_pss_idle(x);
    case K_MEM_LOAD:
        return (double)rep_pss_load(x);
    }
    return 0;
}

/* a before b by key k: measured (> 0) before not measured, then lower, then
 * the lower cold start. */
static bool better(const struct runtime_result *a, const struct runtime_result *b, enum key k)
{
    double ka = keyval(a, k), kb = keyval(b, k);
    bool ha = ka > 0, hb = kb > 0;

    if (ha != hb)
        return ha;
    if (ha && ka != kb)
        return ka < kb;
    return k != K_COLD && better(a, b, K_COLD);
}

#define ANY       (-1) /* any boundary */
#define CONTAINER (-2) /* any but B_WASM_SANDBOX */
#define NO_LIMIT  0.0

static bool in(const struct runtime_result *x, int b)
{
    if (x->boundary == B_NONE) /* the bare process is the floor, not a choice */
        return false;
    return b == ANY || (b == CONTAINER && x->boundary != B_WASM_SANDBOX) || (int)x->boundary == b;
}

/* The ok runtime of boundary b (ANY, CONTAINER) whose median cold start is
 * within max_cold_ms (NO_LIMIT) that is best by key k, or -1. */
static int pick(const struct bench_report *r, int b, enum key k, double max_cold_ms)
{
    int best = -1;

    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        if (!x->ok || !in(x, b))
            continue;
        if (max_cold_ms > 0 && !(x->cold_ms.median > 0 && x->cold_ms.median <= max_cold_ms))
            continue;
        if (best < 0 || better(x, &r->rt[best], k))
            best = (int)i;
    }
    return best;
}

static size_t count_ok(const struct bench_report *r, int b)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n_rt; i++)
        n += r->rt[i].ok && in(&r->rt[i], b);
    return n;
}

/* " (NAME and NAME failed)" for the failed runtimes of boundary b. */
static void add_failed(struct sb *s, const struct bench_report *r, int b)
{
    size_t n = 0, total = 0;

    for (size_t i = 0; i < r->n_rt; i++)
        total += !r->rt[i].ok && in(&r->rt[i], b);
    if (total == 0)
        return;
    sb_add(s, " (");
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        if (x->ok || !in(x, b))
            continue;
        if (n > 0)
            sb_add(s, n + 1 == total ? " and " : ", ");
        sb_name(s, x);
        n++;
    }
    sb_add(s, " %s", total == 1 ? "was tried but failed" : "were tried but failed");
    if (total == 1) { /* its error, when short: "not installed" */
        for (size_t i = 0; i < r->n_rt; i++) {
            const struct runtime_result *x = &r->rt[i];
            char e[REP_STR_MAX];
            if (x->ok || !in(x, b))
                continue;
            REP_FIELD(e, x->error);
            if (*e && strlen(e) <= 48)
                sb_add(s, ": %s", e);
        }
    }
    sb_add(s, ")");
}

/* " (2.6x NAME)" or " (SELF)" for x's key against runtime ref. */
static void add_ratio(struct sb *s, const struct bench_report *r, const struct runtime_result *x,
                      int ref, enum key k, const char *self)
{
    double a = keyval(x, k), b;

    if (ref < 0)
        return;
    if (&r->rt[ref] == x) {
        if (count_ok(r, CONTAINER) > 1)
            sb_add(s, " (%s)", self);
        return;
    }
    b = keyval(&r->rt[ref], k);
    if (!(a > 0 && b > 0))
        return;
    sb_add(s, " (%.1fx ", a / b);
    sb_name(s, &r->rt[ref]);
    sb_add(s, ")");
}

/* "NAME starts in 52.0 ms (2.6x runc) and uses 18.0 MiB PSS idle (2.6x
 * runc)": the ratios against the fastest and the leanest container runtime
 * (WASM runtimes run other code, they are no baseline). */
static void add_figures(struct sb *s, const struct bench_report *r, const struct runtime_result *x)
{
    char v[48];
    int fastest = pick(r, CONTAINER, K_COLD, NO_LIMIT);
    int leanest = pick(r, CONTAINER, K_MEM_IDLE, NO_LIMIT);
    bool cold = x->cold_ms.median > 0, mem = rep_pss_idle(x) > 0;

    sb_name(s, x);
    if (cold) {
        sb_add(s, " starts in %s", rep_ms(v, sizeof(v), x->cold_ms.median));
        add_ratio(s, r, x, fastest, K_COLD, "the fastest container runtime measured");
    }
    if (mem) {
        sb_add(s, "%s uses %s PSS idle", cold ? " and" : "",
               rep_kib(v, sizeof(v), rep_pss_idle(x)));
        add_ratio(s, r, x, leanest, K_MEM_IDLE, "the least of the container runtimes");
    }
    if (!cold && !mem)
        sb_add(s, " has no cold-start or memory figure");
}

static void set_pick(struct guide_item *it, const struct runtime_result *x, bool ideal,
                     const char *caveat)
{
    struct sb rec = SB(it->recommendation);

    rep_clean(it->runtime, sizeof(it->runtime), x->name, sizeof(x->name), false);
    it->ideal = ideal;
    sb_name(&rec, x);
    if (caveat)
        sb_add(&rec, " (%s)", caveat);
}

static void untrusted(const struct bench_report *r, struct guide_item *it)
{
    struct sb s = SB(it->reason);
    int vm = pick(r, B_HARDWARE_VM, K_COLD, NO_LIMIT);
    int gv = pick(r, B_SYSCALL_INTERPOSITION, K_COLD, NO_LIMIT);
    int sk = pick(r, B_SHARED_KERNEL, K_COLD, NO_LIMIT);
    int wa = pick(r, B_WASM_SANDBOX, K_COLD, NO_LIMIT);

    if (vm >= 0) {
        const struct runtime_result *x = &r->rt[vm];
        set_pick(it, x, true, NULL);
        sb_add(&s, "A hardware VM gives each tenant its own guest kernel, so a kernel exploit "
                   "stays in the guest. ");
        add_figures(&s, r, x);
        if (count_ok(r, B_HARDWARE_VM) > 1)
            sb_add(&s, "; it starts fastest of the %zu hardware-VM runtimes measured",
                   count_ok(r, B_HARDWARE_VM));
        sb_add(&s, ".");
        if (sk >= 0 && x->cold_ms.median > 0 && r->rt[sk].cold_ms.median > 0) {
            sb_add(&s, " The isolation costs %.1fx the cold start",
                   x->cold_ms.median / r->rt[sk].cold_ms.median);
            if (rep_pss_idle(x) && rep_pss_idle(&r->rt[sk]))
                sb_add(&s, " and %.1fx the memory",
                       (double)rep_pss_idle(x) / (double)rep_pss_idle(&r->rt[sk]));
            sb_add(&s, " of ");
            sb_name(&s, &r->rt[sk]);
            sb_add(&s, " (shared kernel).");
        }
        return;
    }
    sb_add(&s, "No hardware-VM runtime was measured");
    add_failed(&s, r, B_HARDWARE_VM);
    if (gv >= 0) {
        const struct runtime_result *x = &r->rt[gv];
        set_pick(it, x, false, "best available: no hardware VM measured");
        sb_add(&s, ". ");
        sb_name(&s, x);
        sb_add(&s, " puts a user-space kernel between the tenant and the host: a much smaller "
                   "attack surface than a shared kernel, but one host kernel is still beneath "
                   "every tenant. ");
        add_figures(&s, r, x);
        sb_add(&s, ". Measure a VM runtime (Kata, Firecracker, cella vm) before running hostile "
                   "code.");
    } else if (sk >= 0) {
        const struct runtime_result *x = &r->rt[sk];
        set_pick(it, x, false, "best available: shared kernel, not for hostile code");
        sb_add(&s, ", and no syscall-interposition runtime either");
        add_failed(&s, r, B_SYSCALL_INTERPOSITION);
        sb_add(&s, ". ");
        sb_name(&s, x);
        sb_add(&s, " shares the host kernel (namespaces, cgroups, seccomp): one kernel bug lets "
                   "a tenant out. Use it only for tenants you trust; measure a VM runtime (Kata, "
                   "Firecracker, cella vm) or gVisor for this class. ");
        add_figures(&s, r, x);
        sb_add(&s, ".");
    } else if (wa >= 0) {
        const struct runtime_result *x = &r->rt[wa];
        set_pick(it, x, false, "best available: only for code compiled to WebAssembly");
        sb_add(&s, "; only a WASM sandbox was. It is a strong boundary, but only for code "
                   "compiled to WebAssembly. ");
        add_figures(&s, r, x);
        sb_add(&s, ".");
    }
}

static void ci(const struct bench_report *r, struct guide_item *it)
{
    struct sb s = SB(it->reason);
    int vm = pick(r, B_HARDWARE_VM, K_COLD, NO_LIMIT);
    int gv = pick(r, B_SYSCALL_INTERPOSITION, K_COLD, NO_LIMIT);
    int sk = pick(r, B_SHARED_KERNEL, K_COLD, NO_LIMIT);
    int wa = pick(r, B_WASM_SANDBOX, K_COLD, NO_LIMIT);

    if (vm >= 0) {
        set_pick(it, &r->rt[vm], true, NULL);
        sb_add(&s, "CI jobs run code from pull requests and need a full Linux kernel (builds, "
                   "Docker-in-Docker, ptrace, FUSE); a hardware VM gives both. ");
        add_figures(&s, r, &r->rt[vm]);
        sb_add(&s, ". Against jobs of minutes the cold start is noise; memory decides how many "
                   "runners fit on a host.");
        return;
    }
    sb_add(&s, "No hardware-VM runtime was measured");
    add_failed(&s, r, B_HARDWARE_VM);
    sb_add(&s, ". ");
    if (gv >= 0) {
        set_pick(it, &r->rt[gv], false, "best available: no hardware VM measured");
        sb_name(&s, &r->rt[gv]);
        sb_add(&s, " keeps job code off the host kernel, but its syscall coverage can break "
                   "build tools: check your toolchain under it. ");
        add_figures(&s, r, &r->rt[gv]);
        sb_add(&s, ".");
    } else if (sk >= 0) {
        set_pick(it, &r->rt[sk], false, "best available: trusted branches only");
        sb_name(&s, &r->rt[sk]);
        sb_add(&s, " gives full compatibility at the lowest cost, but a job can reach the host "
                   "kernel: run trusted branches on it, not pull requests from forks. ");
        add_figures(&s, r, &r->rt[sk]);
        sb_add(&s, ".");
    } else if (wa >= 0) {
        set_pick(it, &r->rt[wa], false, "best available: only for jobs compiled to WebAssembly");
        sb_add(&s, "Only a WASM sandbox was measured, and CI jobs need a Linux userland. ");
        add_figures(&s, r, &r->rt[wa]);
        sb_add(&s, ".");
    }
}

/* "NAME (hardware VM) 500 ms, ..." for each ok isolating runtime over the
 * serverless budget; s NULL: only counts them. */
static size_t add_over_budget(struct sb *s, const struct bench_report *r)
{
    char v[48];
    size_t n = 0;

    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        if (!x->ok || (x->boundary != B_HARDWARE_VM && x->boundary != B_SYSCALL_INTERPOSITION))
            continue;
        if (x->cold_ms.median > 0 && x->cold_ms.median <= GUIDE_SERVERLESS_BUDGET_MS)
            continue;
        if (!s) {
            n++;
            continue;
        }
        sb_add(s, "%s", n++ ? ", " : "");
        sb_name(s, x);
        sb_add(s, " (%s) %s", boundary_name(x->boundary), rep_ms(v, sizeof(v), x->cold_ms.median));
    }
    return n;
}

static void serverless(const struct bench_report *r, struct guide_item *it)
{
    struct sb s = SB(it->reason);
    char v[48];
    const double budget = GUIDE_SERVERLESS_BUDGET_MS;
    int p = pick(r, B_HARDWARE_VM, K_COLD, budget);
    int wa = pick(r, B_WASM_SANDBOX, K_COLD, NO_LIMIT);

    if (p < 0)
        p = pick(r, B_SYSCALL_INTERPOSITION, K_COLD, budget);
    if (p >= 0) {
        const struct runtime_result *x = &r->rt[p];
        set_pick(it, x, true, NULL);
        sb_add(&s,
               "Short tasks pay the cold start on every invocation and are packed densely, "
               "often for many tenants: the %s of ",
               boundary_name(x->boundary));
        sb_name(&s, x);
        sb_add(&s, " is the strongest boundary measured that starts within the %.0f ms budget. ",
               budget);
        add_figures(&s, r, x);
        sb_add(&s, ".");
        if (add_over_budget(NULL, r) > 0) {
            sb_add(&s, " Over the budget: ");
            add_over_budget(&s, r);
            sb_add(&s, ".");
        }
    } else {
        p = pick(r, B_SHARED_KERNEL, K_COLD, NO_LIMIT);
        if (p < 0)
            p = pick(r, ANY, K_COLD, NO_LIMIT);
        const struct runtime_result *x = &r->rt[p];
        set_pick(it, x, false, "best available: no isolating runtime within budget");
        sb_add(&s,
               "No hardware-VM or syscall-interposition runtime started within the %.0f ms "
               "budget: ",
               budget);
        if (add_over_budget(&s, r) == 0) {
            sb_add(&s, "none was measured");
            add_failed(&s, r, B_HARDWARE_VM);
            add_failed(&s, r, B_SYSCALL_INTERPOSITION);
        }
        sb_add(&s, ". ");
        add_figures(&s, r, x);
        if (x->boundary == B_SHARED_KERNEL)
            sb_add(&s, "; it shares the host kernel, so run only your own functions on it, or "
                       "keep VMs pre-started.");
        else
            sb_add(&s, "; its boundary is a %s.", boundary_name(x->boundary));
    }
    if (wa >= 0 && wa != p && r->rt[wa].cold_ms.median > 0) {
        sb_add(&s, " Functions compiled to WebAssembly start in %s on ",
               rep_ms(v, sizeof(v), r->rt[wa].cold_ms.median));
        sb_name(&s, &r->rt[wa]);
        sb_add(&s, ".");
    }
}

/* Among the ok runtimes of boundary b (ANY): the least PSS under load; the
 * runtimes within 5 % of it are a tie, broken by the highest throughput. */
static int pick_service(const struct bench_report *r, int b)
{
    int lean = pick(r, b, K_MEM_LOAD, NO_LIMIT), best = lean;
    double limit;

    if (lean < 0 || rep_pss_load(&r->rt[lean]) == 0)
        return lean;
    limit = (double)rep_pss_load(&r->rt[lean]) * 1.05;
    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        if (!x->ok || !in(x, b) || rep_pss_load(x) == 0 || (double)rep_pss_load(x) > limit)
            continue;
        if (x->thr_c10.rps > r->rt[best].thr_c10.rps)
            best = (int)i;
    }
    return best;
}

static void trusted(const struct bench_report *r, struct guide_item *it)
{
    struct sb s = SB(it->reason);
    char v1[48], v2[48], v3[48], v4[48];
    int p = pick_service(r, B_SHARED_KERNEL);
    const struct runtime_result *x;

    if (p >= 0) {
        x = &r->rt[p];
        set_pick(it, x, true, NULL);
        sb_add(&s, "Trusted code needs no boundary beyond namespaces, cgroups and seccomp, and a "
                   "long-running service pays memory and per-request cost, not start-up. ");
    } else {
        p = pick_service(r, B_SYSCALL_INTERPOSITION);
        if (p < 0)
            p = pick_service(r, B_HARDWARE_VM);
        if (p < 0)
            p = pick_service(r, ANY);
        x = &r->rt[p];
        set_pick(it, x, false, "best available: no shared-kernel runtime measured");
        sb_add(&s, "No shared-kernel runtime was measured");
        add_failed(&s, r, B_SHARED_KERNEL);
        sb_add(&s, "; ");
        sb_name(&s, x);
        sb_add(&s, " (%s) works but pays for isolation this class does not need. ",
               boundary_name(x->boundary));
    }
    sb_name(&s, x);
    sb_add(&s,
           " uses %s PSS under load, answers in %s p50 / %s p99 at concurrency 1 and serves "
           "%s req/s at concurrency 10.",
           rep_kib(v1, sizeof(v1), rep_pss_load(x)), rep_ns_ms(v2, sizeof(v2), x->lat_c1.p50_ns),
           rep_ns_ms(v3, sizeof(v3), x->lat_c1.p99_ns), rep_rps(v4, sizeof(v4), x->thr_c10.rps));

    /* How far apart the runtimes of its boundary are. */
    uint64_t lo = 0, hi = 0;
    size_t same = 0;
    for (size_t i = 0; i < r->n_rt; i++) {
        uint64_t m = rep_pss_load(&r->rt[i]);
        if (!r->rt[i].ok || r->rt[i].boundary != x->boundary || m == 0)
            continue;
        lo = same == 0 || m < lo ? m : lo;
        hi = m > hi ? m : hi;
        same++;
    }
    if (same > 1)
        sb_add(&s, " The %zu %s runtimes are within %.0f %% of each other in memory under load.",
               same, boundary_name(x->boundary), 100.0 * (double)(hi - lo) / (double)lo);

    /* What the other boundaries would cost in memory. */
    static const enum boundary others[] = {B_SHARED_KERNEL, B_SYSCALL_INTERPOSITION, B_HARDWARE_VM};
    size_t n = 0;
    for (size_t k = 0; k < sizeof(others) / sizeof(others[0]); k++) {
        int o = pick(r, (int)others[k], K_MEM_LOAD, NO_LIMIT);
        if (o < 0 || o == p || others[k] == x->boundary || !rep_pss_load(&r->rt[o]) ||
            !rep_pss_load(x))
            continue;
        sb_add(&s, "%s", n++ ? ", " : " Under load, ");
        sb_name(&s, &r->rt[o]);
        sb_add(&s, " (%s) takes %.1fx that memory", boundary_name(others[k]),
               (double)rep_pss_load(&r->rt[o]) / (double)rep_pss_load(x));
    }
    if (n)
        sb_add(&s, ".");
}

static void wasm(const struct bench_report *r, struct guide_item *it)
{
    struct sb s = SB(it->reason);
    char v[48];
    int wa = pick(r, B_WASM_SANDBOX, K_COLD, NO_LIMIT);
    int ct = pick(r, B_SYSCALL_INTERPOSITION, K_COLD, NO_LIMIT);

    if (wa >= 0) {
        const struct runtime_result *x = &r->rt[wa];
        set_pick(it, x, true, NULL);
        sb_add(&s, "A WASM sandbox gives a plugin no syscalls, only the host functions it is "
                   "granted, and is cheap enough to start per call. ");
        add_figures(&s, r, x);
        sb_add(&s, ".");
        int fc = -1;
        for (size_t i = 0; i < r->n_rt; i++)
            if (r->rt[i].ok && in(&r->rt[i], CONTAINER) && r->rt[i].cold_ms.median > 0 &&
                (fc < 0 || r->rt[i].cold_ms.median < r->rt[fc].cold_ms.median))
                fc = (int)i;
        if (fc >= 0) {
            sb_add(&s, " The fastest container runtime, ");
            sb_name(&s, &r->rt[fc]);
            sb_add(&s, ", takes %s.", rep_ms(v, sizeof(v), r->rt[fc].cold_ms.median));
        }
        return;
    }
    if (ct < 0)
        ct = pick(r, B_SHARED_KERNEL, K_COLD, NO_LIMIT);
    if (ct < 0)
        ct = pick(r, ANY, K_COLD, NO_LIMIT);
    set_pick(it, &r->rt[ct], false, "best available: no WASM runtime measured");
    sb_add(&s, "No WASM runtime was measured");
    add_failed(&s, r, B_WASM_SANDBOX);
    sb_add(&s, ". Plugins compiled to WebAssembly are best run by a WASM engine (wasmtime, "
               "cella wasm), in or beside the host. As containers, ");
    add_figures(&s, r, &r->rt[ct]);
    sb_add(&s, " per plugin, behind a %s.", boundary_name(r->rt[ct].boundary));
}

size_t guide_build(const struct bench_report *r, struct guide_item out[GUIDE_N])
{
    static void (*const fill[GUIDE_N])(const struct bench_report *, struct guide_item *) = {
        [W_UNTRUSTED] = untrusted, [W_CI] = ci,     [W_SERVERLESS] = serverless,
        [W_TRUSTED] = trusted,     [W_WASM] = wasm,
    };

    for (size_t i = 0; i < GUIDE_N; i++) {
        struct guide_item *it = &out[i];
        memset(it, 0, sizeof(*it));
        snprintf(it->workload, sizeof(it->workload), "%s", workload_names[i]);
        if (count_ok(r, ANY) == 0) {
            struct sb s = SB(it->reason);
            snprintf(it->recommendation, sizeof(it->recommendation), "none");
            sb_add(&s, "No runtime was measured successfully");
            add_failed(&s, r, ANY);
            sb_add(&s, ".");
        } else {
            fill[i](r, it);
        }
        rep_utf8_trim(it->recommendation);
        rep_utf8_trim(it->reason);
    }
    return GUIDE_N;
}
