/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bind-mount.h"
#include "chase.h"
#include "fd-util.h"
#include "idmap.h"
#include "macro.h"
#include "names.h"
#include "parse-util.h"
#include "pod-bind.h"
#include "pod-enter.h"
#include "pod-stop.h"
#include "pod.h"
#include "proc-state.h"
#include "strbuf.h"

#define BINDS_FILE "binds"
#define BINDS_LOCK "binds.lock"
#define BINDS_MAX (1024 * 1024)
#define BINDS_PER_APP_MAX 256

void pod_binds_free(PodBind *b, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(b[i].app);
                free(b[i].dest);
                free(b[i].source);
        }
        free(b);
}

/* Records are lines "app\tdest\tsource\tro|rw\tmount-id\tns-inode"; the
 * paths in them never hold a control character (pod_bind() refuses them). */
static int parse_binds(char *data, PodBind **ret, size_t *ret_n) {
        PodBind *b = NULL;
        size_t n = 0;

        for (char *line = data, *next; line && *line; line = next) {
                char *f[6];
                PodBind *nb;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                f[0] = line;
                for (int i = 1; i < 6; i++) {
                        f[i] = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
                        if (f[i])
                                *f[i]++ = 0;
                }
                PodBind rec = { .read_only = f[3] && strcmp(f[3], "ro") == 0 };
                if (!f[5] || parse_uint64(f[4], &rec.mount_id) < 0 || parse_uint64(f[5], &rec.ns_inode) < 0)
                        continue; /* not ours */
                nb = reallocarray(b, n + 1, sizeof(PodBind));
                if (!nb) {
                        pod_binds_free(b, n);
                        return -ENOMEM;
                }
                b = nb;
                rec.app = strdup(f[0]);
                rec.dest = strdup(f[1]);
                rec.source = strdup(f[2]);
                b[n++] = rec;
                if (!rec.app || !rec.dest || !rec.source) {
                        pod_binds_free(b, n);
                        return -ENOMEM;
                }
        }
        *ret = b;
        *ret_n = n;
        return 0;
}

static int read_records(int pod_fd, PodBind **ret, size_t *ret_n) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = fd_read_file_in_root(pod_fd, BINDS_FILE, BINDS_MAX, &data, &size);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;
        return parse_binds(data, ret, ret_n);
}

/* Rewrites the records: `add` added, and without those of `app` that are
 * `drop_id` or of another namespace than `ns_inode` (gone with it). The
 * caller holds the records' lock. */
static int records_update(int pod_fd, const PodBind *add, const char *app, uint64_t drop_id, uint64_t ns_inode) {
        _cleanup_strbuf_ StrBuf out = STRBUF_INIT;
        PodBind *b = NULL;
        size_t n = 0;
        int r;

        r = read_records(pod_fd, &b, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i <= n; i++) {
                const PodBind *x = i < n ? &b[i] : add;

                if (!x)
                        break;
                if (x != add && strcmp(x->app, app) == 0 && (x->mount_id == drop_id || x->ns_inode != ns_inode))
                        continue;
                strbuf_printf(&out, "%s\t%s\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\n", x->app, x->dest, x->source,
                              x->read_only ? "ro" : "rw", x->mount_id, x->ns_inode);
        }
        pod_binds_free(b, n);
        if (strbuf_error(&out) < 0)
                return -ENOMEM;
        return fd_write_file_atomic(pod_fd, BINDS_FILE, out.data ? out.data : "", out.len, 0600);
}

