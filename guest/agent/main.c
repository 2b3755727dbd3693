/* cella-agent's boot: PID 1 of the VM, from the initramfs to READY. Any
 * failure on the way is one "cella-agent: ..." line on the serial console and
 * the end of the VM, for the host to show. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void read_cmdline(struct boot_config *c)
{
    char text[4096];
    int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fatal("open /proc/cmdline: %s", strerror(errno));
    ssize_t n = read(fd, text, sizeof(text) - 1);
    if (n < 0)
        fatal("read /proc/cmdline: %s", strerror(errno));
    close(fd);
    text[n] = '\0';
    cmdline_parse(text, c);
}

int main(void)
{
    if (getpid() != 1) {
        fprintf(stderr, "cella-agent: runs as PID 1 of a VM only (docs/guest-agent.md)\n");
        return 2;
    }
    console_setup();
    mounts_early();
    console_setup();
    struct boot_config c;
    read_cmdline(&c);
    net_setup(&c);
    /* Open the port while /dev is the boot's devtmpfs; the fd outlives it. */
    int chan = channel_open();
    mounts_container_root(&c);
    net_write_resolv_conf(&c);
    mounts_finish(&c);
    /* Queued: the loop writes it once the host is connected to the port. */
    channel_send(AGENT_READY, 0, AGENT_VERSION, strlen(AGENT_VERSION));
    loop_run(chan);
}
