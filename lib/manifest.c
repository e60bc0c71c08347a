/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "manifest-internal.h"
#include "names.h"
#include "strv.h"

/*
 * PodManifest and ImageManifest, appc 0.8.11, checked against the rules of
 * appc's Go schema (what `actool validate` enforces) plus our own stricter
 * ones: the whole input must be strict UTF-8 without NUL, JSON keys must be
 * unique and known, nesting and sizes are capped, names that become file
 * and unit names are required, exec[0] is absolute. Every value is copied
 * into the model; the JSON tree is freed before returning.
 *
 * Where appc's decoder is lenient only because of Go's encoding/json (keys
 * matched case-insensitively, duplicate keys last-wins, invalid UTF-8
 * replaced, unknown keys ignored, missing fields read as zero values), we
 * refuse; tests/corpus/stricter.txt lists each such case.
 */


#define ACNAME_RULE "lower-case letters, digits and '-', not starting or ending with '-'"
#define ACIDENTIFIER_RULE                                                                            \
        "lower-case letters, digits and \"-._~/\", not starting or ending with one of \"-._~/\""

/* ---- paths and messages ----------------------------------------------------------------- */

static bool is_plain_key(const char *k) {
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || *k == '_'))
                return false;
        for (k++; *k; k++)
                if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
                      *k == '_'))
                        return false;
        return true;
}

size_t manifest_path_push_key(ManifestContext *c, const char *key) {
        size_t len = c->path.len;

        /* Runs for every field of every manifest: plain appends, no printf. */
        if (is_plain_key(key)) {
                strbuf_putc(&c->path, '.');
                strbuf_append(&c->path, key);
        } else {
                _cleanup_free_ char *q = manifest_quote(key);

                if (q)
                        strbuf_printf(&c->path, "[%s]", q);
                else
                        c->path.oom = true;
        }
        return len;
}

size_t manifest_path_push_index(ManifestContext *c, size_t i) {
        size_t len = c->path.len;
        char buf[24], *p = buf + sizeof(buf);

        *--p = ']';
        do
                *--p = (char) ('0' + i % 10);
        while ((i /= 10) > 0);
        *--p = '[';
        strbuf_append_n(&c->path, p, (size_t) (buf + sizeof(buf) - p));
        return len;
}

void manifest_path_pop(ManifestContext *c, size_t len) {
        strbuf_truncate(&c->path, len);
}

int manifest_error(ManifestContext *c, int code, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0 || strbuf_error(&c->path) < 0)
                return -ENOMEM;
        return error_set(c->err, code, c->path.data ? c->path.data : "$", "%s", m);
}

#define QUOTE_MAX 64U /* bytes of a value shown in a message */

char *manifest_quote(const char *s) {
        StrBuf b = STRBUF_INIT;
        size_t i;

        strbuf_putc(&b, '"');
        for (i = 0; s[i]; i++) {
                unsigned char ch = (unsigned char) s[i];

                /* Cut only at a character boundary (the input is valid UTF-8). */
                if (i >= QUOTE_MAX && (ch & 0xc0) != 0x80)
                        break;
                if (ch == '"' || ch == '\\')
                        strbuf_printf(&b, "\\%c", ch);
                else if (ch == '\n')
                        strbuf_append(&b, "\\n");
                else if (ch == '\t')
                        strbuf_append(&b, "\\t");
                else if (ch < 0x20 || ch == 0x7f)
                        strbuf_printf(&b, "\\u%04x", ch);
                else
                        strbuf_putc(&b, (char) ch);
        }
        strbuf_append(&b, s[i] ? "\"…" : "\"");
        return strbuf_steal(&b, NULL);
}

static const char *json_type_text(const json_t *v) {
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return "an integer";
        case JSON_REAL:
                return "a number with a fraction or exponent";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        case JSON_NULL:
                return "null";
        default:
                return "something else";
        }
}

int manifest_type_error(ManifestContext *c, const json_t *v, const char *what) {
        return manifest_error(c, -EINVAL, "expected %s, got %s", what, json_type_text(v));
}

/* "<value> is not <what>" for a string that failed a format check. */
static int value_error(ManifestContext *c, const char *value, const char *what) {
        _cleanup_free_ char *q = manifest_quote(value);

        if (!q)
                return -ENOMEM;
        return manifest_error(c, -EINVAL, "%s is not %s", q, what);
}

/* ---- generic accessors ------------------------------------------------------------------ */

int manifest_check_object(ManifestContext *c, const json_t *v, const char *const *known) {
        const char *key;
        json_t *value;

        if (!json_is_object(v))
                return manifest_type_error(c, v, "an object");
        json_object_foreach ((json_t *) v, key, value) {
                bool found = false;

                for (const char *const *k = known; *k; k++)
                        if (strcmp(*k, key) == 0) {
                                found = true;
                                break;
                        }
                if (!found) {
                        /* appc would ignore it; Go even matches keys case-insensitively,
                         * so "ACKind" would count as "acKind". A typo must not silently
                         * drop a setting, so we refuse. */
                        _cleanup_free_ char *q = manifest_quote(key);

                        if (!q)
                                return -ENOMEM;
                        (void) manifest_path_push_key(c, key);
                        return manifest_error(c, -EINVAL, "unknown field %s", q);
                }
        }
        return 0;
}

int manifest_field(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags, json_t **ret) {
        json_t *v = json_object_get(o, key);

        /* null means absent, for optional and required fields alike. */
        if (!v || json_is_null(v)) {
                if (flags & MANIFEST_REQUIRED) {
                        size_t saved = manifest_path_push_key(c, key);
                        int r = manifest_error(c, -EINVAL, v ? "must not be null" : "required field is missing");

                        manifest_path_pop(c, saved);
                        return r;
                }
                return 0;
        }
        *ret = v;
        return 1;
}

int manifest_string(ManifestContext *c, const json_t *v, ManifestFlags flags, char **ret) {
        char *s;

        if (!json_is_string(v))
                return manifest_type_error(c, v, "a string");
        if ((flags & MANIFEST_NONEMPTY) && json_string_length(v) == 0)
                return manifest_error(c, -EINVAL, "must not be empty");
        s = strdup(json_string_value(v));
        if (!s)
                return -ENOMEM;
        free(*ret);
        *ret = s;
        return 0;
}

int manifest_bool(ManifestContext *c, const json_t *v, bool *ret) {
        if (!json_is_boolean(v))
                return manifest_type_error(c, v, "a boolean (true or false)");
        *ret = json_is_true(v);
        return 0;
}

int manifest_int(ManifestContext *c, const json_t *v, int64_t min, int64_t max, int64_t *ret) {
        int64_t n;

        if (!json_is_integer(v))
                return manifest_type_error(c, v, "an integer");
        n = (int64_t) json_integer_value(v);
        if (n < min || n > max)
                return manifest_error(c, -EINVAL, "%" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")", n,
                                      min, max);
        *ret = n;
        return 0;
}

int manifest_get_string(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags, char **ret) {
        json_t *v;
        size_t saved;
        int r;

        r = manifest_field(c, o, key, flags, &v);
        if (r <= 0)
                return r;
        saved = manifest_path_push_key(c, key);
        r = manifest_string(c, v, flags, ret);
        manifest_path_pop(c, saved);
        return r < 0 ? r : 1;
}

