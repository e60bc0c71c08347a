/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Importing an appc image (ACI) into a directory: "manifest" (validated with
 * manifest_parse_image()) and "rootfs/". The image is untrusted, and we run as
 * root, so every file system operation happens on file descriptors below the
 * destination: each entry's parent is walked one component at a time with
 * O_NOFOLLOW, files are created with O_EXCL, and nothing is ever looked up by
 * a joined path string. See docs/images.md for what an image may contain and
 * what is refused (docs/security.md: symlink and hardlink escapes).
 */

#include <stdint.h>

#include "error.h"
#include "macro.h"
#include "manifest.h"

/* Defaults for ImageLimits fields left at 0. */
#define IMAGE_ENTRIES_MAX 1000000U                 /* archive entries / directory entries */
#define IMAGE_BYTES_MAX (32ULL * 1024 * 1024 * 1024) /* file contents written, in bytes */
#define IMAGE_DEPTH_MAX 256U                       /* path components below rootfs/ */
/* Memory kept for directory metadata, applied at the end (paths of every
 * directory): bounds what a hostile archive of many long directory names costs. */
#define IMAGE_DIR_PATHS_MAX (256U * 1024U * 1024U)

typedef struct ImageLimits {
        uint64_t max_entries; /* 0: IMAGE_ENTRIES_MAX */
        uint64_t max_bytes;   /* 0: IMAGE_BYTES_MAX */
} ImageLimits;

/* Imports the image at `path` into the directory `dest_dirfd`, which must be
 * empty (-ENOTEMPTY otherwise, and then it is left alone). `path` is an ACI
 * file (tar, plain or gzip/bzip2/xz compressed, recognised by content) or a
 * directory holding "manifest" and "rootfs/". Writes dest/rootfs/… and then
 * dest/manifest (the manifest bytes, once validated, mode 0644).
 *
 * On failure everything written below `dest_dirfd` is removed again, `err`
 * says what is wrong with `path` as its path, naming the entry at fault, and
 * -errno is returned. `ret_manifest` may be NULL. `limits` may be NULL. */
int image_import(const char *path, int dest_dirfd, Image **ret_manifest, NpError *err);
int image_import_with_limits(const char *path, int dest_dirfd, const ImageLimits *limits,
                             Image **ret_manifest, NpError *err);

