/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolator.h"
#include "strv.h"
#include "tap.h"

#define P "$.apps[0].app.isolators"

/* Kernel order, 0..40. Kept apart from lib/isolator.c on purpose: a test that
 * read the library's own table would agree with any typo in it. */
static const char *const all_caps[] = {
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

/* What `systemd-analyze syscall-filter` lists on systemd 252. */
static const char *const systemd_groups[] = {
        "aio", "basic-io", "chown", "clock", "cpu-emulation", "debug", "default", "file-system",
        "io-event", "ipc", "keyring", "known", "memlock", "module", "mount", "network-io",
        "obsolete", "pkey", "privileged", "process", "raw-io", "reboot", "resources", "setuid",
        "signal", "swap", "sync", "system-service", "timer",
};

static Quantity qty(int64_t ceil, int64_t milli, const char *text) {
        return (Quantity){ .set = true, .ceil = ceil, .milli = milli, .text = (char *) text };
}

static bool sorted_unique(char **l) {
        STRV_FOREACH(s, l)
                if (s[1] && strcmp(s[0], s[1]) >= 0)
                        return false;
        return true;
}

static bool have_analyze(void) {
        return system("command -v systemd-analyze >/dev/null 2>&1") == 0;
}

/* Resolves and expects success; settings go to *s. */
static bool resolve_ok(const Isolator *iso, size_t n, uid_t uid, IsolatorSettings *s, const char *what) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        int r;

        *s = (IsolatorSettings){};
        r = isolator_settings_resolve(iso, n, uid, P, s, &err);
        if (!OK(r == 0, "%s: resolves", what)) {
                printf("#   r=%d: %s\n", r, error_format(&err, r));
                return false;
        }
        return true;
}

/* Resolves and expects -EINVAL with `path`, a message containing `needle`, and
 * the output untouched. */
static void resolve_fails(const Isolator *iso, size_t n, uid_t uid, const char *path, const char *needle,
                          const char *what) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        IsolatorSettings s, sentinel;
        int r;

        memset(&s, 0xa5, sizeof s);
        sentinel = s;
        r = isolator_settings_resolve(iso, n, uid, P, &s, &err);
        OK_INTEQ(r, -EINVAL, "%s: refused", what);
        OK_INTEQ(err.code, -EINVAL, "%s: error code recorded", what);
        OK_STREQ(err.path, path, "%s: path", what);
        if (!OK(err.message && strstr(err.message, needle), "%s: message mentions \"%s\"", what, needle))
                printf("#   message: %s\n", strempty(err.message));
        OK(memcmp(&s, &sentinel, sizeof s) == 0, "%s: output untouched", what);
}

static void test_kind_names(void) {
        static const char *const names[] = {
                "resource/cpu",
                "resource/memory",
                "resource/block-bandwidth",
                "resource/block-iops",
                "resource/network-bandwidth",
                "os/linux/capabilities-retain-set",
                "os/linux/capabilities-remove-set",
                "os/linux/seccomp-retain-set",
                "os/linux/seccomp-remove-set",
                "os/linux/no-new-privileges",
                "os/linux/oom-score-adj",
                "os/linux/cpu-shares",
                "os/linux/selinux-context",
                "os/linux/apparmor-profile",
                "os/unix/sysctl",
        };
        bool good = true;

        OK_INTEQ(ELEMENTSOF(names), _ISOLATOR_KIND_MAX, "every kind has a name in the test");
        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                const char *s = isolator_kind_to_string((IsolatorKind) k);

                if (!s || strcmp(s, names[k]) != 0 ||
                    isolator_kind_from_string(names[k]) != (IsolatorKind) k) {
                        printf("#   kind %zu: %s\n", k, strempty(s));
                        good = false;
                }
        }
        OK(good, "kind names round-trip");
        OK(isolator_kind_from_string("resource/CPU") == (IsolatorKind) -1, "kind names are case-sensitive");
        OK(isolator_kind_from_string("os/linux/capabilities-retain") == (IsolatorKind) -1,
           "unknown kind name");
        OK(isolator_kind_from_string(NULL) == (IsolatorKind) -1, "NULL kind name");
        OK(!isolator_kind_to_string(_ISOLATOR_KIND_MAX), "kind past the end has no name");
        OK(!isolator_kind_to_string((IsolatorKind) -1), "negative kind has no name");
}

static void test_capability_names(void) {
        bool good = true;

        for (size_t i = 0; i < ELEMENTSOF(all_caps); i++)
                if (!capability_name_is_valid(all_caps[i])) {
                        printf("#   refused: %s\n", all_caps[i]);
                        good = false;
                }
        OK(good, "all 41 capabilities through CAP_CHECKPOINT_RESTORE are valid");
        OK(!capability_name_is_valid("cap_chown"), "lower case refused");
        OK(!capability_name_is_valid("CHOWN"), "missing CAP_ prefix refused");
        OK(!capability_name_is_valid("CAP_CHOWN "), "trailing space refused");
        OK(!capability_name_is_valid("CAP_FOO"), "unknown capability refused");
        OK(!capability_name_is_valid("CAP_LAST_CAP"), "CAP_LAST_CAP refused");
        OK(!capability_name_is_valid(""), "empty capability refused");
        OK(!capability_name_is_valid(NULL), "NULL capability refused");

        OK_INTEQ(capability_default_set_size, 14, "rkt's default set has 14 entries");
        OK_STREQ(capability_default_set[0], "CAP_AUDIT_WRITE", "default set starts like rkt's");
        OK_STREQ(capability_default_set[3], "CAP_FSETID", "default set keeps rkt's order");
        OK_STREQ(capability_default_set[13], "CAP_SYS_CHROOT", "default set ends like rkt's");
        good = true;
        for (size_t i = 0; i < capability_default_set_size; i++)
                good = good && capability_name_is_valid(capability_default_set[i]);
        OK(good, "default set names are valid");
}

