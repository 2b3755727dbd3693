#ifndef CELLA_WAIT_H
#define CELLA_WAIT_H

#include <sys/types.h>

/* Wait for our child `pid`, forwarding the usual terminating signals to it.
 * Returns its exit code, or 128 + signal number if it was killed. */
int wait_forward(pid_t pid);
/* Install the forwarding handlers now (before a long I/O loop such as the
 * terminal proxy, whose poll they interrupt: SIGWINCH then resizes). */
void forward_signals_to(pid_t pid);

#endif
