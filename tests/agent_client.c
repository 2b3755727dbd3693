/* agent_client: the host end of the agent protocol (guest/agent/protocol.h)
 * for tests/integration/test_agent.sh. It connects to the UNIX socket QEMU
 * serves the agent's virtio-serial port on, runs a script read from stdin and
 * prints a transcript the test compares.
 *
 *   agent_client SOCKET < SCRIPT
 *
 * Script lines (words split on blanks; '...' quotes, "..." quotes with \n
 * and \t escapes):
 *   ready                       wait for READY        -> "ready VERSION"
 *   run ID [OPT...] -- ARG...   RUN, wait for the answer -> "started ID" or "error ID: MSG"
 *       OPT: env=NAME=VALUE cwd=DIR uid=N gid=N group=N umask=OCTAL nnp
 *            hostname=NAME rlimit=RESOURCE,SOFT,HARD (numbers)
 *   stdin ID TEXT / stdin-close ID
 *   stdin-bulk ID BYTES         BYTES of a pattern (byte i is i % 251) in 64 KiB frames,
 *                               written without reading in between, then stdin closed
 *   wait-bulk ID                as wait, but stdout is checked against the pattern:
 *                               "stdout ID: N bytes, pattern ok" (or "... differs at K")
 *   signal ID SIGNO / signal-all SIGNO
 *   wait ID                     wait for EXIT -> "exit ID code N" or "exit ID signal N",
 *                               then "stdout ID: ..." and "stderr ID: ..." (C-escaped)
 *   answer ID                   wait for STARTED or ERROR of ID (after a raw RUN)
 *   raw HEX                     send these bytes as they are
 *   reconnect                   close the connection and connect again
 *   wait-file PATH              wait until PATH exists on the host
 *   sleep MS / shutdown
 *   closed                      wait for the end of the stream (the VM ended) -> "closed"
 * Every wait gives up after 30 s: "timeout: ..." and exit status 1. */
#define _GNU_SOURCE
#include "proto/protocol.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_IDS    64
#define TIMEOUT_MS 30000

struct proc_seen {
    int started, errored, exited, status;
    char error[600];
    struct agent_buf out, err;
};

static struct proc_seen seen[MAX_IDS];
static char ready[128];
static int ready_seen;
static long start_ms;
static int closed_stream;
static int sock = -1;
static const char *sock_path;

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "agent_client: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void do_connect(void)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
    /* QEMU creates the socket a moment after it starts. */
    for (int i = 0; i < 300; i++) {
        sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(sock, (struct sockaddr *)&a, sizeof(a)) == 0)
            return;
        close(sock);
        usleep(20000);
    }
    die("cannot connect to %s", sock_path);
}

static struct proc_seen *proc_seen(uint32_t id)
{
    if (id >= MAX_IDS)
        die("frame for id %s out of the client's range", "?");
    return &seen[id];
}

/* Read and record one frame, waiting at most until `deadline`: 0 on
 * timeout, 1 otherwise. */
static int pump(long deadline)
{
    if (closed_stream)
        return 1;
    struct pollfd pfd = {sock, POLLIN, 0};
    long left = deadline - now_ms();
    if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
        return 0;
    struct agent_hdr h;
    int r = agent_read_hdr(sock, &h);
    if (r == 0) {
        closed_stream = 1;
        return 1;
    }
    if (r < 0)
        die("reading a frame: %s", strerror(errno));
    uint8_t *p = malloc(h.len + 1);
    if (p == NULL || agent_read_full(sock, p, h.len) < 0)
        die("reading a payload: %s", strerror(errno));
    p[h.len] = 0;
    struct proc_seen *s = h.type == AGENT_READY ? NULL : proc_seen(h.id);
    switch (h.type) {
    case AGENT_READY:
        snprintf(ready, sizeof(ready), "%s", (char *)p);
        ready_seen = 1;
        break;
    case AGENT_STARTED:
        s->started = 1;
        break;
    case AGENT_ERROR:
        s->errored = 1;
        snprintf(s->error, sizeof(s->error), "%s", (char *)p);
        break;
    case AGENT_STDOUT:
        agent_put_field(&s->out, 0, p, h.len);
        break;
    case AGENT_STDERR:
        agent_put_field(&s->err, 0, p, h.len);
        break;
    case AGENT_EXIT:
        s->exited = 1;
        s->status = (int)agent_get_u32(p);
        break;
    case AGENT_STDIN_TAKEN: /* this client writes its STDIN without a window */
        break;
    default:
        printf("unexpected frame type %u\n", h.type);
    }
    free(p);
    return 1;
}