static void test_errno_names(void) {
        bool good = true;
        unsigned count = 0;

        OK_INTEQ(errno_from_name("EPERM"), EPERM, "EPERM");
        OK_INTEQ(errno_from_name("EXFULL"), EXFULL, "EXFULL (rkt's test)");
        OK_INTEQ(errno_from_name("EMULTIHOP"), EMULTIHOP, "EMULTIHOP (rkt's test)");
        OK_INTEQ(errno_from_name("ENOSYS"), ENOSYS, "ENOSYS");
        OK_INTEQ(errno_from_name("EHWPOISON"), EHWPOISON, "EHWPOISON (the highest Linux errno)");
        OK_INTEQ(errno_from_name("eperm"), -EINVAL, "lower case refused");
        OK_INTEQ(errno_from_name("EBOGUS"), -EINVAL, "unknown name refused");
        OK_INTEQ(errno_from_name("E"), -EINVAL, "bare E refused");
        OK_INTEQ(errno_from_name("1"), -EINVAL, "numbers refused");
        OK_INTEQ(errno_from_name(""), -EINVAL, "empty refused");
        OK_INTEQ(errno_from_name(NULL), -EINVAL, "NULL refused");
        /* glibc names each number once, so aliases are not in the table. */
        OK_INTEQ(errno_from_name("EWOULDBLOCK"), -EINVAL, "alias EWOULDBLOCK refused");

        for (int i = 1; i <= 4095; i++) {
                const char *name = strerrorname_np(i);

                if (!name)
                        continue;
                count++;
                if (errno_from_name(name) != i) {
                        printf("#   %s -> %d, want %d\n", name, errno_from_name(name), i);
                        good = false;
                }
        }
        OK(good && count > 100, "every glibc errno name maps back to its number (%u names)", count);
}

static void test_syscall_names(void) {
        OK(syscall_name_is_known("read"), "read is known");
        OK(syscall_name_is_known("clone"), "clone is known");
        OK(syscall_name_is_known("_llseek"), "_llseek is known (pseudo-number on 64-bit)");
        OK(!syscall_name_is_known("bogus_call"), "bogus_call unknown");
        OK(!syscall_name_is_known("READ"), "syscall names are case-sensitive");
        OK(!syscall_name_is_known("read "), "trailing space refused");
        OK(!syscall_name_is_known("0"), "numbers refused");
        OK(!syscall_name_is_known("@default"), "groups are not syscalls");
        OK(!syscall_name_is_known(""), "empty refused");
        OK(!syscall_name_is_known(NULL), "NULL refused");
}

static void test_wildcards(void) {
        static const char *const good[] = {
                "@appc.io/all",
                "@appc.io/empty",
                "@docker/default-whitelist",
                "@docker/default-blacklist",
                "@rkt/default-whitelist",
                "@rkt/default-blacklist",
                "@systemd/default-whitelist",
        };
        static const char *const bad[] = {
                "@appc.io/none", "@appc.io", "@rkt/default", "@docker/default-whitelist/", "@foo",
                "@", "@systemd/", "@systemd/sandbox", "@systemd/@mount", "@systemd/Mount",
                "@mount", "systemd/mount", "@systemd/mount ", "",
        };
        bool ok = true;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                OK(seccomp_wildcard_is_valid(good[i]), "wildcard %s valid", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(systemd_groups); i++) {
                char w[64];

                snprintf(w, sizeof w, "@systemd/%s", systemd_groups[i]);
                if (!seccomp_wildcard_is_valid(w)) {
                        printf("#   refused: %s\n", w);
                        ok = false;
                }
        }
        OK(ok, "every systemd 252 group is valid as @systemd/<group>");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                OK(!seccomp_wildcard_is_valid(bad[i]), "wildcard \"%s\" refused", bad[i]);
        OK(!seccomp_wildcard_is_valid(NULL), "NULL wildcard refused");
}

/* Compares our group table with what systemd on this machine lists: a group
 * systemd knows and we refuse is an annoyance, a group we accept and systemd
 * does not is a silently widened filter. */
