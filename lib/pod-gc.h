/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Releasing what a pod holds on the host (docs/lifecycle.md, "gc"): the
 * work of `nspawn-pod gc` and `rm` before they remove a pod's directory, and
 * all of the stage1 gc entrypoint's (gc/gc.c; rkt's stage0 removes the
 * directory itself). Nothing in the pod directory is trusted: its subcgroup
 * and netns files are checked before they are used, mounts are reached from
 * the directory's fd only.
 */

#include <stdint.h>

#include "error.h"

/* Releases the pod `name` (its UUID's canonical form) below `parent_fd`,
 * whose directory is open at `dir_fd`, in this order: kills what is left in
 * its cgroups and removes them; unmounts everything at or below its
 * directory; removes its network namespace (the netns file's), nspawn's
 * leftovers for it in /run/systemd/nspawn, the host's journal link to its
 * journal, and its machined registration where there is a machined.
 * `warn` is told what is ignored (a spoiled subcgroup file, say); may be
 * NULL. Returns 0, or -errno with `err` saying what is left. Idempotent. */
int pod_gc_release(int parent_fd, const char *name, int dir_fd, const uint8_t uuid[16], void (*warn)(const char *),
                   NpError *err);
