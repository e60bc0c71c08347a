/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "cgroup.h"
#include "error.h"
#include "fd-util.h"
#include "manifest.h"
#include "names.h"
#include "pod-net.h"
#include "pod.h"
#include "proc-state.h"
#include "strv.h"

static const char *const state_dirs[_POD_STATE_MAX] = {
        [POD_STATE_PREPARE] = "prepare",
        [POD_STATE_PREPARED] = "prepared",
        [POD_STATE_RUN] = "run",
        [POD_STATE_EXITED_GARBAGE] = "exited-garbage",
        [POD_STATE_GARBAGE] = "garbage",
};

const char *pod_state_dir(PodState s) {
        return s >= 0 && s < _POD_STATE_MAX ? state_dirs[s] : NULL;
}

int pod_open_pods_dir(const char *data_dir, int *ret_fd) {
        _cleanup_close_ int data = -1, pods = -1;
        int r;

        if (!path_is_absolute(data_dir))
                return -EINVAL;
        r = fd_mkdir_p(AT_FDCWD, data_dir, 0755, &data);
        if (r < 0)
                return r;
        /* Pod directories hold images and status: root only. */
        pods = fd_mkdir_open(data, "pods", 0700, O_PATH);
        if (pods < 0)
                return pods;
        for (PodState s = 0; s < _POD_STATE_MAX; s++)
                if (mkdirat(pods, state_dirs[s], 0700) < 0 && errno != EEXIST)
                        return negative_errno();
        *ret_fd = TAKE_FD(pods);
        return 0;
}

int pod_lock(int dir_fd) {
        if (flock(dir_fd, LOCK_EX | LOCK_NB) < 0)
                return negative_errno();
        return 0;
}

int pod_create(int pods_fd, uint8_t ret_uuid[16], int *ret_lock_fd) {
        _cleanup_close_ int prep = -1, fd = -1;
        char name[37], tmp[sizeof(POD_NEW_PREFIX) + 37];
        sd_id128_t id;
        int r;

        prep = fd_open_dir_nofollow(pods_fd, state_dirs[POD_STATE_PREPARE], O_PATH);
        if (prep < 0)
                return prep;
        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        uuid_format(id.bytes, name);
        /* Created under a hidden name and renamed once locked: a pod must
         * never be seen in prepare/ unlocked while it is being created, or a
         * concurrent gc would take it for an aborted preparation. */
        (void) snprintf(tmp, sizeof(tmp), "%s%s", POD_NEW_PREFIX, name);
        if (mkdirat(prep, tmp, 0700) < 0)
                return negative_errno();
        fd = fd_open_dir_nofollow(prep, tmp, O_RDONLY);
        r = fd < 0 ? fd : pod_lock(fd);
        if (r >= 0 && renameat2(prep, tmp, prep, name, RENAME_NOREPLACE) < 0)
                r = negative_errno();
        if (r < 0) {
                (void) unlinkat(prep, tmp, AT_REMOVEDIR);
                return r;
        }
        memcpy(ret_uuid, id.bytes, 16);
        *ret_lock_fd = TAKE_FD(fd);
        return 0;
}

int pod_move(int pods_fd, const uint8_t uuid[16], PodState from, PodState to) {
        _cleanup_close_ int a = -1, b = -1;
        char name[37];

        a = fd_open_dir_nofollow(pods_fd, state_dirs[from], O_PATH);
        if (a < 0)
                return a;
        b = fd_open_dir_nofollow(pods_fd, state_dirs[to], O_PATH);
        if (b < 0)
                return b;
        uuid_format(uuid, name);
        /* RENAME_NOREPLACE: two racing movers must not clobber each other. */
        if (renameat2(a, name, b, name, RENAME_NOREPLACE) < 0)
                return negative_errno();
        return 0;
}

