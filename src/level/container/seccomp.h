/* linux.seccomp through libseccomp. The filter is compiled to BPF before the
 * container waits for `start` (compiling is the slow part) and loaded right
 * before execve. */
#ifndef CELLA_SECCOMP_H
#define CELLA_SECCOMP_H

#include <stddef.h>

#include "core/error.h"
#include "oci/spec.h"

struct seccomp_prog {
    void *bpf;          /* struct sock_filter[] */
    size_t len;         /* number of instructions */
    unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
};

/* Compile spec -> BPF. Unknown actions, operators, architectures or flags are
 * errors naming the field (e.g. "linux.seccomp.syscalls[3].action: unknown
 * action `SCMP_ACT_FOO`"); unknown syscall names are skipped, as runc does. */
int seccomp_compile(const struct spec_seccomp *s, struct seccomp_prog *out, cerr_t *err);
/* Load the compiled filter into the calling thread (no_new_privs must already
 * be set or the caller must hold CAP_SYS_ADMIN). */
int seccomp_install(const struct seccomp_prog *p, cerr_t *err);
/* The same, returning the notification listener fd in *listener when the
 * filter was compiled with a listenerPath (-1 otherwise). */
int seccomp_install_listener(const struct seccomp_prog *p, int *listener, cerr_t *err);
void seccomp_prog_free(struct seccomp_prog *p);

#endif
