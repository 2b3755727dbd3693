/* One error convention for all of cella: a function that can fail takes a
 * `cerr_t *err` as its last argument, returns -1 (or NULL) and fills *err with
 * a message naming the thing that failed. The message travels up the stack and
 * is printed once, by the command line layer. */
#ifndef CELLA_ERROR_H
#define CELLA_ERROR_H

#include <stdarg.h>

struct cerr {
    int errnum; /* errno at the failure, 0 if none */
    int code;   /* a kind the caller may test (CERR_*), 0 if none */
    char *msg;  /* full one-line message, errno text appended */
};
typedef struct cerr *cerr_t;

enum {
    CERR_NOT_FOUND = 1, /* e.g. no such container */
    /* process.args[0] refused by a level's check: `run` exits as a shell
     * would, 127 for a program that is not there, 126 for one it cannot run. */
    CERR_EXE_MISSING = 2,
    CERR_EXE_CANNOT_RUN = 3,
};

/* Set *err (if not already set) and return -1. errnum 0 means no errno text. */
int cerr_set(cerr_t *err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cerr_vset(cerr_t *err, int errnum, const char *fmt, va_list ap);
/* Prefix an existing error with context: "context: old message". Returns -1. */
int cerr_wrap(cerr_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cerr_free(cerr_t *err);
const char *cerr_msg(cerr_t err);
int cerr_code(cerr_t err);

#endif
