#define _GNU_SOURCE
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_file;
static bool log_json, log_debug_on;

int log_init(const char *file, bool json, bool debug, cerr_t *err)
{
    log_file = file;
    log_json = json;
    log_debug_on = debug;
    if (file == NULL)
        return 0;
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_file = NULL;
        return cerr_set(err, errno, "--log `%s`", file);
    }
    close(fd);
    return 0;
}

static void emit(const char *level, const char *fmt, va_list ap, bool to_stderr)
{
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        return;
    if (to_stderr)
        fprintf(stderr, "cella: %s%s%s\n", strcmp(level, "error") ? level : "",
                strcmp(level, "error") ? ": " : "", msg);
    if (log_file != NULL) {
        int fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            char *line = NULL;
            char ts[64];
            time_t now = time(NULL);
            struct tm tm;
            gmtime_r(&now, &tm);
            strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
            if (log_json) {
                json_t *o = json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", ts);
                char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
                json_decref(o);
                if (text != NULL && asprintf(&line, "%s\n", text) < 0)
                    line = NULL;
                free(text);
            } else if (asprintf(&line, "%s %s: %s\n", ts, level, msg) < 0) {
                line = NULL;
            }
            if (line != NULL && write(fd, line, strlen(line)) < 0) {
                /* nowhere left to report it */
            }
            free(line);
            close(fd);
        }
    }
    free(msg);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit("error", fmt, ap, true);
    va_end(ap);
}

/* As runc's: with --log, warnings go to that file only. An engine gives
 * every runtime call a log file and the container's stdio as its stderr, so
 * a warning on stderr would land in the container's own output (docker
 * logs, ctr's terminal). */
void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit("warning", fmt, ap, log_file == NULL);
    va_end(ap);
}

bool log_debug_enabled(void)
{
    return log_debug_on;
}

void log_debug(const char *fmt, ...)
{
    if (!log_debug_on)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit("debug", fmt, ap, log_file == NULL);
    va_end(ap);
}
