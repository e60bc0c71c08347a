/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "isolator.h"
#include "strv.h"

/* Kernel capability numbers 0..40, i.e. everything up to Linux 5.9. Anything
 * newer is refused rather than passed on, because systemd 252 would drop an
 * unknown name from CapabilityBoundingSet= with only a warning. */
static const char *const capability_names[] = {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
        "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

/* rkt's default, order kept so that docs and
 * golden files can quote it verbatim. */
const char *const capability_default_set[] = {
        "CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_KILL",
        "CAP_MKNOD", "CAP_NET_RAW", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID",
        "CAP_SETPCAP", "CAP_SETFCAP", "CAP_SYS_CHROOT",
};
const size_t capability_default_set_size = ELEMENTSOF(capability_default_set);

/* rkt's default whitelist (309 names), shared by
 * @rkt/default-whitelist and @docker/default-whitelist. */
static const char *const seccomp_default_allow[] = {
        "accept", "accept4", "access", "alarm", "bind", "brk", "capget", "capset", "chdir", "chmod",
        "chown", "chown32", "clock_getres", "clock_gettime", "clock_nanosleep", "close", "connect",
        "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
        "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_wait", "epoll_wait_old", "eventfd",
        "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat", "fadvise64",
        "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown",
        "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock",
        "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs",
        "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futimesat", "getcpu", "getcwd",
        "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid",
        "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp",
        "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
        "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname",
        "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
        "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
        "ioctl", "io_destroy", "io_getevents", "ioprio_get", "ioprio_set", "io_setup", "io_submit",
        "ipc", "kill", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr",
        "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
        "madvise", "memfd_create", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock",
        "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
        "mq_timedreceive", "mq_timedsend", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv",
        "msgsnd", "msync", "munlock", "munlockall", "munmap", "nanosleep", "newfstatat",
        "_newselect", "open", "openat", "pause", "personality", "pipe", "pipe2", "poll", "ppoll",
        "prctl", "pread64", "preadv", "prlimit64", "pselect6", "pwrite64", "pwritev", "read",
        "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmsg",
        "remap_file_pages", "removexattr", "rename", "renameat", "renameat2", "restart_syscall",
        "rmdir", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
        "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_tgsigqueueinfo",
        "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
        "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
        "seccomp", "select", "semctl", "semget", "semop", "semtimedop", "send", "sendfile",
        "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
        "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
        "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
        "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
        "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
        "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4",
        "sigreturn", "socket", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
        "statfs64", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo",
        "syslog", "tee", "tgkill", "time", "timer_create", "timer_delete", "timerfd_create",
        "timerfd_gettime", "timerfd_settime", "timer_getoverrun", "timer_gettime", "timer_settime",
        "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink",
        "unlinkat", "utime", "utimensat", "utimes", "vfork", "vmsplice", "wait4", "waitid",
        "waitpid", "write", "writev", "arch_prctl", "modify_ldt", "chroot", "clone",
        /* Not in rkt's 2017 list, but what a current libc does for the most
         * ordinary things: glibc >= 2.34 creates every thread with clone3 and
         * registers rseq, stat() is statx, faccessat2 backs access(); an app
         * killed by SIGSYS for starting a thread is not a sandbox, it is a
         * broken default (redis dies right after "Server initialized"). */
        "clone3", "rseq", "statx", "faccessat2", "close_range", "preadv2", "pwritev2", "membarrier",
        "epoll_pwait2", "pidfd_open", "pidfd_send_signal", "openat2",
/* rkt adds these only on ARM; elsewhere libseccomp resolves them to
 * pseudo-syscall numbers, which would only add noise to every unit. */
#if defined(__arm__) || defined(__aarch64__)
        "arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "set_tls",
        "sync_file_range2",
#endif
};

/* rkt's default blacklist, reachable only through
 * the @rkt/default-blacklist and @docker/default-blacklist wildcards. */
static const char *const seccomp_default_deny[] = {
        "acct", "add_key", "adjtimex", "bpf", "clock_adjtime", "clock_settime", "create_module",
        "delete_module", "finit_module", "get_kernel_syms", "get_mempolicy", "init_module",
        "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
        "mbind", "mount", "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
        "perf_event_open", "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace",
        "query_module", "quotactl", "reboot", "request_key", "set_mempolicy", "setns",
        "settimeofday", "stime", "swapon", "swapoff", "sysfs", "_sysctl", "umount", "umount2",
        "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
};

/* Exactly the groups `systemd-analyze syscall-filter` lists on systemd 252.
 * Newer ones ("sandbox") are refused: 252 drops an unknown group with only a
 * warning, and in a deny list that lets the whole group through. */
static const char *const systemd_syscall_groups[] = {
        "aio", "basic-io", "chown", "clock", "cpu-emulation", "debug", "default", "file-system",
        "io-event", "ipc", "keyring", "known", "memlock", "module", "mount", "network-io",
        "obsolete", "pkey", "privileged", "process", "raw-io", "reboot", "resources", "setuid",
        "signal", "swap", "sync", "system-service", "timer",
};

/* rkt's spelling of systemd's @default; kept so rkt-era manifests still work. */
#define SYSTEMD_DEFAULT_ALIAS "default-whitelist"

/* CPUQuota= is parsed as an int of 1/10000 percent: 21474836.47% is the top,
 * and our one-decimal rendering of milli/10 must stay below it. */
#define CPU_QUOTA_MILLI_MAX UINT64_C(214748364)

#define CPU_SHARES_MIN 2
#define CPU_SHARES_MAX 262144
#define OOM_SCORE_ADJ_MIN (-1000)
#define OOM_SCORE_ADJ_MAX 1000

#define NO_INDEX SIZE_MAX

static const char *const isolator_kind_names[_ISOLATOR_KIND_MAX] = {
        [ISOLATOR_RESOURCE_CPU] = "resource/cpu",
        [ISOLATOR_RESOURCE_MEMORY] = "resource/memory",
        [ISOLATOR_RESOURCE_BLOCK_BANDWIDTH] = "resource/block-bandwidth",
        [ISOLATOR_RESOURCE_BLOCK_IOPS] = "resource/block-iops",
        [ISOLATOR_RESOURCE_NETWORK_BANDWIDTH] = "resource/network-bandwidth",
        [ISOLATOR_CAPABILITIES_RETAIN] = "os/linux/capabilities-retain-set",
        [ISOLATOR_CAPABILITIES_REMOVE] = "os/linux/capabilities-remove-set",
        [ISOLATOR_SECCOMP_RETAIN] = "os/linux/seccomp-retain-set",
        [ISOLATOR_SECCOMP_REMOVE] = "os/linux/seccomp-remove-set",
        [ISOLATOR_NO_NEW_PRIVILEGES] = "os/linux/no-new-privileges",
        [ISOLATOR_OOM_SCORE_ADJ] = "os/linux/oom-score-adj",
        [ISOLATOR_CPU_SHARES] = "os/linux/cpu-shares",
        [ISOLATOR_SELINUX_CONTEXT] = "os/linux/selinux-context",
        [ISOLATOR_APPARMOR_PROFILE] = "os/linux/apparmor-profile",
        [ISOLATOR_SYSCTL] = "os/unix/sysctl",
};

const char *isolator_kind_to_string(IsolatorKind k) {
        if ((unsigned) k >= _ISOLATOR_KIND_MAX)
                return NULL;
        return isolator_kind_names[k];
}

IsolatorKind isolator_kind_from_string(const char *s) {
        if (s)
                for (size_t k = 0; k < _ISOLATOR_KIND_MAX; k++)
                        if (strcmp(isolator_kind_names[k], s) == 0)
                                return (IsolatorKind) k;
        return (IsolatorKind) -1;
}

bool capability_name_is_valid(const char *name) {
        if (!name)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(capability_names); i++)
                if (strcmp(capability_names[i], name) == 0)
                        return true;
        return false;
}

