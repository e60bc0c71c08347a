/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "passwd.h"

typedef struct Database {
        const char *kind;    /* "user", "group": for messages */
        const char *file;    /* below the root */
        unsigned min_fields; /* passwd(5): 7, group(5): 4 */
        bool want_group;     /* path values: owner uid or group gid */
} Database;

static const Database db_passwd = { "user", "etc/passwd", 7, false };
static const Database db_group = { "group", "etc/group", 4, true };

/* Decimal digits only: no sign, no spaces, no hex. 4294967295 is (uid_t) -1,
 * which chown() and setresuid() read as "unchanged", so it is not an id. */
static int parse_id(const char *s, size_t n, uint32_t *ret) {
        uint64_t v = 0;

        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t) (s[i] - '0');
                if (v >= UINT32_MAX)
                        return -ERANGE;
        }
        *ret = (uint32_t) v;
        return 0;
}

static bool all_digits(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static int resolve_path(int rootfd, const char *value, const Database *db, uint32_t *ret, NpError *err) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        /* O_PATH|O_NOFOLLOW opens a final symlink itself (lstat semantics);
         * the components before it resolve inside the root. */
        fd = fd_open_in_root(rootfd, value, O_PATH | O_NOFOLLOW, 0, false);
        if (fd == -ENOENT)
                return error_set(err, fd, NULL, "%s \"%s\": no such file in the image", db->kind, value);
        if (fd == -ENOTDIR)
                return error_set(err, fd, NULL,
                                 "%s \"%s\": a component of the path is not a directory in the image", db->kind,
                                 value);
        if (fd < 0)
                return error_set(err, fd, NULL, "%s \"%s\": cannot look up the path in the image: %s", db->kind,
                                 value, strerror(-fd));
        if (fstat(fd, &st) < 0)
                return error_set(err, negative_errno(), NULL,
                                 "%s \"%s\": cannot inspect the path in the image: %m", db->kind, value);
        *ret = db->want_group ? (uint32_t) st.st_gid : (uint32_t) st.st_uid;
        return 0;
}

/* Finds `name` in the passwd or group data: the first well-formed line whose
 * first field is `name` wins, as with glibc. Malformed lines (too few fields,
 * an empty name, a bad id, a NUL byte) are skipped rather than fatal: one
 * broken line in an image's /etc/passwd should not stop every other user. */
static int find_name(const char *buf, size_t size, const char *name, const Database *db, uint32_t *ret) {
        size_t name_len = strlen(name);
        const char *p = buf, *end = buf + size;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *le = nl ? nl : end;
                const char *fields[4] = {}; /* starts of the first fields */
                size_t lens[4] = {};
                unsigned n_fields = 0;
                const char *line = p;
                uint32_t id;

                p = nl ? nl + 1 : end;
                if (le == line || *line == '#' || memchr(line, 0, (size_t) (le - line)))
                        continue;

                for (const char *f = line;;) {
                        const char *colon = memchr(f, ':', (size_t) (le - f));
                        const char *fe = colon ? colon : le;

                        if (n_fields < ELEMENTSOF(fields)) {
                                fields[n_fields] = f;
                                lens[n_fields] = (size_t) (fe - f);
                        }
                        n_fields++;
                        if (!colon)
                                break;
                        f = colon + 1;
                }
                if (n_fields < db->min_fields || lens[0] == 0)
                        continue;
                if (lens[0] != name_len || memcmp(fields[0], name, name_len) != 0)
                        continue;
                if (parse_id(fields[2], lens[2], &id) < 0)
                        continue;
                *ret = id;
                return 0;
        }
        return -ESRCH;
}

static int resolve_name(int rootfd, const char *name, const Database *db, uint32_t *ret, NpError *err) {
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        if (strpbrk(name, ":\n"))
                return error_set(err, -EINVAL, NULL, "%s \"%s\": a name cannot contain ':' or a newline",
                                 db->kind, name);

        r = fd_read_file_in_root(rootfd, db->file, PASSWD_FILE_MAX, &buf, &size);
        switch (r) {
        case 0:
                break;
        case -ENOENT:
                return error_set(err, r, NULL, "%s \"%s\" not found: the image has no /%s", db->kind, name,
                                 db->file);
        case -EBADFD:
                return error_set(err, r, NULL, "%s \"%s\": /%s in the image is not a regular file", db->kind,
                                 name, db->file);
        case -EFBIG:
                return error_set(err, r, NULL, "%s \"%s\": /%s in the image is larger than %u bytes", db->kind,
                                 name, db->file, PASSWD_FILE_MAX);
        default:
                return error_set(err, r, NULL, "%s \"%s\": cannot read /%s in the image: %s", db->kind, name,
                                 db->file, strerror(-r));
        }

        r = find_name(buf, size, name, db, ret);
        if (r < 0)
                return error_set(err, r, NULL, "%s \"%s\" not found in the image's /%s", db->kind, name,
                                 db->file);
        return 0;
}

static int resolve(int rootfd, const char *value, const Database *db, uint32_t *ret, NpError *err) {
        uint32_t id = 0;
        int r = 0;

        if (rootfd < 0)
                return error_set(err, -EBADF, NULL, "no root directory given to resolve the %s", db->kind);
        if (!value || !*value)
                return error_set(err, -EINVAL, NULL, "empty %s", db->kind);

        if (strcmp(value, "root") == 0)
                id = 0;
        else if (all_digits(value)) {
                r = parse_id(value, strlen(value), &id);
                if (r < 0)
                        return error_set(err, r, NULL, "%s \"%s\" is out of range (0 to %u)", db->kind, value,
                                         UINT32_MAX - 1);
        } else if (value[0] == '/')
                r = resolve_path(rootfd, value, db, &id, err);
        else
                r = resolve_name(rootfd, value, db, &id, err);
        if (r < 0)
                return r;
        *ret = id;
        return 0;
}

int passwd_resolve_user(int rootfd, const char *user, uid_t *ret, NpError *err) {
        uint32_t id;
        int r;

        r = resolve(rootfd, user, &db_passwd, &id, err);
        if (r < 0)
                return r;
        *ret = (uid_t) id;
        return 0;
}

int passwd_resolve_group(int rootfd, const char *group, gid_t *ret, NpError *err) {
        uint32_t id;
        int r;

        r = resolve(rootfd, group, &db_group, &id, err);
        if (r < 0)
                return r;
        *ret = (gid_t) id;
        return 0;
}
