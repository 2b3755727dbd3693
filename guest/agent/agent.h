/* cella-agent: PID 1 of cella's microVMs (the qemu level, later the vm
 * level). It mounts what a Linux userland needs, brings up the network,
 * mounts the container's root filesystem, then runs the processes the host
 * asks for over the channel of protocol.h. docs/guest-agent.md tells the
 * whole story; each .c file here holds one step of it. */
#ifndef CELLA_AGENT_H
#define CELLA_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/protocol.h"

/* ---- console.c: the serial console is the agent's log ---- */

/* One line "cella-agent: ..." on the console. */
void alog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log one line, then end the VM: for errors the agent cannot go on from. */
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Kill every process, sync and end the VM (reboot, which the host turns into
 * QEMU's exit: docs/guest-agent.md). */
_Noreturn void vm_end(void);
/* Make fds 0, 1 and 2 the console (or /dev/null), so that no later fd lands
 * on them. */
void console_setup(void);

/* ---- queue.c: byte queues (protocol.h's), out of memory ends the VM ---- */

void queue_push(struct agent_queue *q, const void *p, size_t n);

/* ---- cmdline.c: the cella.* words of /proc/cmdline ---- */

struct boot_config {
    char root[128];      /* cella.root: the rootfs block device; "" = run in the initramfs */
    char rootfstype[32]; /* cella.rootfstype: erofs (default), ext4, ... */
    char ip[16];         /* cella.ip=ADDR/PREFIX: eth0's IPv4 address ("" = leave eth0 down) */
    int prefix;
    char gw[16];   /* cella.gw: the default route's gateway */
    int mtu;       /* cella.mtu: eth0's MTU, 0 = the driver's */
    char dns[128]; /* cella.dns=IP[,IP...]: /etc/resolv.conf's nameservers */
    int readonly;  /* cella.readonly=1: the container's root is read-only (the spec's
                      root.readonly); its /dev, /proc, ... stay as they are */
};

/* Parse a kernel command line; fatal() names a malformed word. */
void cmdline_parse(const char *text, struct boot_config *c);

/* ---- mounts.c ---- */

/* /dev (devtmpfs), /proc, /sys in the initramfs: what the boot reads. */
void mounts_early(void);
/* Leave the initramfs's own mounts, switch to the container's root (the
 * rootfs device under a tmpfs-backed overlay, or the initramfs itself) and
 * give it proc, sys, dev, dev/pts, dev/shm, dev/mqueue. */
void mounts_container_root(const struct boot_config *c);
/* Last step before READY: cella.readonly=1 makes "/" read-only. */
void mounts_finish(const struct boot_config *c);

/* ---- net.c ---- */

/* lo up; eth0 with cella.ip, cella.mtu and a default route via cella.gw. */
void net_setup(const struct boot_config *c);
/* /etc/resolv.conf in the container's root from cella.dns (when given). */
void net_write_resolv_conf(const struct boot_config *c);

/* ---- channel.c: the host channel (a virtio-serial port) ---- */

/* Find the port named AGENT_PORT_NAME and open it (non-blocking); fatal()
 * when it never shows up. Returns the fd. */
int channel_open(void);
/* Queue one frame for the host and write what the port takes now. */
void channel_send(uint16_t type, uint32_t id, const void *payload, size_t len);
/* Bytes queued for the host. */
size_t channel_pending(void);
/* Write queued frames until the port would block (on POLLOUT). A write
 * error ends the VM: the port is gone. */
void channel_write(void);
/* Write every queued frame, waiting as long as it takes (before the VM ends). */
void channel_flush(void);
/* Bytes received and not yet parsed into frames. */
struct channel_in {
    uint8_t *buf;
    size_t len, cap;
};
/* Read what the port has: 1 when bytes came (or none yet), 0 when no host
 * is connected (a partial frame is then dropped), -1 on an error (logged). */
int channel_read(struct channel_in *in);
/* The next whole frame in `in`: 1 (h and payload filled; consume it with
 * channel_consume), 0 when none is complete yet. A frame longer than
 * AGENT_MAX_PAYLOAD cannot be skipped in a byte stream: the buffered input
 * is dropped and logged. */
int channel_next(struct channel_in *in, struct agent_hdr *h, const uint8_t **payload);
void channel_consume(struct channel_in *in, const struct agent_hdr *h);

/* ---- spawn.c: RUN -> a running process ---- */

/* A process of the container, as the agent tracks it. */
struct proc {
    uint32_t id;
    pid_t pid;
    int in, out, err;       /* the agent's ends of the stdio pipes, -1 when closed */
    struct agent_queue inq; /* STDIN bytes the pipe has not taken yet */
    int in_eof;             /* the host closed stdin: close the pipe once inq is written */
    int reaped;             /* waitpid returned the status */
    int status;             /* wait status */
    int running;            /* slot in use */
    int tty;                /* on a pty: out is its master, in a dup of it, err -1 */
};

/* Decode RUN's payload and start the process in *p (p->id set by the
 * caller). 0, or -1 with a one-line message in err. */
int spawn(struct proc *p, const uint8_t *payload, size_t len, char *err, size_t errlen);

/* ---- loop.c ---- */

/* Serve the host until process 0 exits or SHUTDOWN; never returns. */
_Noreturn void loop_run(int chan);

#endif
