/* `cella bench`: runs the cella-bench program installed next to cella, so
 * that none of the bench is part of cella's own start path. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cmd_bench(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    (void)g;
    char self[PATH_MAX], prog[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return cerr_set(err, errno, "bench: readlink /proc/self/exe");
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    snprintf(prog, sizeof(prog), "%.*s/cella-bench", slash ? (int)(slash - self) : 1,
             slash ? self : ".");
    char **av = calloc((size_t)argc + 4, sizeof(char *));
    if (av == NULL)
        return cerr_set(err, 0, "out of memory");
    size_t k = 0;
    av[k++] = prog;
    av[k++] = "--cella";
    av[k++] = self;
    for (int i = 1; i < argc; i++)
        av[k++] = argv[i];
    execv(prog, av);
    int e = errno;
    free(av);
    return cerr_set(err, e, "bench: run `%s` (built with cella: make)", prog);
}
