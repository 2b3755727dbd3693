/* The report writers of `cella bench` (text, JSON, Markdown, HTML) and the
 * decision guide, on made-up reports.
 *
 *   test_report                          run the tests (TAP)
 *   test_report --demo-html FILE         write the HTML of the main fake report
 *   test_report --demo FORMAT SET FILE   FORMAT: text json md html;
 *                                        SET: fake article empty ("-": stdout) */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "report.h"
#include "report_util.h"
#include "unit.h"

/* report_json with its error's message in a buffer ("" when none). */
static int rj(const struct bench_report *r, const char *path, char *buf, size_t len)
{
    cerr_t err = NULL;
    int rc = report_json(r, path, &err);
    snprintf(buf, len, "%s", err ? cerr_msg(err) : "");
    cerr_free(&err);
    return rc;
}

#define RUNSC_ERR  "runsc create: exit status 1: <sandbox> failed & \"gofer\" | pipe"
#define UBUNTU_ERR "pull ubuntu: <offline> & 'retry' | later"

static struct runtime_result fake_rt[5];
static struct image_size fake_img[3];
static struct bench_report fake;

static void set_env(struct bench_report *r)
{
    snprintf(r->env.cpu_model, sizeof(r->env.cpu_model), "AMD EPYC 7B13 64-Core Processor");
    r->env.cores = 2;
    snprintf(r->env.kernel, sizeof(r->env.kernel), "6.1.0-28-amd64");
    snprintf(r->env.virt, sizeof(r->env.virt), "hardware KVM");
    snprintf(r->env.date, sizeof(r->env.date), "2025-11-27T01:30:00Z");
    r->runs = 20;
    r->rounds = 5;
    r->warmup_s = 0.5;
    r->duration_s = 10.0;
    r->quick = false;
}

/* Five samples around a median, the interval of the median min..max. */
static void set_spread(struct summary *x, double median, double rel)
{
    *x = (struct summary){.n = 5,
                          .min = median * (1 - rel),
                          .median = median,
                          .p95 = median * (1 + rel),
                          .max = median * (1 + rel),
                          .mean = median,
                          .ci_lo = median * (1 - rel),
                          .ci_hi = median * (1 + rel),
                          .ci_level = 0.9375};
}

/* An ok runtime: cold median (ms), PSS idle (KiB), p50 latency (ns), req/s. */
static void set_rt(struct runtime_result *x, const char *name, enum boundary b, double cold,
                   uint64_t pss, uint64_t p50, double rps)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->name, sizeof(x->name), "%s", name);
    snprintf(x->version, sizeof(x->version), "%s version 1.2.3", name);
    x->boundary = b;
    x->ok = true;
    x->runs_ok = x->runs = 20;
    x->cold_ms = (struct summary){.n = 20,
                                  .min = cold * 0.9,
                                  .median = cold,
                                  .p95 = cold * 1.2,
                                  .max = cold * 1.4,
                                  .mean = cold * 1.05};
    x->teardown_ms = (struct summary){.n = 20,
                                      .min = cold / 3,
                                      .median = cold / 2,
                                      .p95 = cold / 1.5,
                                      .max = cold,
                                      .mean = cold / 2};
    x->lat_c1 = (struct load_result){.requests = 100000,
                                     .seconds = 10.0,
                                     .rps = 1e10 / (double)p50,
                                     .p50_ns = p50,
                                     .p99_ns = p50 * 3,
                                     .p999_ns = p50 * 6,
                                     .max_ns = p50 * 20};
    x->thr_c10 = (struct load_result){.requests = (uint64_t)(rps * 10),
                                      .seconds = 10.0,
                                      .rps = rps,
                                      .p50_ns = p50 * 4,
                                      .p99_ns = p50 * 12,
                                      .p999_ns = p50 * 30,
                                      .max_ns = p50 * 80};
    x->rounds_ok = x->rounds = 5;
    set_spread(&x->rps_c10, rps, 0.03);
    set_spread(&x->lat_p50_ms, (double)p50 / 1e6, 0.05);
    set_spread(&x->lat_p99_ms, (double)p50 * 3 / 1e6, 0.1);
    for (int i = 0; i < 5; i++) {
        x->round_rps[i] = rps * (0.98 + 0.01 * i);
        x->round_lat_p50_ms[i] = (double)p50 / 1e6;
    }
    x->cold_ms.ci_lo = x->cold_ms.min;
    x->cold_ms.ci_hi = x->cold_ms.p95;
    x->cold_ms.ci_level = 0.96;
    x->mem_idle = (struct mem_usage){.pss_kb = pss, .rss_kb = pss + 2048, .nprocs = 1};
    x->mem_load = (struct mem_usage){.pss_kb = pss + 512, .rss_kb = pss + 2560, .nprocs = 1};
}

static void set_failed(struct runtime_result *x, const char *name, enum boundary b, const char *err)
{
    memset(x, 0, sizeof(*x));
    snprintf(x->name, sizeof(x->name), "%s", name);
    snprintf(x->version, sizeof(x->version), "%s version 20250101", name);
    x->boundary = b;
    x->ok = false;
    x->runs = 20;
    snprintf(x->error, sizeof(x->error), "%s", err);
}

