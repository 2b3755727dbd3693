/* The JSON report (jansson): every field of the model under its C name,
 * numbers as JSON numbers (integers for counts, bytes, KiB and nanoseconds;
 * reals for milliseconds, seconds and rates; null for a real that is not
 * finite), errors as strings ("" when none), booleans as booleans, the
 * boundary as its key (boundary_key), plus the decision guide. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "report.h"
#include "report_util.h"

/* Format of the document, bumped when a field changes meaning or goes. */
#define REPORT_SCHEMA "cella-bench/2"

/* The builders keep going after a failed allocation (a NULL value): set and
 * append record it in ok and release what they were given. */
struct jb {
    bool ok;
};

static void set(struct jb *b, json_t *obj, const char *key, json_t *v)
{
    if (!v || !obj) {
        json_decref(v);
        b->ok = false;
    } else if (json_object_set_new(obj, key, v) != 0) { /* v is released */
        b->ok = false;
    }
}

static json_t *jstr(const char *field, size_t size)
{
    char s[REP_STR_MAX];

    rep_clean(s, sizeof(s), field, size, true);
    return json_string(s);
}
#define JSTR(field) jstr((field), sizeof(field))

static json_t *jreal(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *juint(unsigned long long v)
{
    return json_integer(v > (unsigned long long)LLONG_MAX ? LLONG_MAX : (json_int_t)v);
}

static void append(struct jb *b, json_t *arr, json_t *v);
static json_t *rounds_json(struct jb *b, const double *v, int n);

static json_t *summary_json(struct jb *b, const struct summary *s)
{
    json_t *o = json_object();

    set(b, o, "n", juint(s->n));
    set(b, o, "min", jreal(s->min));
    set(b, o, "median", jreal(s->median));
    set(b, o, "p95", jreal(s->p95));
    set(b, o, "max", jreal(s->max));
    set(b, o, "mean", jreal(s->mean));
    set(b, o, "ci_lo", jreal(s->ci_lo));
    set(b, o, "ci_hi", jreal(s->ci_hi));
    set(b, o, "ci_level", jreal(s->ci_level));
    return o;
}

static json_t *load_json(struct jb *b, const struct load_result *l)
{
    json_t *o = json_object();

    set(b, o, "requests", juint(l->requests));
    set(b, o, "errors", juint(l->errors));
    set(b, o, "seconds", jreal(l->seconds));
    set(b, o, "rps", jreal(l->rps));
    set(b, o, "p50_ns", juint(l->p50_ns));
    set(b, o, "p99_ns", juint(l->p99_ns));
    set(b, o, "p999_ns", juint(l->p999_ns));
    set(b, o, "max_ns", juint(l->max_ns));
    return o;
}

static json_t *mem_json(struct jb *b, const struct mem_usage *m)
{
    json_t *o = json_object();

    set(b, o, "pss_kb", juint(m->pss_kb));
    set(b, o, "rss_kb", juint(m->rss_kb));
    set(b, o, "nprocs", json_integer(m->nprocs));
    return o;
}

static json_t *runtime_json(struct jb *b, const struct runtime_result *x)
{
    json_t *o = json_object();

    set(b, o, "name", JSTR(x->name));
    set(b, o, "version", JSTR(x->version));
    set(b, o, "boundary", json_string(boundary_key(x->boundary)));
    set(b, o, "ok", json_boolean(x->ok));
    set(b, o, "error", JSTR(x->error));
    set(b, o, "runs_ok", json_integer(x->runs_ok));
    set(b, o, "runs", json_integer(x->runs));
    set(b, o, "cold_ms", summary_json(b, &x->cold_ms));
    set(b, o, "teardown_ms", summary_json(b, &x->teardown_ms));
    set(b, o, "lat_c1", load_json(b, &x->lat_c1));
    set(b, o, "thr_c10", load_json(b, &x->thr_c10));
    set(b, o, "mem_idle", mem_json(b, &x->mem_idle));
    set(b, o, "mem_load", mem_json(b, &x->mem_load));
    set(b, o, "bare", json_boolean(x->boundary == B_NONE));
    set(b, o, "rounds_ok", json_integer(x->rounds_ok));
    set(b, o, "rounds", json_integer(x->rounds));
    set(b, o, "rps_c10", summary_json(b, &x->rps_c10));
    set(b, o, "lat_p50_ms", summary_json(b, &x->lat_p50_ms));
    set(b, o, "lat_p99_ms", summary_json(b, &x->lat_p99_ms));
    set(b, o, "rps_vs_bare", summary_json(b, &x->rps_vs_bare));
    set(b, o, "below_bare", json_boolean(rep_below_bare(x)));
    set(b, o, "round_rps", rounds_json(b, x->round_rps, x->rounds));
    set(b, o, "round_lat_p50_ms", rounds_json(b, x->round_lat_p50_ms, x->rounds));
    return o;
}

/* x / the baseline row (--engine), null when not compared. */
static json_t *vs_json(struct jb *b, const struct bench_report *r, const struct runtime_result *x)
{
    struct vs_base v;
    if (!rep_vs_baseline(r, x, &v))
        return json_null();
    json_t *o = json_object();
    set(b, o, "cold_ms", jreal(v.cold));
    set(b, o, "rps_c10", summary_json(b, &v.rps));
    set(b, o, "lat_p50_ms", jreal(v.lat_p50));
    set(b, o, "pss_idle", jreal(v.pss_idle));
    return o;
}

/* By round; null where the round failed. */
static json_t *rounds_json(struct jb *b, const double *v, int n)
{
    json_t *a = json_array();

    for (int i = 0; i < n && i < BENCH_MAX_ROUNDS; i++)
        append(b, a, v[i] > 0 ? jreal(v[i]) : json_null());
    return a;
}

/* For each metric, the pairs of runtimes whose median intervals overlap. */
static json_t *indistinct_json(struct jb *b, const struct bench_report *r)
{
    json_t *o = json_object();

    for (int m = 0; m < REP_NMETRIC; m++) {
        json_t *pairs = json_array();
        for (size_t i = 0; i < r->n_rt; i++) {
            for (size_t j = i + 1; j < r->n_rt; j++) {
                const struct runtime_result *x = &r->rt[i], *y = &r->rt[j];
                if (!x->ok || !y->ok ||
                    !summary_overlap(rep_metric(x, (enum metric)m), rep_metric(y, (enum metric)m)))
                    continue;
                json_t *p = json_array();
                append(b, p, JSTR(x->name));
                append(b, p, JSTR(y->name));
                append(b, pairs, p);
            }
        }
        set(b, o, rep_metric_key((enum metric)m), pairs);
    }
    return o;
}

static json_t *image_json(struct jb *b, const struct image_size *m)
{
    json_t *o = json_object();

    set(b, o, "name", JSTR(m->name));
    set(b, o, "ok", json_boolean(m->ok));
    set(b, o, "error", JSTR(m->error));
    set(b, o, "rootfs_bytes", juint(m->rootfs_bytes));
    set(b, o, "layer_gz_bytes", juint(m->layer_gz_bytes));
    return o;
}

static void append(struct jb *b, json_t *arr, json_t *v)
{
    if (!v || !arr) {
        json_decref(v);
        b->ok = false;
    } else if (json_array_append_new(arr, v) != 0) { /* v is released */
        b->ok = false;
    }
}

json_t *report_json_new(const struct bench_report *r)
{
    struct jb b = {.ok = true};
    struct guide_item g[GUIDE_N];
    json_t *root = json_object(), *env = json_object(), *rts = json_array(), *imgs = json_array(),
           *guide = json_array();

    set(&b, root, "schema", json_string(REPORT_SCHEMA));
    set(&b, env, "cpu_model", JSTR(r->env.cpu_model));
    set(&b, env, "cores", json_integer(r->env.cores));
    set(&b, env, "kernel", JSTR(r->env.kernel));
    set(&b, env, "virt", JSTR(r->env.virt));
    set(&b, env, "date", JSTR(r->env.date));
    set(&b, root, "env", env);
    set(&b, root, "runs", json_integer(r->runs));
    set(&b, root, "rounds", json_integer(r->rounds));
    set(&b, root, "duration_s", jreal(r->duration_s));
    set(&b, root, "warmup_s", jreal(r->warmup_s));
    set(&b, root, "quick", json_boolean(r->quick));
    set(&b, root, "engine", r->engine[0] ? JSTR(r->engine) : json_null());
    set(&b, root, "baseline", r->baseline[0] ? JSTR(r->baseline) : json_null());
    for (size_t i = 0; i < r->n_rt; i++) {
        json_t *o = runtime_json(&b, &r->rt[i]);
        if (o != NULL)
            set(&b, o, "vs_baseline", vs_json(&b, r, &r->rt[i]));
        append(&b, rts, o);
    }
    set(&b, root, "runtimes", rts);
    for (size_t i = 0; i < r->n_img; i++)
        append(&b, imgs, image_json(&b, &r->img[i]));
    set(&b, root, "images", imgs);
    {
        int bare = rep_bare(r);
        set(&b, root, "bare", bare >= 0 ? JSTR(r->rt[bare].name) : json_null());
    }
    set(&b, root, "not_distinguishable", indistinct_json(&b, r));

    guide_build(r, g);
    for (size_t i = 0; i < GUIDE_N; i++) {
        json_t *o = json_object();
        set(&b, o, "workload", json_string(g[i].workload));
        set(&b, o, "recommendation", json_string(g[i].recommendation));
        set(&b, o, "reason", json_string(g[i].reason));
        set(&b, o, "runtime", json_string(g[i].runtime));
        set(&b, o, "ideal", json_boolean(g[i].ideal));
        append(&b, guide, o);
    }
    set(&b, root, "guide", guide);

    if (!b.ok) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int report_json(const struct bench_report *r, const char *path, cerr_t *err)
{
    const size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15);
    json_t *root = report_json_new(r);
    int rc;

    if (!root)
        return cerr_set(err, ENOMEM, "building the JSON report");
    if (strcmp(path, "-") == 0) {
        rc = json_dumpf(root, stdout, flags);
        if (rc == 0 && (fputc('\n', stdout) == EOF || fflush(stdout) != 0))
            rc = -1;
    } else {
        errno = 0;
        rc = json_dump_file(root, path, flags);
    }
    int e = errno;
    json_decref(root);
    if (rc != 0)
        return cerr_set(err, e, "write the JSON report to %s",
                        strcmp(path, "-") == 0 ? "stdout" : path);
    return rc != 0 ? -1 : 0;
}
