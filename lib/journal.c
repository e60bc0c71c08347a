/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <acl/libacl.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/acl.h>
#include <systemd/sd-journal.h>

#include "fd-util.h"
#include "journal.h"
#include "names.h"
#include "quantity.h"
#include "strv.h"
#include "time-util.h"
#include "strbuf.h"

int journal_max_use_parse(const char *s, uint64_t *ret, NpError *err) {
        Quantity q = {};
        int64_t v;
        int r;

        r = quantity_parse(s, &q);
        v = q.ceil;
        quantity_done(&q);
        if (r < 0)
                return error_set(err, -EINVAL, NULL,
                                 "journal size \"%s\" is not a quantity (bytes, or with a suffix: 64Mi, 1Gi, 500M)", s);
        if (v < 0 || (uint64_t) v < JOURNAL_MAX_USE_MIN || (uint64_t) v > JOURNAL_MAX_USE_MAX)
                return error_set(err, -ERANGE, NULL, "journal size \"%s\" is out of range (4Mi to 1Ti)", s);
        *ret = (uint64_t) v;
        return 0;
}

int journal_max_use_of_pod(const Pod *pod, uint64_t *ret, NpError *err) {
        for (size_t i = 0; i < pod->n_annotations; i++)
                if (strcmp(pod->annotations[i].name, JOURNAL_MAX_USE_ANNOTATION) == 0) {
                        const char *v = pod->annotations[i].value;
                        int r = journal_max_use_parse(v, ret, NULL);

                        if (r < 0)
                                return error_set(err, r, "$.annotations",
                                                 "%s=\"%s\": not a size from 4Mi to 1Ti (64Mi, 1Gi, 500M, bytes)",
                                                 JOURNAL_MAX_USE_ANNOTATION, v);
                        return 0;
                }
        *ret = JOURNAL_MAX_USE_DEFAULT;
        return 0;
}

static int lookup_gid(const char *name, gid_t *ret) {
        _cleanup_free_ char *buf = NULL;
        struct group g, *res = NULL;
        size_t size = 4096;

        for (;;) {
                int r;

                free(buf);
                buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                r = getgrnam_r(name, &g, buf, size, &res);
                if (r == ERANGE && size < (1U << 20)) {
                        size *= 2;
                        continue;
                }
                if (r != 0)
                        return -r;
                if (!res)
                        return -ENOENT;
                *ret = res->gr_gid;
                return 0;
        }
}

int journal_reader_gids(gid_t ret[static JOURNAL_READER_GROUPS_MAX], size_t *ret_n) {
        static const char *const names[JOURNAL_READER_GROUPS_MAX] = { "systemd-journal", "adm", "wheel" };
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                gid_t gid = 0;
                bool dup = false;
                int r = lookup_gid(names[i], &gid);

                if (r == -ENOMEM)
                        return r;
                /* A group the host does not have is skipped; so is one that
                 * maps to gid 0, which would be root's group, not a reader's. */
                if (r < 0 || gid == 0)
                        continue;
                for (size_t j = 0; j < n; j++)
                        dup = dup || ret[j] == gid;
                if (!dup)
                        ret[n++] = gid;
        }
        *ret_n = n;
        return 0;
}

int journal_acl_set_dir(int fd, const gid_t *gids, size_t n) {
        _cleanup_strbuf_ StrBuf text = STRBUF_INIT;
        char proc[64];
        acl_t acl;
        int r = 0;

        strbuf_append(&text, "u::rwx,g::r-x,o::---");
        for (size_t i = 0; i < n; i++)
                strbuf_printf(&text, ",g:%lu:r-x", (unsigned long) gids[i]);
        strbuf_append(&text, ",m::r-x");
        if (strbuf_error(&text) < 0)
                return -ENOMEM;
        acl = acl_from_text(text.data);
        if (!acl)
                return negative_errno();
        /* A default ACL has no fd call: through the fd's magic link, which
         * names this very directory. */
        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (acl_set_fd(fd, acl) < 0 || acl_set_file(proc, ACL_TYPE_DEFAULT, acl) < 0)
                r = negative_errno();
        acl_free(acl);
        return r;
}

