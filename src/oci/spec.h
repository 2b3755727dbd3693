/* config.json (OCI runtime-spec 1.1, Linux) as C structures. Parsing is done
 * with jansson; unknown fields are ignored, a field of the wrong type is an
 * error naming its JSON path. Every string is owned by the struct. */
#ifndef CELLA_SPEC_H
#define CELLA_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

struct str_list {
    char **v; /* NULL-terminated */
    size_t n;
};

struct kv {
    char *key;
    char *value;
};

struct kv_list {
    struct kv *v;
    size_t n;
};

struct spec_rlimit {
    char *type; /* "RLIMIT_NOFILE" */
    int resource;
    uint64_t soft, hard;
};

struct spec_caps {
    bool present; /* process.capabilities given */
    struct str_list bounding, effective, inheritable, permitted, ambient;
};

struct spec_user {
    uid_t uid;
    gid_t gid;
    bool has_umask;
    mode_t umask;
    gid_t *additional_gids;
    size_t n_additional_gids;
    char *username;
};

#define SPEC_CPU_WORDS  16 /* 1024 CPUs, glibc's cpu_set_t */
#define SPEC_NODE_WORDS 16 /* 1024 NUMA nodes (the kernel's MAX_NUMNODES is at most that) */

struct spec_process {
    bool present;
    bool terminal;
    unsigned console_height, console_width;
    struct spec_user user;
    struct str_list args;
    struct str_list env;
    char *cwd;
    struct spec_caps caps;
    struct spec_rlimit *rlimits;
    size_t n_rlimits;
    bool no_new_privileges;
    char *apparmor_profile;
    char *selinux_label;
    bool has_oom_score_adj;
    int oom_score_adj;
    bool has_ioprio;
    int ioprio_class, ioprio_level; /* IOPRIO_CLASS_RT = 1, BE = 2, IDLE = 3; 0..7 */
    bool has_sched;                 /* process.scheduler, as sched_setattr(2) takes it */
    unsigned sched_policy;          /* SCHED_OTHER = 0 ... SCHED_DEADLINE = 6 */
    uint64_t sched_flags;           /* SCHED_FLAG_* bits */
    int sched_nice;
    unsigned sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    /* process.execCPUAffinity (exec only): CPU masks, before and after the
     * process joins the cgroup */
    bool has_cpu_initial, has_cpu_final;
    uint64_t cpu_initial[SPEC_CPU_WORDS], cpu_final[SPEC_CPU_WORDS];
    struct str_list unsupported; /* JSON paths of fields set that cella cannot apply yet */
};

struct spec_mount {
    char *destination;
    char *type;
    char *source;
    struct str_list options;
    /* An idmapped mount (runtime-spec 1.1): both maps or neither. */
    struct spec_idmap *uid_mappings, *gid_mappings;
    size_t n_uid_mappings, n_gid_mappings;
};

enum ns_type {
    NS_PID,
    NS_NETWORK,
    NS_MOUNT,
    NS_IPC,
    NS_UTS,
    NS_USER,
    NS_CGROUP,
    NS_TIME,
    NS_COUNT
};

struct spec_namespace {
    bool present;
    char *path; /* join this one instead of creating a new one */
};

struct spec_idmap {
    uint32_t container_id, host_id, size;
};

struct spec_device {
    char *path;
    char type; /* 'c', 'b', 'u', 'p' */
    int64_t major, minor;
    bool has_mode;
    mode_t file_mode;
    bool has_uid, has_gid;
    uid_t uid;
    gid_t gid;
};

struct spec_dev_cgroup {
    bool allow;
    char type;            /* 'a', 'c', 'b' */
    int64_t major, minor; /* -1 = wildcard */
    char *access;
};

/* A value that may be absent: every resource field is optional. */
#define OPT(T)                                                                                     \
    struct {                                                                                       \
        bool set;                                                                                  \
        T v;                                                                                       \
    }

struct spec_resources {
    bool present;
    struct {
        OPT(int64_t) limit, reservation, swap, kernel, kernel_tcp;
        OPT(uint64_t) swappiness;
        OPT(bool) disable_oom_killer, use_hierarchy, check_before_update;
    } memory;
    struct {
        OPT(uint64_t) shares, period, realtime_period;
        OPT(int64_t) quota, realtime_runtime, idle;
        char *cpus, *mems;
    } cpu;
    struct {
        OPT(int64_t) limit;
    } pids;
    struct {
        OPT(uint16_t) weight;
    } blkio;
    struct spec_dev_cgroup *devices;
    size_t n_devices;
    struct spec_hugepage {
        char *page_size; /* "2MB" */
        uint64_t limit;
    } * hugepages;
    size_t n_hugepages;
    struct {
        OPT(uint32_t) class_id;
        struct spec_ifprio {
            char *name;
            uint32_t priority;
        } * priorities;
        size_t n_priorities;
    } network;
    struct kv_list unified;
    struct str_list unsupported; /* as in spec_process */
};

