/* `run` with process.terminal and no --console-socket: cella holds the pty
 * master and copies between it and its own stdin/stdout, as runc does. */
#ifndef CELLA_TTY_PROXY_H
#define CELLA_TTY_PROXY_H

/* Copy until the container side of the terminal is closed. Puts our stdin in
 * raw mode while it runs when it is a terminal, and passes window sizes on. */
void tty_proxy(int master);

#endif