/* The ACL_GROUP entry of `gid` in `*acl`, created if missing. */
static int group_entry(acl_t *acl, gid_t gid, acl_entry_t *ret) {
        acl_entry_t e;

        for (int w = ACL_FIRST_ENTRY; acl_get_entry(*acl, w, &e) == 1; w = ACL_NEXT_ENTRY) {
                acl_tag_t tag;
                gid_t *q;
                bool match;

                if (acl_get_tag_type(e, &tag) < 0)
                        return negative_errno();
                if (tag != ACL_GROUP)
                        continue;
                q = acl_get_qualifier(e);
                if (!q)
                        return negative_errno();
                match = *q == gid;
                acl_free(q);
                if (match) {
                        *ret = e;
                        return 0;
                }
        }
        if (acl_create_entry(acl, &e) < 0 || acl_set_tag_type(e, ACL_GROUP) < 0 || acl_set_qualifier(e, &gid) < 0)
                return negative_errno();
        *ret = e;
        return 0;
}

int journal_acl_add_traverse(int fd, const gid_t *gids, size_t n) {
        acl_t acl;
        int r = 0;

        if (n == 0)
                return 0;
        acl = acl_get_fd(fd);
        if (!acl)
                return negative_errno();
        for (size_t i = 0; i < n && r >= 0; i++) {
                acl_entry_t e;
                acl_permset_t ps;

                r = group_entry(&acl, gids[i], &e);
                if (r >= 0 && (acl_get_permset(e, &ps) < 0 || acl_add_perm(ps, ACL_EXECUTE) < 0 ||
                               acl_set_permset(e, ps) < 0))
                        r = negative_errno();
        }
        if (r >= 0 && (acl_calc_mask(&acl) < 0 || acl_set_fd(fd, acl) < 0))
                r = negative_errno();
        acl_free(acl);
        return r;
}

JournalReader *journal_reader_free(JournalReader *r) {
        if (!r)
                return NULL;
        sd_journal_close(r->journal);
        /* sd-journal reads below the directory through this fd, and leaves
         * closing it to us. */
        safe_close(r->dir_fd);
        strv_free(r->units);
        free(r);
        return NULL;
}

int journal_reader_open(int pod_fd, char *const *units, bool unattributed, JournalReader **ret) {
        _cleanup_(journal_reader_freep) JournalReader *r = calloc(1, sizeof(*r));
        int k;

        if (!r)
                return -ENOMEM;
        r->dir_fd = -1;
        r->until = UINT64_MAX;
        r->dir_fd = fd_open_in_root(pod_fd, JOURNAL_POD_DIR, O_RDONLY | O_DIRECTORY, 0, true);
        if (r->dir_fd < 0)
                return r->dir_fd == -ELOOP || r->dir_fd == -ENOTDIR ? -ENOENT : r->dir_fd;
        k = sd_journal_open_directory_fd(&r->journal, r->dir_fd, 0);
        if (k < 0)
                return k;
        if (unattributed && units) {
                /* "No such field" cannot be matched: filtered when read. */
                r->unattributed = true;
                r->units = strv_copy(units);
                if (!r->units)
                        return -ENOMEM;
        } else
                STRV_FOREACH(u, units) {
                        _cleanup_free_ char *m = NULL;

                        if (asprintf(&m, "_SYSTEMD_UNIT=%s", *u) < 0)
                                return -ENOMEM;
                        /* Matches of one field are alternatives. */
                        k = sd_journal_add_match(r->journal, m, 0);
                        if (k < 0)
                                return k;
                }
        *ret = TAKE_PTR(r);
        return 0;
}

/* The current entry is one to return (the filter of `unattributed`). */
static bool reader_accepts(JournalReader *r) {
        const void *d;
        size_t l;

        if (!r->unattributed)
                return true;
        if (sd_journal_get_data(r->journal, "_SYSTEMD_UNIT", &d, &l) >= 0) {
                STRV_FOREACH(u, r->units)
                        if (l == strlen("_SYSTEMD_UNIT=") + strlen(*u) &&
                            memcmp((const char *) d + strlen("_SYSTEMD_UNIT="), *u, strlen(*u)) == 0)
                                return true;
                return false;
        }
        if (sd_journal_get_data(r->journal, "_TRANSPORT", &d, &l) < 0)
                return false;
        return (l == strlen("_TRANSPORT=stdout") && memcmp(d, "_TRANSPORT=stdout", l) == 0) ||
               (l == strlen("_TRANSPORT=syslog") && memcmp(d, "_TRANSPORT=syslog", l) == 0) ||
               (l == strlen("_TRANSPORT=journal") && memcmp(d, "_TRANSPORT=journal", l) == 0);
}

