/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fd-util.h"
#include "passwd.h"
#include "tap.h"

static char *tmpdir;

static void write_at(int dirfd, const char *path, const char *data) {
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

        if (fd < 0 || fd_write_all(fd, data, strlen(data)) < 0)
                abort();
}

/* A fresh root directory below tmpdir with etc/ in it; returns an O_PATH fd. */
static int make_root(const char *name) {
        _cleanup_close_ int tfd = open(tmpdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int fd;

        if (tfd < 0 || mkdirat(tfd, name, 0755) < 0)
                abort();
        fd = openat(tfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || mkdirat(fd, "etc", 0755) < 0)
                abort();
        return fd;
}

static const char passwd_data[] =
        "# users of the test image\n"
        "root:x:0:0:root:/root:/bin/sh\n"
        "\n"
        "web:x:1000:1000:Web:/home/web:/bin/sh\n"
        "broken:x:notanumber:1:::\n"
        "short:x:1001:1001\n"
        "dup:x:2000:2000:first:/:/bin/sh\n"
        "dup:x:2001:2001:second:/:/bin/sh\n"
        "mal:x:3000:3000::/\n"   /* 6 fields: skipped, */
        "mal:x:3001:3001:::\n"   /* so the first well-formed line wins */
        "big:x:4294967295:1:::\n" /* (uid_t) -1 is not an id */
        "neg:x:-5:1:::\n"
        "  spaced:x:5:5:::\n"
        "#commented:x:6:6:::\n"
        "crlf:x:7:7:::/bin/sh\r\n"
        "nonl:x:4000:4000:::/bin/sh";

static const char group_data[] =
        "# groups\n"
        "root:x:0:\n"
        "web:x:1000:\n"
        "staff:x:50:web,other\n"
        "dup:x:600:\n"
        "dup:x:601:\n"
        "bad:x:\n"
        "g3:x:70\n"
        "last:x:80:";

static int user(int rootfd, const char *u, uid_t *ret, char **ret_msg) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        int r = passwd_resolve_user(rootfd, u, ret, &err);

        *ret_msg = strdup(r < 0 ? error_format(&err, r) : "");
        return r;
}

static int group(int rootfd, const char *g, gid_t *ret, char **ret_msg) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        int r = passwd_resolve_group(rootfd, g, ret, &err);

        *ret_msg = strdup(r < 0 ? error_format(&err, r) : "");
        return r;
}

#define CHECK_USER(root, u, want)                                                                    \
        do {                                                                                         \
                _cleanup_free_ char *_m = NULL;                                                      \
                uid_t _id = 4242;                                                                    \
                int _r = user(root, u, &_id, &_m);                                                   \
                OK_INTEQ(_r, 0, "user \"%s\" resolves (%s)", u, _m);                                 \
                OK_INTEQ(_id, want, "user \"%s\" is %u", u, (unsigned) (want));                      \
        } while (0)

#define CHECK_GROUP(root, g, want)                                                                   \
        do {                                                                                         \
                _cleanup_free_ char *_m = NULL;                                                      \
                gid_t _id = 4242;                                                                    \
                int _r = group(root, g, &_id, &_m);                                                  \
                OK_INTEQ(_r, 0, "group \"%s\" resolves (%s)", g, _m);                                \
                OK_INTEQ(_id, want, "group \"%s\" is %u", g, (unsigned) (want));                     \
        } while (0)

/* Fails with `code`, leaves the output alone, and says `msg` somewhere. */
#define CHECK_USER_FAILS(root, u, code, msg)                                                         \
        do {                                                                                         \
                _cleanup_free_ char *_m = NULL;                                                      \
                uid_t _id = 4242;                                                                    \
                int _r = user(root, u, &_id, &_m);                                                   \
                OK_INTEQ(_r, code, "user \"%s\" is refused", u);                                     \
                OK(_id == 4242, "user \"%s\": output untouched", u);                                 \
                OK(_m && strstr(_m, msg), "user \"%s\": message mentions '%s'", u, msg);          \
                printf("#   -> %s\n", _m ? _m : "(null)");                                            \
        } while (0)

