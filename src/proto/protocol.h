/* The host <-> guest agent protocol of the VM levels (qemu, later vm).
 *
 * One byte stream between the host (cella's VM monitor) and the agent (PID 1
 * in the guest), carried by one virtio-serial port named "cella.agent" (the
 * guest finds it as /dev/vportNpM whose /sys/class/virtio-ports/.../name is
 * that). Nothing here knows QEMU: the future vm level's own VMM carries the
 * same stream.
 *
 * The stream is a sequence of frames, both ways:
 *
 *   u32 len    payload bytes (at most AGENT_MAX_PAYLOAD)
 *   u16 type   AGENT_* below
 *   u16 flags  0 (reserved)
 *   u32 id     the process the frame is about: 0 = the container's process,
 *              1, 2, ... = processes of `exec`, numbered by the host
 *   payload
 *
 * All integers are little-endian. Strings are not NUL-terminated: a field's
 * length says where they end.
 *
 * A session: the agent boots, mounts, and sends READY (payload: agent
 * version string). The host sends RUN for id 0 at `start` and RUN for new ids
 * at `exec`; the agent answers each RUN with STARTED (payload: u32 guest pid)
 * or ERROR (payload: a one-line message naming what failed, e.g.
 * "exec /bin/foo: No such file or directory"). Output comes as STDOUT/STDERR
 * frames; input goes as STDIN, and STDIN with an empty payload closes the
 * process's stdin. The agent reports the STDIN bytes it has passed to the
 * process's pipe (or dropped, its stdin being closed) with STDIN_TAKEN; the
 * host keeps at most AGENT_STDIN_WINDOW bytes of a process's STDIN
 * unreported. SIGNAL delivers a signal (payload: i32 signo, u32 flags,
 * AGENT_SIGNAL_ALL = to every process in the guest, as `kill --all`). When a
 * process ends the agent sends all its output, then EXIT (payload: i32 wait
 * status, Linux encoding). When process 0 has exited (EXIT sent) the agent
 * kills what is left, syncs and ends the VM; SHUTDOWN from the host does the
 * same at once.
 *
 * A terminal (process.terminal): RUN with a TTY field runs the process on a
 * new pty of the guest, its session's controlling terminal and its stdin,
 * stdout and stderr. Its output is one stream, STDOUT frames only; an empty
 * STDIN does not close anything (a terminal has no end of input: the host's
 * side types ^D if it wants one). WINSIZE (payload: u16 rows, u16 cols)
 * resizes that pty, which sends SIGWINCH to its foreground process group;
 * WINSIZE for a process without a terminal, or of another length, is
 * ignored.
 *
 * RUN's payload is a sequence of fields, each
 *   u16 tag, u16 0, u32 len, bytes
 * with the tags AGENT_F_* below (ARG and ENV and GID repeat, in order). */
#ifndef CELLA_AGENT_PROTOCOL_H
#define CELLA_AGENT_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define AGENT_PORT_NAME   "cella.agent"
#define AGENT_VERSION     "cella-agent 3"
#define AGENT_MAX_PAYLOAD (1u << 20)
#define AGENT_HDR_SIZE    12
#define AGENT_SIGNAL_ALL  1u
/* STDIN bytes of one process the host may have sent and the agent not yet
 * reported taken (AGENT_STDIN_TAKEN): the agent queues at most this much of
 * a process's stdin, so a process that reads slowly makes the host wait,
 * not the guest run out of memory. */
#define AGENT_STDIN_WINDOW (1u << 20)

enum agent_type {
    /* guest -> host */
    AGENT_READY = 1,
    AGENT_STARTED = 2,
    AGENT_ERROR = 3,
    AGENT_STDOUT = 4,
    AGENT_STDERR = 5,
    AGENT_EXIT = 6,
    AGENT_STDIN_TAKEN = 7, /* u32: that many STDIN bytes left the agent (written or dropped) */
    /* host -> guest */
    AGENT_RUN = 16,
    AGENT_STDIN = 17,
    AGENT_SIGNAL = 18,
    AGENT_SHUTDOWN = 19,
    AGENT_WINSIZE = 20, /* u16 rows, u16 cols: a terminal process's pty size */
};