int manifest_get_bool(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags, bool *ret) {
        json_t *v;
        size_t saved;
        int r;

        r = manifest_field(c, o, key, flags, &v);
        if (r <= 0)
                return r;
        saved = manifest_path_push_key(c, key);
        r = manifest_bool(c, v, ret);
        manifest_path_pop(c, saved);
        return r < 0 ? r : 1;
}

int manifest_get_int(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags, int64_t min,
                     int64_t max, int64_t *ret) {
        json_t *v;
        size_t saved;
        int r;

        r = manifest_field(c, o, key, flags, &v);
        if (r <= 0)
                return r;
        saved = manifest_path_push_key(c, key);
        r = manifest_int(c, v, min, max, ret);
        manifest_path_pop(c, saved);
        return r < 0 ? r : 1;
}

static int strv_value(ManifestContext *c, const json_t *v, ManifestFlags flags, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n;

        if (!json_is_array(v))
                return manifest_type_error(c, v, "an array of strings");
        n = json_array_size(v);
        if ((flags & MANIFEST_NONEMPTY) && n == 0)
                return manifest_error(c, -EINVAL, "must not be empty");
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                size_t saved = manifest_path_push_index(c, i);
                int r = manifest_string(c, json_array_get(v, i), 0, &l[i]);

                if (r < 0)
                        return r;
                manifest_path_pop(c, saved);
        }
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

int manifest_get_strv(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags, char ***ret) {
        json_t *v;
        size_t saved;
        int r;

        r = manifest_field(c, o, key, flags, &v);
        if (r <= 0)
                return r;
        saved = manifest_path_push_key(c, key);
        r = strv_value(c, v, flags, ret);
        manifest_path_pop(c, saved);
        return r < 0 ? r : 1;
}

/* A string that must pass `valid`; "<value> is not <what>" otherwise. */
static int get_checked_string(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags,
                              bool (*valid)(const char *s), const char *what, char **ret) {
        _cleanup_free_ char *s = NULL;
        size_t saved;
        int r;

        r = manifest_get_string(c, o, key, flags, &s);
        if (r <= 0)
                return r;
        if (!valid(s)) {
                saved = manifest_path_push_key(c, key);
                r = value_error(c, s, what);
                manifest_path_pop(c, saved);
                return r;
        }
        free(*ret);
        *ret = TAKE_PTR(s);
        return 1;
}

static int get_acname(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags, char **ret) {
        return get_checked_string(c, o, key, flags, acname_is_valid, "a valid ACName (" ACNAME_RULE ")", ret);
}

static int get_acidentifier(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags,
                            char **ret) {
        return get_checked_string(c, o, key, flags, acidentifier_is_valid,
                                  "a valid ACIdentifier (" ACIDENTIFIER_RULE ")", ret);
}

static int get_image_id(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags, char **ret) {
        return get_checked_string(c, o, key, flags, image_id_is_valid,
                                  "a valid image ID (\"sha512-\" followed by lower-case hex digits)", ret);
}

/* Looks the array up and hands it out; 0 when absent. */
static int get_array(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags, const char *what,
                     json_t **ret) {
        json_t *v;
        size_t saved;
        int r;

        r = manifest_field(c, o, key, flags, &v);
        if (r <= 0)
                return r;
        if (!json_is_array(v)) {
                saved = manifest_path_push_key(c, key);
                r = manifest_type_error(c, v, what);
                manifest_path_pop(c, saved);
                return r;
        }
        *ret = v;
        return 1;
}

/* Allocates `n` zeroed elements for an array about to be parsed in place
 * (the owner frees partially parsed arrays). */
static int alloc_items(void **items, size_t n, size_t size) {
        if (n == 0)
                return 0;
        *items = calloc(n, size);
        return *items ? 0 : -ENOMEM;
}

typedef struct NameIndex {
        const char *name;
        size_t index;
} NameIndex;

static int name_index_cmp(const void *a, const void *b) {
        const NameIndex *x = a, *y = b;
        int r = strcmp(x->name, y->name);

        return r != 0 ? r : (x->index > y->index) - (x->index < y->index);
}

/* Finds a repeated name among `n` items (the char * at `offset` in each
 * `stride`-sized item): the repetition that comes first in the document, and
 * the earlier item it repeats. Sorting keeps this O(n log n); a 16 MiB
 * manifest can hold hundreds of thousands of entries. Returns 1 if found. */
static int find_duplicate(const void *items, size_t n, size_t stride, size_t offset, size_t *ret_first,
                          size_t *ret_second) {
        _cleanup_free_ NameIndex *v = NULL;
        size_t best = SIZE_MAX, first = 0, g = 0;

        if (n < 2)
                return 0;
        v = calloc(n, sizeof(NameIndex));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                v[i].name = *(char *const *) ((const char *) items + i * stride + offset);
                v[i].index = i;
        }
        qsort(v, n, sizeof(NameIndex), name_index_cmp);
        for (size_t i = 1; i < n; i++) {
                if (strcmp(v[i].name, v[g].name) != 0)
                        g = i;
                else if (i == g + 1 && v[i].index < best) {
                        best = v[i].index;
                        first = v[g].index;
                }
        }
        if (best == SIZE_MAX)
                return 0;
        *ret_first = first;
        *ret_second = best;
        return 1;
}

void manifest_name_values_free(NameValue *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(l[i].name);
                free(l[i].value);
        }
        free(l);
}

static int name_value_cmp(const void *a, const void *b) {
        return strcmp(((const NameValue *) a)->name, ((const NameValue *) b)->name);
}

int manifest_string_map(ManifestContext *c, const json_t *v, NameValue **ret, size_t *ret_n) {
        const char *key;
        json_t *value;
        size_t n;
        int r;

        if (!json_is_object(v))
                return manifest_type_error(c, v, "an object of strings");
        n = json_object_size(v);
        r = alloc_items((void **) ret, n, sizeof(NameValue));
        if (r < 0)
                return r;
        json_object_foreach ((json_t *) v, key, value) {
                NameValue *nv = &(*ret)[(*ret_n)++];
                size_t saved = manifest_path_push_key(c, key);

                r = manifest_string(c, value, 0, &nv->value);
                if (r < 0)
                        return r;
                manifest_path_pop(c, saved);
                nv->name = strdup(key);
                if (!nv->name)
                        return -ENOMEM;
        }
        /* Sorted so that whatever reads them produces stable output. */
        if (*ret_n > 1)
                qsort(*ret, *ret_n, sizeof(NameValue), name_value_cmp);
        return 0;
}

static int get_string_map(ManifestContext *c, const json_t *o, const char *key, NameValue **ret, size_t *ret_n) {
        json_t *v;
        size_t saved;
        int r;

        r = manifest_field(c, o, key, 0, &v);
        if (r <= 0)
                return r;
        saved = manifest_path_push_key(c, key);
        r = manifest_string_map(c, v, ret, ret_n);
        manifest_path_pop(c, saved);
        return r;
}

