/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "rm-rf.h"
#include "fd-util.h"
#include "image-id.h"
#include "image-store.h"
#include "image.h"
#include "names.h"

/* Opens (creating) the store directory `store`, one or more components
 * below the data directory. */
static int open_store_dir(int data_fd, const char *store) {
        _cleanup_free_ char *copy = strdup(store);
        _cleanup_close_ int cur = -1;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                /* Images may hold anything, including set-uid binaries: root only. */
                int next = fd_mkdir_open(cur >= 0 ? cur : data_fd, c, 0700, O_PATH);

                if (next < 0)
                        return next;
                closep(&cur);
                cur = next;
        }
        return cur >= 0 ? TAKE_FD(cur) : -EINVAL;
}

int image_store_open_in(int data_fd, const char *store, const char *id, int *ret_dir_fd) {
        _cleanup_close_ int images = -1, dir = -1;
        struct stat st;

        if (!image_id_is_valid(id))
                return -EINVAL;
        images = open_store_dir(data_fd, store);
        if (images < 0)
                return images;
        dir = fd_open_dir_nofollow(images, id, O_PATH);
        if (dir < 0)
                return dir;
        /* The importer writes the manifest last: its presence means complete. */
        if (fstatat(dir, "manifest", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                return -ENOENT;
        *ret_dir_fd = TAKE_FD(dir);
        return 0;
}

static int load_manifest(int dir, Image **ret, NpError *err) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = fd_read_file_in_root(dir, "manifest", MANIFEST_SIZE_MAX, &data, &size);
        if (r < 0)
                return error_set(err, r, "manifest", "cannot read the stored image manifest: %s", strerror(-r));
        return manifest_parse_image(data, size, ret, err);
}

/*
 * Hashing an image costs milliseconds per megabyte, at every prepare. Which
 * ID a file has is therefore remembered, keyed by the file's identity:
 * device, inode, size, mtime and ctime, to the nanosecond. Any change of the
 * file changes its ctime, which nobody but the kernel sets, so a key found
 * names the same content, provided the file had not changed for a while
 * when it was remembered. Symlinks in <data dir>/images/.by-file/, written
 * under a temporary name and renamed; best effort both ways.
 */
#define ID_CACHE_DIR ".by-file"
#define ID_CACHE_SETTLED_SEC 2

static int id_cache_key(const struct stat *st, char buf[static 160]) {
        int n = snprintf(buf, 160, "%llx-%llx-%llx-%lld.%09ld-%lld.%09ld", (unsigned long long) st->st_dev,
                         (unsigned long long) st->st_ino, (unsigned long long) st->st_size,
                         (long long) st->st_mtim.tv_sec, st->st_mtim.tv_nsec, (long long) st->st_ctim.tv_sec,
                         st->st_ctim.tv_nsec);

        return n > 0 && n < 160 ? 0 : -EINVAL;
}

static int id_cache_get(int data_fd, const struct stat *st, char **ret) {
        _cleanup_close_ int images = -1, cache = -1;
        char key[160], id[256];
        ssize_t n;

        if (id_cache_key(st, key) < 0)
                return -EINVAL;
        images = fd_open_dir_nofollow(data_fd, IMAGE_STORE_IMAGES, O_PATH);
        cache = images < 0 ? images : fd_open_dir_nofollow(images, ID_CACHE_DIR, O_PATH);
        if (cache < 0)
                return cache;
        n = readlinkat(cache, key, id, sizeof(id) - 1);
        if (n < 0)
                return negative_errno();
        id[n] = 0;
        if (!image_id_is_valid(id))
                return -EINVAL;
        *ret = strdup(id);
        return *ret ? 0 : -ENOMEM;
}

static void id_cache_put(int data_fd, const struct stat *st, const char *id) {
        _cleanup_close_ int images = -1, cache = -1;
        char key[160], tmp[200];
        struct timespec now;
        uint64_t rnd;

        /* Timestamps are as coarse as the kernel's clock tick: a file
         * changed again within the tick keeps its key. Only a file that has
         * not changed for a while is remembered (git's "racily clean" rule). */
        if (clock_gettime(CLOCK_REALTIME, &now) < 0 || now.tv_sec < st->st_ctim.tv_sec + ID_CACHE_SETTLED_SEC ||
            now.tv_sec < st->st_mtim.tv_sec + ID_CACHE_SETTLED_SEC)
                return;
        if (id_cache_key(st, key) < 0)
                return;
        images = open_store_dir(data_fd, IMAGE_STORE_IMAGES);
        cache = images < 0 ? images : fd_mkdir_open(images, ID_CACHE_DIR, 0700, O_PATH);
        if (cache < 0)
                return;
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                rnd = (uint64_t) getpid();
        (void) snprintf(tmp, sizeof(tmp), ".tmp-%016llx", (unsigned long long) rnd);
        if (symlinkat(id, cache, tmp) < 0)
                return;
        if (renameat(cache, tmp, cache, key) < 0)
                (void) unlinkat(cache, tmp, 0);
}

int image_store_open(int data_fd, const char *id, int *ret_dir_fd) {
        return image_store_open_in(data_fd, IMAGE_STORE_IMAGES, id, ret_dir_fd);
}

int image_store_get(int data_fd, const char *path, char **ret_id, int *ret_dir_fd, Image **ret_manifest,
                    NpError *err) {
        return image_store_get_in(data_fd, IMAGE_STORE_IMAGES, path, ret_id, ret_dir_fd, ret_manifest, err);
}

int image_store_get_in(int data_fd, const char *store, const char *path, char **ret_id, int *ret_dir_fd,
                       Image **ret_manifest, NpError *err) {
        _cleanup_free_ char *id = NULL;
        _cleanup_close_ int images = -1, dir = -1, tmpfd = -1, src = -1;
        _cleanup_(image_freep) Image *img = NULL;
        struct stat st;
        char tmp[40];
        uint64_t rnd;
        int r;

        src = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (src < 0 || fstat(src, &st) < 0)
                return error_set(err, negative_errno(), path, "cannot access the image: %m");
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        /* A remembered ID is taken only when the store has that image: what
         * is imported is always hashed first. */
        if (id_cache_get(data_fd, &st, &id) >= 0 && image_store_open_in(data_fd, store, id, &dir) >= 0)
                r = 0;
        else {
                id = mfree(id);
                r = image_compute_id_fd(src, &id);
                if (r < 0)
                        return error_set(err, r, path, "cannot compute the image ID: %s", strerror(-r));
                id_cache_put(data_fd, &st, id);
                r = image_store_open_in(data_fd, store, id, &dir);
        }
        if (r >= 0) {
                r = load_manifest(dir, &img, err);
                if (r < 0)
                        return r;
                goto done;
        }
        if (r != -ENOENT)
                return error_set(err, r, id, "cannot open the image store: %s", strerror(-r));

        images = open_store_dir(data_fd, store);
        if (images < 0)
                return error_set(err, images, "images", "cannot open the image store: %s", strerror(-images));
        /* A store entry left incomplete by a crash is replaced. */
        (void) rm_rf_at(images, id);
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                rnd = (uint64_t) getpid();
        (void) snprintf(tmp, sizeof(tmp), ".import-%016llx", (unsigned long long) rnd);
        if (mkdirat(images, tmp, 0755) < 0)
                return error_set(err, negative_errno(), tmp, "cannot create in the image store: %m");
        tmpfd = fd_open_dir_nofollow(images, tmp, O_RDONLY);
        if (tmpfd < 0) {
                (void) rm_rf_at(images, tmp);
                return error_set(err, tmpfd, tmp, "cannot open in the image store");
        }
        r = image_import(path, tmpfd, &img, err);
        if (r >= 0 && renameat2(images, tmp, images, id, RENAME_NOREPLACE) < 0) {
                r = -errno;
                if (r == -EEXIST || r == -ENOTEMPTY)
                        r = 0; /* a concurrent import of the same image won */
                else
                        (void) error_set(err, r, id, "cannot store the image: %m");
        }
        (void) rm_rf_at(images, tmp);
        if (r < 0)
                return r;
        r = image_store_open_in(data_fd, store, id, &dir);
        if (r < 0)
                return error_set(err, r, id, "the stored image vanished: %s", strerror(-r));
done:
        *ret_id = TAKE_PTR(id);
        *ret_dir_fd = TAKE_FD(dir);
        if (ret_manifest)
                *ret_manifest = TAKE_PTR(img);
        return 0;
}

int image_store_find(int data_fd, const char *ref, char **ret_id, int *ret_dir_fd, Image **ret_manifest,
                     NpError *err) {
        _cleanup_free_ char *name = strndup(ref, strcspn(ref, ":")), *best_id = NULL;
        const char *version = strchr(ref, ':') ? strchr(ref, ':') + 1 : NULL;
        _cleanup_close_ int images = -1, best_dir = -1;
        _cleanup_(image_freep) Image *best = NULL;
        struct timespec best_time = {};
        DIR *d;

        if (!name)
                return -ENOMEM;
        images = open_store_dir(data_fd, IMAGE_STORE_IMAGES);
        if (images < 0)
                return error_set(err, images, NULL, "cannot open the image store: %s", strerror(-images));
        d = fdopendir(openat(images, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!d)
                return error_set(err, negative_errno(), NULL, "cannot read the image store: %m");
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_(image_freep) Image *img = NULL;
                _cleanup_error_ NpError ignored = NP_ERROR_INIT;
                _cleanup_close_ int dir = -1;
                const NameValue *v;
                struct stat st;

                if (!image_id_is_valid(de->d_name) || image_store_open(data_fd, de->d_name, &dir) < 0 ||
                    load_manifest(dir, &img, &ignored) < 0 || strcmp(img->name, name) != 0)
                        continue;
                v = name_value_find(img->labels, img->n_labels, "version");
                if (version && (!v || strcmp(v->value, version) != 0))
                        continue;
                /* The newest import of that name, as rkt picks the latest. */
                if (fstatat(dir, "manifest", &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (best && (st.st_mtim.tv_sec < best_time.tv_sec ||
                             (st.st_mtim.tv_sec == best_time.tv_sec && st.st_mtim.tv_nsec <= best_time.tv_nsec)))
                        continue;
                free(best_id);
                best_id = strdup(de->d_name);
                if (!best_id) {
                        closedir(d);
                        return -ENOMEM;
                }
                image_free(best);
                best = TAKE_PTR(img);
                safe_close(best_dir);
                best_dir = TAKE_FD(dir);
                best_time = st.st_mtim;
        }
        closedir(d);
        if (!best)
                return error_set(err, -ENOENT, NULL,
                                 "\"%s\" is neither a file nor an image in the store (give the ACI once to "
                                 "store it; a name may end in :VERSION)",
                                 ref);
        *ret_id = TAKE_PTR(best_id);
        *ret_dir_fd = TAKE_FD(best_dir);
        *ret_manifest = TAKE_PTR(best);
        return 0;
}
