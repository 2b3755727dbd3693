#include "core/fault.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int fault_at(const char *point, cerr_t *err)
{
    const char *list = getenv("CELLA_FAULT");
    if (list == NULL)
        return 0;
    size_t n = strlen(point);
    for (const char *p = list; (p = strstr(p, point)) != NULL; p += n) {
        bool starts = p == list || p[-1] == ',';
        bool ends = p[n] == '\0' || p[n] == ',';
        if (starts && ends)
            return cerr_set(err, 0, "injected fault at %s (CELLA_FAULT)", point);
    }
    return 0;
}