static void set_img(struct image_size *m, const char *name, unsigned long long rootfs,
                    unsigned long long gz, const char *err)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "%s", name);
    m->ok = err == NULL;
    if (err)
        snprintf(m->error, sizeof(m->error), "%s", err);
    m->rootfs_bytes = rootfs;
    m->layer_gz_bytes = gz;
}

/* 4 runtimes (runsc failed) and the bare process, 3 images (ubuntu failed).
 * Against the bare process: crun's median ratio is under 0.90 but its
 * interval is not (a note), runc's whole interval is (a flag). */
static void make_fake(void)
{
    memset(&fake, 0, sizeof(fake));
    set_env(&fake);
    set_rt(&fake_rt[0], "cella-container", B_SHARED_KERNEL, 18.4, 6900, 85000, 45678.9);
    set_rt(&fake_rt[1], "crun", B_SHARED_KERNEL, 20.1, 7100, 90000, 44000);
    set_rt(&fake_rt[2], "runc", B_SHARED_KERNEL, 24.9, 7300, 95000, 43000);
    fake_rt[2].runs_ok = 19;
    snprintf(fake_rt[2].error, sizeof(fake_rt[2].error), "run 7: no HTTP 200 within 10 s");
    fake_rt[2].thr_c10.errors = 3;
    set_failed(&fake_rt[3], "runsc", B_SYSCALL_INTERPOSITION, RUNSC_ERR);
    set_rt(&fake_rt[4], "bare", B_NONE, 1.2, 80, 80000, 48000);
    set_spread(&fake_rt[0].rps_vs_bare, 0.97, 0.02);
    set_spread(&fake_rt[1].rps_vs_bare, 0.88, 0.06);
    set_spread(&fake_rt[2].rps_vs_bare, 0.84, 0.03);
    set_img(&fake_img[0], "distroless", 3145728, 1258291, NULL);
    set_img(&fake_img[1], "alpine", 18874368, 7340032, NULL);
    set_img(&fake_img[2], "ubuntu", 0, 0, UBUNTU_ERR);
    fake.rt = fake_rt;
    fake.n_rt = 5;
    fake.img = fake_img;
    fake.n_img = 3;
}

/* The article's runtimes: runc 20 ms / 7 MB, gVisor 50 / 18, Firecracker
 * 125 / 28, Kata 500 / 52, plus a WASM runtime. */
static struct runtime_result art_rt[5];
static struct bench_report article;

static void make_article(void)
{
    memset(&article, 0, sizeof(article));
    set_env(&article);
    set_rt(&art_rt[0], "runc", B_SHARED_KERNEL, 20, 7 * 1024, 80000, 40000);
    set_rt(&art_rt[1], "runsc", B_SYSCALL_INTERPOSITION, 50, 18 * 1024, 150000, 20000);
    set_rt(&art_rt[2], "firecracker", B_HARDWARE_VM, 125, 28 * 1024, 120000, 30000);
    set_rt(&art_rt[3], "kata-qemu", B_HARDWARE_VM, 500, 52 * 1024, 130000, 28000);
    set_rt(&art_rt[4], "wasmtime", B_WASM_SANDBOX, 5, 4 * 1024, 60000, 50000);
    article.rt = art_rt;
    article.n_rt = 5;
    article.img = fake_img;
    article.n_img = 2;
}

