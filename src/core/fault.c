#include "core/fault.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether the comma-separated CELLA_FAULT holds the entry PREFIX POINT. */
static bool named(const char *prefix, const char *point)
{
    const char *list = getenv("CELLA_FAULT");
    if (list == NULL)
        return false;
    size_t np = strlen(prefix), n = strlen(point);
    for (const char *p = list; (p = strstr(p, point)) != NULL; p += n) {
        size_t at = (size_t)(p - list);
        bool starts = at >= np && strncmp(p - np, prefix, np) == 0 &&
                      (at == np || p[-(ptrdiff_t)np - 1] == ',');
        bool ends = p[n] == '\0' || p[n] == ',';
        if (starts && ends)
            return true;
    }
    return false;
}

int fault_at(const char *point, cerr_t *err)
{
    if (named("", point))
        return cerr_set(err, 0, "injected fault at %s (CELLA_FAULT)", point);
    return 0;
}

void fault_kill(const char *point)
{
    if (!named("kill:", point))
        return;
    fflush(NULL);
    /* Not raise(): glibc's names the thread by the tid it cached, which in
     * the container's init (a raw clone) is its parent's. */
    kill(getpid(), SIGKILL);
    /* Still here: the init of a pid namespace, which its own SIGKILL spares. */
    _exit(128 + SIGKILL);
}