typedef struct ErrnoEntry {
        const char *name;
        int number;
} ErrnoEntry;

/* The kernel reports errors as -4095..-1, so no errno lies above 4095. glibc
 * is asked instead of keeping a table here, so that new errno names arrive
 * with the C library that also knows their messages. glibc gives one name per
 * number, which means aliases such as EWOULDBLOCK are not accepted. */
#define ERRNO_MAX 4095

static ErrnoEntry errno_table[ERRNO_MAX];
static size_t errno_table_size;
static pthread_once_t errno_table_once = PTHREAD_ONCE_INIT;

static int errno_entry_cmp(const void *a, const void *b) {
        return strcmp(((const ErrnoEntry *) a)->name, ((const ErrnoEntry *) b)->name);
}

static void errno_table_build(void) {
        for (int i = 1; i <= ERRNO_MAX; i++) {
                const char *name = strerrorname_np(i);

                if (name)
                        errno_table[errno_table_size++] = (ErrnoEntry){ .name = name, .number = i };
        }
        qsort(errno_table, errno_table_size, sizeof(ErrnoEntry), errno_entry_cmp);
}

int errno_from_name(const char *name) {
        const ErrnoEntry key = { .name = name }, *e;

        if (!name || !*name)
                return -EINVAL;
        if (pthread_once(&errno_table_once, errno_table_build) != 0)
                return -EINVAL;
        e = bsearch(&key, errno_table, errno_table_size, sizeof(ErrnoEntry), errno_entry_cmp);
        return e ? e->number : -EINVAL;
}

