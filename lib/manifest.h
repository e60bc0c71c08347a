/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The appc 0.8.11 manifest model: PodManifest and ImageManifest parsed and
 * validated into plain C structs. Only lib/manifest*.c touch JSON; after
 * manifest_parse_*() returns no json_t is left and every string is owned by
 * the model. Arrays are `T *items` + `size_t n_items`.
 *
 * Validation follows the appc schema (ACName, ACIdentifier, SemVer, labels,
 * absolute paths, isolator values) plus our own rules: duplicate JSON keys,
 * invalid UTF-8, NUL bytes, nesting depth and size caps, duplicate app and
 * volume names, exec[0] absolute, and unknown fields rejected (see
 * docs/manifest.md for the list of places where we are stricter than actool).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "macro.h"

/* Limits enforced before and while parsing. */
#define MANIFEST_SIZE_MAX (16U * 1024U * 1024U) /* bytes of JSON */
#define MANIFEST_DEPTH_MAX 32U                  /* nesting of arrays/objects */
#define MANIFEST_STRING_MAX (128U * 1024U)      /* any one string, in bytes */
#define MANIFEST_APPS_MAX 4096U                 /* apps in one pod */

typedef struct NameValue {
        char *name;
        char *value;
} NameValue;

/* A Kubernetes-style resource quantity ("500m", "1.5", "25Mi"), kept exactly:
 * `ceil` is the value rounded up to an integer, `milli` the value times 1000
 * rounded up. Quantities whose milli value does not fit in int64 are rejected. */
typedef struct Quantity {
        bool set;
        int64_t ceil;
        int64_t milli;
        char *text; /* as written, for messages and docs */
} Quantity;

typedef enum IsolatorKind {
        ISOLATOR_RESOURCE_CPU,
        ISOLATOR_RESOURCE_MEMORY,
        ISOLATOR_RESOURCE_BLOCK_BANDWIDTH,
        ISOLATOR_RESOURCE_BLOCK_IOPS,
        ISOLATOR_RESOURCE_NETWORK_BANDWIDTH,
        ISOLATOR_CAPABILITIES_RETAIN,
        ISOLATOR_CAPABILITIES_REMOVE,
        ISOLATOR_SECCOMP_RETAIN,
        ISOLATOR_SECCOMP_REMOVE,
        ISOLATOR_NO_NEW_PRIVILEGES,
        ISOLATOR_OOM_SCORE_ADJ,
        ISOLATOR_CPU_SHARES,
        ISOLATOR_SELINUX_CONTEXT,
        ISOLATOR_APPARMOR_PROFILE,
        ISOLATOR_SYSCTL,
        _ISOLATOR_KIND_MAX,
} IsolatorKind;

typedef struct Isolator {
        IsolatorKind kind;
        union {
                /* resource/cpu, resource/memory, and the *-bandwidth / block-iops kinds
                 * (which carry only `limit`, with default=true) */
                struct {
                        Quantity request;
                        Quantity limit;
                } resource;
                /* capabilities-retain-set / -remove-set: names as written ("CAP_…") */
                char **caps;
                /* seccomp-retain-set / -remove-set */
                struct {
                        char **set;   /* syscall names and "@group/name" wildcards */
                        char *errno_name; /* NULL when absent or empty */
                } seccomp;
                bool no_new_privileges;
                int64_t integer; /* oom-score-adj, cpu-shares */
                struct {
                        char *user, *role, *type, *level;
                } selinux;
                char *apparmor_profile;
                struct {
                        NameValue *items; /* sorted by name */
                        size_t n_items;
                } sysctl;
        };
} Isolator;

typedef struct EventHandler {
        char *name; /* "pre-start" or "post-stop" */
        char **exec;
} EventHandler;

typedef struct MountPoint {
        char *name;
        char *path;
        bool read_only;
} MountPoint;

typedef struct Port {
        char *name;
        char *protocol; /* "tcp" or "udp" */
        uint16_t port;
        uint32_t count; /* >= 1 (0 in JSON means 1) */
        bool socket_activated;
} Port;

typedef struct App {
        char **exec;  /* may be empty in an image manifest; render refuses that */
        char *user;
        char *group;
        uint32_t *supplementary_gids;
        size_t n_supplementary_gids;
        EventHandler *event_handlers;
        size_t n_event_handlers;
        char *working_directory; /* NULL when absent */
        NameValue *environment; /* in manifest order; names unique */
        size_t n_environment;
        MountPoint *mount_points;
        size_t n_mount_points;
        Port *ports;
        size_t n_ports;
        Isolator *isolators;
        size_t n_isolators;
        NameValue *user_annotations; /* sorted by name */
        size_t n_user_annotations;
        NameValue *user_labels; /* sorted by name */
        size_t n_user_labels;
} App;

typedef enum VolumeKind {
        VOLUME_HOST,
        VOLUME_EMPTY,
} VolumeKind;

