/* Conformance runner of the wasm engine over the official spec tests, as
 * converted to JSON + .wasm files (wast2json layout: NAME/NAME.json).
 *
 *   wasm_spec [--dir PATH] [-v] [FILE.json...]
 *
 * Counted: `module` (the binary must decode, validate and instantiate),
 * `register`, `action`, assert_return, assert_trap, assert_exhaustion,
 * assert_unlinkable, assert_uninstantiable (spec_exec.c), binary
 * `assert_malformed` (it must not decode) and binary `assert_invalid` (it
 * must not decode or validate); malformed/invalid messages are compared with
 * the expected text too. Skipped, with the reason counted: text-format
 * modules (cella reads the binary format only; wast2json kept them as .wat)
 * and, in simd_* files, what needs v128 execution (not in the interpreter
 * yet). Prints a line per file, TAP lines, and totals apart for simd_* files. */
#define _GNU_SOURCE
#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/util.h"
#include "level/wasm/decode.h"
#include "level/wasm/validate.h"
#include "level/wasm/jit.h"
#include "spec.h"

struct counts {
    int pass, fail, skip;
    int instantiated, executed;
    int malformed, malformed_pass, msg_exact, msg_prefix;
    int modules, modules_pass;
    int invalid, invalid_pass, inv_exact, inv_prefix;
    int wellformed, wellformed_ok; /* skipped binaries that must still be valid */
};

static bool verbose;

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Look for shared/wasm-spec/json beside the repo: walk up from `start`. */
static char *find_dir_from(const char *start)
{
    char cur[PATH_MAX];
    if (realpath(start, cur) == NULL)
        return NULL;
    for (;;) {
        char *c1 = xasprintf("%s/../shared/wasm-spec/json", cur);
        if (is_dir(c1))
            return c1;
        free(c1);
        char *c2 = xasprintf("%s/shared/wasm-spec/json", cur);
        if (is_dir(c2))
            return c2;
        free(c2);
        char *slash = strrchr(cur, '/');
        if (slash == NULL || slash == cur)
            return NULL;
        *slash = '\0';
    }
}