/* Pump frames until *flag (or the stream's end when flag is NULL). */
static void wait_for(const int *flag, const char *what)
{
    long deadline = now_ms() + TIMEOUT_MS;
    while (flag ? !*flag : !closed_stream) {
        if (!pump(deadline)) {
            printf("timeout: %s\n", what);
            exit(1);
        }
        if (closed_stream && flag && !*flag) {
            printf("closed before %s\n", what);
            exit(1);
        }
    }
}

static void send_frame(uint16_t type, uint32_t id, const void *p, size_t n)
{
    if (agent_write_frame(sock, type, id, p, n) < 0)
        die("write: %s", strerror(errno));
}

/* The text of a payload buffer (fields of tag 0, one per frame), C-escaped. */
static void print_stream(const char *name, uint32_t id, const struct agent_buf *b)
{
    printf("%s %u: ", name, id);
    size_t off = 0;
    uint16_t tag;
    const uint8_t *p;
    uint32_t n;
    while (agent_next_field(b->data, b->len, &off, &tag, &p, &n) == 1)
        for (uint32_t i = 0; i < n; i++) {
            if (p[i] == '\n')
                printf("\\n");
            else if (p[i] == '\\')
                printf("\\\\");
            else if (p[i] < 32 || p[i] > 126)
                printf("\\x%02x", p[i]);
            else
                putchar(p[i]);
        }
    putchar('\n');
}

static int split(char *line, char **words, int max)
{
    int n = 0;
    char *r = line, *w = line;
    while (*r && n < max) {
        while (*r == ' ' || *r == '\t')
            r++;
        if (!*r)
            break;
        words[n++] = w;
        char q = 0;
        while (*r && (q || (*r != ' ' && *r != '\t'))) {
            if (!q && (*r == '\'' || *r == '"')) {
                q = *r++;
            } else if (q && *r == q) {
                q = 0;
                r++;
            } else if (q == '"' && *r == '\\' && r[1]) {
                r++;
                *w++ = *r == 'n' ? '\n' : *r == 't' ? '\t' : *r;
                r++;
            } else {
                *w++ = *r++;
            }
        }
        if (*r)
            r++;
        *w++ = '\0';
    }
    return n;
}

static uint32_t id_arg(int n, char **w)
{
    if (n < 2)
        die("%s: needs an id", w[0]);
    uint32_t id = (uint32_t)strtoul(w[1], NULL, 10);
    if (id >= MAX_IDS)
        die("id %s out of range", w[1]);
    return id;
}

/* Wait for the answer to a RUN: STARTED or ERROR. */
static void cmd_answer(uint32_t id)
{
    struct proc_seen *s = &seen[id];
    long deadline = now_ms() + TIMEOUT_MS;
    while (!s->started && !s->errored)
        if (!pump(deadline) || closed_stream) {
            printf("timeout: answer to RUN %u\n", id);
            exit(1);
        }
    if (s->started)
        printf("started %u\n", id);
    else
        printf("error %u: %s\n", id, s->error);
}

