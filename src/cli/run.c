#include <stdlib.h>

#include "cli/cli.h"
#include "core/lifecycle.h"

int cmd_run(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    struct create_opts o = {0};
    bool detach = false;
    int status = 0;
    const char *id = cli_create_opts("run", argc, argv, &o, &detach, err);
    if (id == NULL) {
        free((char *)o.pid_file);
        return -1;
    }
    o.foreground = !detach;
    int r = lc_run(g, id, &o, &status, err);
    free((char *)o.bundle);
    free((char *)o.pid_file);
    if (r < 0 && cerr_code(*err) == CERR_EXE_MISSING)
        return -127;
    if (r < 0 && cerr_code(*err) == CERR_EXE_CANNOT_RUN)
        return -126;
    return r < 0 ? -1 : status;
}
