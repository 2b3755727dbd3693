#define _GNU_SOURCE
#include "core/tty_proxy.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "core/util.h"

static void copy_winsize(int master)
{
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0)
        ioctl(master, TIOCSWINSZ, &ws);
}

/* Returns false at end of input or on error. */
static bool pump(int from, int to)
{
    char buf[8192];
    ssize_t n = read(from, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    return n > 0 && write_all(to, buf, (size_t)n) == n;
}

void tty_proxy(int master)
{
    struct termios saved, raw;
    bool is_tty = tcgetattr(0, &saved) == 0;
    if (is_tty) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(0, TCSANOW, &raw);
        copy_winsize(master);
    }
    struct pollfd p[2] = {{.fd = master, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    int nfds = 2;
    for (;;) {
        if (poll(p, (nfds_t)nfds, -1) < 0) {
            if (errno == EINTR) {
                if (is_tty)
                    copy_winsize(master);
                continue;
            }
            break;
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (!pump(master, 1))
                break; /* EIO: every process of the container closed the pty */
        }
        if (nfds == 2 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(0, master))
            nfds = 1; /* our stdin ended: keep copying the output */
    }
    if (is_tty)
        tcsetattr(0, TCSANOW, &saved);
}