static int lock_records(int pod_fd) {
        int fd = openat(pod_fd, BINDS_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (fd < 0)
                return negative_errno();
        if (flock(fd, LOCK_EX) < 0) {
                safe_close(fd);
                return negative_errno();
        }
        return fd;
}

/* The ids of the app's recorded mounts in namespace `ns_inode`. */
static int app_mount_ids(int pod_fd, const char *app, uint64_t ns_inode, uint64_t *ids, size_t *ret_n) {
        PodBind *b = NULL;
        size_t n = 0, k = 0;
        int r;

        r = read_records(pod_fd, &b, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && k < BINDS_PER_APP_MAX; i++)
                if (strcmp(b[i].app, app) == 0 && b[i].ns_inode == ns_inode)
                        ids[k++] = b[i].mount_id;
        pod_binds_free(b, n);
        *ret_n = k;
        return 0;
}

/* What the join needs of the app, opened from the host: its mount
 * namespace and its root, from /proc/<pid>/, checked after the opens to be
 * the process of the pidfd still (then the pid was not reused), and the
 * namespace checked to be owned by the pod's user namespace. */
typedef struct AppNs {
        int ns_fd, root_fd;
        uint64_t ns_inode;
        uint32_t shift; /* the host's uid of the pod's root in a user-namespaced pod
                         * (run --private-users); else 0 */
} AppNs;

static void app_ns_done(AppNs *a) {
        a->ns_fd = safe_close(a->ns_fd);
        a->root_fd = safe_close(a->root_fd);
}

static int open_app_ns(const PodBindTarget *t, AppNs *ret) {
        _cleanup_close_ int owner = -1, pod_user = -1;
        char path[64];
        struct stat a, b;

        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int) t->pid);
        ret->ns_fd = open(path, O_RDONLY | O_CLOEXEC);
        snprintf(path, sizeof(path), "/proc/%d/root", (int) t->pid);
        ret->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ret->ns_fd < 0 || ret->root_fd < 0)
                return -ESRCH;
        if (syscall(SYS_pidfd_send_signal, t->pidfd, 0, NULL, 0) < 0)
                return -ESRCH;
        if (fstat(ret->ns_fd, &a) < 0)
                return negative_errno();
        ret->ns_inode = a.st_ino;
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int) t->init_pid);
        pod_user = open(path, O_RDONLY | O_CLOEXEC);
        owner = ioctl(ret->ns_fd, NS_GET_USERNS);
        if (pod_user < 0 || owner < 0 || fstat(pod_user, &a) < 0 || fstat(owner, &b) < 0)
                return -ESRCH;
        if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                return -EPERM;
        if (stat("/proc/self/ns/user", &b) < 0)
                return negative_errno();
        if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
                /* A user-namespaced pod (docs/security.md, "User namespaces"):
                 * what is made in the app's root for the bind is the pod's
                 * root's; the source keeps its owners as the host has them,
                 * as a host volume does. */
                _cleanup_close_ int proc = -1;
                int r;

                snprintf(path, sizeof(path), "/proc/%d", (int) t->init_pid);
                proc = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (proc < 0)
                        return -ESRCH;
                r = proc_uid_to_outside(proc, 0, &ret->shift);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A path the records and `status` can carry: UTF-8 without controls. */
static bool path_is_printable(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return utf8_is_valid(s, strlen(s)) && strlen(s) < PATH_MAX;
}

typedef struct ChildResult {
        int r;
        uint64_t mount_id;
} ChildResult;

/* In a child: join the app's mount namespace and attach `tree` at `dest`
 * (tree < 0: detach the mount at `dest`, if it is one of `ids`). The
 * result, the mount's id and the resolved destination come back through a
 * pipe. */
static int in_app_namespace(const AppNs *ns, int tree, const char *dest, BindMountFlags flags, const uint64_t *ids,
                            size_t n_ids, uint64_t *ret_id, char **ret_dest) {
        _cleanup_close_ int rd = -1, wr = -1;
        int p[2], status;
        pid_t child;

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        rd = p[0];
        wr = p[1];
        child = fork();
        if (child < 0)
                return negative_errno();
        if (child == 0) {
                _cleanup_free_ char *resolved = NULL;
                _cleanup_close_ int target = -1;
                /* The child's own fd directory, before the join: the pod's
                 * /proc has no entry for us. */
                int proc_fds = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                const int keep[] = { wr, ns->ns_fd, ns->root_fd, tree, proc_fds };
                ChildResult res = {};
                bool is_root = false;
                uint64_t id = 0;

                /* Nothing of ours goes into the app's namespace but what
                 * the join needs, and nobody there may ptrace us. */
                res.r = proc_fds < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ? negative_errno() : 0;
                if (res.r >= 0)
                        res.r = fd_close_all_except(keep, ELEMENTSOF(keep));
                if (res.r >= 0 && setns(ns->ns_fd, CLONE_NEWNS) < 0)
                        res.r = negative_errno();
                if (res.r >= 0 && tree >= 0 && ns->shift > 0)
                        res.r = idmap_become(ns->shift);
                if (res.r >= 0)
                        res.r = tree >= 0 ? bind_mount_resolve(tree, ns->root_fd, dest, flags, &target, &resolved)
                                          : chase_in_root(ns->root_fd, dest, 0, &target, &resolved);
                if (tree >= 0 && ns->shift > 0)
                        idmap_unbecome();
                if (res.r >= 0 && !path_is_printable(resolved))
                        res.r = -EBADMSG;
                if (res.r >= 0)
                        res.r = bind_mount_id(target, &id, &is_root);
                if (res.r >= 0) {
                        bool ours = false;

                        for (size_t i = 0; i < n_ids; i++)
                                ours = ours || (is_root && ids[i] == id);
                        if (tree >= 0 && ours)
                                res.r = -EEXIST;
                        else if (tree < 0 && !ours)
                                res.r = -EINVAL;
                }
                if (res.r >= 0 && tree >= 0) {
                        res.r = bind_mount_attach(tree, target, &res.mount_id);
                } else if (res.r >= 0) {
                        res.mount_id = id;
                        res.r = bind_mount_detach(target, proc_fds);
                }
                if (fd_write_all(wr, &res, sizeof(res)) < 0 ||
                    (res.r >= 0 && fd_write_all(wr, resolved, strlen(resolved)) < 0)) {
                        /* Nobody will know of this bind: undo it. */
                        if (res.r >= 0 && tree >= 0)
                                (void) bind_mount_detach(tree, proc_fds);
                        _exit(1);
                }
                _exit(res.r >= 0 ? 0 : 1);
        }
        wr = safe_close(wr);
        {
                _cleanup_free_ char *buf = NULL;
                ChildResult res;
                size_t size;
                int r;

                r = fd_read_all(rd, PATH_MAX + sizeof(res), &buf, &size);
                while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                        ;
                if (r < 0)
                        return r;
                if (size < sizeof(res))
                        return -EIO;
                memcpy(&res, buf, sizeof(res));
                if (res.r < 0)
                        return res.r;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        return -EIO;
                *ret_dest = strndup(buf + sizeof(res), size - sizeof(res));
                if (!*ret_dest)
                        return -ENOMEM;
                *ret_id = res.mount_id;
                return 0;
        }
}

