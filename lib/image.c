/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "rm-rf.h"
#include "fd-util.h"
#include "image.h"
#include "strbuf.h"
#include "strv.h"

/* fchmodat2() (Linux 6.6) changes a mode without following a final symlink and
 * without glibc's /proc/self/fd detour; the number is the same on every
 * architecture (new syscalls share one table). */
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

#define COPY_BUFFER_SIZE (128U * 1024U)
#define DISPLAY_MAX 256U /* bytes of a hostile entry name quoted in a message */


/* One entry of the image, from a tar header or from a directory walk: the
 * same checks and the same creation code serve both. */
typedef struct Entry {
        const char *name;   /* as found in the image, for messages */
        mode_t type;        /* S_IFMT bits (a hardlink's are not looked at) */
        mode_t perm;        /* the 07777 bits */
        int64_t uid, gid;
        dev_t rdev;
        bool mtime_set;
        struct timespec mtime;
        int64_t size;
        const char *symlink;  /* target of a symlink */
        const char *hardlink; /* set: a hardlink to this earlier entry */
        struct archive *archive; /* contents come from here, */
        int data_fd;             /* or from here (-1: none) */
} Entry;

/* Directory metadata is applied after everything else: a 0555 directory must
 * not stop what comes below it, and creating entries would change its mtime. */
typedef struct DirRecord {
        char *path; /* normalized, relative to the destination */
        uint64_t seq;
        bool explicit; /* from an entry; otherwise created implicitly (0755, root) */
        mode_t perm;
        uid_t uid;
        gid_t gid;
        bool mtime_set;
        struct timespec mtime;
} DirRecord;

typedef struct Importer {
        const char *image_path;
        int dest_fd;   /* borrowed */
        int rootfs_fd; /* dest/rootfs, O_PATH, once created */
        NpError *err;
        uint64_t max_entries, max_bytes;
        uint64_t n_entries, n_bytes;

        char *manifest_data;
        size_t manifest_size;
        Image *manifest;

        DirRecord *dirs;
        size_t n_dirs, n_dirs_allocated;
        size_t dir_path_bytes;
        uint64_t seq;

        /* The parent directory of the previous entry: archives list a
         * directory's entries together, so most walks are skipped. Safe to
         * keep because a directory, once created, is never removed or
         * replaced during an import (only regular files are replaced). */
        char *cache_path;
        int cache_fd;

        void *inodes; /* tsearch() tree of multiply linked files (directory images) */
} Importer;

/* A hostile name may be long or hold control characters: quote a printable,
 * bounded form of it. */
static char *display_name(const char *s) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        size_t n = 0;

        for (; *s && n < DISPLAY_MAX; s++, n++) {
                unsigned char c = (unsigned char) *s;

                if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
                        strbuf_printf(&b, "\\x%02x", c);
                else
                        strbuf_putc(&b, (char) c);
        }
        if (*s)
                strbuf_append(&b, "...");
        return strbuf_steal(&b, NULL);
}

static int fail(Importer *im, int code, const char *fmt, ...) _printf_(3, 4);
static int fail(Importer *im, int code, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0)
                return error_set(im->err, code, im->image_path, "out of memory");
        return error_set(im->err, code, im->image_path, "%s", m);
}

static int fail_entry(Importer *im, const char *entry, int code, const char *fmt, ...) _printf_(4, 5);
static int fail_entry(Importer *im, const char *entry, int code, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL, *d = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        d = display_name(entry);
        if (r < 0 || !d)
                return error_set(im->err, code, im->image_path, "out of memory");
        return error_set(im->err, code, im->image_path, "entry \"%s\": %s", d, m);
}

static const char *type_name(mode_t type) {
        switch (type) {
        case S_IFREG:
                return "regular file";
        case S_IFDIR:
                return "directory";
        case S_IFLNK:
                return "symlink";
        case S_IFCHR:
                return "character device";
        case S_IFBLK:
                return "block device";
        case S_IFIFO:
                return "FIFO";
        case S_IFSOCK:
                return "socket";
        default:
                return "file of unknown type";
        }
}

/* ---- paths ---------------------------------------------------------------- */

/* Splits an entry name (or hardlink target) into components: "." and empty
 * components are dropped ("./rootfs//bin/" is "rootfs", "bin"); absolute
 * names and ".." anywhere are refused, so no entry can name anything outside
 * the destination even before a single syscall is made. */
static int split_path(Importer *im, const char *entry, const char *what, const char *p, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t len = strlen(p);

        if (len == 0)
                return fail_entry(im, entry, -EINVAL, "%s is empty", what);
        if (len >= PATH_MAX)
                return fail_entry(im, entry, -ENAMETOOLONG, "%s is %zu bytes long, the limit is %d", what,
                                  len, PATH_MAX - 1);
        if (p[0] == '/')
                return fail_entry(im, entry, -EPERM, "%s is an absolute path", what);

        while (*p) {
                size_t n = strcspn(p, "/");

                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return fail_entry(im, entry, -EPERM, "%s contains a \"..\" component", what);
                if (n > NAME_MAX)
                        return fail_entry(im, entry, -ENAMETOOLONG,
                                          "%s has a component of %zu bytes, the limit is %d", what, n,
                                          NAME_MAX);
                if (n > 0 && !(n == 1 && p[0] == '.')) {
                        char *c = strndup(p, n);

                        if (!c || strv_consume(&l, c) < 0)
                                return -ENOMEM;
                }
                p += n;
                while (*p == '/')
                        p++;
        }
        if (strv_length(l) > IMAGE_DEPTH_MAX + 1)
                return fail_entry(im, entry, -ELOOP, "%s is more than %u directories deep", what,
                                  IMAGE_DEPTH_MAX);
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* A relative symlink target must not climb above the root lexically. At run
 * time the app is chrooted and ".." stops at its root anyway, but tools on
 * the host (and our own code, were it ever to follow one) would leave the
 * image: such a link has no legitimate use. Absolute targets are normal in
 * images and resolve inside the app's root at run time; they are kept. */
static bool symlink_target_escapes(char *const *comps, size_t n_comps, const char *target) {
        /* comps[0] is "rootfs", comps[n-1] the link: it lives n-2 levels deep. */
        long depth = (long) n_comps - 2;

        if (target[0] == '/')
                return false;
        for (const char *p = target; *p;) {
                size_t n = strcspn(p, "/");

                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (--depth < 0)
                                return true;
                } else if (n > 0 && !(n == 1 && p[0] == '.'))
                        depth++;
                p += n;
                while (*p == '/')
                        p++;
        }
        return false;
}

