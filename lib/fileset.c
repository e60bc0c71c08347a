/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "rm-rf.h"
#include "fd-util.h"
#include "fileset.h"

#define IMPLIED_DIR_MODE 0755
#define TOP_DIR_MODE 0755

/* A hash table over every path in the set and every ancestor directory a
 * path implies, so that adding an entry checks for duplicates and for
 * file/directory conflicts in O(depth) instead of scanning the whole set: a
 * pod of 1000 apps has thousands of entries. */
typedef struct PathSlot {
        char *key;     /* NULL: free slot */
        size_t len;
        uint64_t hash;
        int kind;      /* FileSetKind of the entry with this path, or -1 */
        bool ancestor; /* some entry lives below this path */
} PathSlot;

struct FileSetIndex {
        PathSlot *slots;
        size_t n_slots; /* power of two */
        size_t n_used;
};

static uint64_t path_hash(const char *s, size_t n) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */

        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char) s[i];
                h *= 1099511628211ULL;
        }
        return h;
}

static PathSlot *index_find(const FileSetIndex *x, const char *s, size_t n, uint64_t h) {
        if (!x || x->n_slots == 0)
                return NULL;
        for (size_t i = h & (x->n_slots - 1);; i = (i + 1) & (x->n_slots - 1)) {
                PathSlot *e = &x->slots[i];

                if (!e->key)
                        return NULL;
                if (e->hash == h && e->len == n && memcmp(e->key, s, n) == 0)
                        return e;
        }
}

static int index_grow(FileSetIndex *x) {
        size_t n = x->n_slots ? x->n_slots * 2 : 64;
        PathSlot *slots = calloc(n, sizeof(PathSlot));

        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < x->n_slots; i++) {
                PathSlot *e = &x->slots[i];
                size_t j;

                if (!e->key)
                        continue;
                for (j = e->hash & (n - 1); slots[j].key; j = (j + 1) & (n - 1))
                        ;
                slots[j] = *e;
        }
        free(x->slots);
        x->slots = slots;
        x->n_slots = n;
        return 0;
}

static PathSlot *index_insert(FileSetIndex *x, const char *s, size_t n) {
        uint64_t h = path_hash(s, n);
        PathSlot *e = index_find(x, s, n, h);
        size_t i;

        if (e)
                return e;
        if ((x->n_used + 1) * 2 > x->n_slots && index_grow(x) < 0)
                return NULL;
        for (i = h & (x->n_slots - 1); x->slots[i].key; i = (i + 1) & (x->n_slots - 1))
                ;
        e = &x->slots[i];
        e->key = strndup(s, n);
        if (!e->key)
                return NULL;
        e->len = n;
        e->hash = h;
        e->kind = -1;
        e->ancestor = false;
        x->n_used++;
        return e;
}

static void index_free(FileSetIndex *x) {
        if (!x)
                return;
        for (size_t i = 0; i < x->n_slots; i++)
                free(x->slots[i].key);
        free(x->slots);
        free(x);
}

FileSet *fileset_new(void) {
        FileSet *fs = calloc(1, sizeof(FileSet));

        if (!fs)
                return NULL;
        fs->index = calloc(1, sizeof(FileSetIndex));
        if (!fs->index) {
                free(fs);
                return NULL;
        }
        return fs;
}

FileSet *fileset_free(FileSet *fs) {
        if (!fs)
                return NULL;
        for (size_t i = 0; i < fs->n_entries; i++) {
                free(fs->entries[i].path);
                free(fs->entries[i].data);
        }
        free(fs->entries);
        index_free(fs->index);
        free(fs);
        return NULL;
}

/* Relative, every component a real name: nothing that could climb out of
 * the tree or name the same file twice. */
static bool path_ok(const char *path) {
        if (!path || !*path || strlen(path) >= PATH_MAX)
                return false;
        for (const char *p = path;;) {
                size_t n = strcspn(p, "/");

                if (n == 0 || n > NAME_MAX)
                        return false; /* leading, trailing or doubled '/' */
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                if (!p[n])
                        return true;
                p += n + 1;
        }
}

