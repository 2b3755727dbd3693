#define _GNU_SOURCE
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cerr_vset(cerr_t *err, int errnum, const char *fmt, va_list ap)
{
    if (err == NULL || *err != NULL)
        return -1;
    char *base = NULL;
    if (vasprintf(&base, fmt, ap) < 0)
        base = NULL;
    struct cerr *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        free(base);
        return -1;
    }
    e->errnum = errnum;
    if (base != NULL && errnum != 0) {
        if (asprintf(&e->msg, "%s: %s", base, strerror(errnum)) < 0)
            e->msg = NULL;
        free(base);
    } else {
        e->msg = base;
    }
    if (e->msg == NULL)
        e->msg = strdup("out of memory");
    *err = e;
    return -1;
}

int cerr_set(cerr_t *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cerr_vset(err, errnum, fmt, ap);
    va_end(ap);
    return -1;
}

int cerr_wrap(cerr_t *err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL)
        return -1;
    char *prefix = NULL, *joined = NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&prefix, fmt, ap);
    va_end(ap);
    if (r < 0)
        return -1;
    if (asprintf(&joined, "%s: %s", prefix, (*err)->msg) >= 0) {
        free((*err)->msg);
        (*err)->msg = joined;
    }
    free(prefix);
    return -1;
}

void cerr_free(cerr_t *err)
{
    if (err == NULL || *err == NULL)
        return;
    free((*err)->msg);
    free(*err);
    *err = NULL;
}

const char *cerr_msg(cerr_t err)
{
    return err && err->msg ? err->msg : "unknown error";
}

int cerr_code(cerr_t err)
{
    return err ? err->code : 0;
}