/* Reports a duplicate name at `<key>[i].<field>`. */
static int duplicate_error(ManifestContext *c, const char *key, size_t i, const char *field, const char *noun,
                           const char *name, size_t first) {
        _cleanup_free_ char *q = manifest_quote(name);
        size_t saved;
        int r;

        if (!q)
                return -ENOMEM;
        saved = manifest_path_push_key(c, key);
        (void) manifest_path_push_index(c, i);
        (void) manifest_path_push_key(c, field);
        r = manifest_error(c, -EINVAL, "duplicate %s %s (also at [%zu])", noun, q, first);
        manifest_path_pop(c, saved);
        return r;
}

/* Refuses a repeated name in an array just parsed from `key`. */
static int unique_names(ManifestContext *c, const char *key, const void *items, size_t n, size_t stride,
                        size_t offset, const char *noun) {
        size_t first, second;
        int r;

        r = find_duplicate(items, n, stride, offset, &first, &second);
        if (r <= 0)
                return r;
        return duplicate_error(c, key, second, "name", noun,
                               *(char *const *) ((const char *) items + second * stride + offset), first);
}

/* ---- labels, annotations, environment -------------------------------------------------- */

typedef enum NameValueKind {
        NV_LABELS,
        NV_ANNOTATIONS,
        NV_ENVIRONMENT,
} NameValueKind;

static const struct {
        const char *os;
        const char *const *archs;
} valid_os_arch[] = {
        /* appc types.ValidOSArch */
        { "darwin", (const char *const[]){ "x86_64", "i386", NULL } },
        { "freebsd", (const char *const[]){ "amd64", "i386", "arm", NULL } },
        { "linux", (const char *const[]){ "amd64", "i386", "aarch64", "aarch64_be", "armv6l", "armv7l", "armv7b",
                                          "ppc64", "ppc64le", "s390x", NULL } },
};

/* "<value> is not <what>" at [index].value of the list being checked. */
static int nv_value_error(ManifestContext *c, size_t index, const char *value, const char *what) {
        size_t saved;
        int r;

        saved = manifest_path_push_index(c, index);
        (void) manifest_path_push_key(c, "value");
        r = value_error(c, value, what);
        manifest_path_pop(c, saved);
        return r;
}

/* appc checks os/arch in every label list: an os it does not know, or an arch
 * that does not go with the os, is refused; an arch without os is not. */
static int check_os_arch(ManifestContext *c, const NameValue *l, size_t n) {
        const NameValue *os = NULL, *arch = NULL;
        size_t os_i = 0, arch_i = 0;

        for (size_t i = 0; i < n; i++) {
                if (strcmp(l[i].name, "os") == 0)
                        os = &l[i], os_i = i;
                else if (strcmp(l[i].name, "arch") == 0)
                        arch = &l[i], arch_i = i;
        }
        if (!os)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(valid_os_arch); i++) {
                _cleanup_free_ char *list = NULL, *what = NULL;

                if (strcmp(valid_os_arch[i].os, os->value) != 0)
                        continue;
                if (!arch || strv_contains((char *const *) valid_os_arch[i].archs, arch->value))
                        return 0;
                list = strv_join((char *const *) valid_os_arch[i].archs, ", ");
                if (!list || asprintf(&what, "a known arch for os %s (one of %s)", os->value, list) < 0)
                        return -ENOMEM;
                return nv_value_error(c, arch_i, arch->value, what);
        }
        return nv_value_error(c, os_i, os->value, "a known os (one of darwin, freebsd, linux)");
}

/* appc checks these three annotations wherever annotations appear. */
static int check_annotations(ManifestContext *c, const NameValue *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (strcmp(l[i].name, "created") == 0 && !rfc3339_is_valid(l[i].value))
                        return nv_value_error(c, i, l[i].value,
                                              "an RFC 3339 date-time (e.g. \"2016-01-02T15:04:05Z\")");
                if ((strcmp(l[i].name, "homepage") == 0 || strcmp(l[i].name, "documentation") == 0) &&
                    !http_url_is_valid(l[i].value))
                        return nv_value_error(c, i, l[i].value, "an http:// or https:// URL with a host");
        }
        return 0;
}

static int name_values(ManifestContext *c, const json_t *o, const char *key, NameValueKind kind, NameValue **ret,
                       size_t *ret_n) {
        static const char *const keys[] = { "name", "value", NULL };
        static const char *const what[] = {
                [NV_LABELS] = "an array of labels",
                [NV_ANNOTATIONS] = "an array of annotations",
                [NV_ENVIRONMENT] = "an array of environment variables",
        };
        static const char *const noun[] = {
                [NV_LABELS] = "label name",
                [NV_ANNOTATIONS] = "annotation name",
                [NV_ENVIRONMENT] = "environment variable name",
        };
        json_t *a;
        size_t n, saved, first, second;
        int r;

        r = get_array(c, o, key, 0, what[kind], &a);
        if (r <= 0)
                return r;
        saved = manifest_path_push_key(c, key);
        n = json_array_size(a);
        r = alloc_items((void **) ret, n, sizeof(NameValue));
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const json_t *e = json_array_get(a, i);
                NameValue *nv = &(*ret)[(*ret_n)++];
                size_t saved_i = manifest_path_push_index(c, i);

                r = manifest_check_object(c, e, keys);
                if (r < 0)
                        return r;
                if (kind == NV_ENVIRONMENT)
                        r = get_checked_string(c, e, "name", MANIFEST_REQUIRED, env_name_is_valid,
                                               "a valid environment variable name (^[A-Za-z_][A-Za-z_0-9.-]*$)",
                                               &nv->name);
                else
                        r = get_acidentifier(c, e, "name", MANIFEST_REQUIRED, &nv->name);
                if (r < 0)
                        return r;
                /* appc's Go struct reads a missing value as ""; we want it said. */
                r = manifest_get_string(c, e, "value", MANIFEST_REQUIRED, &nv->value);
                if (r < 0)
                        return r;

                if (kind == NV_LABELS && strcmp(nv->name, "name") == 0) {
                        (void) manifest_path_push_key(c, "name");
                        return manifest_error(c, -EINVAL,
                                              "\"name\" is not allowed as a label name (the image name is not a "
                                              "label)");
                }
                manifest_path_pop(c, saved_i);
        }
        manifest_path_pop(c, saved);
        r = find_duplicate(*ret, *ret_n, sizeof(NameValue), offsetof(NameValue, name), &first, &second);
        if (r < 0)
                return r;
        if (r > 0)
                return duplicate_error(c, key, second, "name", noun[kind], (*ret)[second].name, first);
        saved = manifest_path_push_key(c, key);
        if (kind == NV_LABELS)
                r = check_os_arch(c, *ret, *ret_n);
        else if (kind == NV_ANNOTATIONS)
                r = check_annotations(c, *ret, *ret_n);
        if (r < 0)
                return r;
        manifest_path_pop(c, saved);
        return 0;
}

/* ---- volumes, ports, mounts --------------------------------------------------------------- */

static void volume_done(Volume *v) {
        free(v->name);
        free(v->source);
}

static bool octal_mode_parse(const char *s, mode_t *ret) {
        unsigned long m = 0;

        if (!*s)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '7')
                        return false;
                m = m * 8 + (unsigned long) (*s - '0');
                if (m > 07777)
                        return false;
        }
        *ret = (mode_t) m;
        return true;
}

/* uid_t/gid_t range without (uid_t) -1, which means "unchanged" to chown(). */
#define ID_MAX ((int64_t) UINT32_MAX - 1)


