/* A WASI command for the wasm level's tests: what it does is argv[1].
 *   args | env NAME | cat PATH | write PATH TEXT | escape PATH | ls DIR |
 *   exit N | trap | recurse | sleep SECONDS | mem PAGES | touch MIB
 * It prints one line per result, so that the shell test can compare. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int depth(int n)
{
    volatile char pad[64];
    pad[0] = (char)n;
    return depth(n + 1) + pad[0];
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "args";
    if (strcmp(what, "args") == 0) {
        for (int i = 0; i < argc; i++)
            printf("argv[%d]=%s\n", i, argv[i]);
        return 0;
    }
    if (strcmp(what, "env") == 0 && argc > 2) {
        const char *v = getenv(argv[2]);
        printf("%s=%s\n", argv[2], v ? v : "(unset)");
        return 0;
    }
    if (strcmp(what, "cat") == 0 && argc > 2) {
        FILE *f = fopen(argv[2], "r");
        if (f == NULL) {
            printf("open %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        char buf[256];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        printf("%s", buf);
        fclose(f);
        return 0;
    }
    if (strcmp(what, "write") == 0 && argc > 3) {
        FILE *f = fopen(argv[2], "w");
        if (f == NULL) {
            printf("open %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        fputs(argv[3], f);
        return fclose(f) == 0 ? 0 : 1;
    }
    if (strcmp(what, "escape") == 0 && argc > 2) {
        FILE *f = fopen(argv[2], "r");
        printf("%s: %s\n", argv[2], f ? "opened" : "refused");
        return f ? 1 : 0;
    }
    if (strcmp(what, "ls") == 0 && argc > 2) {
        DIR *d = opendir(argv[2]);
        if (d == NULL) {
            printf("opendir %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] != '.')
                printf("%s\n", de->d_name);
        closedir(d);
        return 0;
    }
    if (strcmp(what, "exit") == 0 && argc > 2)
        exit(atoi(argv[2]));
    if (strcmp(what, "trap") == 0)
        __builtin_trap();
    if (strcmp(what, "recurse") == 0)
        return depth(0);
    if (strcmp(what, "sleep") == 0 && argc > 2) {
        printf("sleeping\n");
        fflush(stdout);
        struct timespec ts = {.tv_sec = atoi(argv[2])};
        nanosleep(&ts, NULL);
        return 0;
    }
    if (strcmp(what, "mem") == 0 && argc > 2) {
        size_t n = (size_t)atol(argv[2]) * 65536;
        char *p = malloc(n);
        printf("malloc %zu: %s\n", n, p ? "ok" : "failed");
        return p ? 0 : 1;
    }
    if (strcmp(what, "touch") == 0 && argc > 2) {
        size_t n = (size_t)atol(argv[2]) << 20;
        char *p = malloc(n);
        if (p == NULL) {
            printf("malloc %zu: failed\n", n);
            return 1;
        }
        for (size_t i = 0; i < n; i += 4096)
            ((volatile char *)p)[i] = 1;
        printf("touched %zu bytes\n", n);
        return 0;
    }
    fprintf(stderr, "probe: unknown mode %s\n", what);
    return 2;
}
