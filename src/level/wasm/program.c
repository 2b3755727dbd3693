/* Loading and running a WASI command module (program.h). */
#define _GNU_SOURCE
#include "level/wasm/program.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"
#include "level/wasm/decode.h"
#include "level/wasm/validate.h"

struct wasm_program {
    char *bytes;
    struct wasm_module *m;
    struct wasi_ctx *wasi;
    struct wasm_instance *inst;
    struct wasm_func *start;
};

void wasm_program_free(struct wasm_program *p)
{
    if (p == NULL)
        return;
    wasm_instance_free(p->inst);
    wasi_free(p->wasi);
    wasm_module_free(p->m);
    free(p->bytes);
    free(p);
}

struct wasm_program *wasm_program_load(const char *path, const struct wasi_config *cfg, cerr_t *err)
{
    struct wasm_program *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        cerr_set(err, ENOMEM, "%s", path);
        return NULL;
    }
    size_t len = 0;
    p->bytes = read_file(path, &len, err);
    if (p->bytes == NULL)
        goto fail;
    p->m = wasm_decode((const uint8_t *)p->bytes, len, err);
    if (p->m == NULL || wasm_validate(p->m, (const uint8_t *)p->bytes, err) < 0) {
        cerr_wrap(err, "%s: %s module", path, p->m == NULL ? "malformed" : "invalid");
        goto fail;
    }
    p->wasi = wasi_new(cfg, err);
    if (p->wasi == NULL)
        goto fail;
    p->inst = wasm_instantiate(p->m, wasi_resolve, p->wasi, err);
    if (p->inst == NULL) {
        cerr_wrap(err, "%s", path);
        goto fail;
    }
    const struct wasm_extern *e = wasm_instance_export(p->inst, "_start");
    if (e == NULL || e->kind != WASM_EXTERN_FUNC || e->u.func->sig->nparams != 0 ||
        e->u.func->sig->nresults != 0) {
        cerr_set(err, 0, "%s: no `_start` function of type [] -> [] (not a WASI command)", path);
        goto fail;
    }
    p->start = e->u.func;
    return p;
fail:
    wasm_program_free(p);
    return NULL;
}

int wasm_program_run(struct wasm_program *p)
{
    const char *trap = wasm_call(p->start, NULL, NULL);
    if (trap == NULL)
        return 0;
    if (trap == WASM_TRAP_EXIT)
        return wasi_exit_code(p->wasi);
    fflush(stdout);
    fprintf(stderr, "wasm trap: %s\n", trap);
    return WASM_TRAP_STATUS;
}

int wasm_tcp_listen(const char *addr_port, cerr_t *err)
{
    autofree char *copy = xstrdup(addr_port);
    char *colon = strrchr(copy, ':');
    if (colon == NULL || colon == copy)
        return cerr_set(err, 0, "--tcplisten `%s`: expected ADDR:PORT", addr_port);
    *colon = '\0';
    long port;
    if (parse_long(colon + 1, &port) < 0 || port < 0 || port > 65535)
        return cerr_set(err, 0, "--tcplisten `%s`: bad port", addr_port);
    char *host = copy;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        host++;
    }
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        sl = sizeof(*in4);
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        sl = sizeof(*in6);
    } else {
        return cerr_set(err, 0, "--tcplisten `%s`: not an IP address", addr_port);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cerr_set(err, errno, "--tcplisten `%s`: socket", addr_port);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
        cerr_set(err, errno, "--tcplisten `%s`: bind", addr_port);
        close(fd);
        return -1;
    }
    return fd;
}
