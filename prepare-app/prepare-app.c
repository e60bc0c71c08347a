/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prepare-app: builds an app's minimal OS environment (appc OS-SPEC) inside
 * the pod, before the app starts; docs/helpers.md describes what and why,
 * docs/stage1.md what rkt's stage1 had instead. Runs as root in the pod's own mount
 * namespace from prepare-app@<escaped app root>.service, so everything it
 * mounts is inherited by the app's service, which systemd starts chrooted
 * (RootDirectory=) with MountAPIVFS=no.
 *
 * The app root is the image's: every path below it is untrusted and only
 * ever opened below an fd, component by component, without following
 * symlinks (docs/security.md, "Paths inside untrusted trees").
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "exit-status.h"
#include "fd-util.h"
#include "log.h"
#include "mount-entry.h"
#include "mountinfo.h"
#include "names.h"
#include "render.h"
#include "strv.h"


#define STAGE2_DIR "/opt/stage2/"
/* Per-pod state in the stage1's /run (a tmpfs the apps cannot reach). */
#define STATE_NAME "nspawn-pod"
#define STATE_DIR "/run/" STATE_NAME
#define PREPARED_DIR "prepared"
#define HOSTS_DIR "hosts"
#define INACCESSIBLE_DIR "inaccessible"
/* The pod's systemd makes these (mode 0000, one per file type) at boot. */
#define SYSTEMD_INACCESSIBLE "/run/systemd/inaccessible"

static const char usage[] =
        "Usage: prepare-app [--help] [--disable-paths] [--pod-hosts] APP_ROOT\n"
        "\n"
        "Prepare the root of an app of this pod (/opt/stage2/APP/rootfs) for it to run\n"
        "chrooted: mount /proc, a read-only /sys, mask or make read-only the kernel\n"
        "interfaces below them (not with --disable-paths), a fresh /dev with the\n"
        "standard nodes, the journal sockets, /etc/hosts, /etc/resolv.conf and\n"
        "/etc/hostname.\n"
        "\n"
        "Exit status: 0 prepared (or already prepared), 1 the image is unsafe (a symlink\n"
        "or a non-directory where a directory must be), 2 usage, 254 a setup step failed.\n";

typedef struct Context {
        const char *root; /* APP_ROOT, checked: "/opt/stage2/<app>/rootfs" */
        char *app;        /* <app> */
        int rootfd;       /* the app root; after step_bind_root(), the root of our own bind */
        bool bound;       /* rootfd is our bind: undo it on failure */
        bool unsafe;      /* the failure is the image's doing */
        bool disable_paths; /* --disable-paths: no path protections (nspawn-pod --insecure-options=paths) */
        bool pod_hosts;     /* --pod-hosts: the pod's /etc/hosts over the image's (--hosts-entry) */
        bool sys_read_only; /* step_sys() bound the pod's /sys read-only all the way down */
} Context;

/* --- arguments ------------------------------------------------------------------ */

/* APP_ROOT must be exactly what render gives %f: "/opt/stage2/<ACName>/rootfs".
 * Canonical by construction (no "..", no "//", no trailing "/"), so the
 * string also names our mount points in mountinfo. */
static int parse_root(const char *root, char **ret_app) {
        const char *name, *end;
        char *app;

        if (strncmp(root, STAGE2_DIR, strlen(STAGE2_DIR)) != 0)
                return -EINVAL;
        name = root + strlen(STAGE2_DIR);
        end = strchr(name, '/');
        if (!end || strcmp(end, "/rootfs") != 0)
                return -EINVAL;
        app = strndup(name, (size_t) (end - name));
        if (!app)
                return -ENOMEM;
        if (!acname_is_valid(app)) {
                free(app);
                return -EINVAL;
        }
        *ret_app = app;
        return 0;
}

/* --- steps ----------------------------------------------------------------------- */

static int step_open_root(Context *c) {
        _cleanup_close_ int slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int fd;

        if (slash < 0)
                return log_errno(negative_errno(), "Failed to open '/'");
        /* No symlink anywhere on the way: the string is then also the path
         * mountinfo shows for it. */
        fd = fd_open_in_root(slash, c->root, O_PATH | O_DIRECTORY, 0, true);
        if (fd < 0)
                return log_errno(fd, "Failed to open '%s'", c->root);
        c->rootfd = fd;
        return 0;
}

static int open_state_dir(const char *sub, bool create, int *ret) {
        _cleanup_close_ int run = -1, state = -1;
        int fd;

        run = fd_open_dir_nofollow(AT_FDCWD, "/run", O_PATH);
        if (run < 0)
                return run;
        state = create ? fd_mkdir_open(run, STATE_NAME, 0755, O_PATH) : fd_open_dir_nofollow(run, STATE_NAME, O_PATH);
        if (state < 0)
                return state;
        if (!sub) {
                *ret = TAKE_FD(state);
                return 0;
        }
        fd = create ? fd_mkdir_open(state, sub, 0700, O_PATH) : fd_open_dir_nofollow(state, sub, O_PATH);
        if (fd < 0)
                return fd;
        *ret = fd;
        return 0;
}

/* A restart of prepare-app@ (systemctl restart, or a second app unit using
 * the same root) must not stack a second set of mounts, nor tear down the
 * first: a running app's mount namespace receives our unmounts through
 * propagation. The marker holds the mount id of the bind we made; if the
 * app root still shows that very mount, it is prepared. */