/* An error about the value of `key` in the current object. */
static int key_error(ManifestContext *c, const char *key, const char *message) {
        size_t saved = manifest_path_push_key(c, key);
        int r = manifest_error(c, -EINVAL, "%s", message);

        manifest_path_pop(c, saved);
        return r;
}

static int get_tristate(ManifestContext *c, const json_t *o, const char *key, int *ret) {
        bool b;
        int r;

        r = manifest_get_bool(c, o, key, 0, &b);
        if (r > 0)
                *ret = b;
        return r;
}

static int volume(ManifestContext *c, const json_t *o, Volume *v) {
        static const char *const keys[] = { "name", "kind", "source", "readOnly", "recursive",
                                            "mode", "uid",  "gid",    NULL };
        static const char *const host_only_absent[] = { "mode", "uid", "gid", NULL };
        _cleanup_free_ char *kind = NULL, *mode = NULL;
        int64_t id;
        json_t *j;
        int r;

        v->read_only = v->recursive = -1;
        v->mode = 0755; /* appc's default for empty volumes */
        r = manifest_check_object(c, o, keys);
        if (r < 0)
                return r;
        r = get_acname(c, o, "name", MANIFEST_REQUIRED, &v->name);
        if (r < 0)
                return r;
        r = manifest_get_string(c, o, "kind", MANIFEST_REQUIRED, &kind);
        if (r < 0)
                return r;
        if (strcmp(kind, "host") == 0)
                v->kind = VOLUME_HOST;
        else if (strcmp(kind, "empty") == 0)
                v->kind = VOLUME_EMPTY;
        else {
                size_t saved = manifest_path_push_key(c, "kind");

                r = value_error(c, kind, "a volume kind (expected \"host\" or \"empty\")");
                manifest_path_pop(c, saved);
                return r;
        }

        r = manifest_get_string(c, o, "source", 0, &v->source);
        if (r < 0)
                return r;
        r = get_tristate(c, o, "readOnly", &v->read_only);
        if (r < 0)
                return r;
        r = get_tristate(c, o, "recursive", &v->recursive);
        if (r < 0)
                return r;

        if (v->kind == VOLUME_HOST) {
                if (!v->source || !*v->source)
                        return key_error(c, "source", "a host volume needs a source (an absolute path on the host)");
                if (!path_is_absolute(v->source)) {
                        size_t saved = manifest_path_push_key(c, "source");

                        r = value_error(c, v->source, "an absolute path");
                        manifest_path_pop(c, saved);
                        return r;
                }
                for (const char *const *k = host_only_absent; *k; k++)
                        if (manifest_field(c, o, *k, 0, &j) > 0)
                                return key_error(c, *k, "must not be set for a host volume (only for empty ones)");
                return 0;
        }

        /* empty: appc accepts "source": "" as absent. */
        if (v->source) {
                if (*v->source)
                        return key_error(c, "source", "must not be set for an empty volume");
                v->source = mfree(v->source);
        }
        r = manifest_get_string(c, o, "mode", 0, &mode);
        if (r < 0)
                return r;
        if (r > 0 && !octal_mode_parse(mode, &v->mode)) {
                size_t saved = manifest_path_push_key(c, "mode");

                r = value_error(c, mode, "an octal mode between 0 and 07777 (e.g. \"0755\")");
                manifest_path_pop(c, saved);
                return r;
        }
        r = manifest_get_int(c, o, "uid", 0, 0, ID_MAX, &id);
        if (r < 0)
                return r;
        if (r > 0)
                v->uid = (uid_t) id;
        r = manifest_get_int(c, o, "gid", 0, 0, ID_MAX, &id);
        if (r < 0)
                return r;
        if (r > 0)
                v->gid = (gid_t) id;
        return 0;
}

static void port_done(Port *p) {
        free(p->name);
        free(p->protocol);
}

static int port(ManifestContext *c, const json_t *o, Port *p) {
        static const char *const keys[] = { "name", "protocol", "port", "count", "socketActivated", NULL };
        int64_t n, count = 0;
        int r;

        r = manifest_check_object(c, o, keys);
        if (r < 0)
                return r;
        r = get_acname(c, o, "name", MANIFEST_REQUIRED, &p->name);
        if (r < 0)
                return r;
        r = manifest_get_string(c, o, "protocol", MANIFEST_REQUIRED, &p->protocol);
        if (r < 0)
                return r;
        /* appc takes any string; rkt refuses anything but tcp/udp when it
         * writes the socket unit, so we refuse it up front. */
        if (strcmp(p->protocol, "tcp") != 0 && strcmp(p->protocol, "udp") != 0) {
                size_t saved = manifest_path_push_key(c, "protocol");

                r = value_error(c, p->protocol, "a supported protocol (expected \"tcp\" or \"udp\")");
                manifest_path_pop(c, saved);
                return r;
        }
        r = manifest_get_int(c, o, "port", MANIFEST_REQUIRED, 1, 65535, &n);
        if (r < 0)
                return r;
        p->port = (uint16_t) n;
        r = manifest_get_int(c, o, "count", 0, 0, 65535, &count);
        if (r < 0)
                return r;
        /* appc: a count of 0 means 1, and the range must end at 65535 at most. */
        p->count = count == 0 ? 1 : (uint32_t) count;
        if ((uint32_t) p->port + p->count - 1 > 65535) {
                size_t saved = manifest_path_push_key(c, "count");

                r = manifest_error(c, -EINVAL, "ports %u..%u go beyond 65535", (unsigned) p->port,
                                   (unsigned) p->port + p->count - 1);
                manifest_path_pop(c, saved);
                return r;
        }
        r = manifest_get_bool(c, o, "socketActivated", 0, &p->socket_activated);
        return r < 0 ? r : 0;
}

static int mount_point(ManifestContext *c, const json_t *o, MountPoint *m) {
        static const char *const keys[] = { "name", "path", "readOnly", NULL };
        int r;

        r = manifest_check_object(c, o, keys);
        if (r < 0)
                return r;
        /* appc never calls MountPoint.assertValid() while decoding, so actool
         * takes a mount point without name or path; we do not. */
        r = get_acname(c, o, "name", MANIFEST_REQUIRED, &m->name);
        if (r < 0)
                return r;
        r = manifest_get_string(c, o, "path", MANIFEST_REQUIRED | MANIFEST_NONEMPTY, &m->path);
        if (r < 0)
                return r;
        r = manifest_get_bool(c, o, "readOnly", 0, &m->read_only);
        return r < 0 ? r : 0;
}

/* exec[0] must be absolute: our rule, stricter than appc, which lets stage1
 * search $PATH inside the image. */
static int check_exec(ManifestContext *c, char **exec) {
        size_t saved;
        int r;

        if (!exec || !exec[0] || path_is_absolute(exec[0]))
                return 0;
        saved = manifest_path_push_key(c, "exec");
        (void) manifest_path_push_index(c, 0);
        r = value_error(c, exec[0], "an absolute path (exec[0] must be an absolute path)");
        manifest_path_pop(c, saved);
        return r;
}

static void event_handler_done(EventHandler *e) {
        free(e->name);
        strv_free(e->exec);
}