static void test_wildcards_match_systemd(void) {
        _cleanup_strv_free_ char **groups = NULL;
        char line[256];
        FILE *f;
        bool good = true;

        if (!have_analyze()) {
                OK(true, "systemd groups match # SKIP systemd-analyze not found");
                return;
        }
        f = popen("systemd-analyze syscall-filter --no-pager 2>/dev/null", "r");
        if (!OK(f, "run systemd-analyze syscall-filter"))
                return;
        while (fgets(line, sizeof line, f))
                if (line[0] == '@') {
                        line[strcspn(line, "\n")] = 0;
                        if (strv_extend(&groups, line) < 0)
                                good = false;
                }
        OK_INTEQ(pclose(f), 0, "systemd-analyze syscall-filter exits 0");
        OK_INTEQ(strv_length(groups), ELEMENTSOF(systemd_groups), "systemd lists as many groups as we know");
        STRV_FOREACH(g, groups) {
                char w[300];

                snprintf(w, sizeof w, "@systemd/%s", *g + 1);
                if (!seccomp_wildcard_is_valid(w)) {
                        printf("#   systemd knows %s, we refuse it\n", *g);
                        good = false;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(systemd_groups); i++) {
                char w[64];

                snprintf(w, sizeof w, "@%s", systemd_groups[i]);
                if (!strv_contains(groups, w)) {
                        printf("#   we accept %s, systemd does not list it\n", w);
                        good = false;
                }
        }
        OK(good, "our @systemd/<group> list equals systemd-analyze's");
}

static void test_defaults(void) {
        IsolatorSettings s;
        size_t known = 0;
        static const char *const arch_specific[] = { "chown32", "_llseek", "mmap2", "socketcall" };

        if (!resolve_ok(NULL, 0, 0, &s, "no isolators, root"))
                return;
        OK_INTEQ(strv_length(s.capabilities), 14, "default bounding set");
        OK(sorted_unique(s.capabilities), "capabilities sorted");
        OK_STREQ(s.capabilities[0], "CAP_AUDIT_WRITE", "first capability");
        OK_STREQ(s.capabilities[13], "CAP_SYS_CHROOT", "last capability");
        OK_INTEQ(s.seccomp_mode, SECCOMP_MODE_ALLOW, "default filter is an allow list");
        OK(sorted_unique(s.syscalls), "syscalls sorted and unique");
        OK(strv_contains(s.syscalls, "read") && strv_contains(s.syscalls, "clone") &&
                   strv_contains(s.syscalls, "arch_prctl") && strv_contains(s.syscalls, "execve"),
           "default allow list has read, clone, arch_prctl, execve");
        OK(!strv_contains(s.syscalls, "mount") && !strv_contains(s.syscalls, "ptrace") &&
                   !strv_contains(s.syscalls, "unshare") && !strv_contains(s.syscalls, "setns"),
           "default allow list lacks mount, ptrace, unshare, setns");
#if !defined(__arm__) && !defined(__aarch64__)
        OK(!strv_contains(s.syscalls, "arm_fadvise64_64"), "ARM-only names absent off ARM");
#endif
        STRV_FOREACH(c, s.syscalls)
                if (syscall_name_is_known(*c))
                        known++;
        OK_INTEQ(known, strv_length(s.syscalls), "every default name is known to libseccomp");
        OK(strv_length(s.syscalls) >= 310 && strv_length(s.syscalls) <= 330,
           "default allow list has rkt's 309 names plus current libc's (%zu)", strv_length(s.syscalls));
        OK(strv_contains(s.syscalls, "clone3") && strv_contains(s.syscalls, "rseq") &&
                   strv_contains(s.syscalls, "statx"),
           "threads (clone3, rseq) and statx allowed by default");
        for (size_t i = 0; i < ELEMENTSOF(arch_specific); i++)
                OK(strv_contains(s.syscalls, arch_specific[i]) ==
                           syscall_name_is_known(arch_specific[i]),
                   "%s kept exactly when libseccomp knows it", arch_specific[i]);
        OK(!s.syscall_errno, "no errno: systemd kills");
        OK(!s.no_new_privileges, "root app: no forced NoNewPrivileges");
        OK(!s.has_memory_max && !s.has_cpu_quota && !s.has_cpu_weight && !s.has_oom_score_adj,
           "no resource limits");
        OK(!s.selinux_context && !s.apparmor_profile, "no MAC labels");
        isolator_settings_done(&s);
        OK(!s.capabilities && !s.syscalls, "done clears");
        isolator_settings_done(&s);
        OK(true, "done twice is harmless");

        if (resolve_ok(NULL, 0, 1000, &s, "no isolators, uid 1000")) {
                OK(s.no_new_privileges, "filtered non-root app gets NoNewPrivileges");
                isolator_settings_done(&s);
        }
}

static void test_capabilities(void) {
        IsolatorSettings s;

        {
                Isolator iso[] = {
                        { .kind = ISOLATOR_CAPABILITIES_RETAIN,
                          .caps = (char *[]){ "CAP_SYS_ADMIN", "CAP_CHOWN", NULL } },
                        { .kind = ISOLATOR_NO_NEW_PRIVILEGES },
                        { .kind = ISOLATOR_CAPABILITIES_RETAIN,
                          .caps = (char *[]){ "CAP_CHOWN", "CAP_BPF", NULL } },
                };
                if (resolve_ok(iso, ELEMENTSOF(iso), 0, &s, "retain-set twice")) {
                        _cleanup_free_ char *j = strv_join(s.capabilities, " ");
                        OK_STREQ(j, "CAP_BPF CAP_CHOWN CAP_SYS_ADMIN",
                                 "retain: exactly the union, sorted, unique");
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = {
                        { .kind = ISOLATOR_CAPABILITIES_REMOVE,
                          .caps = (char *[]){ "CAP_CHOWN", "CAP_SYS_ADMIN", NULL } },
                        { .kind = ISOLATOR_CAPABILITIES_REMOVE, .caps = (char *[]){ "CAP_KILL", NULL } },
                };
                if (resolve_ok(iso, ELEMENTSOF(iso), 0, &s, "remove-set")) {
                        OK_INTEQ(strv_length(s.capabilities), 12, "remove: default minus two");
                        OK(!strv_contains(s.capabilities, "CAP_CHOWN") &&
                                   !strv_contains(s.capabilities, "CAP_KILL"),
                           "removed names gone");
                        OK(!strv_contains(s.capabilities, "CAP_SYS_ADMIN"),
                           "removing a name outside the default adds nothing");
                        OK(sorted_unique(s.capabilities), "remove result sorted");
                        isolator_settings_done(&s);
                }
        }
        {
                char *everything[64] = {};
                Isolator iso[] = { { .kind = ISOLATOR_CAPABILITIES_REMOVE, .caps = everything } };

                for (size_t i = 0; i < capability_default_set_size && i + 1 < ELEMENTSOF(everything); i++)
                        everything[i] = (char *) capability_default_set[i];
                if (resolve_ok(iso, 1, 0, &s, "remove everything")) {
                        OK(s.capabilities && !s.capabilities[0], "empty bounding set, not NULL");
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_CAPABILITIES_RETAIN, .caps = (char *[]){ NULL } } };
                if (resolve_ok(iso, 1, 0, &s, "empty retain-set")) {
                        OK(s.capabilities && !s.capabilities[0], "empty retain-set: empty bounding set");
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = {
                        { .kind = ISOLATOR_NO_NEW_PRIVILEGES },
                        { .kind = ISOLATOR_NO_NEW_PRIVILEGES },
                        { .kind = ISOLATOR_NO_NEW_PRIVILEGES },
                        { .kind = ISOLATOR_CAPABILITIES_RETAIN,
                          .caps = (char *[]){ "CAP_CHOWN", "cap_kill", NULL } },
                };
                resolve_fails(iso, ELEMENTSOF(iso), 0, P "[3].value.set[1]", "unknown capability \"cap_kill\"",
                              "retain-set with a lower-case name");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_CAPABILITIES_REMOVE,
                                     .caps = (char *[]){ "CAP_NOPE", NULL } } };
                resolve_fails(iso, 1, 0, P "[0].value.set[0]", "CAP_CHECKPOINT_RESTORE",
                              "remove-set with an invalid name");
        }
        {
                Isolator iso[] = {
                        { .kind = ISOLATOR_CAPABILITIES_RETAIN, .caps = (char *[]){ "CAP_CHOWN", NULL } },
                        { .kind = ISOLATOR_CAPABILITIES_REMOVE, .caps = (char *[]){ "CAP_KILL", NULL } },
                };
                resolve_fails(iso, 2, 0, P "[1]", "cannot be combined with the \"os/linux/capabilities-retain-set\" at [0]",
                              "retain-set and remove-set");
        }
}

