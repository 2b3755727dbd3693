/*
 * sieve: the sieve of Eratosthenes over a byte per number, one of the compute
 * benchmarks of bench/compute.sh (native vs WebAssembly).  Memory-bound: the
 * table is N bytes.
 *
 * Usage: sieve [N]   primes up to N (default 100000000)
 * Prints one line: "sieve N primes=COUNT sum=SUM last=LARGEST".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    uint32_t n = 100000000;
    if (argc > 1) {
        char *end;
        unsigned long v = strtoul(argv[1], &end, 10);
        if (*end || v < 2 || v > 2000000000ul) {
            fprintf(stderr, "usage: sieve [N]   (2 <= N <= 2000000000)\n");
            return 2;
        }
        n = (uint32_t)v;
    }
    unsigned char *composite = calloc((size_t)n + 1, 1);
    if (!composite) {
        fprintf(stderr, "sieve: out of memory for %lu bytes\n", (unsigned long)n + 1);
        return 1;
    }
    for (uint32_t p = 2; (uint64_t)p * p <= n; p++)
        if (!composite[p])
            for (uint32_t m = p * p; m <= n; m += p) /* N <= 2e9: m + p never wraps */
                composite[m] = 1;
    uint64_t count = 0, sum = 0;
    uint32_t last = 0;
    for (uint32_t i = 2; i <= n; i++) {
        if (!composite[i]) {
            count++;
            sum += i;
            last = i;
        }
    }
    printf("sieve %lu primes=%llu sum=%llu last=%lu\n", (unsigned long)n, (unsigned long long)count,
           (unsigned long long)sum, (unsigned long)last);
    free(composite);
    return 0;
}
