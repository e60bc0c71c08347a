/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The host flavor's stage1 root: our helpers and a skeleton; everything else
 * (systemd, its units, libraries) comes from the host's /usr, bound read-only
 * over the stage1's /usr by systemd-nspawn, so pods always run the host's
 * systemd and nothing of it is copied.
 */

#include <stdint.h>

#include "error.h"

typedef struct Stage1HostOptions {
        uint8_t uuid[16];        /* machine id */
        const char *hostname;    /* for /etc/hosts */
        const char *libexec_dir; /* where prepare-app and reaper are */
} Stage1HostOptions;

/* Fills the (empty) stage1 root open at `s1_fd`. */
int stage1_host_assemble(int s1_fd, const Stage1HostOptions *o, NpError *err);
