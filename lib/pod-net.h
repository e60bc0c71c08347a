/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A pod's CNI networks (docs/networks.md), with a life cycle that leaks
 * nothing:
 *
 *  - every network asked for is found and read before anything is made;
 *  - the pod's network namespace path is written to POD/netns before the
 *    namespace is created, and each network's record (POD/net/NN-<name>.json:
 *    its configuration, interface, CNI_ARGS) before its ADD starts, so a
 *    teardown after any crash knows every ADD that may have begun;
 *  - a failed ADD tears down every network recorded (DEL in reverse order,
 *    given the results of the ADDs that succeeded), then the namespace;
 *  - the teardown (at the pod's end, in gc, after kill -9 of everything)
 *    DELs each recorded network with the namespace's path while it lives,
 *    with none once it is gone (IPAM still releases), removes each record
 *    whose DEL succeeded or whose ADD never did, and the namespace when no
 *    record is left.
 */

#include <jansson.h>
#include <stdint.h>

#include "error.h"

/* Where nspawn-pod's own user CNI configurations are (rkt's stage0 passes
 * its own: <local-config>/net.d). */
#define POD_NET_USER_CONF_DIR "/etc/nspawn-pod/net.d"

#define POD_NET_DIR "net"
#define POD_NETNS_FILE "netns"

typedef struct PodNetSetup {
        const uint8_t *uuid;
        char *const *networks;    /* "name[:K=V;…]" each, in order */
        char *const *conf_dirs;   /* searched in order for each name (user configurations first) */
        const char *builtin_dir;  /* the one of conf_dirs with the built-in networks, whose
                                   * host-local addresses are kept in ipam_dir */
        const char *ipam_dir;     /* NULL: the plugins' default (/var/lib/cni/networks) */
        const char *plugin_dir;   /* NULL: CNI_PLUGIN_DIR */
        json_t *port_mappings;    /* CNI portMappings for the first network that takes them
                                   * (borrowed); NULL: none */
} PodNetSetup;

/* Makes the pod's network namespace and adds every network to it, in order
 * (interfaces eth0, eth1, …). The namespace's path in *ret_netns. On failure
 * everything made is torn down again and `err` says which network and
 * plugin failed. -EINVAL for networks that are not configured, or bad
 * configurations, before anything is made. */
int pod_net_setup(int pod_fd, const PodNetSetup *s, char **ret_netns, NpError *err);

/* Tears down what POD/netns and POD/net/ record (see above); idempotent.
 * Returns the first failure, with `err` saying which network's DEL failed
 * (its record is kept for a later teardown). */
int pod_net_teardown(int pod_fd, const uint8_t uuid[16], NpError *err);

struct PodNetInfo;
typedef struct PodNetInfo {
        char *name;
        char *ifname;
        char **addresses; /* CIDR, NULL-terminated; NULL before its ADD succeeded */
        char **nameservers, **search, **options; /* the result's "dns" (NULL: none) */
        char *domain;
} PodNetInfo;

void pod_net_infos_free(PodNetInfo *n, size_t count);

/* The pod's networks as recorded, in order. */
int pod_net_read(int pod_fd, PodNetInfo **ret, size_t *ret_n);
