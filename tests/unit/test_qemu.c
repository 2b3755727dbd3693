/* The qemu level's pure parts: the VM's configuration from a spec (vCPUs,
 * memory, boot timeout, published ports: level/vmhost/vm.c with QEMU's
 * backend), QEMU's and the guest kernel's command lines, and the OCI process
 * as RUN fields (level/vmhost/process.c). The level's lifecycle is
 * tests/integration/test_qemu.sh's. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <unistd.h>

#include "core/util.h"
#include "level/qemu/net.h"
#include "level/qemu/qemu.h"
#include "level/qemu/qemu_cmd.h"
#include "level/vmhost/process.h"
#include "level/vmhost/tap.h"
#include "level/vmhost/vm.h"
#include "unit.h"

static bool has_arg(char **argv, const char *opt, const char *value)
{
    for (char **a = argv; a[0] && a[1]; a++)
        if (strcmp(a[0], opt) == 0 && strcmp(a[1], value) == 0)
            return true;
    return false;
}

static void check_hostfwd(const char *port, const char *want)
{
    cerr_t err = NULL;
    autofree char *got = qemu_net_hostfwd(port, &err);
    if (want == NULL) {
        CHECK(got == NULL);
        CHECK(err != NULL && strstr(cerr_msg(err), "run.cella.qemu.ports") != NULL);
    } else {
        CHECK_STR(got, want);
    }
    cerr_free(&err);
}

static void test_hostfwd(void)
{
    check_hostfwd("8080:80", "tcp::8080-:80");
    check_hostfwd("udp:5353:53", "udp::5353-:53");
    check_hostfwd("127.0.0.1:8080:80", "tcp:127.0.0.1:8080-:80");
    check_hostfwd("tcp:127.0.0.1:8080:80", "tcp:127.0.0.1:8080-:80");
    check_hostfwd("80", NULL);
    check_hostfwd("0:80", NULL);
    check_hostfwd("8080:65536", NULL);
    check_hostfwd("sctp:1:2:3", NULL);
    check_hostfwd("300.1.1.1:1:2", NULL);
    check_hostfwd("tcp:1.2.3.4:1:2:3", NULL);
}

/* q: QEMU's part of the configuration. */
static struct vm_config base_config(struct qemu_config *q)
{
    *q = (struct qemu_config){.qemu = "/usr/bin/qemu-system-x86_64", .hostfwd = ""};
    return (struct vm_config){.backend = &qemu_backend,
                              .vmm = q,
                              .kernel = "/k/vmlinux",
                              .initrd = "/k/agent.cpio",
                              .image = "/c/img.erofs",
                              .fstype = "erofs",
                              .vcpus = 1,
                              .mem_mib = 128,
                              .tap_fd = -1,
                              .guest_net = "cella.ip=10.0.2.15/24"};
}

static void test_cmdline_tcg(void)
{
    struct qemu_config q;
    struct vm_config cfg = base_config(&q);
    q.tsc_khz = 2445428;
    cfg.readonly = true;
    autofree char *one = qemu_kernel_cmdline(&cfg);
    CHECK(strstr(one, "console=ttyS0 reboot=k panic=-1 quiet") != NULL);
    CHECK(strstr(one, " noreplace-smp nolapic_timer") != NULL);
    CHECK(strstr(one, " tsc_early_khz=2445428 tsc=reliable") != NULL);
    CHECK(strstr(one, " cella.root=/dev/vda cella.rootfstype=erofs cella.readonly=1 ") != NULL);
    CHECK(strstr(one, " cella.ip=10.0.2.15/24") != NULL);
    cfg.vcpus = 2; /* the PIT cannot be every CPU's tick */
    q.tsc_khz = 0;
    cfg.readonly = false;
    autofree char *two = qemu_kernel_cmdline(&cfg);
    CHECK(strstr(two, "nolapic_timer") == NULL && strstr(two, "tsc_early_khz") == NULL);
    CHECK(strstr(two, "cella.readonly") == NULL);
}

static void test_cmdline_kvm(void)
{
    struct qemu_config q;
    struct vm_config cfg = base_config(&q);
    q.kvm = true;
    q.tsc_khz = 2445428; /* not for KVM: kvmclock */
    autofree char *line = qemu_kernel_cmdline(&cfg);
    CHECK(strstr(line, "noreplace-smp") == NULL && strstr(line, "tsc_early_khz") == NULL);
    char **argv = qemu_argv(&cfg, 7);
    CHECK(has_arg(argv, "-accel", "kvm") && has_arg(argv, "-cpu", "host"));
    qemu_argv_free(argv);
}

