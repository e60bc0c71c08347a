/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The one tree remover: pod directories, image store entries, staging trees
 * of render -o. What it removes may have been built by a hostile app, so it
 * works on file descriptors only, never follows a symlink, never enters
 * another mount, and holds a constant number of file descriptors whatever
 * the depth.
 */

/* Removes `name` below `dirfd` and, if it is a directory, everything in it.
 * A mount point found inside is left alone and makes this return -EBUSY
 * after removing everything else. -ENOENT if `name` does not exist. */
int rm_rf_at(int dirfd, const char *name);

/* Removes everything inside the directory `dirfd`, which itself stays; same
 * rules as rm_rf_at(). */
int rm_rf_children(int dirfd);
