/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <systemd/sd-id128.h>

#include "fd-util.h"
#include "names.h"
#include "pod.h"

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

static int mkdir_p_at(int dirfd, const char *path, mode_t mode, int *ret_fd) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int cur = -1;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        cur = path[0] == '/' ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC) : fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return negative_errno();
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                int next = fd_mkdir_open(cur, c, mode, O_PATH);

                if (next < 0)
                        return next;
                closep(&cur);
                cur = next;
        }
        *ret_fd = TAKE_FD(cur);
        return 0;
}

int pod_open_pods_dir(const char *data_dir, int *ret_fd) {
        _cleanup_close_ int data = -1, pods = -1;
        int r;

        if (!path_is_absolute(data_dir))
                return -EINVAL;
        r = mkdir_p_at(AT_FDCWD, data_dir, 0755, &data);
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
        char name[37];
        sd_id128_t id;
        int r;

        prep = fd_open_dir_nofollow(pods_fd, state_dirs[POD_STATE_PREPARE], O_PATH);
        if (prep < 0)
                return prep;
        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        uuid_format(id.bytes, name);
        if (mkdirat(prep, name, 0700) < 0)
                return negative_errno();
        fd = fd_open_dir_nofollow(prep, name, O_RDONLY);
        if (fd < 0)
                return fd;
        r = pod_lock(fd);
        if (r < 0)
                return r;
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
