/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fileset.h"
#include "tap.h"

static int make_writable(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) ftw;
        if (flag == FTW_D && !S_ISLNK(st->st_mode))
                (void) chmod(path, 0700);
        return 0;
}

/* The sets contain read-only directories; without root they must be made
 * writable before their entries can go. */
static void rm_rf(const char *path) {
        (void) nftw(path, make_writable, 16, FTW_PHYS);
        (void) nftw(path, tap_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Names in the directory `fd`, sorted and joined with ',' ("" when empty). */
static char *list_dir(int fd) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        struct dirent **names = NULL;
        int dfd, n;
        char *proc = NULL;

        dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0 || asprintf(&proc, "/proc/self/fd/%d", dfd) < 0)
                abort();
        n = scandir(proc, &names, NULL, alphasort);
        free(proc);
        close(dfd);
        if (n < 0)
                return NULL;
        for (int i = 0; i < n; i++) {
                if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
                        if (b.len > 0)
                                strbuf_putc(&b, ',');
                        strbuf_append(&b, names[i]->d_name);
                }
                free(names[i]);
        }
        free(names);
        return strbuf_steal(&b, NULL);
}

static char *read_at(int dirfd, const char *path, size_t *ret_size) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        char buf[4096];
        ssize_t n;

        if (fd < 0)
                return NULL;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                strbuf_append_n(&b, buf, (size_t) n);
        if (n < 0)
                return NULL;
        return strbuf_steal(&b, ret_size);
}

static int mode_at(int dirfd, const char *path) {
        struct stat st;

        if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return (int) (st.st_mode & 07777);
}

static int type_at(int dirfd, const char *path) {
        struct stat st;

        if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return (int) (st.st_mode & S_IFMT);
}

static int count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        int n = 0;

        if (!d)
                return -1;
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

static FileSet *sample_set(void) {
        FileSet *fs = fileset_new();
        _cleanup_(unit_freep) Unit *u = unit_new("app.service");
        static const char bin[] = { 'b', 0, 'n', '\n' };

        if (!fs || !u)
                abort();
        OK_INTEQ(fileset_add_file(fs, "a.txt", 0644, "hello\n", 6), 0, "add a.txt");
        OK_INTEQ(fileset_add_file(fs, "sub/dir/b.bin", 0600, bin, sizeof(bin)), 0,
                 "add sub/dir/b.bin (implied dirs)");
        OK_INTEQ(fileset_add_file(fs, "exec.sh", 04755, "#!/bin/sh\n", 10), 0, "add exec.sh (setuid)");
        OK_INTEQ(fileset_add_file(fs, "empty", 0640, NULL, 0), 0, "add empty file");
        OK_INTEQ(fileset_add_symlink(fs, "link", "sub/dir/b.bin"), 0, "add relative symlink");
        OK_INTEQ(fileset_add_symlink(fs, "sub/abs", "/etc/does-not-exist"), 0, "add dangling absolute symlink");
        OK_INTEQ(fileset_add_directory(fs, "sub", 0700), 0, "explicit directory after an implied one");
        OK_INTEQ(fileset_add_directory(fs, "emptydir", 0750), 0, "add empty directory");
        OK_INTEQ(fileset_add_directory(fs, "ro", 0555), 0, "add read-only directory");
        OK_INTEQ(fileset_add_file(fs, "ro/f", 0444, "ro", 2), 0, "add file inside read-only directory");
        if (unit_add(u, "Service", "ExecStart", "\"/bin/app\"") < 0)
                abort();
        OK_INTEQ(fileset_add_unit(fs, "etc/systemd/system", u), 0, "add unit");
        return fs;
}

