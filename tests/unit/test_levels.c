/* The level interface: which level a bundle gets (annotation, option, each
 * level's detect, default), and that the container level's exec is never
 * the way into a container whose level owns exec. */
#include "core/error.h"
#include "level/container/container.h"
#include "level/fields.h"
#include "level/level.h"
#include "unit.h"

static struct spec *parse(const char *json)
{
    cerr_t err = NULL;
    struct spec *s = spec_parse(json, strlen(json), "config.json", &err);
    if (s == NULL)
        printf("#   %s\n", cerr_msg(err));
    cerr_free(&err);
    return s;
}

static const char *level_of(const char *json, const char *isolation)
{
    struct globals g = {.isolation = isolation, .isolation_origin = "--isolation"};
    struct spec *s = parse(json);
    cerr_t err = NULL;
    const struct level_ops *l = s ? level_for_spec(s, &g, &err) : NULL;
    if (l == NULL && err != NULL)
        printf("#   %s\n", cerr_msg(err));
    cerr_free(&err);
    spec_free(s);
    return l ? l->name : "(none)";
}

#define HEAD "{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"rootfs\"}, "

static void test_level_choice(void)
{
    CHECK_STR(level_of(HEAD "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}}", NULL),
              "container");
    CHECK_STR(level_of(HEAD "\"process\": {\"args\": [\"/app/x.wasm\"], \"cwd\": \"/\"}}", NULL),
              "wasm");
    CHECK_STR(level_of(HEAD "\"process\": {\"args\": [\"/app/x\"], \"cwd\": \"/\"}, "
                            "\"annotations\": {\"module.wasm.image/variant\": \"compat\"}}",
                       NULL),
              "wasm");
    /* A level asked for wins over what detect says. */
    CHECK_STR(level_of(HEAD "\"process\": {\"args\": [\"/app/x.wasm\"], \"cwd\": \"/\"}}", "qemu"),
              "qemu");
    CHECK_STR(level_of(HEAD "\"process\": {\"args\": [\"/app/x.wasm\"], \"cwd\": \"/\"}, "
                            "\"annotations\": {\"run.cella.isolation\": \"container\"}}",
                       "wasm"),
              "container");
}

/* Every built level states its exec; container_exec refuses a container of
 * a level whose exec is its own, before touching the container. */
static void test_exec_owned(void)
{
    size_t n;
    const struct level_entry *t = level_table(&n);
    for (size_t i = 0; i < n; i++)
        if (t[i].ops != NULL && t[i].ops->exec == NULL)
            printf("#   level %s has no exec\n", t[i].name), unit_failed_now = 1;
    struct cstate st = {.pid = 1};
    struct container c = {.id = "x", .dirfd = -1, .st = &st, .ops = &qemu_level};
    struct exec_opts o = {0};
    int status = 0;
    cerr_t err = NULL;
    CHECK(container_exec(&c, &o, &status, &err) < 0);
    CHECK_STR(cerr_msg(err), "exec: the qemu level runs its own exec");
    cerr_free(&err);
}

/* The line a level's check gives for a field it cannot apply, or "" when
 * the fields of `which` are all absent. */
static const char *refusal(const char *json, const char *level, unsigned which)
{
    static char line[256];
    struct spec *s = parse(json);
    cerr_t err = NULL;
    line[0] = '\0';
    if (s != NULL && level_refuse_fields(s, level, which, &err) < 0)
        snprintf(line, sizeof(line), "%s", cerr_msg(err));
    cerr_free(&err);
    spec_free(s);
    return s ? line : "(unparsed)";
}

#define PROC "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\""
static void test_refuse_fields(void)
{
    CHECK_STR(refusal(HEAD PROC "}}", "vm", LF_VM_LEVELS), "");
    CHECK_STR(refusal(HEAD PROC "}, \"linux\": {\"personality\": {\"domain\": \"LINUX\"}}}", "vm",
                      LF_VM_LEVELS),
              "linux.personality: not supported at the vm level");
    /* Applied to the VM's host processes (vmhost.c): Docker sets it always. */
    CHECK_STR(refusal(HEAD PROC ", \"oomScoreAdj\": 5}}", "qemu", LF_VM_LEVELS), "");
    CHECK_STR(refusal(HEAD PROC ", \"apparmorProfile\": \"x\"}}", "vm", LF_VM_LEVELS),
              "process.apparmorProfile: not supported by cella yet: refused rather than ignored");
    /* The sandbox keeps domain LINUX and refuses LINUX32 only. */
    CHECK_STR(refusal(HEAD PROC "}, \"linux\": {\"personality\": {\"domain\": \"LINUX\"}}}",
                      "sandbox", LF_SANDBOX_LEVEL),
              "");
    CHECK_STR(refusal(HEAD PROC "}, \"linux\": {\"personality\": {\"domain\": \"LINUX32\"}}}",
                      "sandbox", LF_SANDBOX_LEVEL),
              "linux.personality: not supported at the sandbox level (domain LINUX32: its kernel "
              "answers uname as x86_64)");
}

int main(void)
{
    RUN(test_refuse_fields);
    RUN(test_level_choice);
    RUN(test_exec_owned);
    return UNIT_DONE();
}