static int event_handler(ManifestContext *c, const json_t *o, EventHandler *e) {
        static const char *const keys[] = { "name", "exec", NULL };
        int r;

        r = manifest_check_object(c, o, keys);
        if (r < 0)
                return r;
        r = manifest_get_string(c, o, "name", MANIFEST_REQUIRED, &e->name);
        if (r < 0)
                return r;
        if (strcmp(e->name, "pre-start") != 0 && strcmp(e->name, "post-stop") != 0) {
                size_t saved = manifest_path_push_key(c, "name");

                r = value_error(c, e->name, "an event handler name (expected \"pre-start\" or \"post-stop\")");
                manifest_path_pop(c, saved);
                return r;
        }
        r = manifest_get_strv(c, o, "exec", MANIFEST_REQUIRED | MANIFEST_NONEMPTY, &e->exec);
        if (r < 0)
                return r;
        return check_exec(c, e->exec);
}

/* Parses an array of objects in place: `parse` fills element i, the owner
 * frees whatever was parsed if anything fails. */
typedef int (*ElementParser)(ManifestContext *c, const json_t *o, void *item);

static int object_array(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags,
                        const char *what, size_t max, void **items, size_t *n_items, size_t size,
                        ElementParser parse) {
        json_t *a;
        size_t n, saved;
        int r;

        r = get_array(c, o, key, flags, what, &a);
        if (r <= 0)
                return r;
        saved = manifest_path_push_key(c, key);
        n = json_array_size(a);
        if (n > max)
                return manifest_error(c, -EINVAL, "%zu entries are more than the limit of %zu", n, max);
        r = alloc_items(items, n, size);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                size_t saved_i = manifest_path_push_index(c, i);

                (*n_items)++;
                r = parse(c, json_array_get(a, i), (char *) *items + i * size);
                if (r < 0)
                        return r;
                manifest_path_pop(c, saved_i);
        }
        manifest_path_pop(c, saved);
        return 1;
}

/* object_array() callbacks for the typed element parsers. */
#define DEFINE_ELEMENT_PARSER(name, type)                                                            \
        static int name##_item(ManifestContext *c, const json_t *o, void *item) {                   \
                return name(c, o, (type *) item);                                                    \
        }

DEFINE_ELEMENT_PARSER(event_handler, EventHandler)
DEFINE_ELEMENT_PARSER(mount_point, MountPoint)
DEFINE_ELEMENT_PARSER(port, Port)

App *app_free(App *a) {
        if (!a)
                return NULL;
        strv_free(a->exec);
        free(a->user);
        free(a->group);
        free(a->supplementary_gids);
        for (size_t i = 0; i < a->n_event_handlers; i++)
                event_handler_done(&a->event_handlers[i]);
        free(a->event_handlers);
        free(a->working_directory);
        manifest_name_values_free(a->environment, a->n_environment);
        for (size_t i = 0; i < a->n_mount_points; i++) {
                free(a->mount_points[i].name);
                free(a->mount_points[i].path);
        }
        free(a->mount_points);
        for (size_t i = 0; i < a->n_ports; i++)
                port_done(&a->ports[i]);
        free(a->ports);
        manifest_isolators_free(a->isolators, a->n_isolators);
        manifest_name_values_free(a->user_annotations, a->n_user_annotations);
        manifest_name_values_free(a->user_labels, a->n_user_labels);
        free(a);
        return NULL;
}

static int app(ManifestContext *c, const json_t *o, App *a) {
        static const char *const keys[] = { "exec",        "eventHandlers", "user",      "group",
                                            "supplementaryGIDs", "workingDirectory", "environment", "mountPoints",
                                            "ports",       "isolators",     "userAnnotations", "userLabels",
                                            NULL };
        json_t *j;
        size_t saved;
        int r;

        r = manifest_check_object(c, o, keys);
        if (r < 0)
                return r;

        /* appc allows an app without exec (an image may be a base for others);
         * the renderer refuses to run one. Absent reads as empty. */
        r = manifest_get_strv(c, o, "exec", 0, &a->exec);
        if (r < 0)
                return r;
        if (!a->exec) {
                a->exec = calloc(1, sizeof(char *));
                if (!a->exec)
                        return -ENOMEM;
        }
        r = check_exec(c, a->exec);
        if (r < 0)
                return r;

        r = manifest_get_string(c, o, "user", MANIFEST_REQUIRED | MANIFEST_NONEMPTY, &a->user);
        if (r < 0)
                return r;
        r = manifest_get_string(c, o, "group", MANIFEST_REQUIRED | MANIFEST_NONEMPTY, &a->group);
        if (r < 0)
                return r;

        r = get_array(c, o, "supplementaryGIDs", 0, "an array of group IDs", &j);
        if (r < 0)
                return r;
        if (r > 0) {
                size_t n = json_array_size(j);

                saved = manifest_path_push_key(c, "supplementaryGIDs");
                r = alloc_items((void **) &a->supplementary_gids, n, sizeof(uint32_t));
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++) {
                        size_t saved_i = manifest_path_push_index(c, i);
                        int64_t gid;

                        /* appc takes any Go int, negative too; a gid is 0..2^32-2. */
                        r = manifest_int(c, json_array_get(j, i), 0, ID_MAX, &gid);
                        if (r < 0)
                                return r;
                        a->supplementary_gids[a->n_supplementary_gids++] = (uint32_t) gid;
                        manifest_path_pop(c, saved_i);
                }
                manifest_path_pop(c, saved);
        }

        r = object_array(c, o, "eventHandlers", 0, "an array of event handlers", SIZE_MAX,
                         (void **) &a->event_handlers, &a->n_event_handlers, sizeof(EventHandler),
                         event_handler_item);
        if (r < 0)
                return r;
        r = unique_names(c, "eventHandlers", a->event_handlers, a->n_event_handlers, sizeof(EventHandler),
                         offsetof(EventHandler, name), "event handler");
        if (r < 0)
                return r;

        r = manifest_get_string(c, o, "workingDirectory", 0, &a->working_directory);
        if (r < 0)
                return r;
        if (a->working_directory) {
                /* appc reads "" as unset */
                if (!*a->working_directory)
                        a->working_directory = mfree(a->working_directory);
                else if (!path_is_absolute(a->working_directory)) {
                        saved = manifest_path_push_key(c, "workingDirectory");
                        r = value_error(c, a->working_directory, "an absolute path");
                        manifest_path_pop(c, saved);
                        return r;
                }
        }

        r = name_values(c, o, "environment", NV_ENVIRONMENT, &a->environment, &a->n_environment);
        if (r < 0)
                return r;

        r = object_array(c, o, "mountPoints", 0, "an array of mount points", SIZE_MAX,
                         (void **) &a->mount_points, &a->n_mount_points, sizeof(MountPoint),
                         mount_point_item);
        if (r < 0)
                return r;

        r = object_array(c, o, "ports", 0, "an array of ports", SIZE_MAX, (void **) &a->ports, &a->n_ports,
                         sizeof(Port), port_item);
        if (r < 0)
                return r;
        /* Not checked by appc; a port name is what a pod's exposed port refers to. */
        r = unique_names(c, "ports", a->ports, a->n_ports, sizeof(Port), offsetof(Port, name), "port name");
        if (r < 0)
                return r;

        r = manifest_field(c, o, "isolators", 0, &j);
        if (r > 0) {
                saved = manifest_path_push_key(c, "isolators");
                r = manifest_isolators(c, j, &a->isolators, &a->n_isolators);
                if (r < 0)
                        return r;
                manifest_path_pop(c, saved);
        }

        r = get_string_map(c, o, "userAnnotations", &a->user_annotations, &a->n_user_annotations);
        if (r < 0)
                return r;
        r = get_string_map(c, o, "userLabels", &a->user_labels, &a->n_user_labels);
        return r < 0 ? r : 0;
}