static void test_argv_user_net(void)
{
    struct qemu_config q;
    struct vm_config cfg = base_config(&q);
    q.hostfwd = ",hostfwd=tcp::8080-:80";
    cfg.vcpus = 2;
    char **argv = qemu_argv(&cfg, 7);
    CHECK_STR(argv[0], "/usr/bin/qemu-system-x86_64");
    CHECK(has_arg(argv, "-M", "microvm,acpi=off,x-option-roms=off"));
    CHECK(has_arg(argv, "-accel", "tcg") && has_arg(argv, "-smp", "2") &&
          has_arg(argv, "-m", "128"));
    CHECK(has_arg(argv, "-kernel", "/k/vmlinux") && has_arg(argv, "-initrd", "/k/agent.cpio"));
    CHECK(has_arg(argv, "-chardev", "socket,id=agent,fd=7"));
    CHECK(has_arg(argv, "-device", "virtserialport,chardev=agent,name=cella.agent"));
    CHECK(has_arg(argv, "-drive", "file=/c/img.erofs,format=raw,if=none,readonly=on,id=root"));
    CHECK(has_arg(argv, "-netdev", "user,id=n0,hostfwd=tcp::8080-:80"));
    CHECK(has_arg(argv, "-device", "virtio-net-device,netdev=n0"));
    qemu_argv_free(argv);
    /* A comma in the image's path (the cache is $CELLA_ROOTFS_CACHE) is
     * doubled: QEMU would take what follows for an option. */
    cfg.image = "/c,x/img.erofs";
    argv = qemu_argv(&cfg, 7);
    CHECK(has_arg(argv, "-drive", "file=/c,,x/img.erofs,format=raw,if=none,readonly=on,id=root"));
    qemu_argv_free(argv);
}

static void test_argv_tap(void)
{
    struct qemu_config q;
    struct vm_config cfg = base_config(&q);
    cfg.tap_fd = 9;
    cfg.mac = "06:61:0d:c8:73:80";
    char **argv = qemu_argv(&cfg, 7);
    CHECK(has_arg(argv, "-netdev", "tap,id=n0,fd=9"));
    CHECK(has_arg(argv, "-device", "virtio-net-device,netdev=n0,mac=06:61:0d:c8:73:80"));
    qemu_argv_free(argv);
}

/* The fields of a RUN payload as "TAG=value" lines (u32 fields in decimal). */
static char *fields_text(const struct agent_buf *b)
{
    char *out = xstrdup("");
    size_t off = 0;
    uint16_t tag;
    const uint8_t *p;
    uint32_t n;
    while (agent_next_field(b->data, b->len, &off, &tag, &p, &n) == 1) {
        char *v =
            tag == AGENT_F_UID || tag == AGENT_F_GID || tag == AGENT_F_GROUP || tag == AGENT_F_UMASK
                ? xasprintf("%u", agent_get_u32(p))
            : tag == AGENT_F_RLIMIT ? xasprintf("%u:%llu:%llu", agent_get_u32(p),
                                                (unsigned long long)agent_get_u64(p + 8),
                                                (unsigned long long)agent_get_u64(p + 16))
                                    : strndup((const char *)p, n);
        char *next = xasprintf("%s%u=%s\n", out, tag, v);
        free(v);
        free(out);
        out = next;
    }
    return out;
}