int pod_open(int pods_fd, const uint8_t uuid[16], PodState state, int *ret_fd) {
        _cleanup_close_ int d = -1;
        char name[37];
        int fd;

        d = fd_open_dir_nofollow(pods_fd, state_dirs[state], O_PATH);
        if (d < 0)
                return d;
        uuid_format(uuid, name);
        fd = fd_open_dir_nofollow(d, name, O_RDONLY);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

/* ---- the pod lifecycle ---------------------------------------------------- */

static const char *const status_names[_POD_STATUS_MAX] = {
        [POD_STATUS_PREPARING] = "preparing",
        [POD_STATUS_ABORTED_PREPARE] = "aborted-prepare",
        [POD_STATUS_PREPARED] = "prepared",
        [POD_STATUS_RUNNING] = "running",
        [POD_STATUS_EXITED] = "exited",
        [POD_STATUS_EXITED_GARBAGE] = "exited-garbage",
        [POD_STATUS_GARBAGE] = "garbage",
        [POD_STATUS_DELETING] = "deleting",
};

const char *pod_status_to_string(PodStatus s) {
        return s >= 0 && s < _POD_STATUS_MAX ? status_names[s] : NULL;
}

PodStatus pod_status_of(PodState dir, bool locked) {
        switch (dir) {
        case POD_STATE_PREPARE:
                return locked ? POD_STATUS_PREPARING : POD_STATUS_ABORTED_PREPARE;
        case POD_STATE_PREPARED:
                return POD_STATUS_PREPARED;
        case POD_STATE_RUN:
                return locked ? POD_STATUS_RUNNING : POD_STATUS_EXITED;
        case POD_STATE_EXITED_GARBAGE:
                return locked ? POD_STATUS_DELETING : POD_STATUS_EXITED_GARBAGE;
        case POD_STATE_GARBAGE:
                return locked ? POD_STATUS_DELETING : POD_STATUS_GARBAGE;
        case _POD_STATE_MAX:
        default:
                return _POD_STATUS_MAX;
        }
}

int pod_is_locked(int dir_fd) {
        /* A new open file description: flock() on one that holds a lock
         * (ours, as a gc's) would convert that lock, not test for others. */
        _cleanup_close_ int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return negative_errno();
        if (flock(fd, LOCK_SH | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 1 : negative_errno();
        return 0; /* the probe lock goes with the fd */
}

static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int pod_ref_parse(const char *ref, char ret_hex[static 33]) {
        char hex[33];
        size_t n, nhex = 0;
        bool dashed;

        if (!ref)
                return -EINVAL;
        n = strlen(ref);
        dashed = strchr(ref, '-') != NULL;
        if (n > 36)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                char c = ref[i];

                /* With dashes, exactly where 8-4-4-4-12 has them. */
                if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
                        if (c != '-')
                                return -EINVAL;
                        continue;
                }
                if (!is_hex(c) || nhex >= 32)
                        return -EINVAL;
                hex[nhex++] = (char) (c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
        }
        if (nhex < POD_REF_PREFIX_MIN)
                return -EINVAL;
        hex[nhex] = 0;
        memcpy(ret_hex, hex, nhex + 1);
        return 0;
}

static void uuid_hex(const uint8_t uuid[16], char buf[static 33]) {
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < 16; i++) {
                buf[2 * i] = digits[uuid[i] >> 4];
                buf[2 * i + 1] = digits[uuid[i] & 15];
        }
        buf[32] = 0;
}

/* A directory entry that names a pod: the canonical UUID form, nothing else
 * (".new-…", temporary files, "x" are not pods). */
static bool entry_is_pod(const char *name, uint8_t ret_uuid[16]) {
        char canon[37];
        uint8_t u[16];

        if (strlen(name) != 36 || uuid_parse(name, u) < 0 || strcmp(uuid_format(u, canon), name) != 0)
                return false;
        memcpy(ret_uuid, u, 16);
        return true;
}

static int entry_cmp(const void *a, const void *b) {
        const PodEntry *x = a, *y = b;
        int c = memcmp(x->uuid, y->uuid, 16);

        return c != 0 ? c : (int) x->state - (int) y->state;
}

static int list_state(int pods_fd, PodState s, PodEntry **list, size_t *n) {
        _cleanup_close_ int fd = fd_open_dir_nofollow(pods_fd, state_dirs[s], O_RDONLY);
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        fd = -1; /* the DIR owns it now */
        while ((errno = 0, de = readdir(d))) {
                PodEntry e = { .state = s };
                PodEntry *grown;

                if (!entry_is_pod(de->d_name, e.uuid))
                        continue;
                if (de->d_type != DT_DIR) {
                        struct stat st;

                        /* Only directories are pods (a symlink never is). */
                        if (de->d_type != DT_UNKNOWN ||
                            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                                continue;
                }
                grown = reallocarray(*list, *n + 1, sizeof(PodEntry));
                if (!grown) {
                        r = -ENOMEM;
                        break;
                }
                *list = grown;
                (*list)[(*n)++] = e;
        }
        if (r == 0 && errno != 0)
                r = negative_errno();
        closedir(d);
        return r;
}

int pod_list(int pods_fd, PodEntry **ret, size_t *ret_n) {
        _cleanup_free_ PodEntry *list = NULL;
        size_t n = 0, k = 0;
        int r;

        /* Lifecycle order (the enum's): a pod moves only forward. */
        for (PodState s = 0; s < _POD_STATE_MAX; s++) {
                r = list_state(pods_fd, s, &list, &n);
                if (r < 0)
                        return r;
        }
        if (n > 0)
                qsort(list, n, sizeof(PodEntry), entry_cmp);
        for (size_t i = 0; i < n; i++) {
                /* Seen twice: it moved while we read; the later state is current. */
                if (i + 1 < n && memcmp(list[i].uuid, list[i + 1].uuid, 16) == 0)
                        continue;
                list[k++] = list[i];
        }
        *ret = TAKE_PTR(list);
        *ret_n = k;
        return 0;
}

int pod_find(int pods_fd, const char *hex, PodEntry **ret, size_t *ret_n) {
        _cleanup_free_ PodEntry *list = NULL;
        size_t n = 0, k = 0, len = strlen(hex);
        int r;

        r = pod_list(pods_fd, &list, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                char h[33];

                uuid_hex(list[i].uuid, h);
                if (strncmp(h, hex, len) == 0)
                        list[k++] = list[i];
        }
        *ret = TAKE_PTR(list);
        *ret_n = k;
        return 0;
}

int pod_open_any(int pods_fd, const uint8_t uuid[16], PodState *ret_state, int *ret_fd) {
        /* Forward order catches a pod that moves on while we look; a second
         * round is for good measure. */
        for (int round = 0; round < 2; round++)
                for (PodState s = 0; s < _POD_STATE_MAX; s++) {
                        int fd, r = pod_open(pods_fd, uuid, s, &fd);

                        if (r == -ENOENT)
                                continue;
                        if (r < 0)
                                return r;
                        *ret_state = s;
                        *ret_fd = fd;
                        return 0;
                }
        return -ENOENT;
}

char *pod_cgroup_name(const uint8_t uuid[16], char buf[static 49]) {
        char u[37];

        (void) snprintf(buf, 49, "nspawn-pod-%s", uuid_format(uuid, u));
        return buf;
}

char **pod_cgroup_names(const uint8_t uuid[16]) {
        _cleanup_strv_free_ char **l = NULL;
        char own[49], u[37], esc[37 * 4];
        size_t n = 0;

        uuid_format(uuid, u);
        for (const char *p = u; *p; p++)
                if (*p == '-') {
                        memcpy(esc + n, "\\x2d", 4);
                        n += 4;
                } else
                        esc[n++] = *p;
        esc[n] = 0;
        if (strv_extend(&l, pod_cgroup_name(uuid, own)) < 0 ||
            strv_extendf(&l, "machine-nspawn\\x2dpod\\x2d%s.scope", esc) < 0 ||
            strv_extendf(&l, "machine-rkt\\x2d%s.scope", esc) < 0)
                return NULL;
        return TAKE_PTR(l);
}

/* Opens `path` below `dir_fd`: no symlink anywhere, nothing above `dir_fd`. */
static int open_below(int dir_fd, const char *path, int flags) {
        return fd_open_in_root(dir_fd, path, flags, 0, true);
}

/* A small regular file below `dir_fd`, NUL-terminated, with its mtime. */
static int read_small(int dir_fd, const char *path, size_t max, char **ret, size_t *ret_size,
                      struct timespec *ret_mtime) {
        /* O_NONBLOCK: a FIFO must not hang us; fd_read_regular() refuses it. */
        _cleanup_close_ int fd = open_below(dir_fd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);

        if (fd < 0)
                return fd;
        return fd_read_regular(fd, max, ret, ret_size, ret_mtime);
}

static int mtime_of(int dir_fd, const char *path, struct timespec *ret) {
        _cleanup_close_ int fd = open_below(dir_fd, path, O_PATH);
        struct stat st;

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        *ret = st.st_mtim;
        return 0;
}

/* "N" or "N\n", N decimal without sign, leading zeros or blanks, <= max. */
static int parse_decimal_line(const char *s, size_t size, unsigned long max, unsigned long *ret) {
        unsigned long v = 0;
        size_t i = 0;

        if (size > 0 && s[size - 1] == '\n')
                size--;
        if (size == 0 || size > 20 || (s[0] == '0' && size > 1))
                return -EINVAL;
        for (; i < size; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (v > (max - (unsigned long) (s[i] - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (unsigned long) (s[i] - '0');
        }
        *ret = v;
        return 0;
}

static int read_pid(int dir_fd, const char *name, pid_t *ret) {
        _cleanup_free_ char *s = NULL;
        unsigned long v;
        size_t size;
        int r;

        r = read_small(dir_fd, name, 32, &s, &size, NULL);
        if (r < 0)
                return r;
        r = parse_decimal_line(s, size, INT32_MAX, &v);
        if (r < 0 || v == 0)
                return -EINVAL;
        *ret = (pid_t) v;
        return 0;
}

int pod_read_pid(int dir_fd, pid_t *ret) {
        return read_pid(dir_fd, "ppid", ret);
}

int pod_pin_nspawn(int dir_fd, const uint8_t uuid[16], int *ret_pidfd, pid_t *ret_pid) {
        _cleanup_strv_free_ char **names = pod_cgroup_names(uuid);
        _cleanup_close_ int pidfd = -1;
        pid_t pid;
        int r;

        if (!names)
                return -ENOMEM;
        r = pod_read_pid(dir_fd, &pid);
        if (r < 0)
                return -ESRCH;
        pidfd = proc_pidfd_open(pid);
        if (pidfd < 0)
                return -ESRCH;
        r = cgroup_pid_in_pod(pid, names);
        if (r == -ESRCH || (r >= 0 && proc_pidfd_send_signal(pidfd, 0) < 0))
                return -ESRCH;
        if (r <= 0)
                return r < 0 ? r : -EPERM;
        *ret_pidfd = TAKE_FD(pidfd);
        *ret_pid = pid;
        return 0;
}

int pod_read_pid_file(int dir_fd, pid_t *ret, bool *ret_is_ppid) {
        int r = read_pid(dir_fd, "pid", ret);

        if (r != -ENOENT) {
                if (r >= 0 && ret_is_ppid)
                        *ret_is_ppid = false;
                return r;
        }
        r = read_pid(dir_fd, "ppid", ret);
        if (r >= 0 && ret_is_ppid)
                *ret_is_ppid = true;
        return r;
}

int pod_read_subcgroup(int dir_fd, const uint8_t uuid[16], char **ret) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *s = NULL;
        size_t size;
        int r;

        r = read_small(dir_fd, "subcgroup", 4096, &s, &size, NULL);
        if (r < 0)
                return r;
        if (size > 0 && s[size - 1] == '\n')
                s[--size] = 0;
        names = pod_cgroup_names(uuid);
        if (!names)
                return -ENOMEM;
        if (strlen(s) != size || !cgroup_pod_path_is_valid(s, names))
                return -EINVAL;
        *ret = TAKE_PTR(s);
        return 0;
}

/* One line from an untrusted file, made safe to print: the first line,
 * printable ASCII only, at most 256 bytes. */
static char *sanitize_line(const char *s) {
        size_t n = strcspn(s, "\n");
        char *c;

        if (n > 256)
                n = 256;
        c = strndup(s, n);
        if (!c)
                return NULL;
        for (char *p = c; *p; p++)
                if (*p < 0x20 || *p > 0x7e)
                        *p = '?';
        return c;
}

/* Where the reapers' status files are: stage1/rootfs/rkt/status, or, for a
 * pod rkt's stage0 prepared with overlayfs (overlay-prepared), the upper
 * layer of its stage1's overlay, which outlives the mount (rkt's rule). */
static char *status_dir(int dir_fd) {
        _cleanup_free_ char *id = NULL;
        size_t size;
        char *p;

        if (faccessat(dir_fd, "overlay-prepared", F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
            read_small(dir_fd, "stage1TreeStoreID", 256, &id, &size, NULL) >= 0 && size > 0 && strlen(id) == size &&
            !strchr(id, '/') && strcmp(id, ".") != 0 && strcmp(id, "..") != 0) {
                if (asprintf(&p, "overlay/%s/upper/rkt/status", id) < 0)
                        return NULL;
                return p;
        }
        return strdup("stage1/rootfs/rkt/status");
}

static int read_app_status(int dir_fd, const char *dir, PodApp *a) {
        _cleanup_free_ char *path = NULL, *s = NULL;
        unsigned long v;
        size_t size;
        int r;

        a->status = -1;
        if (asprintf(&path, "%s/%s", dir, a->name) < 0)
                return -ENOMEM;
        r = read_small(dir_fd, path, 32, &s, &size, NULL);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && parse_decimal_line(s, size, 255, &v) >= 0)
                a->status = (int) v;
        free(s);
        s = NULL;
        free(path);
        if (asprintf(&path, "%s/%s.end", dir, a->name) < 0)
                return -ENOMEM;
        r = read_small(dir_fd, path, 4096, &s, &size, NULL);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && strlen(s) == size && !(a->end = sanitize_line(s)))
                return -ENOMEM;
        return 0;
}

/* The newest mtime of the files in the pod's /rkt/status/. */
static void newest_status(int dir_fd, const char *dir, struct timespec *ret) {
        _cleanup_close_ int fd = open_below(dir_fd, dir, O_RDONLY | O_DIRECTORY);
        struct timespec best = {};
        struct dirent *de;
        unsigned seen = 0;
        DIR *d;

        if (fd < 0 || !(d = fdopendir(fd)))
                return;
        fd = -1;
        while ((de = readdir(d)) && seen++ < 4096) {
                struct stat st;

                if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (st.st_mtim.tv_sec > best.tv_sec ||
                    (st.st_mtim.tv_sec == best.tv_sec && st.st_mtim.tv_nsec > best.tv_nsec))
                        best = st.st_mtim;
        }
        closedir(d);
        *ret = best;
}

char *pod_info_networks_text(const PodInfo *info) {
        _cleanup_strv_free_ char **l = NULL;

        for (size_t i = 0; i < info->n_networks; i++)
                STRV_FOREACH(a, info->networks[i].addresses)
                        if (strv_extendf(&l, "%s:%s=%.*s", info->networks[i].name, strchr(*a, ':') ? "ip6" : "ip4",
                                         (int) strcspn(*a, "/"), *a) < 0)
                                return NULL;
        return l ? strv_join(l, ",") : NULL;
}

PodInfo *pod_info_free(PodInfo *info) {
        if (!info)
                return NULL;
        for (size_t i = 0; i < info->n_apps; i++) {
                free(info->apps[i].name);
                free(info->apps[i].end);
        }
        free(info->apps);
        pod_net_infos_free(info->networks, info->n_networks);
        free(info);
        return NULL;
}

int pod_info_read(int dir_fd, const uint8_t uuid[16], PodState state, PodInfoFlags flags, PodInfo **ret) {
        _cleanup_(pod_info_freep) PodInfo *info = calloc(1, sizeof(PodInfo));
        _cleanup_free_ char *manifest = NULL, *code = NULL, *sdir = status_dir(dir_fd);
        struct timespec t;
        size_t size;
        int r;

        if (!info || !sdir)
                return -ENOMEM;
        memcpy(info->uuid, uuid, 16);
        info->state = state;
        info->exit_code = -1;
        r = pod_is_locked(dir_fd);
        if (r < 0)
                return r;
        info->status = pod_status_of(state, r > 0);

        (void) mtime_of(dir_fd, "pod-created", &info->created);
        /* A stage1 writes pid or ppid (rkt's contract): either is the start. */
        if (mtime_of(dir_fd, "pid", &info->started) < 0)
                (void) mtime_of(dir_fd, "ppid", &info->started);
        if (info->status == POD_STATUS_RUNNING) {
                pid_t pid;

                if (pod_read_pid_file(dir_fd, &pid, NULL) >= 0)
                        info->pid = pid;
        }
        r = read_small(dir_fd, "exit-code", 32, &code, &size, &t);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                unsigned long v;

                info->exited = t;
                if (parse_decimal_line(code, size, 255, &v) >= 0)
                        info->exit_code = (int) v;
        } else if (info->started.tv_sec != 0 &&
                   !IN_SET(info->status, POD_STATUS_RUNNING, POD_STATUS_PREPARING, POD_STATUS_PREPARED))
                /* The run process did not record it (killed): the last app
                 * status written is the best guess there is. */
                newest_status(dir_fd, sdir, &info->exited);

        r = read_small(dir_fd, "pod", MANIFEST_SIZE_MAX, &manifest, &size, NULL);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                _cleanup_error_ NpError err = NP_ERROR_INIT;
                _cleanup_(pod_freep) Pod *pod = NULL;

                r = manifest_parse_pod(manifest, size, &pod, &err);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && pod->n_apps > 0) {
                        info->apps = calloc(pod->n_apps, sizeof(PodApp));
                        if (!info->apps)
                                return -ENOMEM;
                        for (size_t i = 0; i < pod->n_apps; i++) {
                                info->apps[i] = (PodApp){ .status = -1 };
                                info->n_apps = i + 1;
                                info->apps[i].name = strdup(pod->apps[i].name);
                                if (!info->apps[i].name)
                                        return -ENOMEM;
                                if ((flags & POD_INFO_APP_STATUS) &&
                                    (r = read_app_status(dir_fd, sdir, &info->apps[i])) < 0)
                                        return r;
                        }
                }
        }
        if (info->status == POD_STATUS_RUNNING && pod_net_read(dir_fd, &info->networks, &info->n_networks) == -ENOMEM)
                return -ENOMEM;
        *ret = TAKE_PTR(info);
        return 0;
}

