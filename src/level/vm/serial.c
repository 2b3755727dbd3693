/* The console: a 16550A UART at 0x3f8 (ttyS0, IRQ 4), output only. What the
 * guest writes goes to out_fd, the console log, up to VM_CONSOLE_MAX bytes
 * (the qemu level's bound; the rest is dropped).
 * Transmission is instant, so "transmitter empty" is always true and its
 * interrupt is raised again at each byte: Linux's 8250 driver then writes
 * the next one. Enough of the chip for the driver's probe: scratch, loop-back
 * (MSR follows MCR) and the FIFO bits that make it a 16550A. */
#include <unistd.h>

#include "core/util.h"
#include "level/vm/vm.h"
#include "level/vmhost/backend.h"

enum {
    RBR_THR = 0, /* DLL with DLAB */
    IER = 1,     /* DLM with DLAB */
    IIR_FCR = 2,
    LCR = 3,
    MCR = 4,
    LSR = 5,
    MSR = 6,
    SCR = 7,
};
#define LCR_DLAB   0x80
#define IER_THRI   0x02
#define IIR_NO_INT 0x01
#define IIR_THRI   0x02
#define IIR_FIFO   0xc0
#define FCR_FIFO   0x01
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define MCR_LOOP   0x10

void serial_init(struct serial *s, int out_fd, void (*set_irq)(void *, bool), void *ctx)
{
    *s = (struct serial){.out_fd = out_fd, .room = VM_CONSOLE_MAX, .set_irq = set_irq, .ctx = ctx};
}

static void update_irq(struct serial *s)
{
    bool level = (s->ier & IER_THRI) && s->thri_pending;
    if (level != s->irq) {
        s->irq = level;
        if (s->set_irq)
            s->set_irq(s->ctx, level);
    }
}

void serial_flush(struct serial *s)
{
    size_t n = s->len < s->room ? s->len : s->room;
    if (n > 0 && s->out_fd >= 0 && write_all(s->out_fd, s->buf, n) == (ssize_t)n)
        s->room -= n;
    else if (n > 0)
        s->room = 0; /* a console that fails stays silent */
    s->len = 0;
}

static void transmit(struct serial *s, uint8_t c)
{
    if (s->mcr & MCR_LOOP)
        return; /* loop-back: nothing leaves the chip (no receiver here) */
    s->buf[s->len++] = (char)c;
    if (c == '\n' || s->len == sizeof(s->buf))
        serial_flush(s);
}

void serial_out(struct serial *s, unsigned off, uint8_t v)
{
    bool dlab = s->lcr & LCR_DLAB;
    switch (off) {
    case RBR_THR:
        if (dlab) {
            s->dll = v;
            return;
        }
        transmit(s, v);
        s->thri_pending = true;
        break;
    case IER:
        if (dlab) {
            s->dlm = v;
            return;
        }
        /* Enabling the interrupt with the transmitter empty raises it. */
        if ((v & IER_THRI) && !(s->ier & IER_THRI))
            s->thri_pending = true;
        s->ier = v & 0x0f;
        break;
    case IIR_FCR:
        s->fcr = v;
        break;
    case LCR:
        s->lcr = v;
        break;
    case MCR:
        s->mcr = v & 0x1f;
        break;
    case SCR:
        s->scr = v;
        break;
    default: /* LSR, MSR: read-only */
        break;
    }
    update_irq(s);
}

uint8_t serial_in(struct serial *s, unsigned off)
{
    bool dlab = s->lcr & LCR_DLAB;
    uint8_t v = 0;
    switch (off) {
    case RBR_THR:
        v = dlab ? s->dll : 0; /* nothing is ever received */
        break;
    case IER:
        v = dlab ? s->dlm : s->ier;
        break;
    case IIR_FCR:
        v = (s->fcr & FCR_FIFO) ? IIR_FIFO : 0;
        if ((s->ier & IER_THRI) && s->thri_pending) {
            v |= IIR_THRI;
            s->thri_pending = false; /* reading IIR acknowledges it */
        } else {
            v |= IIR_NO_INT;
        }
        break;
    case LCR:
        v = s->lcr;
        break;
    case MCR:
        v = s->mcr;
        break;
    case LSR:
        v = LSR_THRE | LSR_TEMT;
        break;
    case MSR:
        /* Loop-back: OUT2 -> DCD, OUT1 -> RI, DTR -> DSR, RTS -> CTS. Else
         * a modem that is there: DCD, DSR, CTS. */
        if (s->mcr & MCR_LOOP)
            v = (uint8_t)(((s->mcr & 0x08) << 4) | ((s->mcr & 0x04) << 4) | ((s->mcr & 0x01) << 5) |
                          ((s->mcr & 0x02) << 3));
        else
            v = 0xb0;
        break;
    case SCR:
        v = s->scr;
        break;
    }
    update_irq(s);
    return v;
}
