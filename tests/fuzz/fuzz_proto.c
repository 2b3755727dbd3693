/* libFuzzer harness of the agent protocol's decoding: the input is a byte
 * stream of frames as the host reads it from the guest (agent_frame_in), each
 * payload split into fields (agent_next_field) and decoded as the agent
 * decodes a RUN (guest/agent/spawn.c's decode, included for its statics) and
 * as the host looks for its TTY field (agent_run_has_tty). */
#include "../../guest/agent/spawn.c"

/* The agent's fatal() (console.c) powers off the VM: here it is a finding
 * (it is called only when memory runs out). */
void fatal(const char *fmt, ...)
{
    (void)fmt;
    abort();
}

/* Its log line (console.c) goes nowhere here. */
void alog(const char *fmt, ...)
{
    (void)fmt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (buf == NULL)
        abort();
    memcpy(buf, data, size);
    struct agent_hdr h;
    size_t off = 0;
    int f;
    while ((f = agent_frame_in(buf + off, size - off, &h)) > 0) {
        const uint8_t *payload = buf + off + AGENT_HDR_SIZE;
        if (h.len > size - off - AGENT_HDR_SIZE)
            abort(); /* a whole frame lies inside the input */
        size_t foff = 0, prev = 0;
        uint16_t tag;
        const uint8_t *p;
        uint32_t n;
        while (agent_next_field(payload, h.len, &foff, &tag, &p, &n) == 1) {
            if (p < payload || n > h.len || (size_t)(p - payload) > h.len - n || foff <= prev)
                abort(); /* a field lies inside its payload, and the walk advances */
            prev = foff;
        }
        int tty = agent_run_has_tty(payload, h.len);
        struct run_spec s;
        char err[256] = "";
        if (decode(&s, payload, h.len, err, sizeof(err)) < 0 && err[0] == '\0')
            abort();
        if (err[0] == '\0' && s.tty != tty)
            abort(); /* host and agent agree on whether a RUN has a terminal */
        spec_free(&s);
        off += AGENT_HDR_SIZE + h.len;
    }
    free(buf);
    return 0;
}
