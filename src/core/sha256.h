/* SHA-256 (FIPS 180-4), for cache keys. Hand-written rather than libcrypto:
 * linking libcrypto costs every cella invocation ~1 ms of dynamic loading
 * (measured: 1.2 ms -> 2.4 ms for an empty program), and cella's start path is
 * what the bench measures. */
#ifndef CELLA_SHA256_H
#define CELLA_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
    uint32_t h[8];
    uint64_t len; /* bytes hashed so far */
    size_t fill;  /* bytes waiting in blk */
    unsigned char blk[64];
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/* The digest as 64 lowercase hex digits and a NUL. */
void sha256_final_hex(struct sha256 *s, char hex[65]);

#endif
