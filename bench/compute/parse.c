/*
 * parse: a JSON tokenizer and recursive-descent parser, one of the compute
 * benchmarks of bench/compute.sh (native vs WebAssembly).  It generates a
 * pseudo-random JSON document (nested objects and arrays, strings with
 * escapes, integers, decimals and exponents, literals), parses it into a tree
 * of nodes held in one growing array, then walks the tree for a checksum.
 *
 * Usage: parse [MB]          a document of about MB mebibytes (default 32)
 *        parse --dump [MB]   print the document instead (to check it elsewhere)
 * Prints one line: "parse MB bytes=B nodes=N objects=O arrays=A strings=S
 * numbers=U literals=L depth=D hash=H".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64 /* the parser's nesting limit; the generator stays well below */

enum kind { K_NULL, K_TRUE, K_FALSE, K_NUM, K_STR, K_ARR, K_OBJ };

struct node {
    uint32_t kind;
    uint32_t next;  /* next sibling; 0: none (node 0 is unused) */
    uint32_t child; /* first child; an object's children alternate key, value */
    uint32_t len;   /* strings: decoded bytes; arrays, objects: children */
    uint64_t val;   /* strings: FNV-1a of the decoded bytes; numbers: a digest */
};

/* ---- the generator ---- */

struct buf {
    char *p;
    size_t len, cap;
};

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state >> 12; /* xorshift64* */
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32) % n;
}

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) {
            fprintf(stderr, "parse: out of memory\n");
            exit(1);
        }
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void putch(struct buf *b, char c)
{
    put(b, &c, 1);
}

static void gen_string(struct buf *b)
{
    static const char *esc[] = {"\\n", "\\\"", "\\\\", "\\u00e9", "\\u263a", "\\/", "\\t"};
    putch(b, '"');
    for (uint32_t n = rnd(16); n; n--) {
        uint32_t r = rnd(48);
        if (r < 7)
            put(b, esc[r], strlen(esc[r]));
        else if (r < 10)
            putch(b, ' ');
        else
            putch(b, (char)('a' + rnd(26)));
    }
    putch(b, '"');
}

static void gen_number(struct buf *b)
{
    if (rnd(4) == 0)
        putch(b, '-');
    uint32_t digits = 1 + rnd(10);
    putch(b, (char)('1' + rnd(9)));
    while (--digits)
        putch(b, (char)('0' + rnd(10)));
    if (rnd(3) == 0) {
        putch(b, '.');
        for (uint32_t n = 1 + rnd(6); n; n--)
            putch(b, (char)('0' + rnd(10)));
    }
    if (rnd(8) == 0) {
        putch(b, rnd(2) ? 'e' : 'E');
        if (rnd(2))
            putch(b, rnd(2) ? '-' : '+');
        putch(b, (char)('1' + rnd(9)));
        if (rnd(2))
            putch(b, (char)('0' + rnd(10)));
    }
}

static void gen_value(struct buf *b, int depth)
{
    uint32_t r = rnd(16);
    if (depth < 8 && r < 6) {
        int obj = r < 3;
        putch(b, obj ? '{' : '[');
        for (uint32_t i = 0, n = rnd(6); i < n; i++) {
            if (i)
                put(b, rnd(4) ? ", " : ",\n", 2);
            if (obj) {
                gen_string(b);
                put(b, ": ", 2);
            }
            gen_value(b, depth + 1);
        }
        putch(b, obj ? '}' : ']');
    } else if (r < 10) {
        gen_string(b);
    } else if (r < 14) {
        gen_number(b);
    } else if (r == 14) {
        if (rnd(2))
            put(b, "true", 4);
        else
            put(b, "false", 5);
    } else {
        put(b, "null", 4);
    }
}

/* ---- the parser ---- */

struct parser {
    const char *start, *p, *end;
    struct node *nodes;
    uint32_t n, cap;
    int depth;
};

static void fail(struct parser *ps, const char *what)
{
    fprintf(stderr, "parse: %s at byte %lu\n", what, (unsigned long)(ps->p - ps->start));
    exit(1);
}

