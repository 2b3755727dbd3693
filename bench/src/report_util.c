/* Helpers shared by the report writers and the decision guide. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#include "report.h"
#include "report_util.h"

const char *boundary_name(enum boundary b)
{
    switch (b) {
    case B_SHARED_KERNEL:
        return "shared kernel";
    case B_SYSCALL_INTERPOSITION:
        return "syscall interposition";
    case B_HARDWARE_VM:
        return "hardware VM";
    case B_WASM_SANDBOX:
        return "WASM sandbox";
    case B_NONE:
        return "none (bare process)";
    }
    return "unknown";
}

const char *boundary_key(enum boundary b)
{
    switch (b) {
    case B_SHARED_KERNEL:
        return "shared_kernel";
    case B_SYSCALL_INTERPOSITION:
        return "syscall_interposition";
    case B_HARDWARE_VM:
        return "hardware_vm";
    case B_WASM_SANDBOX:
        return "wasm_sandbox";
    case B_NONE:
        return "none";
    }
    return "unknown";
}

/* Length of the valid UTF-8 sequence at p (n bytes available), 0 if none. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* > U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

size_t rep_clean(char *dst, size_t dstlen, const char *src, size_t srcmax, bool keep_ctl)
{
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    size_t len = src ? strnlen(src, srcmax) : 0, i = 0, o = 0;

    if (dstlen == 0)
        return 0;
    while (i < len) {
        const unsigned char *p = (const unsigned char *)src + i;
        size_t n = utf8_len(p, len - i);
        const char *out = (const char *)p;
        size_t outn = n;

        if (n == 0) {
            out = replacement;
            outn = 3;
            n = 1;
        } else if (n == 1 && (*p < 0x20 || *p == 0x7F) && !keep_ctl) {
            out = " ";
        }
        if (o + outn >= dstlen)
            break;
        memcpy(dst + o, out, outn);
        o += outn;
        i += n;
    }
    dst[o] = '\0';
    return o;
}

void rep_utf8_trim(char *s)
{
    size_t len = strlen(s), start = len;

    /* Back over continuation bytes to the last lead byte. */
    while (start > 0 && len - start < 4 && ((unsigned char)s[start - 1] & 0xC0) == 0x80)
        start--;
    if (start == 0)
        return;
    start--;
    if (utf8_len((const unsigned char *)s + start, len - start) == 0)
        s[start] = '\0';
}

void rep_ellipsize(char *s, size_t size, size_t maxchars)
{
    size_t chars = 0, cut = 0;

    if (maxchars < 2)
        maxchars = 2;
    for (size_t i = 0; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80)
            continue;
        if (chars == maxchars - 1)
            cut = i;
        if (++chars > maxchars)
            break;
    }
    if (chars <= maxchars || cut + 4 > size)
        return;
    memcpy(s + cut, "\xE2\x80\xA6", 4); /* U+2026 and the NUL */
}

void rep_html(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

void rep_md(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (strchr("\\`*_[]<>|&~", *s))
            fputc('\\', f);
        fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
    }
}

const char *rep_num(char *buf, size_t n, double v)
{
    if (v >= 100)
        snprintf(buf, n, "%.0f", v);
    else if (v >= 10)
        snprintf(buf, n, "%.1f", v);
    else if (v >= 1)
        snprintf(buf, n, "%.2f", v);
    else
        snprintf(buf, n, "%.3f", v);
    return buf;
}

const char *rep_ms(char *buf, size_t n, double ms)
{
    char num[48];

    if (!(ms > 0)) /* also NaN */
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%s ms", rep_num(num, sizeof(num), ms));
    return buf;
}

const char *rep_ns_ms(char *buf, size_t n, uint64_t ns)
{
    return rep_ms(buf, n, (double)ns / 1e6);
}

const char *rep_kib(char *buf, size_t n, uint64_t kib)
{
    if (kib == 0)
        snprintf(buf, n, "-");
    else if (kib < 1024)
        snprintf(buf, n, "%llu KiB", (unsigned long long)kib);
    else if (kib < 1024ull * 1024)
        snprintf(buf, n, "%.1f MiB", (double)kib / 1024);
    else
        snprintf(buf, n, "%.2f GiB", (double)kib / (1024.0 * 1024));
    return buf;
}

