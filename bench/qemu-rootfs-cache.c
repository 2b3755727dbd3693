/* Times src/level/vmhost/rootfs.c as `create` calls it, for bench/qemu-rootfs.sh:
 * for each rootfs directory, the first call (key walk + mkfs.erofs + fsync +
 * rename) into an empty cache, then the median of 5 calls that find the
 * entry (the key walk alone). One line per directory:
 *   "cache DIR build MS hit MS"
 * Usage: qemu-rootfs-cache CACHEDIR ROOTFS... (CACHEDIR must not exist). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "level/vmhost/rootfs.h"

static double image_ms(const char *rootfs)
{
    char *path = NULL;
    const char *fstype;
    cerr_t err = NULL;
    unsigned long long t0 = now_ns();
    if (vm_rootfs_image(rootfs, &path, &fstype, &err) < 0) {
        fprintf(stderr, "qemu-rootfs-cache: %s\n", cerr_msg(err));
        exit(1);
    }
    double ms = (double)(now_ns() - t0) / 1e6;
    free(path);
    return ms;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: qemu-rootfs-cache CACHEDIR ROOTFS...\n");
        return 2;
    }
    setenv(ROOTFS_CACHE_ENV, argv[1], 1);
    for (int i = 2; i < argc; i++) {
        double build = image_ms(argv[i]), hit[5];
        for (int r = 0; r < 5; r++)
            hit[r] = image_ms(argv[i]);
        qsort(hit, 5, sizeof(hit[0]), by_value);
        printf("cache %s build %.1f hit %.1f\n", argv[i], build, hit[2]);
    }
    return 0;
}
