/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "unit.h"

Unit *unit_new(const char *name) {
        Unit *u;

        u = calloc(1, sizeof(*u));
        if (!u)
                return NULL;
        u->name = strdup(name);
        if (!u->name)
                return unit_free(u);
        return u;
}

static void unit_entry_done(UnitEntry *e) {
        free(e->section); /* the block: key and value live in it */
}

Unit *unit_free(Unit *u) {
        if (!u)
                return NULL;
        for (size_t i = 0; i < u->n_entries; i++)
                unit_entry_done(&u->entries[i]);
        free(u->entries);
        free(u->name);
        free(u);
        return NULL;
}

static bool section_name_ok(const char *s) {
        if (!s || !*s)
                return false;
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f || *s == '[' || *s == ']')
                        return false;
        return true;
}

static bool key_ok(const char *s) {
        if (!s || !*s)
                return false;
        /* A key starting with '#' or ';' would turn the line into a comment. */
        if (*s == '#' || *s == ';')
                return false;
        for (; *s; s++)
                if ((unsigned char) *s <= 0x20 || *s == 0x7f || *s == '=')
                        return false;
        return true;
}

static bool value_ok(const char *v) {
        size_t len;

        if (!v)
                return false;
        if (strpbrk(v, "\r\n"))
                return false;
        /* A trailing backslash continues the line into the next entry. */
        len = strlen(v);
        return len == 0 || v[len - 1] != '\\';
}

int unit_add(Unit *u, const char *section, const char *key, const char *value) {
        size_t ls, lk, lv;
        UnitEntry e;
        char *block;

        if (!u || !section_name_ok(section) || !key_ok(key) || !value_ok(value))
                return -EINVAL;

        if (u->n_entries == u->n_allocated) {
                size_t want = u->n_allocated ? u->n_allocated * 2 : 32;
                UnitEntry *n = reallocarray(u->entries, want, sizeof(*n));

                if (!n)
                        return -ENOMEM;
                u->entries = n;
                u->n_allocated = want;
        }

        /* One allocation per entry: rendering a large pod adds tens of
         * thousands of them. */
        ls = strlen(section) + 1;
        lk = strlen(key) + 1;
        lv = strlen(value) + 1;
        block = malloc(ls + lk + lv);
        if (!block)
                return -ENOMEM;
        e.section = memcpy(block, section, ls);
        e.key = memcpy(block + ls, key, lk);
        e.value = memcpy(block + ls + lk, value, lv);
        u->entries[u->n_entries++] = e;
        return 0;
}

int unit_addf(Unit *u, const char *section, const char *key, const char *fmt, ...) {
        _cleanup_free_ char *v = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&v, fmt, ap);
        va_end(ap);
        if (r < 0) {
                v = NULL; /* its contents are undefined after a failure */
                return -ENOMEM;
        }
        return unit_add(u, section, key, v);
}

const char *unit_get(const Unit *u, const char *section, const char *key) {
        if (!u || !section || !key)
                return NULL;
        for (size_t i = u->n_entries; i > 0; i--) {
                const UnitEntry *e = &u->entries[i - 1];

                if (strcmp(e->section, section) == 0 && strcmp(e->key, key) == 0)
                        return e->value;
        }
        return NULL;
}

int unit_serialize(const Unit *u, StrBuf *out) {
        const char *few[8];
        _cleanup_free_ const char **more = NULL;
        const char **sections = few;
        size_t n_sections = 0, start = out->len, need = sizeof(UNIT_HEADER) + 1;

        if (!u)
                return -EINVAL;
        if (u->n_entries > ELEMENTSOF(few)) {
                sections = more = calloc(u->n_entries, sizeof(char *));
                if (!more)
                        return -ENOMEM;
        }

        /* Sections in order of first use; a unit has a handful, so the scan
         * over the known ones stays short. */
        for (size_t i = 0; i < u->n_entries; i++) {
                const UnitEntry *e = &u->entries[i];
                bool known = false;

                need += strlen(e->key) + strlen(e->value) + 2;
                for (size_t k = 0; k < n_sections && !known; k++)
                        known = strcmp(sections[k], e->section) == 0;
                if (known)
                        continue;
                sections[n_sections++] = e->section;
                need += strlen(e->section) + 4;
        }

        strbuf_reserve_total(out, need);
        strbuf_append(out, UNIT_HEADER "\n");
        for (size_t k = 0; k < n_sections; k++) {
                strbuf_append(out, "\n[");
                strbuf_append(out, sections[k]);
                strbuf_append(out, "]\n");
                for (size_t j = 0; j < u->n_entries; j++) {
                        const UnitEntry *e = &u->entries[j];

                        if (e->section != sections[k] && strcmp(e->section, sections[k]) != 0)
                                continue;
                        strbuf_append(out, e->key);
                        strbuf_putc(out, '=');
                        strbuf_append(out, e->value);
                        strbuf_putc(out, '\n');
                }
        }

        if (strbuf_error(out) < 0) {
                strbuf_truncate(out, start);
                return -ENOMEM;
        }
        return 0;
}
