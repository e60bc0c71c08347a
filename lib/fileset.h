/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A set of files, symlinks and directories with relative paths, built in
 * memory and written to disk all at once: the tree is assembled in a fresh
 * temporary directory next to the destination (O_EXCL, O_NOFOLLOW, full
 * write loops, fsync of every file and directory) and renamed into place, so
 * a reader sees the whole set or nothing, never half of it.
 */

#include <stddef.h>
#include <sys/types.h>

#include "macro.h"
#include "unit.h"

typedef enum FileSetKind {
        FILESET_FILE,
        FILESET_SYMLINK,
        FILESET_DIRECTORY,
} FileSetKind;

typedef struct FileSetEntry {
        char *path; /* relative, no "..", no "//", no leading or trailing '/' */
        FileSetKind kind;
        mode_t mode;    /* file and directory permission bits */
        char *data;     /* file contents, or symlink target */
        size_t size;
} FileSetEntry;

typedef struct FileSetIndex FileSetIndex;

typedef struct FileSet {
        FileSetEntry *entries;
        size_t n_entries;
        size_t n_allocated;
        FileSetIndex *index; /* paths and their ancestors, for O(depth) conflict checks */
} FileSet;

FileSet *fileset_new(void);
FileSet *fileset_free(FileSet *fs);
DEFINE_TRIVIAL_CLEANUP_FUNC(FileSet *, fileset_free);

/* Each copies its arguments; -EINVAL for a bad or duplicate path. Parent
 * directories are implied (created 0755) unless added explicitly. */
int fileset_add_file(FileSet *fs, const char *path, mode_t mode, const char *data, size_t size);
int fileset_add_symlink(FileSet *fs, const char *path, const char *target);
int fileset_add_directory(FileSet *fs, const char *path, mode_t mode);
/* Serializes `u` into "<dir>/<u->name>", mode 0644. */
int fileset_add_unit(FileSet *fs, const char *dir, const Unit *u);

const FileSetEntry *fileset_find(const FileSet *fs, const char *path);
/* Sorts entries by path (byte order), for deterministic listing. */
void fileset_sort(FileSet *fs);

/* Writes the set as directory `name` under `dirfd`: built in a temporary
 * sibling, then renamed over `name`, which must not exist or be an empty
 * directory (-EEXIST / -ENOTEMPTY otherwise, nothing written). On any error
 * the temporary tree is removed and nothing is left behind. */
int fileset_write(const FileSet *fs, int dirfd, const char *name);

typedef enum FileSetWriteFlags {
        /* Skip every fsync: still all-or-nothing for readers and for a crash
         * of this process, but not durable across a power loss. For sets that
         * are regenerated anyway when lost, on a start path where each fsync
         * costs milliseconds (the units of a pod being started). */
        FILESET_WRITE_NO_SYNC = 1 << 0,
        /* The top directory is 0700 instead of 0755: what is below is
         * nobody's business but root's (the rendered units and environment
         * files of a pod, in a directory others may pass through). */
        FILESET_WRITE_PRIVATE = 1 << 1,
} FileSetWriteFlags;
int fileset_write_flags(const FileSet *fs, int dirfd, const char *name, FileSetWriteFlags flags);
