/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chase_in_root(): readlink -m semantics with an app root as "/", on fds,
 * creating what is missing; nothing lands outside the root (docs/volumes.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chase.h"
#include "tap.h"

static int count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        int n = 0;

        if (!d)
                abort();
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

static void must(int r, const char *what) {
        if (r < 0) {
                perror(what);
                abort();
        }
}

/* Where `fd` is, relative to the root `top` (a path string, for the test only). */
static char *where(int fd, const char *top) {
        char link[64], buf[PATH_MAX];
        ssize_t n;
        size_t len = strlen(top);

        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, buf, sizeof(buf) - 1);
        if (n < 0)
                return strdup("?");
        buf[n] = 0;
        if (strncmp(buf, top, len) != 0)
                return strdup(buf); /* outside: the full path, which fails the check */
        return strdup(buf[len] ? buf + len : "/");
}

static void check(int rootfd, const char *top, const char *path, ChaseFlags flags, const char *want) {
        char *got = NULL, *at = NULL;
        int fd = -1, r;

        r = chase_in_root(rootfd, path, flags, &fd, &got);
        OK_INTEQ(r, 0, "chase %s", path);
        if (r < 0)
                return;
        OK_STREQ(got, want, "%s resolves to %s", path, want);
        at = where(fd, top);
        OK_STREQ(at, want, "%s: the fd is at %s", path, want);
        free(at);
        free(got);
        close(fd);
}

int main(void) {
        char tmp[] = "/tmp/test-chase.XXXXXX", outside[PATH_MAX], top[PATH_MAX];
        int rootfd, fds_before = count_fds(), fd = -1;
        struct stat st;
        char *got = NULL;

        if (!mkdtemp(tmp)) {
                OK(false, "mkdtemp: %m");
                return tap_done();
        }
        snprintf(top, sizeof(top), "%s/root", tmp);
        snprintf(outside, sizeof(outside), "%s/outside", tmp);
        must(mkdir(top, 0755), "mkdir root");
        must(mkdir(outside, 0755), "mkdir outside");
        rootfd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
        must(rootfd, "open root");

        /* The image of rkt's tests (stage1-contract §6.3), plus escapes. */
        must(mkdirat(rootfd, "dir1", 0755), "dir1");
        must(mkdirat(rootfd, "dir2", 0755), "dir2");
        must(symlinkat("/dir2", rootfd, "dir1/link_abs_dir2"), "l1");
        must(symlinkat("../dir2", rootfd, "dir1/link_rel_dir2"), "l2");
        must(symlinkat("/../dir2", rootfd, "dir1/link_abs_dotdot_dir2"), "l3");
        must(symlinkat("/", rootfd, "dir1/link_abs_root"), "l4");
        must(symlinkat("/notexists", rootfd, "dir1/link_abs_notexists"), "l5");
        must(symlinkat(outside, rootfd, "escape_abs"), "l6");
        must(symlinkat("../../../../../../../../..", rootfd, "escape_rel"), "l7");
        must(symlinkat("loop_b", rootfd, "loop_a"), "l8");
        must(symlinkat("loop_a", rootfd, "loop_b"), "l9");
        {
                int f = openat(rootfd, "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                must(f, "file");
                close(f);
        }

        check(rootfd, top, "/dir1/link_abs_dir2/foo", CHASE_MKDIR | CHASE_CREATE_DIR, "/dir2/foo");
        check(rootfd, top, "/dir1/../dir1/.//link_rel_dir2/foo", CHASE_MKDIR | CHASE_CREATE_DIR, "/dir2/foo");
        check(rootfd, top, "/dir1/../../../foo", CHASE_MKDIR | CHASE_CREATE_DIR, "/foo");
        check(rootfd, top, "/dir1/link_abs_dotdot_dir2/foo", CHASE_MKDIR | CHASE_CREATE_DIR, "/dir2/foo");
        check(rootfd, top, "/dir1/link_rel_dir2/newdir/foo", CHASE_MKDIR | CHASE_CREATE_DIR, "/dir2/newdir/foo");
        check(rootfd, top, "/dir1/link_abs_notexists/newdir1/newdir2/foo", CHASE_MKDIR | CHASE_CREATE_DIR,
              "/notexists/newdir1/newdir2/foo");
        check(rootfd, top, "/dir1/link_abs_root/newdir1/newdir2/foo", CHASE_MKDIR | CHASE_CREATE_DIR,
              "/newdir1/newdir2/foo");
        check(rootfd, top, "../../../../foo", CHASE_MKDIR | CHASE_CREATE_DIR, "/foo");
        check(rootfd, top, "/", 0, "/");
        check(rootfd, top, "/dir1/link_abs_root", 0, "/");

        /* Escapes: an absolute link to a real host directory lands in the
         * root's namesake, a relative climb stops at the root. */
        {
                char *want;

                if (asprintf(&want, "%s/x", outside) < 0)
                        abort();
                check(rootfd, top, "/escape_abs/x", CHASE_MKDIR | CHASE_CREATE_DIR, want);
                free(want);
        }
        OK(fstatat(AT_FDCWD, outside, &st, 0) == 0 && st.st_nlink == 2, "nothing was created in the host directory");
        check(rootfd, top, "/escape_rel/y", CHASE_MKDIR | CHASE_CREATE_DIR, "/y");
        check(rootfd, top, "/dir1/link_abs_root/../../escape_rel/../z", CHASE_MKDIR | CHASE_CREATE_DIR, "/z");

        /* A file target, created empty. */
        check(rootfd, top, "/etc/app.conf", CHASE_MKDIR | CHASE_CREATE_FILE, "/etc/app.conf");
        OK(fstatat(rootfd, "etc/app.conf", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && st.st_size == 0,
           "the file target is an empty regular file");
        OK(fstatat(rootfd, "etc", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755,
           "its parent was created 0755");

        /* Errors. */
        OK_INTEQ(chase_in_root(rootfd, "/missing/x", 0, &fd, NULL), -ENOENT, "missing, not created: -ENOENT");
        OK(faccessat(rootfd, "missing", F_OK, AT_SYMLINK_NOFOLLOW) < 0, "and nothing was created");
        OK_INTEQ(chase_in_root(rootfd, "/missing2", CHASE_MKDIR, &fd, NULL), -ENOENT,
                 "the last component is created only when asked");
        OK_INTEQ(chase_in_root(rootfd, "/file/x", CHASE_MKDIR | CHASE_CREATE_DIR, &fd, NULL), -ENOTDIR,
                 "a file on the way: -ENOTDIR");
        OK_INTEQ(chase_in_root(rootfd, "/loop_a/x", CHASE_MKDIR, &fd, NULL), -ELOOP, "a symlink loop: -ELOOP");
        OK_INTEQ(chase_in_root(rootfd, "/loop_a", 0, &fd, &got), -ELOOP, "a loop as the last component: -ELOOP");
        OK(got == NULL, "no path returned on failure");

        close(rootfd);
        tap_rm_tree(tmp);
        OK_INTEQ(count_fds(), fds_before, "no fd leaked");
        return tap_done();
}