enum agent_field {
    AGENT_F_ARG = 1,           /* string, repeated: argv in order */
    AGENT_F_ENV = 2,           /* "NAME=VALUE", repeated */
    AGENT_F_CWD = 3,           /* string, absolute */
    AGENT_F_UID = 4,           /* u32 */
    AGENT_F_GID = 5,           /* u32 */
    AGENT_F_GROUP = 6,         /* u32, repeated: additional gids */
    AGENT_F_RLIMIT = 7,        /* u32 resource (RLIMIT_*), u32 0, u64 soft, u64 hard */
    AGENT_F_HOSTNAME = 8,      /* string; id 0 only */
    AGENT_F_UMASK = 9,         /* u32 */
    AGENT_F_NO_NEW_PRIVS = 10, /* empty: set it */
    AGENT_F_TTY = 11,          /* u16 rows, u16 cols: on a pty of that size (0 x 0: the
                                  kernel's); repeated: the last one's size */
    AGENT_F_SYSCTL = 12,       /* "key=value", repeated; id 0 only: linux.sysctl in the guest */
};

struct agent_hdr {
    uint32_t len;
    uint16_t type;
    uint16_t flags;
    uint32_t id;
};

/* A growable buffer for building a payload. */
struct agent_buf {
    uint8_t *data;
    size_t len, cap;
    int oom; /* set when an append failed; the buffer is then unusable */
};

void agent_buf_free(struct agent_buf *b);
void agent_put_field(struct agent_buf *b, uint16_t tag, const void *p, size_t n);
void agent_put_str(struct agent_buf *b, uint16_t tag, const char *s);
void agent_put_u32(struct agent_buf *b, uint16_t tag, uint32_t v);
void agent_put_rlimit(struct agent_buf *b, uint32_t resource, uint64_t soft, uint64_t hard);
/* A window size, as AGENT_F_TTY's and WINSIZE's payload (4 bytes). */
void agent_set_winsize(uint8_t *d, uint16_t rows, uint16_t cols);
/* Whether RUN's payload asks for a terminal (a TTY field; a malformed
 * payload is the agent's to refuse: false). */
int agent_run_has_tty(const uint8_t *payload, size_t len);

/* A byte queue: bytes [off, len) of data wait for a non-blocking fd (frames
 * for the other end, a process's stdin). Appends are amortised (the buffer
 * doubles) and writes advance off, so a long queue drained in small writes
 * is not copied over and over. */
struct agent_queue {
    uint8_t *data;
    size_t off, len, cap;
};
/* Append n bytes: 0, or -1 when memory ran out (the queue is unchanged). */
int agent_queue_push(struct agent_queue *q, const void *p, size_t n);
/* Write what fd takes now: 0 when the queue is empty or fd would block, -1
 * with errno on another error (EPIPE: the reader is gone). */
int agent_queue_write(int fd, struct agent_queue *q);
void agent_queue_free(struct agent_queue *q);
static inline size_t agent_queue_pending(const struct agent_queue *q)
{
    return q->len - q->off;
}

/* Iterate the fields of a payload: returns 1 and fills tag/p/n for the next
 * one, 0 at the end, -1 when the payload is malformed. *off starts at 0. */
int agent_next_field(const uint8_t *payload, size_t len, size_t *off, uint16_t *tag,
                     const uint8_t **p, uint32_t *n);

/* Little-endian accessors. */
uint32_t agent_get_u32(const uint8_t *p);
uint64_t agent_get_u64(const uint8_t *p);
void agent_set_u32(uint8_t *p, uint32_t v);
void agent_set_u64(uint8_t *p, uint64_t v);

/* A frame's header to and from its AGENT_HDR_SIZE bytes. */
void agent_set_hdr(uint8_t *d, uint16_t type, uint32_t id, uint32_t len);
void agent_get_hdr(const uint8_t *d, struct agent_hdr *h);
/* The first frame of buf[0, n): 1 when it is whole (h filled, its payload at
 * buf + AGENT_HDR_SIZE), 0 while bytes are missing, -1 when its header
 * claims more than AGENT_MAX_PAYLOAD (a byte stream cannot skip it). */
int agent_frame_in(const uint8_t *buf, size_t n, struct agent_hdr *h);

/* Write one whole frame to fd (retrying short writes and EINTR). 0 or -1
 * with errno. */
int agent_write_frame(int fd, uint16_t type, uint32_t id, const void *payload, size_t len);

/* Read one frame header from fd: 1 on a frame (h filled, len checked against
 * AGENT_MAX_PAYLOAD: EMSGSIZE otherwise), 0 at end of stream before any byte,
 * -1 with errno (EPROTO for a stream ending inside a header). The payload
 * follows: read it with agent_read_full. */
int agent_read_hdr(int fd, struct agent_hdr *h);
/* Read exactly n bytes: 0, or -1 with errno (EPROTO at a premature end). */
int agent_read_full(int fd, void *p, size_t n);

#endif
