/* Help and version texts in runc 1.1's shape (its urfave/cli templates: NAME,
 * USAGE, DESCRIPTION, OPTIONS), so that tools and people that read runc's read
 * cella's; cella's own options are listed with the rest. */
#define _GNU_SOURCE
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/util.h"

#ifndef CELLA_VERSION
#define CELLA_VERSION "0.1.0"
#endif

struct help {
    const char *name;
    const char *summary;
    const char *usage;   /* after "cella NAME " */
    const char *text;    /* the paragraphs after USAGE, or NULL */
    const char *options; /* the OPTIONS lines, or NULL */
};

#define ID_TEXT                                                                                    \
    "Where \"<container-id>\" is your name for the instance of the container that you\n"           \
    "are starting. The name you provide for the container instance must be unique on\n"            \
    "your host.\n"
#define BUNDLE_OPTS                                                                                \
    "   --bundle value, -b value  path to the root of the bundle directory, defaults to the "      \
    "current directory\n"                                                                          \
    "   --config value, -f value  the configuration file in the bundle (default: "                 \
    "\"config.json\")\n"                                                                           \
    "   --console-socket value    path to an AF_UNIX socket which will receive a file "            \
    "descriptor referencing the master end of the console's pseudoterminal\n"
#define CREATE_OPTS                                                                                \
    "   --pid-file value          specify the file to write the process id to\n"                   \
    "   --no-pivot                do not use pivot root to jail process inside rootfs.  This "     \
    "should be used whenever the rootfs is on top of a ramdisk\n"                                  \
    "   --no-new-keyring          do not create a new session keyring for the container.  This "   \
    "will cause the container to inherit the calling processes session key\n"                      \
    "   --preserve-fds value      Pass N additional file descriptors to the container (stdio + "   \
    "$LISTEN_FDS + N in total) (default: 0)\n"