static void cmd_run(int n, char **w)
{
    uint32_t id = id_arg(n, w);
    struct agent_buf b = {0};
    int i = 2;
    for (; i < n && strcmp(w[i], "--") != 0; i++) {
        char *v = strchr(w[i], '=');
        v = v ? v + 1 : w[i] + strlen(w[i]);
        if (strncmp(w[i], "env=", 4) == 0)
            agent_put_str(&b, AGENT_F_ENV, v);
        else if (strncmp(w[i], "cwd=", 4) == 0)
            agent_put_str(&b, AGENT_F_CWD, v);
        else if (strncmp(w[i], "hostname=", 9) == 0)
            agent_put_str(&b, AGENT_F_HOSTNAME, v);
        else if (strncmp(w[i], "uid=", 4) == 0)
            agent_put_u32(&b, AGENT_F_UID, (uint32_t)strtoul(v, NULL, 10));
        else if (strncmp(w[i], "gid=", 4) == 0)
            agent_put_u32(&b, AGENT_F_GID, (uint32_t)strtoul(v, NULL, 10));
        else if (strncmp(w[i], "group=", 6) == 0)
            agent_put_u32(&b, AGENT_F_GROUP, (uint32_t)strtoul(v, NULL, 10));
        else if (strncmp(w[i], "umask=", 6) == 0)
            agent_put_u32(&b, AGENT_F_UMASK, (uint32_t)strtoul(v, NULL, 8));
        else if (strcmp(w[i], "nnp") == 0)
            agent_put_field(&b, AGENT_F_NO_NEW_PRIVS, NULL, 0);
        else if (strncmp(w[i], "rlimit=", 7) == 0) {
            unsigned long res;
            unsigned long long soft, hard;
            if (sscanf(v, "%lu,%llu,%llu", &res, &soft, &hard) != 3)
                die("rlimit=%s: expected RESOURCE,SOFT,HARD", v);
            agent_put_rlimit(&b, (uint32_t)res, soft, hard);
        } else
            die("run: unknown option %s", w[i]);
    }
    for (i++; i < n; i++)
        agent_put_str(&b, AGENT_F_ARG, w[i]);
    if (b.oom)
        die("run: %s", "out of memory");
    struct proc_seen *s = &seen[id];
    agent_buf_free(&s->out);
    agent_buf_free(&s->err);
    *s = (struct proc_seen){0};
    send_frame(AGENT_RUN, id, b.data, b.len);
    agent_buf_free(&b);
    cmd_answer(id);
}

static void cmd_wait(uint32_t id)
{
    struct proc_seen *s = &seen[id];
    char what[64];
    snprintf(what, sizeof(what), "EXIT of %u", id);
    wait_for(&s->exited, what);
    if (WIFSIGNALED(s->status))
        printf("exit %u signal %d\n", id, WTERMSIG(s->status));
    else
        printf("exit %u code %d\n", id, WEXITSTATUS(s->status));
    print_stream("stdout", id, &s->out);
    print_stream("stderr", id, &s->err);
}

static void cmd_stdin_bulk(uint32_t id, long total)
{
    static uint8_t chunk[65536];
    for (long off = 0; off < total;) {
        size_t n = total - off < (long)sizeof(chunk) ? (size_t)(total - off) : sizeof(chunk);
        for (size_t i = 0; i < n; i++)
            chunk[i] = (uint8_t)((off + (long)i) % 251);
        send_frame(AGENT_STDIN, id, chunk, n);
        off += (long)n;
    }
    send_frame(AGENT_STDIN, id, NULL, 0);
}

static void cmd_wait_bulk(uint32_t id)
{
    struct proc_seen *s = &seen[id];
    wait_for(&s->exited, "EXIT of a bulk process");
    printf("exit %u code %d\n", id, WIFEXITED(s->status) ? WEXITSTATUS(s->status) : -1);
    long total = 0, bad = -1;
    size_t off = 0;
    uint16_t tag;
    const uint8_t *p;
    uint32_t n;
    while (agent_next_field(s->out.data, s->out.len, &off, &tag, &p, &n) == 1)
        for (uint32_t i = 0; i < n; i++, total++)
            if (bad < 0 && p[i] != (uint8_t)(total % 251))
                bad = total;
    if (bad < 0)
        printf("stdout %u: %ld bytes, pattern ok\n", id, total);
    else
        printf("stdout %u: %ld bytes, pattern differs at %ld\n", id, total, bad);
}