typedef struct Volume {
        char *name;
        VolumeKind kind;
        char *source;   /* host: absolute path; empty: NULL */
        int read_only;  /* -1 unset, 0, 1 */
        int recursive;  /* -1 unset (means recursive), 0, 1 */
        mode_t mode;    /* empty only; 0755 unless given */
        uid_t uid;      /* empty only; 0 unless given */
        gid_t gid;
} Volume;

typedef struct Mount {
        char *volume;
        char *path;
        Volume *app_volume; /* NULL unless the mount carries its own volume */
} Mount;

typedef struct ImageRef {
        char *name; /* NULL when absent */
        char *id;   /* "sha512-<hex>" */
        NameValue *labels;
        size_t n_labels;
} ImageRef;

typedef struct RuntimeApp {
        char *name;
        ImageRef image;
        App *app; /* NULL: the image's app is used, as a whole */
        bool read_only_root_fs;
        Mount *mounts;
        size_t n_mounts;
        NameValue *annotations;
        size_t n_annotations;
} RuntimeApp;

typedef struct ExposedPort {
        char *name;
        uint16_t host_port;
        char *host_ip;  /* NULL when absent (= 0.0.0.0) */
        Port *pod_port; /* NULL when absent */
} ExposedPort;

typedef struct Pod {
        char *ac_version;
        RuntimeApp *apps;
        size_t n_apps;
        Volume *volumes;
        size_t n_volumes;
        Isolator *isolators;
        size_t n_isolators;
        NameValue *annotations;
        size_t n_annotations;
        ExposedPort *ports;
        size_t n_ports;
        NameValue *user_annotations; /* sorted by name */
        size_t n_user_annotations;
        NameValue *user_labels; /* sorted by name */
        size_t n_user_labels;
} Pod;

typedef struct Dependency {
        char *image_name;
        char *image_id; /* NULL when absent */
        NameValue *labels;
        size_t n_labels;
        uint64_t size;
} Dependency;

typedef struct Image {
        char *ac_version;
        char *name;
        NameValue *labels;
        size_t n_labels;
        App *app; /* NULL when absent */
        NameValue *annotations;
        size_t n_annotations;
        Dependency *dependencies;
        size_t n_dependencies;
        char **path_whitelist;
} Image;

/* Parse and validate. `data` need not be NUL-terminated. On failure `err`
 * names the JSON path (or line/column for syntax errors) and what is wrong. */
int manifest_parse_pod(const char *data, size_t size, Pod **ret, NpError *err);
int manifest_parse_image(const char *data, size_t size, Image **ret, NpError *err);

Pod *pod_free(Pod *p);
Image *image_free(Image *i);
App *app_free(App *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(Pod *, pod_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(Image *, image_free);

/* rkt's per-app run options that are isolators (docs/run.md): OPTION
 * "memory", "cpu" (a quantity: limit and request), "cpu-shares",
 * "oom-score-adj" (integers), "caps-retain", "caps-remove" (CAP_A,CAP_B),
 * "seccomp" (mode=retain|remove,[errno=ENAME,]NAME,…). The isolator, checked
 * as a manifest's would be, replaces the app's isolators of its kind (both
 * capability kinds, both seccomp kinds). Messages name "--OPTION". */
int manifest_app_set_isolator_option(App *a, const char *option, const char *value, NpError *err);

/* Frees `n` name/value pairs and the array. */
void manifest_name_values_free(NameValue *l, size_t n);

/* Lookups; NULL when absent. */
const NameValue *name_value_find(const NameValue *items, size_t n, const char *name);
const Volume *pod_find_volume(const Pod *p, const char *name);
const RuntimeApp *pod_find_app(const Pod *p, const char *name);

/* ---- lib/manifest-write.c: the model back to JSON, and copies ------------------------- */

/* appc 0.8.11 JSON for a model, UTF-8, two-space indent, keys in the order
 * of appc's Go structs, ending with "\n"; optional fields only when set.
 * Parsing the output gives the same model back. *ret is NUL-terminated;
 * *ret_size (ret_size may be NULL) is its length without the NUL. Returns
 * -EINVAL for a model that breaks an invariant the parser guarantees (a NULL
 * required string, an unknown kind, an empty isolator set, invalid UTF-8),
 * -ENOMEM. The appc syntax rules are not re-checked: parse the output to
 * validate a model built by hand. */
int manifest_pod_to_json(const Pod *p, char **ret, size_t *ret_size);
int manifest_image_to_json(const Image *i, char **ret, size_t *ret_size);

/* Deep copy of a (non-NULL) App, e.g. an image's app for a pod's runtime
 * app; NULL on out-of-memory. */
App *app_copy(const App *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(App *, app_free);
/* Deep copy of `n` name/value pairs (labels, annotations, environment);
 * *ret is NULL when n is 0. -ENOMEM. */
int name_values_copy(const NameValue *l, size_t n, NameValue **ret);

/* ---- end of lib/manifest-write.c ----------------------------------------------------- */