struct spec_seccomp_arg {
    unsigned index;
    uint64_t value, value_two;
    char *op;
};

struct spec_seccomp_rule {
    struct str_list names;
    char *action;
    bool has_errno_ret;
    unsigned errno_ret;
    struct spec_seccomp_arg *args;
    size_t n_args;
};

struct spec_seccomp {
    bool present;
    char *default_action;
    bool has_default_errno_ret;
    unsigned default_errno_ret;
    struct str_list architectures;
    struct str_list flags;
    char *listener_path;
    char *listener_metadata;
    struct spec_seccomp_rule *syscalls;
    size_t n_syscalls;
};

/* Seconds; waited as milliseconds in poll's int (24.8 days). */
#define SPEC_HOOK_TIMEOUT_MAX (2147483647 / 1000)

struct spec_hook {
    char *path;
    struct str_list args;
    struct str_list env;
    bool has_timeout;
    int timeout;
};

enum hook_kind {
    HOOK_PRESTART,
    HOOK_CREATE_RUNTIME,
    HOOK_CREATE_CONTAINER,
    HOOK_START_CONTAINER,
    HOOK_POSTSTART,
    HOOK_POSTSTOP,
    HOOK_COUNT
};

struct spec_hooks {
    struct spec_hook *v;
    size_t n;
};

struct spec_linux {
    struct spec_namespace ns[NS_COUNT];
    struct spec_idmap *uid_mappings, *gid_mappings;
    size_t n_uid_mappings, n_gid_mappings;
    struct spec_device *devices;
    size_t n_devices;
    char *cgroups_path;
    struct spec_resources resources;
    struct kv_list sysctl;
    struct spec_seccomp seccomp;
    char *rootfs_propagation;
    struct str_list masked_paths;
    struct str_list readonly_paths;
    char *mount_label;
    /* linux.timeOffsets: [0] monotonic, [1] boottime (the kernel's clock
     * names in /proc/PID/timens_offsets) */
    struct spec_time_offset {
        bool set;
        int64_t secs;
        uint32_t nanosecs;
    } time_offsets[2];
    bool has_personality;
    unsigned long personality; /* linux.personality's domain: PER_LINUX or PER_LINUX32 */
    /* linux.memoryPolicy, as set_mempolicy(2) takes it: mode | MPOL_F_* flags */
    bool has_mempolicy;
    int mempolicy_mode;
    uint64_t mempolicy_nodes[SPEC_NODE_WORDS];
};

struct spec {
    char *oci_version;
    struct {
        char *path;
        bool readonly;
    } root;
    char *hostname;
    char *domainname;
    struct spec_mount *mounts;
    size_t n_mounts;
    struct spec_process process;
    struct spec_linux linux_;
    struct spec_hooks hooks[HOOK_COUNT];
    struct kv_list annotations;
    /* Fields of the runtime-spec that are set but that cella does not
     * implement (JSON paths, "linux.intelRdt"): refused by the level rather
     * than silently ignored. Those of process and resources are in theirs. */
    struct str_list unsupported;
};

/* The runtime-spec releases cella implements (`cella features`): ociVersion
 * must be SemVer with this major version. */
#define SPEC_OCI_MAJOR       "1"
#define SPEC_OCI_VERSION_MIN "1.0.0"
#define SPEC_OCI_VERSION_MAX "1.3.0" /* every field of it applied or refused */
bool spec_semver_valid(const char *v);

/* Parse config.json text; `origin` names it in messages (e.g. "bundle/config.json"). */
struct spec *spec_parse(const char *text, size_t len, const char *origin, cerr_t *err);
/* Read and parse BUNDLE/config.json. */
struct spec *spec_load(const char *bundle, cerr_t *err);
/* Parse a lone process object (exec --process FILE). */
struct spec_process *spec_parse_process(const char *text, size_t len, const char *origin,
                                        cerr_t *err);
/* Parse a lone LinuxResources object (update --resources FILE). */
int spec_parse_resources(const char *text, size_t len, const char *origin,
                         struct spec_resources *out, cerr_t *err);
void spec_resources_clear(struct spec_resources *r);
void spec_free(struct spec *s);
void spec_process_free(struct spec_process *p);
void spec_process_clear(struct spec_process *p);

/* The first of the fields L lists (spec.unsupported, ...) as an error. */
int spec_refuse_unsupported(const struct str_list *l, cerr_t *err);
const char *spec_annotation(const struct spec *s, const char *key);
const char *ns_type_name(enum ns_type t); /* "pid", "network", ... */
const char *ns_proc_name(enum ns_type t); /* "pid", "net", ... (/proc/PID/ns/) */
int ns_clone_flag(enum ns_type t);
const char *hook_kind_name(enum hook_kind k); /* "prestart", ... */
int rlimit_from_name(const char *name);       /* -1 if unknown */

void str_list_free(struct str_list *l);
int str_list_push(struct str_list *l, const char *s);

#endif