/* "/", "/x/..", "/./": a destination that is the app's root as written. */
static bool path_is_root_lexically(const char *p) {
        int depth = 0;

        for (const char *s = p; *s;) {
                size_t n;

                s += strspn(s, "/");
                n = strcspn(s, "/");
                if (n == 2 && strncmp(s, "..", 2) == 0)
                        depth = depth > 0 ? depth - 1 : 0;
                else if (n > 0 && !(n == 1 && *s == '.'))
                        depth++;
                s += n;
        }
        return depth == 0;
}

static const char *bind_failure(int r) {
        switch (r) {
        case -ENOENT:
                return "it does not exist (--mkdir creates it)";
        case -EBUSY:
                return "that is the app's root";
        case -ENOTDIR:
                return "the source is a directory, the destination is not";
        case -EISDIR:
                return "the source is not a directory, the destination is one";
        case -EEXIST:
                return "a bind is there already (unbind it first)";
        case -EBADMSG:
                return "the resolved destination has control characters or is not UTF-8";
        case -EPERM:
                return "the app's mount namespace is not the pod's (the app made one of its own)";
        case -ESRCH:
                return "the app is not running any more";
        default:
                return NULL;
        }
}

/* What bind and unbind do first: the app's namespace opened and checked,
 * the records locked, the ids of the app's mounts in that namespace. */
static int begin(const PodBindTarget *t, AppNs *ns, int *ret_lock, uint64_t ids[static BINDS_PER_APP_MAX],
                 size_t *ret_n_ids, NpError *err) {
        int r;

        r = open_app_ns(t, ns);
        if (r < 0)
                return error_set(err, r, t->app, "%s", bind_failure(r) ? bind_failure(r) : strerror(-r));
        *ret_lock = lock_records(t->pod_fd);
        if (*ret_lock < 0)
                return error_set(err, *ret_lock, BINDS_LOCK, "cannot lock: %s", strerror(-*ret_lock));
        r = app_mount_ids(t->pod_fd, t->app, ns->ns_inode, ids, ret_n_ids);
        if (r < 0)
                return error_set(err, r, BINDS_FILE, "cannot read: %s", strerror(-r));
        return 0;
}

