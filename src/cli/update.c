#define _GNU_SOURCE
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/lifecycle.h"
#include "core/log.h"
#include "core/util.h"

static int num(const char *opt, const char *s, int64_t *out, cerr_t *err)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0')
        return cli_usage_error(err, "update", "--%s: expected a number, got `%s`", opt, s);
    *out = v;
    return 0;
}

/* A size as runc reads it (go-units RAMInBytes): a decimal number, an optional
 * space, then nothing, b, or k, m, g, t, p with an optional b or ib, in any
 * case; the units are powers of 1024 ("50M", "1.5g", "64MiB", "100 kb").
 * "-1" is unlimited. */
static int size(const char *opt, const char *s, int64_t *out, cerr_t *err)
{
    if (strcmp(s, "-1") == 0) {
        *out = -1;
        return 0;
    }
    size_t n = strspn(s, "0123456789.");
    const char *sfx = s + n + (s[n] == ' ');
    char lower[4] = {0};
    size_t sl = strlen(sfx);
    for (size_t i = 0; i < sl && i < 3; i++)
        lower[i] = (char)tolower((unsigned char)sfx[i]);
    static const char units[] = "kmgtp";
    const char *u = sl > 0 ? strchr(units, lower[0]) : NULL;
    bool sfx_ok = sl == 0 || (sl == 1 && lower[0] == 'b') ||
                  (u != NULL && (sl == 1 || (sl == 2 && lower[1] == 'b') ||
                                 (sl == 3 && strcmp(lower + 1, "ib") == 0)));
    autofree char *num = strndup(s, n);
    char *end;
    double v = n > 0 && num != NULL ? strtod(num, &end) : 0;
    if (n == 0 || num == NULL || *end != '\0' || !sfx_ok)
        return cli_usage_error(err, "update", "--%s: invalid size `%s`", opt, s);
    for (const char *p = units; u != NULL && p <= u; p++)
        v *= 1024;
    if (v >= 9223372036854775807.0)
        return cli_usage_error(err, "update", "--%s: `%s` is too large", opt, s);
    *out = (int64_t)v;
    return 0;
}

int cmd_update(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    enum {
        O_MEM = 256,
        O_SWAP,
        O_MEMRES,
        O_SHARES,
        O_QUOTA,
        O_PERIOD,
        O_CPUS,
        O_MEMS,
        O_PIDS,
        O_BLKIO,
        O_RT_PERIOD,
        O_RT_RUNTIME,
        O_KMEM,
        O_KMEM_TCP
    };
    static const struct option opts[] = {
        {"resources", required_argument, 0, 'r'},
        {"memory", required_argument, 0, O_MEM},
        {"memory-swap", required_argument, 0, O_SWAP},
        {"memory-reservation", required_argument, 0, O_MEMRES},
        {"cpu-shares", required_argument, 0, O_SHARES},
        {"cpu-quota", required_argument, 0, O_QUOTA},
        {"cpu-period", required_argument, 0, O_PERIOD},
        {"cpuset-cpus", required_argument, 0, O_CPUS},
        {"cpuset-mems", required_argument, 0, O_MEMS},
        {"pids-limit", required_argument, 0, O_PIDS},
        {"blkio-weight", required_argument, 0, O_BLKIO},
        {"cpu-rt-period", required_argument, 0, O_RT_PERIOD},
        {"cpu-rt-runtime", required_argument, 0, O_RT_RUNTIME},
        {"kernel-memory", required_argument, 0, O_KMEM},
        {"kernel-memory-tcp", required_argument, 0, O_KMEM_TCP},
        {"cpu-share", required_argument, 0, O_SHARES}, /* runc's spelling */
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    struct spec_resources r;
    memset(&r, 0, sizeof(r));
    r.present = true;
    const char *file = NULL;
    int64_t v = 0;
    int c, ret = -1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "r:h", opts, NULL)) != -1) {
        const char *name = c >= 256 ? opts[c - 256 + 1].name : "";
        bool is_size = c == O_MEM || c == O_SWAP || c == O_MEMRES || c == O_KMEM || c == O_KMEM_TCP;
        if (is_size && size(name, optarg, &v, err) < 0)
            goto out;
        if (c >= 256 && !is_size && c != O_CPUS && c != O_MEMS && num(name, optarg, &v, err) < 0)
            goto out;
        switch (c) {
        case 'r':
            file = optarg;
            break;
        case O_MEM:
            r.memory.limit.set = true, r.memory.limit.v = v;
            break;
        case O_SWAP:
            r.memory.swap.set = true, r.memory.swap.v = v;
            break;
        case O_MEMRES:
            r.memory.reservation.set = true, r.memory.reservation.v = v;
            break;
        case O_SHARES:
            r.cpu.shares.set = true, r.cpu.shares.v = (uint64_t)v;
            break;
        case O_QUOTA:
            r.cpu.quota.set = true, r.cpu.quota.v = v;
            break;
        case O_PERIOD:
            r.cpu.period.set = true, r.cpu.period.v = (uint64_t)v;
            break;
        case O_CPUS:
            r.cpu.cpus = xstrdup(optarg);
            break;
        case O_MEMS:
            r.cpu.mems = xstrdup(optarg);
            break;
        case O_PIDS:
            r.pids.limit.set = true, r.pids.limit.v = v;
            break;
        case O_BLKIO:
            r.blkio.weight.set = true, r.blkio.weight.v = (uint16_t)v;
            break;
        case O_RT_PERIOD:
            r.cpu.realtime_period.set = true, r.cpu.realtime_period.v = (uint64_t)v;
            break;
        case O_RT_RUNTIME:
            r.cpu.realtime_runtime.set = true, r.cpu.realtime_runtime.v = v;
            break;
        case O_KMEM:
        case O_KMEM_TCP:
            if (v != 0)
                log_warn("--%s: kernel memory settings are ignored", name);
            break;
        case 'h':
            cli_help("update");
        default:
            cli_usage_error(err, "update", "unknown option `%s`", argv[optind - 1]);
            goto out;
        }
    }
    const char *id = cli_one_id("update", argc, argv, optind, err);
    if (id == NULL)
        goto out;
    if (file != NULL &&
        (r.memory.limit.set || r.memory.swap.set || r.memory.reservation.set || r.cpu.shares.set ||
         r.cpu.quota.set || r.cpu.period.set || r.cpu.cpus || r.cpu.mems || r.pids.limit.set ||
         r.blkio.weight.set || r.cpu.realtime_period.set || r.cpu.realtime_runtime.set)) {
        cli_usage_error(err, "update", "give either --resources FILE or single options, not both");
        goto out;
    }
    if (file != NULL) {
        size_t len;
        autofree char *text = strcmp(file, "-") == 0 ? read_file("/dev/stdin", &len, err)
                                                     : read_file(file, &len, err);
        if (text == NULL)
            goto out;
        spec_resources_clear(&r);
        if (spec_parse_resources(text, len, file, &r, err) < 0)
            goto out;
    }
    ret = lc_update(g, id, &r, err);
out:
    spec_resources_clear(&r);
    return ret < 0 ? -1 : 0;
}