static void test_seccomp(void) {
        IsolatorSettings s;
        _cleanup_strv_free_ char **defaults = NULL;

        if (resolve_ok(NULL, 0, 0, &s, "defaults for comparison")) {
                defaults = strv_copy(s.syscalls);
                OK(s.syscalls_shared, "the default allow list is shared, not copied");
                isolator_settings_done(&s);
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SECCOMP_RETAIN,
                                     .seccomp.set = (char *[]){ "write", "read", "@systemd/mount", "read",
                                                                 NULL } } };
                if (resolve_ok(iso, 1, 1000, &s, "retain-set")) {
                        _cleanup_free_ char *j = strv_join(s.syscalls, " ");
                        OK_INTEQ(s.seccomp_mode, SECCOMP_MODE_ALLOW, "retain-set: allow list");
                        OK_STREQ(j, "@mount read write", "retain-set: expanded, sorted, unique");
                        OK(!s.syscall_errno, "retain-set without errno");
                        OK(s.no_new_privileges, "retain-set, uid 1000: NoNewPrivileges forced");
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SECCOMP_RETAIN,
                                     .seccomp = { .set = (char *[]){ "@docker/default-whitelist", NULL },
                                                  .errno_name = "" } } };
                if (resolve_ok(iso, 1, 0, &s, "retain @docker/default-whitelist")) {
                        OK_INTEQ(s.seccomp_mode, SECCOMP_MODE_ALLOW, "docker whitelist: allow list");
                        OK_INTEQ(strv_length(s.syscalls), strv_length(defaults),
                                 "docker whitelist = rkt default");
                        OK(!s.syscall_errno, "empty errno means none");
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SECCOMP_RETAIN,
                                     .seccomp = { .set = (char *[]){ "read", "@appc.io/all", "write", NULL },
                                                  .errno_name = "EPERM" } } };
                if (resolve_ok(iso, 1, 1000, &s, "retain @appc.io/all")) {
                        OK_INTEQ(s.seccomp_mode, SECCOMP_MODE_NONE, "@appc.io/all: no filter");
                        OK(!s.syscalls, "@appc.io/all: no syscall list");
                        OK(!s.syscall_errno, "@appc.io/all: no errno either");
                        OK(!s.no_new_privileges, "no filter: NoNewPrivileges not forced");
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SECCOMP_REMOVE,
                                     .seccomp = { .set = (char *[]){ "mount", "@rkt/default-blacklist",
                                                                      "@systemd/reboot", NULL },
                                                  .errno_name = "EXFULL" } } };
                if (resolve_ok(iso, 1, 1000, &s, "remove-set")) {
                        OK_INTEQ(s.seccomp_mode, SECCOMP_MODE_DENY, "remove-set: deny list");
                        OK(strv_contains(s.syscalls, "mount") && strv_contains(s.syscalls, "ptrace") &&
                                   strv_contains(s.syscalls, "@reboot") &&
                                   strv_contains(s.syscalls, "kexec_load"),
                           "remove-set: names, blacklist and group");
                        OK(!strv_contains(s.syscalls, "read"), "remove-set: no default allow names");
                        OK(sorted_unique(s.syscalls), "remove-set sorted and unique");
                        OK_STREQ(s.syscall_errno, "EXFULL", "errno kept");
                        OK(s.no_new_privileges, "deny list, uid 1000: NoNewPrivileges forced");
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SECCOMP_REMOVE,
                                     .seccomp = { .set = (char *[]){ "@appc.io/empty", NULL },
                                                  .errno_name = "EMULTIHOP" } } };
                if (resolve_ok(iso, 1, 0, &s, "remove @appc.io/empty")) {
                        _cleanup_free_ char *got = strv_join(s.syscalls, " "),
                                            *want = strv_join(defaults, " ");
                        OK_INTEQ(s.seccomp_mode, SECCOMP_MODE_ALLOW, "@appc.io/empty: allow list");
                        OK_STREQ(got, want, "@appc.io/empty: rkt's default allow list");
                        OK_STREQ(s.syscall_errno, "EMULTIHOP", "errno kept with the default list");
                        OK(!s.no_new_privileges, "root app: NoNewPrivileges not forced");
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SECCOMP_RETAIN,
                                     .seccomp.set = (char *[]){ "read", "bogus_call", NULL } } };
                resolve_fails(iso, 1, 0, P "[0].value.set[1]", "unknown system call \"bogus_call\"",
                              "unknown syscall");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_NO_NEW_PRIVILEGES },
                                   { .kind = ISOLATOR_SECCOMP_REMOVE,
                                     .seccomp.set = (char *[]){ "@appc.io/empty", "bogus_call", NULL } } };
                resolve_fails(iso, 2, 0, P "[1].value.set[1]", "bogus_call",
                              "unknown syscall after @appc.io/empty");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SECCOMP_RETAIN,
                                     .seccomp.set = (char *[]){ "@systemd/sandbox", NULL } } };
                resolve_fails(iso, 1, 0, P "[0].value.set[0]",
                              "unknown system call wildcard \"@systemd/sandbox\"", "group newer than 252");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SECCOMP_REMOVE,
                                     .seccomp.set = (char *[]){ "mount", "@mount", NULL } } };
                resolve_fails(iso, 1, 0, P "[0].value.set[1]", "@systemd/<group>",
                              "systemd group written without @systemd/");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SECCOMP_REMOVE,
                                     .seccomp = { .set = (char *[]){ "mount", NULL },
                                                  .errno_name = "EBOGUS" } } };
                resolve_fails(iso, 1, 0, P "[0].value.errno", "unknown errno name \"EBOGUS\"", "bad errno");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SECCOMP_RETAIN,
                                     .seccomp.set = (char *[]){ "read", "@appc.io/empty", NULL } } };
                resolve_fails(iso, 1, 0, P "[0].value.set", "would allow no system call",
                              "retain @appc.io/empty");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SECCOMP_REMOVE,
                                     .seccomp.set = (char *[]){ "@appc.io/all", NULL } } };
                resolve_fails(iso, 1, 0, P "[0].value.set", "would block every system call",
                              "remove @appc.io/all");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SECCOMP_RETAIN,
                                     .seccomp.set = (char *[]){ "@appc.io/all", "@appc.io/empty", NULL } } };
                resolve_fails(iso, 1, 0, P "[0].value.set", "contradict", "@appc.io/all with @appc.io/empty");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SECCOMP_RETAIN, .seccomp.set = (char *[]){ NULL } } };
                resolve_fails(iso, 1, 0, P "[0].value.set", "is empty", "empty seccomp set");
        }
        {
                Isolator iso[] = {
                        { .kind = ISOLATOR_SECCOMP_RETAIN, .seccomp.set = (char *[]){ "read", NULL } },
                        { .kind = ISOLATOR_SECCOMP_REMOVE, .seccomp.set = (char *[]){ "mount", NULL } },
                };
                resolve_fails(iso, 2, 0, P "[1]", "only one seccomp isolator", "retain-set and remove-set");
        }
        {
                Isolator iso[] = {
                        { .kind = ISOLATOR_SECCOMP_REMOVE, .seccomp.set = (char *[]){ "ptrace", NULL } },
                        { .kind = ISOLATOR_SECCOMP_REMOVE, .seccomp.set = (char *[]){ "mount", NULL } },
                };
                resolve_fails(iso, 2, 0, P "[1]", "[0] is a \"os/linux/seccomp-remove-set\"",
                              "two remove-sets");
        }
}

