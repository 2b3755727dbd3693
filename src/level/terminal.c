/* The pty pair of process.terminal and its checks (terminal.h). */
#define _GNU_SOURCE
#include "level/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "core/util.h"

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

void terminal_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
}

int terminal_send(const char *path, int master, cerr_t *err)
{
    int sock = unix_connect(path, err);
    if (sock < 0)
        return cerr_wrap(err, "--console-socket");
    int r = send_fd_msg(sock, master, "F", 1);
    int e = errno;
    close(sock);
    if (r < 0)
        return cerr_set(err, e, "send terminal to the console socket");
    return 0;
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