static const struct help helps[] = {
    {"create", "create a container", "[command options] <container-id>",
     ID_TEXT "\nDESCRIPTION:\n"
             "   The create command creates an instance of a container for a bundle. The "
             "bundle\nis a directory with a specification file named \"config.json\" and a "
             "root\nfilesystem. The container's process waits until `cella start`.\n",
     BUNDLE_OPTS CREATE_OPTS},
    {"start", "executes the user defined process in a created container", "<container-id>",
     ID_TEXT "\nDESCRIPTION:\n"
             "   The start command executes the user defined process in a created container.\n",
     NULL},
    {"run", "create and run a container", "[command options] <container-id>",
     ID_TEXT "\nDESCRIPTION:\n"
             "   The run command creates an instance of a container for a bundle, starts it\n"
             "and, unless detached, waits for it and deletes it, exiting with its exit code.\n",
     BUNDLE_OPTS "   --detach, -d              detach from the container's process\n"
                 "   --keep                    do not delete the container after it exits\n"
                 "   --no-subreaper            accepted for runc's sake (cella does not "
                 "become a subreaper)\n" CREATE_OPTS},
    {"state", "output the state of a container", "<container-id>",
     "Where \"<container-id>\" is your name for the instance of the container.\n\n"
     "DESCRIPTION:\n"
     "   The state command outputs current state information for the\ninstance of a "
     "container.\n",
     NULL},
    {"kill", "kill sends the specified signal (default: SIGTERM) to the container's init process",
     "[command options] <container-id> [signal]",
     "Where \"<container-id>\" is the name for the instance of the container and\n"
     "\"[signal]\" is the signal to be sent to the init process (a name such as KILL\n"
     "or SIGKILL, or a number; 0 only checks that the container is alive).\n\n"
     "EXAMPLE:\n"
     "To send a \"KILL\" signal to the init process of the container \"ubuntu01\":\n\n"
     "       # cella kill ubuntu01 KILL\n",
     "   --all, -a  send the specified signal to all processes inside the container\n"},
    {"delete", "delete any resources held by the container often used with detached container",
     "[command options] <container-id>",
     "Where \"<container-id>\" is the name for the instance of the container.\n\n"
     "EXAMPLE:\n"
     "To delete the stopped container \"ubuntu01\" and everything it holds:\n\n"
     "       # cella delete ubuntu01\n",
     "   --force, -f          Forcibly deletes the container if it is still running (uses "
     "SIGKILL)\n"
     "   --regex value, -r value  delete every container whose ID matches this extended "
     "regular expression\n"},
    {"exec", "execute new process inside the container",
     "[command options] <container-id> <command> [command options]  || -p process.json "
     "<container-id>",
     "Where \"<container-id>\" is the name for the instance of the container and\n"
     "\"<command>\" is the command to be executed in the container.\n"
     "\"<command>\" can't be empty unless a \"-p\" flag provided.\n\n"
     "Errors of exec itself exit 255; otherwise the exit code is the process's.\n\n"
     "EXAMPLE:\n"
     "To list the processes running in the container \"ubuntu01\":\n\n"
     "       # cella exec ubuntu01 ps\n",
     "   --console-socket value             path to an AF_UNIX socket which will receive a "
     "file descriptor referencing the master end of the console's pseudoterminal\n"
     "   --cwd value, -w value              current working directory in the container\n"
     "   --env value, -e value              set environment variables\n"
     "   --tty, -t                          allocate a pseudo-TTY (without --console-socket, "
     "cella relays it to its own terminal)\n"
     "   --user value, -u value             UID (format: <uid>[:<gid>])\n"
     "   --additional-gids value, -g value  additional gids\n"
     "   --process value, -p value          path to the process.json\n"
     "   --detach, -d                       detach from the container's process\n"
     "   --pid-file value                   specify the file to write the process id to\n"
     "   --process-label value              accepted, ignored (no SELinux here)\n"
     "   --apparmor value                   accepted, ignored (no AppArmor here)\n"
     "   --no-new-privs                     set the no new privileges value for the process\n"
     "   --cap value, -c value              add a capability to the bounding set for the "
     "process\n"
     "   --preserve-fds value               Pass N additional file descriptors to the "
     "container (stdio + $LISTEN_FDS + N in total) (default: 0)\n"
     "   --cgroup value                     accepted, ignored (the process joins the "
     "container's cgroup)\n"
     "   --ignore-paused                    allow exec in a paused container\n"},
    {"list", "lists containers started by cella with the given root", "[command options]",
     "Where the given root is specified via the global option \"--root\"\n"
     "(default: \"/run/cella\").\n",
     "   --format value, -f value  select one of: table or json (default: \"table\")\n"
     "   --quiet, -q               display only container IDs\n"},
    {"ps", "ps displays the processes running inside a container",
     "[command options] <container-id> [ps options]", NULL,
     "   --format value, -f value  select one of: table or json (default: \"table\")\n"},
    {"pause", "pause suspends all processes inside the container", "<container-id>",
     "Where \"<container-id>\" is the name for the instance of the container to be\npaused.\n\n"
     "DESCRIPTION:\n"
     "   The pause command suspends all processes in the instance of the container.\n",
     NULL},
    {"resume", "resumes all processes that have been previously paused", "<container-id>",
     "Where \"<container-id>\" is the name for the instance of the container to be\nresumed.\n\n"
     "DESCRIPTION:\n"
     "   The resume command resumes all processes in the instance of the container.\n",
     NULL},
    {"update", "update container resource constraints", "[command options] <container-id>",
     "DESCRIPTION:\n"
     "   The data can be read from a file or the standard input (--resources); then all\n"
     "other options are ignored. SIZE values take runc's units: bytes, or 50M, 1.5g,\n"
     "64MiB, 100kb (powers of 1024); -1 is unlimited.\n",
     "   --resources value, -r value  path to the file containing the resources to update or "
     "'-' to read from the standard input\n"
     "   --blkio-weight value        Specifies per cgroup weight, range is from 10 to 1000\n"
     "   --cpu-period value          CPU CFS period to be used for hardcapping (in usecs). 0 to "
     "use system default\n"
     "   --cpu-quota value           CPU CFS hardcap limit (in usecs). Allowed cpu time in a "
     "given period\n"
     "   --cpu-share value           CPU shares (relative weight vs. other containers)\n"
     "   --cpu-rt-period value       CPU realtime period to be used for hardcapping (in usecs). "
     "0 to use system default\n"
     "   --cpu-rt-runtime value      CPU realtime hardcap limit (in usecs). Allowed cpu time in a "
     "given period\n"
     "   --cpuset-cpus value         CPU(s) to use\n"
     "   --cpuset-mems value         Memory node(s) to use\n"
     "   --memory value              Memory limit (SIZE)\n"
     "   --memory-reservation value  Memory reservation or soft_limit (SIZE)\n"
     "   --memory-swap value         Total memory usage (memory + swap); set '-1' to enable "
     "unlimited swap\n"
     "   --pids-limit value          Maximum number of pids allowed in the container\n"},
    {"events",
     "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
     "[command options] <container-id>",
     "Where \"<container-id>\" is the name for the instance of the container.\n\n"
     "DESCRIPTION:\n"
     "   The events command displays information about the container. By default the\n"
     "information is displayed once every 5 seconds.\n",
     "   --interval value  set the stats collection interval (default: 5s)\n"
     "   --stats           display the container's stats then exit\n"},
    {"spec", "create a new specification file", "[command options]",
     "DESCRIPTION:\n"
     "   The spec command creates the new specification file named \"config.json\" for\n"
     "the bundle: runc's default one (its ociVersion aside).\n\n"
     "EXAMPLE:\n"
     "  To make a bundle of a busybox root filesystem that runs `echo hello`:\n\n"
     "    mkdir -p hello/rootfs/bin && cd hello\n"
     "    cp /bin/busybox rootfs/bin/ && ln -s busybox rootfs/bin/echo\n"
     "    cella spec\n"
     "    sed -i 's;\"sh\";\"echo\", \"hello\";' config.json\n"
     "    cella run container1\n",
     "   --bundle value, -b value  path to the root of the bundle directory\n"
     "   --rootless                generate a configuration for a rootless container\n"},
    {"features", "show the enabled features", "",
     "DESCRIPTION:\n   Show the enabled features.\n   The result is parsable as a JSON.\n", NULL},
    {"wasm", "run a WebAssembly (WASI) module directly", "run FILE.wasm [ARGS...]", NULL, NULL},
    {"bench", "measure every runtime present side by side", "[options]",
     "See `cella bench --help` for its options.\n", NULL},
};

static const struct help *find(const char *cmd)
{
    for (size_t i = 0; i < ARRAY_SIZE(helps); i++)
        if (strcmp(helps[i].name, cmd) == 0)
            return &helps[i];
    return NULL;
}

const char *cli_summary(const char *cmd)
{
    const struct help *h = find(cmd);
    return h ? h->summary : "";
}

void cli_help(const char *cmd)
{
    const struct help *h = find(cmd);
    if (h == NULL)
        abort();
    printf("NAME:\n   cella %s - %s\n\nUSAGE:\n   cella %s %s\n", h->name, h->summary, h->name,
           h->usage);
    if (h->text != NULL)
        printf("\n%s", h->text);
    if (h->options != NULL)
        printf("\nOPTIONS:\n%s", h->options);
    exit(0);
}

void cli_version(FILE *f)
{
    const struct scmp_version *v = seccomp_version();
    fprintf(f, "%s\nspec: 1.1.0\n", CELLA_VERSION);
    if (v != NULL)
        fprintf(f, "libseccomp: %u.%u.%u\n", v->major, v->minor, v->micro);
    fprintf(f, "+SECCOMP +CAP +SYSTEMD_NOTIFY\n");
}