static char *join_components(char *const *comps, size_t n) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;

        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        strbuf_putc(&b, '/');
                strbuf_append(&b, comps[i]);
        }
        return strbuf_steal(&b, NULL);
}

/* ---- directory records ---------------------------------------------------- */

static int dir_record_add(Importer *im, const char *path, const Entry *e) {
        size_t len = strlen(path);
        DirRecord *d;

        if (im->dir_path_bytes + len + 1 > IMAGE_DIR_PATHS_MAX)
                return fail(im, -E2BIG, "more than %u bytes of directory names", IMAGE_DIR_PATHS_MAX);
        if (im->n_dirs == im->n_dirs_allocated) {
                size_t n = im->n_dirs_allocated ? im->n_dirs_allocated * 2 : 64;
                DirRecord *p = reallocarray(im->dirs, n, sizeof(DirRecord));

                if (!p)
                        return -ENOMEM;
                im->dirs = p;
                im->n_dirs_allocated = n;
        }
        d = &im->dirs[im->n_dirs];
        *d = (DirRecord){ .seq = im->seq++, .perm = 0755 };
        d->path = strdup(path);
        if (!d->path)
                return -ENOMEM;
        if (e) {
                d->explicit = true;
                d->perm = e->perm;
                d->uid = (uid_t) e->uid;
                d->gid = (gid_t) e->gid;
                d->mtime_set = e->mtime_set;
                d->mtime = e->mtime;
        }
        im->n_dirs++;
        im->dir_path_bytes += len + 1;
        return 0;
}

/* Children before parents (a child's path extends its parent's, so it sorts
 * after it; we walk backwards), and for one path the latest record first. */
static int dir_record_cmp(const void *a, const void *b) {
        const DirRecord *x = a, *y = b;
        int c = strcmp(x->path, y->path);

        if (c != 0)
                return -c;
        return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

/* Opens dest/<path> (a directory we created) component by component without
 * following symlinks, for reading, so that fchown/fchmod/futimens work. */
static int open_recorded_dir(int dest_fd, const char *path) {
        _cleanup_close_ int cur = -1;

        cur = fcntl(dest_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return negative_errno();
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");
                _cleanup_free_ char *c = strndup(p, n);
                bool last = p[n] == 0;
                int fd;

                if (!c)
                        return -ENOMEM;
                fd = fd_open_dir_nofollow(cur, c, last ? O_RDONLY : O_PATH);
                if (fd < 0)
                        return fd;
                (void) close(cur);
                cur = fd;
                p += n;
                while (*p == '/')
                        p++;
        }
        return TAKE_FD(cur);
}

static int apply_dir_records(Importer *im) {
        if (im->n_dirs == 0)
                return 0;
        qsort(im->dirs, im->n_dirs, sizeof(DirRecord), dir_record_cmp);
        for (size_t i = 0; i < im->n_dirs; i++) {
                const DirRecord *d = &im->dirs[i];
                _cleanup_close_ int fd = -1;

                if (i > 0 && strcmp(im->dirs[i - 1].path, d->path) == 0)
                        continue; /* an earlier record for the same directory: superseded */

                fd = open_recorded_dir(im->dest_fd, d->path);
                if (fd < 0)
                        return fail_entry(im, d->path, fd, "cannot open the directory again: %s",
                                          strerror(-fd));
                /* Owner first: chown clears the setgid bit, the mode puts it back. */
                if (d->explicit && fchown(fd, d->uid, d->gid) < 0)
                        return fail_entry(im, d->path, negative_errno(), "cannot change the owner: %m");
                if (fchmod(fd, d->perm) < 0)
                        return fail_entry(im, d->path, negative_errno(), "cannot change the mode: %m");
                if (d->mtime_set) {
                        struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, d->mtime };

                        if (futimens(fd, ts) < 0)
                                return fail_entry(im, d->path, negative_errno(), "cannot set the mtime: %m");
                }
        }
        return 0;
}

/* ---- creating entries ----------------------------------------------------- */

static int ensure_rootfs(Importer *im) {
        int fd;

        if (im->rootfs_fd >= 0)
                return 0;
        /* The destination was empty and only we write to it: rootfs cannot exist. */
        if (mkdirat(im->dest_fd, "rootfs", 0700) < 0)
                return fail(im, negative_errno(), "cannot create rootfs/: %m");
        fd = fd_open_dir_nofollow(im->dest_fd, "rootfs", O_PATH);
        if (fd < 0)
                return fail(im, fd, "cannot open rootfs/: %s", strerror(-fd));
        im->rootfs_fd = fd;
        return dir_record_add(im, "rootfs", NULL);
}

