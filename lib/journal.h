/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A pod's journal (docs/logs.md). journald in the pod writes to the pod's
 * root from its first message on (POD/stage1/rootfs/var/log/journal/<machine
 * id>/, rkt's place), within a size bound, and the journal stays there until
 * the pod is removed. Who may read it besides root: the host's groups that
 * read the host's own journal, through POSIX ACLs.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "manifest.h"
#include "strbuf.h"

/* Below a pod directory. */
#define JOURNAL_POD_DIR "stage1/rootfs/var/log/journal"
/* Below the stage1 root. */
#define JOURNAL_STAGE1_DIR "var/log/journal"

/* The pod annotation that bounds the journal's size on disk (docs/logs.md);
 * `nspawn-pod run --journal-max-use=` writes it. */
#define JOURNAL_MAX_USE_ANNOTATION "nspawn-pod/journal-max-use"
#define JOURNAL_MAX_USE_DEFAULT (128ULL << 20)
/* journald's smallest file is 512 KiB and it keeps the active one besides
 * the archived ones: below this the bound cannot hold. */
#define JOURNAL_MAX_USE_MIN (4ULL << 20)
#define JOURNAL_MAX_USE_MAX (1ULL << 40)

/* A size: a quantity as the isolators write them ("64Mi", "1G", "500M",
 * plain bytes), within [JOURNAL_MAX_USE_MIN, JOURNAL_MAX_USE_MAX]. */
int journal_max_use_parse(const char *s, uint64_t *ret, NpError *err);

/* The pod's bound: its annotation, else the default. */
int journal_max_use_of_pod(const Pod *pod, uint64_t *ret, NpError *err);

/* The host groups that may read journals, as systemd's own policy for
 * /var/log/journal has it: "systemd-journal", "adm", "wheel", those that
 * exist (looked up on the host). */
#define JOURNAL_READER_GROUPS_MAX 3
int journal_reader_gids(gid_t ret[static JOURNAL_READER_GROUPS_MAX], size_t *ret_n);

/* The journal directory `fd` (O_RDONLY): readable by the owner and `gids`
 * only (u::rwx g::r-x o::--- plus g:<gid>:r-x), and the same as default ACL
 * for what journald creates in it. */
int journal_acl_set_dir(int fd, const gid_t *gids, size_t n);

/* Adds traversal (--x) for `gids` to the access ACL of the directory `fd`
 * (O_RDONLY), keeping every other entry: the way down to a journal. */
int journal_acl_add_traverse(int fd, const gid_t *gids, size_t n);

/* Reading a pod's journal (nspawn-pod logs). */
typedef struct sd_journal sd_journal;

typedef struct JournalReader {
        sd_journal *journal;
        int dir_fd;       /* the pod's journal directory: sd-journal reads below it */
        uint64_t since;   /* realtime, µs: entries before it are skipped (0: none) */
        uint64_t until;   /* entries after it end the reading (UINT64_MAX: none) */
        bool positioned;  /* the current entry is the next one to return */
        bool done;        /* past `until` */
        char **units;     /* with `unattributed`: the units whose entries are returned */
        bool unattributed;
} JournalReader;

/* Opens the journal of the pod directory `pod_fd` (JOURNAL_POD_DIR, opened
 * without following symlinks), for the entries of the systemd units `units`
 * (by _SYSTEMD_UNIT=, which journald sets from the writer's cgroup: an app
 * cannot write as another), or every entry when `units` is NULL. With
 * `unattributed`, also the entries journald could not attribute to a unit
 * (a process that had exited when journald read its message: it then has
 * no cgroup to look at) that came from a process' stdout, syslog or
 * journal calls. -ENOENT: the pod has no journal. */
int journal_reader_open(int pod_fd, char *const *units, bool unattributed, JournalReader **ret);
JournalReader *journal_reader_free(JournalReader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(JournalReader *, journal_reader_free);

/* Positions the reader: the last `lines` entries (UINT64_MAX: all) not
 * after `until`, none before `since`. */
int journal_reader_seek(JournalReader *r, uint64_t since, uint64_t until, uint64_t lines);

/* Moves to the next entry: 1 and the entry is current (read it through
 * r->journal), 0 at the end (for now: more may come, journal_reader_wait();
 * for good once past `until`), -errno. */
int journal_reader_next(JournalReader *r);

/* Waits up to `timeout_usec` for the journal to change (sd_journal_wait();
 * also returns on a signal). */
int journal_reader_wait(JournalReader *r, uint64_t timeout_usec);

typedef enum JournalFormat {
        JOURNAL_FORMAT_SHORT, /* TIME APP[PID]: LINE */
        JOURNAL_FORMAT_CAT,   /* LINE */
        JOURNAL_FORMAT_JSON,  /* one object, every field */
} JournalFormat;

/* Appends the current entry of `j` to `out` as one line (docs/logs.md,
 * `logs -o`). SHORT names the writer by its unit when it is an app's
 * (_SYSTEMD_UNIT=<app>.service: journald's, from the writer's cgroup),
 * else by SYSLOG_IDENTIFIER or _COMM, and shows a message that is not
 * printable text (control characters but tab and newline, C1 controls,
 * invalid UTF-8) as "[N bytes of unprintable data]". JSON needs the data
 * threshold off (sd_journal_set_data_threshold(j, 0)) to hold whole values. */
int journal_format_entry(sd_journal *j, JournalFormat f, StrBuf *out);
