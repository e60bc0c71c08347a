/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "rm-rf.h"
#include "fd-util.h"
#include "image-id.h"
#include "image-store.h"
#include "image.h"
#include "strbuf.h"
#include "strv.h"
#include "tap.h"

/* Test archives are written here with libarchive's writer, which stores
 * names exactly as given ("/etc/x", "rootfs/../x"), as a hostile tool would. */

#define T_MTIME ((time_t) 1500000000)
#define T_MTIME2 ((time_t) 1400000000)
#define HARD ((mode_t) 1) /* TEntry.type: a hardlink to TEntry.link */

typedef struct TEntry {
        const char *path;
        mode_t type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO, or HARD */
        mode_t perm;
        const char *data; /* regular files */
        size_t size;      /* 0: strlen(data) */
        const char *link; /* symlink or hardlink target */
        int64_t uid, gid;
        dev_t rdev;
        time_t mtime; /* 0: T_MTIME */
} TEntry;

typedef enum Filter {
        FILTER_NONE,
        FILTER_GZIP,
        FILTER_BZIP2,
        FILTER_XZ,
} Filter;

static char *tmpdir;
static int tmpfd = -1;
static unsigned n_dests;

static const char manifest_json[] =
        "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/good\","
        "\"app\":{\"exec\":[\"/bin/app\"],\"user\":\"1000\",\"group\":\"1000\"}}";

static char big_data[300000];

static char *pathf(const char *fmt, ...) _printf_(1, 2);
static char *pathf(const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        return s;
}

static int write_archive(const char *file, Filter filter, const char *prefix, const TEntry *ents, size_t n) {
        struct archive *a = archive_write_new();
        struct archive_entry *e = archive_entry_new();
        int r = -1;

        if (!a || !e)
                abort();
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK)
                goto finish;
        switch (filter) {
        case FILTER_GZIP:
                r = archive_write_add_filter_gzip(a);
                break;
        case FILTER_BZIP2:
                r = archive_write_add_filter_bzip2(a);
                break;
        case FILTER_XZ:
                r = archive_write_add_filter_xz(a);
                break;
        case FILTER_NONE:
        default:
                r = archive_write_add_filter_none(a);
                break;
        }
        if (r != ARCHIVE_OK || archive_write_open_filename(a, file) != ARCHIVE_OK) {
                r = -1;
                goto finish;
        }
        for (size_t i = 0; i < n; i++) {
                const TEntry *t = &ents[i];
                _cleanup_free_ char *name = pathf("%s%s", prefix ? prefix : "", t->path);
                size_t size = t->type == AE_IFREG ? (t->size ? t->size : strlen(strempty(t->data))) : 0;

                archive_entry_clear(e);
                archive_entry_set_pathname(e, name);
                if (t->type == HARD) {
                        _cleanup_free_ char *target = pathf("%s%s", prefix ? prefix : "", t->link);

                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_hardlink(e, target);
                } else
                        archive_entry_set_filetype(e, t->type);
                archive_entry_set_perm(e, t->perm ? t->perm : (t->type == AE_IFDIR ? 0755 : 0644));
                archive_entry_set_uid(e, t->uid);
                archive_entry_set_gid(e, t->gid);
                archive_entry_set_mtime(e, t->mtime ? t->mtime : T_MTIME, 0);
                archive_entry_set_size(e, (la_int64_t) size);
                if (t->type == AE_IFLNK)
                        archive_entry_set_symlink(e, t->link);
                if (t->type == AE_IFCHR || t->type == AE_IFBLK)
                        archive_entry_set_rdev(e, t->rdev);
                if (archive_write_header(a, e) < ARCHIVE_WARN) {
                        printf("# archive_write_header(%s): %s\n", name, archive_error_string(a));
                        r = -1;
                        goto finish;
                }
                if (size > 0 && archive_write_data(a, t->data, size) != (la_ssize_t) size) {
                        r = -1;
                        goto finish;
                }
        }
        r = archive_write_close(a) == ARCHIVE_OK ? 0 : -1;
finish:
        archive_entry_free(e);
        archive_write_free(a);
        return r;
}

/* Entries, sorted and joined with ',' ("" when empty). */
static char *list_dir(int dirfd, const char *path) {
        _cleanup_strv_free_ char **l = NULL;
        DIR *d;
        struct dirent *de;
        int fd;

        fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        d = fdopendir(fd);
        if (!d)
                abort();
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        if (strv_extend(&l, de->d_name) < 0)
                                abort();
        closedir(d);
        strv_sort(l);
        return strv_join(l, ",");
}

static char *read_at(int dirfd, const char *path, size_t *ret_size) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        char buf[8192];
        ssize_t n;

        if (fd < 0)
                return NULL;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                strbuf_append_n(&b, buf, (size_t) n);
        if (n < 0)
                return NULL;
        return strbuf_steal(&b, ret_size);
}

static char *readlink_at(int dirfd, const char *path) {
        char buf[PATH_MAX];
        ssize_t n = readlinkat(dirfd, path, buf, sizeof(buf) - 1);

        if (n < 0)
                return NULL;
        buf[n] = 0;
        return strdup(buf);
}

