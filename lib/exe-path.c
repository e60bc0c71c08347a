/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exe-path.h"
#include "macro.h"

char *exe_path_sibling(const char *name) {
        _cleanup_free_ char *exe = realpath("/proc/self/exe", NULL);
        char *slash = exe ? strrchr(exe, '/') : NULL, *p;

        if (!slash)
                return NULL;
        *slash = 0;
        if (asprintf(&p, "%s/%s", exe, name) < 0)
                return NULL;
        if (access(p, F_OK) < 0)
                return mfree(p);
        return p;
}