static void test_run_fields(void)
{
    char *args[] = {"/bin/sh", "-c", "true"}, *env[] = {"A=1"};
    gid_t groups[] = {10, 20};
    struct spec_rlimit nofile = {.type = "RLIMIT_NOFILE", .resource = 7, .soft = 64, .hard = 128};
    struct spec_process p = {.args = {.v = args, .n = 3},
                             .env = {.v = env, .n = 1},
                             .user = {.uid = 1000,
                                      .gid = 100,
                                      .additional_gids = groups,
                                      .n_additional_gids = 2,
                                      .has_umask = true,
                                      .umask = 022},
                             .rlimits = &nofile,
                             .n_rlimits = 1,
                             .no_new_privileges = true};
    struct agent_buf b = {0};
    cerr_t err = NULL;
    CHECK(vm_run_fields(&p, "vmhost", &b, &err) == 0);
    autofree char *text = fields_text(&b);
    CHECK_STR(text, "1=/bin/sh\n1=-c\n1=true\n2=A=1\n3=/\n4=1000\n5=100\n6=10\n6=20\n9=18\n"
                    "7=7:64:128\n10=\n8=vmhost\n");
    CHECK(!agent_run_has_tty(b.data, b.len));
    agent_buf_free(&b);
    /* A terminal: a TTY field, sized by the monitor (docs/vmhost.md). */
    p.terminal = true;
    CHECK(vm_run_fields(&p, NULL, &b, &err) == 0);
    CHECK(agent_run_has_tty(b.data, b.len));
    agent_buf_free(&b);
    p.terminal = false;
    p.args.n = 0;
    CHECK(vm_run_fields(&p, NULL, &b, &err) == -1);
    CHECK(err && strstr(cerr_msg(err), "process.args") != NULL);
    cerr_free(&err);
    agent_buf_free(&b);
    /* Fields that fit one by one but not together in one frame. */
    p.args.n = 3;
    static char big[64 * 1024];
    memset(big, 'x', sizeof(big) - 1);
    char *many[20];
    for (size_t i = 0; i < 20; i++)
        many[i] = big;
    p.env = (struct str_list){.v = many, .n = 20};
    CHECK(vm_run_fields(&p, NULL, &b, &err) == -1);
    CHECK(err && strstr(cerr_msg(err), "process: too large") != NULL);
    cerr_free(&err);
    agent_buf_free(&b);
}

/* vm_config_make finds QEMU on PATH; the guest files are named by their
 * variables (any readable file does). */
static struct spec *config_of(const char *json, struct vm_config *cfg, cerr_t *err)
{
    struct spec *s = spec_parse(json, strlen(json), "config.json", err);
    if (s == NULL)
        return NULL;
    if (vm_config_make(cfg, &qemu_backend, s, err) < 0) {
        spec_free(s);
        return NULL;
    }
    return s;
}

#define SPEC_HEAD "{\"ociVersion\": \"1.1.0\", \"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}, "

static void check_size(const char *linux_json, unsigned vcpus, unsigned mem)
{
    autofree char *json =
        xasprintf(SPEC_HEAD "\"root\": {\"path\": \"r\"}, \"linux\": %s}", linux_json);
    struct vm_config cfg;
    cerr_t err = NULL;
    struct spec *s = config_of(json, &cfg, &err);
    CHECK(s != NULL);
    if (s == NULL) {
        printf("#   %s\n", cerr_msg(err));
        cerr_free(&err);
        return;
    }
    CHECK(cfg.vcpus == vcpus);
    CHECK(cfg.mem_mib == mem);
    if (cfg.vcpus != vcpus || cfg.mem_mib != mem)
        printf("#   %s: %u vCPUs, %u MiB\n", linux_json, cfg.vcpus, cfg.mem_mib);
    vm_config_free(&cfg);
    spec_free(s);
}

static bool qemu_installed(void)
{
    setenv("CELLA_KERNEL", "/proc/self/exe", 1);
    setenv("CELLA_AGENT_INITRD", "/proc/self/exe", 1);
    unsetenv("CELLA_QEMU_BOOT_TIMEOUT");
    setenv("CELLA_QEMU_ACCEL", "tcg", 1);
    return system("command -v qemu-system-x86_64 >/dev/null") == 0;
}

static void test_resources(void)
{
    if (!qemu_installed())
        SKIP("qemu-system-x86_64 is not installed");
    check_size("{}", 1, 128);
    check_size("{\"resources\": {\"cpu\": {\"quota\": 150000, \"period\": 100000}}}", 2, 128);
    check_size("{\"resources\": {\"cpu\": {\"cpus\": \"0-2,5\"}}}", 4, 128);
    check_size("{\"resources\": {\"cpu\": {\"cpus\": \"0-63\"}}}", 8, 128);
    check_size("{\"resources\": {\"memory\": {\"limit\": 10485760}}}", 1, 64);
    check_size("{\"resources\": {\"memory\": {\"limit\": 209715201}}}", 1, 201);
}

