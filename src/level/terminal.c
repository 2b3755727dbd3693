/* The pty pair of process.terminal and its checks (terminal.h). */
#define _GNU_SOURCE
#include "level/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int terminal_open(unsigned rows, unsigned cols, int *slave, cerr_t *err)
{
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return cerr_set(err, errno, "process.terminal: open /dev/ptmx");
    if (unlockpt(master) < 0) {
        cerr_set(err, errno, "process.terminal: unlockpt");
        close(master);
        return -1;
    }
    /* The peer by the master, not by its name: no race with another
     * devpts instance mounted over /dev/pts. */
    *slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*slave < 0) {
        cerr_set(err, errno, "process.terminal: open the pty peer");
        close(master);
        return -1;
    }
    if (rows || cols) {
        struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
        ioctl(*slave, TIOCSWINSZ, &ws);
    }
    return master;
}

bool terminal_proxied(const struct spec *s, const struct create_opts *o)
{
    return s->process.terminal && o->console_socket == NULL && o->foreground &&
           o->console_master != NULL;
}

int terminal_check(const struct spec *s, const struct create_opts *o, cerr_t *err)
{
    if (s->process.terminal && o->console_socket == NULL && !terminal_proxied(s, o))
        return cerr_set(err, 0,
                        "process.terminal is true: use --console-socket to receive the "
                        "terminal of a detached container");
    return 0;
}