/* An optional App object at `key`, allocated. */
static int get_app(ManifestContext *c, const json_t *o, const char *key, App **ret) {
        json_t *j;
        size_t saved;
        int r;

        r = manifest_field(c, o, key, 0, &j);
        if (r <= 0)
                return r;
        *ret = calloc(1, sizeof(App));
        if (!*ret)
                return -ENOMEM;
        saved = manifest_path_push_key(c, key);
        r = app(c, j, *ret);
        if (r < 0)
                return r;
        manifest_path_pop(c, saved);
        return 1;
}

/* ---- PodManifest -------------------------------------------------------------------------- */

static void mount_done(Mount *m) {
        free(m->volume);
        free(m->path);
        if (m->app_volume) {
                volume_done(m->app_volume);
                free(m->app_volume);
        }
}

static int mount_entry(ManifestContext *c, const json_t *o, Mount *m) {
        static const char *const keys[] = { "volume", "path", "appVolume", NULL };
        json_t *j;
        size_t saved;
        int r;

        r = manifest_check_object(c, o, keys);
        if (r < 0)
                return r;
        /* appc's Mount.assertValid() exists but is never called on decode. */
        r = get_acname(c, o, "volume", MANIFEST_REQUIRED, &m->volume);
        if (r < 0)
                return r;
        r = manifest_get_string(c, o, "path", MANIFEST_REQUIRED | MANIFEST_NONEMPTY, &m->path);
        if (r < 0)
                return r;
        r = manifest_field(c, o, "appVolume", 0, &j);
        if (r <= 0)
                return r;
        m->app_volume = calloc(1, sizeof(Volume));
        if (!m->app_volume)
                return -ENOMEM;
        saved = manifest_path_push_key(c, "appVolume");
        r = volume(c, j, m->app_volume);
        if (r < 0)
                return r;
        manifest_path_pop(c, saved);
        return 0;
}

DEFINE_ELEMENT_PARSER(mount_entry, Mount)

static void runtime_app_done(RuntimeApp *ra) {
        free(ra->name);
        free(ra->image.name);
        free(ra->image.id);
        manifest_name_values_free(ra->image.labels, ra->image.n_labels);
        app_free(ra->app);
        for (size_t i = 0; i < ra->n_mounts; i++)
                mount_done(&ra->mounts[i]);
        free(ra->mounts);
        manifest_name_values_free(ra->annotations, ra->n_annotations);
}

static int image_ref(ManifestContext *c, const json_t *o, ImageRef *img) {
        static const char *const keys[] = { "name", "id", "labels", NULL };
        int r;

        r = manifest_check_object(c, o, keys);
        if (r < 0)
                return r;
        r = get_acidentifier(c, o, "name", 0, &img->name);
        if (r < 0)
                return r;
        /* appc leaves a missing id as an empty hash; rkt then cannot find the image. */
        r = get_image_id(c, o, "id", MANIFEST_REQUIRED, &img->id);
        if (r < 0)
                return r;
        r = name_values(c, o, "labels", NV_LABELS, &img->labels, &img->n_labels);
        return r < 0 ? r : 0;
}

static int runtime_app(ManifestContext *c, const json_t *o, RuntimeApp *ra) {
        static const char *const keys[] = { "name", "image", "app", "readOnlyRootFS", "mounts", "annotations", NULL };
        json_t *j;
        size_t saved;
        int r;

        r = manifest_check_object(c, o, keys);
        if (r < 0)
                return r;
        /* The app name becomes unit, file and directory names: required,
         * although appc's decoder would take an app without one. */
        r = get_acname(c, o, "name", MANIFEST_REQUIRED, &ra->name);
        if (r < 0)
                return r;
        r = manifest_field(c, o, "image", MANIFEST_REQUIRED, &j);
        if (r < 0)
                return r;
        saved = manifest_path_push_key(c, "image");
        r = image_ref(c, j, &ra->image);
        if (r < 0)
                return r;
        manifest_path_pop(c, saved);

        r = get_app(c, o, "app", &ra->app);
        if (r < 0)
                return r;
        r = manifest_get_bool(c, o, "readOnlyRootFS", 0, &ra->read_only_root_fs);
        if (r < 0)
                return r;
        r = object_array(c, o, "mounts", 0, "an array of mounts", SIZE_MAX, (void **) &ra->mounts, &ra->n_mounts,
                         sizeof(Mount), mount_entry_item);
        if (r < 0)
                return r;
        r = name_values(c, o, "annotations", NV_ANNOTATIONS, &ra->annotations, &ra->n_annotations);
        return r < 0 ? r : 0;
}

DEFINE_ELEMENT_PARSER(runtime_app, RuntimeApp)
DEFINE_ELEMENT_PARSER(volume, Volume)

static void exposed_port_done(ExposedPort *p) {
        free(p->name);
        free(p->host_ip);
        if (p->pod_port) {
                port_done(p->pod_port);
                free(p->pod_port);
        }
}

static int exposed_port(ManifestContext *c, const json_t *o, ExposedPort *p) {
        static const char *const keys[] = { "name", "hostPort", "hostIP", "podPort", NULL };
        int64_t n;
        json_t *j;
        size_t saved;
        int r;

        r = manifest_check_object(c, o, keys);
        if (r < 0)
                return r;
        r = get_acname(c, o, "name", MANIFEST_REQUIRED, &p->name);
        if (r < 0)
                return r;
        /* appc: any uint, 0 and > 65535 included. */
        r = manifest_get_int(c, o, "hostPort", MANIFEST_REQUIRED, 1, 65535, &n);
        if (r < 0)
                return r;
        p->host_port = (uint16_t) n;
        /* appc (Go's net.IP) also takes IPv6 and reads "" as unset. */
        r = get_checked_string(c, o, "hostIP", 0, ipv4_is_valid, "an IPv4 address (e.g. \"127.0.0.1\")",
                               &p->host_ip);
        if (r < 0)
                return r;
        r = manifest_field(c, o, "podPort", 0, &j);
        if (r <= 0)
                return r;
        p->pod_port = calloc(1, sizeof(Port));
        if (!p->pod_port)
                return -ENOMEM;
        saved = manifest_path_push_key(c, "podPort");
        r = port(c, j, p->pod_port);
        if (r < 0)
                return r;
        manifest_path_pop(c, saved);
        return 0;
}

DEFINE_ELEMENT_PARSER(exposed_port, ExposedPort)

Pod *pod_free(Pod *p) {
        if (!p)
                return NULL;
        free(p->ac_version);
        for (size_t i = 0; i < p->n_apps; i++)
                runtime_app_done(&p->apps[i]);
        free(p->apps);
        for (size_t i = 0; i < p->n_volumes; i++)
                volume_done(&p->volumes[i]);
        free(p->volumes);
        manifest_isolators_free(p->isolators, p->n_isolators);
        manifest_name_values_free(p->annotations, p->n_annotations);
        for (size_t i = 0; i < p->n_ports; i++)
                exposed_port_done(&p->ports[i]);
        free(p->ports);
        manifest_name_values_free(p->user_annotations, p->n_user_annotations);
        manifest_name_values_free(p->user_labels, p->n_user_labels);
        free(p);
        return NULL;
}