static uint32_t new_node(struct parser *ps, enum kind k)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 4096;
        ps->nodes = realloc(ps->nodes, (size_t)ps->cap * sizeof *ps->nodes);
        if (!ps->nodes)
            fail(ps, "out of memory");
    }
    struct node *nd = &ps->nodes[ps->n];
    memset(nd, 0, sizeof *nd);
    nd->kind = k;
    return ps->n++;
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r'))
        ps->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The XXXX of \uXXXX as UTF-8 into out (surrogates pass through as such);
 * returns the number of bytes. */
static size_t unicode_escape(struct parser *ps, unsigned char out[3])
{
    uint32_t u = 0;
    for (int i = 0; i < 4; i++) {
        int v = ps->p < ps->end ? hexval(*ps->p) : -1;
        if (v < 0)
            fail(ps, "bad \\u escape");
        u = u << 4 | (uint32_t)v;
        ps->p++;
    }
    if (u < 0x80) {
        out[0] = (unsigned char)u;
        return 1;
    }
    if (u < 0x800) {
        out[0] = (unsigned char)(0xc0 | u >> 6);
        out[1] = (unsigned char)(0x80 | (u & 0x3f));
        return 2;
    }
    out[0] = (unsigned char)(0xe0 | u >> 12);
    out[1] = (unsigned char)(0x80 | (u >> 6 & 0x3f));
    out[2] = (unsigned char)(0x80 | (u & 0x3f));
    return 3;
}

#define FNV_BASIS 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint32_t parse_string(struct parser *ps)
{
    uint64_t h = FNV_BASIS;
    uint32_t len = 0;
    unsigned char out[4];
    ps->p++; /* the opening quote */
    for (;;) {
        if (ps->p >= ps->end)
            fail(ps, "unterminated string");
        unsigned char c = (unsigned char)*ps->p++;
        size_t k = 1;
        if (c == '"')
            break;
        if (c < 0x20)
            fail(ps, "control character in string");
        out[0] = c;
        if (c == '\\') {
            if (ps->p >= ps->end)
                fail(ps, "unterminated escape");
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            char e = *ps->p++;
            const char *hit = e ? strchr(from, e) : NULL;
            if (hit)
                out[0] = (unsigned char)to[hit - from];
            else if (e == 'u')
                k = unicode_escape(ps, out);
            else
                fail(ps, "bad escape");
        }
        for (size_t i = 0; i < k; i++)
            h = (h ^ out[i]) * FNV_PRIME;
        len += (uint32_t)k;
    }
    uint32_t id = new_node(ps, K_STR);
    ps->nodes[id].len = len;
    ps->nodes[id].val = h;
    return id;
}

static int digit(struct parser *ps)
{
    return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

/* A number's digest: its mantissa digits (mod 2^64), how many of them follow
 * the point, its exponent and its sign; no floating point, so no rounding. */
static uint32_t parse_number(struct parser *ps)
{
    uint64_t m = 0, neg = 0, frac = 0;
    int64_t ex = 0, exneg = 0;
    if (*ps->p == '-') {
        neg = 1;
        ps->p++;
    }
    if (!digit(ps))
        fail(ps, "bad number");
    if (*ps->p == '0' && ps->p + 1 < ps->end && ps->p[1] >= '0' && ps->p[1] <= '9')
        fail(ps, "leading zero");
    while (digit(ps))
        m = m * 10 + (uint64_t)(*ps->p++ - '0');
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (!digit(ps))
            fail(ps, "bad fraction");
        while (digit(ps)) {
            m = m * 10 + (uint64_t)(*ps->p++ - '0');
            frac++;
        }
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            exneg = *ps->p++ == '-';
        if (!digit(ps))
            fail(ps, "bad exponent");
        while (digit(ps))
            ex = ex * 10 + (*ps->p++ - '0');
    }
    uint32_t id = new_node(ps, K_NUM);
    ps->nodes[id].val = (m * FNV_PRIME) ^ (frac << 48) ^ ((uint64_t)(exneg ? -ex : ex) << 32) ^ neg;
    return id;
}

static void literal(struct parser *ps, const char *word, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        fail(ps, "bad literal");
    ps->p += n;
}

static uint32_t parse_value(struct parser *ps);