int journal_reader_seek(JournalReader *r, uint64_t since, uint64_t until, uint64_t lines) {
        uint64_t t, n = 0;
        int k;

        r->since = since;
        r->until = until;
        r->positioned = r->done = false;
        if (lines == UINT64_MAX)
                return since > 0 ? sd_journal_seek_realtime_usec(r->journal, since) : sd_journal_seek_head(r->journal);
        /* The last `lines` entries up to `until`: back from there (whatever
         * entry the seek lands next to) to the last one to return, then
         * back over `lines` - 1 more of them. */
        k = until != UINT64_MAX ? sd_journal_seek_realtime_usec(r->journal, until + 1) : sd_journal_seek_tail(r->journal);
        if (k < 0)
                return k;
        for (bool moved = false;; moved = true) {
                k = sd_journal_previous(r->journal);
                if (k < 0)
                        return k;
                if (k == 0) {
                        /* At the head: the entry we are on (if any) is the
                         * first to consider. */
                        r->positioned = moved && lines > 0;
                        return 0;
                }
                k = sd_journal_get_realtime_usec(r->journal, &t);
                if (k < 0)
                        return k;
                if (t < since)
                        return 0; /* the next one is the first of the range */
                if (t <= until && reader_accepts(r) && ++n >= lines)
                        break;
        }
        /* lines == 0: on the last one, only what comes after it. */
        r->positioned = lines > 0;
        return 0;
}

int journal_reader_next(JournalReader *r) {
        for (;;) {
                uint64_t t;
                int k;

                if (r->done)
                        return 0;
                /* Positioned: the current entry is considered first, with
                 * the same filters. */
                if (r->positioned) {
                        r->positioned = false;
                        k = 1;
                } else
                        k = sd_journal_next(r->journal);
                if (k <= 0)
                        return k;
                k = sd_journal_get_realtime_usec(r->journal, &t);
                if (k < 0)
                        return k;
                if (t < r->since)
                        continue;
                if (t > r->until) {
                        r->done = true;
                        return 0;
                }
                if (!reader_accepts(r))
                        continue;
                return 1;
        }
}

int journal_reader_wait(JournalReader *r, uint64_t timeout_usec) {
        int k = sd_journal_wait(r->journal, timeout_usec);

        return k == -EINTR ? 0 : k;
}

/* A field's value ("FIELD=value" → "value") of the current entry, or NULL. */
static const char *entry_field(sd_journal *j, const char *name, size_t *ret_len) {
        const void *d;
        size_t l, n = strlen(name);

        if (sd_journal_get_data(j, name, &d, &l) < 0 || l <= n)
                return NULL;
        *ret_len = l - n - 1;
        return (const char *) d + n + 1;
}

/* Text a terminal shows as it is: valid UTF-8 without C0 controls (but tab
 * and newline, when `lines`), DEL or C1 controls (U+0080…U+009F, which
 * terminals honouring 8-bit controls take as escapes). */
static bool printable(const char *s, size_t n, bool lines) {
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c < 0x20 && !(lines && (c == '\t' || c == '\n')))
                        return false;
                if (c == 0x7f || (c == 0xc2 && i + 1 < n && (unsigned char) s[i + 1] >= 0x80 &&
                                  (unsigned char) s[i + 1] <= 0x9f))
                        return false;
        }
        return utf8_is_valid(s, n);
}

static int format_short(sd_journal *j, StrBuf *out) {
        const char *msg, *ident = NULL, *unit, *pid;
        size_t msg_len = 0, ident_len = 0, unit_len = 0, pid_len = 0, start = out->len;
        struct timespec ts = {};
        uint64_t t;
        char when[64];

        if (sd_journal_get_realtime_usec(j, &t) >= 0) {
                ts.tv_sec = (time_t) (t / 1000000ULL);
                ts.tv_nsec = (long) (t % 1000000ULL) * 1000L;
        }
        /* An app's line is named by its unit, which journald sets from the
         * writer's cgroup: an app cannot write as another. */
        unit = entry_field(j, "_SYSTEMD_UNIT", &unit_len);
        if (unit && unit_len > strlen(".service") &&
            memcmp(unit + unit_len - strlen(".service"), ".service", strlen(".service")) == 0) {
                ident = unit;
                ident_len = unit_len - strlen(".service");
        }
        if (!ident || !printable(ident, ident_len, false))
                ident = entry_field(j, "SYSLOG_IDENTIFIER", &ident_len);
        if (!ident || !printable(ident, ident_len, false))
                ident = entry_field(j, "_COMM", &ident_len);
        if (ident && !printable(ident, ident_len, false))
                ident = NULL;
        pid = entry_field(j, "_PID", &pid_len);
        if (pid && !printable(pid, pid_len, false))
                pid = NULL;
        strbuf_printf(out, "%s ", time_format(&ts, when));
        strbuf_append_n(out, ident ? ident : "unknown", ident ? ident_len : strlen("unknown"));
        if (pid) {
                strbuf_putc(out, '[');
                strbuf_append_n(out, pid, pid_len);
                strbuf_putc(out, ']');
        }
        strbuf_append(out, ": ");
        msg = entry_field(j, "MESSAGE", &msg_len);
        if (msg && !printable(msg, msg_len, true))
                strbuf_printf(out, "[%zu bytes of unprintable data]", msg_len);
        else if (msg) {
                size_t indent = out->len - start;

                /* Continuation lines under the first one's text. */
                for (size_t i = 0; i < msg_len; i++) {
                        strbuf_putc(out, msg[i]);
                        if (msg[i] == '\n' && i + 1 < msg_len)
                                for (size_t k = 0; k < indent; k++)
                                        strbuf_putc(out, ' ');
                }
        }
        strbuf_putc(out, '\n');
        return strbuf_error(out);
}