static void test_no_new_privileges(void) {
        IsolatorSettings s;
        Isolator on_off[] = {
                { .kind = ISOLATOR_NO_NEW_PRIVILEGES, .no_new_privileges = false },
                { .kind = ISOLATOR_NO_NEW_PRIVILEGES, .no_new_privileges = true },
                { .kind = ISOLATOR_NO_NEW_PRIVILEGES, .no_new_privileges = false },
        };
        Isolator off[] = {
                { .kind = ISOLATOR_NO_NEW_PRIVILEGES, .no_new_privileges = false },
                { .kind = ISOLATOR_SECCOMP_RETAIN, .seccomp.set = (char *[]){ "@appc.io/all", NULL } },
        };

        if (resolve_ok(on_off, ELEMENTSOF(on_off), 0, &s, "false, true, false")) {
                OK(s.no_new_privileges, "any true instance wins");
                isolator_settings_done(&s);
        }
        if (resolve_ok(off, ELEMENTSOF(off), 1000, &s, "false without filter")) {
                OK(!s.no_new_privileges, "false and no filter stays false");
                isolator_settings_done(&s);
        }
}

static void test_resources(void) {
        IsolatorSettings s;

        {
                Isolator iso[] = {
                        { .kind = ISOLATOR_RESOURCE_MEMORY,
                          .resource = { .request = qty(1, 1000, "1"), .limit = qty(26214400, 26214400000, "25Mi") } },
                        { .kind = ISOLATOR_RESOURCE_MEMORY, .resource.limit = qty(1000, 1000000, "1k") },
                        { .kind = ISOLATOR_RESOURCE_MEMORY, .resource.request = qty(5, 5000, "5") },
                        { .kind = ISOLATOR_RESOURCE_CPU, .resource.limit = qty(1, 500, "500m") },
                        { .kind = ISOLATOR_RESOURCE_CPU, .resource.limit = qty(2, 1500, "1.5") },
                        { .kind = ISOLATOR_RESOURCE_CPU },
                };
                if (resolve_ok(iso, ELEMENTSOF(iso), 0, &s, "memory and cpu")) {
                        OK(s.has_memory_max, "memory limit set");
                        OK_INTEQ(s.memory_max, 1000, "last memory limit wins, limit-less one skipped");
                        OK(s.has_cpu_quota, "cpu quota set");
                        OK_INTEQ(s.cpu_quota_milli, 1500, "last cpu limit wins (1.5 CPUs = 150%%)");
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_RESOURCE_MEMORY, .resource.request = qty(5, 5000, "5") } };
                if (resolve_ok(iso, 1, 0, &s, "memory request only")) {
                        OK(!s.has_memory_max, "request alone sets no limit");
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_RESOURCE_MEMORY, .resource.limit = qty(1, 1, "1m") },
                                   { .kind = ISOLATOR_RESOURCE_CPU, .resource.limit = qty(1, 1, "1m") } };
                if (resolve_ok(iso, 2, 0, &s, "smallest limits")) {
                        OK_INTEQ(s.memory_max, 1, "1m bytes rounds up to 1 byte");
                        OK_INTEQ(s.cpu_quota_milli, 1, "1m CPU kept (0.1%%, not rkt's 0%%)");
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_RESOURCE_CPU,
                                     .resource.limit = qty(214749, 214748364, "214748364m") } };
                if (resolve_ok(iso, 1, 0, &s, "largest cpu limit")) {
                        OK_INTEQ(s.cpu_quota_milli, 214748364, "214748364m accepted");
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_RESOURCE_MEMORY, .resource.limit = qty(0, 0, "0") } };
                resolve_fails(iso, 1, 0, P "[0].value.limit", "at least 1 byte", "memory limit 0");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_RESOURCE_MEMORY },
                                   { .kind = ISOLATOR_RESOURCE_CPU, .resource.limit = qty(0, 0, "0") } };
                resolve_fails(iso, 2, 0, P "[1].value.limit", "CPU limit \"0\" must be at least 1m",
                              "cpu limit 0");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_RESOURCE_CPU,
                                     .resource.limit = qty(214749, 214748365, NULL) } };
                resolve_fails(iso, 1, 0, P "[0].value.limit", "\"214748365m\" is above", "cpu limit too large");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_RESOURCE_CPU,
                                     .resource.limit = qty(1000000, 1000000000, "1M") } };
                resolve_fails(iso, 1, 0, P "[0].value.limit", "largest CPUQuota=", "cpu limit 1e9m");
        }
}