#define CHECK_GROUP_FAILS(root, g, code, msg)                                                        \
        do {                                                                                         \
                _cleanup_free_ char *_m = NULL;                                                      \
                gid_t _id = 4242;                                                                    \
                int _r = group(root, g, &_id, &_m);                                                  \
                OK_INTEQ(_r, code, "group \"%s\" is refused", g);                                    \
                OK(_id == 4242, "group \"%s\": output untouched", g);                                \
                OK(_m && strstr(_m, msg), "group \"%s\": message mentions '%s'", g, msg);          \
                printf("#   -> %s\n", _m ? _m : "(null)");                                            \
        } while (0)

static void test_numbers(int root) {
        CHECK_USER(root, "root", 0);
        CHECK_GROUP(root, "root", 0);
        CHECK_USER(root, "0", 0);
        CHECK_USER(root, "1234", 1234);
        CHECK_USER(root, "007", 7);
        CHECK_USER(root, "4294967294", 4294967294U);
        CHECK_GROUP(root, "65534", 65534);
        CHECK_USER_FAILS(root, "4294967295", -ERANGE, "out of range");
        CHECK_GROUP_FAILS(root, "99999999999999999999999", -ERANGE, "out of range");
        /* A sign makes it a name, and no image has that name. */
        CHECK_USER_FAILS(root, "-1", -ESRCH, "not found");
        CHECK_USER_FAILS(root, "+5", -ESRCH, "not found");
        CHECK_USER_FAILS(root, "", -EINVAL, "empty user");
        {
                _cleanup_free_ char *m = NULL;
                uid_t id = 4242;

                OK_INTEQ(user(root, NULL, &id, &m), -EINVAL, "a NULL user is refused");
                OK(id == 4242 && m && strstr(m, "empty user"), "NULL user: output untouched, message");
        }
        CHECK_GROUP_FAILS(root, "", -EINVAL, "empty group");
}

static void test_names(int root) {
        CHECK_USER(root, "web", 1000);
        CHECK_USER(root, "dup", 2000);   /* first match wins, as with glibc */
        CHECK_USER(root, "mal", 3001);   /* the malformed line before is skipped */
        CHECK_USER(root, "crlf", 7);
        CHECK_USER(root, "nonl", 4000);  /* last line without a newline */
        CHECK_USER_FAILS(root, "broken", -ESRCH, "user \"broken\" not found in the image's /etc/passwd");
        CHECK_USER_FAILS(root, "short", -ESRCH, "not found");
        CHECK_USER_FAILS(root, "big", -ESRCH, "not found");
        CHECK_USER_FAILS(root, "neg", -ESRCH, "not found");
        CHECK_USER_FAILS(root, "spaced", -ESRCH, "not found");
        CHECK_USER_FAILS(root, "#commented", -ESRCH, "not found");
        CHECK_USER_FAILS(root, "nobody", -ESRCH, "user \"nobody\" not found in the image's /etc/passwd");
        CHECK_USER_FAILS(root, "we", -ESRCH, "not found");  /* no prefix matches */
        CHECK_USER_FAILS(root, "webx", -ESRCH, "not found");
        CHECK_USER_FAILS(root, "a:b", -EINVAL, "cannot contain");
        {
                _cleanup_free_ char *m = NULL;
                uid_t id = 4242;

                OK_INTEQ(user(root, "web\nroot", &id, &m), -EINVAL, "a user with a newline is refused");
                OK(id == 4242 && m && strstr(m, "cannot contain"), "newline: output untouched, message");
        }

        CHECK_GROUP(root, "web", 1000);
        CHECK_GROUP(root, "staff", 50);
        CHECK_GROUP(root, "dup", 600);
        CHECK_GROUP(root, "last", 80);
        CHECK_GROUP_FAILS(root, "bad", -ESRCH, "group \"bad\" not found in the image's /etc/group");
        CHECK_GROUP_FAILS(root, "g3", -ESRCH, "not found");
        /* Users are not groups. */
        CHECK_GROUP_FAILS(root, "mal", -ESRCH, "not found");
}

