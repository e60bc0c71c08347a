/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "exe-path.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "verbs.h"

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;

        if (strcmp(path, "-") == 0)
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        else
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        return fd_read_all(fd, max, ret, ret_size);
}

const char *libexec_dir(void) {
        static char *found;
        const char *env = getenv("NSPAWN_POD_LIBEXEC");

        if (env && *env)
                return env;
        /* A build tree: the helpers are in libexec/ beside the command. */
        if (!found)
                found = exe_path_sibling("libexec");
        return found ? found : LIBEXECDIR;
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

int parse_bool_option(const char *opt, const char *v, bool *ret) {
        if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
                *ret = true;
        else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
                *ret = false;
        else {
                log_error("%s expects yes or no, not \"%s\"", opt, v);
                return -EINVAL;
        }
        return 0;
}