static int fileset_check_new(const FileSet *fs, const char *path, FileSetKind kind) {
        const PathSlot *e;
        size_t n;

        if (!fs || !path_ok(path))
                return -EINVAL;
        n = strlen(path);
        e = index_find(fs->index, path, n, path_hash(path, n));
        if (e && e->kind >= 0)
                return -EINVAL; /* the same path twice */
        if (e && e->ancestor && kind != FILESET_DIRECTORY)
                return -EINVAL; /* a file or symlink where entries below need a directory */
        /* Nothing can live below a file or a symlink (and a symlink in the
         * middle of a path is exactly what we never follow). */
        for (const char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
                size_t k = (size_t) (p - path);

                e = index_find(fs->index, path, k, path_hash(path, k));
                if (e && e->kind >= 0 && e->kind != FILESET_DIRECTORY)
                        return -EINVAL;
        }
        return 0;
}

static int fileset_index_add(FileSet *fs, const char *path, FileSetKind kind) {
        PathSlot *e = index_insert(fs->index, path, strlen(path));

        if (!e)
                return -ENOMEM;
        e->kind = (int) kind;
        for (const char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
                e = index_insert(fs->index, path, (size_t) (p - path));
                if (!e)
                        return -ENOMEM;
                e->ancestor = true;
        }
        return 0;
}

static int fileset_append(FileSet *fs, const char *path, FileSetKind kind, mode_t mode, char *data,
                          size_t size) {
        _cleanup_free_ char *d = data;
        _cleanup_free_ char *p = NULL;
        FileSetEntry *n;

        p = strdup(path);
        if (!p)
                return -ENOMEM;
        if (fs->n_entries == fs->n_allocated) {
                size_t want = fs->n_allocated ? fs->n_allocated * 2 : 16;

                n = reallocarray(fs->entries, want, sizeof(*n));
                if (!n)
                        return -ENOMEM;
                fs->entries = n;
                fs->n_allocated = want;
        }
        if (fileset_index_add(fs, path, kind) < 0)
                return -ENOMEM;
        fs->entries[fs->n_entries++] = (FileSetEntry){
                .path = TAKE_PTR(p),
                .kind = kind,
                .mode = mode,
                .data = TAKE_PTR(d),
                .size = size,
        };
        return 0;
}

/* Takes `data` (NUL-terminated at `size`) whatever happens. */
static int fileset_add_file_take(FileSet *fs, const char *path, mode_t mode, char *data, size_t size) {
        int r;

        r = fileset_check_new(fs, path, FILESET_FILE);
        if (r < 0 || (mode & ~(mode_t) 07777)) {
                free(data);
                return r < 0 ? r : -EINVAL;
        }
        return fileset_append(fs, path, FILESET_FILE, mode, data, size);
}

int fileset_add_file(FileSet *fs, const char *path, mode_t mode, const char *data, size_t size) {
        char *copy;

        if ((!data && size > 0) || size == SIZE_MAX)
                return -EINVAL;
        /* Kept NUL-terminated so text contents can be used as strings. */
        copy = malloc(size + 1);
        if (!copy)
                return -ENOMEM;
        if (size > 0)
                memcpy(copy, data, size);
        copy[size] = 0;
        return fileset_add_file_take(fs, path, mode, copy, size);
}

int fileset_add_symlink(FileSet *fs, const char *path, const char *target) {
        char *copy;
        int r;

        r = fileset_check_new(fs, path, FILESET_SYMLINK);
        if (r < 0)
                return r;
        if (!target || !*target || strlen(target) >= PATH_MAX)
                return -EINVAL;

        copy = strdup(target);
        if (!copy)
                return -ENOMEM;
        return fileset_append(fs, path, FILESET_SYMLINK, 0777, copy, strlen(copy));
}

int fileset_add_directory(FileSet *fs, const char *path, mode_t mode) {
        int r;

        r = fileset_check_new(fs, path, FILESET_DIRECTORY);
        if (r < 0)
                return r;
        if (mode & ~(mode_t) 07777)
                return -EINVAL;
        return fileset_append(fs, path, FILESET_DIRECTORY, mode, NULL, 0);
}

