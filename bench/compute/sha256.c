/*
 * sha256: SHA-256 (FIPS 180-4) over generated data, one of the compute
 * benchmarks of bench/compute.sh (native vs WebAssembly). The hash is cella's
 * own, src/core/sha256.c (the rootfs cache keys), built with this driver for
 * both targets.
 *
 * Usage: sha256 [MB]   hash MB mebibytes (default 128) of a splitmix64 stream
 *        sha256 -      hash standard input (to check against sha256sum)
 * Prints one line: "sha256 MB HEXDIGEST".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    enum { CHUNK = 1 << 20 };
    static unsigned char buf[CHUNK];
    struct sha256 s;
    char hex[65];
    long mb = 128;

    sha256_init(&s);
    if (argc > 1 && strcmp(argv[1], "-") == 0) {
        size_t n;
        while ((n = fread(buf, 1, CHUNK, stdin)) > 0)
            sha256_update(&s, buf, n);
        mb = -1;
    } else {
        if (argc > 1) {
            char *end;
            mb = strtol(argv[1], &end, 10);
            if (*end || mb < 1 || mb > 1 << 20) {
                fprintf(stderr, "usage: sha256 [MB | -]\n");
                return 2;
            }
        }
        uint64_t seed = 42;
        for (long i = 0; i < mb; i++) {
            for (size_t j = 0; j < CHUNK; j += 8) {
                uint64_t r = splitmix64(&seed);
                memcpy(buf + j, &r, 8); /* little-endian on both targets */
            }
            sha256_update(&s, buf, CHUNK);
        }
    }
    sha256_final_hex(&s, hex);
    if (mb < 0)
        printf("sha256 - %s\n", hex);
    else
        printf("sha256 %ldMB %s\n", mb, hex);
    return 0;
}
