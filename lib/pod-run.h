/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Running a prepared pod (docs/run.md): the same code under `nspawn-pod run`,
 * `run-prepared` and the stage1 run entrypoint that rkt's stage0 executes
 * (flavors/host/init.c). The caller has the pod in pods/run/ and holds the
 * exclusive lock on its directory (docs/stage1.md, "run").
 */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef enum PodNet {
        POD_NET_HOST, /* the host's network namespace */
        POD_NET_NONE, /* a network namespace of its own with loopback only */
        POD_NET_CNI,  /* a network namespace of its own with CNI networks (lib/pod-net.h) */
} PodNet;

/* The pod's /etc/resolv.conf (docs/networks.md, "DNS and hosts"). */
typedef enum PodResolvMode {
        POD_RESOLV_DEFAULT, /* the first CNI network's DNS, else the host's (nspawn copies it) */
        POD_RESOLV_HOST,    /* the host's */
        POD_RESOLV_NONE,    /* none: each app keeps its image's */
        POD_RESOLV_GIVEN,   /* from PodDns.servers, search, options, domain (--dns=IP, …) */
        POD_RESOLV_FILE,    /* a file the stage0 wrote in the stage1 (rkt's etc/rkt-resolv.conf) */
} PodResolvMode;

/* The pod's /etc/hosts, and whether it wins over the images'. */
typedef enum PodHostsMode {
        POD_HOSTS_DEFAULT, /* localhost and the hostname; an image's own wins */
        POD_HOSTS_HOST,    /* the host's; wins */
        POD_HOSTS_GIVEN,   /* the default's and PodDns.hosts_entries ("IP NAME"); wins */
        POD_HOSTS_FILE,    /* a file the stage0 wrote in the stage1 (rkt's etc/rkt-hosts); wins */
} PodHostsMode;

typedef struct PodDns {
        PodResolvMode resolv;
        char *const *servers, *const *search, *const *options;
        const char *domain;
        const char *resolv_file; /* POD_RESOLV_FILE: relative to the stage1 root */
        PodHostsMode hosts;
        char *const *hosts_entries;
        const char *hosts_file;  /* POD_HOSTS_FILE: relative to the stage1 root */
} PodDns;

typedef struct PodRunOptions {
        const char *hostname;       /* NULL: the machine name */
        const char *machine_prefix; /* machine "<prefix>-<uuid>"; NULL: "nspawn-pod" */
        PodNet net;
        char *const *networks;      /* POD_NET_CNI: "name[:K=V;…]" each, in order */
        const char *net_conf_dir;   /* user CNI configurations (found before the built-in
                                     * ones of the stage1); NULL: none */
        PodDns dns;
        bool share_ipc;             /* stay in the host's IPC namespace */
        /* A user namespace of the pod's own (docs/security.md, "User
         * namespaces"): the pod's ids 0..uid_range-1 are the host's
         * uid_shift…; uid_shift 0 picks a free range of 65536. */
        bool private_users;
        uint32_t uid_shift, uid_range;
        /* The pod's trees are owned by the shifted ids already (rkt's stage0
         * renders them so for --private-users): only empty volumes are idmapped,
         * and what the run makes in the stage1 root is shifted. */
        bool uid_preshifted;
        bool interactive;           /* the single app gets the terminal */
        bool debug;                 /* keep nspawn's and systemd's messages */
        bool disable_capabilities, disable_paths, disable_seccomp;
        const char *selinux_context, *selinux_apifs_context; /* NULL: none */
        /* Told what is worth telling a person (render's warnings); may be NULL. */
        void (*warn)(const char *message);
} PodRunOptions;

/* What a list of networks ("name[:K=V;…]", rkt's --net) asks for: `host`
 * or `none` alone, else CNI networks (`default`, `default-restricted`,
 * named ones). An empty list is `default_kind`. -EINVAL (with a message)
 * for host or none beside other networks, or with arguments. */
int pod_run_net_kind(char *const *networks, PodNet default_kind, PodNet *ret, NpError *err);

/* A value that may go into resolv.conf or hosts as one word: printable,
 * no whitespace, no '#' or ';' (comments there). An IP address for
 * `address` (inet_pton, v4 or v6). */
bool pod_run_dns_word_is_valid(const char *s, bool address);

/* Splits comma-separated network lists into `*networks`. */
int pod_run_net_list_add(char ***networks, const char *list);

/* Runs the pod whose directory is `pod_dir` (absolute, in pods/run/), locked
 * through `lock_fd` (O_RDONLY, the lock stays held for the pod's whole life:
 * nspawn inherits the descriptor). Sets up the stage1 root for this host,
 * mounts the apps' overlays, resolves the apps' users, renders and writes
 * the units, starts systemd-nspawn in cgroups of the pod's own, writes
 * subcgroup and ppid, and waits for it, passing on the first stop signal
 * (lib/pod-stop.h). Returns the pod's exit code (0-255, recorded in the
 * pod's exit-code file) once nspawn has ended; before nspawn runs -errno,
 * with `err` saying why: -EINVAL the pod cannot run as it is (its manifest,
 * an app's user, …), other codes our own failures. The caller may be left in
 * a mount namespace of its own. */
int pod_run(const char *pod_dir, int lock_fd, const uint8_t uuid[16], const PodRunOptions *o, NpError *err);
