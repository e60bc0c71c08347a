/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libmount.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include "cgroup-attach.h"
#include "fd-util.h"
#include "mountinfo.h"
#include "proc-state.h"

void cgroup_membership_free(CgroupMembership *m, size_t n) {
        for (size_t i = 0; m && i < n; i++) {
                free(m[i].controllers);
                free(m[i].path);
        }
        free(m);
}

int cgroup_membership_parse(const char *text, size_t size, CgroupMembership **ret, size_t *ret_n) {
        CgroupMembership *list = NULL;
        const char *p = text, *end = text + size;
        size_t n = 0;
        int r = 0;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *eol = nl ? nl : end;
                const char *a = memchr(p, ':', (size_t) (eol - p));
                const char *b = a ? memchr(a + 1, ':', (size_t) (eol - a - 1)) : NULL;
                CgroupMembership *grown;
                unsigned long id;
                char *e;

                if (eol == p) {
                        p = eol + 1;
                        continue;
                }
                if (!b || b + 1 >= eol || b[1] != '/' || *p < '0' || *p > '9') {
                        r = -EBADMSG;
                        break;
                }
                errno = 0;
                id = strtoul(p, &e, 10);
                if (errno != 0 || e != a || id > UINT32_MAX) {
                        r = -EBADMSG;
                        break;
                }
                grown = reallocarray(list, n + 1, sizeof(CgroupMembership));
                if (!grown) {
                        r = -ENOMEM;
                        break;
                }
                list = grown;
                list[n] = (CgroupMembership){
                        .id = (unsigned) id,
                        .controllers = strndup(a + 1, (size_t) (b - a - 1)),
                        .path = strndup(b + 1, (size_t) (eol - b - 1)),
                };
                n++;
                if (!list[n - 1].controllers || !list[n - 1].path) {
                        r = -ENOMEM;
                        break;
                }
                p = nl ? nl + 1 : end;
        }
        if (r < 0) {
                cgroup_membership_free(list, n);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

/* Every controller (or "name=X") of the comma-separated list is an option of
 * this v1 mount. */
static bool mount_has_controllers(struct libmnt_fs *fs, const char *controllers) {
        _cleanup_free_ char *copy = strdup(controllers);
        char *save = NULL;
        bool any = false;

        if (!copy)
                return false;
        for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
                any = true;
                if (strncmp(c, "name=", 5) == 0 ? !mountinfo_has_option(fs, "name", c + 5)
                                                 : !mountinfo_has_option(fs, c, NULL))
                        return false;
        }
        return any;
}

typedef struct HierarchyWanted {
        const char *controllers; /* "" for cgroup2 */
        int fd;
} HierarchyWanted;

static int open_if_wanted(struct libmnt_fs *fs, void *userdata) {
        HierarchyWanted *w = userdata;
        const char *type = mnt_fs_get_fstype(fs), *target = mnt_fs_get_target(fs), *root = mnt_fs_get_root(fs);
        bool unified = w->controllers[0] == 0;

        if (!type || !target || !root || strcmp(root, "/") != 0)
                return 0;
        if (unified ? strcmp(type, "cgroup2") != 0
                    : strcmp(type, "cgroup") != 0 || !mount_has_controllers(fs, w->controllers))
                return 0;
        w->fd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return w->fd < 0 ? negative_errno() : 1;
}

int cgroup_hierarchy_open(const char *controllers, int *ret_fd) {
        HierarchyWanted w = { .controllers = controllers, .fd = -1 };
        int r = mountinfo_foreach(open_if_wanted, &w);

        if (r < 0)
                return r;
        if (r == 0)
                return -ENOMEDIUM;
        *ret_fd = w.fd;
        return 0;
}

int cgroup_path_open(int hierarchy_fd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        int fd;

        if (!path || path[0] != '/')
                return -EINVAL;
        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        do
                fd = (int) syscall(SYS_openat2, hierarchy_fd, path, &how, sizeof(how));
        while (fd < 0 && errno == EAGAIN);
        return fd < 0 ? negative_errno() : fd;
}

static int read_membership(int proc_fd, CgroupMembership **ret, size_t *ret_n) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = proc_read_file(proc_fd, "cgroup", 64 * 1024, &text, &size);
        if (r < 0)
                return r;
        return cgroup_membership_parse(text, size, ret, ret_n);
}

static const char *own_path(const CgroupMembership *own, size_t n_own, const CgroupMembership *m) {
        for (size_t i = 0; i < n_own; i++)
                if (own[i].id == m->id && strcmp(own[i].controllers, m->controllers) == 0)
                        return own[i].path;
        return NULL;
}

int cgroup_attach_open(int proc_fd, int proc_self_fd, int **ret_fds, size_t *ret_n) {
        CgroupMembership *target = NULL, *own = NULL;
        size_t n_target = 0, n_own = 0, n = 0;
        int *fds = NULL, r;

        r = read_membership(proc_fd, &target, &n_target);
        if (r >= 0)
                r = read_membership(proc_self_fd, &own, &n_own);
        if (r >= 0 && !(fds = calloc(n_target ? n_target : 1, sizeof(int))))
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n_target; i++) {
                _cleanup_close_ int h = -1, dir = -1;
                const char *mine = own_path(own, n_own, &target[i]);

                r = cgroup_hierarchy_open(target[i].controllers, &h);
                if (r == -ENOMEDIUM && mine && strcmp(mine, target[i].path) == 0) {
                        r = 0;
                        continue;
                }
                if (r < 0)
                        break;
                dir = cgroup_path_open(h, target[i].path, O_PATH | O_DIRECTORY);
                if (dir < 0) {
                        r = dir;
                        break;
                }
                fds[n] = openat(dir, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fds[n] < 0) {
                        r = negative_errno();
                        break;
                }
                n++;
        }
        cgroup_membership_free(target, n_target);
        cgroup_membership_free(own, n_own);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        close(fds[i]);
                free(fds);
                return r;
        }
        *ret_fds = fds;
        *ret_n = n;
        return 0;
}

int cgroup_attach_fds(const int *fds, size_t n) {
        for (size_t i = 0; i < n; i++) {
                /* "0": the writer itself, in v1 and v2 alike. */
                int r = fd_write_all(fds[i], "0\n", 2);

                if (r < 0)
                        return r;
        }
        return 0;
}
