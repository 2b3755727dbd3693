/* Regression tests for bugs found by review (issue 17): each failed before its fix. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "level/container/container.h"
#include "oci/spec.h"
#include "unit.h"

/* True when fd 0 is still open; reopened from saved if not. */
static bool stdin_kept(int saved)
{
    if (fcntl(0, F_GETFD) >= 0)
        return true;
    dup2(saved, 0);
    return false;
}

/* exec's early refusals (before the container's namespaces are opened) must
 * not close fds they never opened: its namespace fds once started at 0. */
static void test_exec_refusal_keeps_stdin(void)
{
    struct spec spec;
    memset(&spec, 0, sizeof(spec));
    struct spec_process p;
    memset(&p, 0, sizeof(p));
    p.terminal = true;
    struct container c = {.id = "x", .dirfd = -1, .ready_fd = -1, .spec = &spec};
    /* Detached: in the foreground cella would relay the terminal itself. */
    struct exec_opts o = {.process = &p, .detach = true};
    int saved = dup(0);
    CHECK(saved >= 0);
    cerr_t err = NULL;
    int status = 0;
    CHECK(container_exec(&c, &o, &status, &err) == -1);
    CHECK_STR(cerr_msg(err), "exec --tty --detach requires --console-socket");
    cerr_free(&err);
    CHECK(stdin_kept(saved));

    p.terminal = false;
    spec.linux_.seccomp.listener_path = "/run/listener.sock";
    CHECK(container_exec(&c, &o, &status, &err) == -1);
    CHECK(err != NULL && strstr(cerr_msg(err), "listenerPath") != NULL);
    cerr_free(&err);
    CHECK(stdin_kept(saved));
    close(saved);
}

int main(void)
{
    RUN(test_exec_refusal_keeps_stdin);
    return UNIT_DONE();
}
