/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Named network namespaces, as iproute2 makes them (`ip netns add`): a
 * namespace kept alive by a bind mount of it on a file in /run/netns, a
 * mount point of its own made shared there so that the mounts reach mount
 * namespaces made later (ours for a pod among them). A pod's lives as long
 * as that mount, not as long as any process: nspawn-pod and nspawn may be
 * killed and gc still finds it for the CNI DEL (docs/networks.md).
 */

#define NETNS_DIR "/run/netns"

/* Creates NETNS_DIR/<name> holding a new network namespace with its
 * loopback up. -EEXIST if the name is taken. Nothing is left on failure. */
int netns_create(const char *name);

/* Whether `path` is a live network namespace (a mount of nsfs), 1 or 0. */
int netns_is_live(const char *path);

/* Unmounts and removes NETNS_DIR/<name>; gone already is fine. */
int netns_remove(const char *name);

/* `name` is one a pod may have: [A-Za-z0-9._-], not "." or "..". */
int netns_name_is_valid(const char *name);
