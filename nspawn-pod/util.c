/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "macro.h"
#include "manifest.h"
#include "verbs.h"

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, cap = 0;

        if (strcmp(path, "-") == 0)
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        else
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();

        for (;;) {
                ssize_t n;

                if (size == cap) {
                        size_t ncap = cap ? cap * 2 : 16384;
                        char *nbuf;

                        if (cap > max)
                                return -EFBIG;
                        nbuf = realloc(buf, ncap + 1);
                        if (!nbuf)
                                return -ENOMEM;
                        buf = nbuf;
                        cap = ncap;
                }
                n = read(fd, buf + size, cap - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }
        if (!buf && !(buf = malloc(1)))
                return -ENOMEM;
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int manifest_load_file(const char *path, ManifestKind kind, void **ret, NpError *err) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file(path, MANIFEST_SIZE_MAX, &data, &size);
        if (r < 0)
                return error_set(err, r, NULL, "cannot read it: %s",
                                 r == -EFBIG ? "larger than the 16 MiB limit" : strerror(-r));
        if (kind == MANIFEST_POD)
                return manifest_parse_pod(data, size, (Pod **) ret, err);
        return manifest_parse_image(data, size, (Image **) ret, err);
}

int manifest_load_exit_code(int r) {
        return r == -ENOMEM ? EXIT_INTERNAL : EXIT_INVALID;
}