static void test_write_and_read_back(int tmpfd) {
        _cleanup_(fileset_freep) FileSet *fs = sample_set();
        _cleanup_close_ int outfd = -1;
        _cleanup_free_ char *a = NULL, *b = NULL, *unit = NULL, *ls = NULL, *ro = NULL;
        char target[PATH_MAX];
        ssize_t n;
        size_t size = 0;
        mode_t old_umask;
        int fds_before = count_fds();

        /* The umask must not decide the modes. */
        old_umask = umask(077);
        OK_INTEQ(fileset_write(fs, tmpfd, "out"), 0, "fileset_write into a fresh name");
        umask(old_umask);
        OK_INTEQ(count_fds(), fds_before, "no fd leaked");

        outfd = openat(tmpfd, "out", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (!OK(outfd >= 0, "out is a directory"))
                return;
        ls = list_dir(tmpfd);
        OK_STREQ(ls, "out", "no temporary directory left next to it");
        free(ls);
        ls = list_dir(outfd);
        OK_STREQ(ls, "a.txt,empty,emptydir,etc,exec.sh,link,ro,sub", "top level entries");

        a = read_at(outfd, "a.txt", &size);
        OK(a && size == 6 && memcmp(a, "hello\n", 6) == 0, "a.txt contents");
        b = read_at(outfd, "sub/dir/b.bin", &size);
        OK(b && size == 4 && memcmp(b, "b\0n\n", 4) == 0, "binary contents with NUL byte");
        ro = read_at(outfd, "ro/f", &size);
        OK(ro && size == 2 && memcmp(ro, "ro", 2) == 0, "file inside read-only directory");
        unit = read_at(outfd, "etc/systemd/system/app.service", NULL);
        OK_STREQ(unit, UNIT_HEADER "\n\n[Service]\nExecStart=\"/bin/app\"\n", "unit file contents");

        OK_INTEQ(mode_at(outfd, "."), 0755, "top directory 0755");
        OK_INTEQ(mode_at(outfd, "a.txt"), 0644, "a.txt 0644");
        OK_INTEQ(mode_at(outfd, "sub/dir/b.bin"), 0600, "b.bin 0600");
        OK_INTEQ(mode_at(outfd, "exec.sh"), 04755, "exec.sh 04755");
        OK_INTEQ(mode_at(outfd, "empty"), 0640, "empty file 0640");
        OK_INTEQ(mode_at(outfd, "sub"), 0700, "explicit directory keeps its mode");
        OK_INTEQ(mode_at(outfd, "sub/dir"), 0755, "implied directory 0755");
        OK_INTEQ(mode_at(outfd, "etc"), 0755, "implied etc 0755");
        OK_INTEQ(mode_at(outfd, "etc/systemd/system"), 0755, "implied etc/systemd/system 0755");
        OK_INTEQ(mode_at(outfd, "emptydir"), 0750, "empty directory 0750");
        OK_INTEQ(mode_at(outfd, "ro"), 0555, "read-only directory 0555");
        OK_INTEQ(mode_at(outfd, "ro/f"), 0444, "ro/f 0444");
        OK_INTEQ(mode_at(outfd, "etc/systemd/system/app.service"), 0644, "unit 0644");
        OK_INTEQ(type_at(outfd, "link"), S_IFLNK, "link is a symlink");
        OK_INTEQ(type_at(outfd, "sub/abs"), S_IFLNK, "sub/abs is a symlink");
        OK_INTEQ(type_at(outfd, "empty"), S_IFREG, "empty is a regular file");
        n = readlinkat(outfd, "link", target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = 0;
        OK_STREQ(target, "sub/dir/b.bin", "link target");
        n = readlinkat(outfd, "sub/abs", target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = 0;
        OK_STREQ(target, "/etc/does-not-exist", "dangling symlink target");

        /* Writing the same set again: the destination is not empty now. */
        {
                int r = fileset_write(fs, tmpfd, "out");

                OK(r == -EEXIST || r == -ENOTEMPTY, "rewrite onto a non-empty destination refused (%d)", r);
                free(ls);
                ls = list_dir(tmpfd);
                OK_STREQ(ls, "out", "nothing left behind");
                free(a);
                a = read_at(outfd, "a.txt", &size);
                OK(a && size == 6, "existing contents untouched");
        }
}

static void test_destinations(int tmpfd) {
        _cleanup_(fileset_freep) FileSet *fs = fileset_new();
        _cleanup_free_ char *ls = NULL, *x = NULL;
        int r;

        if (!fs || fileset_add_file(fs, "x", 0644, "new", 3) < 0)
                abort();

        if (mkdirat(tmpfd, "d-empty", 0755) < 0)
                abort();
        OK_INTEQ(fileset_write(fs, tmpfd, "d-empty"), 0, "empty directory destination replaced");
        x = read_at(tmpfd, "d-empty/x", NULL);
        OK_STREQ(x, "new", "replacement contents");

        if (mkdirat(tmpfd, "d-full", 0755) < 0 || mkdirat(tmpfd, "d-full/keep", 0755) < 0)
                abort();
        r = fileset_write(fs, tmpfd, "d-full");
        OK(r == -EEXIST || r == -ENOTEMPTY, "non-empty directory destination refused (%d)", r);
        ls = list_dir(tmpfd);
        OK_STREQ(ls, "d-empty,d-full", "no temporary directory left");
        free(ls);
        {
                _cleanup_close_ int fd = openat(tmpfd, "d-full", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                ls = fd >= 0 ? list_dir(fd) : NULL;
                OK_STREQ(ls, "keep", "non-empty destination untouched");
                free(ls);
                ls = NULL;
        }

        {
                _cleanup_close_ int fd = openat(tmpfd, "f", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

                OK(fd >= 0, "create a regular file as destination");
        }
        OK_INTEQ(fileset_write(fs, tmpfd, "f"), -EEXIST, "regular file destination refused");
        if (symlinkat("d-empty", tmpfd, "l") < 0)
                abort();
        OK_INTEQ(fileset_write(fs, tmpfd, "l"), -EEXIST, "symlink destination refused, not followed");
        if (symlinkat("nowhere", tmpfd, "dangling") < 0)
                abort();
        OK_INTEQ(fileset_write(fs, tmpfd, "dangling"), -EEXIST, "dangling symlink destination refused");
        ls = list_dir(tmpfd);
        OK_STREQ(ls, "d-empty,d-full,dangling,f,l", "still no temporary directory left");
        free(ls);

        static const char *const bad_names[] = { "", ".", "..", "a/b", "/abs", "x/" };
        for (size_t i = 0; i < ELEMENTSOF(bad_names); i++)
                OK_INTEQ(fileset_write(fs, tmpfd, bad_names[i]), -EINVAL, "destination name \"%s\" refused",
                         bad_names[i]);
        OK_INTEQ(fileset_write(fs, -1, "z"), -EBADF, "bad dirfd");

        {
                _cleanup_(fileset_freep) FileSet *empty = fileset_new();
                _cleanup_close_ int fd = -1;

                OK_INTEQ(fileset_write(empty, tmpfd, "nothing"), 0, "empty set writes an empty directory");
                fd = openat(tmpfd, "nothing", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ls = fd >= 0 ? list_dir(fd) : NULL;
                OK_STREQ(ls, "", "and it is empty");
                free(ls);
                ls = NULL;
        }

        {
                /* A name long enough that ".<name>.tmpXXXXXX" would exceed NAME_MAX. */
                char name[NAME_MAX + 1];

                memset(name, 'n', NAME_MAX);
                name[NAME_MAX] = 0;
                OK_INTEQ(fileset_write(fs, tmpfd, name), 0, "destination name of NAME_MAX bytes");
                ls = list_dir(tmpfd);
                OK(ls && !strchr(ls, '.'), "no temporary directory left after a long name");
        }
}

static void test_bad_paths(void) {
        _cleanup_(fileset_freep) FileSet *fs = fileset_new();
        static const char *const bad[] = {
                "",   "/abs", "trail/", "a//b", "./a", "a/./b", ".", "..", "a/..", "../x", "a/../b", "/", "//",
        };
        char long_comp[NAME_MAX + 3];

        if (!fs)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                OK_INTEQ(fileset_add_file(fs, bad[i], 0644, "x", 1), -EINVAL, "file path \"%s\" refused", bad[i]);
                OK_INTEQ(fileset_add_symlink(fs, bad[i], "t"), -EINVAL, "symlink path \"%s\" refused", bad[i]);
                OK_INTEQ(fileset_add_directory(fs, bad[i], 0755), -EINVAL, "directory path \"%s\" refused", bad[i]);
        }
        OK_INTEQ(fileset_add_file(fs, NULL, 0644, "x", 1), -EINVAL, "NULL path refused");

        memset(long_comp, 'c', NAME_MAX + 1);
        long_comp[NAME_MAX + 1] = 0;
        OK_INTEQ(fileset_add_file(fs, long_comp, 0644, "x", 1), -EINVAL, "component over NAME_MAX refused");
        long_comp[NAME_MAX] = 0;
        OK_INTEQ(fileset_add_file(fs, long_comp, 0644, "x", 1), 0, "component of NAME_MAX accepted");

        OK_INTEQ(fileset_add_file(fs, "f", 0644, "x", 1), 0, "add f");
        OK_INTEQ(fileset_add_file(fs, "f", 0644, "y", 1), -EINVAL, "duplicate file refused");
        OK_INTEQ(fileset_add_directory(fs, "f", 0755), -EINVAL, "directory over a file refused");
        OK_INTEQ(fileset_add_file(fs, "f/below", 0644, "x", 1), -EINVAL, "path below a file refused");
        OK_INTEQ(fileset_add_symlink(fs, "l", "d"), 0, "add symlink l");
        OK_INTEQ(fileset_add_file(fs, "l/below", 0644, "x", 1), -EINVAL, "path below a symlink refused");
        OK_INTEQ(fileset_add_directory(fs, "l/d", 0755), -EINVAL, "directory below a symlink refused");
        OK_INTEQ(fileset_add_file(fs, "d/e/f", 0644, "x", 1), 0, "add d/e/f");
        OK_INTEQ(fileset_add_file(fs, "d/e", 0644, "x", 1), -EINVAL, "file where a directory is implied refused");
        OK_INTEQ(fileset_add_symlink(fs, "d", "x"), -EINVAL, "symlink where a directory is implied refused");
        OK_INTEQ(fileset_add_directory(fs, "d/e", 0700), 0, "directory where one is implied accepted");
        OK_INTEQ(fileset_add_directory(fs, "d/e", 0700), -EINVAL, "duplicate directory refused");
        OK_INTEQ(fileset_add_file(fs, "d-e", 0644, "x", 1), 0, "sibling with a common prefix accepted");

        OK_INTEQ(fileset_add_file(fs, "m", 0170644, "x", 1), -EINVAL, "file type bits in mode refused");
        OK_INTEQ(fileset_add_directory(fs, "m", 040755), -EINVAL, "directory type bits in mode refused");
        OK_INTEQ(fileset_add_file(fs, "n", 0644, NULL, 1), -EINVAL, "NULL data with a size refused");
        OK_INTEQ(fileset_add_symlink(fs, "s", ""), -EINVAL, "empty symlink target refused");
        OK_INTEQ(fileset_add_symlink(fs, "s", NULL), -EINVAL, "NULL symlink target refused");
        OK(!fileset_find(fs, "m") && !fileset_find(fs, "n") && !fileset_find(fs, "s"), "refused entries absent");
        {
                _cleanup_(unit_freep) Unit *u = unit_new("a/b.service");

                OK_INTEQ(fileset_add_unit(fs, "x", u), -EINVAL, "unit name with '/' refused");
        }
        {
                _cleanup_(unit_freep) Unit *u = unit_new("top.service");

                OK_INTEQ(fileset_add_unit(fs, NULL, u), 0, "unit at the top level");
                OK(fileset_find(fs, "top.service"), "found top.service");
                OK_INTEQ(fileset_add_unit(fs, "/etc", u), -EINVAL, "absolute unit directory refused");
        }
}

static void test_find_sort(void) {
        _cleanup_(fileset_freep) FileSet *fs = fileset_new();
        static const char *const order[] = { "b", "a/z", "a-b", "a", "B", "\xc3\xa9", "a/b" };
        static const char *const sorted[] = { "B", "a", "a-b", "a/b", "a/z", "b", "\xc3\xa9" };
        const FileSetEntry *e;

        if (!fs)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                int r = strcmp(order[i], "a") == 0 ? fileset_add_directory(fs, order[i], 0711)
                                                   : fileset_add_file(fs, order[i], 0644, order[i], strlen(order[i]));
                OK_INTEQ(r, 0, "add \"%s\"", order[i]);
        }
        fileset_sort(fs);
        for (size_t i = 0; i < ELEMENTSOF(sorted); i++)
                OK_STREQ(fs->entries[i].path, sorted[i], "sorted[%zu]", i);
        e = fileset_find(fs, "a/z");
        OK(e && e->kind == FILESET_FILE && e->size == 3 && memcmp(e->data, "a/z", 3) == 0 && e->data[3] == 0,
           "fileset_find a/z");
        e = fileset_find(fs, "a");
        OK(e && e->kind == FILESET_DIRECTORY && e->mode == 0711, "fileset_find a (directory)");
        OK(!fileset_find(fs, "a/"), "no match for a/");
        OK(!fileset_find(fs, "c"), "no match for c");
        OK(!fileset_find(NULL, "c"), "NULL set");
        OK(fileset_free(NULL) == NULL, "fileset_free(NULL)");
}

/* A failure after some files exist (a duplicate smuggled past the add
 * checks) must leave nothing behind; needs no privileges. */
static void test_mid_failure(int tmpfd) {
        _cleanup_(fileset_freep) FileSet *fs = fileset_new();
        _cleanup_free_ char *before = NULL, *after = NULL;
        int r;

        if (!fs || fileset_add_file(fs, "dir/one", 0644, "1", 1) < 0 ||
            fileset_add_file(fs, "dir/two", 0644, "2", 1) < 0 ||
            fileset_add_directory(fs, "ro", 0500) < 0 || fileset_add_file(fs, "ro/x", 0400, "x", 1) < 0 ||
            fileset_add_file(fs, "zz", 0644, "z", 1) < 0)
                abort();
        /* Make the last file collide with an earlier one. */
        memcpy(fs->entries[4].path, "ro", 3);
        before = list_dir(tmpfd);
        r = fileset_write(fs, tmpfd, "mid");
        OK_INTEQ(r, -EEXIST, "write failing half-way reports the error");
        after = list_dir(tmpfd);
        OK_STREQ(after, before, "nothing left behind after a failure half-way");

        memcpy(fs->entries[4].path, "..", 3);
        OK_INTEQ(fileset_write(fs, tmpfd, "mid"), -EINVAL, "a bad path slipped into the set is refused");
}

static void test_enospc(const char *tmp, int tmpfd) {
        _cleanup_(fileset_freep) FileSet *big = fileset_new(), *small = fileset_new();
        _cleanup_free_ char *mnt = NULL, *ls = NULL;
        _cleanup_close_ int mfd = -1;
        char data[4096];
        int r;

        if (!big || !small || asprintf(&mnt, "%s/mnt", tmp) < 0 || mkdirat(tmpfd, "mnt", 0755) < 0)
                abort();
        memset(data, 'x', sizeof(data));
        for (int i = 0; i < 12; i++) {
                char name[32];

                snprintf(name, sizeof(name), "units/f%02d.service", i);
                if (fileset_add_file(big, name, 0644, data, sizeof(data)) < 0)
                        abort();
        }
        if (fileset_add_file(small, "units/one.service", 0644, "x\n", 2) < 0)
                abort();

        /* A private mount namespace: should this process die before the
         * umount below, the tmpfs goes away with it instead of lingering. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,mode=0755") < 0) {
                OK(true, "ENOSPC half-way leaves nothing # SKIP cannot mount a tmpfs: %m");
                OK(true, "retry after ENOSPC # SKIP cannot mount a tmpfs");
                return;
        }

        mfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (OK(mfd >= 0, "open the tmpfs")) {
                r = fileset_write(big, mfd, "set");
                OK_INTEQ(r, -ENOSPC, "a set larger than the filesystem fails with ENOSPC");
                ls = list_dir(mfd);
                OK_STREQ(ls, "", "ENOSPC half-way leaves nothing on the filesystem");
                OK_INTEQ(fileset_write(small, mfd, "set"), 0, "retry after ENOSPC succeeds once it fits");
        }
        closep(&mfd);
        mfd = -1;
        OK(umount2(mnt, MNT_DETACH) >= 0, "unmount the tmpfs");
}

int main(void) {
        char tmp[] = "/tmp/test-fileset.XXXXXX";
        _cleanup_close_ int tmpfd = -1;
        int fds_before = count_fds();

        test_bad_paths();
        test_find_sort();

        if (!mkdtemp(tmp)) {
                OK(false, "mkdtemp: %m");
                return tap_done();
        }
        tmpfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tmpfd < 0)
                abort();
        {
                _cleanup_close_ int d = -1;

                if (mkdirat(tmpfd, "w", 0755) < 0)
                        abort();
                d = openat(tmpfd, "w", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                test_write_and_read_back(d);
        }
        {
                _cleanup_close_ int d = -1;

                if (mkdirat(tmpfd, "dest", 0755) < 0)
                        abort();
                d = openat(tmpfd, "dest", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                test_destinations(d);
        }
        {
                _cleanup_close_ int d = -1;

                if (mkdirat(tmpfd, "mid", 0755) < 0)
                        abort();
                d = openat(tmpfd, "mid", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                test_mid_failure(d);
        }
        {
                _cleanup_(fileset_freep) FileSet *fs = fileset_new();
                _cleanup_free_ char *x = NULL;
                int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                if (!fs || cwd < 0 || fileset_add_file(fs, "d/x", 0600, "cwd", 3) < 0 || fchdir(tmpfd) < 0)
                        abort();
                OK_INTEQ(fileset_write(fs, AT_FDCWD, "at-cwd"), 0, "fileset_write relative to AT_FDCWD");
                x = read_at(tmpfd, "at-cwd/d/x", NULL);
                OK_STREQ(x, "cwd", "written under the working directory");
                if (fchdir(cwd) < 0)
                        abort();
                close(cwd);
        }
        test_enospc(tmp, tmpfd);

        closep(&tmpfd);
        tmpfd = -1;
        rm_rf(tmp);
        OK(access(tmp, F_OK) < 0 && errno == ENOENT, "temporary directory removed");
        OK_INTEQ(count_fds(), fds_before, "no fd leaked overall");
        return tap_done();
}
