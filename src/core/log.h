/* Messages to the user: errors printed once at the top, warnings, debug.
 * With --log FILE they also go to FILE; with --log-format json as JSON lines
 * ({"level":"error","msg":"...","time":"..."}) as containerd reads them.
 * Debug lines (--debug) go to FILE alone when there is one, else to stderr. */
#ifndef CELLA_LOG_H
#define CELLA_LOG_H

#include <stdbool.h>

#include "core/error.h"

/* Creates FILE now, as runc does: a caller may wait for it to appear, and an
 * unwritable path is an error before anything is done. */
int log_init(const char *file, bool json, bool debug, cerr_t *err);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* --debug was given (for code that must print without log_debug's file). */
bool log_debug_enabled(void);

#endif