/* Arrays and objects: a list of values (objects: "key": value pairs). */
static uint32_t parse_container(struct parser *ps, int obj)
{
    char close = obj ? '}' : ']';
    uint32_t id = new_node(ps, obj ? K_OBJ : K_ARR);
    uint32_t last = 0, count = 0;
    if (++ps->depth > MAX_DEPTH)
        fail(ps, "nested too deep");
    ps->p++; /* the opening bracket */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return id;
    }
    for (;;) {
        for (int part = obj ? 0 : 1; part < 2; part++) {
            uint32_t c;
            skip_ws(ps);
            if (part == 0) { /* an object's key */
                if (ps->p >= ps->end || *ps->p != '"')
                    fail(ps, "expected a key");
                c = parse_string(ps);
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':')
                    fail(ps, "expected ':'");
                ps->p++;
            } else {
                c = parse_value(ps);
            }
            if (last) /* nodes may have moved: index, never hold pointers */
                ps->nodes[last].next = c;
            else
                ps->nodes[id].child = c;
            last = c;
            count++;
        }
        skip_ws(ps);
        if (ps->p >= ps->end)
            fail(ps, "unterminated container");
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p != close)
            fail(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        ps->p++;
        break;
    }
    ps->nodes[id].len = count;
    ps->depth--;
    return id;
}

static uint32_t parse_value(struct parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end)
        fail(ps, "expected a value");
    switch (*ps->p) {
    case '{':
        return parse_container(ps, 1);
    case '[':
        return parse_container(ps, 0);
    case '"':
        return parse_string(ps);
    case 't':
        literal(ps, "true", 4);
        return new_node(ps, K_TRUE);
    case 'f':
        literal(ps, "false", 5);
        return new_node(ps, K_FALSE);
    case 'n':
        literal(ps, "null", 4);
        return new_node(ps, K_NULL);
    default:
        return parse_number(ps);
    }
}

/* ---- the walk ---- */

struct stats {
    uint64_t nodes, kinds[7], hash;
    int depth;
};

static void walk(const struct node *nodes, uint32_t id, int depth, struct stats *st)
{
    for (; id; id = nodes[id].next) {
        const struct node *nd = &nodes[id];
        st->nodes++;
        st->kinds[nd->kind]++;
        st->hash = (st->hash ^ nd->val ^ ((uint64_t)nd->kind << 40 | nd->len)) * FNV_PRIME;
        if (depth > st->depth)
            st->depth = depth;
        if (nd->child)
            walk(nodes, nd->child, depth + 1, st);
    }
}

int main(int argc, char **argv)
{
    long mb = 32;
    int dump = argc > 1 && strcmp(argv[1], "--dump") == 0;
    if (dump)
        argc--, argv++;
    if (argc > 1) {
        char *end;
        mb = strtol(argv[1], &end, 10);
        if (*end || mb < 1 || mb > 1024) {
            fprintf(stderr, "usage: parse [--dump] [MB]   (1 <= MB <= 1024)\n");
            return 2;
        }
    }
    struct buf doc = {0};
    size_t want = (size_t)mb << 20;
    putch(&doc, '[');
    for (int first = 1; doc.len < want; first = 0) {
        if (!first)
            put(&doc, ",\n", 2);
        gen_value(&doc, 1);
    }
    putch(&doc, ']');
    if (dump) {
        fwrite(doc.p, 1, doc.len, stdout);
        return 0;
    }

    struct parser ps = {.start = doc.p, .p = doc.p, .end = doc.p + doc.len};
    new_node(&ps, K_NULL); /* node 0: "none" */
    uint32_t root = parse_value(&ps);
    skip_ws(&ps);
    if (ps.p != ps.end)
        fail(&ps, "trailing data");

    struct stats st = {.hash = FNV_BASIS};
    walk(ps.nodes, root, 1, &st);
    printf("parse %ldMB bytes=%lu nodes=%llu objects=%llu arrays=%llu strings=%llu numbers=%llu "
           "literals=%llu depth=%d hash=%016llx\n",
           mb, (unsigned long)doc.len, (unsigned long long)st.nodes,
           (unsigned long long)st.kinds[K_OBJ], (unsigned long long)st.kinds[K_ARR],
           (unsigned long long)st.kinds[K_STR], (unsigned long long)st.kinds[K_NUM],
           (unsigned long long)(st.kinds[K_TRUE] + st.kinds[K_FALSE] + st.kinds[K_NULL]), st.depth,
           (unsigned long long)st.hash);
    free(ps.nodes);
    free(doc.p);
    return 0;
}