int fileset_add_unit(FileSet *fs, const char *dir, const Unit *u) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        _cleanup_free_ char *path = NULL;
        int r;

        if (!fs || !u || !u->name || !*u->name || strchr(u->name, '/'))
                return -EINVAL;
        r = unit_serialize(u, &b);
        if (r < 0)
                return r;
        if (dir && *dir)
                r = asprintf(&path, "%s/%s", dir, u->name);
        else
                r = asprintf(&path, "%s", u->name);
        if (r < 0) {
                path = NULL;
                return -ENOMEM;
        }
        {
                size_t len;
                char *data = strbuf_steal(&b, &len);

                if (!data)
                        return -ENOMEM;
                return fileset_add_file_take(fs, path, 0644, data, len);
        }
}

const FileSetEntry *fileset_find(const FileSet *fs, const char *path) {
        if (!fs || !path)
                return NULL;
        for (size_t i = 0; i < fs->n_entries; i++)
                if (strcmp(fs->entries[i].path, path) == 0)
                        return &fs->entries[i];
        return NULL;
}

static int entry_cmp(const void *a, const void *b) {
        const FileSetEntry *x = a, *y = b;

        return strcmp(x->path, y->path);
}

void fileset_sort(FileSet *fs) {
        if (fs && fs->n_entries > 1)
                qsort(fs->entries, fs->n_entries, sizeof(FileSetEntry), entry_cmp);
}

/* ---- writing ---- */

typedef struct DirSpec {
        char *path;
        mode_t mode;
        bool explicit;
} DirSpec;

typedef struct DirList {
        DirSpec *dirs;
        size_t n;
} DirList;

static void dir_list_done(DirList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->dirs[i].path);
        free(l->dirs);
        *l = (DirList){};
}

static int dir_list_add(DirList *l, const char *path, size_t len, mode_t mode, bool explicit) {
        DirSpec *n;
        char *p;

        p = strndup(path, len);
        if (!p)
                return -ENOMEM;
        n = reallocarray(l->dirs, l->n + 1, sizeof(*n));
        if (!n) {
                free(p);
                return -ENOMEM;
        }
        l->dirs = n;
        l->dirs[l->n++] = (DirSpec){ .path = p, .mode = mode, .explicit = explicit };
        return 0;
}

static int dir_spec_cmp(const void *a, const void *b) {
        const DirSpec *x = a, *y = b;
        int c = strcmp(x->path, y->path);

        /* Explicit entries first, so deduplication keeps their mode. */
        if (c != 0)
                return c;
        return (int) y->explicit - (int) x->explicit;
}

/* Every directory of the tree, explicit or implied by a deeper path, sorted
 * so that each one comes after its parent. */
static int collect_dirs(const FileSet *fs, DirList *ret) {
        DirList l = {};
        size_t k = 0;
        int r;

        for (size_t i = 0; i < fs->n_entries; i++) {
                const FileSetEntry *e = &fs->entries[i];

                for (const char *s = strchr(e->path, '/'); s; s = strchr(s + 1, '/')) {
                        r = dir_list_add(&l, e->path, (size_t) (s - e->path), IMPLIED_DIR_MODE, false);
                        if (r < 0)
                                goto fail;
                }
                if (e->kind == FILESET_DIRECTORY) {
                        r = dir_list_add(&l, e->path, strlen(e->path), e->mode, true);
                        if (r < 0)
                                goto fail;
                }
        }

        if (l.n > 1)
                qsort(l.dirs, l.n, sizeof(DirSpec), dir_spec_cmp);
        for (size_t i = 0; i < l.n; i++) {
                if (k > 0 && strcmp(l.dirs[k - 1].path, l.dirs[i].path) == 0) {
                        free(l.dirs[i].path);
                        continue;
                }
                l.dirs[k++] = l.dirs[i];
        }
        l.n = k;
        *ret = l;
        return 0;

fail:
        dir_list_done(&l);
        return r;
}

/* Opens the directory holding the last component of `path`, walking down from
 * `rootfd` one component at a time without following symlinks; returns the
 * new fd and points *ret_base at the last component inside `path`. */
static int open_parent(int rootfd, const char *path, const char **ret_base) {
        _cleanup_close_ int fd = -1;
        const char *p = path, *slash;

        fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return negative_errno();

        while ((slash = strchr(p, '/'))) {
                _cleanup_free_ char *comp = strndup(p, (size_t) (slash - p));
                int nfd;

                if (!comp)
                        return -ENOMEM;
                nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0)
                        return negative_errno();
                closep(&fd);
                fd = nfd;
                p = slash + 1;
        }
        *ret_base = p;
        return TAKE_FD(fd);
}