static int check_kind(ManifestContext *c, const json_t *o, const char *want) {
        _cleanup_free_ char *kind = NULL;
        int r;

        r = manifest_get_string(c, o, "acKind", MANIFEST_REQUIRED, &kind);
        if (r < 0)
                return r;
        if (strcmp(kind, want) != 0) {
                _cleanup_free_ char *q = manifest_quote(kind), *msg = NULL;

                if (!q || asprintf(&msg, "expected \"%s\", got %s", want, q) < 0)
                        return -ENOMEM;
                return key_error(c, "acKind", msg);
        }
        return 0;
}

static int get_version(ManifestContext *c, const json_t *o, char **ret) {
        /* appc only insists on acVersion for images; a pod without one is
         * accepted by actool but not by us. */
        return get_checked_string(c, o, "acVersion", MANIFEST_REQUIRED, semver_is_valid,
                                  "a valid SemVer version (MAJOR.MINOR.PATCH[-prerelease][+build], "
                                  "no leading zeros, not 0.0.0)",
                                  ret);
}

static int pod(ManifestContext *c, const json_t *o, Pod *p) {
        static const char *const keys[] = { "acVersion", "acKind", "apps",  "volumes",         "isolators",
                                            "annotations", "ports", "userAnnotations", "userLabels", NULL };
        json_t *j;
        size_t saved;
        int r;

        /* The kind first: an image manifest handed to the pod parser should
         * say so, not complain about its fields. */
        r = check_kind(c, o, "PodManifest");
        if (r < 0)
                return r;
        r = manifest_check_object(c, o, keys);
        if (r < 0)
                return r;
        r = get_version(c, o, &p->ac_version);
        if (r < 0)
                return r;

        /* Required (actool would take a pod without apps); an empty list is
         * schema-valid for both, the renderer refuses to run it. */
        r = object_array(c, o, "apps", MANIFEST_REQUIRED, "an array of apps", MANIFEST_APPS_MAX,
                         (void **) &p->apps, &p->n_apps, sizeof(RuntimeApp), runtime_app_item);
        if (r < 0)
                return r;
        r = unique_names(c, "apps", p->apps, p->n_apps, sizeof(RuntimeApp), offsetof(RuntimeApp, name),
                         "app name");
        if (r < 0)
                return r;

        r = object_array(c, o, "volumes", 0, "an array of volumes", SIZE_MAX, (void **) &p->volumes,
                         &p->n_volumes, sizeof(Volume), volume_item);
        if (r < 0)
                return r;
        r = unique_names(c, "volumes", p->volumes, p->n_volumes, sizeof(Volume), offsetof(Volume, name),
                         "volume name");
        if (r < 0)
                return r;

        /* Pod-level isolators: appc neither rejects unknown names nor checks
         * duplicates here; we apply the app rules. */
        r = manifest_field(c, o, "isolators", 0, &j);
        if (r > 0) {
                saved = manifest_path_push_key(c, "isolators");
                r = manifest_isolators(c, j, &p->isolators, &p->n_isolators);
                if (r < 0)
                        return r;
                manifest_path_pop(c, saved);
        }

        r = name_values(c, o, "annotations", NV_ANNOTATIONS, &p->annotations, &p->n_annotations);
        if (r < 0)
                return r;
        r = object_array(c, o, "ports", 0, "an array of exposed ports", SIZE_MAX, (void **) &p->ports,
                         &p->n_ports, sizeof(ExposedPort), exposed_port_item);
        if (r < 0)
                return r;
        r = get_string_map(c, o, "userAnnotations", &p->user_annotations, &p->n_user_annotations);
        if (r < 0)
                return r;
        r = get_string_map(c, o, "userLabels", &p->user_labels, &p->n_user_labels);
        return r < 0 ? r : 0;
}

/* ---- ImageManifest ------------------------------------------------------------------------ */

static void dependency_done(Dependency *d) {
        free(d->image_name);
        free(d->image_id);
        manifest_name_values_free(d->labels, d->n_labels);
}

static int dependency(ManifestContext *c, const json_t *o, Dependency *d) {
        static const char *const keys[] = { "imageName", "imageID", "labels", "size", NULL };
        int64_t size;
        int r;

        r = manifest_check_object(c, o, keys);
        if (r < 0)
                return r;
        r = get_acidentifier(c, o, "imageName", MANIFEST_REQUIRED, &d->image_name);
        if (r < 0)
                return r;
        r = get_image_id(c, o, "imageID", 0, &d->image_id);
        if (r < 0)
                return r;
        r = name_values(c, o, "labels", NV_LABELS, &d->labels, &d->n_labels);
        if (r < 0)
                return r;
        r = manifest_get_int(c, o, "size", 0, 0, INT64_MAX, &size);
        if (r > 0)
                d->size = (uint64_t) size;
        return r < 0 ? r : 0;
}

DEFINE_ELEMENT_PARSER(dependency, Dependency)

Image *image_free(Image *i) {
        if (!i)
                return NULL;
        free(i->ac_version);
        free(i->name);
        manifest_name_values_free(i->labels, i->n_labels);
        app_free(i->app);
        manifest_name_values_free(i->annotations, i->n_annotations);
        for (size_t k = 0; k < i->n_dependencies; k++)
                dependency_done(&i->dependencies[k]);
        free(i->dependencies);
        strv_free(i->path_whitelist);
        free(i);
        return NULL;
}

