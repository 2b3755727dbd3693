/* The agent's byte queues (protocol.h's agent_queue: frames waiting for the
 * host, each process's STDIN waiting for its pipe): out of memory ends the
 * VM. */
#include "agent.h"

void queue_push(struct agent_queue *q, const void *p, size_t n)
{
    if (agent_queue_push(q, p, n) < 0)
        fatal("out of memory queueing %zu bytes", n);
}
