/* The agent's boot configuration: the `cella.*` words of the kernel command
 * line (the kernel keeps dotted words out of init's argv and environment, so
 * the agent reads /proc/cmdline). The host writes them; docs/guest-agent.md
 * lists them. */
#define _GNU_SOURCE
#include "agent.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_str(char *dst, size_t size, const char *word, const char *val)
{
    if (strlen(val) >= size)
        fatal("kernel command line: %s: value longer than %zu bytes", word, size - 1);
    strcpy(dst, val);
}

static int parse_int(const char *word, const char *val, long min, long max)
{
    char *end;
    long v = strtol(val, &end, 10);
    if (*val == '\0' || *end != '\0' || v < min || v > max)
        fatal("kernel command line: %s: expected an integer in %ld..%ld, got `%s'", word, min, max,
              val);
    return (int)v;
}

static void parse_ipv4(const char *word, const char *val)
{
    struct in_addr a;
    if (inet_pton(AF_INET, val, &a) != 1)
        fatal("kernel command line: %s: expected an IPv4 address, got `%s'", word, val);
}

static void parse_ip(struct boot_config *c, const char *word, const char *val)
{
    const char *slash = strchr(val, '/');
    if (slash == NULL)
        fatal("kernel command line: %s: expected ADDR/PREFIX, got `%s'", word, val);
    char addr[sizeof(c->ip)];
    if ((size_t)(slash - val) >= sizeof(addr))
        fatal("kernel command line: %s: expected ADDR/PREFIX, got `%s'", word, val);
    memcpy(addr, val, (size_t)(slash - val));
    addr[slash - val] = '\0';
    parse_ipv4(word, addr);
    c->prefix = parse_int(word, slash + 1, 0, 32);
    strcpy(c->ip, addr);
}

static void parse_dns(struct boot_config *c, const char *word, const char *val)
{
    set_str(c->dns, sizeof(c->dns), word, val);
    char tmp[sizeof(c->dns)];
    strcpy(tmp, val);
    char *save = NULL;
    for (char *s = strtok_r(tmp, ",", &save); s; s = strtok_r(NULL, ",", &save))
        parse_ipv4(word, s);
}

static void parse_word(struct boot_config *c, const char *name, const char *val)
{
    if (strcmp(name, "cella.root") == 0)
        set_str(c->root, sizeof(c->root), name, val);
    else if (strcmp(name, "cella.rootfstype") == 0)
        set_str(c->rootfstype, sizeof(c->rootfstype), name, val);
    else if (strcmp(name, "cella.ip") == 0)
        parse_ip(c, name, val);
    else if (strcmp(name, "cella.gw") == 0) {
        parse_ipv4(name, val);
        set_str(c->gw, sizeof(c->gw), name, val);
    } else if (strcmp(name, "cella.mtu") == 0)
        c->mtu = parse_int(name, val, 68, 65535);
    else if (strcmp(name, "cella.readonly") == 0)
        c->readonly = parse_int(name, val, 0, 1);
    else if (strcmp(name, "cella.dns") == 0)
        parse_dns(c, name, val);
    else
        /* A newer host may pass words this agent does not know yet. */
        alog("kernel command line: unknown word `%s': ignored", name);
}

void cmdline_parse(const char *text, struct boot_config *c)
{
    *c = (struct boot_config){0};
    strcpy(c->rootfstype, "erofs");
    char word[512];
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        size_t n = 0;
        int quoted = 0;
        /* A double-quoted part may hold spaces, as the kernel allows. */
        while (*p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n'))) {
            if (*p == '"')
                quoted = !quoted;
            else if (n + 1 < sizeof(word))
                word[n++] = *p;
            p++;
        }
        word[n] = '\0';
        if (n < 6 || memcmp(word, "cella.", 6) != 0)
            continue;
        char *eq = strchr(word, '=');
        if (eq == NULL)
            fatal("kernel command line: `%s': expected NAME=VALUE", word);
        *eq = '\0';
        parse_word(c, word, eq + 1);
    }
    if (c->gw[0] && !c->ip[0])
        fatal("kernel command line: cella.gw without cella.ip");
}
