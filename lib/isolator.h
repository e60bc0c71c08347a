/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * appc isolators, the part that does not touch JSON: quantity parsing, the
 * capability and errno name tables, seccomp name checks (libseccomp), and the
 * resolution of one app's isolator list into the settings a unit needs.
 * Every value systemd would silently ignore ("…, ignoring") is refused here
 * with a message instead (docs/stage1.md, "machined").
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "manifest.h"
#include "quantity.h"


/* "CAP_CHOWN" … "CAP_CHECKPOINT_RESTORE" (exact, upper case). */
bool capability_name_is_valid(const char *name);
/* rkt's default bounding set for apps (14 names, in rkt's order). */
extern const char *const capability_default_set[];
extern const size_t capability_default_set_size;

/* "EPERM", "EXFULL", …: a name glibc knows (strerrorname_np). Returns the
 * errno number or -EINVAL. */
int errno_from_name(const char *name);

/* A syscall name libseccomp resolves for the native architecture. */
bool syscall_name_is_known(const char *name);
/* "@appc.io/all", "@appc.io/empty", "@docker/default-whitelist",
 * "@docker/default-blacklist", "@rkt/default-whitelist", "@rkt/default-blacklist",
 * or "@systemd/<group>" for a group systemd 252 knows. */
bool seccomp_wildcard_is_valid(const char *name);

typedef enum SeccompMode {
        SECCOMP_MODE_NONE,  /* no filter at all */
        SECCOMP_MODE_ALLOW, /* allow list: SystemCallFilter=name … */
        SECCOMP_MODE_DENY,  /* deny list: SystemCallFilter=~name … */
} SeccompMode;

/* What one app's isolators amount to, ready for the unit writer. */
typedef struct IsolatorSettings {
        char **capabilities;  /* bounding set, sorted, de-duplicated; may be empty (= none) */
        SeccompMode seccomp_mode;
        char **syscalls;      /* sorted, de-duplicated; plain names and systemd "@group"s */
        bool syscalls_shared; /* `syscalls` is the built-in default allow list, shared by every
                               * app and read-only: never modify or free it (done() knows) */
        char *syscall_errno;  /* NULL: kill (systemd's default) */
        bool no_new_privileges;
        bool has_memory_max;
        uint64_t memory_max;  /* bytes */
        bool has_cpu_quota;
        uint64_t cpu_quota_milli; /* CPUQuota= (milli / 10) percent, e.g. 500 -> 50% */
        bool has_cpu_weight;
        uint64_t cpu_weight;  /* CPUWeight=, converted from cpu-shares */
        uint64_t cpu_shares;  /* the cpu-shares as written (cgroup v1 cpu.shares) */
        bool has_oom_score_adj;
        int oom_score_adj;
        char *selinux_context; /* "user:role:type:level" or NULL */
        char *apparmor_profile;
} IsolatorSettings;

/* Resolves an app's isolators for an app running as `uid`: the capability
 * set (default, retain or remove), the seccomp filter (rkt's default allow
 * list unless told otherwise; wildcards expanded; names unknown to this
 * architecture's libseccomp dropped from built-in lists, refused from the
 * manifest), NoNewPrivileges (forced on for a filtered non-root app, as
 * systemd would), and resources with range checks. `path` is the JSON path of
 * the isolator array, used in messages. Unsupported kinds (bandwidth, iops,
 * sysctl) are refused with a message naming them. */
int isolator_settings_resolve(const Isolator *isolators, size_t n, uid_t uid, const char *path,
                              IsolatorSettings *ret, NpError *err);
void isolator_settings_done(IsolatorSettings *s);

/* The pod's own isolators (PodManifest.isolators): the limits of the pod as
 * a whole. Only resource/memory, resource/cpu and os/linux/cpu-shares mean
 * something for a whole pod; any other kind is refused with a message naming
 * it. Only the resource fields of `ret` are set. */
int isolator_pod_resolve(const Isolator *isolators, size_t n, IsolatorSettings *ret, NpError *err);

/* Name of an isolator kind as written in manifests ("resource/cpu", …). */
const char *isolator_kind_to_string(IsolatorKind k);
IsolatorKind isolator_kind_from_string(const char *s); /* -1 (as IsolatorKind) when unknown */
