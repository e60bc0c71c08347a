/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* appc image ID: "sha512-" + the SHA-512 of the uncompressed image tar, in
 * lower-case hex. For an image directory (manifest + rootfs/), which has no
 * tar, the SHA-512 of its manifest file (docs/images.md). */
int image_compute_id(const char *path, char **ret);
/* The same for the image open at `fd` (read from its current offset; the
 * caller's descriptor stays open). */
int image_compute_id_fd(int fd, char **ret);