static void cmd_signal(uint32_t id, const char *signo, uint32_t flags)
{
    uint8_t p[8];
    agent_set_u32(p, (uint32_t)atoi(signo));
    agent_set_u32(p + 4, flags);
    send_frame(AGENT_SIGNAL, id, p, sizeof(p));
}

static void cmd_raw(const char *hex)
{
    size_t n = strlen(hex) / 2;
    uint8_t *p = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)strtoul((char[]){hex[2 * i], hex[2 * i + 1], 0}, NULL, 16);
    if (write(sock, p, n) != (ssize_t)n)
        die("raw write: %s", strerror(errno));
    free(p);
}

/* Wait for a file the test makes on the host, reading frames meanwhile. */
static void cmd_wait_file(const char *path)
{
    long deadline = now_ms() + TIMEOUT_MS;
    while (access(path, F_OK) != 0) {
        if (now_ms() > deadline) {
            printf("timeout: waiting for %s\n", path);
            exit(1);
        }
        pump(now_ms() + 50);
    }
}

static void command(int n, char **w)
{
    const char *c = w[0];
    if (strcmp(c, "ready") == 0) {
        wait_for(&ready_seen, "READY");
        printf("ready %s\n", ready);
        /* From the client's start: the test starts it with QEMU. */
        fprintf(stderr, "agent_client: READY after %ld ms\n", now_ms() - start_ms);
    } else if (strcmp(c, "run") == 0) {
        cmd_run(n, w);
    } else if (strcmp(c, "answer") == 0) {
        cmd_answer(id_arg(n, w));
    } else if (strcmp(c, "wait") == 0) {
        cmd_wait(id_arg(n, w));
    } else if (strcmp(c, "stdin") == 0 && n == 3) {
        send_frame(AGENT_STDIN, id_arg(n, w), w[2], strlen(w[2]));
    } else if (strcmp(c, "stdin-bulk") == 0 && n == 3) {
        cmd_stdin_bulk(id_arg(n, w), atol(w[2]));
    } else if (strcmp(c, "wait-bulk") == 0) {
        cmd_wait_bulk(id_arg(n, w));
    } else if (strcmp(c, "stdin-close") == 0) {
        send_frame(AGENT_STDIN, id_arg(n, w), NULL, 0);
    } else if (strcmp(c, "signal") == 0 && n == 3) {
        cmd_signal(id_arg(n, w), w[2], 0);
    } else if (strcmp(c, "signal-all") == 0 && n == 2) {
        cmd_signal(0, w[1], AGENT_SIGNAL_ALL);
    } else if (strcmp(c, "raw") == 0 && n == 2) {
        cmd_raw(w[1]);
    } else if (strcmp(c, "reconnect") == 0) {
        close(sock);
        do_connect();
    } else if (strcmp(c, "wait-file") == 0 && n == 2) {
        cmd_wait_file(w[1]);
    } else if (strcmp(c, "sleep") == 0 && n == 2) {
        usleep((useconds_t)atoi(w[1]) * 1000);
    } else if (strcmp(c, "shutdown") == 0) {
        send_frame(AGENT_SHUTDOWN, 0, NULL, 0);
    } else if (strcmp(c, "closed") == 0) {
        wait_for(NULL, "the end of the stream");
        printf("closed\n");
    } else {
        die("unknown command or wrong arguments: %s", c);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2)
        die("usage: agent_client SOCKET < SCRIPT%s", "");
    sock_path = argv[1];
    start_ms = now_ms();
    setvbuf(stdout, NULL, _IOLBF, 0);
    do_connect();
    char line[8192];
    char *w[256];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = '\0';
        int n = split(line, w, 256);
        if (n == 0 || w[0][0] == '#')
            continue;
        command(n, w);
    }
    return 0;
}