/* The output of a writer as a malloc'd string; *rc its return value. */
static char *capture(int (*w)(FILE *, const struct bench_report *), const struct bench_report *r,
                     int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    *rc = w(f, r);
    fclose(f);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Lines of s that start with prefix. */
static size_t count_lines(const char *s, const char *prefix)
{
    size_t n = 0, len = strlen(prefix);

    for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += strncmp(p, prefix, len) == 0;
    return n;
}

static const char *const workloads[GUIDE_N] = {
    "untrusted multi-tenant code",     "CI runners",
    "serverless short-lived tasks",    "trusted internal services",
    "plugins compiled to WebAssembly",
};

static void test_text(void)
{
    int rc = -1;
    char *s = capture(report_text, &fake, &rc);

    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(rc == 0);
    for (size_t i = 0; i < fake.n_rt; i++)
        CHECK(strstr(s, fake.rt[i].name) != NULL);
    CHECK(strstr(s, RUNSC_ERR) != NULL);
    CHECK(strstr(s, UBUNTU_ERR) != NULL);
    CHECK(strstr(s, "AMD EPYC 7B13") != NULL);
    CHECK(strstr(s, "2 cores") != NULL);
    CHECK(strstr(s, "6.1.0-28-amd64") != NULL);
    CHECK(strstr(s, "hardware KVM") != NULL);
    CHECK(strstr(s, "2025-11-27T01:30:00Z") != NULL);
    CHECK(strstr(s, "18.4 ms") != NULL); /* cella-container cold median */
    CHECK(strstr(s, "6.7 MiB") != NULL); /* 6900 KiB */
    CHECK(strstr(s, "3.0 MiB") != NULL); /* distroless */
    CHECK(strstr(s, "1 of 20 runs failed") != NULL);
    for (size_t i = 0; i < GUIDE_N; i++)
        CHECK(strstr(s, workloads[i]) != NULL);
    /* The spread, the floor and what the measurement tells apart. */
    CHECK(strstr(s, "5 interleaved rounds") != NULL);
    CHECK(count_lines(s, "bare ") == 1);
    CHECK(strstr(s, "none (bare process)") != NULL);
    CHECK(strstr(s, "45679 (44309-47049)") != NULL); /* cella-container req/s, +-3 % */
    CHECK(strstr(s, "0.085 ms (0.081-0.089)") != NULL);
    CHECK(strstr(s, "bare 48000 \xE2\x89\x88 cella-container 45679") != NULL);
    CHECK(strstr(s, "FLAG: runc: throughput 16 % below the bare process") != NULL);
    CHECK(strstr(s, "FLAG: crun") == NULL);
    CHECK(strstr(s, "note: crun: median throughput 12 % below the bare process") != NULL);
    CHECK(strstr(s, "0.84 !") != NULL);
    free(s);
}

/* Neighbours whose intervals overlap are not distinguishable; others are. */
static void test_ranking(void)
{
    struct runtime_result x[4];
    struct bench_report r = {.rt = x, .n_rt = 4};
    char buf[512];

    set_rt(&x[0], "a", B_SHARED_KERNEL, 10, 100, 50000, 1000);
    set_rt(&x[1], "b", B_SHARED_KERNEL, 10.5, 100, 60000, 1020); /* overlaps a */
    set_rt(&x[2], "c", B_SHARED_KERNEL, 30, 100, 90000, 500);    /* apart */
    set_failed(&x[3], "d", B_SHARED_KERNEL, "boom");
    rep_ranking(buf, sizeof(buf), &r, M_RPS);
    CHECK_STR(buf, "b 1020 \xE2\x89\x88 a 1000 > c 500");
    rep_ranking(buf, sizeof(buf), &r, M_LAT50);
    CHECK_STR(buf, "a 0.050 ms < b 0.060 ms < c 0.090 ms"); /* +-5 %: apart */
    rep_ranking(buf, sizeof(buf), &r, M_COLD);
    CHECK_STR(buf, "a 10.0 ms \xE2\x89\x88 b 10.5 ms < c 30.0 ms");
    /* One sample each: equal values overlap, others do not. */
    double one = 5, two = 5, three = 6;
    summarize(&one, 1, &x[0].rps_c10);
    summarize(&two, 1, &x[1].rps_c10);
    summarize(&three, 1, &x[2].rps_c10);
    rep_ranking(buf, sizeof(buf), &r, M_RPS);
    CHECK_STR(buf, "c 6.0 > a 5.0 \xE2\x89\x88 b 5.0");
    r.n_rt = 0;
    rep_ranking(buf, sizeof(buf), &r, M_RPS);
    CHECK_STR(buf, "");
}

/* The flag: only a shared-kernel runtime whose whole interval is below. */
static void test_bare_flag(void)
{
    struct runtime_result x;
    char buf[512];

    set_rt(&x, "k", B_SHARED_KERNEL, 10, 100, 50000, 1000);
    set_spread(&x.rps_vs_bare, 0.80, 0.05);
    CHECK(rep_below_bare(&x) && !rep_maybe_below_bare(&x));
    rep_bare_flag(buf, sizeof(buf), &x);
    CHECK(strstr(buf, "throughput 20 % below the bare process (req/s ratio 0.80, 95 % CI "
                      "0.76-0.84)") == buf);
    set_spread(&x.rps_vs_bare, 0.89, 0.05);
    CHECK(!rep_below_bare(&x) && rep_maybe_below_bare(&x));
    set_spread(&x.rps_vs_bare, 0.95, 0.05);
    CHECK(!rep_below_bare(&x) && !rep_maybe_below_bare(&x));
    rep_bare_flag(buf, sizeof(buf), &x);
    CHECK_STR(buf, "");
    x.boundary = B_SYSCALL_INTERPOSITION; /* gVisor is slower by design */
    set_spread(&x.rps_vs_bare, 0.10, 0.05);
    CHECK(!rep_below_bare(&x));
    x.boundary = B_SHARED_KERNEL;
    x.rps_vs_bare.n = 0; /* no bare row */
    CHECK(!rep_below_bare(&x) && !rep_maybe_below_bare(&x));
}

static json_t *get(json_t *o, const char *path)
{
    char key[64];

    while (o && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        if (json_is_array(o))
            o = json_array_get(o, strtoul(key, NULL, 10));
        else
            o = json_object_get(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

static bool is_real(json_t *o, const char *path, double want)
{
    json_t *v = get(o, path);

    if (!json_is_real(v) || fabs(json_real_value(v) - want) > 1e-9 * fmax(1, fabs(want))) {
        printf("#   %s: not the real %g\n", path, want);
        return false;
    }
    return true;
}

static bool is_int(json_t *o, const char *path, long long want)
{
    json_t *v = get(o, path);

    if (!json_is_integer(v) || json_integer_value(v) != want) {
        printf("#   %s: not the integer %lld\n", path, want);
        return false;
    }
    return true;
}

static bool is_str(json_t *o, const char *path, const char *want)
{
    json_t *v = get(o, path);

    if (!json_is_string(v) || strcmp(json_string_value(v), want) != 0) {
        printf("#   %s: not the string \"%s\"\n", path, want);
        return false;
    }
    return true;
}

static void test_json(void)
{
    char path[] = "/tmp/test_report_XXXXXX", err[256] = "";
    json_error_t jerr;
    json_t *j;
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    CHECK(rj(&fake, path, err, sizeof(err)) == 0);
    j = json_load_file(path, 0, &jerr);
    unlink(path);
    if (!j) {
        printf("#   %s:%d: %s\n", path, jerr.line, jerr.text);
        CHECK(j != NULL);
        return;
    }
    CHECK(is_str(j, "schema", "cella-bench/2"));
    CHECK(is_int(j, "rounds", 5));
    CHECK(is_real(j, "warmup_s", 0.5));
    CHECK(is_str(j, "bare", "bare"));
    CHECK(is_str(j, "env.cpu_model", "AMD EPYC 7B13 64-Core Processor"));
    CHECK(is_int(j, "env.cores", 2));
    CHECK(is_str(j, "env.kernel", "6.1.0-28-amd64"));
    CHECK(is_str(j, "env.virt", "hardware KVM"));
    CHECK(is_str(j, "env.date", "2025-11-27T01:30:00Z"));
    CHECK(is_int(j, "runs", 20));
    CHECK(is_real(j, "duration_s", 10.0));
    CHECK(json_is_false(get(j, "quick")));
    CHECK(json_array_size(get(j, "runtimes")) == 5);
    CHECK(json_array_size(get(j, "images")) == 3);

    /* Every field of a runtime, the first one. */
    const struct runtime_result *x = &fake_rt[0];
    CHECK(is_str(j, "runtimes.0.name", "cella-container"));
    CHECK(is_str(j, "runtimes.0.version", "cella-container version 1.2.3"));
    CHECK(is_str(j, "runtimes.0.boundary", "shared_kernel"));
    CHECK(json_is_true(get(j, "runtimes.0.ok")));
    CHECK(is_str(j, "runtimes.0.error", ""));
    CHECK(is_int(j, "runtimes.0.runs_ok", 20));
    CHECK(is_int(j, "runtimes.0.runs", 20));
    CHECK(is_int(j, "runtimes.0.cold_ms.n", 20));
    CHECK(is_real(j, "runtimes.0.cold_ms.min", x->cold_ms.min));
    CHECK(is_real(j, "runtimes.0.cold_ms.median", 18.4));
    CHECK(is_real(j, "runtimes.0.cold_ms.p95", x->cold_ms.p95));
    CHECK(is_real(j, "runtimes.0.cold_ms.max", x->cold_ms.max));
    CHECK(is_real(j, "runtimes.0.cold_ms.mean", x->cold_ms.mean));
    CHECK(is_real(j, "runtimes.0.teardown_ms.median", x->teardown_ms.median));
    CHECK(is_int(j, "runtimes.0.lat_c1.requests", 100000));
    CHECK(is_int(j, "runtimes.0.lat_c1.errors", 0));
    CHECK(is_real(j, "runtimes.0.lat_c1.seconds", 10.0));
    CHECK(is_real(j, "runtimes.0.lat_c1.rps", x->lat_c1.rps));
    CHECK(is_int(j, "runtimes.0.lat_c1.p50_ns", 85000));
    CHECK(is_int(j, "runtimes.0.lat_c1.p99_ns", 255000));
    CHECK(is_int(j, "runtimes.0.lat_c1.p999_ns", 510000));
    CHECK(is_int(j, "runtimes.0.lat_c1.max_ns", 1700000));
    CHECK(is_real(j, "runtimes.0.thr_c10.rps", 45678.9));
    CHECK(is_int(j, "runtimes.0.thr_c10.p99_ns", 85000 * 12));
    CHECK(is_int(j, "runtimes.0.mem_idle.pss_kb", 6900));
    CHECK(is_int(j, "runtimes.0.mem_idle.rss_kb", 6900 + 2048));
    CHECK(is_int(j, "runtimes.0.mem_idle.nprocs", 1));
    CHECK(is_int(j, "runtimes.0.mem_load.pss_kb", 7412));
    CHECK(is_int(j, "runtimes.0.mem_load.rss_kb", 6900 + 2560));
    CHECK(json_is_false(get(j, "runtimes.0.bare")));
    CHECK(is_int(j, "runtimes.0.rounds_ok", 5));
    CHECK(is_int(j, "runtimes.0.rounds", 5));
    CHECK(is_real(j, "runtimes.0.rps_c10.median", 45678.9));
    CHECK(is_real(j, "runtimes.0.rps_c10.ci_lo", x->rps_c10.ci_lo));
    CHECK(is_real(j, "runtimes.0.rps_c10.ci_hi", x->rps_c10.ci_hi));
    CHECK(is_real(j, "runtimes.0.rps_c10.ci_level", 0.9375));
    CHECK(is_real(j, "runtimes.0.lat_p50_ms.median", 0.085));
    CHECK(is_real(j, "runtimes.0.lat_p99_ms.ci_hi", x->lat_p99_ms.ci_hi));
    CHECK(is_real(j, "runtimes.0.cold_ms.ci_lo", x->cold_ms.ci_lo));
    CHECK(is_real(j, "runtimes.0.rps_vs_bare.median", 0.97));
    CHECK(json_is_false(get(j, "runtimes.0.below_bare")));
    CHECK(json_array_size(get(j, "runtimes.0.round_rps")) == 5);
    CHECK(is_real(j, "runtimes.0.round_rps.2", x->round_rps[2]));
    CHECK(is_real(j, "runtimes.0.round_lat_p50_ms.4", 0.085));
    CHECK(json_is_true(get(j, "runtimes.2.below_bare")));
    CHECK(json_is_false(get(j, "runtimes.1.below_bare")));
    CHECK(is_str(j, "runtimes.4.boundary", "none"));
    CHECK(json_is_true(get(j, "runtimes.4.bare")));
    CHECK(is_int(j, "runtimes.4.rps_vs_bare.n", 0));
    /* The runtimes the measurement does not tell apart, by metric. */
    json_t *rps_pairs = get(j, "not_distinguishable.rps_c10");
    CHECK(json_is_array(rps_pairs) && json_array_size(rps_pairs) > 0);
    CHECK(is_str(j, "not_distinguishable.rps_c10.0.0", "cella-container"));
    CHECK(is_str(j, "not_distinguishable.rps_c10.0.1", "crun"));
    CHECK(json_is_array(get(j, "not_distinguishable.lat_p50_ms")));
    CHECK(json_is_array(get(j, "not_distinguishable.cold_ms")));
    /* Partial and failed runtimes. */
    CHECK(is_int(j, "runtimes.2.runs_ok", 19));
    CHECK(is_str(j, "runtimes.2.error", "run 7: no HTTP 200 within 10 s"));
    CHECK(is_int(j, "runtimes.2.thr_c10.errors", 3));
    CHECK(is_str(j, "runtimes.3.name", "runsc"));
    CHECK(is_str(j, "runtimes.3.boundary", "syscall_interposition"));
    CHECK(json_is_false(get(j, "runtimes.3.ok")));
    CHECK(is_str(j, "runtimes.3.error", RUNSC_ERR));
    CHECK(is_int(j, "runtimes.3.runs_ok", 0));
    CHECK(is_int(j, "runtimes.3.mem_load.pss_kb", 0));
    CHECK(is_real(j, "runtimes.3.cold_ms.median", 0));
    /* Images. */
    CHECK(is_str(j, "images.0.name", "distroless"));
    CHECK(json_is_true(get(j, "images.0.ok")));
    CHECK(is_int(j, "images.0.rootfs_bytes", 3145728));
    CHECK(is_int(j, "images.0.layer_gz_bytes", 1258291));
    CHECK(is_str(j, "images.0.error", ""));
    CHECK(is_int(j, "images.1.rootfs_bytes", 18874368));
    CHECK(json_is_false(get(j, "images.2.ok")));
    CHECK(is_str(j, "images.2.error", UBUNTU_ERR));
    /* Guide. */
    CHECK(json_array_size(get(j, "guide")) == GUIDE_N);
    for (size_t i = 0; i < GUIDE_N; i++) {
        char p[64];
        snprintf(p, sizeof(p), "guide.%zu.workload", i);
        CHECK(is_str(j, p, workloads[i]));
        snprintf(p, sizeof(p), "guide.%zu.reason", i);
        CHECK(json_is_string(get(j, p)) && json_string_length(get(j, p)) > 20);
        snprintf(p, sizeof(p), "guide.%zu.ideal", i);
        CHECK(json_is_boolean(get(j, p)));
    }
    CHECK(is_str(j, "guide.3.runtime", "cella-container"));
    json_decref(j);

    /* An unwritable path: an error naming it. */
    CHECK(rj(&fake, "/nonexistent/dir/r.json", err, sizeof(err)) == -1);
    CHECK(strstr(err, "/nonexistent/dir/r.json") != NULL);
}

static void test_md(void)
{
    int rc = -1;
    char *s = capture(report_md, &fake, &rc), line[128];

    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(rc == 0);
    for (size_t i = 0; i < fake.n_rt; i++) {
        snprintf(line, sizeof(line), "| %s |", fake.rt[i].name);
        CHECK(count_lines(s, line) == 1);
    }
    for (size_t i = 0; i < GUIDE_N; i++) {
        snprintf(line, sizeof(line), "| %s |", workloads[i]);
        CHECK(count_lines(s, line) == 1);
    }
    /* The pipe, < > & escaped: the row keeps its 12 cells. */
    CHECK(strstr(s, "runsc create: exit status 1: \\<sandbox\\> failed \\& \"gofer\" \\| pipe") !=
          NULL);
    CHECK(strstr(s, "<sandbox>") == NULL);
    CHECK(strstr(s, "\\<offline\\> \\& 'retry' \\| later") != NULL);
    const char *row = strstr(s, "\n| runsc |");
    CHECK(row != NULL);
    if (row) {
        size_t pipes = 0;
        for (const char *p = row + 1; *p && *p != '\n'; p++)
            pipes += *p == '|' && p[-1] != '\\';
        CHECK(pipes == 13);
    }
    CHECK(strstr(s, "## Environment") != NULL);
    CHECK(strstr(s, "## Image sizes") != NULL);
    CHECK(strstr(s, "## Decision guide") != NULL);
    CHECK(strstr(s, "| distroless | 3.0 MiB | 1.2 MiB |") != NULL);
    CHECK(strstr(s, "| bare | none (bare process) | 20/20 |") != NULL);
    CHECK(strstr(s, "45679 (44309-47049) | 0.97 |") != NULL);
    CHECK(strstr(s, "**0.84**") != NULL);
    CHECK(strstr(s, "- **flag:** runc: throughput 16 % below the bare process") != NULL);
    CHECK(strstr(s, "- note: crun: median throughput") != NULL);
    CHECK(strstr(s, "- throughput (req/s at c=10, higher first): bare 48000 \xE2\x89\x88") != NULL);
    free(s);
}

static void test_html(void)
{
    int rc = -1;
    char *s = capture(report_html, &fake, &rc);

    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(rc == 0);
    CHECK(strncmp(s, "<!DOCTYPE html>", 15) == 0);
    CHECK(strlen(s) > 7 && strcmp(s + strlen(s) - 8, "</html>\n") == 0);
    CHECK(count(s, "<svg") == 4); /* cold start, throughput, memory, latency */
    CHECK(count(s, "</svg>") == 4);
    CHECK(count(s, "<table") == count(s, "</table>"));
    CHECK(count(s, "<tr>") == count(s, "</tr>"));
    CHECK(count(s, "<text") == count(s, "</text>"));
    CHECK(count(s, "<g>") == count(s, "</g>"));
    CHECK(count(s, "<title") == count(s, "</title>"));
    CHECK(strstr(s, "runsc create: exit status 1: &lt;sandbox&gt; failed &amp; &quot;gofer&quot; "
                    "| pipe") != NULL);
    CHECK(strstr(s, "pull ubuntu: &lt;offline&gt; &amp; &#39;retry&#39; | later") != NULL);
    CHECK(strstr(s, "<sandbox>") == NULL);
    CHECK(strstr(s, "<offline>") == NULL);
    CHECK(strstr(s, "<script") == NULL);
    CHECK(strstr(s, "http://") == NULL);
    CHECK(strstr(s, "https://") == NULL);
    CHECK(strstr(s, "<style>") != NULL);
    for (size_t i = 0; i < fake.n_rt; i++)
        CHECK(strstr(s, fake.rt[i].name) != NULL);
    CHECK(strstr(s, "class=\"whisker\"") != NULL);
    /* cold start and throughput of the four ok rows */
    CHECK(count(s, "class=\"whisker\"") == 8);
    CHECK(strstr(s, "<h2>Comparisons</h2>") != NULL);
    CHECK(strstr(s, "<p class=\"flag\">runc: throughput 16 % below the bare process") != NULL);
    CHECK(strstr(s, "<span class=\"flag\">0.84</span>") != NULL);
    CHECK(strstr(s, "tag b-none") != NULL);
    for (size_t i = 0; i < GUIDE_N; i++)
        CHECK(strstr(s, workloads[i]) != NULL);
    free(s);
}

static bool one_of(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return true;
    return false;
}

static void test_guide_fake(void)
{
    static const char *const shared[] = {"cella-container", "crun", "runc"};
    struct guide_item g[GUIDE_N];

    CHECK(guide_build(&fake, g) == GUIDE_N);
    for (size_t i = 0; i < GUIDE_N; i++) {
        CHECK_STR(g[i].workload, workloads[i]);
        CHECK(g[i].recommendation[0] != '\0');
        CHECK(strlen(g[i].reason) > 40);
    }
    /* Trusted services: a shared-kernel runtime, as intended. */
    CHECK(one_of(g[W_TRUSTED].runtime, shared, 3));
    CHECK(g[W_TRUSTED].ideal);
    CHECK_STR(g[W_TRUSTED].recommendation, g[W_TRUSTED].runtime);
    /* Untrusted code: no VM measured, said so; runsc failed, said so. */
    CHECK(!g[W_UNTRUSTED].ideal);
    CHECK(strstr(g[W_UNTRUSTED].reason, "No hardware-VM runtime was measured") != NULL);
    CHECK(strstr(g[W_UNTRUSTED].reason, "runsc was tried but failed") != NULL);
    CHECK(strstr(g[W_UNTRUSTED].recommendation, "best available") != NULL);
    CHECK(one_of(g[W_UNTRUSTED].runtime, shared, 3));
    /* CI: no VM either. */
    CHECK(!g[W_CI].ideal);
    CHECK(strstr(g[W_CI].reason, "No hardware-VM runtime was measured") != NULL);
    /* Serverless: nothing isolating; the fastest, cella-container. */
    CHECK(!g[W_SERVERLESS].ideal);
    CHECK_STR(g[W_SERVERLESS].runtime, "cella-container");
    /* Plugins: no WASM runtime. */
    CHECK(!g[W_WASM].ideal);
    CHECK(strstr(g[W_WASM].reason, "No WASM runtime was measured") != NULL);
    /* Figures and ratios from the measurements. */
    CHECK(strstr(g[W_UNTRUSTED].reason, "18.4 ms") != NULL);
    CHECK(strstr(g[W_TRUSTED].reason, "MiB PSS under load") != NULL);
}

static void test_guide_article(void)
{
    struct guide_item g[GUIDE_N];

    guide_build(&article, g);
    CHECK_STR(g[W_UNTRUSTED].runtime, "firecracker");
    CHECK(g[W_UNTRUSTED].ideal);
    CHECK(strstr(g[W_UNTRUSTED].reason, "6.2x the cold start") != NULL); /* 125 / 20 */
    CHECK(strstr(g[W_UNTRUSTED].reason, "4.0x the memory") != NULL);     /* 28 / 7 */
    CHECK_STR(g[W_CI].runtime, "firecracker");
    CHECK(g[W_CI].ideal);
    CHECK_STR(g[W_SERVERLESS].runtime, "firecracker"); /* within budget; kata is not */
    CHECK(g[W_SERVERLESS].ideal);
    CHECK(strstr(g[W_SERVERLESS].reason, "kata-qemu (hardware VM) 500 ms") != NULL);
    CHECK_STR(g[W_TRUSTED].runtime, "runc");
    CHECK(g[W_TRUSTED].ideal);
    CHECK_STR(g[W_WASM].runtime, "wasmtime");
    CHECK(g[W_WASM].ideal);

    /* Without Firecracker: Kata is over the serverless budget, gVisor is not. */
    struct runtime_result saved = art_rt[2];
    art_rt[2].ok = false;
    guide_build(&article, g);
    CHECK_STR(g[W_UNTRUSTED].runtime, "kata-qemu");
    CHECK_STR(g[W_SERVERLESS].runtime, "runsc");
    CHECK(g[W_SERVERLESS].ideal);
    /* Without gVisor either: the fastest shared kernel, with the caveat. */
    art_rt[1].ok = false;
    guide_build(&article, g);
    CHECK_STR(g[W_SERVERLESS].runtime, "runc");
    CHECK(!g[W_SERVERLESS].ideal);
    CHECK(strstr(g[W_SERVERLESS].reason, "kata-qemu (hardware VM) 500 ms") != NULL);
    /* Only gVisor for untrusted code: best available, caveat. */
    art_rt[1].ok = true;
    art_rt[3].ok = false;
    guide_build(&article, g);
    CHECK_STR(g[W_UNTRUSTED].runtime, "runsc");
    CHECK(!g[W_UNTRUSTED].ideal);
    CHECK(strstr(g[W_UNTRUSTED].reason, "No hardware-VM runtime was measured") != NULL);
    art_rt[2] = saved;
    art_rt[3].ok = true;
}

/* No runtime, no image: every writer still writes, the guide says none. */
static void test_empty(void)
{
    struct bench_report r = {0};
    struct guide_item g[GUIDE_N];
    int rc = -1;
    char *s;
    json_t *j;

    guide_build(&r, g);
    for (size_t i = 0; i < GUIDE_N; i++) {
        CHECK_STR(g[i].recommendation, "none");
        CHECK_STR(g[i].runtime, "");
    }
    s = capture(report_text, &r, &rc);
    CHECK(s && rc == 0);
    free(s);
    s = capture(report_md, &r, &rc);
    CHECK(s && rc == 0);
    free(s);
    s = capture(report_html, &r, &rc);
    CHECK(s && rc == 0 && count(s, "<svg") == 4);
    free(s);
    j = report_json_new(&r);
    CHECK(j && json_array_size(json_object_get(j, "runtimes")) == 0);
    json_decref(j);

    /* All failed: none, naming them. */
    struct runtime_result one;
    set_failed(&one, "runsc", B_SYSCALL_INTERPOSITION, "boom");
    r.rt = &one;
    r.n_rt = 1;
    guide_build(&r, g);
    CHECK_STR(g[W_TRUSTED].recommendation, "none");
    CHECK(strstr(g[W_TRUSTED].reason, "runsc was tried but failed: boom)") != NULL);
}

/* Hostile strings: no NUL in a full array, invalid UTF-8, controls. */
static void test_hostile_strings(void)
{
    struct runtime_result x[2];
    struct image_size m;
    struct bench_report r;
    int rc = -1;
    char *s;
    json_t *j;

    memset(&r, 0, sizeof(r));
    set_env(&r);
    set_rt(&x[0], "a", B_SHARED_KERNEL, 10, 5000, 50000, 1000);
    memset(x[0].name, 'n', sizeof(x[0].name));       /* no NUL */
    memset(x[0].version, 'v', sizeof(x[0].version)); /* no NUL */
    set_failed(&x[1], "bad\xff\xfe", B_HARDWARE_VM, "line one\nline two | \xc3\x28 <b>");
    memset(x[1].error + strlen(x[1].error), 'e', sizeof(x[1].error) - strlen(x[1].error));
    set_img(&m, "img", 0, 0, "x");
    memset(m.error, '|', sizeof(m.error));
    memset(r.env.cpu_model, '<', sizeof(r.env.cpu_model));
    r.rt = x;
    r.n_rt = 2;
    r.img = &m;
    r.n_img = 1;

    j = report_json_new(&r);
    CHECK(j != NULL);
    if (j) {
        const char *e = json_string_value(get(j, "runtimes.1.error"));
        CHECK(json_string_length(get(j, "runtimes.0.name")) == sizeof(x[0].name));
        CHECK(strstr(json_string_value(get(j, "runtimes.1.name")), "bad\xEF\xBF\xBD") != NULL);
        CHECK(e && strncmp(e, "line one\nline two | \xEF\xBF\xBD( <b>", 24) == 0);
        json_decref(j);
    }
    s = capture(report_md, &r, &rc);
    CHECK(s && rc == 0);
    if (s) {
        CHECK(strstr(s, "line one line two \\| \xEF\xBF\xBD( \\<b\\>") != NULL);
        for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<'))
            CHECK(p > s && p[-1] == '\\'); /* every < escaped */
        free(s);
    }
    s = capture(report_html, &r, &rc);
    CHECK(s && rc == 0);
    if (s) {
        CHECK(strstr(s, "line one line two | \xEF\xBF\xBD( &lt;b&gt;") != NULL);
        CHECK(strstr(s, "<b>") == NULL);
        CHECK(strstr(s, "\xff") == NULL);
        free(s);
    }
    s = capture(report_text, &r, &rc);
    CHECK(s && rc == 0);
    if (s) {
        CHECK(strstr(s, "line one line two") != NULL);
        free(s);
    }
}

static void test_helpers(void)
{
    char b[64];

    CHECK_STR(rep_ms(b, sizeof(b), 0), "-");
    CHECK_STR(rep_ms(b, sizeof(b), NAN), "-");
    CHECK_STR(rep_ms(b, sizeof(b), 523.4), "523 ms");
    CHECK_STR(rep_ms(b, sizeof(b), 20.14), "20.1 ms");
    CHECK_STR(rep_ms(b, sizeof(b), 1.234), "1.23 ms");
    CHECK_STR(rep_ns_ms(b, sizeof(b), 85000), "0.085 ms");
    CHECK_STR(rep_kib(b, sizeof(b), 512), "512 KiB");
    CHECK_STR(rep_kib(b, sizeof(b), 7168), "7.0 MiB");
    CHECK_STR(rep_bytes(b, sizeof(b), 3145728), "3.0 MiB");
    CHECK_STR(rep_bytes(b, sizeof(b), 80ull * 1024 * 1024 * 1024), "80.00 GiB");
    CHECK_STR(boundary_name(B_HARDWARE_VM), "hardware VM");
    CHECK_STR(boundary_key(B_WASM_SANDBOX), "wasm_sandbox");

    /* rep_clean: overlong, surrogate and truncated sequences are replaced. */
    rep_clean(b, sizeof(b), "a\xc0\xafz\xed\xa0\x80\xe2\x82", 64, false);
    CHECK_STR(b, "a\xEF\xBF\xBD\xEF\xBF\xBDz\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                 "\xEF\xBF\xBD");
    /* ... never cutting a character at the end of dst. */
    rep_clean(b, 5, "ab\xE2\x82\xAC", 16, false);
    CHECK_STR(b, "ab");
    strcpy(b, "h\xC3\xA9llo world");
    rep_ellipsize(b, sizeof(b), 5);
    CHECK_STR(b, "h\xC3\xA9ll\xE2\x80\xA6");
    strcpy(b, "short");
    rep_ellipsize(b, sizeof(b), 5);
    CHECK_STR(b, "short");
    strcpy(b, "ab\xE2\x82");
    rep_utf8_trim(b);
    CHECK_STR(b, "ab");
}

/* A write error is reported. */
static void test_write_error(void)
{
    FILE *f = fopen("/dev/full", "w");

    if (!f)
        SKIP("no /dev/full");
    CHECK(report_text(f, &fake) == -1);
    clearerr(f);
    CHECK(report_md(f, &fake) == -1);
    clearerr(f);
    CHECK(report_html(f, &fake) == -1);
    fclose(f);
}

static int demo(const char *format, const char *set, const char *path)
{
    struct bench_report empty = {0};
    const struct bench_report *r = strcmp(set, "article") == 0 ? &article
                                   : strcmp(set, "empty") == 0 ? &empty
                                                               : &fake;
    char err[256];
    FILE *f;
    int rc;

    if (strcmp(format, "json") == 0) {
        if (rj(r, path, err, sizeof(err)) != 0) {
            fprintf(stderr, "test_report: %s\n", err);
            return 1;
        }
        return 0;
    }
    f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    rc = strcmp(format, "text") == 0 ? report_text(f, r)
         : strcmp(format, "md") == 0 ? report_md(f, r)
                                     : report_html(f, r);
    if (f != stdout && fclose(f) != 0)
        rc = -1;
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    make_fake();
    make_article();
    if (argc == 3 && strcmp(argv[1], "--demo-html") == 0)
        return demo("html", "fake", argv[2]);
    if (argc == 5 && strcmp(argv[1], "--demo") == 0)
        return demo(argv[2], argv[3], argv[4]);
    if (argc != 1) {
        fprintf(stderr,
                "usage: %s [--demo-html FILE | --demo text|json|md|html "
                "fake|article|empty FILE]\n",
                argv[0]);
        return 2;
    }
    RUN(test_text);
    RUN(test_ranking);
    RUN(test_bare_flag);
    RUN(test_json);
    RUN(test_md);
    RUN(test_html);
    RUN(test_guide_fake);
    RUN(test_guide_article);
    RUN(test_empty);
    RUN(test_hostile_strings);
    RUN(test_helpers);
    RUN(test_write_error);
    return UNIT_DONE();
}
