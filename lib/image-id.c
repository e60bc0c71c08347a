/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "image-id.h"
#include "macro.h"
#include "sha512.h"


static int finish(Sha512 *s, char **ret) {
        char hex[129], *id;

        sha512_hex(s, hex);
        if (asprintf(&id, "sha512-%s", hex) < 0)
                return -ENOMEM;
        *ret = id;
        return 0;
}

int image_compute_id(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return negative_errno();
        return image_compute_id_fd(fd, ret);
}

int image_compute_id_fd(int fd, char **ret) {
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        struct archive_entry *e;
        struct stat st;
        Sha512 s;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        sha512_init(&s);

        if (S_ISDIR(st.st_mode)) {
                _cleanup_free_ char *m = NULL;
                size_t size;
                int r = fd_read_file_in_root(fd, "manifest", 16 * 1024 * 1024, &m, &size);

                if (r < 0)
                        return r;
                sha512_update(&s, m, size);
                return finish(&s, ret);
        }

        /* The "raw" format hands over the decompressed stream as it is: the
         * tar itself, which is what appc hashes. */
        a = archive_read_new();
        if (!a)
                return -ENOMEM;
        if (archive_read_support_filter_all(a) != ARCHIVE_OK || archive_read_support_format_raw(a) != ARCHIVE_OK ||
            archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK)
                return -EINVAL;
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t off;
                int r = archive_read_data_block(a, &buf, &size, &off);

                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK)
                        return -EIO;
                sha512_update(&s, buf, size);
        }
        return finish(&s, ret);
}
