/* Helpers shared by the report writers and the decision guide. */
#include <string.h>

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
        if (!x->ok || !(x->cold_ms.median > 0))
            continue;
        if (best < 0 || x->cold_ms.median < r->rt[best].cold_ms.median)
            best = (int)i;
    }
    return best;
}
