/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The pure translation Pod (+ image manifests) -> what the stage1 needs:
 * every systemd unit of the pod with its wants links, the env files, the
 * passwd and group files, and the systemd-nspawn argv and environment for the host
 * flavor. No I/O: the result is a FileSet (paths relative to the stage1
 * root) plus string vectors; the run entrypoint and `nspawn-pod render -o`
 * write it, `nspawn-pod render` prints it.
 *
 * Layout inside the stage1 root (docs/render.md):
 *   etc/systemd/system/…            units and *.wants/ links (host /usr is bound
 *                                   read-only over the stage1's /usr, so units
 *                                   live in /etc)
 *   rkt/env/<app>                   EnvironmentFile of each app
 *   etc/passwd, etc/group           an entry for every id the apps run with
 *   opt/stage2/<app>/rootfs         the app roots (not written by render)
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup-limits.h"
#include "error.h"
#include "fileset.h"
#include "manifest.h"

#define STAGE1_UNIT_DIR "etc/systemd/system"
#define STAGE1_ENV_DIR "rkt/env"
#define STAGE1_PASSWD "etc/passwd"
#define STAGE1_GROUP "etc/group"
#define STAGE1_PREPARE_APP "/prepare-app"
#define STAGE1_REAPER "/reaper"
/* app-stdio (flavors/host/app-stdio.c, docs/logs.md): where the stage1 has
 * it, and where prepare-app binds it in each app's root (its own /dev). */
#define STAGE1_APP_STDIO "/app-stdio"
#define APP_STDIO_PATH "/dev/.nspawn-pod-stdio"
#define STDIO_ANNOTATION_PREFIX "coreos.com/rkt/stage2/" /* …stdin, …stdout, …stderr of a runtime app */
#define STAGE1_CGROUP_DIR "rkt/cgroup"            /* rkt/cgroup/<app>/<controller>: lib/cgroup-limits.h */
#define APP_CGROUP_DIR "/dev/.nspawn-pod-cgroup"  /* where prepare-app binds them in the app */
/* An empty file of the stage1 image, bound read-only where the pod must find
 * an empty file (docs/logs.md). */
#define STAGE1_EMPTY "etc/systemd/nspawn-pod-empty"

/* An app's user and group, resolved by the caller from the image (names and
 * paths need the image's root filesystem; render itself is pure). */
typedef struct RenderIds {
        uint32_t uid;
        uint32_t gid;
} RenderIds;

typedef struct RenderOptions {
        uint8_t uuid[16];          /* the pod's UUID */
        const char *pod_dir;       /* absolute pod directory (sources of empty volumes);
                                    * NULL: /var/lib/nspawn-pod/pods/run/<uuid> */
        const char *nspawn_path;   /* NULL: /usr/bin/systemd-nspawn */
        const char *hostname;      /* NULL: the machine name */
        const char *machine_prefix; /* the machine name is "<prefix>-<uuid>"; NULL: "nspawn-pod"
                                     * (rkt's stage0 runs pods as "rkt-<uuid>") */
        bool private_network;      /* a network namespace with loopback only (--net=none) */
        const char *netns_path;    /* the pod's network namespace, made by the caller (CNI
                                    * networks: lib/pod-net.h); NULL: none */
        bool resolv_conf_off;      /* the caller wrote (or removed) the pod's /etc/resolv.conf:
                                    * nspawn --resolv-conf=off (docs/networks.md, "DNS") */
        bool pod_hosts;            /* the pod's /etc/hosts wins over the images' (--hosts-entry):
                                    * prepare-app --pod-hosts */
        bool share_ipc;            /* stay in the host's IPC namespace (rkt's --ipc=parent) */
        const char *selinux_context;       /* nspawn --selinux-context=; NULL: none */
        const char *selinux_apifs_context; /* nspawn --selinux-apifs-context=; NULL: none */
        bool register_machine;     /* machined answers: --register=yes, else --register=no --keep-unit */
        bool link_journal;         /* the host keeps a journal on disk (/var/log/journal):
                                    * --link-journal=try-guest, so that its journalctl -m finds
                                    * the pod's */
        bool hide_printk_time;     /* the host has /sys/module/printk/parameters/time: hidden
                                    * from the pod, so that journald's console lines carry no
                                    * kernel timestamp (docs/logs.md) */
        bool interactive;          /* the single app gets the console */
        bool debug;                /* keep nspawn's and systemd's messages */
        bool disable_capabilities; /* apps keep every capability */
        bool disable_paths;        /* no /proc, /sys protections, no device policy */
        bool disable_seccomp;      /* no syscall filters */
        const RenderIds *ids;      /* per app, in pod order; NULL: only numeric ids and "root" */
        bool nspawn_binds;         /* volumes as nspawn --bind= arguments, for booting the
                                    * output with plain systemd-nspawn; otherwise they are
                                    * only listed in RenderResult.mounts, and the caller
                                    * mounts them (lib/bind-mount.h, docs/volumes.md) */
        char *const *device_sources; /* host volume sources that are device nodes (the
                                      * caller stat()s them, lib/bind-mount.h: render does
                                      * no I/O); NULL: none */
        uint32_t uid_shift, uid_range; /* uid_range > 0: a user namespace, the pod's 0 the host's
                                        * uid_shift (the caller idmaps the pod's trees) */
        unsigned cgroup_v1_mask;   /* controllers (CGROUP_CTRL_MASK) the host has in cgroup v1
                                    * hierarchies only: an app limited in one joins its cgroup
                                    * there through app-stdio (lib/cgroup-limits.h) */
        const char *rendered_dir;  /* absolute directory where the rendered files are written
                                    * instead of the stage1 root: they are then bound read-only
                                    * into the pod (--bind-ro=…) so the pod cannot alter them;
                                    * NULL: they are written into the stage1 root itself */
} RenderOptions;