static void test_cpu_shares(void) {
        static const struct {
                int64_t shares;
                uint64_t weight;
        } table[] = { { 2, 1 }, { 3, 1 }, { 1024, 39 }, { 262142, 9999 }, { 262144, 10000 } };
        IsolatorSettings s;

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                Isolator iso[] = { { .kind = ISOLATOR_CPU_SHARES, .integer = table[i].shares } };

                if (resolve_ok(iso, 1, 0, &s, "cpu-shares")) {
                        OK(s.has_cpu_weight, "cpu-shares %" PRId64 " sets a weight", table[i].shares);
                        OK_INTEQ(s.cpu_weight, table[i].weight, "cpu-shares %" PRId64 " -> CPUWeight",
                                 table[i].shares);
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_CPU_SHARES, .integer = 1 } };
                resolve_fails(iso, 1, 0, P "[0].value", "allowed are 2..262144", "cpu-shares 1");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_CPU_SHARES, .integer = 262145 } };
                resolve_fails(iso, 1, 0, P "[0].value", "cpu-shares 262145 is out of range", "cpu-shares 262145");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_CPU_SHARES, .integer = 100 },
                                   { .kind = ISOLATOR_CPU_SHARES, .integer = 200 } };
                resolve_fails(iso, 2, 0, P "[1]", "only one \"os/linux/cpu-shares\" isolator", "cpu-shares twice");
        }
}

static void test_oom_score_adj(void) {
        IsolatorSettings s;
        static const int64_t good[] = { -1000, 0, 1000 };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                Isolator iso[] = { { .kind = ISOLATOR_OOM_SCORE_ADJ, .integer = good[i] } };

                if (resolve_ok(iso, 1, 0, &s, "oom-score-adj")) {
                        OK(s.has_oom_score_adj && s.oom_score_adj == good[i], "oom-score-adj %" PRId64, good[i]);
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_OOM_SCORE_ADJ, .integer = -1001 } };
                resolve_fails(iso, 1, 0, P "[0].value", "allowed are -1000..1000", "oom-score-adj -1001");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_OOM_SCORE_ADJ, .integer = INT64_MAX } };
                resolve_fails(iso, 1, 0, P "[0].value", "out of range", "oom-score-adj INT64_MAX");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_OOM_SCORE_ADJ, .integer = 1 },
                                   { .kind = ISOLATOR_NO_NEW_PRIVILEGES },
                                   { .kind = ISOLATOR_OOM_SCORE_ADJ, .integer = 1 } };
                resolve_fails(iso, 3, 0, P "[2]", "[0] is one already", "oom-score-adj twice");
        }
}

static void test_labels(void) {
        IsolatorSettings s;

        {
                Isolator iso[] = {
                        { .kind = ISOLATOR_SELINUX_CONTEXT,
                          .selinux = { "system_u", "system_r", "svirt_lxc_net_t", "s0:c1,c2" } },
                        { .kind = ISOLATOR_APPARMOR_PROFILE, .apparmor_profile = "/usr/bin/app" },
                };
                if (resolve_ok(iso, 2, 0, &s, "selinux and apparmor")) {
                        OK_STREQ(s.selinux_context, "system_u:system_r:svirt_lxc_net_t:s0:c1,c2",
                                 "selinux context joined, level may contain ':'");
                        OK_STREQ(s.apparmor_profile, "/usr/bin/app", "apparmor profile kept");
                        isolator_settings_done(&s);
                }
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SELINUX_CONTEXT,
                                     .selinux = { "system_u", "sys:r", "t", "s0" } } };
                resolve_fails(iso, 1, 0, P "[0].value.role", "invalid SELinux role \"sys:r\"", "role with ':'");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SELINUX_CONTEXT,
                                     .selinux = { "system_u", "system_r", "", "s0" } } };
                resolve_fails(iso, 1, 0, P "[0].value.type", "must be non-empty", "empty type");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SELINUX_CONTEXT,
                                     .selinux = { "-system_u", "system_r", "t", "s0" } } };
                resolve_fails(iso, 1, 0, P "[0].value.user", "must not start with \"-\"",
                              "user with leading '-' (systemd's ignore-failure prefix)");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SELINUX_CONTEXT,
                                     .selinux = { "u", "r", "t", "s0\nUser=0" } } };
                resolve_fails(iso, 1, 0, P "[0].value.level", "control characters", "level with a newline");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_SELINUX_CONTEXT, .selinux = { "u", "r", "t", "s0" } },
                                   { .kind = ISOLATOR_SELINUX_CONTEXT, .selinux = { "u", "r", "t", "s0" } } };
                resolve_fails(iso, 2, 0, P "[1]", "only one \"os/linux/selinux-context\"", "selinux twice");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_APPARMOR_PROFILE, .apparmor_profile = "-unconfined" } };
                resolve_fails(iso, 1, 0, P "[0].value.profile", "must not start with \"-\"",
                              "apparmor with leading '-'");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_APPARMOR_PROFILE, .apparmor_profile = "" } };
                resolve_fails(iso, 1, 0, P "[0].value.profile", "invalid AppArmor profile", "empty apparmor");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_APPARMOR_PROFILE, .apparmor_profile = "a\\\nb" } };
                resolve_fails(iso, 1, 0, P "[0].value.profile", "control characters", "apparmor with newline");
        }
        {
                Isolator iso[] = { { .kind = ISOLATOR_APPARMOR_PROFILE, .apparmor_profile = "a" },
                                   { .kind = ISOLATOR_APPARMOR_PROFILE, .apparmor_profile = "a" } };
                resolve_fails(iso, 2, 0, P "[1]", "only one \"os/linux/apparmor-profile\"", "apparmor twice");
        }
}

