/* cella re-executed from a sealed copy of itself (CVE-2019-5736): a command
 * that puts a process of cella in a container (create, run, exec) first
 * copies its binary into a memfd, seals it and execs that. A container that
 * gets such a process to run its own /proc/self/exe (a `#!/proc/self/exe`
 * script given to exec) then reaches the sealed copy, never the file on the
 * host, which it could otherwise reopen for writing once cella is done.
 * A binary on a read-only mount is run as it is. */
#ifndef CELLA_CORE_SELF_EXE_H
#define CELLA_CORE_SELF_EXE_H

/* Re-exec argv from the sealed copy, unless this process is that copy
 * already. Returns only then, or when the copy cannot be made (with a
 * warning: memfd_create or exec refused by the host's policy). */
void self_exe_seal(char **argv);

/* The binary's path on the host (what /proc/self/exe named before the
 * copy): the VM levels find their guest files beside it. */
const char *self_exe_path(void);

#endif