static void test_paths(int root) {
        _cleanup_close_ int sub = -1;

        write_at(root, "data", "x");
        OK(fchownat(root, "data", 123, 456, 0) == 0, "chown data");
        OK(symlinkat("/data", root, "lnk") == 0, "symlink lnk -> /data");
        OK(fchownat(root, "lnk", 789, 790, AT_SYMLINK_NOFOLLOW) == 0, "lchown lnk");
        OK(mkdirat(root, "sub", 0755) == 0, "mkdir sub");
        sub = openat(root, "sub", O_PATH | O_DIRECTORY | O_CLOEXEC);
        write_at(sub, "file", "y");
        OK(fchownat(sub, "file", 5, 6, 0) == 0, "chown sub/file");
        OK(symlinkat("/sub", root, "dirl") == 0, "symlink dirl -> /sub");
        OK(symlinkat("/etc", root, "esc") == 0, "symlink esc -> /etc");
        OK(symlinkat("../../../../../..", root, "up") == 0, "symlink up -> ../../..");
        OK(fchownat(root, "etc", 11, 12, AT_SYMLINK_NOFOLLOW) == 0, "chown etc");

        CHECK_USER(root, "/data", 123);
        CHECK_GROUP(root, "/data", 456);
        /* lstat semantics: the symlink's own owner. */
        CHECK_USER(root, "/lnk", 789);
        CHECK_GROUP(root, "/lnk", 790);
        /* Symlinks before the last component resolve inside the root. */
        CHECK_USER(root, "/dirl/file", 5);
        CHECK_GROUP(root, "/dirl/file", 6);
        CHECK_USER(root, "/esc", 0); /* the link itself, owned by root */
        CHECK_USER(root, "/esc/", 11); /* a trailing slash follows it: <root>/etc, not the host's */
        CHECK_USER(root, "/up/etc", 11);
        CHECK_USER(root, "/../../../etc", 11);
        CHECK_GROUP(root, "/sub/../../../etc", 12);
        /* Not the host's /etc/shadow, which exists. */
        CHECK_USER_FAILS(root, "/esc/shadow", -ENOENT, "user \"/esc/shadow\": no such file in the image");
        CHECK_GROUP_FAILS(root, "/nope", -ENOENT, "group \"/nope\": no such file in the image");
        CHECK_USER_FAILS(root, "/data/x", -ENOTDIR, "not a directory");
}