int pod_read_manifest(int dir_fd, char **ret, size_t *ret_size) {
        return read_small(dir_fd, "pod", MANIFEST_SIZE_MAX, ret, ret_size, NULL);
}

int pod_open_cwd(const uint8_t uuid[16], char **ret_path, int *ret_fd, int *ret_parent_fd, NpError *err) {
        _cleanup_close_ int fd = -1, parent = -1;
        _cleanup_free_ char *cwd = NULL;
        const char *base;
        struct stat a, b;
        char u[37];
        int r;

        uuid_format(uuid, u);
        cwd = getcwd(NULL, 0);
        if (!cwd) {
                r = negative_errno();
                return error_set(err, r, NULL, "cannot find the working directory: %s", strerror(-r));
        }
        base = strrchr(cwd, '/');
        if (!base || strcmp(base + 1, u) != 0)
                return error_set(err, -EINVAL, cwd, "the working directory is not the directory of pod %s", u);
        fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        parent = open("..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || parent < 0 || fstat(fd, &a) < 0) {
                r = negative_errno();
                return error_set(err, r, cwd, "cannot open the pod directory: %s", strerror(-r));
        }
        /* ".." must hold this very directory under its name. */
        if (fstatat(parent, u, &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                return error_set(err, -EINVAL, cwd, "the working directory is not what its parent holds as %s", u);
        if (ret_path)
                *ret_path = TAKE_PTR(cwd);
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        if (ret_parent_fd)
                *ret_parent_fd = TAKE_FD(parent);
        return 0;
}
