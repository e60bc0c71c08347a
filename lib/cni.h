/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * CNI (the Container Network Interface, spec 1.0.0): network configurations
 * and their plugins (docs/networks.md). A network is a configuration list
 * (`.conflist`; a single `.conf` is read as a list of one plugin), found by
 * name in directories scanned in the lexical order of their file names.
 * Plugins are the host's, executables named by each plugin's `type` in one
 * directory (Debian's containernetworking-plugins: /usr/lib/cni), never
 * looked up on a PATH and never taken from the pod.
 *
 * A plugin runs with only the CNI_* variables and a fixed PATH (iptables),
 * the configuration on stdin, no descriptor of ours but its three pipes,
 * and at most CNI_PLUGIN_TIMEOUT_SEC; its result (stdout, JSON) is checked
 * to be an object, its error ({"code", "msg", "details"}) becomes the
 * message, with the network's and the plugin's names.
 */

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

#define CNI_PLUGIN_DIR "/usr/lib/cni"
#define CNI_PLUGIN_TIMEOUT_SEC 120
#define CNI_VERSION_DEFAULT "1.0.0"

typedef struct CniNetwork {
        char *name;
        char *file; /* the configuration file it came from */
        json_t *conf; /* a configuration list: {"cniVersion", "name", "plugins": [...] , …} */
} CniNetwork;

CniNetwork *cni_network_free(CniNetwork *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(CniNetwork *, cni_network_free);

/* The network named `name`, from the first of `dirs` (NULL-terminated) that
 * has a configuration of that name (*.conf, *.conflist, *.json, in lexical
 * order of the file names; a directory that does not exist is skipped).
 * -ENOENT (with a message) when none has it; -EINVAL for a configuration
 * that is not one (the file named). */
int cni_network_find(char *const *dirs, const char *name, CniNetwork **ret, NpError *err);

/* A network from its configuration list as recorded (a copy is kept). */
int cni_network_from_json(const json_t *conf, CniNetwork **ret, NpError *err);

/* Whether a plugin of the network takes port mappings (capabilities.portMappings). */
bool cni_network_has_port_mappings(const CniNetwork *n);

typedef struct CniRuntime {
        const char *container_id; /* the pod's UUID */
        const char *netns;        /* the network namespace's path; "" for a DEL without one */
        const char *ifname;       /* eth0, eth1, … */
        const char *args;         /* CNI_ARGS ("K=V;…"), or NULL */
        const char *plugin_dir;   /* NULL: CNI_PLUGIN_DIR */
        json_t *port_mappings;    /* runtimeConfig.portMappings for the plugins that take
                                   * them, or NULL (borrowed) */
        int keep_fd;              /* a descriptor the plugin holds while it runs (the pod's
                                   * lock: gc waits for it); -1: none */
} CniRuntime;

/* ADD: each plugin of the list in order, each given the one before's result
 * (prevResult). The last result in *ret_result. On failure `err` names the
 * network and the plugin; the plugins that ran are not undone here (the
 * caller's DEL does that, as for a pod that ran). */
int cni_add(const CniNetwork *n, const CniRuntime *rt, json_t **ret_result, NpError *err);

/* DEL: the plugins in reverse order, each given `prev_result` (may be NULL).
 * Every plugin is run even when one fails; the first failure is returned. */
int cni_del(const CniNetwork *n, const CniRuntime *rt, json_t *prev_result, NpError *err);

/* The IPv4 and IPv6 addresses (CIDR, "172.16.28.2/24") of a result on the
 * sandbox's interfaces, NULL-terminated, in order. */
int cni_result_addresses(const json_t *result, char ***ret);