static void test_unsupported(void) {
        static const struct {
                IsolatorKind kind;
                const char *needle;
        } table[] = {
                { ISOLATOR_RESOURCE_BLOCK_BANDWIDTH,
                  "isolator \"resource/block-bandwidth\" is not supported by nspawn-pod: " },
                { ISOLATOR_RESOURCE_BLOCK_IOPS, "isolator \"resource/block-iops\" is not supported by nspawn-pod: " },
                { ISOLATOR_RESOURCE_NETWORK_BANDWIDTH,
                  "isolator \"resource/network-bandwidth\" is not supported by nspawn-pod: " },
                { ISOLATOR_SYSCTL, "isolator \"os/unix/sysctl\" is not supported by nspawn-pod: " },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                Isolator iso[] = { { .kind = ISOLATOR_NO_NEW_PRIVILEGES },
                                   { .kind = table[i].kind, .resource.limit = qty(1, 1000, "1") } };
                resolve_fails(iso, 2, 0, P "[1]", table[i].needle, isolator_kind_to_string(table[i].kind));
        }
        {
                Isolator iso[] = { { .kind = (IsolatorKind) 99 } };
                resolve_fails(iso, 1, 0, P "[0]", "unknown isolator kind 99", "kind out of range");
        }
        {
                /* The first error wins, so the report points at the earliest problem. */
                Isolator iso[] = { { .kind = ISOLATOR_OOM_SCORE_ADJ, .integer = 5000 },
                                   { .kind = ISOLATOR_SYSCTL } };
                resolve_fails(iso, 2, 0, P "[0].value", "oom-score-adj 5000", "first error reported");
        }
}

static void test_null_path(void) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        IsolatorSettings s = {};
        Isolator iso[] = { { .kind = ISOLATOR_CPU_SHARES, .integer = 0 } };

        OK_INTEQ(isolator_settings_resolve(iso, 1, 0, NULL, &s, &err), -EINVAL, "NULL path: refused");
        OK_STREQ(err.path, "[0].value", "NULL path: index still named");
        OK_INTEQ(isolator_settings_resolve(iso, 1, 0, P, &s, NULL), -EINVAL, "NULL error context allowed");
}

static int write_file(const char *path, const char *data, mode_t mode) {
        FILE *f;
        int fd, r = 0;

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                return r;
        }
        if (fputs(data, f) < 0)
                r = -EIO;
        if (fclose(f) != 0 && r == 0)
                r = -EIO;
        return r;
}

static int unit_add_lines(char ***u, const char *key, char *const *values) {
        STRV_FOREACH(v, values)
                if (strv_extendf(u, "%s=%s", key, *v) < 0)
                        return -ENOMEM;
        return 0;
}

/* Writes each value the way the renderer will: CPUQuota= as milli/10 with
 * one decimal, the rest verbatim. */
static int unit_add_resources(char ***u, const IsolatorSettings *x) {
        if (strv_extendf(u, "CPUQuota=%" PRIu64 ".%" PRIu64 "%%", x->cpu_quota_milli / 10,
                         x->cpu_quota_milli % 10) < 0 ||
            strv_extendf(u, "MemoryMax=%" PRIu64, x->memory_max) < 0 ||
            strv_extendf(u, "CPUWeight=%" PRIu64, x->cpu_weight) < 0 ||
            strv_extendf(u, "OOMScoreAdjust=%d", x->oom_score_adj) < 0)
                return -ENOMEM;
        return 0;
}

static char *verify_unit_text(const IsolatorSettings *def, const IsolatorSettings *deny,
                              const IsolatorSettings *small, const IsolatorSettings *large) {
        _cleanup_strv_free_ char **u = NULL, **groups = NULL, **errnos = NULL, **caps = NULL;
        _cleanup_free_ char *caps_default = NULL, *caps_all = NULL;

        for (size_t i = 0; i < ELEMENTSOF(systemd_groups); i++)
                if (strv_extendf(&groups, "@%s", systemd_groups[i]) < 0)
                        return NULL;
        for (int i = 1; i <= 4095; i++)
                if (strerrorname_np(i) && strv_extend(&errnos, strerrorname_np(i)) < 0)
                        return NULL;
        for (size_t i = 0; i < ELEMENTSOF(all_caps); i++)
                if (strv_extend(&caps, all_caps[i]) < 0)
                        return NULL;
        caps_default = strv_join(def->capabilities, " ");
        caps_all = strv_join(caps, " ");
        if (!caps_default || !caps_all)
                return NULL;

        if (strv_extend(&u, "# Automatically generated by test-isolator") < 0 ||
            strv_extend(&u, "[Unit]") < 0 || strv_extend(&u, "DefaultDependencies=no") < 0 ||
            strv_extend(&u, "[Service]") < 0 || strv_extend(&u, "ExecStart=/bin/app") < 0 ||
            strv_extendf(&u, "CapabilityBoundingSet=%s", caps_default) < 0 ||
            strv_extend(&u, "CapabilityBoundingSet=") < 0 ||
            strv_extendf(&u, "CapabilityBoundingSet=%s", caps_all) < 0 ||
            unit_add_lines(&u, "SystemCallFilter", def->syscalls) < 0 ||
            unit_add_lines(&u, "SystemCallFilter", groups) < 0 ||
            strv_extend(&u, "SystemCallFilter=") < 0)
                return NULL;
        STRV_FOREACH(c, deny->syscalls)
                if (strv_extendf(&u, "SystemCallFilter=~%s", *c) < 0)
                        return NULL;
        if (unit_add_lines(&u, "SystemCallErrorNumber", errnos) < 0 || unit_add_resources(&u, small) < 0 ||
            unit_add_resources(&u, large) < 0 || strv_extend(&u, "NoNewPrivileges=yes") < 0 ||
            strv_extend(&u, "") < 0)
                return NULL;
        return strv_join(u, "\n");
}

