/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Extracted images shared by every pod, like rkt's tree store:
 * <data dir>/images/<image id>/{manifest,rootfs}. An ACI is imported once,
 * keyed by its ID (the SHA-512 of its uncompressed tar, so the key covers
 * every byte of it); pods then get their own writable view through overlayfs
 * (lower: the stored rootfs, read-only; upper: the pod's). Creating hundreds
 * of files per pod was the largest cost of starting one.
 */

#include "error.h"
#include "manifest.h"

/* The store of app images, below the data directory. */
#define IMAGE_STORE_IMAGES "images"

/* Makes sure the ACI at `path` is in the store below `data_fd` and returns
 * its ID, an O_PATH fd of its directory and its manifest. Concurrent imports
 * of the same image are safe: each works in a private temporary directory
 * and the first rename wins. -EISDIR for an image directory, which is not
 * stored (its ID covers only its manifest): the caller imports it per pod. */
int image_store_get(int data_fd, const char *path, char **ret_id, int *ret_dir_fd, Image **ret_manifest,
                    NpError *err);

/* The stored image named `ref` ("example.com/app" or "example.com/app:1.0",
 * the version label), the newest one of that name; as image_store_get().
 * -ENOENT (with a message) when there is none. */
int image_store_find(int data_fd, const char *ref, char **ret_id, int *ret_dir_fd, Image **ret_manifest,
                     NpError *err);

/* Opens <data dir>/images/<id> (O_PATH). -ENOENT if absent or incomplete. */
int image_store_open(int data_fd, const char *id, int *ret_dir_fd);

/* The same with another store directory (one or more components below the
 * data directory, created 0700): the stage1's is rkt's tree store,
 * "cas/tree" (lib/stage1.h). */
int image_store_get_in(int data_fd, const char *store, const char *path, char **ret_id, int *ret_dir_fd,
                       Image **ret_manifest, NpError *err);
int image_store_open_in(int data_fd, const char *store, const char *id, int *ret_dir_fd);
