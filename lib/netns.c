/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "netns.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int netns_name_is_valid(const char *name) {
        return *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && strlen(name) < 200 &&
               name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] == 0;
}

/* iproute2's: NETNS_DIR a shared mount point, so that a namespace mounted
 * there shows in mount namespaces that are slaves of ours. */
static int make_dir_shared(void) {
        _cleanup_close_ int fd = -1;

        if (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        /* Pods starting at once must not each bind the directory onto
         * itself: the first does, under a lock on the directory (the same
         * inode under the bind). */
        fd = open(NETNS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX) < 0)
                return negative_errno();
        if (mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) >= 0)
                return 0;
        if (errno != EINVAL)
                return negative_errno();
        /* Not a mount point yet. */
        if (mount(NETNS_DIR, NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0 ||
            mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
                return negative_errno();
        return 0;
}

static void loopback_up(void) {
        struct ifreq ifr = { .ifr_name = "lo" };
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        if (s < 0)
                return;
        if (ioctl(s, SIOCGIFFLAGS, &ifr) >= 0) {
                ifr.ifr_flags |= IFF_UP;
                (void) ioctl(s, SIOCSIFFLAGS, &ifr);
        }
        close(s);
}

int netns_create(const char *name) {
        char path[256];
        int fd, status, r = 0;
        pid_t child;

        if (!netns_name_is_valid(name))
                return -EINVAL;
        r = make_dir_shared();
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), NETNS_DIR "/%s", name);
        fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
        if (fd < 0)
                return negative_errno();
        close(fd);
        /* A child makes the namespace and mounts it (the mount is in our
         * mount namespace, which it shares), and so we stay where we are. */
        child = fork();
        if (child < 0) {
                r = negative_errno();
                goto fail;
        }
        if (child == 0) {
                if (unshare(CLONE_NEWNET) < 0 || mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0)
                        _exit(1);
                loopback_up();
                _exit(0);
        }
        for (;;) {
                if (waitpid(child, &status, 0) >= 0)
                        break;
                if (errno != EINTR) {
                        /* SIGCHLD ignored: the child was reaped for us. */
                        r = negative_errno();
                        goto fail;
                }
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                r = -EPERM;
                goto fail;
        }
        return 0;
fail:
        (void) unlink(path);
        return r;
}

int netns_is_live(const char *path) {
        struct statfs sfs;

        if (statfs(path, &sfs) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return (unsigned long) sfs.f_type == (unsigned long) NSFS_MAGIC;
}

int netns_remove(const char *name) {
        char path[256];

        if (!netns_name_is_valid(name))
                return -EINVAL;
        snprintf(path, sizeof(path), NETNS_DIR "/%s", name);
        if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && !IN_SET(errno, EINVAL, ENOENT))
                return negative_errno();
        if (unlink(path) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}
