/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Capability sets as 64-bit masks (bit N = capability N, the layout of the
 * Cap* lines of /proc/<pid>/status), set and read with the raw system calls
 * (capset/capget, prctl): libcap is not a dependency.
 */

#include <stdint.h>

#include "macro.h"

/* The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap,
 * else the one the headers know). */
unsigned capability_last(void);
/* All capabilities the kernel knows. */
uint64_t capability_all(void);

/* Drops from the bounding set every capability not in `keep`. Needs
 * CAP_SETPCAP in the effective set. */
int capability_bounding_set_limit(uint64_t keep);
int capability_bounding_set_get(uint64_t *ret);

/* capset(2) / capget(2) of the calling thread, version 3 (64 bits). */
int capability_set(uint64_t effective, uint64_t permitted, uint64_t inheritable);
int capability_get(uint64_t *ret_effective, uint64_t *ret_permitted, uint64_t *ret_inheritable);

/* Makes the ambient set exactly `ambient` (cleared, then each raised: each
 * must be permitted and inheritable already). */
int capability_ambient_set(uint64_t ambient);
int capability_ambient_get(uint64_t *ret);
