/* src/core/sha256.c against the FIPS 180-4 examples, fed whole and in pieces
 * that straddle block boundaries. */
#include "core/sha256.h"
#include "unit.h"

static void check_digest(const char *data, size_t len, size_t piece, const char *want)
{
    struct sha256 s;
    char hex[65];
    sha256_init(&s);
    for (size_t off = 0; off < len; off += piece)
        sha256_update(&s, data + off, len - off < piece ? len - off : piece);
    sha256_final_hex(&s, hex);
    CHECK_STR(hex, want);
}

static void test_empty(void)
{
    check_digest("", 0, 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_abc(void)
{
    const char *want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    check_digest("abc", 3, 3, want);
    check_digest("abc", 3, 1, want);
}

/* 56 bytes: the length no longer fits in the first block's padding. */
static void test_two_blocks(void)
{
    const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    const char *want = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    check_digest(msg, strlen(msg), strlen(msg), want);
    check_digest(msg, strlen(msg), 7, want);
}

static void test_million_a(void)
{
    size_t n = 1000000;
    char *a = malloc(n);
    CHECK(a != NULL);
    if (a == NULL)
        return;
    memset(a, 'a', n);
    const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    check_digest(a, n, n, want);
    check_digest(a, n, 997, want);
    free(a);
}

int main(void)
{
    RUN(test_empty);
    RUN(test_abc);
    RUN(test_two_blocks);
    RUN(test_million_a);
    return UNIT_DONE();
}