static int step_check_prepared(Context *c) {
        _cleanup_close_ int dir = -1;
        _cleanup_free_ char *text = NULL;
        unsigned long long want;
        uint64_t have;
        char *end;
        int r;

        if (open_state_dir(PREPARED_DIR, false, &dir) < 0)
                return 0;
        if (fd_read_file_in_root(dir, c->app, 64, &text, NULL) < 0)
                return 0;
        errno = 0;
        want = strtoull(text, &end, 10);
        if (errno != 0 || end == text || (*end != 0 && *end != '\n'))
                return 0;
        r = fd_mount_id(c->rootfd, &have);
        if (r < 0)
                return log_errno(r, "Failed to get the mount id of '%s'", c->root);
        return have == (uint64_t) want;
}

static int step_mark_prepared(Context *c) {
        _cleanup_close_ int dir = -1;
        char text[32];
        uint64_t id;
        int r;

        r = fd_mount_id(c->rootfd, &id);
        if (r < 0)
                return log_errno(r, "Failed to get the mount id of '%s'", c->root);
        r = open_state_dir(PREPARED_DIR, true, &dir);
        if (r < 0)
                return log_errno(r, "Failed to create '%s/%s'", STATE_DIR, PREPARED_DIR);
        (void) snprintf(text, sizeof(text), "%llu\n", (unsigned long long) id);
        r = fd_write_file_atomic(dir, c->app, text, strlen(text), 0644);
        if (r < 0)
                return log_errno(r, "Failed to write '%s/%s/%s'", STATE_DIR, PREPARED_DIR, c->app);
        return 0;
}

/* The top-level directories the app needs. A symlink in their place is the
 * attack of runc CVE-2019-16884 and friends (a /proc or /dev pointing
 * elsewhere redirects our mounts and writes): refused, not followed. */
