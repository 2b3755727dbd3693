/* Helpers shared by the report writers and the decision guide (internal to
 * report_*.c and guide.c). */
#ifndef CELLA_BENCH_REPORT_UTIL_H
#define CELLA_BENCH_REPORT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"

/* Large enough for any cleaned model string (512 bytes of input, each byte
 * at worst replaced by the 3 bytes of U+FFFD). */
#define REP_STR_MAX 1600

/* Copies src (at most srcmax bytes, stopping at a NUL) to dst as valid
 * UTF-8: invalid bytes become U+FFFD; unless keep_ctl, control characters
 * (tab, newline, ...) become spaces. Never cuts a character; always
 * NUL-terminates (dstlen > 0). Returns the length written. */
size_t rep_clean(char *dst, size_t dstlen, const char *src, size_t srcmax, bool keep_ctl);
/* rep_clean of a char array field of the model, controls as spaces. */
#define REP_FIELD(dst, field) rep_clean((dst), sizeof(dst), (field), sizeof(field), false)

/* Cuts a valid UTF-8 string (in a buffer of size bytes) to at most maxchars
 * characters, the last one "…" when it was cut. */
void rep_ellipsize(char *s, size_t size, size_t maxchars);
/* Removes an incomplete UTF-8 sequence at the end of s (after snprintf cut). */
void rep_utf8_trim(char *s);

/* Writers of a cleaned string in a markup. */
void rep_html(FILE *f, const char *s);
void rep_md(FILE *f, const char *s);

/* Number formatting; each returns buf. 0 (or less) means "not measured" and
 * gives "-". */
const char *rep_ms(char *buf, size_t n, double ms);               /* "20.1 ms" */
const char *rep_ns_ms(char *buf, size_t n, uint64_t ns);          /* "0.085 ms" */
const char *rep_kib(char *buf, size_t n, uint64_t kib);           /* "7.0 MiB" */
const char *rep_bytes(char *buf, size_t n, unsigned long long b); /* "3.0 MiB" */
const char *rep_rps(char *buf, size_t n, double rps);             /* "12345" */
/* The number alone, with the precision rep_ms uses. */
const char *rep_num(char *buf, size_t n, double v);

/* Memory of a runtime in KiB: PSS (idle / under load), each falling back on
 * the other when one is 0. */
uint64_t rep_pss_idle(const struct runtime_result *x);
uint64_t rep_pss_load(const struct runtime_result *x);

/* Index of the ok runtime with the lowest median cold start (> 0), or -1. */
int rep_fastest(const struct bench_report *r);

#endif