static void test_files(void) {
        _cleanup_close_ int hostile = -1, relative = -1, etclink = -1, inroot = -1, fifo = -1, big = -1,
                            exact = -1, missing = -1, dir = -1, loop = -1;
        _cleanup_close_ int fd = -1, etc = -1;

        /* Absolute symlink to the host's file: resolved in the root, it points at
         * itself, so the lookup fails. The host has "daemon" (uid 1) and "root":
         * neither may come from there. */
        hostile = make_root("hostile");
        etc = openat(hostile, "etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(symlinkat("/etc/passwd", etc, "passwd") == 0, "etc/passwd -> /etc/passwd");
        OK(symlinkat("/etc/group", etc, "group") == 0, "etc/group -> /etc/group");
        CHECK_USER_FAILS(hostile, "daemon", -ELOOP, "cannot read /etc/passwd in the image");
        CHECK_USER_FAILS(hostile, "web", -ELOOP, "user \"web\"");
        CHECK_GROUP_FAILS(hostile, "daemon", -ELOOP, "cannot read /etc/group in the image");
        CHECK_USER(hostile, "root", 0); /* never reads the file */
        (void) close(etc);

        relative = make_root("relative");
        etc = openat(relative, "etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(symlinkat("../../../../../../../etc/passwd", etc, "passwd") == 0,
           "etc/passwd -> ../../../../etc/passwd");
        CHECK_USER_FAILS(relative, "daemon", -ELOOP, "cannot read /etc/passwd");
        (void) close(etc);

        /* The whole etc/ a symlink to the host's /etc: lands on itself. */
        etclink = make_root("etclink");
        OK(unlinkat(etclink, "etc", AT_REMOVEDIR) == 0 && symlinkat("/etc", etclink, "etc") == 0, "etc -> /etc");
        CHECK_USER_FAILS(etclink, "daemon", -ELOOP, "cannot read /etc/passwd");
        CHECK_GROUP_FAILS(etclink, "daemon", -ELOOP, "cannot read /etc/group");

        /* A symlink that stays inside the root is fine. */
        inroot = make_root("inroot");
        OK(mkdirat(inroot, "real", 0755) == 0, "mkdir real");
        fd = openat(inroot, "real", O_PATH | O_DIRECTORY | O_CLOEXEC);
        write_at(fd, "passwd", "daemon:x:77:77:::\n");
        (void) close(TAKE_FD(fd));
        etc = openat(inroot, "etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(symlinkat("/real/passwd", etc, "passwd") == 0, "etc/passwd -> /real/passwd");
        CHECK_USER(inroot, "daemon", 77);
        (void) close(etc);

        /* A FIFO: refused at once, no hang (the alarm in main guards this). */
        fifo = make_root("fifo");
        etc = openat(fifo, "etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(mkfifoat(etc, "passwd", 0644) == 0, "mkfifo etc/passwd");
        OK(mknodat(etc, "group", S_IFCHR | 0644, makedev(1, 3)) == 0, "mknod etc/group (null)");
        CHECK_USER_FAILS(fifo, "web", -EBADFD, "/etc/passwd in the image is not a regular file");
        CHECK_GROUP_FAILS(fifo, "web", -EBADFD, "/etc/group in the image is not a regular file");
        (void) close(etc);

        /* Size cap: exactly 4 MiB is read, one byte more is refused. */
        big = make_root("big");
        etc = openat(big, "etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        fd = openat(etc, "passwd", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        OK(fd >= 0 && fd_write_all(fd, "web:x:1:1:::\n", 13) == 0 && ftruncate(fd, PASSWD_FILE_MAX + 1) == 0,
           "etc/passwd of 4 MiB + 1");
        (void) close(TAKE_FD(fd));
        CHECK_USER_FAILS(big, "web", -EFBIG, "/etc/passwd in the image is larger than 4194304 bytes");
        (void) close(etc);

        exact = make_root("exact");
        etc = openat(exact, "etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        fd = openat(etc, "passwd", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        OK(fd >= 0 && fd_write_all(fd, "web:x:1:1:::\n", 13) == 0 && ftruncate(fd, PASSWD_FILE_MAX) == 0,
           "etc/passwd of exactly 4 MiB (NUL bytes after the first line)");
        (void) close(TAKE_FD(fd));
        CHECK_USER(exact, "web", 1);
        CHECK_USER_FAILS(exact, "nobody", -ESRCH, "not found");
        (void) close(etc);

        missing = make_root("missing");
        CHECK_USER_FAILS(missing, "web", -ENOENT, "user \"web\" not found: the image has no /etc/passwd");
        CHECK_GROUP_FAILS(missing, "web", -ENOENT, "group \"web\" not found: the image has no /etc/group");
        CHECK_USER(missing, "root", 0);
        CHECK_USER(missing, "33", 33);

        dir = make_root("dir");
        etc = openat(dir, "etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(mkdirat(etc, "passwd", 0755) == 0, "etc/passwd is a directory");
        CHECK_USER_FAILS(dir, "web", -EBADFD, "not a regular file");
        (void) close(etc);

        loop = make_root("loop");
        etc = openat(loop, "etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK(symlinkat("group", etc, "passwd") == 0 && symlinkat("passwd", etc, "group") == 0,
           "etc/passwd <-> etc/group loop");
        CHECK_USER_FAILS(loop, "web", -ELOOP, "cannot read /etc/passwd");
        (void) close(etc);
}

int main(void) {
        _cleanup_close_ int root = -1, rootrd = -1, etc = -1;
        char tmpl[] = "/tmp/test-passwd.XXXXXX";

        if (geteuid() != 0) {
                printf("1..0 # SKIP needs root (chown, mknod)\n");
                return 0;
        }
        /* A hang on a FIFO would otherwise stall the whole suite. */
        alarm(60);
        tmpdir = mkdtemp(tmpl);
        if (!tmpdir)
                abort();

        root = make_root("root");
        etc = openat(root, "etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        write_at(etc, "passwd", passwd_data);
        write_at(etc, "group", group_data);

        test_numbers(root);
        test_names(root);
        test_paths(root);
        test_files();

        /* A plain O_RDONLY directory fd works as well as O_PATH. */
        rootrd = openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK_USER(rootrd, "web", 1000);
        CHECK_USER_FAILS(-1, "web", -EBADF, "no root directory");

        tap_rm_tree(tmpdir);
        OK(access(tmpdir, F_OK) < 0, "temporary directory removed");
        return tap_done();
}
