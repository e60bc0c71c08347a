/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* "<the running program's directory>/<name>" if that exists (a build tree
 * keeps the helpers and the stage1 image beside the command), else NULL.
 * The result is the caller's. */
char *exe_path_sibling(const char *name);
