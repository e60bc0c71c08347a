/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libmount.h>
#include <string.h>

#include "mountinfo.h"
#include "strv.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct libmnt_table *, mnt_unref_table);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct libmnt_iter *, mnt_free_iter);

int mountinfo_below(const char *path, char ***ret) {
        _cleanup_(mnt_unref_tablep) struct libmnt_table *t = NULL;
        _cleanup_(mnt_free_iterp) struct libmnt_iter *it = NULL;
        _cleanup_strv_free_ char **l = NULL;
        struct libmnt_fs *fs;
        size_t n = strlen(path);
        int r;

        if (n < 2 || path[0] != '/' || path[n - 1] == '/')
                return -EINVAL;
        t = mnt_new_table();
        it = mnt_new_iter(MNT_ITER_FORWARD);
        if (!t || !it)
                return -ENOMEM;
        r = mnt_table_parse_file(t, "/proc/self/mountinfo");
        if (r < 0)
                return r;
        while ((r = mnt_table_next_fs(t, it, &fs)) == 0) {
                const char *target = mnt_fs_get_target(fs);

                /* Separator-aware: /x/sys must not match /x/sysfoo. */
                if (!target || strncmp(target, path, n) != 0 || (target[n] != 0 && target[n] != '/'))
                        continue;
                if (strv_extend(&l, target[n] ? target + n + 1 : "") < 0)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        strv_sort(l);
        strv_uniq(l);
        *ret = TAKE_PTR(l);
        return 0;
}
