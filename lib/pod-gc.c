/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "cgroup.h"
#include "fd-util.h"
#include "machined.h"
#include "mount-util.h"
#include "names.h"
#include "pod-gc.h"
#include "pod-net.h"
#include "pod.h"
#include "render.h"
#include "strv.h"

/* How long gc waits for a pod's killed processes to go. */
#define REMOVE_CGROUP_TIMEOUT_MS 10000U

/* The machine names a pod may have run as: ours, and rkt's stage0's. */
static const char *const machine_prefixes[] = { "nspawn-pod", "rkt" };

/* nspawn's lock on the image it booted, /run/systemd/nspawn/locks/inode-<dev>:<ino>
 * (systemd's image_path_lock()): a SIGKILLed nspawn leaves it behind. Removed
 * only when nobody holds it. `st` is what stage1/rootfs was while mounted
 * (rkt's flavors boot an overlay mounted there): NULL when it was none. */
static void remove_image_lock(const struct stat *st) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        struct stat lst;

        if (!st)
                return;
        if (asprintf(&path, "/run/systemd/nspawn/locks/inode-%lu:%lu", (unsigned long) st->st_dev,
                     (unsigned long) st->st_ino) < 0)
                return;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &lst) < 0 || !S_ISREG(lst.st_mode) || flock(fd, LOCK_EX | LOCK_NB) < 0)
                return;
        (void) unlink(path);
}

/* nspawn's per-machine directory for runtime mounts: it cannot remove it
 * where /run is not a tmpfs ("Attempted to remove disk file system under
 * /run/systemd/nspawn/propagate/…"). Only an empty one is removed. */
static void remove_propagate_dirs(const uint8_t uuid[16]) {
        _cleanup_close_ int fd = open("/run/systemd/nspawn/propagate", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return;
        for (size_t i = 0; i < ELEMENTSOF(machine_prefixes); i++) {
                _cleanup_free_ char *name = NULL;

                if (render_machine_name(machine_prefixes[i], uuid, &name) >= 0)
                        (void) unlinkat(fd, name, AT_REMOVEDIR);
        }
}

/* machined forgets a machine whose scope is gone by itself; one whose
 * nspawn was SIGKILLed may stay registered. Only where there is a bus. */
static void unregister(const uint8_t uuid[16]) {
        for (size_t i = 0; i < ELEMENTSOF(machine_prefixes); i++) {
                _cleanup_free_ char *name = NULL;

                if (render_machine_name(machine_prefixes[i], uuid, &name) >= 0)
                        (void) machined_terminate(name);
        }
}

/* /var/log/journal/<machine id>: nspawn --link-journal=try-guest links the
 * host's journal directory to the pod's (docs/stage1.md, "journal"). Only a
 * symlink into this very pod's stage1 root is removed. */
static int remove_journal_link(const char *pod_name, const uint8_t uuid[16]) {
        _cleanup_close_ int jfd = open("/var/log/journal", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *suffix = NULL;
        char mid[33], target[4096];
        struct stat st;
        ssize_t n;
        size_t len;

        if (jfd < 0)
                return 0; /* no persistent host journal: nothing was linked */
        for (size_t i = 0, j = 0; i < 16; i++, j += 2)
                (void) snprintf(mid + j, 3, "%02x", uuid[i]);
        if (fstatat(jfd, mid, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
                return 0;
        n = readlinkat(jfd, mid, target, sizeof(target) - 1);
        if (n < 0)
                return 0;
        target[n] = 0;
        if (asprintf(&suffix, "/%s/stage1/rootfs/var/log/journal/%s", pod_name, mid) < 0)
                return -ENOMEM;
        len = strlen(suffix);
        if ((size_t) n < len || strcmp(target + n - len, suffix) != 0)
                return 0; /* someone else's */
        return unlinkat(jfd, mid, 0) < 0 && errno != ENOENT ? negative_errno() : 0;
}

int pod_gc_release(int parent_fd, const char *name, int dir_fd, const uint8_t uuid[16], void (*warn)(const char *),
                   NpError *err) {
        _cleanup_strv_free_ char **names = pod_cgroup_names(uuid);
        _cleanup_free_ char *sub = NULL;
        struct stat root_st;
        char cgname[49];
        bool have_root;
        int r;

        if (!names)
                return -ENOMEM;
        /* 1. Processes first: nothing of the pod may run while its mounts
         *    and files go (a SIGKILLed nspawn leaves its payload running).
         *    The subcgroup file is checked, not trusted. */
        r = pod_read_subcgroup(dir_fd, uuid, &sub);
        if (r == -EINVAL && warn)
                warn("its subcgroup file is not a cgroup path of this pod, ignoring it");
        else if (r < 0 && !IN_SET(r, -EINVAL, -ENOENT, -EBADFD))
                return error_set(err, r, "subcgroup", "cannot read its subcgroup file: %s", strerror(-r));
        r = cgroup_pod_remove(names, sub, REMOVE_CGROUP_TIMEOUT_MS);
        /* A registered pod (subcgroup: machined's scope) had its nspawn in
         * our cgroup, not in the scope; a pod without a subcgroup file may
         * have either. Ours is looked for on its own then. */
        if (r >= 0 && (!sub || strcmp(strrchr(sub, '/') + 1, pod_cgroup_name(uuid, cgname)) != 0)) {
                char *ours[] = { pod_cgroup_name(uuid, cgname), NULL };

                r = cgroup_pod_remove(ours, NULL, REMOVE_CGROUP_TIMEOUT_MS);
        }
        if (r < 0)
                return error_set(err, r, NULL, "cannot kill and remove its cgroups%s: %s",
                                 r == -EBUSY ? " (processes left)" : "", strerror(-r));
        /* 2. Mounts below the directory, in our mount namespace; nspawn's
         *    image lock is named for the root it booted, as mounted. */
        have_root = fstatat(dir_fd, "stage1/rootfs", &root_st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(root_st.st_mode);
        r = mount_umount_beneath(parent_fd, name);
        if (r < 0)
                return error_set(err, r, NULL, "cannot unmount everything below its directory: %s", strerror(-r));
        /* 3. Its networks (every ADD recorded gets its DEL) and its network
         *    namespace (lib/pod-net.h). */
        r = pod_net_teardown(dir_fd, uuid, err);
        if (r < 0)
                return r;
        /* 4. What nspawn leaves in /run when it is killed or /run is no
         *    tmpfs, the journal link, the registration. */
        remove_propagate_dirs(uuid);
        remove_image_lock(have_root ? &root_st : NULL);
        r = remove_journal_link(name, uuid);
        if (r < 0)
                return error_set(err, r, "/var/log/journal", "cannot remove the pod's journal link: %s", strerror(-r));
        unregister(uuid);
        return 0;
}
