/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * appc `user` and `group` strings resolved against an app's root, without NSS:
 * glibc's getpwnam() would load the image's libnss_*.so into a root process
 * (Docker CVE-2019-14271, docs/security.md). Everything is read through
 * `rootfd` with openat2(RESOLVE_IN_ROOT), so symlinks in the image cannot
 * point us at the host's files.
 *
 * Rules (rkt's, docs/images.md), in this order:
 *   "root"                 0
 *   decimal digits         that number (no sign; 4294967295 is not an id)
 *   "/absolute/path"       owner uid (group gid) of that path in the root,
 *                          lstat() semantics: a final symlink is not followed
 *   anything else          a name in the root's /etc/passwd (/etc/group)
 *
 * The files are parsed like glibc's files backend: lines "name:x:uid:gid:…"
 * (passwd at least 7 fields, group at least 4), empty lines and lines
 * starting with '#' skipped, a malformed line skipped, the first matching
 * line wins. See docs/images.md.
 */

#include <sys/types.h>

#include "error.h"
#include "macro.h"

#define PASSWD_FILE_MAX (4U * 1024U * 1024U) /* bytes of /etc/passwd or /etc/group */

/* `rootfd` is a directory fd (O_PATH is enough) for the app's root. On
 * failure `err` carries a message naming the user or group and the reason,
 * and -errno is returned: -ESRCH for a name not in the file, -ENOENT for a
 * missing path or file, -EINVAL for a malformed value. */
int passwd_resolve_user(int rootfd, const char *user, uid_t *ret, NpError *err);
int passwd_resolve_group(int rootfd, const char *group, gid_t *ret, NpError *err);