static int open_dir_at(int rootfd, const char *path) {
        _cleanup_close_ int parent = -1;
        const char *base;
        int fd;

        parent = open_parent(rootfd, path, &base);
        if (parent < 0)
                return parent;
        fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? negative_errno() : fd;
}

static int create_file(int rootfd, const FileSetEntry *e, bool durable) {
        _cleanup_close_ int parent = -1, fd = -1;
        const char *base;
        int r;

        parent = open_parent(rootfd, e->path, &base);
        if (parent < 0)
                return parent;
        fd = openat(parent, base, O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_WRONLY, 0600);
        if (fd < 0)
                return negative_errno();
        r = fd_write_all(fd, e->data, e->size);
        if (r < 0)
                return r;
        /* After writing: a write may clear set-id bits, and the umask must
         * not decide the final mode. */
        if (fchmod(fd, e->mode) < 0)
                return negative_errno();
        if (durable && fsync(fd) < 0)
                return negative_errno();
        /* Some filesystems report delayed write errors only here. */
        if (close(TAKE_FD(fd)) < 0)
                return negative_errno();
        return 0;
}

static int create_symlink(int rootfd, const FileSetEntry *e) {
        _cleanup_close_ int parent = -1;
        const char *base;

        parent = open_parent(rootfd, e->path, &base);
        if (parent < 0)
                return parent;
        if (symlinkat(e->data, parent, base) < 0)
                return negative_errno();
        return 0;
}

static int create_dir(int rootfd, const DirSpec *d) {
        _cleanup_close_ int parent = -1;
        const char *base;

        parent = open_parent(rootfd, d->path, &base);
        if (parent < 0)
                return parent;
        /* Owner-only while the tree is built; final modes are applied last so
         * a read-only directory does not stop us from filling it. */
        if (mkdirat(parent, base, 0700) < 0)
                return negative_errno();
        return 0;
}

static int finish_dir(int rootfd, const DirSpec *d, bool durable) {
        _cleanup_close_ int fd = -1;

        fd = open_dir_at(rootfd, d->path);
        if (fd < 0)
                return fd;
        if (fchmod(fd, d->mode) < 0)
                return negative_errno();
        if (durable && fsync(fd) < 0)
                return negative_errno();
        return 0;
}

static void random_suffix(char *buf, size_t n) {
        static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        static unsigned counter;
        unsigned char rnd[16];

        if (n > sizeof(rnd))
                n = sizeof(rnd);
        if (getrandom(rnd, n, GRND_NONBLOCK) != (ssize_t) n) {
                /* Uniqueness comes from mkdirat's EEXIST retry, not from
                 * this; the fallback only has to vary. */
                struct timespec ts = {};
                uint64_t x;

                (void) clock_gettime(CLOCK_MONOTONIC, &ts);
                x = (uint64_t) ts.tv_nsec ^ ((uint64_t) ts.tv_sec << 30) ^ ((uint64_t) getpid() << 40) ^
                    (uint64_t) ++counter * 0x9e3779b97f4a7c15ULL;
                for (size_t i = 0; i < n; i++) {
                        rnd[i] = (unsigned char) x;
                        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                        x ^= x >> 29;
                }
        }
        for (size_t i = 0; i < n; i++)
                buf[i] = chars[rnd[i] % (sizeof(chars) - 1)];
}