static int step_base_dirs(Context *c) {
        static const struct {
                const char *name;
                mode_t mode;
        } dirs[] = {
                { "proc", 0755 }, { "sys", 0755 }, { "dev", 0755 }, { "etc", 0755 }, { "tmp", 01777 }, { "run", 0755 },
        };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                const char *name = dirs[i].name;
                struct stat st;

                if (fstatat(c->rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT)
                                return log_errno(negative_errno(), "Failed to check '%s/%s'", c->root, name);
                        if (mkdirat(c->rootfd, name, dirs[i].mode) < 0 && errno != EEXIST)
                                return log_errno(negative_errno(), "Failed to create '%s/%s'", c->root, name);
                        /* Check again what is there now, whoever made it. */
                        if (fstatat(c->rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                return log_errno(negative_errno(), "Failed to check '%s/%s'", c->root, name);
                }
                if (S_ISLNK(st.st_mode)) {
                        char link[256] = "";
                        ssize_t n = readlinkat(c->rootfd, name, link, sizeof(link) - 1);

                        /* The image's bytes go into the pod's journal:
                         * nothing that could fake a line of its own. */
                        for (ssize_t k = 0; k < n; k++)
                                if ((unsigned char) link[k] < 0x20 || link[k] == 0x7f)
                                        link[k] = '?';
                        if (n > 0)
                                link[n] = 0;
                        c->unsafe = true;
                        log_error("Refusing the image: '%s/%s' is a symlink (to '%s'), not a directory", c->root, name,
                                link);
                        return -ELOOP;
                }
                if (!S_ISDIR(st.st_mode)) {
                        c->unsafe = true;
                        log_error("Refusing the image: '%s/%s' is not a directory", c->root, name);
                        return -ENOTDIR;
                }
        }
        return 0;
}

/* The app root becomes a mount point of its own: systemd's RootDirectory=
 * and programs in the app that remount / need one. Recursive, because
 * nspawn has already bound the app's volumes below it, and a plain bind
 * would show the bare directories they cover. From here on rootfd is the
 * root of this bind, so every later mount lands inside it and a failure can
 * take them all away at once (undo_bind_root()). */
static int step_bind_root(Context *c) {
        int tree, r;

        tree = open_tree(c->rootfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (tree < 0)
                return log_errno(negative_errno(), "Failed to clone '%s'", c->root);
        /* Not a peer of the stage1's root: what we mount below must not
         * propagate back into the pod's tree (mount_make_slave()). */
        r = mount_make_slave(tree, true);
        if (r < 0) {
                log_errno(r, "Failed to make the clone of '%s' a slave mount", c->root);
                (void) close(tree);
                return r;
        }
        if (move_mount(tree, "", c->rootfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
                r = log_errno(negative_errno(), "Failed to bind '%s' on itself", c->root);

                (void) close(tree);
                return r;
        }
        (void) close(c->rootfd);
        c->rootfd = tree;
        c->bound = true;
        return 0;
}

static void undo_bind_root(Context *c) {
        struct mount_attr attr = { .propagation = MS_PRIVATE };
        char path[64];

        if (!c->bound)
                return;
        /* Private first, all the way down: nothing of the unmount may
         * propagate anywhere (docs/security.md, "Removing pods"; rkt#3546). */
        if (mount_setattr(c->rootfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
                log_errno(negative_errno(), "Failed to make '%s' private to undo its bind, leaving it", c->root);
                return;
        }
        /* Through the fd: exactly our bind, whatever else is stacked there.
         * Detaching it takes every mount made below it along. */
        (void) snprintf(path, sizeof(path), "/proc/self/fd/%d", c->rootfd);
        if (umount2(path, MNT_DETACH) < 0)
                log_errno(negative_errno(), "Failed to undo the bind of '%s', ignoring", c->root);
        c->bound = false;
}

static char *path_join(const char *a, const char *b) {
        char *p;

        return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

/* The pod's /proc, recursively: nspawn has made /proc/sys and friends
 * read-only below it, and those protections come along. A fresh procfs
 * would shed them. */
static int step_proc(Context *c) {
        static const MountEntry proc = {
                .source = "/proc",
                .target = "proc",
                .kind = MOUNT_BIND,
                .flags = MOUNT_RECURSIVE,
                .fs_magic = PROC_SUPER_MAGIC,
        };
        int r = mount_entry_apply(&proc, c->rootfd, c->root, NULL);

        return r < 0 ? r : 0;
}

/* The pod's /sys, recursively (the cgroup hierarchies below it) and
 * read-only all the way down, unless a volume is at or below the app's /sys:
 * then the volume is what the app asked for and stays visible (rkt's rule). */
static int step_sys(Context *c) {
        MountEntry sys = {
                .source = "/sys",
                .target = "sys",
                .kind = MOUNT_BIND,
                .flags = MOUNT_RECURSIVE | MOUNT_READ_ONLY,
                .fs_magic = SYSFS_MAGIC,
        };
        _cleanup_strv_free_ char **below = NULL;
        _cleanup_free_ char *where = path_join(c->root, "sys");
        struct statfs sfs;
        int r;

        if (!where)
                return log_errno(-ENOMEM, "Failed to prepare '%s/sys'", c->root);
        /* The pod's own /sys is sysfs, or, in a pod with a network namespace
         * of its own, nspawn's tmpfs with sysfs bound below it: what the
         * app's /sys must show after the bind is what the pod's shows. */
        if (statfs("/sys", &sfs) < 0)
                return log_errno(negative_errno(), "Failed to inspect the pod's /sys");
        if ((unsigned long) sfs.f_type == (unsigned long) TMPFS_MAGIC)
                sys.fs_magic = TMPFS_MAGIC;
        r = mountinfo_below(where, &below);
        if (r < 0)
                return log_errno(r, "Failed to read the mount table for '%s'", where);
        if (below[0]) {
                log_error("A volume is mounted on '%s%s%s': not mounting sysfs there", where, below[0][0] ? "/" : "",
                        below[0]);
                return 0;
        }
        r = mount_entry_apply(&sys, c->rootfd, c->root, NULL);
        if (r < 0)
                return r;
        c->sys_read_only = true;
        return 0;
}

/* --- kernel interfaces below /proc and /sys ------------------------------------------- */

/* What an app must not reach or change (rkt's
 * InaccessiblePaths=/ReadOnlyPaths=, which render used to emit and which cost
 * every app a mount namespace of its own built by systemd). Relative to the
 * app root, where /proc and /sys are our binds by now; a path this kernel
 * does not have is skipped. */
typedef enum PathProtection {
        PATH_INACCESSIBLE, /* covered, read-only, by a mode-0000 node of its own type */
        PATH_READ_ONLY,    /* bound read-only onto itself, everything below it too */
} PathProtection;

static const struct {
        const char *path;
        PathProtection protection;
} protected_paths[] = {
        { "proc/config.gz", PATH_INACCESSIBLE },
        { "proc/kallsyms", PATH_INACCESSIBLE },
        { "proc/kcore", PATH_INACCESSIBLE },
        { "proc/kmem", PATH_INACCESSIBLE },
        { "proc/mem", PATH_INACCESSIBLE },
        { "proc/sched_debug", PATH_INACCESSIBLE },
        { "sys/firmware", PATH_INACCESSIBLE },
        { "sys/fs", PATH_INACCESSIBLE },
        { "sys/hypervisor", PATH_INACCESSIBLE },
        { "sys/module", PATH_INACCESSIBLE },
        { "sys/power", PATH_INACCESSIBLE },
        { "proc/bus", PATH_READ_ONLY },
        { "proc/sys/kernel/core_pattern", PATH_READ_ONLY },
        { "proc/sys/kernel/modprobe", PATH_READ_ONLY },
        { "proc/sys/vm/panic_on_oom", PATH_READ_ONLY },
        { "proc/sysrq-trigger", PATH_READ_ONLY },
        /* Redundant while step_sys() made the whole /sys read-only (recursively);
         * applied when a volume at or below /sys took its place. */
        { "sys/block", PATH_READ_ONLY },
        { "sys/bus", PATH_READ_ONLY },
        { "sys/class", PATH_READ_ONLY },
        { "sys/dev", PATH_READ_ONLY },
        { "sys/devices", PATH_READ_ONLY },
        { "sys/kernel", PATH_READ_ONLY },
};

static const char *inaccessible_name(mode_t type) {
        switch (type & S_IFMT) {
        case S_IFDIR: return "dir";
        case S_IFREG: return "reg";
        case S_IFCHR: return "chr";
        case S_IFBLK: return "blk";
        case S_IFIFO: return "fifo";
        case S_IFSOCK: return "sock";
        default: return NULL;
        }
}

static bool is_inaccessible_node(const char *path, mode_t type) {
        struct stat st;

        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == (type & S_IFMT) && (st.st_mode & 07777) == 0;
}

/* A mode-0000 node to cover something of file type `type` with: systemd's
 * (/run/systemd/inaccessible/<type>), else one of ours in the pod's /run (a
 * tmpfs no app can reach). Anything but a directory may be covered by a
 * regular file (a bind needs both sides directories or both not), so that
 * is what stands in for a device node systemd could not make. */
static int inaccessible_source(Context *c, mode_t type, char **ret) {
        _cleanup_close_ int dir = -1;
        const char *name = inaccessible_name(type);
        char *path;
        int r, err;

        if (!name)
                return log_errno(-EOPNOTSUPP, "Failed to find an inaccessible node for file type 0%o", type & S_IFMT);
        if (asprintf(&path, SYSTEMD_INACCESSIBLE "/%s", name) < 0)
                return log_errno(-ENOMEM, "Failed to prepare '%s'", c->root);
        if (is_inaccessible_node(path, type)) {
                *ret = path;
                return 0;
        }
        free(path);

        if (!S_ISDIR(type))
                type = S_IFREG;
        name = inaccessible_name(type);
        if (asprintf(&path, "%s/%s/%s", STATE_DIR, INACCESSIBLE_DIR, name) < 0)
                return log_errno(-ENOMEM, "Failed to prepare '%s'", c->root);
        r = open_state_dir(INACCESSIBLE_DIR, true, &dir);
        if (r < 0) {
                free(path);
                return log_errno(r, "Failed to create '%s/%s'", STATE_DIR, INACCESSIBLE_DIR);
        }
        /* Instances run in parallel: EEXIST is another one's, checked below. */
        if (S_ISDIR(type))
                r = mkdirat(dir, name, 0000);
        else {
                int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0000);

                r = fd;
                if (fd >= 0)
                        (void) close(fd);
        }
        err = r < 0 && errno != EEXIST ? errno : 0;
        if (err != 0 || !is_inaccessible_node(path, type)) {
                r = log_errno(err != 0 ? -err : -EEXIST, "Failed to create the inaccessible node '%s'", path);
                free(path);
                return r;
        }
        *ret = path;
        return 0;
}

/* On fds, as every other mount: the target is opened below the app root
 * without following any symlink (MOUNT_EXISTING), masks and read-only binds
 * are made read-only while still detached. */
static int step_paths(Context *c) {
        int r;

        if (c->disable_paths)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(protected_paths); i++) {
                const char *p = protected_paths[i].path;
                _cleanup_free_ char *source = NULL;

                if (protected_paths[i].protection == PATH_READ_ONLY) {
                        if (c->sys_read_only && strncmp(p, "sys/", 4) == 0)
                                continue;
                        MountEntry e = {
                                .source = p,
                                .target = p,
                                .kind = MOUNT_BIND,
                                .flags = MOUNT_SELF | MOUNT_EXISTING | MOUNT_RECURSIVE | MOUNT_READ_ONLY,
                        };
                        r = mount_entry_apply(&e, c->rootfd, c->root, NULL);
                } else {
                        _cleanup_close_ int fd = fd_open_in_root(c->rootfd, p, O_PATH | O_NOFOLLOW, 0, true);
                        struct stat st;

                        if (fd == -ENOENT)
                                continue;
                        if (fd < 0 || fstat(fd, &st) < 0)
                                return log_errno(fd < 0 ? fd : negative_errno(), "Failed to check '%s/%s'", c->root,
                                                 p);
                        if ((r = inaccessible_source(c, st.st_mode, &source)) < 0)
                                return r;
                        MountEntry e = {
                                .source = source,
                                .target = p,
                                .kind = MOUNT_BIND,
                                .flags = MOUNT_EXISTING | MOUNT_READ_ONLY,
                        };
                        r = mount_entry_apply(&e, c->rootfd, c->root, NULL);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --- /dev -------------------------------------------------------------------------- */

/* The fresh /dev: never the image's own (a symlinked or booby-trapped
 * /dev/null is runc CVE-2025-31133), never the pod's whole /dev (its pts
 * instance holds the pod console, /dev/console -> pts/0). Sizes as nspawn's
 * own /dev. */
static const MountEntry dev_tmpfs = {
        .source = "tmpfs",
        .target = "dev",
        .kind = MOUNT_FRESH,
        .options = "mode=0755,size=4m,nr_inodes=64k",
        .attr = MOUNT_ATTR_NOSUID,
        .fs_magic = TMPFS_MAGIC,
};

/* Inside it, relative to it. The nodes are the pod's, bound onto empty files:
 * no mknod, so nothing depends on the device cgroup of prepare-app, and each
 * source is checked to be the device its name says. */
#define DEV_NODE(name, maj, min, extra)                                                                              \
        {                                                                                                            \
                .source = "/dev/" name, .target = name, .kind = MOUNT_BIND,                                          \
                .flags = MOUNT_CHAR_DEVICE | MOUNT_FILE | (extra), .major = (maj), .minor = (min),                   \
        }
static const MountEntry dev_entries[] = {
        DEV_NODE("null", 1, 3, 0),
        DEV_NODE("zero", 1, 5, 0),
        DEV_NODE("full", 1, 7, 0),
        DEV_NODE("random", 1, 8, 0),
        DEV_NODE("urandom", 1, 9, 0),
        DEV_NODE("tty", 5, 0, 0),
        DEV_NODE("net/tun", 10, 200, MOUNT_OPTIONAL),
        /* A devpts instance of the app's own (verified to mount inside
         * nspawn): its ptys are not the pod's, nor another app's. */
        {
                .source = "devpts",
                .target = "pts",
                .kind = MOUNT_FRESH,
                .options = "newinstance,ptmxmode=0666,mode=0620,gid=5",
                .attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
                .fs_magic = DEVPTS_SUPER_MAGIC,
        },
        {
                .source = "tmpfs",
                .target = "shm",
                .kind = MOUNT_FRESH,
                .options = "mode=01777",
                .attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                .fs_magic = TMPFS_MAGIC,
        },
        /* What the app's unit runs first, to give its stdout and stderr a
         * journal stream each (docs/logs.md). Read-only: the app cannot
         * change it for its next start. */
        {
                .source = STAGE1_APP_STDIO,
                .target = APP_STDIO_PATH + sizeof("/dev/") - 1,
                .kind = MOUNT_BIND,
                .flags = MOUNT_FILE | MOUNT_READ_ONLY,
        },
};

static const char *const cgroup_controllers[] = { "memory", "cpu" };

static const struct {
        const char *name, *target;
} dev_links[] = {
        { "ptmx", "pts/ptmx" },
        { "fd", "/proc/self/fd" },
        { "stdin", "/proc/self/fd/0" },
        { "stdout", "/proc/self/fd/1" },
        { "stderr", "/proc/self/fd/2" },
        { "log", "/run/systemd/journal/dev-log" },
};

typedef struct DevVolume {
        char *path; /* below the app's /dev */
        int tree;   /* a detached recursive clone of it */
} DevVolume;

static void dev_volumes_free(DevVolume *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].path);
                closep(&v[i].tree);
        }
        free(v);
}

static bool has_ancestor_in(char **l, const char *p) {
        STRV_FOREACH(q, l) {
                size_t n = strlen(*q);

                if (n > 0 && strncmp(p, *q, n) == 0 && p[n] == '/')
                        return true;
        }
        return false;
}

/* Volumes nspawn bound below the app's /dev would vanish under the fresh
 * tmpfs: clone them first (outermost ones, recursively) and put them back on
 * top of it afterwards. */
static int dev_volumes_save(Context *c, char **below, DevVolume **ret, size_t *ret_n) {
        DevVolume *v = NULL;
        size_t n = 0;

        STRV_FOREACH(p, below) {
                _cleanup_free_ char *rel = NULL;
                _cleanup_close_ int fd = -1;
                DevVolume *nv;
                int tree;

                if (has_ancestor_in(below, *p))
                        continue;
                rel = path_join("dev", *p);
                if (!rel)
                        goto oom;
                /* Resolved without symlinks: the mountinfo path is where the
                 * volume is, and nothing may redirect us from there. */
                fd = fd_open_in_root(c->rootfd, rel, O_PATH | O_NOFOLLOW, 0, true);
                if (fd < 0) {
                        log_errno(fd, "Failed to open the volume at '%s/%s'", c->root, rel);
                        dev_volumes_free(v, n);
                        return fd;
                }
                tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
                if (tree < 0 || mount_make_slave(tree, true) < 0) {
                        int r = log_errno(negative_errno(), "Failed to clone the volume at '%s/%s'", c->root, rel);

                        if (tree >= 0)
                                (void) close(tree);
                        dev_volumes_free(v, n);
                        return r;
                }
                nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv) {
                        (void) close(tree);
                        goto oom;
                }
                v = nv;
                v[n].tree = tree;
                v[n].path = strdup(*p);
                n++;
                if (!v[n - 1].path)
                        goto oom;
        }
        *ret = v;
        *ret_n = n;
        return 0;
oom:
        dev_volumes_free(v, n);
        return log_errno(-ENOMEM, "Failed to prepare '%s/dev'", c->root);
}

static int dev_volumes_restore(Context *c, int devfd, const DevVolume *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int target = -1;
                struct stat st;

                if (fstat(v[i].tree, &st) < 0)
                        return log_errno(negative_errno(), "Failed to check the volume at '%s/dev/%s'", c->root,
                                         v[i].path);
                /* Our own fresh tmpfs: nothing in it can be a trap. */
                target = mount_target_open(devfd, v[i].path, !S_ISDIR(st.st_mode));
                if (target < 0)
                        return log_errno(target, "Failed to create the mount point '%s/dev/%s'", c->root, v[i].path);
                if (move_mount(v[i].tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return log_errno(negative_errno(), "Failed to put the volume back on '%s/dev/%s'", c->root,
                                         v[i].path);
        }
        return 0;
}

static int step_dev(Context *c) {
        _cleanup_strv_free_ char **below = NULL;
        _cleanup_free_ char *where = path_join(c->root, "dev");
        _cleanup_close_ int devfd = -1;
        DevVolume *vols = NULL;
        size_t n_vols = 0;
        int r;

        if (!where)
                return log_errno(-ENOMEM, "Failed to prepare '%s/dev'", c->root);
        r = mountinfo_below(where, &below);
        if (r < 0)
                return log_errno(r, "Failed to read the mount table for '%s'", where);
        if (below[0] && !below[0][0]) {
                log_error("A volume is mounted on '%s': leaving it as the app's /dev", where);
                return 0;
        }
        r = dev_volumes_save(c, below, &vols, &n_vols);
        if (r < 0)
                return r;

        r = mount_entry_apply(&dev_tmpfs, c->rootfd, c->root, &devfd);
        if (r < 0)
                goto finish;
        r = dev_volumes_restore(c, devfd, vols, n_vols);
        if (r < 0)
                goto finish;

        for (size_t i = 0; i < ELEMENTSOF(dev_entries); i++) {
                _cleanup_close_ int there = fd_open_in_root(devfd, dev_entries[i].target, O_PATH, 0, true);

                /* The tmpfs is new: whatever is there came with a volume,
                 * which wins. */
                if (there >= 0)
                        continue;
                r = mount_entry_apply(&dev_entries[i], devfd, where, NULL);
                if (r < 0)
                        goto finish;
        }
        /* The app's v1 cgroups, which app-stdio joins (lib/cgroup-limits.h):
         * the run bound their cgroup.procs in the stage1 when the app has
         * limits there. Writable: joining is a write; it can only move the
         * app's own processes into the app's own cgroup. */
        for (size_t i = 0; i < ELEMENTSOF(cgroup_controllers); i++) {
                _cleanup_free_ char *source = NULL, *target = NULL;
                MountEntry e = { .kind = MOUNT_BIND, .flags = MOUNT_FILE | MOUNT_OPTIONAL };

                if (asprintf(&source, "/" STAGE1_CGROUP_DIR "/%s/%s", c->app, cgroup_controllers[i]) < 0 ||
                    asprintf(&target, "%s/%s", APP_CGROUP_DIR + sizeof("/dev/") - 1, cgroup_controllers[i]) < 0) {
                        r = log_errno(-ENOMEM, "Failed to prepare '%s'", where);
                        goto finish;
                }
                e.source = source;
                e.target = target;
                r = mount_entry_apply(&e, devfd, where, NULL);
                if (r < 0)
                        goto finish;
        }
        for (size_t i = 0; i < ELEMENTSOF(dev_links); i++)
                if (symlinkat(dev_links[i].target, devfd, dev_links[i].name) < 0 && errno != EEXIST) {
                        r = log_errno(negative_errno(), "Failed to create the symlink '%s/%s'", where,
                                      dev_links[i].name);
                        goto finish;
                }
        r = 0;
finish:
        dev_volumes_free(vols, n_vols);
        return r;
}

/* --- /run/systemd, /etc -------------------------------------------------------------- */

/* The journal's sockets (dev-log, socket, stdout) and the notify socket
 * systemd gives Type=notify apps in $NOTIFY_SOCKET (the app resolves that
 * path inside its root), read-only: connecting to a socket is not a write to
 * the file system, and the app cannot replace them for every other app of
 * the pod. The journal directory is created in the pod if journald has not
 * started yet: its sockets appear through the bind when it does. */
static const MountEntry run_entries[] = {
        {
                .source = "/run/systemd/journal",
                .target = "run/systemd/journal",
                .kind = MOUNT_BIND,
                .flags = MOUNT_READ_ONLY,
        },
        {
                .source = "/run/systemd/notify",
                .target = "run/systemd/notify",
                .kind = MOUNT_BIND,
                .flags = MOUNT_FILE | MOUNT_READ_ONLY | MOUNT_OPTIONAL,
        },
};

static int step_run(Context *c) {
        _cleanup_close_ int run = -1, sd = -1, j = -1;
        int r;

        run = fd_open_dir_nofollow(AT_FDCWD, "/run", O_PATH);
        if (run >= 0)
                sd = fd_mkdir_open(run, "systemd", 0755, O_PATH);
        if (sd >= 0)
                j = fd_mkdir_open(sd, "journal", 0755, O_PATH);
        if (j < 0)
                return log_errno(run < 0 ? run : sd < 0 ? sd : j, "Failed to create '/run/systemd/journal'");

        for (size_t i = 0; i < ELEMENTSOF(run_entries); i++) {
                r = mount_entry_apply(&run_entries[i], c->rootfd, c->root, NULL);
                /* The image's run/ or run/systemd is a symlink or a file. */
                if (IN_SET(r, -ELOOP, -ENOTDIR))
                        c->unsafe = true;
                if (r < 0)
                        return r;
        }
        return 0;
}

typedef enum EtcState {
        ETC_MISSING,
        ETC_FILE,    /* a regular file of the image: may be covered */
        ETC_KEEP,    /* a symlink, a volume, anything else: left alone */
} EtcState;

static int etc_state(Context *c, int etcfd, const char *name, EtcState *ret) {
        struct statx sx = {};

        if (statx(etcfd, name, AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT, STATX_TYPE, &sx) < 0) {
                if (errno == ENOENT) {
                        *ret = ETC_MISSING;
                        return 0;
                }
                return log_errno(negative_errno(), "Failed to check '%s/etc/%s'", c->root, name);
        }
        if ((sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
                *ret = ETC_KEEP; /* a volume: the manifest asked for it */
                return 0;
        }
        if (!S_ISREG(sx.stx_mode)) {
                log_error("'%s/etc/%s' is not a regular file: leaving it as it is", c->root, name);
                *ret = ETC_KEEP;
                return 0;
        }
        *ret = ETC_FILE;
        return 0;
}

/* Used as the app's /etc/hosts when neither the image nor the pod has one:
 * localhost and the pod's hostname, written to the stage1's /run (never into
 * the image). */
static int make_fallback_hosts(Context *c, char **ret_source) {
        _cleanup_close_ int state = -1;
        char host[65] = "";
        _cleanup_free_ char *text = NULL;
        bool ok;
        int r;

        if (gethostname(host, sizeof(host) - 1) < 0)
                host[0] = 0;
        /* Written into a file the app parses: only a plain host name. */
        ok = host[0] != 0 &&
             host[strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")] == 0;
        if (asprintf(&text,
                     "# Written by nspawn-pod's prepare-app: the image has no /etc/hosts\n"
                     "127.0.0.1\tlocalhost%s%s\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback%s%s\n",
                     ok ? " " : "", ok ? host : "", ok ? " " : "", ok ? host : "") < 0)
                return log_errno(-ENOMEM, "Failed to write '%s/%s/%s'", STATE_DIR, HOSTS_DIR, c->app);
        /* One file per app: prepare-app instances run in parallel, and
         * rewriting a file another one is binding makes its bind fail
         * (ENOENT: the source was unlinked by the rename). */
        r = open_state_dir(HOSTS_DIR, true, &state);
        if (r < 0)
                return log_errno(r, "Failed to create '%s/%s'", STATE_DIR, HOSTS_DIR);
        r = fd_write_file_atomic(state, c->app, text, strlen(text), 0644);
        if (r < 0)
                return log_errno(r, "Failed to write '%s/%s/%s'", STATE_DIR, HOSTS_DIR, c->app);
        if (asprintf(ret_source, "%s/%s/%s", STATE_DIR, HOSTS_DIR, c->app) < 0)
                return log_errno(-ENOMEM, "Failed to write '%s/%s/%s'", STATE_DIR, HOSTS_DIR, c->app);
        return 0;
}

static int step_etc(Context *c) {
        _cleanup_close_ int etcfd = -1;
        _cleanup_free_ char *hosts_source = NULL;
        EtcState st;
        struct stat pst;
        int r;

        etcfd = fd_open_dir_nofollow(c->rootfd, "etc", O_PATH);
        if (etcfd < 0) {
                c->unsafe = IN_SET(etcfd, -ELOOP, -ENOTDIR);
                return log_errno(etcfd, "Failed to open '%s/etc'", c->root);
        }

        /* The pod's resolver configuration (nspawn copies the host's) wins
         * over the image's, read-only: it is shared by every app. */
        r = etc_state(c, etcfd, "resolv.conf", &st);
        if (r < 0)
                return r;
        if (st != ETC_KEEP) {
                MountEntry e = {
                        .source = "/etc/resolv.conf",
                        .target = "etc/resolv.conf",
                        .kind = MOUNT_BIND,
                        .flags = MOUNT_FILE | MOUNT_READ_ONLY | MOUNT_OPTIONAL | MOUNT_FOLLOW,
                };
                if ((r = mount_entry_apply(&e, c->rootfd, c->root, NULL)) < 0)
                        return r;
        }

        /* /etc/hosts only when the image has none (rkt's hosts-fallback):
         * the pod's if it has one, else a minimal one. With --pod-hosts the
         * pod's wins over the image's (rkt's --hosts-entry). */
        r = etc_state(c, etcfd, "hosts", &st);
        if (r < 0)
                return r;
        if (st == ETC_MISSING || (c->pod_hosts && st != ETC_KEEP)) {
                if (stat("/etc/hosts", &pst) == 0 && S_ISREG(pst.st_mode))
                        hosts_source = strdup("/etc/hosts");
                else if ((r = make_fallback_hosts(c, &hosts_source)) < 0)
                        return r;
                if (!hosts_source)
                        return log_errno(-ENOMEM, "Failed to prepare '%s/etc/hosts'", c->root);
                MountEntry e = {
                        .source = hosts_source,
                        .target = "etc/hosts",
                        .kind = MOUNT_BIND,
                        .flags = MOUNT_FILE | MOUNT_READ_ONLY | MOUNT_FOLLOW,
                };
                if ((r = mount_entry_apply(&e, c->rootfd, c->root, NULL)) < 0)
                        return r;
        }

        /* The pod's hostname, live and read-only, as rkt did. */
        r = etc_state(c, etcfd, "hostname", &st);
        if (r < 0)
                return r;
        if (st != ETC_KEEP) {
                static const MountEntry e = {
                        .source = "/proc/sys/kernel/hostname",
                        .target = "etc/hostname",
                        .kind = MOUNT_BIND,
                        .flags = MOUNT_FILE | MOUNT_READ_ONLY,
                        .fs_magic = PROC_SUPER_MAGIC,
                };
                if ((r = mount_entry_apply(&e, c->rootfd, c->root, NULL)) < 0)
                        return r;
        }
        return 0;
}

/* --- device volumes ------------------------------------------------------------------------ */

/* One record of the run (lib/render.h, STAGE1_DEVICE_LINKS/<app>/<volume>):
 * "c MAJOR:MINOR\n" or "b …". */
static int parse_device(const char *s, mode_t *ret_type, dev_t *ret_dev) {
        unsigned long maj, min;
        char *end;

        if ((s[0] != 'c' && s[0] != 'b') || s[1] != ' ' || s[2] < '0' || s[2] > '9')
                return -EINVAL;
        errno = 0;
        maj = strtoul(s + 2, &end, 10);
        if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9' || maj > 0xfff)
                return -EINVAL;
        min = strtoul(end + 1, &end, 10);
        if (errno != 0 || strcmp(end, "\n") != 0 || min > 0xfffff)
                return -EINVAL;
        *ret_type = s[0] == 'c' ? S_IFCHR : S_IFBLK;
        *ret_dev = makedev(maj, min);
        return 0;
}

/* The run recorded each of this app's device volumes in the stage1: the
 * same nodes are made in the pod's /dev, POD_DEVICE_LINKS/<app>/<volume>,
 * where the app unit's DeviceAllow= names them; systemd stat()s them when
 * it starts the app, after us. Nodes of the numbers the run mounted, not
 * links into the app's root, which the app could redirect. */
static int step_device_links(Context *c) {
        _cleanup_free_ char *from_path = NULL;
        _cleanup_close_ int from = -1, devs = -1, to = -1;
        DIR *d;
        int r = 0;

        if (asprintf(&from_path, "/" STAGE1_DEVICE_LINKS "/%s", c->app) < 0)
                return log_errno(-ENOMEM, "Failed to make the device volumes' nodes");
        from = open(from_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (from < 0 && errno == ENOENT)
                return 0;
        if (from < 0)
                return log_errno(negative_errno(), "Failed to open '%s'", from_path);
        devs = fd_mkdir_open(AT_FDCWD, POD_DEVICE_LINKS, 0700, O_PATH);
        to = devs < 0 ? devs : fd_mkdir_open(devs, c->app, 0700, O_PATH);
        if (to < 0)
                return log_errno(to, "Failed to create '%s/%s'", POD_DEVICE_LINKS, c->app);
        d = fdopendir(from);
        if (!d)
                return log_errno(negative_errno(), "Failed to read '%s'", from_path);
        TAKE_FD(from);
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *line = NULL;
                mode_t type;
                dev_t dev;
                size_t size;

                if (de->d_name[0] == '.')
                        continue;
                r = fd_read_file_in_root(dirfd(d), de->d_name, 64, &line, &size);
                if (r >= 0)
                        r = parse_device(line, &type, &dev);
                if (r < 0) {
                        r = log_errno(r, "Failed to read the device record '%s/%s'", from_path, de->d_name);
                        break;
                }
                /* A node left by an earlier start of this app goes first
                 * (ENOENT otherwise, ignored). */
                (void) unlinkat(to, de->d_name, 0);
                if (mknodat(to, de->d_name, type | 0600, dev) < 0) {
                        r = log_errno(negative_errno(), "Failed to make '%s/%s/%s'", POD_DEVICE_LINKS, c->app,
                                      de->d_name);
                        break;
                }
        }
        closedir(d);
        return r;
}

/* --- main -------------------------------------------------------------------------------- */

static int prepare(Context *c) {
        int r;

        r = step_open_root(c);
        if (r < 0)
                return r;
        r = step_check_prepared(c);
        if (r < 0)
                return r;
        if (r > 0) {
                log_error("'%s' is already prepared", c->root);
                return 0;
        }
        if ((r = step_base_dirs(c)) < 0 || (r = step_bind_root(c)) < 0)
                return r;
        if ((r = step_proc(c)) < 0 || (r = step_sys(c)) < 0 || (r = step_paths(c)) < 0 ||
            (r = step_dev(c)) < 0 || (r = step_run(c)) < 0 ||
            (r = step_etc(c)) < 0 || (r = step_device_links(c)) < 0 || (r = step_mark_prepared(c)) < 0) {
                undo_bind_root(c);
                return r;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "disable-paths", no_argument, NULL, 'P' },
                { "pod-hosts", no_argument, NULL, 'H' },
                {},
        };
        Context c = { .rootfd = -1 };
        int opt, r;

        log_set_program("prepare-app");
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                case 'P':
                        c.disable_paths = true;
                        break;
                case 'H':
                        c.pod_hosts = true;
                        break;
                default:
                        fputs(usage, stderr);
                        return EXIT_USAGE;
                }
        if (argc - optind != 1) {
                fputs(usage, stderr);
                return EXIT_USAGE;
        }
        c.root = argv[optind];
        r = parse_root(c.root, &c.app);
        if (r < 0) {
                log_error("APP_ROOT must be " STAGE2_DIR "<app name>/rootfs, not '%s'", c.root);
                return EXIT_USAGE;
        }

        /* Modes are given explicitly everywhere (01777 for /tmp). */
        umask(0);
        r = prepare(&c);
        closep(&c.rootfd);
        free(c.app);
        if (r < 0)
                return c.unsafe ? EXIT_INVALID : EXIT_INTERNAL;
        return EXIT_OK;
}
