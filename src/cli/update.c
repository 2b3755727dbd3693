#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/lifecycle.h"
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
        O_BLKIO
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
        if (c >= 256 && c != O_CPUS && c != O_MEMS && num(name, optarg, &v, err) < 0)
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
        case 'h':
            printf("usage: cella update [--resources FILE] [--memory N] [--memory-swap N]\n"
                   "  [--memory-reservation N] [--cpu-shares N] [--cpu-quota N] [--cpu-period N]\n"
                   "  [--cpuset-cpus LIST] [--cpuset-mems LIST] [--pids-limit N]\n"
                   "  [--blkio-weight N] ID\n");
            exit(0);
        default:
            cli_usage_error(err, "update", "unknown option `%s`", argv[optind - 1]);
            goto out;
        }
    }
    const char *id = cli_one_id("update", argc, argv, optind, err);
    if (id == NULL)
        goto out;
    if (file != NULL && (r.memory.limit.set || r.memory.swap.set || r.memory.reservation.set ||
                         r.cpu.shares.set || r.cpu.quota.set || r.cpu.period.set || r.cpu.cpus ||
                         r.cpu.mems || r.pids.limit.set || r.blkio.weight.set)) {
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
