/* QEMU's command line for one VM of the qemu level. */
#ifndef CELLA_QEMU_CMD_H
#define CELLA_QEMU_CMD_H

#include "level/vmhost/vm.h"

/* argv for execv (NULL-terminated; free with qemu_argv_free). agent_fd is
 * the monitor's socket to the agent, inherited by QEMU; QEMU's stdout is the
 * serial console. */
char **qemu_argv(const struct vm_config *cfg, int agent_fd);
void qemu_argv_free(char **argv);
/* The guest kernel's command line (malloc'd). */
char *qemu_kernel_cmdline(const struct vm_config *cfg);

#endif