/* A fresh directory ".<name>.tmpXXXXXX" next to the destination. */
static int make_temp_dir(int dirfd, const char *name, char **ret_tmp) {
        /* Keep the temporary name within NAME_MAX however long `name` is. */
        size_t keep = strlen(name);
        _cleanup_free_ char *tmp = NULL;

        if (keep > NAME_MAX - 11)
                keep = NAME_MAX - 11;
        if (asprintf(&tmp, ".%.*s.tmpXXXXXX", (int) keep, name) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        for (unsigned attempt = 0; attempt < 100; attempt++) {
                random_suffix(tmp + strlen(tmp) - 6, 6);
                if (mkdirat(dirfd, tmp, 0700) >= 0) {
                        *ret_tmp = TAKE_PTR(tmp);
                        return 0;
                }
                if (errno != EEXIST)
                        return negative_errno();
        }
        return -EEXIST;
}

/* Refuses early (before building anything) when `name` is in the way; the
 * rename repeats the check atomically. */
static int check_destination(int dirfd, const char *name) {
        struct stat st;
        struct dirent *de;
        DIR *d;
        int fd;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISDIR(st.st_mode))
                return -EEXIST;

        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        d = fdopendir(fd);
        if (!d) {
                int r = negative_errno();

                (void) close(fd);
                return r;
        }
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        int r = errno > 0 ? -errno : 0;

                        (void) closedir(d);
                        return r;
                }
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        (void) closedir(d);
                        return -ENOTEMPTY;
                }
        }
}

static int build_tree(const FileSet *fs, int tmpfd, bool durable, mode_t top_mode) {
        _cleanup_(dir_list_done) DirList dirs = {};
        int r;

        r = collect_dirs(fs, &dirs);
        if (r < 0)
                return r;

        for (size_t i = 0; i < dirs.n; i++) {
                r = create_dir(tmpfd, &dirs.dirs[i]);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < fs->n_entries; i++) {
                const FileSetEntry *e = &fs->entries[i];

                switch (e->kind) {
                case FILESET_FILE:
                        r = create_file(tmpfd, e, durable);
                        break;
                case FILESET_SYMLINK:
                        r = create_symlink(tmpfd, e);
                        break;
                case FILESET_DIRECTORY:
                        r = 0; /* created above */
                        break;
                default:
                        r = -EINVAL;
                }
                if (r < 0)
                        return r;
        }

        /* Children before parents: a parent's final mode may forbid entering it. */
        for (size_t i = dirs.n; i > 0; i--) {
                r = finish_dir(tmpfd, &dirs.dirs[i - 1], durable);
                if (r < 0)
                        return r;
        }
        if (fchmod(tmpfd, top_mode) < 0)
                return negative_errno();
        if (durable && fsync(tmpfd) < 0)
                return negative_errno();
        return 0;
}

int fileset_write(const FileSet *fs, int dirfd, const char *name) {
        return fileset_write_flags(fs, dirfd, name, 0);
}

int fileset_write_flags(const FileSet *fs, int dirfd, const char *name, FileSetWriteFlags flags) {
        bool durable = !(flags & FILESET_WRITE_NO_SYNC);
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int tmpfd = -1, parentfd = -1;
        int r;

        if (!fs || !name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
            strcmp(name, "..") == 0 || strlen(name) > NAME_MAX)
                return -EINVAL;
        for (size_t i = 0; i < fs->n_entries; i++) {
                const FileSetEntry *e = &fs->entries[i];

                if (!path_ok(e->path))
                        return -EINVAL;
                if (e->kind == FILESET_FILE && !e->data && e->size > 0)
                        return -EINVAL;
                if (e->kind == FILESET_SYMLINK && (!e->data || !*e->data))
                        return -EINVAL;
        }

        r = check_destination(dirfd, name);
        if (r < 0)
                return r;

        r = make_temp_dir(dirfd, name, &tmp);
        if (r < 0)
                return r;

        tmpfd = openat(dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tmpfd < 0) {
                r = negative_errno();
                goto fail;
        }

        r = build_tree(fs, tmpfd, durable, flags & FILESET_WRITE_PRIVATE ? 0700 : TOP_DIR_MODE);
        if (r < 0)
                goto fail;

        /* Replaces `name` only if it is missing or an empty directory. */
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
                r = errno == ENOTDIR ? -EEXIST : negative_errno();
                goto fail;
        }

        /* The rename is the commit point: the set is complete and in place.
         * Syncing the parent only makes that durable sooner; a failure there
         * cannot be undone by removing the tree, so it is ignored. */
        if (durable) {
                parentfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (parentfd >= 0)
                        (void) fsync(parentfd);
        }
        return 0;

fail:
        closep(&tmpfd);
        tmpfd = -1;
        (void) rm_rf_at(dirfd, tmp);
        return r;
}
