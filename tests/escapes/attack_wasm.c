/* The hostile module of tests/integration/test_escapes.sh (wasm32-wasi):
 *
 *   race PATH N   open PATH N times and read it: prints how many reads got
 *                 "secret" (a file outside the preopen, reached while the
 *                 host swaps a symlink under the module), and how many
 *                 opens failed
 *   oob OFFSET    load a byte OFFSET bytes past the end of linear memory:
 *                 must trap (prints the byte if it did not)
 *   grow PAGES    memory.grow by PAGES: prints the result (-1: refused)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 3 && strcmp(argv[1], "race") == 0) {
        long n = atol(argv[3]), secret = 0, failed = 0;
        for (long i = 0; i < n; i++) {
            FILE *f = fopen(argv[2], "r");
            char buf[64] = "";
            if (f == NULL) {
                failed++;
                continue;
            }
            if (fgets(buf, sizeof(buf), f) && strncmp(buf, "secret", 6) == 0)
                secret++;
            fclose(f);
        }
        printf("secret %ld failed %ld\n", secret, failed);
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "oob") == 0) {
        unsigned long end = __builtin_wasm_memory_size(0) * 65536ul;
        volatile unsigned char *p = (volatile unsigned char *)(end + strtoul(argv[2], NULL, 0));
        printf("read %u\n", *p);
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "grow") == 0) {
        printf("grow %ld\n", (long)__builtin_wasm_memory_grow(0, strtoul(argv[2], NULL, 0)));
        return 0;
    }
    fprintf(stderr, "usage: attack_wasm race PATH N | oob OFFSET | grow PAGES\n");
    return 2;
}