static char *find_dir(const char *argv0)
{
    char *d = find_dir_from(".");
    if (d != NULL)
        return d;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        snprintf(exe, sizeof(exe), "%s", argv0);
        n = (ssize_t)strlen(exe);
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    return find_dir_from(exe);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum { LOAD_OK = 0, LOAD_MALFORMED = -1, LOAD_UNREADABLE = -2, LOAD_INVALID = -3 };

/* Decode one .wasm file and, if `validate`, validate it: a LOAD_* (the
 * message in *err when not LOAD_OK). */
static int load_file(const char *dir, const char *fname, bool validate, cerr_t *err)
{
    autofree char *path = xasprintf("%s/%s", dir, fname);
    size_t len = 0;
    autofree char *data = read_file(path, &len, err);
    if (data == NULL)
        return LOAD_UNREADABLE;
    struct wasm_module *m = wasm_decode((const uint8_t *)data, len, err);
    if (m == NULL)
        return LOAD_MALFORMED;
    int rc = LOAD_OK;
    if (validate && wasm_validate(m, (const uint8_t *)data, err) < 0)
        rc = LOAD_INVALID;
    wasm_module_free(m);
    return rc;
}

static int decode_file(const char *dir, const char *fname, cerr_t *err)
{
    return load_file(dir, fname, false, err);
}

static void run_file(const char *json_path, const char *label, struct counts *c)
{
    json_error_t jerr;
    json_t *root = json_load_file(json_path, JSON_ALLOW_NUL, &jerr);
    if (root == NULL) {
        printf("# %s: cannot parse: %s\n", label, jerr.text);
        c->fail++;
        return;
    }
    autofree char *dir = xstrdup(json_path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    else
        strcpy(dir, ".");
    json_t *cmds = json_object_get(root, "commands");
    struct spec_exec *x = spec_exec_new();
    bool unsupported = false; /* the current module uses what the interpreter lacks */
    size_t i;
    json_t *cmd;
    json_array_foreach(cmds, i, cmd)
    {
        const char *type = json_string_value(json_object_get(cmd, "type"));
        const char *fname = json_string_value(json_object_get(cmd, "filename"));
        const char *mtype = json_string_value(json_object_get(cmd, "module_type"));
        long line = (long)json_integer_value(json_object_get(cmd, "line"));
        if (type == NULL)
            continue;
        if (strcmp(type, "module") == 0 && fname != NULL &&
            !starts_with(mtype ? mtype : "binary", "text")) {
            cerr_t err = NULL;
            int rc = load_file(dir, fname, true, &err);
            c->modules++;
            unsupported = false;
            if (rc == LOAD_OK) {
                c->modules_pass++;
                cerr_free(&err);
                autofree char *path = xasprintf("%s/%s", dir, fname);
                const char *name = json_string_value(json_object_get(cmd, "name"));
                rc = spec_exec_instantiate(x, path, name, &err);
                if (rc == SPEC_OK) {
                    c->pass++;
                    c->instantiated++;
                } else if (strstr(cerr_msg(err), "not supported by the interpreter") != NULL) {
                    c->skip++;
                    unsupported = true;
                } else {
                    c->fail++;
                    printf("# %s:%ld: module %s: %s\n", label, line, fname, cerr_msg(err));
                }
                spec_exec_set_current(x, rc == SPEC_OK);
            } else {
                c->fail++;
                spec_exec_set_current(x, false);
                printf("# %s:%ld: module %s: %s\n", label, line, fname, cerr_msg(err));
            }
            cerr_free(&err);
        } else if ((strcmp(type, "assert_unlinkable") == 0 ||
                    strcmp(type, "assert_uninstantiable") == 0) &&
                   fname != NULL && mtype != NULL && strcmp(mtype, "binary") == 0) {
            cerr_t err = NULL;
            autofree char *path = xasprintf("%s/%s", dir, fname);
            int want = strcmp(type, "assert_unlinkable") == 0 ? SPEC_LINK_ERROR : SPEC_TRAP;
            int rc = spec_exec_instantiate(x, path, NULL, &err);
            if (rc == want) {
                c->pass++;
            } else if (rc != SPEC_OK &&
                       strstr(cerr_msg(err), "not supported by the interpreter") != NULL) {
                c->skip++;
            } else {
                c->fail++;
                printf("# %s:%ld: %s %s: %s\n", label, line, type, fname,
                       rc == SPEC_OK ? "instantiated" : cerr_msg(err));
            }
            cerr_free(&err);
        } else if (strcmp(type, "register") == 0) {
            const char *as = json_string_value(json_object_get(cmd, "as"));
            const char *name = json_string_value(json_object_get(cmd, "name"));
            if (as != NULL && spec_exec_register(x, as, name) == 0) {
                c->pass++;
            } else if (unsupported) {
                c->skip++;
            } else {
                c->fail++;
                printf("# %s:%ld: register %s: no such module\n", label, line, as ? as : "");
            }
        } else if (strcmp(type, "action") == 0 || strcmp(type, "assert_return") == 0 ||
                   strcmp(type, "assert_trap") == 0 || strcmp(type, "assert_exhaustion") == 0) {
            const char *why = NULL;
            int rc = spec_exec_assert(x, cmd, &why);
            if (rc == SPEC_OK) {
                c->pass++;
                c->executed++;
            } else if (rc == SPEC_SKIP || (rc == SPEC_LOAD_ERROR && unsupported)) {
                c->skip++;
            } else {
                c->fail++;
                if (c->fail <= 20 || verbose)
                    printf("# %s:%ld: %s: %s\n", label, line, type, why ? why : "failed");
            }
        } else if (strcmp(type, "assert_malformed") == 0 && mtype != NULL &&
                   strcmp(mtype, "binary") == 0 && fname != NULL) {
            const char *text = json_string_value(json_object_get(cmd, "text"));
            cerr_t err = NULL;
            int rc = decode_file(dir, fname, &err);
            c->malformed++;
            if (rc == -1) {
                c->pass++;
                c->malformed_pass++;
                const char *msg = cerr_msg(err);
                if (text != NULL && strcmp(msg, text) == 0)
                    c->msg_exact++;
                if (text != NULL && starts_with(msg, text))
                    c->msg_prefix++;
                if (verbose && (text == NULL || strcmp(msg, text) != 0))
                    printf("# %s:%ld: %s: expected \"%s\", got \"%s\"\n", label, line, fname,
                           text ? text : "", msg);
            } else {
                c->fail++;
                printf("# %s:%ld: %s: decoded, expected malformed (\"%s\")%s%s\n", label, line,
                       fname, text ? text : "", rc == -2 ? ": " : "",
                       rc == -2 ? cerr_msg(err) : "");
            }
            cerr_free(&err);
        } else if (strcmp(type, "assert_invalid") == 0 && mtype != NULL &&
                   strcmp(mtype, "binary") == 0 && fname != NULL) {
            const char *text = json_string_value(json_object_get(cmd, "text"));
            cerr_t err = NULL;
            int rc = load_file(dir, fname, true, &err);
            c->invalid++;
            if (rc == LOAD_MALFORMED || rc == LOAD_INVALID) {
                c->pass++;
                c->invalid_pass++;
                const char *msg = cerr_msg(err);
                if (text != NULL && strcmp(msg, text) == 0)
                    c->inv_exact++;
                if (text != NULL && starts_with(msg, text))
                    c->inv_prefix++;
                if (verbose && (text == NULL || !starts_with(msg, text)))
                    printf("# %s:%ld: %s: expected \"%s\", got \"%s\"%s\n", label, line, fname,
                           text ? text : "", msg, rc == LOAD_MALFORMED ? " (malformed)" : "");
            } else {
                c->fail++;
                printf("# %s:%ld: %s: valid, expected invalid (\"%s\")%s%s\n", label, line, fname,
                       text ? text : "", rc == LOAD_UNREADABLE ? ": " : "",
                       rc == LOAD_UNREADABLE ? cerr_msg(err) : "");
            }
            cerr_free(&err);
        } else {
            c->skip++; /* text modules; interpreter needed */
            /* Unlinkable or uninstantiable binaries are valid: tell (without
             * counting them) whether they decode and validate. */
            if (fname != NULL && mtype != NULL && strcmp(mtype, "binary") == 0 &&
                strcmp(type, "assert_malformed") != 0) {
                cerr_t err = NULL;
                c->wellformed++;
                if (load_file(dir, fname, true, &err) >= 0)
                    c->wellformed_ok++;
                else if (verbose)
                    printf("# %s:%ld: %s (%s, skipped): %s\n", label, line, fname, type,
                           cerr_msg(err));
                cerr_free(&err);
            }
        }
    }
    spec_exec_free(x);
    json_decref(root);
}

static void add(struct counts *t, const struct counts *c)
{
    t->pass += c->pass;
    t->instantiated += c->instantiated;
    t->executed += c->executed;
    t->fail += c->fail;
    t->skip += c->skip;
    t->malformed += c->malformed;
    t->malformed_pass += c->malformed_pass;
    t->msg_exact += c->msg_exact;
    t->msg_prefix += c->msg_prefix;
    t->modules += c->modules;
    t->modules_pass += c->modules_pass;
    t->invalid += c->invalid;
    t->invalid_pass += c->invalid_pass;
    t->inv_exact += c->inv_exact;
    t->inv_prefix += c->inv_prefix;
    t->wellformed += c->wellformed;
    t->wellformed_ok += c->wellformed_ok;
}

static void total(const char *what, const struct counts *t)
{
    printf("# %s: %d passed, %d failed, %d skipped; modules instantiated %d, assertions run %d; "
           "modules decoded+validated %d/%d; binary "
           "assert_malformed rejected %d/%d (message exact %d, prefix %d); binary assert_invalid "
           "rejected %d/%d (message exact %d, prefix %d); skipped unlinkable/uninstantiable "
           "binaries decoded+validated %d/%d\n",
           what, t->pass, t->fail, t->skip, t->instantiated, t->executed, t->modules_pass,
           t->modules, t->malformed_pass, t->malformed, t->msg_exact, t->msg_prefix,
           t->invalid_pass, t->invalid, t->inv_exact, t->inv_prefix, t->wellformed_ok,
           t->wellformed);
}

int main(int argc, char **argv)
{
    const char *dir_arg = NULL;
    int first = 1;
    while (first < argc && argv[first][0] == '-') {
        if (strcmp(argv[first], "--dir") == 0 && first + 1 < argc) {
            dir_arg = argv[first + 1];
            first += 2;
        } else if (strcmp(argv[first], "-v") == 0) {
            verbose = true;
            first++;
        } else {
            fprintf(stderr, "usage: %s [--dir PATH] [-v] [FILE.json...]\n", argv[0]);
            return 2;
        }
    }
    /* every function through the JIT at its first call, unless
     * CELLA_WASM_JIT says otherwise (scripts/test.sh also runs =0) */
    setenv("CELLA_WASM_JIT", "eager", 0);
    char *dir = dir_arg ? xstrdup(dir_arg) : find_dir(argv[0]);
    char **files = NULL;
    size_t nfiles = 0;
    if (first < argc) {
        files = calloc((size_t)(argc - first), sizeof(*files));
        for (int i = first; i < argc; i++) {
            if (access(argv[i], R_OK) == 0 || dir == NULL)
                files[nfiles++] = xstrdup(argv[i]);
            else
                files[nfiles++] = xasprintf("%s/%s", dir, argv[i]);
        }
    } else {
        DIR *d = dir ? opendir(dir) : NULL;
        if (d == NULL) {
            printf("1..0 # SKIP wasm spec tests not found (%s)\n",
                   dir ? dir : "../shared/wasm-spec/json");
            free(dir);
            return 0;
        }
        struct dirent *de;
        size_t cap = 0;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            char *p = xasprintf("%s/%s/%s.json", dir, de->d_name, de->d_name);
            if (access(p, R_OK) != 0) {
                free(p);
                continue;
            }
            if (nfiles == cap) {
                cap = cap ? cap * 2 : 64;
                files = realloc(files, cap * sizeof(*files));
            }
            files[nfiles++] = p;
        }
        closedir(d);
        qsort(files, nfiles, sizeof(*files), cmp_str);
    }
    struct counts plain = {0}, simd = {0};
    int tap = 0, failed_files = 0;
    for (size_t i = 0; i < nfiles; i++) {
        const char *base = strrchr(files[i], '/');
        base = base ? base + 1 : files[i];
        struct counts c = {0};
        run_file(files[i], base, &c);
        printf("%s: %d passed, %d failed, %d skipped\n", base, c.pass, c.fail, c.skip);
        tap++;
        if (c.fail > 0) {
            printf("not ok %d - %s\n", tap, base);
            failed_files++;
        } else if (c.pass == 0) {
            printf("ok %d - %s # SKIP nothing the decoder and validator can check\n", tap, base);
        } else {
            printf("ok %d - %s\n", tap, base);
        }
        add(starts_with(base, "simd_") ? &simd : &plain, &c);
        free(files[i]);
    }
    printf("1..%d\n", tap);
    total("non-SIMD", &plain);
    total("SIMD", &simd);
    /* scripts/test.sh runs the suite eager (the default here), tiered with
     * CELLA_WASM_JIT_HOT=2 (every loop enters machine code at its head) and
     * with the interpreter alone (CELLA_WASM_JIT=0). */
    struct wasm_jit_stats js;
    wasm_jit_get_stats(&js);
    if (!wasm_jit_enabled()) {
        printf("# JIT off: every function interpreted\n");
    } else {
        printf("# JIT (%s): %zu functions translated (%zu KiB of code), %zu left interpreted, "
               "%zu activations moved into machine code at a loop head\n",
               wasm_jit_mode() == WASM_JIT_EAGER ? "eager" : "tiered", js.translated,
               js.bytes >> 10, js.interpreted, js.osr);
        if (tap > 0 && js.translated == 0) {
            printf("not ok - the JIT translated no function\n");
            failed_files++;
        }
        if (tap > 0 && wasm_jit_mode() == WASM_JIT_TIERED && wasm_jit_hot() <= 2 && js.osr == 0) {
            printf("not ok - no loop moved into machine code (CELLA_WASM_JIT_HOT=%u)\n",
                   wasm_jit_hot());
            failed_files++;
        }
    }
    free(files);
    free(dir);
    return failed_files > 0 ? 1 : 0;
}
