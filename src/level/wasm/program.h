/* A WASI command module made ready to run: read, decoded, validated,
 * linked against WASI and instantiated, its `_start` found. Shared by
 * `cella wasm run` and the `wasm` isolation level (which loads it inside the
 * container, so that load errors reach `cella start`, then runs it in
 * place of execve). */
#ifndef CELLA_WASM_PROGRAM_H
#define CELLA_WASM_PROGRAM_H

#include "core/error.h"
#include "level/wasm/wasi.h"

/* Exit status of a module that trapped, as wasmtime's (128 + SIGABRT). */
#define WASM_TRAP_STATUS 134

struct wasm_program;

/* cfg: WASI arguments, environment, stdio, sockets and directories. */
struct wasm_program *wasm_program_load(const char *path, const struct wasi_config *cfg,
                                       cerr_t *err);
/* Run `_start`: the exit status (proc_exit's code, 0 when _start returns,
 * WASM_TRAP_STATUS after a trap, whose message goes to stderr). */
int wasm_program_run(struct wasm_program *p);
void wasm_program_free(struct wasm_program *p);

/* Bind and listen on ADDR:PORT (IPv4 or [IPv6]), as wasmtime's --tcplisten:
 * the socket fd (close-on-exec), or -1. */
int wasm_tcp_listen(const char *addr_port, cerr_t *err);

#endif