static void check_config_error(const char *json, const char *want)
{
    struct vm_config cfg;
    cerr_t err = NULL;
    struct spec *s = config_of(json, &cfg, &err);
    CHECK(s == NULL);
    CHECK(err != NULL && strstr(cerr_msg(err), want) != NULL);
    if (err != NULL && strstr(cerr_msg(err), want) == NULL)
        printf("#   `%s` does not hold `%s`\n", cerr_msg(err), want);
    cerr_free(&err);
    if (s != NULL) {
        vm_config_free(&cfg);
        spec_free(s);
    }
}

static void test_annotations(void)
{
    if (!qemu_installed())
        SKIP("qemu-system-x86_64 is not installed");
    const char *ok = SPEC_HEAD "\"root\": {\"path\": \"r\"}, \"annotations\": "
                               "{\"run.cella.qemu.ports\": \"8080:80,udp:53:53\", "
                               "\"run.cella.qemu.boot-timeout\": \"5\"}}";
    struct vm_config cfg;
    cerr_t err = NULL;
    struct spec *s = config_of(ok, &cfg, &err);
    CHECK(s != NULL);
    if (s != NULL) {
        CHECK_STR(QEMU(&cfg)->hostfwd, ",hostfwd=tcp::8080-:80,hostfwd=udp::53-:53");
        CHECK(cfg.boot_timeout_s == 5 && !QEMU(&cfg)->kvm && cfg.tap_fd == -1);
        CHECK(cfg.guest_net && strstr(cfg.guest_net, "cella.gw=10.0.2.2") != NULL);
        vm_config_free(&cfg);
        spec_free(s);
    }
    cerr_free(&err);
    check_config_error(SPEC_HEAD "\"root\": {\"path\": \"r\"}, \"annotations\": "
                                 "{\"run.cella.qemu.boot-timeout\": \"0\"}}",
                       "run.cella.qemu.boot-timeout: expected seconds");
    check_config_error(SPEC_HEAD "\"root\": {\"path\": \"r\"}, \"annotations\": "
                                 "{\"run.cella.qemu.ports\": \"8080\"}}",
                       "run.cella.qemu.ports: `8080`");
    setenv("CELLA_KERNEL", "/nonexistent/vmlinux", 1);
    check_config_error(SPEC_HEAD "\"root\": {\"path\": \"r\"}}",
                       "guest kernel `/nonexistent/vmlinux` (from $CELLA_KERNEL)");
}

/* A tap taken over in a network namespace (veth inside it): success leaves
 * an error the caller already had as it was. */
static void test_tap_keeps_error(void)
{
    if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
        SKIP("needs root and /dev/net/tun");
    char ns[64], cmd[512];
    snprintf(ns, sizeof(ns), "cella-unit-%d", (int)getpid());
    snprintf(cmd, sizeof(cmd),
             "{ ip netns add %1$s && ip -n %1$s link add va type veth peer name vb && "
             "ip -n %1$s addr add 10.214.0.2/24 dev va && ip -n %1$s link set va up && "
             "ip -n %1$s link set vb up && command -v tc; } >/dev/null 2>&1",
             ns);
    int made = system(cmd);
    snprintf(cmd, sizeof(cmd), "ip netns del %s >/dev/null 2>&1", ns);
    if (made != 0) {
        made = system(cmd); /* whatever part was made */
        SKIP("cannot make a network namespace with a veth (ip, tc)");
    }
    autofree char *path = xasprintf("/var/run/netns/%s", ns);
    struct vm_config cfg = {.tap_fd = -1};
    char *dev = NULL;
    cerr_t err = NULL;
    cerr_set(&err, 0, "an earlier error");
    CHECK(vm_tap_make(&cfg, path, &dev, &err) == 0);
    CHECK(err != NULL && strcmp(cerr_msg(err), "an earlier error") == 0);
    CHECK_STR(dev, "va");
    cerr_free(&err);
    if (dev != NULL)
        vm_tap_remove(path, dev, &err);
    cerr_free(&err);
    free(dev);
    vm_config_free(&cfg);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    RUN(test_hostfwd);
    RUN(test_cmdline_tcg);
    RUN(test_cmdline_kvm);
    RUN(test_argv_user_net);
    RUN(test_argv_tap);
    RUN(test_run_fields);
    RUN(test_resources);
    RUN(test_annotations);
    RUN(test_tap_keeps_error);
    return UNIT_DONE();
}