const char *rep_bytes(char *buf, size_t n, unsigned long long b)
{
    if (b == 0)
        snprintf(buf, n, "-");
    else if (b < 1024)
        snprintf(buf, n, "%llu B", b);
    else
        rep_kib(buf, n, (b + 1023) / 1024);
    return buf;
}

const char *rep_rps(char *buf, size_t n, double rps)
{
    if (!(rps > 0))
        snprintf(buf, n, "-");
    else if (rps >= 100)
        snprintf(buf, n, "%.0f", rps);
    else
        snprintf(buf, n, "%.1f", rps);
    return buf;
}

uint64_t rep_pss_idle(const struct runtime_result *x)
{
    return x->mem_idle.pss_kb ? x->mem_idle.pss_kb : x->mem_load.pss_kb;
}

uint64_t rep_pss_load(const struct runtime_result *x)
{
    return x->mem_load.pss_kb ? x->mem_load.pss_kb : x->mem_idle.pss_kb;
}

int rep_fastest(const struct bench_report *r)
{
    int best = -1;

    for (size_t i = 0; i < r->n_rt; i++) {
        const struct runtime_result *x = &r->rt[i];
        if (!x->ok || x->boundary == B_NONE || !(x->cold_ms.median > 0))
            continue;
        if (best < 0 || x->cold_ms.median < r->rt[best].cold_ms.median)
            best = (int)i;
    }
    return best;
}

const struct summary *rep_metric(const struct runtime_result *x, enum metric m)
{
    switch (m) {
    case M_RPS:
        return &x->rps_c10;
    case M_LAT50:
        return &x->lat_p50_ms;
    case M_COLD:
        break;
    }
    return &x->cold_ms;
}

const char *rep_metric_key(enum metric m)
{
    return m == M_RPS ? "rps_c10" : m == M_LAT50 ? "lat_p50_ms" : "cold_ms";
}

const char *rep_metric_title(enum metric m)
{
    return m == M_RPS     ? "throughput (req/s at c=10, higher first)"
           : m == M_LAT50 ? "latency p50 (c=1, lower first)"
                          : "cold start (lower first)";
}

/* The value of a metric alone: req/s as an integer, ms with rep_num. */
static const char *metric_num(char *buf, size_t n, enum metric m, double v)
{
    if (m == M_RPS)
        return rep_rps(buf, n, v);
    return rep_num(buf, n, v);
}

const char *rep_spread(char *buf, size_t n, const struct summary *s, enum metric m)
{
    char a[48], b[48], c[48];

    if (s->n == 0 || !(s->median > 0)) {
        snprintf(buf, n, "-");
        return buf;
    }
    metric_num(a, sizeof(a), m, s->median);
    if (s->n < 2) {
        snprintf(buf, n, "%s%s", a, m == M_RPS ? "" : " ms");
        return buf;
    }
    snprintf(buf, n, "%s%s (%s-%s)", a, m == M_RPS ? "" : " ms",
             metric_num(b, sizeof(b), m, s->ci_lo), metric_num(c, sizeof(c), m, s->ci_hi));
    return buf;
}

bool rep_below_bare(const struct runtime_result *x)
{
    return x->ok && x->boundary == B_SHARED_KERNEL && x->rps_vs_bare.n > 0 &&
           x->rps_vs_bare.ci_hi < REP_BARE_FLAG;
}

bool rep_maybe_below_bare(const struct runtime_result *x)
{
    return x->ok && x->boundary == B_SHARED_KERNEL && x->rps_vs_bare.n > 0 &&
           x->rps_vs_bare.median < REP_BARE_FLAG && !rep_below_bare(x);
}

int rep_bare(const struct bench_report *r)
{
    for (size_t i = 0; i < r->n_rt; i++)
        if (r->rt[i].boundary == B_NONE && r->rt[i].ok)
            return (int)i;
    return -1;
}

size_t rep_order(const struct bench_report *r, enum metric m, size_t *idx)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n_rt; i++)
        if (r->rt[i].ok && rep_metric(&r->rt[i], m)->n > 0 && rep_metric(&r->rt[i], m)->median > 0)
            idx[n++] = i;
    /* insertion sort: a handful of rows */
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0; j--) {
            double a = rep_metric(&r->rt[idx[j - 1]], m)->median;
            double b = rep_metric(&r->rt[idx[j]], m)->median;
            if (m == M_RPS ? a >= b : a <= b)
                break;
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    }
    return n;
}

