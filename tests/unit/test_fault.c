/* core/fault.c: which CELLA_FAULT entries name a point, and that
 * fault_kill dies by SIGKILL at a kill: entry only. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fault.h"
#include "unit.h"

static int fails_at(const char *point)
{
    cerr_t err = NULL;
    int r = fault_at(point, &err);
    cerr_free(&err);
    return r < 0;
}

/* The signal that ended a child that called fault_kill(point), 0 if none. */
static int kill_signal(const char *point)
{
    pid_t pid = fork();
    if (pid == 0) {
        fault_kill(point);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void test_entries(void)
{
    setenv("CELLA_FAULT", "run.after-create,kill:create.after-cgroup,xkill:delete.after-kill", 1);
    CHECK(fails_at("run.after-create"));
    CHECK(!fails_at("create.after-cgroup")); /* a kill: entry does not fail the step */
    CHECK(!fails_at("run.after"));           /* whole entries only */
    CHECK(!fails_at("after-create"));
    CHECK(!fails_at("delete.after-kill"));
    CHECK(kill_signal("create.after-cgroup") == SIGKILL);
    CHECK(kill_signal("run.after-create") == 0);  /* a plain entry does not kill */
    CHECK(kill_signal("delete.after-kill") == 0); /* xkill: is not kill: */
    CHECK(kill_signal("after-cgroup") == 0);
    setenv("CELLA_FAULT", "kill:create.after-state", 1);
    CHECK(kill_signal("create.after-state") == SIGKILL); /* first entry */
    unsetenv("CELLA_FAULT");
    CHECK(!fails_at("run.after-create"));
    CHECK(kill_signal("create.after-cgroup") == 0);
}

int main(void)
{
    RUN(test_entries);
    return UNIT_DONE();
}
