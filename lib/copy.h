/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Copies the tree at `srcfd` (a directory) into the directory `dstfd`,
 * keeping types, modes, owners and timestamps, symlinks as symlinks (never
 * followed), device nodes and FIFOs as nodes; sockets are skipped. Used for
 * rkt's copy-up of a Docker image's content into its implicit volumes
 * (docs/volumes.md). Stays on the source's file system (what is mounted
 * below it is skipped). Not kept: extended attributes (file capabilities
 * among them), hard links (each name gets a copy), holes (sparse files are
 * written out). Stops at COPY_DEPTH_MAX levels (-ELOOP). Existing entries in
 * `dstfd` are an error (-EEXIST): it is meant for a new directory. */
#define COPY_DEPTH_MAX 256
int copy_tree_at(int srcfd, int dstfd);