/* One volume mount of one app, in the order they are to be made: per app,
 * outer targets before inner ones (fewer components first), else explicit
 * mounts before mount points, in their order (docs/volumes.md). */
typedef struct RenderMount {
        char *app;
        char *volume;    /* volume name (implicit ones: "<app>-<mount point>") */
        char *target;    /* absolute and cleaned lexically, inside the app root: what is
                          * shown, and compared (two mounts on one target) */
        char *path;      /* the target as written, resolved inside the app root when
                          * mounted (readlink -m with the app root as "/": a ".." after
                          * a symlink climbs from where the link led) */
        char *source;    /* host volumes: the host path; empty ones: NULL, the backing
                          * directory is POD/sharedVolumes/<volume> */
        bool read_only;
        bool recursive;
        bool empty;      /* kind "empty": created with mode, uid and gid */
        mode_t mode;
        uid_t uid;
        gid_t gid;
        bool copy_up;    /* implicit volume of an image converted from Docker: filled
                          * from the image's content at the target first (rkt's) */
        bool device;     /* the source is a device node (RenderOptions.device_sources) */
} RenderMount;

typedef struct RenderResult {
        FileSet *files;      /* relative to the stage1 root, sorted by path */
        RenderMount *mounts; /* every app's volume mounts, in app order */
        size_t n_mounts;
        char **nspawn_argv;  /* argv[0] is the nspawn path; run from the pod directory */
        char **nspawn_env;   /* NAME=VALUE to add to nspawn's environment, sorted */
        char *netns_join;    /* the network namespace nspawn is started in (the run joins
                              * it before the exec), instead of --network-namespace-path=:
                              * a user-namespaced nspawn 252 joins that too late, from inside
                              * its user namespace, where it may not; NULL: none */
        char **warnings;     /* things worth telling a person; never fatal */
        CgroupLimits pod_limits;  /* the pod's own (PodManifest.isolators): set by the run */
        CgroupLimits *app_limits; /* per app, in pod order */
        size_t n_app_limits;
        char *lowers_oom_score; /* the first app with a negative OOMScoreAdjust=, which needs
                                 * CAP_SYS_RESOURCE (the run checks it has it); NULL: none */
} RenderResult;

RenderResult *render_result_free(RenderResult *r);

/* Device volumes (docs/volumes.md, "Devices"): the run writes a symlink
 * STAGE1_DEVICE_LINKS/<app>/<volume> in the stage1 to the node it mounted in
 * the app root, prepare-app copies it to POD_DEVICE_LINKS/<app>/<volume> in
 * the pod's /dev, and the app's unit names that in DeviceAllow= (systemd
 * wants a path below /dev, and resolves it when the app starts). */
#define STAGE1_DEVICE_LINKS "rkt/devices"
#define POD_DEVICE_LINKS "/dev/.nspawn-pod-devices"
DEFINE_TRIVIAL_CLEANUP_FUNC(RenderResult *, render_result_free);

/* `images[i]` belongs to `pod->apps[i]` and may be NULL when that runtime app
 * carries its own `app`. Fails with a message in `err` naming the manifest
 * path when the pod cannot be rendered faithfully (see docs/render.md). */
int render_pod(const Pod *pod, Image *const *images, const RenderOptions *opts, RenderResult **ret,
               NpError *err);

bool render_hostname_is_valid(const char *s);

/* "<prefix>-<uuid>"; `prefix` NULL: "nspawn-pod". */
int render_machine_name(const char *prefix, const uint8_t uuid[16], char **ret);