int pod_bind(const PodBindTarget *t, const char *source, const char *dest, PodBindFlags flags, char **ret_dest,
             NpError *err) {
        _cleanup_(app_ns_done) AppNs ns = { .ns_fd = -1, .root_fd = -1 };
        _cleanup_close_ int tree = -1, lock = -1;
        _cleanup_free_ char *resolved = NULL;
        uint64_t ids[BINDS_PER_APP_MAX], id;
        BindMountFlags bf = 0;
        struct stat st;
        size_t n_ids = 0;
        int r;

        if (!path_is_printable(source) || !path_is_printable(dest))
                return error_set(err, -EINVAL, NULL, "paths with control characters or invalid UTF-8 are refused");
        if (path_is_root_lexically(dest))
                return error_set(err, -EBUSY, dest, "is the app's root; a bind cannot replace it");
        if (flags & POD_BIND_READ_ONLY)
                bf |= BIND_MOUNT_READ_ONLY;
        if (flags & POD_BIND_MKDIR)
                bf |= BIND_MOUNT_MKDIR;
        /* machinectl bind's: the source alone, not what is mounted below it. */
        r = bind_mount_clone(AT_FDCWD, source, bf, &tree);
        if (r < 0)
                return error_set(err, r, source, "cannot open the source: %s", strerror(-r));
        if (fstat(tree, &st) < 0)
                return error_set(err, negative_errno(), source, "cannot inspect the source: %m");
        /* The app's device policy is its unit's, fixed when it started. */
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                return error_set(err, -EOPNOTSUPP, source,
                                 "is a device node: a running app's device policy cannot grow; give it as a device "
                                 "volume when the pod starts (docs/volumes.md)");
        r = begin(t, &ns, &lock, ids, &n_ids, err);
        if (r < 0)
                return r;
        if (n_ids >= BINDS_PER_APP_MAX)
                return error_set(err, -E2BIG, t->app, "has %d binds already", BINDS_PER_APP_MAX);
        r = in_app_namespace(&ns, tree, dest, bf, ids, n_ids, &id, &resolved);
        if (r < 0)
                return error_set(err, r, NULL, "cannot mount %s at %s in app \"%s\": %s", source, dest, t->app,
                                 bind_failure(r) ? bind_failure(r) : strerror(-r));
        PodBind rec = { .app = (char *) t->app, .dest = resolved, .source = (char *) source,
                        .read_only = flags & POD_BIND_READ_ONLY, .mount_id = id, .ns_inode = ns.ns_inode };
        r = records_update(t->pod_fd, &rec, t->app, 0, ns.ns_inode);
        if (r < 0) {
                /* A bind nobody knows of must not stay. */
                _cleanup_free_ char *again = NULL;
                uint64_t gone;

                (void) in_app_namespace(&ns, -1, resolved, 0, &id, 1, &gone, &again);
                return error_set(err, r, BINDS_FILE, "cannot record the bind (undone): %s", strerror(-r));
        }
        *ret_dest = TAKE_PTR(resolved);
        return 0;
}

int pod_unbind(const PodBindTarget *t, const char *dest, char **ret_dest, NpError *err) {
        _cleanup_(app_ns_done) AppNs ns = { .ns_fd = -1, .root_fd = -1 };
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *resolved = NULL;
        uint64_t ids[BINDS_PER_APP_MAX], id;
        size_t n_ids = 0;
        int r;

        r = begin(t, &ns, &lock, ids, &n_ids, err);
        if (r < 0)
                return r;
        r = in_app_namespace(&ns, -1, dest, 0, ids, n_ids, &id, &resolved);
        if (r < 0)
                return error_set(err, r, NULL, "cannot unbind %s in app \"%s\": %s", dest, t->app,
                                 r == -EINVAL ? "nothing bound by nspawn-pod bind is there" :
                                 bind_failure(r) ? bind_failure(r) : strerror(-r));
        r = records_update(t->pod_fd, NULL, t->app, id, ns.ns_inode);
        if (r < 0)
                return error_set(err, r, BINDS_FILE, "unbound, but cannot update the record: %s", strerror(-r));
        *ret_dest = TAKE_PTR(resolved);
        return 0;
}

int pod_binds_read(int pod_fd, const uint8_t uuid[16], PodBind **ret, size_t *ret_n) {
        _cleanup_close_ int nspawn_fd = -1;
        PodBind *b = NULL;
        pid_t nspawn_pid, init_pid;
        size_t n = 0, k = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;
        r = read_records(pod_fd, &b, &n);
        if (r < 0 || n == 0)
                return r;
        r = pod_pin_nspawn(pod_fd, uuid, &nspawn_fd, &nspawn_pid);
        if (r >= 0)
                r = pod_init_pid(nspawn_pid, &init_pid);
        if (r < 0) {
                pod_binds_free(b, n);
                return 0; /* not running: its binds are gone */
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int pidfd = -1;
                struct stat st;
                char path[64];
                pid_t pid;
                bool live;

                live = pod_app_main_process(init_pid, b[i].app, &pidfd, &pid) >= 0;
                snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int) pid);
                live = live && stat(path, &st) >= 0 && st.st_ino == b[i].ns_inode &&
                       syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) >= 0;
                if (!live) {
                        free(b[i].app);
                        free(b[i].dest);
                        free(b[i].source);
                        continue;
                }
                b[k++] = b[i];
        }
        *ret = b;
        *ret_n = k;
        return 0;
}