static int image(ManifestContext *c, const json_t *o, Image *img) {
        static const char *const keys[] = { "acKind",       "acVersion",    "name",          "labels", "app",
                                            "annotations", "dependencies", "pathWhitelist", NULL };
        int r;

        /* The kind first: an image manifest handed to the pod parser should
         * say so, not complain about its fields. */
        r = check_kind(c, o, "ImageManifest");
        if (r < 0)
                return r;
        r = manifest_check_object(c, o, keys);
        if (r < 0)
                return r;
        r = get_version(c, o, &img->ac_version);
        if (r < 0)
                return r;
        r = get_acidentifier(c, o, "name", MANIFEST_REQUIRED, &img->name);
        if (r < 0)
                return r;
        r = name_values(c, o, "labels", NV_LABELS, &img->labels, &img->n_labels);
        if (r < 0)
                return r;
        r = get_app(c, o, "app", &img->app);
        if (r < 0)
                return r;
        r = name_values(c, o, "annotations", NV_ANNOTATIONS, &img->annotations, &img->n_annotations);
        if (r < 0)
                return r;
        r = object_array(c, o, "dependencies", 0, "an array of dependencies", SIZE_MAX,
                         (void **) &img->dependencies, &img->n_dependencies, sizeof(Dependency),
                         dependency_item);
        if (r < 0)
                return r;
        r = manifest_get_strv(c, o, "pathWhitelist", 0, &img->path_whitelist);
        if (r < 0)
                return r;
        /* Not checked by appc; the whitelist is matched against absolute paths. */
        for (size_t i = 0; img->path_whitelist && img->path_whitelist[i]; i++)
                if (!path_is_absolute(img->path_whitelist[i])) {
                        size_t saved = manifest_path_push_key(c, "pathWhitelist");

                        (void) manifest_path_push_index(c, i);
                        r = value_error(c, img->path_whitelist[i], "an absolute path");
                        manifest_path_pop(c, saved);
                        return r;
                }
        return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

/* Finds where `data` stops being strict UTF-8 (or has a NUL byte), for a
 * message with line and column (columns count characters). */
static int utf8_error(const char *data, size_t size, NpError *err) {
        int line = 1, column = 1;
        size_t i = 0;

        while (i < size) {
                size_t len = 0;

                if (data[i] == 0)
                        return error_set_at(err, -EINVAL, NULL, line, column,
                                            "NUL byte in the input (JSON text cannot contain one)");
                for (size_t l = 1; l <= 4 && l <= size - i; l++)
                        if (utf8_is_valid(data + i, l)) {
                                len = l;
                                break;
                        }
                if (len == 0)
                        return error_set_at(err, -EINVAL, NULL, line, column,
                                            "invalid UTF-8 (byte 0x%02x); manifests must be UTF-8",
                                            (unsigned char) data[i]);
                if (data[i] == '\n') {
                        line++;
                        column = 1;
                } else
                        column++;
                i += len;
        }
        return error_set(err, -EINVAL, NULL, "invalid UTF-8");
}

/* Caps that jansson does not apply for us: nesting depth (its own limit is
 * 2048) and the length of any one string or key. */
/* The same walk as check_limits() without tracking the JSON path: every
 * manifest takes this one, and only a manifest over a limit pays for the
 * second walk that names where. */
static bool within_limits(const json_t *v, unsigned depth) {
        const char *key;
        json_t *e;
        size_t i;

        if (json_is_string(v))
                return json_string_length(v) <= MANIFEST_STRING_MAX;
        if (!json_is_object(v) && !json_is_array(v))
                return true;
        if (depth > MANIFEST_DEPTH_MAX)
                return false;
        if (json_is_array(v)) {
                json_array_foreach (v, i, e)
                        if (!within_limits(e, depth + 1))
                                return false;
                return true;
        }
        json_object_foreach ((json_t *) v, key, e)
                if (strlen(key) > MANIFEST_STRING_MAX || !within_limits(e, depth + 1))
                        return false;
        return true;
}

static int check_limits(ManifestContext *c, const json_t *v, unsigned depth) {
        const char *key;
        json_t *e;
        size_t i;
        int r;

        if (json_is_string(v)) {
                if (json_string_length(v) > MANIFEST_STRING_MAX)
                        return manifest_error(c, -EINVAL, "string of %zu bytes is longer than the limit of %u",
                                              json_string_length(v), MANIFEST_STRING_MAX);
                return 0;
        }
        if (!json_is_object(v) && !json_is_array(v))
                return 0;
        if (depth > MANIFEST_DEPTH_MAX)
                return manifest_error(c, -EINVAL, "nested deeper than the limit of %u arrays and objects",
                                      MANIFEST_DEPTH_MAX);
        if (json_is_array(v)) {
                json_array_foreach (v, i, e) {
                        size_t saved = manifest_path_push_index(c, i);

                        r = check_limits(c, e, depth + 1);
                        if (r < 0)
                                return r;
                        manifest_path_pop(c, saved);
                }
                return 0;
        }
        json_object_foreach ((json_t *) v, key, e) {
                size_t saved;

                if (strlen(key) > MANIFEST_STRING_MAX)
                        return manifest_error(c, -EINVAL, "key of %zu bytes is longer than the limit of %u",
                                              strlen(key), MANIFEST_STRING_MAX);
                saved = manifest_path_push_key(c, key);
                r = check_limits(c, e, depth + 1);
                if (r < 0)
                        return r;
                manifest_path_pop(c, saved);
        }
        return 0;
}

static int load(const char *data, size_t size, ManifestContext *c, json_t **ret) {
        _cleanup_json_ json_t *root = NULL;
        json_error_t jerr;
        int r;

        if (size > MANIFEST_SIZE_MAX)
                return error_set(c->err, -EFBIG, NULL, "manifest of %zu bytes is larger than the limit of %u",
                                 size, MANIFEST_SIZE_MAX);
        /* Checked before jansson sees it: jansson also refuses bad UTF-8, but
         * we want the exact position and a clear message, and Go (actool)
         * would silently replace it with U+FFFD. */
        if (!data || !utf8_is_valid(data, size))
                return data ? utf8_error(data, size, c->err) : error_set(c->err, -EINVAL, NULL, "no input");

        /* No JSON_DISABLE_EOF_CHECK: trailing garbage is an error. No
         * JSON_ALLOW_NUL: "\u0000" is refused, so C strings are whole. */
        root = json_loadb(data, size, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
                /* jansson names its own flag here; say what the user did instead. */
                if (strstr(jerr.text, "JSON_ALLOW_NUL"))
                        return error_set_at(c->err, -EINVAL, NULL, jerr.line, jerr.column,
                                            "\\u0000 (a NUL character) is not allowed in manifest strings");
                return error_set_at(c->err, -EINVAL, NULL, jerr.line, jerr.column, "invalid JSON: %s", jerr.text);
        }
        if (!json_is_object(root))
                return manifest_type_error(c, root, "an object");
        r = within_limits(root, 1) ? 0 : check_limits(c, root, 1);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(root);
        return 0;
}

static void context_done(ManifestContext *c) {
        strbuf_done(&c->path);
}

int manifest_parse_pod(const char *data, size_t size, Pod **ret, NpError *err) {
        _cleanup_(context_done) ManifestContext c = { .err = err };
        _cleanup_json_ json_t *root = NULL;
        _cleanup_(pod_freep) Pod *p = NULL;
        int r;

        strbuf_append(&c.path, "$");
        r = load(data, size, &c, &root);
        if (r < 0)
                return r;
        p = calloc(1, sizeof(Pod));
        if (!p)
                return -ENOMEM;
        r = pod(&c, root, p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int manifest_parse_image(const char *data, size_t size, Image **ret, NpError *err) {
        _cleanup_(context_done) ManifestContext c = { .err = err };
        _cleanup_json_ json_t *root = NULL;
        _cleanup_(image_freep) Image *img = NULL;
        int r;

        strbuf_append(&c.path, "$");
        r = load(data, size, &c, &root);
        if (r < 0)
                return r;
        img = calloc(1, sizeof(Image));
        if (!img)
                return -ENOMEM;
        r = image(&c, root, img);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(img);
        return 0;
}

/* ---- lookups ------------------------------------------------------------------------------ */

const NameValue *name_value_find(const NameValue *items, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(items[i].name, name) == 0)
                        return &items[i];
        return NULL;
}

const Volume *pod_find_volume(const Pod *p, const char *name) {
        for (size_t i = 0; i < p->n_volumes; i++)
                if (strcmp(p->volumes[i].name, name) == 0)
                        return &p->volumes[i];
        return NULL;
}

const RuntimeApp *pod_find_app(const Pod *p, const char *name) {
        for (size_t i = 0; i < p->n_apps; i++)
                if (strcmp(p->apps[i].name, name) == 0)
                        return &p->apps[i];
        return NULL;
}