static char *read_all(FILE *f) {
        char *data = NULL, buf[4096];
        size_t size = 0, k;
        FILE *out = open_memstream(&data, &size);

        if (!out)
                return NULL;
        while ((k = fread(buf, 1, sizeof buf, f)) > 0)
                if (fwrite(buf, 1, k, out) != k)
                        break;
        if (fclose(out) != 0) {
                free(data);
                return NULL;
        }
        return data;
}

static const char *const verify_dirs[] = { "/bin", "/etc", "/etc/systemd", "/etc/systemd/system" };

static void verify_in_root(const char *root, const char *text) {
        _cleanup_free_ char *exe = NULL, *unit_path = NULL, *cmd = NULL, *output = NULL;
        FILE *f;

        for (size_t i = 0; i < ELEMENTSOF(verify_dirs); i++) {
                _cleanup_free_ char *d = NULL;

                if (asprintf(&d, "%s%s", root, verify_dirs[i]) < 0 || mkdir(d, 0755) < 0) {
                        OK(false, "verify: create %s%s", root, verify_dirs[i]);
                        return;
                }
        }
        if (asprintf(&exe, "%s/bin/app", root) < 0 ||
            asprintf(&unit_path, "%s/etc/systemd/system/x.service", root) < 0 ||
            asprintf(&cmd, "systemd-analyze verify --root='%s' x.service 2>&1", root) < 0) {
                OK(false, "verify: out of memory");
                return;
        }
        /* analyze only checks that ExecStart= names an executable inside the root. */
        OK_INTEQ(write_file(exe, "#!/bin/sh\n", 0755), 0, "verify: write %s", exe);
        OK_INTEQ(write_file(unit_path, text, 0644), 0, "verify: write %s", unit_path);

        f = popen(cmd, "r");
        if (!OK(f, "verify: run systemd-analyze"))
                return;
        output = read_all(f);
        OK_INTEQ(pclose(f), 0, "verify: systemd-analyze exits 0");
        if (!OK(output && !*output, "verify: systemd-analyze prints nothing"))
                for (char *line = output, *next; line && *line; line = next) {
                        next = strchrnul(line, '\n');
                        printf("#   %.*s\n", (int) (next - line), line);
                        if (*next)
                                next++;
                }
}

static void verify_cleanup(const char *root) {
        _cleanup_free_ char *exe = NULL, *unit_path = NULL;

        if (asprintf(&exe, "%s/bin/app", root) >= 0)
                (void) unlink(exe);
        if (asprintf(&unit_path, "%s/etc/systemd/system/x.service", root) >= 0)
                (void) unlink(unit_path);
        for (size_t i = ELEMENTSOF(verify_dirs); i > 0; i--) {
                _cleanup_free_ char *d = NULL;

                if (asprintf(&d, "%s%s", root, verify_dirs[i - 1]) >= 0)
                        (void) rmdir(d);
        }
        (void) rmdir(root);
}

/* Every value this module can hand the renderer, written the way the renderer
 * will write it, must pass `systemd-analyze verify` without a single
 * "…, ignoring" line: that is the whole point of refusing in advance. */
static void test_systemd_accepts(void) {
        Isolator deny_iso[] = { { .kind = ISOLATOR_SECCOMP_REMOVE,
                                  .seccomp = { .set = (char *[]){ "@rkt/default-blacklist", NULL },
                                               .errno_name = "EPERM" } } };
        Isolator small_iso[] = { { .kind = ISOLATOR_RESOURCE_CPU, .resource.limit = qty(1, 1, "1m") },
                                 { .kind = ISOLATOR_RESOURCE_MEMORY, .resource.limit = qty(1, 1, "1m") },
                                 { .kind = ISOLATOR_CPU_SHARES, .integer = 2 },
                                 { .kind = ISOLATOR_OOM_SCORE_ADJ, .integer = -1000 } };
        /* The largest memory limit a Quantity can carry: its milli value is an int64. */
        Isolator large_iso[] = { { .kind = ISOLATOR_RESOURCE_CPU,
                                   .resource.limit = qty(214749, 214748364, "214748364m") },
                                 { .kind = ISOLATOR_RESOURCE_MEMORY,
                                   .resource.limit = qty(INT64_MAX / 1000 + 1, INT64_MAX, NULL) },
                                 { .kind = ISOLATOR_CPU_SHARES, .integer = 262144 },
                                 { .kind = ISOLATOR_OOM_SCORE_ADJ, .integer = 1000 } };
        IsolatorSettings def = {}, deny = {}, small = {}, large = {};
        _cleanup_free_ char *text = NULL;
        char root[] = "/tmp/test-isolator-XXXXXX";

        if (!have_analyze()) {
                OK(true, "systemd-analyze verify accepts every resolved value # SKIP systemd-analyze not found");
                return;
        }
        if (resolve_ok(NULL, 0, 1000, &def, "verify: defaults") &&
            resolve_ok(deny_iso, ELEMENTSOF(deny_iso), 1000, &deny, "verify: deny list") &&
            resolve_ok(small_iso, ELEMENTSOF(small_iso), 0, &small, "verify: smallest values") &&
            resolve_ok(large_iso, ELEMENTSOF(large_iso), 0, &large, "verify: largest values")) {
                text = verify_unit_text(&def, &deny, &small, &large);
                if (OK(text, "verify: unit text built") && OK(mkdtemp(root), "verify: temporary root")) {
                        verify_in_root(root, text);
                        verify_cleanup(root);
                }
        }
        isolator_settings_done(&def);
        isolator_settings_done(&deny);
        isolator_settings_done(&small);
        isolator_settings_done(&large);
}

int main(void) {
        test_kind_names();
        test_capability_names();
        test_errno_names();
        test_syscall_names();
        test_wildcards();
        test_wildcards_match_systemd();
        test_defaults();
        test_capabilities();
        test_seccomp();
        test_no_new_privileges();
        test_resources();
        test_cpu_shares();
        test_oom_score_adj();
        test_labels();
        test_unsupported();
        test_null_path();
        test_systemd_accepts();
        return tap_done();
}