void rep_ranking(char *buf, size_t len, const struct bench_report *r, enum metric m)
{
    size_t *idx = calloc(r->n_rt ? r->n_rt : 1, sizeof(*idx));
    size_t n = idx ? rep_order(r, m, idx) : 0, o = 0;

    buf[0] = '\0';
    for (size_t k = 0; k < n && o + 1 < len; k++) {
        const struct runtime_result *x = &r->rt[idx[k]];
        char name[REP_STR_MAX], v[48];
        const char *sep = "";
        if (k > 0)
            sep = summary_overlap(rep_metric(&r->rt[idx[k - 1]], m), rep_metric(x, m))
                      ? " \xE2\x89\x88 " /* ≈ */
                      : (m == M_RPS ? " > " : " < ");
        REP_FIELD(name, x->name);
        int w = snprintf(buf + o, len - o, "%s%s %s%s", sep, name,
                         metric_num(v, sizeof(v), m, rep_metric(x, m)->median),
                         m == M_RPS ? "" : " ms");
        if (w < 0)
            break;
        o = o + (size_t)w >= len ? len - 1 : o + (size_t)w;
    }
    rep_utf8_trim(buf);
    free(idx);
}

void rep_bare_flag(char *buf, size_t len, const struct runtime_result *x)
{
    const struct summary *v = &x->rps_vs_bare;

    buf[0] = '\0';
    if (rep_below_bare(x))
        snprintf(buf, len,
                 "throughput %.0f %% below the bare process (req/s ratio %.2f, 95 %% CI "
                 "%.2f-%.2f)",
                 100 * (1 - v->median), v->median, v->ci_lo, v->ci_hi);
    else if (rep_maybe_below_bare(x))
        snprintf(buf, len,
                 "median throughput %.0f %% below the bare process (req/s ratio %.2f), but its "
                 "95 %% CI %.2f-%.2f reaches %.2f: not shown by this measurement",
                 100 * (1 - v->median), v->median, v->ci_lo, v->ci_hi, REP_BARE_FLAG);
}

int rep_baseline(const struct bench_report *r)
{
    for (size_t i = 0; r->baseline[0] != '\0' && i < r->n_rt; i++)
        if (r->rt[i].ok && strncmp(r->rt[i].name, r->baseline, sizeof(r->rt[i].name)) == 0)
            return (int)i;
    return -1;
}

static double ratio(double a, double b)
{
    return a > 0 && b > 0 ? a / b : 0;
}

bool rep_vs_baseline(const struct bench_report *r, const struct runtime_result *x,
                     struct vs_base *out)
{
    int b = rep_baseline(r);
    memset(out, 0, sizeof(*out));
    if (b < 0 || x == &r->rt[b] || !x->ok || x->boundary == B_NONE)
        return false;
    const struct runtime_result *y = &r->rt[b];
    out->cold = ratio(x->cold_ms.median, y->cold_ms.median);
    out->lat_p50 = ratio(x->lat_p50_ms.median, y->lat_p50_ms.median);
    out->pss_idle = ratio((double)rep_pss_idle(x), (double)rep_pss_idle(y));
    double v[BENCH_MAX_ROUNDS];
    size_t n = 0;
    for (int i = 0; i < x->rounds && i < BENCH_MAX_ROUNDS; i++)
        if (x->round_rps[i] > 0 && y->round_rps[i] > 0)
            v[n++] = x->round_rps[i] / y->round_rps[i];
    summarize(v, n, &out->rps);
    return true;
}

void rep_vs_line(char *buf, size_t len, const struct bench_report *r,
                 const struct runtime_result *x)
{
    struct vs_base v;
    buf[0] = '\0';
    if (!rep_vs_baseline(r, x, &v))
        return;
    char rps[96] = "-";
    if (v.rps.n > 0)
        snprintf(rps, sizeof(rps), "%.2fx (%.2f-%.2f)", v.rps.median, v.rps.ci_lo, v.rps.ci_hi);
    snprintf(buf, len, "cold %.2fx, req/s %s, lat p50 %.2fx, PSS idle %.2fx", v.cold, rps,
             v.lat_p50, v.pss_idle);
}
