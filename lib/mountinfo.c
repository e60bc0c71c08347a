/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "macro.h"
#include "mountinfo.h"
#include "strv.h"

int mountinfo_foreach(mountinfo_func_t f, void *userdata) {
        _cleanup_(mnt_unref_tablep) struct libmnt_table *t = mnt_new_table();
        _cleanup_(mnt_free_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
        struct libmnt_fs *fs;
        int r;

        if (!t || !it)
                return -ENOMEM;
        r = mnt_table_parse_file(t, "/proc/self/mountinfo");
        if (r < 0)
                return r;
        while ((r = mnt_table_next_fs(t, it, &fs)) == 0) {
                int k = f(fs, userdata);

                if (k != 0)
                        return k;
        }
        return r < 0 ? r : 0;
}

bool mountinfo_path_is_below(const char *target, const char *prefix, size_t len) {
        return target && strncmp(target, prefix, len) == 0 && (target[len] == 0 || target[len] == '/');
}

bool mountinfo_has_option(struct libmnt_fs *fs, const char *name, const char *value) {
        char *v = NULL;
        size_t size = 0;

        if (mnt_fs_get_option(fs, name, &v, &size) != 0)
                return false;
        if (!value)
                return !v;
        return v && size == strlen(value) && strncmp(v, value, size) == 0;
}

typedef struct Below {
        const char *path;
        size_t len;
        char **l;
} Below;

static int add_below(struct libmnt_fs *fs, void *userdata) {
        Below *b = userdata;
        const char *target = mnt_fs_get_target(fs);

        if (!mountinfo_path_is_below(target, b->path, b->len))
                return 0;
        return strv_extend(&b->l, target[b->len] ? target + b->len + 1 : "");
}

int mountinfo_below(const char *path, char ***ret) {
        Below b = { .path = path, .len = strlen(path) };
        int r;

        if (b.len < 2 || path[0] != '/' || path[b.len - 1] == '/')
                return -EINVAL;
        r = mountinfo_foreach(add_below, &b);
        if (r >= 0 && !b.l && !(b.l = calloc(1, sizeof(char *))))
                r = -ENOMEM;
        if (r < 0) {
                strv_free(b.l);
                return r;
        }
        strv_sort(b.l);
        strv_uniq(b.l);
        *ret = b.l;
        return 0;
}
