/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The host flavor's stage1 root. The stage1 image (make stage1, its contents
 * listed in flavors/host/rootfs.list) holds our entrypoints and helpers, the
 * static units (units/), the skeleton and the masks of host units that early
 * boot would start for nothing. Everything else (systemd, its units, its
 * libraries) comes from the host's /usr, bound read-only over the stage1's
 * /usr by systemd-nspawn, so pods always run the host's systemd and nothing
 * of it is copied (docs/stage1.md).
 *
 * What depends on the host or the pod is written at run time, into the
 * stage1 root of each pod, by stage1_host_setup().
 */

#include <stdint.h>

#include "error.h"

typedef struct Stage1HostOptions {
        uint8_t uuid[16];         /* machine id */
        const char *hostname;     /* for /etc/hosts; checked with render_hostname_is_valid() */
        uint64_t journal_max_use; /* bytes (lib/journal.h) */
} Stage1HostOptions;

/* Writes into the stage1 root open at `s1_fd`: the host's merged-/usr
 * symlinks (bin -> usr/bin, …), a mask for every generator the host has,
 * etc/machine-id, etc/hosts and journald's settings for the pod (its
 * journal on disk, bounded, nothing dropped: docs/logs.md). */
int stage1_host_setup(int s1_fd, const Stage1HostOptions *o, NpError *err);
