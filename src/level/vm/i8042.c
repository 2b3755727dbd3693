/* The keyboard controller, as far as a guest without a keyboard uses it:
 * the reset line. Linux's reboot=k waits for the controller's input buffer
 * to be empty (status bit 1 clear) and writes 0xfe (pulse reset) to its
 * command port; that ends this VM, as -no-reboot does for QEMU. */
#include "level/vm/vm.h"

#define I8042_DATA    0x60
#define I8042_COMMAND 0x64
#define CMD_RESET     0xfe

bool i8042_out(uint16_t port, uint8_t v)
{
    return port == I8042_COMMAND && v == CMD_RESET;
}

uint8_t i8042_in(uint16_t port)
{
    (void)port;
    return 0; /* no data, input buffer empty, no keyboard */
}
