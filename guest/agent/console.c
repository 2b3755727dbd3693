/* The serial console as the agent's log, and the end of the VM. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

static void vlog_line(const char *fmt, va_list ap)
{
    char line[512];
    int n = snprintf(line, sizeof(line), "cella-agent: ");
    vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    size_t len = strlen(line);
    line[len++] = '\n';
    /* One write keeps the line whole among the kernel's messages. */
    ssize_t w = write(2, line, len);
    (void)w;
}

void alog(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_line(fmt, ap);
    va_end(ap);
}

void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_line(fmt, ap);
    va_end(ap);
    vm_end();
}

void vm_end(void)
{
    kill(-1, SIGKILL);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    /* The last EXIT, and any output, reach the host before the VM ends. */
    channel_flush();
    /* The root's lower layer is read-only and its upper layer is tmpfs:
     * nothing needs unmounting, only the console's output flushing. */
    sync();
    /* With `reboot=t` (or `reboot=k` and an i8042) and QEMU's -no-reboot,
     * this ends QEMU: the guest kernel has no ACPI to power off with. */
    reboot(RB_AUTOBOOT);
    /* Not reached unless reboot() failed; init exiting panics the kernel,
     * and `panic=-1` turns that into a reboot as well. */
    _exit(1);
}

void console_setup(void)
{
    /* The kernel opened /dev/console of the initramfs as fds 0-2. If it
     * could not, open it from devtmpfs; keep 0-2 taken in any case, since the
     * stdio pipes of children must not land on them. */
    if (fcntl(2, F_GETFD) >= 0)
        return;
    int fd = open("/dev/console", O_RDWR | O_NOCTTY);
    if (fd < 0)
        fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return;
    for (int i = 0; i < 3; i++)
        if (fd != i)
            dup2(fd, i);
    if (fd > 2)
        close(fd);
}