bool syscall_name_is_known(const char *name) {
        /* Negative pseudo-numbers (chown32 on x86-64) count as known: systemd
         * accepts them as well, and libseccomp skips them when loading. */
        return name && *name && seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

/* The systemd group a "@systemd/…" wildcard stands for, or NULL. */
static const char *systemd_group_of(const char *wildcard) {
        const char *g;

        if (!wildcard || strncmp(wildcard, "@systemd/", strlen("@systemd/")) != 0)
                return NULL;
        g = wildcard + strlen("@systemd/");
        if (strcmp(g, SYSTEMD_DEFAULT_ALIAS) == 0)
                return "default";
        for (size_t i = 0; i < ELEMENTSOF(systemd_syscall_groups); i++)
                if (strcmp(systemd_syscall_groups[i], g) == 0)
                        return systemd_syscall_groups[i];
        return NULL;
}

static bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static bool is_default_allow_wildcard(const char *w) {
        return streq(w, "@rkt/default-whitelist") || streq(w, "@docker/default-whitelist");
}

static bool is_default_deny_wildcard(const char *w) {
        return streq(w, "@rkt/default-blacklist") || streq(w, "@docker/default-blacklist");
}

bool seccomp_wildcard_is_valid(const char *name) {
        if (!name)
                return false;
        return streq(name, "@appc.io/all") || streq(name, "@appc.io/empty") ||
               is_default_allow_wildcard(name) || is_default_deny_wildcard(name) ||
               systemd_group_of(name);
}

/* The built-in lists carry names for every architecture rkt ran on; the ones
 * libseccomp cannot place here are left out instead of making systemd warn. */
static int strv_extend_known(char ***l, const char *const *names, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int r;

                if (!syscall_name_is_known(names[i]))
                        continue;
                r = strv_extend(l, names[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Resolving ~300 names through libseccomp and sorting them is the largest
 * cost of rendering an app, and the answer never changes within a process:
 * work it out once. The cache stays reachable, so it is not a leak. */
static char **default_allow_cache;
static int default_allow_cache_error;
static pthread_once_t default_allow_once = PTHREAD_ONCE_INIT;

static void default_allow_build(void) {
        char **l = NULL;
        int r;

        r = strv_extend_known(&l, seccomp_default_allow, ELEMENTSOF(seccomp_default_allow));
        if (r < 0) {
                strv_free(l);
                default_allow_cache_error = r;
                return;
        }
        strv_sort(l);
        strv_uniq(l);
        default_allow_cache = l;
}

static int default_allow_list(char ***ret) {
        char **l;

        (void) pthread_once(&default_allow_once, default_allow_build);
        if (default_allow_cache_error < 0)
                return default_allow_cache_error;
        l = strv_copy(default_allow_cache);
        if (!l)
                return -ENOMEM;
        *ret = l;
        return 0;
}

static int fail(NpError *err, const char *path, size_t i, const char *field, size_t j, const char *fmt,
                ...) _printf_(6, 7);
static int fail(NpError *err, const char *path, size_t i, const char *field, size_t j, const char *fmt,
                ...) {
        _cleanup_free_ char *p = NULL, *m = NULL;
        va_list ap;
        int r;

        if (j == NO_INDEX)
                r = asprintf(&p, "%s[%zu]%s", path, i, field);
        else
                r = asprintf(&p, "%s[%zu]%s[%zu]", path, i, field, j);
        if (r < 0)
                return -ENOMEM;
        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return error_set(err, -EINVAL, p, "%s", m);
}

static int seccomp_resolve(const Isolator *iso, size_t i, const char *path, IsolatorSettings *s,
                           NpError *err) {
        const char *kind = isolator_kind_to_string(iso->kind);
        bool retain = iso->kind == ISOLATOR_SECCOMP_RETAIN, all = false, empty = false;
        _cleanup_strv_free_ char **l = NULL;
        size_t j = 0;
        int r;

        if (strv_length(iso->seccomp.set) == 0)
                return fail(err, path, i, ".value.set", NO_INDEX,
                            "the \"%s\" set is empty; list system calls or wildcards such as "
                            "\"@rkt/default-whitelist\"",
                            kind);

        /* Every entry is checked, even after @appc.io/all or @appc.io/empty
         * (where rkt stopped reading), so a typo never goes unnoticed. */
        STRV_FOREACH(e, iso->seccomp.set) {
                const char *g;

                if ((*e)[0] != '@') {
                        if (!syscall_name_is_known(*e))
                                return fail(err, path, i, ".value.set", j,
                                            "unknown system call \"%s\": libseccomp does not know it "
                                            "for this architecture, and systemd would drop it from the "
                                            "filter",
                                            *e);
                        r = strv_extend(&l, *e);
                } else if (!seccomp_wildcard_is_valid(*e))
                        return fail(err, path, i, ".value.set", j,
                                    "unknown system call wildcard \"%s\"; allowed are \"@appc.io/all\", "
                                    "\"@appc.io/empty\", \"@rkt/default-whitelist\", "
                                    "\"@rkt/default-blacklist\", \"@docker/default-whitelist\", "
                                    "\"@docker/default-blacklist\" and \"@systemd/<group>\" for a "
                                    "group listed by `systemd-analyze syscall-filter`",
                                    *e);
                else if (streq(*e, "@appc.io/all")) {
                        all = true;
                        r = 0;
                } else if (streq(*e, "@appc.io/empty")) {
                        empty = true;
                        r = 0;
                } else if ((g = systemd_group_of(*e)))
                        r = strv_extendf(&l, "@%s", g);
                else if (is_default_allow_wildcard(*e))
                        r = strv_extend_known(&l, seccomp_default_allow, ELEMENTSOF(seccomp_default_allow));
                else
                        r = strv_extend_known(&l, seccomp_default_deny, ELEMENTSOF(seccomp_default_deny));
                if (r < 0)
                        return r;
                j++;
        }

        if (iso->seccomp.errno_name && *iso->seccomp.errno_name &&
            errno_from_name(iso->seccomp.errno_name) < 0)
                return fail(err, path, i, ".value.errno", NO_INDEX,
                            "unknown errno name \"%s\"; expected a name such as \"EPERM\" or "
                            "\"ENOSYS\" (see errno(3))",
                            iso->seccomp.errno_name);

        if (all && empty)
                return fail(err, path, i, ".value.set", NO_INDEX,
                            "\"@appc.io/all\" and \"@appc.io/empty\" contradict each other; give one");
        /* The two remaining combinations would block every system call, exec
         * included, and systemd has no way to say "allow nothing". */
        if (retain && empty)
                return fail(err, path, i, ".value.set", NO_INDEX,
                            "\"@appc.io/empty\" in a seccomp-retain-set would allow no system call "
                            "and the app could not even start; list what the app needs instead");
        if (!retain && all)
                return fail(err, path, i, ".value.set", NO_INDEX,
                            "\"@appc.io/all\" in a seccomp-remove-set would block every system call "
                            "and the app could not even start; list what to block instead");

        if (all) {
                s->seccomp_mode = SECCOMP_MODE_NONE;
                return 0;
        }
        if (empty) {
                /* appc: removing nothing leaves the runtime's default. */
                l = strv_free(l);
                r = default_allow_list(&l);
                if (r < 0)
                        return r;
                s->seccomp_mode = SECCOMP_MODE_ALLOW;
        } else
                s->seccomp_mode = retain ? SECCOMP_MODE_ALLOW : SECCOMP_MODE_DENY;

        if (strv_length(l) == 0)
                return fail(err, path, i, ".value.set", NO_INDEX,
                            "the set names no system call known on this architecture");
        if (iso->seccomp.errno_name && *iso->seccomp.errno_name) {
                s->syscall_errno = strdup(iso->seccomp.errno_name);
                if (!s->syscall_errno)
                        return -ENOMEM;
        }
        strv_sort(l);
        strv_uniq(l);
        s->syscalls = TAKE_PTR(l);
        return 0;
}

/* Names that end up in a unit line as a whole value. A leading "-" is
 * refused because SELinuxContext= and AppArmorProfile= read it as "ignore
 * failure to apply", which would run the app unconfined. */
static bool label_is_safe(const char *s, bool allow_colon) {
        if (!s || !*s || s[0] == '-')
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p <= ' ' || *p == 0x7f || (!allow_colon && *p == ':'))
                        return false;
        return true;
}

static int selinux_resolve(const Isolator *iso, size_t i, const char *path, IsolatorSettings *s,
                           NpError *err) {
        const struct {
                const char *field, *value;
        } parts[] = {
                { ".value.user", iso->selinux.user },
                { ".value.role", iso->selinux.role },
                { ".value.type", iso->selinux.type },
                { ".value.level", iso->selinux.level },
        };

        for (size_t k = 0; k < ELEMENTSOF(parts); k++)
                if (!label_is_safe(parts[k].value, k == 3))
                        return fail(err, path, i, parts[k].field, NO_INDEX,
                                    "invalid SELinux %s \"%s\": it must be non-empty, must not start "
                                    "with \"-\", and must not contain whitespace, control characters%s",
                                    parts[k].field + strlen(".value."), strempty(parts[k].value),
                                    k == 3 ? "" : " or \":\"");
        if (asprintf(&s->selinux_context, "%s:%s:%s:%s", iso->selinux.user, iso->selinux.role,
                     iso->selinux.type, iso->selinux.level) < 0) {
                s->selinux_context = NULL;
                return -ENOMEM;
        }
        return 0;
}

static const char *quantity_show(const Quantity *q, char *buf, size_t size) {
        if (q->text)
                return q->text;
        (void) snprintf(buf, size, "%" PRId64 "m", q->milli);
        return buf;
}

static const char *unsupported_reason(IsolatorKind k) {
        switch (k) {
        case ISOLATOR_RESOURCE_BLOCK_BANDWIDTH:
        case ISOLATOR_RESOURCE_BLOCK_IOPS:
                return "systemd limits block I/O per device (IOReadBandwidthMax=, IOReadIOPSMax=, …) "
                       "and the isolator names no device, so there is nothing to apply it to";
        case ISOLATOR_RESOURCE_NETWORK_BANDWIDTH:
                return "systemd has no per-service network bandwidth limit; shaping the pod's "
                       "interface is not implemented";
        case ISOLATOR_SYSCTL:
                return "sysctls are namespace-wide, shared by every app in the pod, and setting them "
                       "is not implemented";
        default:
                return NULL;
        }
}

int isolator_settings_resolve(const Isolator *isolators, size_t n, uid_t uid, const char *path,
                              IsolatorSettings *ret, NpError *err) {
        _cleanup_(isolator_settings_done) IsolatorSettings s = {};
        _cleanup_strv_free_ char **cap_retain = NULL, **cap_remove = NULL;
        size_t seen[_ISOLATOR_KIND_MAX], seccomp_at = NO_INDEX;
        char qbuf[32];
        int r;

        if (!isolators && n > 0)
                return -EINVAL;
        if (!path)
                path = "";
        for (size_t k = 0; k < _ISOLATOR_KIND_MAX; k++)
                seen[k] = NO_INDEX;

        for (size_t i = 0; i < n; i++) {
                const Isolator *iso = isolators + i;
                const char *kind = isolator_kind_to_string(iso->kind), *why;
                const Quantity *q = &iso->resource.limit;

                if (!kind)
                        return fail(err, path, i, "", NO_INDEX, "unknown isolator kind %d",
                                    (int) iso->kind);

                /* Silently dropping a limit is worse than refusing the manifest. */
                why = unsupported_reason(iso->kind);
                if (why)
                        return fail(err, path, i, "", NO_INDEX,
                                    "isolator \"%s\" is not supported by nspawn-pod: %s", kind, why);

                switch (iso->kind) {
                case ISOLATOR_OOM_SCORE_ADJ:
                case ISOLATOR_CPU_SHARES:
                case ISOLATOR_SELINUX_CONTEXT:
                case ISOLATOR_APPARMOR_PROFILE:
                        if (seen[iso->kind] != NO_INDEX)
                                return fail(err, path, i, "", NO_INDEX,
                                            "only one \"%s\" isolator is allowed per app, and [%zu] "
                                            "is one already",
                                            kind, seen[iso->kind]);
                        break;
                case ISOLATOR_SECCOMP_RETAIN:
                case ISOLATOR_SECCOMP_REMOVE:
                        if (seccomp_at != NO_INDEX)
                                return fail(err, path, i, "", NO_INDEX,
                                            "only one seccomp isolator is allowed per app, and [%zu] "
                                            "is a \"%s\" already; merge them into one set",
                                            seccomp_at,
                                            isolator_kind_to_string(isolators[seccomp_at].kind));
                        seccomp_at = i;
                        break;
                case ISOLATOR_CAPABILITIES_RETAIN:
                case ISOLATOR_CAPABILITIES_REMOVE: {
                        IsolatorKind other = iso->kind == ISOLATOR_CAPABILITIES_RETAIN
                                                     ? ISOLATOR_CAPABILITIES_REMOVE
                                                     : ISOLATOR_CAPABILITIES_RETAIN;

                        if (seen[other] != NO_INDEX)
                                return fail(err, path, i, "", NO_INDEX,
                                            "\"%s\" cannot be combined with the \"%s\" at [%zu]; give "
                                            "either the capabilities to keep or the ones to drop",
                                            kind, isolator_kind_to_string(other), seen[other]);
                        break;
                }
                default:
                        break;
                }
                if (seen[iso->kind] == NO_INDEX)
                        seen[iso->kind] = i;

                switch (iso->kind) {
                case ISOLATOR_CAPABILITIES_RETAIN:
                case ISOLATOR_CAPABILITIES_REMOVE: {
                        size_t j = 0;

                        STRV_FOREACH(c, iso->caps) {
                                if (!capability_name_is_valid(*c))
                                        return fail(err, path, i, ".value.set", j,
                                                    "unknown capability \"%s\"; expected an upper-case "
                                                    "name from CAP_CHOWN to CAP_CHECKPOINT_RESTORE "
                                                    "(see capabilities(7))",
                                                    *c);
                                r = strv_extend(iso->kind == ISOLATOR_CAPABILITIES_RETAIN ? &cap_retain
                                                                                          : &cap_remove,
                                                *c);
                                if (r < 0)
                                        return r;
                                j++;
                        }
                        break;
                }
                case ISOLATOR_SECCOMP_RETAIN:
                case ISOLATOR_SECCOMP_REMOVE:
                        r = seccomp_resolve(iso, i, path, &s, err);
                        if (r < 0)
                                return r;
                        break;
                case ISOLATOR_NO_NEW_PRIVILEGES:
                        s.no_new_privileges = s.no_new_privileges || iso->no_new_privileges;
                        break;
                case ISOLATOR_RESOURCE_MEMORY:
                        /* appc: an isolator without a limit only states a request,
                         * which a cgroup cannot enforce. */
                        if (!q->set)
                                break;
                        if (q->ceil <= 0)
                                return fail(err, path, i, ".value.limit", NO_INDEX,
                                            "memory limit \"%s\" must be at least 1 byte: systemd "
                                            "ignores MemoryMax=0 and the app would run without a limit",
                                            quantity_show(q, qbuf, sizeof qbuf));
                        s.has_memory_max = true;
                        s.memory_max = (uint64_t) q->ceil;
                        break;
                case ISOLATOR_RESOURCE_CPU:
                        if (!q->set)
                                break;
                        if (q->milli <= 0)
                                return fail(err, path, i, ".value.limit", NO_INDEX,
                                            "CPU limit \"%s\" must be at least 1m: systemd ignores "
                                            "CPUQuota=0%% and the app would run without a limit",
                                            quantity_show(q, qbuf, sizeof qbuf));
                        if ((uint64_t) q->milli > CPU_QUOTA_MILLI_MAX)
                                return fail(err, path, i, ".value.limit", NO_INDEX,
                                            "CPU limit \"%s\" is above 214748364m (214748.364 CPUs), "
                                            "the largest CPUQuota= systemd accepts",
                                            quantity_show(q, qbuf, sizeof qbuf));
                        s.has_cpu_quota = true;
                        s.cpu_quota_milli = (uint64_t) q->milli;
                        break;
                case ISOLATOR_CPU_SHARES:
                        if (iso->integer < CPU_SHARES_MIN || iso->integer > CPU_SHARES_MAX)
                                return fail(err, path, i, ".value", NO_INDEX,
                                            "cpu-shares %" PRId64 " is out of range; allowed are %d..%d",
                                            iso->integer, CPU_SHARES_MIN, CPU_SHARES_MAX);
                        /* cgroup v2 has no shares: map 2..262144 linearly onto
                         * CPUWeight=1..10000, the way the kernel docs and systemd do. */
                        s.has_cpu_weight = true;
                        s.cpu_weight = 1 + ((uint64_t) (iso->integer - 2) * 9999) / 262142;
                        s.cpu_shares = (uint64_t) iso->integer;
                        break;
                case ISOLATOR_OOM_SCORE_ADJ:
                        if (iso->integer < OOM_SCORE_ADJ_MIN || iso->integer > OOM_SCORE_ADJ_MAX)
                                return fail(err, path, i, ".value", NO_INDEX,
                                            "oom-score-adj %" PRId64 " is out of range; allowed are "
                                            "%d..%d",
                                            iso->integer, OOM_SCORE_ADJ_MIN, OOM_SCORE_ADJ_MAX);
                        s.has_oom_score_adj = true;
                        s.oom_score_adj = (int) iso->integer;
                        break;
                case ISOLATOR_SELINUX_CONTEXT:
                        r = selinux_resolve(iso, i, path, &s, err);
                        if (r < 0)
                                return r;
                        break;
                case ISOLATOR_APPARMOR_PROFILE:
                        if (!label_is_safe(iso->apparmor_profile, true))
                                return fail(err, path, i, ".value.profile", NO_INDEX,
                                            "invalid AppArmor profile \"%s\": it must be non-empty, "
                                            "must not start with \"-\", and must not contain "
                                            "whitespace or control characters",
                                            strempty(iso->apparmor_profile));
                        s.apparmor_profile = strdup(iso->apparmor_profile);
                        if (!s.apparmor_profile)
                                return -ENOMEM;
                        break;
                default:
                        break;
                }
        }

        if (seen[ISOLATOR_CAPABILITIES_RETAIN] != NO_INDEX)
                s.capabilities = TAKE_PTR(cap_retain);
        else
                for (size_t k = 0; k < capability_default_set_size; k++) {
                        if (strv_contains(cap_remove, capability_default_set[k]))
                                continue;
                        r = strv_extend(&s.capabilities, capability_default_set[k]);
                        if (r < 0)
                                return r;
                }
        /* Non-NULL even when empty: an empty bounding set is a decision, not a
         * missing value. */
        if (!s.capabilities) {
                s.capabilities = calloc(1, sizeof(char *));
                if (!s.capabilities)
                        return -ENOMEM;
        }
        strv_sort(s.capabilities);
        strv_uniq(s.capabilities);

        if (seccomp_at == NO_INDEX) {
                /* The common case, so no copy: every app shares the list. */
                (void) pthread_once(&default_allow_once, default_allow_build);
                if (default_allow_cache_error < 0)
                        return default_allow_cache_error;
                s.syscalls = default_allow_cache;
                s.syscalls_shared = true;
                s.seccomp_mode = SECCOMP_MODE_ALLOW;
        }

        /* systemd turns NoNewPrivileges= on by itself when a non-root service
         * has a SystemCallFilter=; saying so in the unit keeps it visible. */
        if (s.seccomp_mode != SECCOMP_MODE_NONE && uid != 0)
                s.no_new_privileges = true;

        *ret = s;
        s = (IsolatorSettings){};
        return 0;
}

void isolator_settings_done(IsolatorSettings *s) {
        if (!s)
                return;
        strv_free(s->capabilities);
        if (!s->syscalls_shared)
                strv_free(s->syscalls);
        free(s->syscall_errno);
        free(s->selinux_context);
        free(s->apparmor_profile);
        *s = (IsolatorSettings){};
}

int isolator_pod_resolve(const Isolator *isolators, size_t n, IsolatorSettings *ret, NpError *err) {
        _cleanup_(isolator_settings_done) IsolatorSettings s = {};
        int r;

        for (size_t i = 0; i < n; i++)
                if (!IN_SET(isolators[i].kind, ISOLATOR_RESOURCE_MEMORY, ISOLATOR_RESOURCE_CPU, ISOLATOR_CPU_SHARES))
                        return fail(err, "$.isolators", i, "", NO_INDEX,
                                    "isolator \"%s\" cannot apply to a whole pod: a pod's own isolators may be "
                                    "resource/memory, resource/cpu and os/linux/cpu-shares; put the others on "
                                    "its apps",
                                    strempty(isolator_kind_to_string(isolators[i].kind)));
        /* The app rules (ranges, last limit wins, one cpu-shares): same checks. */
        r = isolator_settings_resolve(isolators, n, 0, "$.isolators", &s, err);
        if (r < 0)
                return r;
        *ret = (IsolatorSettings){
                .has_memory_max = s.has_memory_max,
                .memory_max = s.memory_max,
                .has_cpu_quota = s.has_cpu_quota,
                .cpu_quota_milli = s.cpu_quota_milli,
                .has_cpu_weight = s.has_cpu_weight,
                .cpu_weight = s.cpu_weight,
                .cpu_shares = s.cpu_shares,
        };
        return 0;
}