static bool stat_at(int dirfd, const char *path, struct stat *st) {
        return fstatat(dirfd, path, st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A new empty destination directory below tmpdir; returns its fd. */
static int new_dest(char **ret_name) {
        _cleanup_free_ char *name = pathf("dest.%u", n_dests++);
        int fd;

        if (mkdirat(tmpfd, name, 0755) < 0)
                abort();
        fd = openat(tmpfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                abort();
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        return fd;
}

/* Imports `path` into a fresh destination; the message (or "") in *ret_msg. */
static int import(const char *path, const ImageLimits *limits, int *ret_dest, Image **ret_img, char **ret_msg) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        int dest = new_dest(NULL);
        int r;

        r = image_import_with_limits(path, dest, limits, ret_img, &err);
        *ret_msg = strdup(r < 0 ? error_format(&err, r) : "");
        if (r >= 0 && err.message)
                printf("# unexpected message on success: %s\n", err.message);
        *ret_dest = dest;
        return r;
}

/* ---- the good image ------------------------------------------------------- */

static const TEntry good[] = {
        { "manifest", AE_IFREG, 0644, manifest_json },
        { "rootfs/", AE_IFDIR, 0755 },
        { "rootfs/bin/", AE_IFDIR, 0750, .uid = 1000, .gid = 1000 },
        { "rootfs/bin/app", AE_IFREG, 0755, "#!/bin/sh\necho hello\n", .uid = 1000, .gid = 1000 },
        { "rootfs/bin/suid", AE_IFREG, 04755, "suid" },
        { "rootfs/bin/sgid", AE_IFREG, 02711, "sgid", .uid = 1000, .gid = 1000 },
        { "rootfs/bin/hard", HARD, .link = "rootfs/bin/app" },
        { "rootfs/bin/rel", AE_IFLNK, 0777, .link = "app", .uid = 1000, .gid = 1000 },
        { "rootfs/abs", AE_IFLNK, 0777, .link = "/bin/app" },
        { "rootfs/abs-etc", AE_IFLNK, 0777, .link = "/etc" }, /* absolute: resolves in the app root later */
        { "rootfs/up", AE_IFLNK, 0777, .link = "bin/../bin/./app" },
        { "rootfs/tmp", AE_IFDIR, 01777 },
        { "rootfs/ro", AE_IFDIR, 0555, .mtime = T_MTIME2 },
        { "rootfs/ro/file", AE_IFREG, 0444, "read only\n" },
        { "rootfs/ro/sub", AE_IFDIR, 0555 },
        { "rootfs/ro/sub/deep", AE_IFREG, 0600, "deep" },
        { "rootfs/ro/sub/back", AE_IFLNK, 0777, .link = "../../bin/app" },
        { "rootfs/dev", AE_IFDIR, 0755 },
        { "rootfs/dev/null", AE_IFCHR, 0666, .rdev = 0 /* set in main */ },
        { "rootfs/fifo", AE_IFIFO, 0640, .uid = 1000, .gid = 1000 },
        { "rootfs/big", AE_IFREG, 0644, big_data, sizeof(big_data) },
        { "rootfs/empty", AE_IFREG, 0600, "" },
        { "rootfs/h\xc3\xa9llo w\xf6rld", AE_IFREG, 0644, "utf8" }, /* UTF-8 and Latin-1 bytes */
        { "rootfs/late/file", AE_IFREG, 0644, "late" },
        { "rootfs/late", AE_IFDIR, 0700, .uid = 1000, .gid = 1000, .mtime = T_MTIME2 },
        { "rootfs/dup", AE_IFREG, 0644, "first" },
        { "rootfs/dup", AE_IFREG, 0600, "second" },
};
static TEntry good_entries[ELEMENTSOF(good)];

static void check_mode(int dest, const char *path, mode_t type, mode_t perm, uid_t uid, gid_t gid) {
        struct stat st;

        if (!OK(stat_at(dest, path, &st), "%s exists", path))
                return;
        OK_INTEQ(st.st_mode & S_IFMT, type, "%s: type", path);
        OK_INTEQ(st.st_mode & 07777, perm, "%s: mode %04o", path, (unsigned) perm);
        OK_INTEQ(st.st_uid, uid, "%s: owner %u", path, (unsigned) uid);
        OK_INTEQ(st.st_gid, gid, "%s: group %u", path, (unsigned) gid);
}

static void check_content(int dest, const char *path, const char *want, size_t want_size) {
        _cleanup_free_ char *got = NULL;
        size_t size = 0;

        got = read_at(dest, path, &size);
        OK(got && size == want_size && memcmp(got, want, size) == 0, "%s: contents (%zu bytes)", path, want_size);
}

static void check_link(int dest, const char *path, const char *want) {
        _cleanup_free_ char *got = readlink_at(dest, path);

        OK_STREQ(got, want, "%s: symlink target", path);
}

static void check_mtime(int dest, const char *path, time_t want) {
        struct stat st;

        OK(stat_at(dest, path, &st) && st.st_mtim.tv_sec == want, "%s: mtime %lld", path, (long long) want);
}

/* Everything of the good image, as imported from an archive or a directory. */
static void check_good(int dest, const char *what, bool from_archive) {
        _cleanup_free_ char *top = list_dir(dest, "."), *root = list_dir(dest, "rootfs");
        struct stat a, h;

        printf("# checking the %s\n", what);
        OK_STREQ(top, "manifest,rootfs", "%s: top level", what);
        OK_STREQ(root, "abs,abs-etc,big,bin,dev,dup,empty,fifo,h\xc3\xa9llo w\xf6rld,late,ro,tmp,up",
                 "%s: rootfs/", what);
        check_content(dest, "manifest", manifest_json, strlen(manifest_json));
        check_mode(dest, "manifest", S_IFREG, 0644, 0, 0);
        check_mode(dest, "rootfs", S_IFDIR, 0755, 0, 0);
        check_mode(dest, "rootfs/bin", S_IFDIR, 0750, 1000, 1000);
        check_mtime(dest, "rootfs/bin", T_MTIME);
        check_content(dest, "rootfs/bin/app", "#!/bin/sh\necho hello\n", 21);
        check_mode(dest, "rootfs/bin/app", S_IFREG, 0755, 1000, 1000);
        check_mtime(dest, "rootfs/bin/app", T_MTIME);
        check_mode(dest, "rootfs/bin/suid", S_IFREG, 04755, 0, 0);
        check_mode(dest, "rootfs/bin/sgid", S_IFREG, 02711, 1000, 1000);
        OK(stat_at(dest, "rootfs/bin/app", &a) && stat_at(dest, "rootfs/bin/hard", &h) && a.st_ino == h.st_ino &&
                   a.st_nlink == 2,
           "%s: bin/hard is a hardlink of bin/app", what);
        check_link(dest, "rootfs/bin/rel", "app");
        check_mode(dest, "rootfs/bin/rel", S_IFLNK, 0777, 1000, 1000);
        check_mtime(dest, "rootfs/bin/rel", T_MTIME);
        check_link(dest, "rootfs/abs", "/bin/app");
        check_link(dest, "rootfs/abs-etc", "/etc");
        check_link(dest, "rootfs/up", "bin/../bin/./app");
        check_link(dest, "rootfs/ro/sub/back", "../../bin/app");
        check_mode(dest, "rootfs/tmp", S_IFDIR, 01777, 0, 0);
        check_mode(dest, "rootfs/ro", S_IFDIR, 0555, 0, 0);
        check_mtime(dest, "rootfs/ro", T_MTIME2);
        check_content(dest, "rootfs/ro/file", "read only\n", 10);
        check_mode(dest, "rootfs/ro/file", S_IFREG, 0444, 0, 0);
        check_mode(dest, "rootfs/ro/sub", S_IFDIR, 0555, 0, 0);
        check_content(dest, "rootfs/ro/sub/deep", "deep", 4);
        check_mode(dest, "rootfs/dev/null", S_IFCHR, 0666, 0, 0);
        OK(stat_at(dest, "rootfs/dev/null", &a) && a.st_rdev == makedev(1, 3), "%s: dev/null is 1:3", what);
        check_mode(dest, "rootfs/fifo", S_IFIFO, 0640, 1000, 1000);
        check_content(dest, "rootfs/big", big_data, sizeof(big_data));
        check_content(dest, "rootfs/empty", "", 0);
        check_content(dest, "rootfs/h\xc3\xa9llo w\xf6rld", "utf8", 4);
        check_mode(dest, "rootfs/late", S_IFDIR, 0700, 1000, 1000);
        check_content(dest, "rootfs/late/file", "late", 4);
        if (from_archive) {
                check_mtime(dest, "rootfs/late", T_MTIME2);
                check_content(dest, "rootfs/dup", "second", 6);
                check_mode(dest, "rootfs/dup", S_IFREG, 0600, 0, 0);
        }
}

static void test_good(void) {
        static const struct {
                const char *name;
                Filter filter;
                const char *prefix;
        } variants[] = {
                { "good.tar", FILTER_NONE, NULL },
                { "good-dot.tar", FILTER_NONE, "./" },
                { "good.tar.gz", FILTER_GZIP, NULL },
                { "good.tar.bz2", FILTER_BZIP2, NULL },
                { "good.tar.xz", FILTER_XZ, "./" },
        };

        for (size_t i = 0; i < ELEMENTSOF(variants); i++) {
                _cleanup_free_ char *file = pathf("%s/%s", tmpdir, variants[i].name), *msg = NULL;
                _cleanup_close_ int dest = -1;
                _cleanup_(image_freep) Image *img = NULL;
                int r;

                OK(write_archive(file, variants[i].filter, variants[i].prefix, good_entries,
                                 ELEMENTSOF(good_entries)) == 0,
                   "wrote %s", variants[i].name);
                r = import(file, NULL, &dest, &img, &msg);
                OK_INTEQ(r, 0, "%s imported (%s)", variants[i].name, msg);
                OK(img && img->name && strcmp(img->name, "example.com/good") == 0, "%s: manifest returned",
                   variants[i].name);
                check_good(dest, variants[i].name, true);
        }
}

/* ---- hostile archives ----------------------------------------------------- */

static char *host_passwd;
static struct stat host_passwd_st;

/* Nothing may appear next to the destinations, in the victim directory, or
 * on the host. */
static void check_outside(const char *label) {
        _cleanup_free_ char *victim = list_dir(tmpfd, "victim"), *passwd = NULL;
        struct stat st;

        OK_STREQ(victim, "", "%s: nothing written to the victim directory", label);
        OK(faccessat(tmpfd, "x", F_OK, AT_SYMLINK_NOFOLLOW) < 0, "%s: nothing written next to dest", label);
        OK(access("/etc/nspawn-pod-test-evil", F_OK) < 0 && access("/nspawn-pod-test-evil", F_OK) < 0,
           "%s: nothing written to the host's /", label);
        passwd = read_at(AT_FDCWD, "/etc/passwd", NULL);
        OK(passwd && strcmp(passwd, host_passwd) == 0 && stat("/etc/passwd", &st) == 0 &&
                   st.st_mtim.tv_sec == host_passwd_st.st_mtim.tv_sec &&
                   st.st_mtim.tv_nsec == host_passwd_st.st_mtim.tv_nsec && st.st_ino == host_passwd_st.st_ino,
           "%s: host /etc/passwd untouched", label);
}

static void expect_refused_file(const char *label, const char *file, const ImageLimits *limits, int code,
                                const char *want) {
        _cleanup_free_ char *msg = NULL, *left = NULL;
        _cleanup_close_ int dest = -1;
        Image *img = (Image *) 0x1;
        int r;

        r = import(file, limits, &dest, &img, &msg);
        if (code != 0)
                OK_INTEQ(r, code, "%s: refused", label);
        else
                OK(r < 0, "%s: refused (%d)", label, r);
        OK(img == (Image *) 0x1, "%s: no manifest returned", label);
        if (img != (Image *) 0x1)
                image_free(img);
        OK(msg && strstr(msg, want), "%s: message mentions '%s'", label, want);
        printf("#   -> %s\n", msg ? msg : "(null)");
        OK(msg && strncmp(msg, file, strlen(file)) == 0, "%s: message starts with the image path", label);
        left = list_dir(dest, ".");
        OK_STREQ(left, "", "%s: nothing left in the destination", label);
        check_outside(label);
}

static void expect_refused(const char *label, const TEntry *ents, size_t n, int code, const char *want) {
        _cleanup_free_ char *file = pathf("%s/%s.tar", tmpdir, label);

        if (!OK(write_archive(file, FILTER_NONE, NULL, ents, n) == 0, "%s: archive written", label))
                return;
        expect_refused_file(label, file, NULL, code, want);
}

#define REFUSED(label, code, want, ...)                                                              \
        do {                                                                                         \
                const TEntry _e[] = { __VA_ARGS__ };                                                 \
                expect_refused(label, _e, ELEMENTSOF(_e), code, want);                               \
        } while (0)

#define MANIFEST { "manifest", AE_IFREG, 0644, manifest_json }
#define ROOTFS { "rootfs", AE_IFDIR, 0755 }

static void test_hostile(void) {
        _cleanup_free_ char *victim_link = pathf("%s/victim", tmpdir), *deep = NULL, *longname = NULL;
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;

        /* Names that leave the destination before any file system access. */
        REFUSED("absolute", -EPERM, "is an absolute path", MANIFEST, ROOTFS,
                { "/etc/nspawn-pod-test-evil", AE_IFREG, 0644, "evil" });
        REFUSED("absolute-root", -EPERM, "absolute", MANIFEST, ROOTFS,
                { "/nspawn-pod-test-evil", AE_IFREG, 0644, "evil" });
        REFUSED("dotdot-inside", -EPERM, "\"..\"", MANIFEST, ROOTFS, { "rootfs/../x", AE_IFREG, 0644, "x" });
        REFUSED("dotdot-top", -EPERM, "\"..\"", MANIFEST, ROOTFS, { "../x", AE_IFREG, 0644, "x" });
        REFUSED("dotdot-dir", -EPERM, "\"..\"", MANIFEST, ROOTFS, { "rootfs/a/../../x/", AE_IFDIR, 0755 });

        /* The classic: a symlink, then an entry below it. */
        REFUSED("symlink-etc-then-file", -ELOOP, "\"rootfs/a\" is a symlink", MANIFEST, ROOTFS,
                { "rootfs/a", AE_IFLNK, 0777, .link = "/etc" }, { "rootfs/a/passwd", AE_IFREG, 0644, "pwned\n" });
        REFUSED("symlink-victim-then-file", -ELOOP, "is a symlink", MANIFEST, ROOTFS,
                { "rootfs/a", AE_IFLNK, 0777, .link = victim_link },
                { "rootfs/a/pwned", AE_IFREG, 0644, "pwned\n" });
        REFUSED("symlink-victim-then-dir", -ELOOP, "is a symlink", MANIFEST, ROOTFS,
                { "rootfs/a", AE_IFLNK, 0777, .link = victim_link }, { "rootfs/a/d/", AE_IFDIR, 0755 });
        REFUSED("symlink-victim-then-symlink", -ELOOP, "is a symlink", MANIFEST, ROOTFS,
                { "rootfs/a", AE_IFLNK, 0777, .link = victim_link }, { "rootfs/a/l", AE_IFLNK, 0777, .link = "/x" });
        REFUSED("symlink-victim-then-fifo", -ELOOP, "is a symlink", MANIFEST, ROOTFS,
                { "rootfs/a", AE_IFLNK, 0777, .link = victim_link }, { "rootfs/a/f", AE_IFIFO, 0644 });
        REFUSED("symlink-deep-then-file", -ELOOP, "\"rootfs/d/e/a\" is a symlink", MANIFEST, ROOTFS,
                { "rootfs/d/e/a", AE_IFLNK, 0777, .link = victim_link },
                { "rootfs/d/e/a/b/c/pwned", AE_IFREG, 0644, "pwned\n" });
        REFUSED("symlink-updotdot-then-file", -EPERM, "climbs out", MANIFEST, ROOTFS,
                { "rootfs/a", AE_IFLNK, 0777, .link = "../.." }, { "rootfs/a/x", AE_IFREG, 0644, "x" });
        REFUSED("symlink-inroot-then-file", -ELOOP, "\"rootfs/sub/c\" is a symlink", MANIFEST, ROOTFS,
                { "rootfs/sub/", AE_IFDIR, 0755 }, { "rootfs/sub/c", AE_IFLNK, 0777, .link = ".." },
                { "rootfs/sub/c/x", AE_IFREG, 0644, "x" });
        REFUSED("symlink-then-dir-entry", -EEXIST, "a symlink of that name is already there", MANIFEST, ROOTFS,
                { "rootfs/a", AE_IFLNK, 0777, .link = victim_link }, { "rootfs/a/", AE_IFDIR, 0755 });
        REFUSED("symlink-then-file-same-name", -EEXIST, "a symlink of that name is already there", MANIFEST,
                ROOTFS, { "rootfs/a", AE_IFLNK, 0777, .link = "/etc/passwd" },
                { "rootfs/a", AE_IFREG, 0644, "pwned\n" });

        /* Symlinks that climb out lexically. */
        REFUSED("symlink-climbs", -EPERM, "symlink target \"../../../../etc\" climbs out", MANIFEST, ROOTFS,
                { "rootfs/x", AE_IFLNK, 0777, .link = "../../../../etc" });
        REFUSED("symlink-climbs-one", -EPERM, "climbs out", MANIFEST, ROOTFS,
                { "rootfs/x", AE_IFLNK, 0777, .link = "../etc" });
        REFUSED("symlink-climbs-deep", -EPERM, "climbs out", MANIFEST, ROOTFS,
                { "rootfs/a/b/x", AE_IFLNK, 0777, .link = "../../../etc" });
        REFUSED("symlink-climbs-late", -EPERM, "climbs out", MANIFEST, ROOTFS,
                { "rootfs/a/x", AE_IFLNK, 0777, .link = "b/c/../../../../etc" });

        /* Hardlinks. */
        REFUSED("hardlink-dotdot", -EPERM, "\"..\"", MANIFEST, ROOTFS,
                { "rootfs/h", HARD, .link = "../../etc/shadow" });
        REFUSED("hardlink-absolute", -EPERM, "absolute", MANIFEST, ROOTFS,
                { "rootfs/h", HARD, .link = "/etc/shadow" });
        REFUSED("hardlink-manifest", -EPERM, "outside rootfs/", MANIFEST, ROOTFS,
                { "rootfs/h", HARD, .link = "manifest" });
        REFUSED("hardlink-rootfs", -EPERM, "outside rootfs/", MANIFEST, ROOTFS,
                { "rootfs/h", HARD, .link = "rootfs" });
        REFUSED("hardlink-missing", -ENOENT, "does not exist", MANIFEST, ROOTFS,
                { "rootfs/h", HARD, .link = "rootfs/missing" });
        REFUSED("hardlink-later", -ENOENT, "does not exist", MANIFEST, ROOTFS,
                { "rootfs/h", HARD, .link = "rootfs/f" },
                { "rootfs/f", AE_IFREG, 0644, "f" });
        REFUSED("hardlink-symlink", -EPERM, "is a symlink; only regular files", MANIFEST, ROOTFS,
                { "rootfs/s", AE_IFLNK, 0777, .link = "/etc/shadow" }, { "rootfs/h", HARD, .link = "rootfs/s" });
        REFUSED("hardlink-through-symlink", -ELOOP, "\"rootfs/a\" is a symlink", MANIFEST, ROOTFS,
                { "rootfs/a", AE_IFLNK, 0777, .link = "/etc" }, { "rootfs/h", HARD, .link = "rootfs/a/shadow" });
        REFUSED("hardlink-dir", -EPERM, "is a directory", MANIFEST, ROOTFS, { "rootfs/d/", AE_IFDIR, 0755 },
                { "rootfs/h", HARD, .link = "rootfs/d" });
        REFUSED("hardlink-fifo", -EPERM, "is a FIFO", MANIFEST, ROOTFS, { "rootfs/p", AE_IFIFO, 0644 },
                { "rootfs/h", HARD, .link = "rootfs/p" });

        /* Layout. */
        REFUSED("no-manifest", -ENOENT, "no \"manifest\"", ROOTFS, { "rootfs/f", AE_IFREG, 0644, "f" });
        REFUSED("no-rootfs", -ENOENT, "no \"rootfs/\"", MANIFEST);
        REFUSED("bad-json", -EINVAL, "invalid manifest: line 1", { "manifest", AE_IFREG, 0644, "{" }, ROOTFS);
        REFUSED("bad-manifest", -EINVAL, "invalid manifest: $", { "manifest", AE_IFREG, 0644,
                "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\"}" }, ROOTFS);
        REFUSED("pod-manifest", -EINVAL, "invalid manifest", { "manifest", AE_IFREG, 0644,
                "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[]}" }, ROOTFS);
        REFUSED("extra-top", -EPERM, "entry \"extra.txt\": not allowed", MANIFEST, ROOTFS,
                { "extra.txt", AE_IFREG, 0644, "x" });
        REFUSED("extra-top-dir", -EPERM, "not allowed", MANIFEST, ROOTFS, { "etc/", AE_IFDIR, 0755 });
        REFUSED("manifest-subdir", -EPERM, "not allowed", MANIFEST, ROOTFS,
                { "manifest/x", AE_IFREG, 0644, "x" });
        REFUSED("two-manifests", -EEXIST, "a second manifest", MANIFEST, ROOTFS, MANIFEST);
        REFUSED("manifest-symlink", -EPERM, "must be a regular file, not a symlink",
                { "manifest", AE_IFLNK, 0777, .link = "/etc/passwd" }, ROOTFS);
        REFUSED("manifest-dir", -EPERM, "must be a regular file, not a directory", { "manifest/", AE_IFDIR, 0755 },
                ROOTFS);
        REFUSED("manifest-hardlink", -EPERM, "not a hardlink", ROOTFS, { "rootfs/m", AE_IFREG, 0644, "{}" },
                { "manifest", HARD, .link = "rootfs/m" });
        REFUSED("rootfs-symlink", -ENOTDIR, "rootfs must be a directory", MANIFEST,
                { "rootfs", AE_IFLNK, 0777, .link = victim_link }, { "rootfs/x", AE_IFREG, 0644, "x" });
        REFUSED("rootfs-file", -ENOTDIR, "rootfs must be a directory", MANIFEST,
                { "rootfs", AE_IFREG, 0644, "x" });

        /* Duplicates other than file over file or directory over directory. */
        REFUSED("dup-dir-then-file", -EEXIST, "a directory of that name is already there", MANIFEST, ROOTFS,
                { "rootfs/d/", AE_IFDIR, 0755 }, { "rootfs/d", AE_IFREG, 0644, "x" });
        REFUSED("dup-file-then-dir", -EEXIST, "a regular file of that name", MANIFEST, ROOTFS,
                { "rootfs/d", AE_IFREG, 0644, "x" }, { "rootfs/d/", AE_IFDIR, 0755 });
        REFUSED("dup-file-then-symlink", -EEXIST, "a regular file of that name is already there", MANIFEST, ROOTFS,
                { "rootfs/d", AE_IFREG, 0644, "x" }, { "rootfs/d", AE_IFLNK, 0777, .link = "/x" });
        REFUSED("dup-fifo-then-fifo", -EEXIST, "a FIFO of that name is already there", MANIFEST, ROOTFS,
                { "rootfs/d", AE_IFIFO, 0644 }, { "rootfs/d", AE_IFIFO, 0644 });
        REFUSED("dup-symlink-then-symlink", -EEXIST, "a symlink of that name is already there", MANIFEST, ROOTFS,
                { "rootfs/d", AE_IFLNK, 0777, .link = "/a" }, { "rootfs/d", AE_IFLNK, 0777, .link = "/b" });
        REFUSED("dup-file-then-fifo", -EEXIST, "a regular file of that name is already there", MANIFEST, ROOTFS,
                { "rootfs/d", AE_IFREG, 0644, "x" },
                { "rootfs/d", AE_IFIFO, 0644 });
        REFUSED("file-as-parent", -ENOTDIR, "\"rootfs/f\" is not a directory", MANIFEST, ROOTFS,
                { "rootfs/f", AE_IFREG, 0644, "x" }, { "rootfs/f/g", AE_IFREG, 0644, "x" });

        /* Owners out of range, limits on names. */
        REFUSED("uid-minus-one", -ERANGE, "owner uid 4294967295 is out of range", MANIFEST, ROOTFS,
                { "rootfs/f", AE_IFREG, 0644, "x", .uid = 4294967295LL });
        REFUSED("gid-huge", -ERANGE, "group gid", MANIFEST, ROOTFS,
                { "rootfs/f", AE_IFREG, 0644, "x", .gid = 1LL << 40 });

        strbuf_append(&b, "rootfs");
        for (unsigned i = 0; i < IMAGE_DEPTH_MAX + 1; i++)
                strbuf_append(&b, "/a");
        deep = strbuf_steal(&b, NULL);
        REFUSED("too-deep", -ELOOP, "directories deep", MANIFEST, ROOTFS, { deep, AE_IFREG, 0644, "x" });
        strbuf_append(&b, "rootfs/");
        for (unsigned i = 0; i < PATH_MAX / 100 + 1; i++) {
                for (unsigned j = 0; j < 99; j++)
                        strbuf_putc(&b, 'b');
                strbuf_putc(&b, '/');
        }
        strbuf_append(&b, "f");
        longname = strbuf_steal(&b, NULL);
        REFUSED("too-long", -ENAMETOOLONG, "bytes long, the limit is 4095", MANIFEST, ROOTFS,
                { longname, AE_IFREG, 0644, "x" });
        {
                char component[NAME_MAX + 10];
                _cleanup_free_ char *n = NULL;

                memset(component, 'c', sizeof(component) - 1);
                component[sizeof(component) - 1] = 0;
                n = pathf("rootfs/%s", component);
                REFUSED("component-too-long", -ENAMETOOLONG, "component of 264 bytes", MANIFEST, ROOTFS,
                        { n, AE_IFREG, 0644, "x" });
        }
        REFUSED("control-chars", -EPERM, "entry \"rootfs/\\x1b[31mred\\x0a\"", MANIFEST, ROOTFS,
                { "rootfs/\033[31mred\n", AE_IFLNK, 0777, .link = "../.." });

        /* A failure after much was written, including read-only directories:
         * all of it goes. */
        {
                TEntry many[ELEMENTSOF(good) + 1];

                memcpy(many, good_entries, sizeof(good_entries));
                many[ELEMENTSOF(good)] = (TEntry){ "rootfs/ro/sub/x", AE_IFLNK, 0777, .link = "../../../.." };
                expect_refused("good-then-bad", many, ELEMENTSOF(many), -EPERM, "climbs out");
        }
}

static void test_not_archives(void) {
        _cleanup_free_ char *text = pathf("%s/text.aci", tmpdir), *empty = pathf("%s/empty.aci", tmpdir),
                            *truncated = pathf("%s/truncated.aci", tmpdir),
                            *good_file = pathf("%s/good.tar", tmpdir), *fifo = pathf("%s/fifo.aci", tmpdir),
                            *zip = pathf("%s/zip.aci", tmpdir), *missing = pathf("%s/missing.aci", tmpdir),
                            *gz = pathf("%s/good.tar.gz", tmpdir), *gztrunc = pathf("%s/truncated.aci.gz", tmpdir);
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *data = NULL;
        size_t size = 0;

        fd = open(text, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        OK(fd >= 0 && fd_write_all(fd, "this is not an image\n", 21) == 0, "wrote a text file");
        (void) close(TAKE_FD(fd));
        expect_refused_file("text", text, NULL, -EINVAL, "not an ACI");

        fd = open(empty, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        (void) close(TAKE_FD(fd));
        expect_refused_file("empty-file", empty, NULL, 0, "");

        /* The good archive cut short in the middle of the big file. */
        data = read_at(AT_FDCWD, good_file, &size);
        fd = open(truncated, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        OK(data && fd >= 0 && fd_write_all(fd, data, size / 2) == 0, "wrote a truncated archive");
        (void) close(TAKE_FD(fd));
        expect_refused_file("truncated", truncated, NULL, -EIO, "rootfs");
        free(data);

        data = read_at(AT_FDCWD, gz, &size);
        fd = open(gztrunc, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        OK(data && fd >= 0 && fd_write_all(fd, data, size - 100) == 0, "wrote a truncated gzip archive");
        (void) close(TAKE_FD(fd));
        expect_refused_file("truncated-gz", gztrunc, NULL, 0, "");

        /* Another archive format that libarchive could read, were it enabled. */
        {
                struct archive *a = archive_write_new();
                struct archive_entry *e = archive_entry_new();

                archive_write_set_format_zip(a);
                archive_write_open_filename(a, zip);
                archive_entry_set_pathname(e, "manifest");
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, (la_int64_t) strlen(manifest_json));
                archive_write_header(a, e);
                archive_write_data(a, manifest_json, strlen(manifest_json));
                archive_write_close(a);
                archive_write_free(a);
                archive_entry_free(e);
        }
        expect_refused_file("zip", zip, NULL, -EINVAL, "not an ACI");

        OK(mkfifo(fifo, 0644) == 0, "made a FIFO");
        expect_refused_file("fifo-path", fifo, NULL, -EINVAL, "neither an ACI file nor an image directory");
        expect_refused_file("missing-path", missing, NULL, -ENOENT, "cannot open");
}

static void test_limits(void) {
        _cleanup_free_ char *file = pathf("%s/good.tar", tmpdir), *msg = NULL;
        _cleanup_close_ int dest = -1;
        ImageLimits entries = { .max_entries = 5 }, bytes = { .max_bytes = 1000 },
                    enough = { .max_entries = ELEMENTSOF(good), .max_bytes = sizeof(big_data) + 1000 };

        expect_refused_file("entry-limit", file, &entries, -E2BIG, "more than the limit of 5 entries");
        expect_refused_file("byte-limit", file, &bytes, -EFBIG,
                            "entry \"rootfs/big\": the image holds more than the limit of 1000 bytes");
        OK_INTEQ(import(file, &enough, &dest, NULL, &msg), 0, "limits just large enough (%s)", msg);
}

static void test_dest_not_empty(void) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_free_ char *file = pathf("%s/good.tar", tmpdir), *left = NULL;
        _cleanup_close_ int dest = new_dest(NULL), fd = -1;
        int r;

        fd = openat(dest, "keep", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        (void) close(TAKE_FD(fd));
        r = image_import(file, dest, NULL, &err);
        OK_INTEQ(r, -ENOTEMPTY, "a destination that is not empty is refused");
        OK(err.message && strstr(err.message, "not empty"), "... and says so");
        left = list_dir(dest, ".");
        OK_STREQ(left, "keep", "... and is left alone");
}

/* ---- directory images ----------------------------------------------------- */

static void put(int dirfd, const char *path, const char *data, size_t size, mode_t mode, uid_t uid, gid_t gid) {
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd < 0 || fd_write_all(fd, data, size) < 0 || fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0)
                abort();
        {
                struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = T_MTIME } };

                (void) futimens(fd, ts);
        }
}

static void dir_meta(int dirfd, const char *path, mode_t mode, uid_t uid, gid_t gid, time_t mtime) {
        struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = mtime } };

        if (fchownat(dirfd, path, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 || fchmodat(dirfd, path, mode, 0) < 0 ||
            utimensat(dirfd, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
                abort();
}

static void link_meta(int dirfd, const char *path, uid_t uid, gid_t gid) {
        struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = T_MTIME } };

        if (fchownat(dirfd, path, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            utimensat(dirfd, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
                abort();
}

/* The good image as a directory (without the archive-only duplicate). */
static char *make_dir_image(const char *name) {
        _cleanup_close_ int d = -1;
        char *path = pathf("%s/%s", tmpdir, name);

        if (mkdirat(tmpfd, name, 0755) < 0)
                abort();
        d = openat(tmpfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        put(d, "manifest", manifest_json, strlen(manifest_json), 0644, 0, 0);
        OK(mkdirat(d, "rootfs", 0755) == 0 && mkdirat(d, "rootfs/bin", 0755) == 0 &&
                   mkdirat(d, "rootfs/tmp", 0755) == 0 && mkdirat(d, "rootfs/ro", 0755) == 0 &&
                   mkdirat(d, "rootfs/ro/sub", 0755) == 0 && mkdirat(d, "rootfs/dev", 0755) == 0 &&
                   mkdirat(d, "rootfs/late", 0755) == 0,
           "%s: directories", name);
        put(d, "rootfs/bin/app", "#!/bin/sh\necho hello\n", 21, 0755, 1000, 1000);
        put(d, "rootfs/bin/suid", "suid", 4, 04755, 0, 0);
        put(d, "rootfs/bin/sgid", "sgid", 4, 02711, 1000, 1000);
        OK(linkat(d, "rootfs/bin/app", d, "rootfs/bin/hard", 0) == 0, "%s: hardlink", name);
        OK(symlinkat("app", d, "rootfs/bin/rel") == 0 && symlinkat("/bin/app", d, "rootfs/abs") == 0 &&
                   symlinkat("/etc", d, "rootfs/abs-etc") == 0 &&
                   symlinkat("bin/../bin/./app", d, "rootfs/up") == 0 &&
                   symlinkat("../../bin/app", d, "rootfs/ro/sub/back") == 0,
           "%s: symlinks", name);
        link_meta(d, "rootfs/bin/rel", 1000, 1000);
        put(d, "rootfs/ro/file", "read only\n", 10, 0444, 0, 0);
        put(d, "rootfs/ro/sub/deep", "deep", 4, 0600, 0, 0);
        OK(mknodat(d, "rootfs/dev/null", S_IFCHR | 0666, makedev(1, 3)) == 0 &&
                   fchmodat(d, "rootfs/dev/null", 0666, 0) == 0,
           "%s: device", name);
        OK(mkfifoat(d, "rootfs/fifo", 0640) == 0 && fchownat(d, "rootfs/fifo", 1000, 1000, 0) == 0 &&
                   fchmodat(d, "rootfs/fifo", 0640, 0) == 0,
           "%s: fifo", name);
        put(d, "rootfs/big", big_data, sizeof(big_data), 0644, 0, 0);
        put(d, "rootfs/empty", "", 0, 0600, 0, 0);
        put(d, "rootfs/h\xc3\xa9llo w\xf6rld", "utf8", 4, 0644, 0, 0);
        put(d, "rootfs/late/file", "late", 4, 0644, 0, 0);
        put(d, "rootfs/dup", "second", 6, 0600, 0, 0);
        dir_meta(d, "rootfs/late", 0700, 1000, 1000, T_MTIME2);
        dir_meta(d, "rootfs/ro/sub", 0555, 0, 0, T_MTIME);
        dir_meta(d, "rootfs/ro", 0555, 0, 0, T_MTIME2);
        dir_meta(d, "rootfs/tmp", 01777, 0, 0, T_MTIME);
        dir_meta(d, "rootfs/bin", 0750, 1000, 1000, T_MTIME);
        dir_meta(d, "rootfs", 0755, 0, 0, T_MTIME);
        return path;
}

static void test_directory(void) {
        _cleanup_free_ char *good_dir = make_dir_image("dirimg"), *msg = NULL, *p = NULL;
        _cleanup_close_ int dest = -1, d = -1;
        _cleanup_(image_freep) Image *img = NULL;
        int r;

        r = import(good_dir, NULL, &dest, &img, &msg);
        OK_INTEQ(r, 0, "directory image imported (%s)", msg);
        OK(img && strcmp(img->name, "example.com/good") == 0, "directory image: manifest returned");
        check_good(dest, "directory image", false);
        check_mtime(dest, "rootfs/late", T_MTIME2);
        check_mtime(dest, "rootfs/ro", T_MTIME2);

        /* Hostile directory images: each one a copy of the good one plus one thing. */
        free(p);
        p = make_dir_image("dir-extra");
        d = openat(tmpfd, "dir-extra", O_PATH | O_DIRECTORY | O_CLOEXEC);
        put(d, "junk", "x", 1, 0644, 0, 0);
        expect_refused_file("dir-extra", p, NULL, -EPERM, "entry \"junk\": not allowed");
        (void) close(TAKE_FD(d));

        free(p);
        p = make_dir_image("dir-climb");
        d = openat(tmpfd, "dir-climb", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(symlinkat("../../../etc", d, "rootfs/ro/esc") == 0, "dir-climb: symlink");
        expect_refused_file("dir-climb", p, NULL, -EPERM,
                            "entry \"rootfs/ro/esc\": symlink target \"../../../etc\" climbs out");
        (void) close(TAKE_FD(d));

        free(p);
        p = make_dir_image("dir-no-manifest");
        d = openat(tmpfd, "dir-no-manifest", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(unlinkat(d, "manifest", 0) == 0, "dir-no-manifest: removed");
        expect_refused_file("dir-no-manifest", p, NULL, -ENOENT, "no \"manifest\"");
        (void) close(TAKE_FD(d));

        free(p);
        p = make_dir_image("dir-manifest-symlink");
        d = openat(tmpfd, "dir-manifest-symlink", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(unlinkat(d, "manifest", 0) == 0 && symlinkat("/etc/passwd", d, "manifest") == 0,
           "dir-manifest-symlink: manifest -> /etc/passwd");
        expect_refused_file("dir-manifest-symlink", p, NULL, -EPERM, "must be a regular file, not a symlink");
        (void) close(TAKE_FD(d));

        free(p);
        p = make_dir_image("dir-manifest-fifo");
        d = openat(tmpfd, "dir-manifest-fifo", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(unlinkat(d, "manifest", 0) == 0 && mkfifoat(d, "manifest", 0644) == 0, "dir-manifest-fifo: made");
        expect_refused_file("dir-manifest-fifo", p, NULL, -EPERM, "not a FIFO");
        (void) close(TAKE_FD(d));

        free(p);
        p = make_dir_image("dir-rootfs-symlink");
        d = openat(tmpfd, "dir-rootfs-symlink", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(renameat(d, "rootfs", d, "real") == 0 && symlinkat("real", d, "rootfs") == 0,
           "dir-rootfs-symlink: rootfs -> real");
        expect_refused_file("dir-rootfs-symlink", p, NULL, -ENOTDIR, "rootfs must be a directory");
        (void) close(TAKE_FD(d));

        free(p);
        p = make_dir_image("dir-socket");
        d = openat(tmpfd, "dir-socket", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(mknodat(d, "rootfs/sock", S_IFSOCK | 0644, 0) == 0, "dir-socket: socket");
        expect_refused_file("dir-socket", p, NULL, -EOPNOTSUPP, "a socket cannot be part of an image");
        (void) close(TAKE_FD(d));

        /* A file system mounted inside the image directory is not copied. */
        free(p);
        p = make_dir_image("dir-mount");
        d = openat(tmpfd, "dir-mount", O_PATH | O_DIRECTORY | O_CLOEXEC);
        {
                _cleanup_free_ char *m = pathf("%s/rootfs/tmp", p);

                if (mount("tmpfs", m, "tmpfs", 0, "size=1m") == 0) {
                        expect_refused_file("dir-mount", p, NULL, -EXDEV,
                                            "entry \"rootfs/tmp\": is a mount point");
                        (void) umount2(m, MNT_DETACH);
                } else
                        printf("ok %u # SKIP cannot mount tmpfs: %m\n", ++tap_n);
        }
}

/* ---- removal -------------------------------------------------------------- */

static unsigned count_fds(void) {
        _cleanup_free_ char *l = list_dir(AT_FDCWD, "/proc/self/fd");
        unsigned n = 1;

        if (!l)
                return 0;
        for (const char *s = l; *s; s++)
                n += *s == ',';
        return n;
}

static void test_remove(void) {
        _cleanup_close_ int top = -1, cur = -1, victim = -1;
        _cleanup_free_ char *victim_path = pathf("%s/victim", tmpdir), *left = NULL, *m = NULL;
        unsigned fds;
        int r;

        OK(mkdirat(tmpfd, "rmtree", 0755) == 0, "rmtree: made");
        top = openat(tmpfd, "rmtree", O_PATH | O_DIRECTORY | O_CLOEXEC);
        victim = openat(tmpfd, "victim", O_PATH | O_DIRECTORY | O_CLOEXEC);
        put(victim, "precious", "p", 1, 0644, 0, 0);

        /* 2000 levels: far more than RLIMIT_NOFILE's usual 1024. */
        cur = fcntl(top, F_DUPFD_CLOEXEC, 3);
        for (unsigned i = 0; i < 2000; i++) {
                int next;

                if (mkdirat(cur, "d", 0755) < 0 || (next = openat(cur, "d", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
                        abort();
                if (i % 100 == 0)
                        put(cur, "f", "f", 1, 0644, 0, 0);
                (void) close(cur);
                cur = next;
        }
        (void) close(TAKE_FD(cur));
        OK(symlinkat(victim_path, top, "to-victim") == 0, "rmtree: symlink to the victim directory");
        OK(mkdirat(top, "locked", 0000) == 0, "rmtree: a 0000 directory");
        cur = openat(top, "locked", O_PATH | O_DIRECTORY | O_CLOEXEC);
        put(cur, "inside", "i", 1, 0000, 0, 0);
        (void) close(TAKE_FD(cur));
        OK(mkfifoat(top, "fifo", 0644) == 0, "rmtree: a FIFO");

        fds = count_fds();
        {
                /* With few fds left: the removal must not need one per level. */
                struct rlimit old, low;

                OK(getrlimit(RLIMIT_NOFILE, &old) == 0, "getrlimit");
                low = (struct rlimit){ .rlim_cur = fds + 16, .rlim_max = old.rlim_max };
                OK(setrlimit(RLIMIT_NOFILE, &low) == 0, "RLIMIT_NOFILE lowered to %u", fds + 16);
                r = rm_rf_at(tmpfd, "rmtree");
                OK(setrlimit(RLIMIT_NOFILE, &old) == 0, "RLIMIT_NOFILE restored");
        }
        OK_INTEQ(r, 0, "rmtree: removed");
        OK(faccessat(tmpfd, "rmtree", F_OK, AT_SYMLINK_NOFOLLOW) < 0, "rmtree: gone");
        OK_INTEQ(count_fds(), fds, "rmtree: no fd leaked");
        left = list_dir(tmpfd, "victim");
        OK_STREQ(left, "precious", "rmtree: the symlink's target survived");
        OK(unlinkat(victim, "precious", 0) == 0, "victim: cleaned");

        OK_INTEQ(rm_rf_at(tmpfd, "rmtree"), -ENOENT, "rmtree: -ENOENT when missing");
        OK_INTEQ(rm_rf_at(tmpfd, "../x"), -EINVAL, "a name with '/' is refused");
        OK_INTEQ(rm_rf_at(tmpfd, ".."), -EINVAL, "\"..\" is refused");

        /* A non-directory, and a symlink to a directory: only the link goes. */
        OK(symlinkat(victim_path, tmpfd, "victim-link") == 0, "victim-link made");
        put(victim, "precious", "p", 1, 0644, 0, 0);
        OK_INTEQ(rm_rf_at(tmpfd, "victim-link"), 0, "symlink removed");
        free(left);
        left = list_dir(tmpfd, "victim");
        OK_STREQ(left, "precious", "the symlink's target survived");
        OK(unlinkat(victim, "precious", 0) == 0, "victim: cleaned");

        /* A mount point inside is left alone: -EBUSY, the rest is removed. */
        OK(mkdirat(tmpfd, "mnttree", 0755) == 0, "mnttree: made");
        cur = openat(tmpfd, "mnttree", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(mkdirat(cur, "m", 0755) == 0 && mkdirat(cur, "other", 0755) == 0, "mnttree: m and other");
        put(cur, "other/x", "x", 1, 0644, 0, 0);
        m = pathf("%s/mnttree/m", tmpdir);
        if (mount("tmpfs", m, "tmpfs", 0, "size=1m") == 0) {
                _cleanup_close_ int mfd = open(m, O_PATH | O_DIRECTORY | O_CLOEXEC);
                _cleanup_free_ char *mleft = NULL, *tleft = NULL;

                put(mfd, "inside-mount", "i", 1, 0644, 0, 0);
                OK_INTEQ(rm_rf_at(tmpfd, "mnttree"), -EBUSY, "mnttree: -EBUSY for the mount point");
                mleft = list_dir(mfd, ".");
                OK_STREQ(mleft, "inside-mount", "mnttree: the mounted file system is untouched");
                tleft = list_dir(cur, ".");
                OK_STREQ(tleft, "m", "mnttree: everything else removed");
                OK_INTEQ(rm_rf_at(tmpfd, "mnttree"), -EBUSY, "mnttree: still -EBUSY");
                OK(umount2(m, MNT_DETACH) == 0, "mnttree: unmounted");
        } else
                printf("ok %u # SKIP cannot mount tmpfs: %m\n", ++tap_n);
        OK_INTEQ(rm_rf_at(tmpfd, "mnttree"), 0, "mnttree: removed");

        /* rm_rf_children keeps the directory itself. */
        OK(mkdirat(tmpfd, "contents", 0755) == 0, "contents: made");
        (void) close(TAKE_FD(cur));
        cur = openat(tmpfd, "contents", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(mkdirat(cur, "a", 0555) == 0 && symlinkat("/etc", cur, "l") == 0, "contents: entries");
        OK_INTEQ(rm_rf_children(cur), 0, "contents: emptied");
        free(left);
        left = list_dir(cur, ".");
        OK_STREQ(left, "", "contents: empty, and still there");
}

/* ---- the image store: the ID of a file is hashed once ---------------------- */

/* Until `path` has not changed for the store's settling time (2 s): only
 * then does the store remember its ID. */
static void wait_settled(const char *path) {
        struct stat st;
        struct timespec now;

        for (int i = 0; i < 100; i++) {
                if (stat(path, &st) < 0 || clock_gettime(CLOCK_REALTIME, &now) < 0 ||
                    now.tv_sec >= st.st_ctim.tv_sec + 3)
                        return;
                (void) nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
        }
}

static unsigned cache_entries(int data) {
        _cleanup_close_ int cache = openat(data, "images/.by-file", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_(closedirp) DIR *d = cache < 0 ? NULL : fdopendir(fcntl(cache, F_DUPFD_CLOEXEC, 3));
        struct dirent *de;
        unsigned n = 0;

        while (d && (de = readdir(d)))
                n += de->d_name[0] != '.';
        return n;
}

static void test_store_id_cache(void) {
        _cleanup_free_ char *file = pathf("%s/store.aci", tmpdir), *direct = NULL, *id1 = NULL, *id2 = NULL,
                            *id3 = NULL, *id4 = NULL, *id5 = NULL;
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_close_ int data = -1, d1 = -1, d2 = -1, d3 = -1, d4 = -1, d5 = -1;
        TEntry changed[ELEMENTSOF(good)];
        int r;

        OK(mkdirat(tmpfd, "store-data", 0700) == 0, "a data directory");
        data = openat(tmpfd, "store-data", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(write_archive(file, FILTER_NONE, NULL, good_entries, ELEMENTSOF(good_entries)) == 0, "wrote store.aci");
        OK_INTEQ(image_compute_id(file, &direct), 0, "its ID, computed");
        r = image_store_get(data, file, &id1, &d1, NULL, &err);
        OK_INTEQ(r, 0, "stored (%s)", error_format(&err, r));
        OK_STREQ(id1, direct, "under its ID");
        OK_INTEQ(cache_entries(data), 0, "a file changed just now is not remembered (its timestamps are coarse)");
        wait_settled(file);
        r = image_store_get(data, file, &id2, &d2, NULL, &err);
        OK_INTEQ(r, 0, "stored again");
        OK_STREQ(id2, id1, "the same ID");
        OK_INTEQ(cache_entries(data), 1, "once it has settled, its ID is remembered");

        /* The same size, other content: a stale cache entry would still
         * name the old image. */
        memcpy(changed, good_entries, sizeof(changed));
        for (size_t i = 0; i < ELEMENTSOF(changed); i++)
                if (changed[i].type == AE_IFREG && changed[i].data && strcmp(changed[i].data, "deep") == 0)
                        changed[i].data = "DEEP";
        OK(write_archive(file, FILTER_NONE, NULL, changed, ELEMENTSOF(changed)) == 0, "rewrote store.aci, same size");
        r = image_store_get(data, file, &id3, &d3, NULL, &err);
        OK_INTEQ(r, 0, "stored after the rewrite");
        OK(id3 && strcmp(id3, id1) != 0, "a new ID: the file's identity changed with its content");
        direct = mfree(direct);
        OK_INTEQ(image_compute_id(file, &direct), 0, "its ID, computed");
        OK_STREQ(id3, direct, "the new ID is the new content's");
        wait_settled(file);
        r = image_store_get(data, file, &id4, &d4, NULL, &err);
        OK_INTEQ(r, 0, "stored again, settled");
        OK_STREQ(id4, id3, "the same new ID");

        /* A cache entry that is not an image ID is not taken for one. */
        {
                _cleanup_close_ int cache = openat(data, "images/.by-file", O_PATH | O_DIRECTORY | O_CLOEXEC);
                _cleanup_(closedirp) DIR *dd = fdopendir(openat(cache, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
                struct dirent *de;

                while (dd && (de = readdir(dd)))
                        if (de->d_name[0] != '.') {
                                (void) unlinkat(cache, de->d_name, 0);
                                OK(symlinkat("../../../etc", cache, de->d_name) == 0, "a hostile cache entry");
                        }
        }
        r = image_store_get(data, file, &id5, &d5, NULL, &err);
        OK_INTEQ(r, 0, "stored with hostile cache entries");
        OK_STREQ(id5, id3, "the ID is computed again, right");
}

int main(void) {
        char tmpl[] = "/tmp/test-image.XXXXXX";

        if (geteuid() != 0) {
                printf("1..0 # SKIP needs root (ownership, device nodes)\n");
                return 0;
        }
        alarm(300);
        /* Our own mount namespace: the tmpfs mounts of the tests cannot leak. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                printf("# no private mount namespace (%m): mount tests will skip\n");

        tmpdir = mkdtemp(tmpl);
        if (!tmpdir)
                abort();
        tmpfd = open(tmpdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (tmpfd < 0 || mkdirat(tmpfd, "victim", 0755) < 0)
                abort();
        for (size_t i = 0; i < sizeof(big_data); i++)
                big_data[i] = (char) ('a' + (i * 7 + i / 251) % 26);
        memcpy(good_entries, good, sizeof(good));
        for (size_t i = 0; i < ELEMENTSOF(good_entries); i++)
                if (good_entries[i].type == AE_IFCHR)
                        good_entries[i].rdev = makedev(1, 3);
        host_passwd = read_at(AT_FDCWD, "/etc/passwd", NULL);
        if (!host_passwd || stat("/etc/passwd", &host_passwd_st) < 0)
                abort();

        test_good();
        test_hostile();
        test_not_archives();
        test_limits();
        test_dest_not_empty();
        test_directory();
        test_remove();
        test_store_id_cache();

        free(host_passwd);
        (void) close(tmpfd);
        /* The library's own remover cleans up after the tests. */
        {
                _cleanup_close_ int parent = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);

                OK_INTEQ(rm_rf_at(parent, tmpdir + strlen("/tmp/")), 0, "temporary directory removed");
        }
        if (access(tmpdir, F_OK) == 0)
                tap_rm_tree(tmpdir);
        return tap_done();
}
