/* A minimal unit test harness printing TAP lines ("ok 3 - name",
 * "not ok 4 - name", "ok 5 - name # SKIP reason"), counted by tests/run. */
#ifndef CELLA_UNIT_H
#define CELLA_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failed_now, unit_n, unit_fail, unit_skip;
static const char *unit_skip_reason;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);                    \
            unit_failed_now = 1;                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                                     \
            printf("#   %s:%d: `%s` != `%s`\n", __FILE__, __LINE__, a_ ? a_ : "(null)",            \
                   b_ ? b_ : "(null)");                                                            \
            unit_failed_now = 1;                                                                   \
        }                                                                                          \
    } while (0)

#define SKIP(reason)                                                                               \
    do {                                                                                           \
        unit_skip_reason = (reason);                                                               \
        return;                                                                                    \
    } while (0)

static inline void unit_run(const char *name, void (*fn)(void))
{
    unit_failed_now = 0;
    unit_skip_reason = NULL;
    fn();
    unit_n++;
    if (unit_skip_reason) {
        unit_skip++;
        printf("ok %d - %s # SKIP %s\n", unit_n, name, unit_skip_reason);
    } else if (unit_failed_now) {
        unit_fail++;
        printf("not ok %d - %s\n", unit_n, name);
    } else {
        printf("ok %d - %s\n", unit_n, name);
    }
    fflush(stdout);
}

#define RUN(fn)     unit_run(#fn, fn)
#define UNIT_DONE() (printf("1..%d\n", unit_n), unit_fail ? 1 : 0)

#endif