/* Walks comps[1..n-1] below rootfs/ one component at a time, never following
 * a symlink: an entry below "rootfs/a" where "a" is a symlink (to /etc, or
 * to "..") is refused instead of being written wherever the link points.
 * With `create`, missing directories are made (0700 for now, 0755 root at the
 * end, as tar does for parents it has to invent). Returns an O_PATH fd. */
static int walk_dirs(Importer *im, const char *entry, char *const *comps, size_t n, bool create) {
        _cleanup_strbuf_ StrBuf path = STRBUF_INIT;
        _cleanup_close_ int cur = -1;

        cur = fcntl(im->rootfs_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return negative_errno();
        strbuf_append(&path, comps[0]);

        for (size_t i = 1; i < n; i++) {
                int fd;

                strbuf_putc(&path, '/');
                strbuf_append(&path, comps[i]);
                if (strbuf_error(&path) < 0)
                        return -ENOMEM;

                fd = fd_open_dir_nofollow(cur, comps[i], O_PATH);
                if (fd == -ENOENT && create) {
                        int r;

                        if (mkdirat(cur, comps[i], 0700) < 0)
                                fd = negative_errno();
                        else {
                                r = dir_record_add(im, path.data, NULL);
                                if (r < 0)
                                        return r;
                                fd = fd_open_dir_nofollow(cur, comps[i], O_PATH);
                        }
                }
                if (fd < 0) {
                        _cleanup_free_ char *shown = display_name(path.data);
                        struct stat st;

                        if (!shown)
                                return -ENOMEM;
                        if (IN_SET(fd, -ENOTDIR, -ELOOP)) {
                                if (fstatat(cur, comps[i], &st, AT_SYMLINK_NOFOLLOW) >= 0 &&
                                    S_ISLNK(st.st_mode))
                                        return fail_entry(im, entry, -ELOOP,
                                                          "\"%s\" is a symlink; refusing to go through it",
                                                          shown);
                                return fail_entry(im, entry, -ENOTDIR, "\"%s\" is not a directory", shown);
                        }
                        if (fd == -ENOENT)
                                return fail_entry(im, entry, fd, "\"%s\" does not exist", shown);
                        return fail_entry(im, entry, fd, "cannot open or create \"%s\": %s", shown,
                                          strerror(-fd));
                }
                (void) close(cur);
                cur = fd;
        }
        return TAKE_FD(cur);
}

/* The parent of comps[n-1], through the one-entry cache. Returns an owned fd. */
static int open_parent(Importer *im, const char *entry, char *const *comps, size_t n) {
        _cleanup_free_ char *key = join_components(comps, n - 1);
        int fd;

        if (!key)
                return -ENOMEM;
        if (im->cache_path && strcmp(im->cache_path, key) == 0) {
                fd = fcntl(im->cache_fd, F_DUPFD_CLOEXEC, 3);
                return fd < 0 ? negative_errno() : fd;
        }
        fd = walk_dirs(im, entry, comps, n - 1, true);
        if (fd < 0)
                return fd;
        if (im->cache_fd >= 0)
                (void) close(im->cache_fd);
        free(im->cache_path);
        im->cache_path = TAKE_PTR(key);
        im->cache_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (im->cache_fd < 0) {
                free(im->cache_path);
                im->cache_path = NULL;
        }
        return fd;
}

/* ---- entry contents ------------------------------------------------------- */

/* Apparent sizes count against the limit, so a sparse file is charged for
 * its holes: cheap to check up front, before anything is written. */
static int charge_bytes(Importer *im, const Entry *e) {
        if (e->size < 0)
                return fail_entry(im, e->name, -EINVAL, "negative size");
        if ((uint64_t) e->size > im->max_bytes - im->n_bytes)
                return fail_entry(im, e->name, -EFBIG,
                                  "the image holds more than the limit of %llu bytes of file contents",
                                  (unsigned long long) im->max_bytes);
        im->n_bytes += (uint64_t) e->size;
        return 0;
}

static int pwrite_all(int fd, const char *p, size_t size, off_t offset) {
        while (size > 0) {
                ssize_t n = pwrite(fd, p, size, offset);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return -EIO;
                p += n;
                size -= (size_t) n;
                offset += n;
        }
        return 0;
}

/* Copies the entry's contents into `fd`. Archive data blocks carry their
 * offset (sparse files leave holes); the final ftruncate() gives the file its
 * declared size whatever the last block was. */
static int copy_contents(Importer *im, const Entry *e, int fd) {
        int r;

        if (e->archive) {
                for (;;) {
                        const void *buf;
                        size_t len;
                        la_int64_t off;
                        int k = archive_read_data_block(e->archive, &buf, &len, &off);

                        if (k == ARCHIVE_EOF)
                                break;
                        if (k != ARCHIVE_OK && k != ARCHIVE_WARN)
                                return fail_entry(im, e->name, -EIO, "cannot read its contents: %s",
                                                  strempty(archive_error_string(e->archive)));
                        if (off < 0 || (uint64_t) off > (uint64_t) e->size ||
                            len > (uint64_t) e->size - (uint64_t) off)
                                return fail_entry(im, e->name, -EINVAL, "contents beyond its declared size");
                        r = pwrite_all(fd, buf, len, (off_t) off);
                        if (r < 0)
                                return fail_entry(im, e->name, r, "cannot write: %s", strerror(-r));
                }
        } else if (e->data_fd >= 0) {
                _cleanup_free_ char *buf = malloc(COPY_BUFFER_SIZE);
                uint64_t left = (uint64_t) e->size;
                off_t off = 0;

                if (!buf)
                        return -ENOMEM;
                while (left > 0) {
                        ssize_t n = read(e->data_fd, buf, left < COPY_BUFFER_SIZE ? left : COPY_BUFFER_SIZE);

                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return fail_entry(im, e->name, negative_errno(), "cannot read: %m");
                        if (n == 0)
                                return fail_entry(im, e->name, -EIO, "shrank while being copied");
                        r = pwrite_all(fd, buf, (size_t) n, off);
                        if (r < 0)
                                return fail_entry(im, e->name, r, "cannot write: %s", strerror(-r));
                        off += n;
                        left -= (uint64_t) n;
                }
        }
        if (ftruncate(fd, (off_t) e->size) < 0)
                return fail_entry(im, e->name, negative_errno(), "cannot set its size: %m");
        return 0;
}

/* Reads the whole (small) entry into memory: the manifest. */
static int read_contents(Importer *im, const Entry *e, char *buf, size_t size) {
        size_t done = 0;

        while (done < size) {
                ssize_t n;

                if (e->archive)
                        n = archive_read_data(e->archive, buf + done, size - done);
                else if (e->data_fd >= 0)
                        n = read(e->data_fd, buf + done, size - done);
                else
                        n = 0;
                if (n < 0 && !e->archive && errno == EINTR)
                        continue;
                if (n < 0)
                        return fail_entry(im, e->name, -EIO, "cannot read: %s",
                                          e->archive ? strempty(archive_error_string(e->archive))
                                                     : strerror(errno));
                if (n == 0)
                        return fail_entry(im, e->name, -EIO, "shorter than its declared size");
                done += (size_t) n;
        }
        return 0;
}

static int read_manifest(Importer *im, const Entry *e) {
        _cleanup_error_ NpError sub = NP_ERROR_INIT;
        _cleanup_free_ char *buf = NULL;
        Image *img = NULL;
        int r;

        if (im->manifest_data)
                return fail_entry(im, e->name, -EEXIST, "a second manifest");
        if (e->hardlink)
                return fail_entry(im, e->name, -EPERM, "the manifest must be a regular file, not a hardlink");
        if (e->type != S_IFREG)
                return fail_entry(im, e->name, -EPERM, "the manifest must be a regular file, not a %s",
                                  type_name(e->type));
        if (e->size < 0 || (uint64_t) e->size > MANIFEST_SIZE_MAX)
                return fail_entry(im, e->name, -EFBIG, "the manifest is larger than %u bytes",
                                  MANIFEST_SIZE_MAX);
        buf = malloc((size_t) e->size + 1);
        if (!buf)
                return -ENOMEM;
        r = read_contents(im, e, buf, (size_t) e->size);
        if (r < 0)
                return r;
        buf[e->size] = 0;

        r = manifest_parse_image(buf, (size_t) e->size, &img, &sub);
        if (r < 0)
                return fail(im, r, "invalid manifest: %s", error_format(&sub, r));
        im->manifest = img;
        im->manifest_data = TAKE_PTR(buf);
        im->manifest_size = (size_t) e->size;
        return 0;
}

/* ---- creating entries below rootfs/ --------------------------------------- */

static int chmod_nofollow(int dirfd, const char *name, mode_t mode) {
        if (syscall(SYS_fchmodat2, dirfd, name, mode, AT_SYMLINK_NOFOLLOW) >= 0)
                return 0;
        if (!IN_SET(errno, ENOSYS, EPERM)) /* EPERM: a seccomp filter that predates fchmodat2 */
                return negative_errno();
        /* glibc emulates it through an O_PATH fd and /proc/self/fd. */
        return fchmodat(dirfd, name, mode, AT_SYMLINK_NOFOLLOW) < 0 ? negative_errno() : 0;
}

static struct timespec *entry_times(const Entry *e, struct timespec ts[2]) {
        ts[0] = (struct timespec){ .tv_nsec = UTIME_OMIT }; /* atime: leave it at "now" */
        ts[1] = e->mtime_set ? e->mtime : (struct timespec){ .tv_nsec = UTIME_OMIT };
        return ts;
}

/* Owner, mode and mtime of a non-directory we just created, by name, never
 * following a symlink. The owner goes first: chown clears setuid/setgid. */
static int apply_meta_at(Importer *im, const Entry *e, int parent, const char *name, bool chmod) {
        struct timespec ts[2];
        int r;

        if (fchownat(parent, name, (uid_t) e->uid, (gid_t) e->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return fail_entry(im, e->name, negative_errno(), "cannot change the owner: %m");
        if (chmod) {
                r = chmod_nofollow(parent, name, e->perm);
                if (r < 0)
                        return fail_entry(im, e->name, r, "cannot change the mode: %s", strerror(-r));
        }
        if (utimensat(parent, name, entry_times(e, ts), AT_SYMLINK_NOFOLLOW) < 0)
                return fail_entry(im, e->name, negative_errno(), "cannot set the mtime: %m");
        return 0;
}

/* Duplicates: as with tar, a later regular file replaces an earlier regular
 * file (and a later directory entry updates the directory's metadata, see
 * create_directory()). Any other clash is refused: replacing a symlink or a
 * directory silently would make the result depend on entry order in ways no
 * image builder intends. */
static int replace_regular(Importer *im, const Entry *e, int parent, const char *name) {
        struct stat st;

        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return fail_entry(im, e->name, negative_errno(), "cannot inspect the existing entry: %m");
        if (!S_ISREG(st.st_mode))
                return fail_entry(im, e->name, -EEXIST,
                                  "a %s of that name is already there (only a regular file may "
                                  "replace a regular file)",
                                  type_name(st.st_mode & S_IFMT));
        if (unlinkat(parent, name, 0) < 0)
                return fail_entry(im, e->name, negative_errno(), "cannot replace the earlier entry: %m");
        return 0;
}

/* An entry whose name is taken (other than by the duplicates allowed above). */
static int fail_exists(Importer *im, const Entry *e, int parent, const char *name) {
        struct stat st;

        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return fail_entry(im, e->name, -EEXIST, "an entry of that name is already there");
        return fail_entry(im, e->name, -EEXIST, "a %s of that name is already there",
                          type_name(st.st_mode & S_IFMT));
}

static int create_regular(Importer *im, const Entry *e, int parent, const char *name) {
        _cleanup_close_ int fd = -1;
        struct timespec ts[2];
        int r;

        r = charge_bytes(im, e);
        if (r < 0)
                return r;
        fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {
                r = replace_regular(im, e, parent, name);
                if (r < 0)
                        return r;
                fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
                            0600);
        }
        if (fd < 0)
                return fail_entry(im, e->name, negative_errno(), "cannot create: %m");

        r = copy_contents(im, e, fd);
        if (r < 0)
                return r;
        if (fchown(fd, (uid_t) e->uid, (gid_t) e->gid) < 0)
                return fail_entry(im, e->name, negative_errno(), "cannot change the owner: %m");
        if (fchmod(fd, e->perm) < 0)
                return fail_entry(im, e->name, negative_errno(), "cannot change the mode: %m");
        if (futimens(fd, entry_times(e, ts)) < 0)
                return fail_entry(im, e->name, negative_errno(), "cannot set the mtime: %m");
        return 0;
}

static int create_directory(Importer *im, const Entry *e, const char *path, int parent, const char *name) {
        if (mkdirat(parent, name, 0700) < 0) {
                struct stat st;

                if (errno != EEXIST)
                        return fail_entry(im, e->name, negative_errno(), "cannot create: %m");
                if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return fail_entry(im, e->name, negative_errno(),
                                          "cannot inspect the existing entry: %m");
                if (!S_ISDIR(st.st_mode))
                        return fail_exists(im, e, parent, name);
                /* Seen before (or made as a parent): the later entry's metadata wins. */
        }
        return dir_record_add(im, path, e);
}

static int create_symlink(Importer *im, const Entry *e, char *const *comps, size_t n, int parent) {
        const char *name = comps[n - 1];
        size_t len;

        if (!e->symlink || !*e->symlink)
                return fail_entry(im, e->name, -EINVAL, "symlink without a target");
        len = strlen(e->symlink);
        if (len >= PATH_MAX)
                return fail_entry(im, e->name, -ENAMETOOLONG, "symlink target of %zu bytes, the limit is %d",
                                  len, PATH_MAX - 1);
        if (symlink_target_escapes(comps, n, e->symlink)) {
                _cleanup_free_ char *t = display_name(e->symlink);

                return fail_entry(im, e->name, -EPERM, "symlink target \"%s\" climbs out of the image's root",
                                  strempty(t));
        }
        if (symlinkat(e->symlink, parent, name) < 0) {
                if (errno == EEXIST)
                        return fail_exists(im, e, parent, name);
                return fail_entry(im, e->name, negative_errno(), "cannot create the symlink: %m");
        }
        /* Linux ignores a symlink's mode. */
        return apply_meta_at(im, e, parent, name, false);
}

static int create_node(Importer *im, const Entry *e, int parent, const char *name) {
        /* Device nodes are allowed: the importer runs as root, and an image may
         * ship its own /dev entries; prepare-app mounts a fresh /dev over them. */
        if (mknodat(parent, name, e->type | 0600, e->type == S_IFIFO ? 0 : e->rdev) < 0) {
                if (errno == EEXIST)
                        return fail_exists(im, e, parent, name);
                return fail_entry(im, e->name, negative_errno(), "cannot create the %s: %m",
                                  type_name(e->type));
        }
        return apply_meta_at(im, e, parent, name, true);
}

/* A hardlink may only point at a regular file already extracted below
 * rootfs/, found by walking its path without following symlinks: linking
 * "../../etc/shadow", "/etc/shadow" or a symlink to it would otherwise give
 * the app a second name for a host file. */
static int create_hardlink(Importer *im, const Entry *e, int parent, const char *name) {
        _cleanup_strv_free_ char **target = NULL;
        _cleanup_close_ int srcdir = -1;
        _cleanup_free_ char *t = NULL;
        struct stat src, dst;
        size_t n;
        int r;

        t = display_name(e->hardlink);
        if (!t)
                return -ENOMEM;
        if (e->size > 0)
                return fail_entry(im, e->name, -EINVAL, "a hardlink that carries contents is not supported");
        r = split_path(im, e->name, "the hardlink target", e->hardlink, &target);
        if (r < 0)
                return r;
        n = strv_length(target);
        if (n < 2 || strcmp(target[0], "rootfs") != 0)
                return fail_entry(im, e->name, -EPERM, "hardlink target \"%s\" is outside rootfs/", t);

        srcdir = walk_dirs(im, e->name, target, n - 1, false);
        if (srcdir < 0)
                return srcdir;
        if (fstatat(srcdir, target[n - 1], &src, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return fail_entry(im, e->name, -ENOENT,
                                          "hardlink target \"%s\" does not exist (it must come earlier "
                                          "in the image)",
                                          t);
                return fail_entry(im, e->name, negative_errno(), "hardlink target \"%s\": %m", t);
        }
        if (!S_ISREG(src.st_mode))
                return fail_entry(im, e->name, -EPERM,
                                  "hardlink target \"%s\" is a %s; only regular files may be linked", t,
                                  type_name(src.st_mode & S_IFMT));

        /* flags 0: linkat() does not follow a symlink at the source. */
        if (linkat(srcdir, target[n - 1], parent, name, 0) >= 0)
                return 0;
        if (errno != EEXIST)
                return fail_entry(im, e->name, negative_errno(), "cannot create the hardlink: %m");
        if (fstatat(parent, name, &dst, AT_SYMLINK_NOFOLLOW) >= 0 && dst.st_dev == src.st_dev &&
            dst.st_ino == src.st_ino)
                return 0; /* already that file */
        r = replace_regular(im, e, parent, name);
        if (r < 0)
                return r;
        if (linkat(srcdir, target[n - 1], parent, name, 0) < 0)
                return fail_entry(im, e->name, negative_errno(), "cannot create the hardlink: %m");
        return 0;
}

static int import_entry(Importer *im, const Entry *e) {
        _cleanup_strv_free_ char **comps = NULL;
        _cleanup_close_ int parent = -1;
        _cleanup_free_ char *path = NULL;
        size_t n;
        int r;

        if (++im->n_entries > im->max_entries)
                return fail(im, -E2BIG, "more than the limit of %llu entries",
                            (unsigned long long) im->max_entries);
        r = split_path(im, e->name, "the name", e->name, &comps);
        if (r < 0)
                return r;
        n = strv_length(comps);

        if (n == 0) {
                /* "./": the image's top directory itself, as `tar -C dir .` writes it. */
                if (e->type == S_IFDIR && !e->hardlink)
                        return 0;
                return fail_entry(im, e->name, -EPERM, "names the top of the image but is not a directory");
        }
        if (n == 1 && strcmp(comps[0], "manifest") == 0)
                return read_manifest(im, e);
        if (strcmp(comps[0], "rootfs") != 0)
                return fail_entry(im, e->name, -EPERM,
                                  "not allowed: an image holds only \"manifest\" and \"rootfs/\"");

        /* (uid_t) -1 means "unchanged" to chown: not an owner. */
        if (e->uid < 0 || e->uid >= (int64_t) UINT32_MAX)
                return fail_entry(im, e->name, -ERANGE, "owner uid %lld is out of range", (long long) e->uid);
        if (e->gid < 0 || e->gid >= (int64_t) UINT32_MAX)
                return fail_entry(im, e->name, -ERANGE, "group gid %lld is out of range", (long long) e->gid);

        r = ensure_rootfs(im);
        if (r < 0)
                return r;
        if (n == 1) {
                if (e->hardlink || e->type != S_IFDIR)
                        return fail_entry(im, e->name, -ENOTDIR, "rootfs must be a directory, not a %s",
                                          e->hardlink ? "hardlink" : type_name(e->type));
                return dir_record_add(im, "rootfs", e);
        }

        parent = open_parent(im, e->name, comps, n);
        if (parent < 0)
                return parent;

        if (e->hardlink)
                return create_hardlink(im, e, parent, comps[n - 1]);

        switch (e->type) {
        case S_IFREG:
                return create_regular(im, e, parent, comps[n - 1]);
        case S_IFDIR:
                path = join_components(comps, n);
                if (!path)
                        return -ENOMEM;
                return create_directory(im, e, path, parent, comps[n - 1]);
        case S_IFLNK:
                return create_symlink(im, e, comps, n, parent);
        case S_IFCHR:
        case S_IFBLK:
        case S_IFIFO:
                return create_node(im, e, parent, comps[n - 1]);
        default:
                return fail_entry(im, e->name, -EOPNOTSUPP, "a %s cannot be part of an image",
                                  type_name(e->type));
        }
}

/* ---- sources -------------------------------------------------------------- */

static int import_archive(Importer *im, int fd) {
        _cleanup_(archive_read_freep) struct archive *a = NULL;

        a = archive_read_new();
        if (!a)
                return -ENOMEM;
        /* The compressions appc allows, and tar. Not archive_read_support_filter_all():
         * it also registers filters (lrzip, grzip, lzop) that run external
         * programs over the untrusted input. ARCHIVE_WARN means libarchive
         * lacks the library and would run the program: acceptable for these
         * three standard decompressors. */
        if (archive_read_support_filter_gzip(a) == ARCHIVE_FATAL ||
            archive_read_support_filter_bzip2(a) == ARCHIVE_FATAL ||
            archive_read_support_filter_xz(a) == ARCHIVE_FATAL ||
            archive_read_support_format_tar(a) != ARCHIVE_OK ||
            archive_read_support_format_gnutar(a) != ARCHIVE_OK)
                return fail(im, -EIO, "libarchive: %s", strempty(archive_error_string(a)));
        if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
                return fail(im, -EINVAL,
                            "not an ACI (a tar archive, plain or gzip, bzip2 or xz compressed): %s",
                            strempty(archive_error_string(a)));

        for (;;) {
                struct archive_entry *ae;
                const char *name;
                Entry e;
                int k, r;

                k = archive_read_next_header(a, &ae);
                if (k == ARCHIVE_EOF)
                        return 0;
                if (k != ARCHIVE_OK && k != ARCHIVE_WARN) {
                        if (im->n_entries == 0)
                                return fail(im, -EINVAL,
                                            "not an ACI (a tar archive, plain or gzip, bzip2 or xz "
                                            "compressed): %s",
                                            strempty(archive_error_string(a)));
                        return fail(im, -EIO, "cannot read the archive after %llu entries: %s",
                                    (unsigned long long) im->n_entries, strempty(archive_error_string(a)));
                }

                name = archive_entry_pathname(ae);
                if (!name)
                        return fail(im, -EINVAL, "entry %llu has a name that cannot be read",
                                    (unsigned long long) im->n_entries + 1);
                e = (Entry){
                        .name = name,
                        .type = archive_entry_filetype(ae),
                        .perm = archive_entry_perm(ae) & 07777,
                        .uid = archive_entry_uid(ae),
                        .gid = archive_entry_gid(ae),
                        .rdev = archive_entry_rdev(ae),
                        .mtime_set = archive_entry_mtime_is_set(ae),
                        .mtime = { .tv_sec = archive_entry_mtime(ae), .tv_nsec = archive_entry_mtime_nsec(ae) },
                        .size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0,
                        .symlink = archive_entry_symlink(ae),
                        .hardlink = archive_entry_hardlink(ae),
                        .archive = a,
                        .data_fd = -1,
                };
                if (e.mtime.tv_nsec < 0 || e.mtime.tv_nsec > 999999999)
                        e.mtime.tv_nsec = 0;
                r = import_entry(im, &e);
                if (r < 0)
                        return r;
        }
}

typedef struct InodeKey {
        dev_t dev;
        ino_t ino;
        char *path;
} InodeKey;

static int inode_cmp(const void *a, const void *b) {
        const InodeKey *x = a, *y = b;

        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        if (x->ino != y->ino)
                return x->ino < y->ino ? -1 : 1;
        return 0;
}

static void inode_free(void *p) {
        InodeKey *k = p;

        free(k->path);
        free(k);
}

static int import_tree(Importer *im, int dirfd, StrBuf *path);

/* One entry of a directory image, taken from lstat() data; regular files are
 * opened with O_NOFOLLOW and checked to be what was stat'ed. A file with
 * several names becomes a hardlink to the first name seen. */
static int import_tree_entry(Importer *im, int dirfd, const char *name, StrBuf *path) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *target = NULL;
        struct stat st, st2;
        struct statx sx, parent;
        Entry e;
        int r;

        if (strbuf_error(path) < 0)
                return -ENOMEM;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return fail_entry(im, path->data, negative_errno(), "cannot inspect: %m");
        e = (Entry){
                .name = path->data,
                .type = st.st_mode & S_IFMT,
                .perm = st.st_mode & 07777,
                .uid = st.st_uid,
                .gid = st.st_gid,
                .rdev = st.st_rdev,
                .mtime_set = true,
                .mtime = st.st_mtim,
                .data_fd = -1,
        };

        switch (e.type) {
        case S_IFREG:
                fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
                if (fd < 0)
                        return fail_entry(im, path->data, negative_errno(), "cannot open: %m");
                if (fstat(fd, &st2) < 0)
                        return fail_entry(im, path->data, negative_errno(), "cannot inspect: %m");
                if (!S_ISREG(st2.st_mode) || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)
                        return fail_entry(im, path->data, -ESTALE, "changed while being imported");
                e.size = st2.st_size;
                e.data_fd = fd;
                if (st2.st_nlink > 1 && strncmp(path->data, "rootfs/", 7) == 0) {
                        InodeKey key = { .dev = st2.st_dev, .ino = st2.st_ino }, *k, **found;

                        found = tfind(&key, &im->inodes, inode_cmp);
                        if (found) {
                                e.hardlink = (*found)->path;
                                e.size = 0;
                                e.data_fd = -1;
                        } else {
                                k = malloc(sizeof(InodeKey));
                                if (!k)
                                        return -ENOMEM;
                                *k = (InodeKey){
                                        .dev = st2.st_dev,
                                        .ino = st2.st_ino,
                                        .path = strdup(path->data),
                                };
                                if (!k->path || !tsearch(k, &im->inodes, inode_cmp)) {
                                        inode_free(k);
                                        return -ENOMEM;
                                }
                        }
                }
                return import_entry(im, &e);

        case S_IFLNK: {
                ssize_t n;

                target = malloc(PATH_MAX);
                if (!target)
                        return -ENOMEM;
                n = readlinkat(dirfd, name, target, PATH_MAX);
                if (n < 0)
                        return fail_entry(im, path->data, negative_errno(), "cannot read the symlink: %m");
                if (n >= PATH_MAX)
                        return fail_entry(im, path->data, -ENAMETOOLONG, "symlink target too long");
                target[n] = 0;
                e.symlink = target;
                return import_entry(im, &e);
        }

        case S_IFDIR:
                /* Another file system mounted inside (say a /proc) is not part of the image. */
                r = fd_statx_nofollow(dirfd, name, &sx);
                if (r >= 0)
                        r = fd_statx_nofollow(dirfd, "", &parent);
                if (r < 0)
                        return fail_entry(im, path->data, r, "cannot inspect: %s", strerror(-r));
                if (fd_statx_is_other_mount(&sx, &parent))
                        return fail_entry(im, path->data, -EXDEV, "is a mount point; refusing to copy it");
                r = import_entry(im, &e);
                if (r < 0)
                        return r;
                fd = fd_open_dir_checked(dirfd, name, &sx);
                if (fd < 0)
                        return fail_entry(im, path->data, fd, "cannot open: %s", strerror(-fd));
                return import_tree(im, TAKE_FD(fd), path);

        default:
                return import_entry(im, &e);
        }
}

/* Takes `dirfd`. Recursion is bounded by IMAGE_DEPTH_MAX: import_entry()
 * refuses a directory deeper than that before we descend into it, so at most
 * that many directory fds are open at once. */
static int import_tree(Importer *im, int dirfd, StrBuf *path) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        d = fdopendir(dirfd);
        if (!d) {
                int r = negative_errno();

                (void) close(dirfd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                size_t saved = path->len;
                int r;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (path->len > 0)
                        strbuf_putc(path, '/');
                strbuf_append(path, de->d_name);
                r = import_tree_entry(im, dirfd, de->d_name, path);
                strbuf_truncate(path, saved);
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return fail_entry(im, path->len > 0 ? path->data : ".", negative_errno(),
                                  "cannot read the directory: %m");
        return 0;
}

static int import_directory(Importer *im, int fd) {
        _cleanup_strbuf_ StrBuf path = STRBUF_INIT;
        int dfd, r;

        /* The manifest first, so that a bad one is reported before any copying. */
        if (faccessat(fd, "manifest", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return fail(im, -ENOENT, "no \"manifest\" in the image");
                return fail(im, negative_errno(), "cannot access \"manifest\": %m");
        }
        strbuf_append(&path, "manifest");
        r = import_tree_entry(im, fd, "manifest", &path);
        if (r < 0)
                return r;
        strbuf_truncate(&path, 0);

        /* Everything else: rootfs/, and anything that is refused. */
        dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return fail(im, negative_errno(), "cannot open: %m");
        {
                _cleanup_(closedirp) DIR *d = fdopendir(dfd);
                struct dirent *de;

                if (!d) {
                        r = negative_errno();
                        (void) close(dfd);
                        return r;
                }
                while ((errno = 0, de = readdir(d))) {
                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                            strcmp(de->d_name, "manifest") == 0)
                                continue;
                        strbuf_truncate(&path, 0);
                        strbuf_append(&path, de->d_name);
                        r = import_tree_entry(im, fd, de->d_name, &path);
                        if (r < 0)
                                return r;
                }
                if (errno != 0)
                        return fail(im, negative_errno(), "cannot read the directory: %m");
        }
        return 0;
}

/* ---- the whole import ----------------------------------------------------- */

static int dir_is_empty(int dirfd) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int fd;

        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                int r = negative_errno();

                (void) close(fd);
                return r;
        }
        while ((errno = 0, de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        return 0;
        return errno != 0 ? negative_errno() : 1;
}

static void importer_done(Importer *im) {
        if (im->rootfs_fd >= 0)
                (void) close(im->rootfs_fd);
        if (im->cache_fd >= 0)
                (void) close(im->cache_fd);
        free(im->cache_path);
        for (size_t i = 0; i < im->n_dirs; i++)
                free(im->dirs[i].path);
        free(im->dirs);
        free(im->manifest_data);
        image_free(im->manifest);
        if (im->inodes)
                tdestroy(im->inodes, inode_free);
        *im = (Importer){ .rootfs_fd = -1, .cache_fd = -1 };
}

static int import_all(Importer *im) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        /* `path` is the caller's, on the host: opening it by name is fine. Only
         * what is inside it is untrusted. O_NONBLOCK: a FIFO must not hang us. */
        fd = open(im->image_path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return fail(im, negative_errno(), "cannot open: %m");
        if (fstat(fd, &st) < 0)
                return fail(im, negative_errno(), "cannot inspect: %m");
        if (S_ISDIR(st.st_mode))
                r = import_directory(im, fd);
        else if (S_ISREG(st.st_mode))
                r = import_archive(im, fd);
        else
                return fail(im, -EINVAL, "neither an ACI file nor an image directory (a %s)",
                            type_name(st.st_mode & S_IFMT));
        if (r < 0)
                return r;

        if (!im->manifest)
                return fail(im, -ENOENT, "no \"manifest\" in the image");
        if (im->rootfs_fd < 0)
                return fail(im, -ENOENT, "no \"rootfs/\" in the image");
        r = apply_dir_records(im);
        if (r < 0)
                return r;
        /* Last, so that a destination holding a manifest holds a complete image. */
        r = fd_write_file_atomic(im->dest_fd, "manifest", im->manifest_data, im->manifest_size, 0644);
        if (r < 0)
                return fail(im, r, "cannot write the manifest: %s", strerror(-r));
        return 0;
}

int image_import_with_limits(const char *path, int dest_dirfd, const ImageLimits *limits,
                             Image **ret_manifest, NpError *err) {
        Importer im = {
                .image_path = path,
                .dest_fd = dest_dirfd,
                .rootfs_fd = -1,
                .cache_fd = -1,
                .err = err,
                .max_entries = limits && limits->max_entries ? limits->max_entries : IMAGE_ENTRIES_MAX,
                .max_bytes = limits && limits->max_bytes ? limits->max_bytes : IMAGE_BYTES_MAX,
        };
        int r;

        if (!path || !*path)
                return error_set(err, -EINVAL, NULL, "no image path given");
        if (dest_dirfd < 0)
                return error_set(err, -EBADF, path, "no destination directory given");

        r = dir_is_empty(dest_dirfd);
        if (r < 0)
                return error_set(err, r, path, "cannot read the destination directory: %s", strerror(-r));
        if (r == 0) /* not ours to clean up: leave it exactly as it is */
                return error_set(err, -ENOTEMPTY, path, "the destination directory is not empty");

        r = import_all(&im);
        if (r < 0) {
                /* A message for the failures that had none (out of memory). */
                (void) fail(&im, r, "%s", strerror(-r));
                importer_done(&im);
                (void) rm_rf_children(dest_dirfd);
                return r;
        }
        if (ret_manifest)
                *ret_manifest = TAKE_PTR(im.manifest);
        importer_done(&im);
        return 0;
}

int image_import(const char *path, int dest_dirfd, Image **ret_manifest, NpError *err) {
        return image_import_with_limits(path, dest_dirfd, NULL, ret_manifest, err);
}