/* A field value as journalctl -o json writes it: a string if it is text,
 * else an array of its bytes. */
static json_t *json_value(const char *v, size_t n) {
        json_t *a;

        if (!memchr(v, 0, n) && utf8_is_valid(v, n))
                return json_stringn(v, n);
        a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_integer((unsigned char) v[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* Adds `v` to the values of `name` in `o`, which maps each field to the
 * array of its values. */
static int json_add_value(json_t *o, const char *name, json_t *v) {
        json_t *a = json_object_get(o, name);

        if (!v)
                return -ENOMEM;
        if (!a) {
                a = json_array();
                if (!a || json_object_set_new(o, name, a) < 0) {
                        json_decref(v);
                        return -ENOMEM;
                }
        }
        return json_array_append_new(a, v) < 0 ? -ENOMEM : 0;
}

static int format_json(sd_journal *j, StrBuf *out) {
        _cleanup_free_ char *cursor = NULL, *s = NULL;
        json_t *o = json_object();
        const void *d;
        size_t l;
        uint64_t t;
        sd_id128_t boot;
        char num[32];
        int r = 0;

        if (!o)
                return -ENOMEM;
        if (sd_journal_get_cursor(j, &cursor) >= 0)
                r = json_add_value(o, "__CURSOR", json_string(cursor));
        if (r >= 0 && sd_journal_get_realtime_usec(j, &t) >= 0) {
                (void) snprintf(num, sizeof(num), "%" PRIu64, t);
                r = json_add_value(o, "__REALTIME_TIMESTAMP", json_string(num));
        }
        if (r >= 0 && sd_journal_get_monotonic_usec(j, &t, &boot) >= 0) {
                (void) snprintf(num, sizeof(num), "%" PRIu64, t);
                r = json_add_value(o, "__MONOTONIC_TIMESTAMP", json_string(num));
        }
        SD_JOURNAL_FOREACH_DATA(j, d, l) {
                const char *eq = memchr(d, '=', l);
                _cleanup_free_ char *name = NULL;

                if (r < 0)
                        break;
                if (!eq)
                        continue;
                name = strndup(d, (size_t) (eq - (const char *) d));
                if (!name) {
                        r = -ENOMEM;
                        break;
                }
                r = json_add_value(o, name, json_value(eq + 1, l - (size_t) (eq + 1 - (const char *) d)));
        }
        if (r >= 0) {
                const char *k;
                json_t *a;
                void *tmp;

                /* A field given once is its value, one given more than once
                 * the array of its values (as journalctl -o json). */
                json_object_foreach_safe(o, tmp, k, a)
                        if (json_array_size(a) == 1 && json_object_set(o, k, json_array_get(a, 0)) < 0)
                                r = -ENOMEM;
        }
        if (r >= 0 && !(s = json_dumps(o, JSON_COMPACT)))
                r = -ENOMEM;
        json_decref(o);
        if (r < 0)
                return r;
        strbuf_append(out, s);
        strbuf_putc(out, '\n');
        return strbuf_error(out);
}

int journal_format_entry(sd_journal *j, JournalFormat f, StrBuf *out) {
        size_t n = 0;
        const char *msg;

        switch (f) {
        case JOURNAL_FORMAT_SHORT:
                return format_short(j, out);
        case JOURNAL_FORMAT_CAT:
                msg = entry_field(j, "MESSAGE", &n);
                if (msg)
                        strbuf_append_n(out, msg, n);
                strbuf_putc(out, '\n');
                return strbuf_error(out);
        case JOURNAL_FORMAT_JSON:
                return format_json(j, out);
        default:
                return -EINVAL;
        }
}
