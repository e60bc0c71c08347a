/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "isolator.h"
#include "manifest-internal.h"
#include "names.h"
#include "quantity.h"
#include "strv.h"

/*
 * Isolator values (appc spec "Isolators", stage1 contract §9.3). The name
 * table is our own on purpose: lib/isolator.c maps kinds to unit settings,
 * this file only decides what a manifest may say, and neither should wait
 * for the other.
 */

/* appc's multipleAllowed(), by kind. The names are isolator.c's table
 * (isolator_kind_from_string), which includes os/linux/apparmor-profile: added
 * to the spec after 0.8.11 (appc/spec#695), unknown to actool 0.8.11. */
static const bool multiple_allowed[_ISOLATOR_KIND_MAX] = {
        [ISOLATOR_RESOURCE_CPU] = true,
        [ISOLATOR_RESOURCE_MEMORY] = true,
        [ISOLATOR_RESOURCE_BLOCK_BANDWIDTH] = true,
        [ISOLATOR_RESOURCE_BLOCK_IOPS] = true,
        [ISOLATOR_RESOURCE_NETWORK_BANDWIDTH] = true,
        [ISOLATOR_CAPABILITIES_RETAIN] = true,
        [ISOLATOR_CAPABILITIES_REMOVE] = true,
        [ISOLATOR_NO_NEW_PRIVILEGES] = true,
};

static const char *kind_name(IsolatorKind k) {
        const char *n = isolator_kind_to_string(k);

        return n ? n : "?";
}

/* appc's Conflicts(): a seccomp retain set and remove set contradict each
 * other. Returns the table index of the kind `k` conflicts with, or -1. */
static int conflicting_kind(IsolatorKind k) {
        if (k == ISOLATOR_SECCOMP_RETAIN)
                return ISOLATOR_SECCOMP_REMOVE;
        if (k == ISOLATOR_SECCOMP_REMOVE)
                return ISOLATOR_SECCOMP_RETAIN;
        return -1;
}

/* A JSON real as the shortest decimal text that reads back as the same
 * double, so 1.5 stays "1.5" and 0.1 stays "0.1" (not 0.1000000000000000055…).
 * Formatted in the C locale whatever the program set. */
static char *real_to_text(double d) {
        locale_t c_locale, old;
        char buf[64];

        c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t) 0);
        if (!c_locale)
                return NULL;
        old = uselocale(c_locale);
        for (int prec = 1; prec <= 17; prec++) {
                (void) snprintf(buf, sizeof buf, "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        (void) uselocale(old);
        freelocale(c_locale);
        return strdup(buf);
}

/* Quantities are strings in appc, but a bare JSON number is accepted too
 * (Go's Quantity.UnmarshalJSON parses the raw token). jansson keeps no token
 * text, so an integer is printed back exactly and a real goes through
 * real_to_text(): exact for reals written with up to 15 significant digits. */
static int quantity_value(ManifestContext *c, const json_t *v, Quantity *ret) {
        _cleanup_free_ char *text = NULL, *q = NULL;
        int r;

        if (json_is_string(v))
                text = strdup(json_string_value(v));
        else if (json_is_integer(v)) {
                if (asprintf(&text, "%" PRId64, (int64_t) json_integer_value(v)) < 0)
                        text = NULL;
        } else if (json_is_real(v))
                text = real_to_text(json_real_value(v));
        else
                return manifest_type_error(c, v, "a quantity (a string such as \"500m\" or a number)");
        if (!text)
                return -ENOMEM;

        r = quantity_parse(text, ret);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                q = manifest_quote(text);
                if (!q)
                        return -ENOMEM;
                /* The manifest is invalid either way: callers get -EINVAL. */
                if (r == -ERANGE)
                        return manifest_error(c, -EINVAL,
                                              "%s is out of range (the value times 1000 must fit in a signed "
                                              "64-bit integer, with at most 38 significant digits)",
                                              q);
                return manifest_error(c, -EINVAL,
                                      "%s is not a valid quantity (a non-negative decimal number, optionally "
                                      "followed by m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or e<exponent>)",
                                      q);
        }
        return 0;
}

static int get_quantity(ManifestContext *c, const json_t *o, const char *key, Quantity *ret) {
        json_t *v;
        size_t saved;
        int r;

        r = manifest_field(c, o, key, 0, &v);
        if (r <= 0)
                return r;
        saved = manifest_path_push_key(c, key);
        r = quantity_value(c, v, ret);
        manifest_path_pop(c, saved);
        return r < 0 ? r : 1;
}

/* resource/cpu and resource/memory: {request?, limit?, default?} with default
 * false; the bandwidth/iops kinds: {default: true, limit?} and no request. */
static int resource_value(ManifestContext *c, const json_t *v, Isolator *iso) {
        static const char *const keys[] = { "request", "limit", "default", NULL };
        bool fixed_default = iso->kind == ISOLATOR_RESOURCE_CPU || iso->kind == ISOLATOR_RESOURCE_MEMORY;
        bool def = false;
        json_t *j;
        size_t saved;
        int r;

        r = manifest_check_object(c, v, keys);
        if (r < 0)
                return r;
        r = manifest_get_bool(c, v, "default", fixed_default ? 0 : MANIFEST_REQUIRED, &def);
        if (r < 0)
                return r;
        if (def != !fixed_default) {
                saved = manifest_path_push_key(c, "default");
                r = manifest_error(c, -EINVAL, "must be %s for %s", fixed_default ? "false" : "true",
                                   kind_name(iso->kind));
                manifest_path_pop(c, saved);
                return r;
        }
        if (!fixed_default) {
                r = manifest_field(c, v, "request", 0, &j);
                if (r > 0) {
                        saved = manifest_path_push_key(c, "request");
                        r = manifest_error(c, -EINVAL, "is not supported by %s, only limit is",
                                           kind_name(iso->kind));
                        manifest_path_pop(c, saved);
                        return r;
                }
        }
        r = get_quantity(c, v, "request", &iso->resource.request);
        if (r < 0)
                return r;
        r = get_quantity(c, v, "limit", &iso->resource.limit);
        return r < 0 ? r : 0;
}

static bool errno_name_is_valid(const char *s) {
        /* appc: 'E' then upper-case letters or digits (Go's unicode.IsUpper,
         * which we narrow to ASCII: errno names are ASCII). */
        if (s[0] != 'E' || !s[1])
                return false;
        for (s++; *s; s++)
                if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
                        return false;
        return true;
}

static int seccomp_value(ManifestContext *c, const json_t *v, Isolator *iso) {
        static const char *const keys[] = { "set", "errno", NULL };
        _cleanup_free_ char *e = NULL;
        int r;

        r = manifest_check_object(c, v, keys);
        if (r < 0)
                return r;
        r = manifest_get_strv(c, v, "set", MANIFEST_REQUIRED | MANIFEST_NONEMPTY, &iso->seccomp.set);
        if (r < 0)
                return r;
        r = manifest_get_string(c, v, "errno", 0, &e);
        if (r < 0)
                return r;
        /* An empty errno means "kill", the default, as in appc. */
        if (e && *e) {
                if (!errno_name_is_valid(e)) {
                        _cleanup_free_ char *q = manifest_quote(e);
                        size_t saved = manifest_path_push_key(c, "errno");

                        if (!q)
                                return -ENOMEM;
                        r = manifest_error(c, -EINVAL,
                                           "%s is not an errno name ('E' followed by upper-case letters or "
                                           "digits, e.g. \"EPERM\")",
                                           q);
                        manifest_path_pop(c, saved);
                        return r;
                }
                iso->seccomp.errno_name = TAKE_PTR(e);
        }
        return 0;
}

static int selinux_value(ManifestContext *c, const json_t *v, Isolator *iso) {
        static const char *const keys[] = { "user", "role", "type", "level", NULL };
        struct {
                const char *key;
                char **field;
                bool colon_ok; /* the level is an MLS range, "s0:c1,c2" */
        } parts[] = {
                { "user", &iso->selinux.user, false },
                { "role", &iso->selinux.role, false },
                { "type", &iso->selinux.type, false },
                { "level", &iso->selinux.level, true },
        };
        int r;

        r = manifest_check_object(c, v, keys);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                r = manifest_get_string(c, v, parts[i].key, MANIFEST_REQUIRED | MANIFEST_NONEMPTY, parts[i].field);
                if (r < 0)
                        return r;
                if (!parts[i].colon_ok && strchr(*parts[i].field, ':')) {
                        size_t saved = manifest_path_push_key(c, parts[i].key);

                        r = manifest_error(c, -EINVAL, "must not contain ':'");
                        manifest_path_pop(c, saved);
                        return r;
                }
        }
        return 0;
}

static int isolator_value(ManifestContext *c, const json_t *v, Isolator *iso) {
        static const char *const set_keys[] = { "set", NULL };
        static const char *const profile_keys[] = { "profile", NULL };
        int64_t n;
        int r;

        switch (iso->kind) {
        case ISOLATOR_RESOURCE_CPU:
        case ISOLATOR_RESOURCE_MEMORY:
        case ISOLATOR_RESOURCE_BLOCK_BANDWIDTH:
        case ISOLATOR_RESOURCE_BLOCK_IOPS:
        case ISOLATOR_RESOURCE_NETWORK_BANDWIDTH:
                return resource_value(c, v, iso);
        case ISOLATOR_CAPABILITIES_RETAIN:
        case ISOLATOR_CAPABILITIES_REMOVE:
                /* Names are checked against the kernel's list by lib/isolator.c. */
                r = manifest_check_object(c, v, set_keys);
                if (r < 0)
                        return r;
                r = manifest_get_strv(c, v, "set", MANIFEST_REQUIRED | MANIFEST_NONEMPTY, &iso->caps);
                return r < 0 ? r : 0;
        case ISOLATOR_SECCOMP_RETAIN:
        case ISOLATOR_SECCOMP_REMOVE:
                return seccomp_value(c, v, iso);
        case ISOLATOR_NO_NEW_PRIVILEGES:
                return manifest_bool(c, v, &iso->no_new_privileges);
        case ISOLATOR_OOM_SCORE_ADJ:
                r = manifest_int(c, v, -1000, 1000, &n);
                if (r >= 0)
                        iso->integer = n;
                return r;
        case ISOLATOR_CPU_SHARES:
                r = manifest_int(c, v, 2, 262144, &n);
                if (r >= 0)
                        iso->integer = n;
                return r;
        case ISOLATOR_SELINUX_CONTEXT:
                return selinux_value(c, v, iso);
        case ISOLATOR_APPARMOR_PROFILE:
                r = manifest_check_object(c, v, profile_keys);
                if (r < 0)
                        return r;
                r = manifest_get_string(c, v, "profile", MANIFEST_REQUIRED | MANIFEST_NONEMPTY,
                                        &iso->apparmor_profile);
                return r < 0 ? r : 0;
        case ISOLATOR_SYSCTL:
                return manifest_string_map(c, v, &iso->sysctl.items, &iso->sysctl.n_items);
        case _ISOLATOR_KIND_MAX:
        default:
                return -EINVAL;
        }
}

static void isolator_done(Isolator *iso) {
        switch (iso->kind) {
        case ISOLATOR_RESOURCE_CPU:
        case ISOLATOR_RESOURCE_MEMORY:
        case ISOLATOR_RESOURCE_BLOCK_BANDWIDTH:
        case ISOLATOR_RESOURCE_BLOCK_IOPS:
        case ISOLATOR_RESOURCE_NETWORK_BANDWIDTH:
                quantity_done(&iso->resource.request);
                quantity_done(&iso->resource.limit);
                break;
        case ISOLATOR_CAPABILITIES_RETAIN:
        case ISOLATOR_CAPABILITIES_REMOVE:
                strv_free(iso->caps);
                break;
        case ISOLATOR_SECCOMP_RETAIN:
        case ISOLATOR_SECCOMP_REMOVE:
                strv_free(iso->seccomp.set);
                free(iso->seccomp.errno_name);
                break;
        case ISOLATOR_SELINUX_CONTEXT:
                free(iso->selinux.user);
                free(iso->selinux.role);
                free(iso->selinux.type);
                free(iso->selinux.level);
                break;
        case ISOLATOR_APPARMOR_PROFILE:
                free(iso->apparmor_profile);
                break;
        case ISOLATOR_SYSCTL:
                manifest_name_values_free(iso->sysctl.items, iso->sysctl.n_items);
                break;
        case ISOLATOR_NO_NEW_PRIVILEGES:
        case ISOLATOR_OOM_SCORE_ADJ:
        case ISOLATOR_CPU_SHARES:
        case _ISOLATOR_KIND_MAX:
        default:
                break;
        }
}

void manifest_isolators_free(Isolator *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                isolator_done(&l[i]);
        free(l);
}

static int isolator(ManifestContext *c, const json_t *o, Isolator *iso, size_t *ret_table_index) {
        static const char *const keys[] = { "name", "value", NULL };
        _cleanup_free_ char *name = NULL;
        json_t *v;
        size_t saved;
        int r, idx;

        r = manifest_check_object(c, o, keys);
        if (r < 0)
                return r;
        r = manifest_get_string(c, o, "name", MANIFEST_REQUIRED, &name);
        if (r < 0)
                return r;
        idx = (int) isolator_kind_from_string(name);
        if (idx < 0) {
                /* appc decodes unknown names and then refuses them inside an app
                 * ("invalid isolator"); we refuse them everywhere. */
                _cleanup_free_ char *q = manifest_quote(name);

                if (!q)
                        return -ENOMEM;
                saved = manifest_path_push_key(c, "name");
                r = manifest_error(c, -EINVAL, "%s is not a known isolator%s", q,
                                   acidentifier_is_valid(name) ? "" : " (nor a valid ACIdentifier)");
                manifest_path_pop(c, saved);
                return r;
        }
        iso->kind = (IsolatorKind) idx;
        *ret_table_index = (size_t) idx;

        /* A missing or null value makes actool 0.8.11 crash (nil dereference);
         * for us it is simply required. */
        r = manifest_field(c, o, "value", MANIFEST_REQUIRED, &v);
        if (r < 0)
                return r;
        saved = manifest_path_push_key(c, "value");
        r = isolator_value(c, v, iso);
        manifest_path_pop(c, saved);
        return r;
}

int manifest_isolators(ManifestContext *c, const json_t *v, Isolator **ret, size_t *ret_n) {
        size_t n, first[_ISOLATOR_KIND_MAX];
        int r;

        if (!json_is_array(v))
                return manifest_type_error(c, v, "an array of isolators");
        n = json_array_size(v);
        if (n == 0)
                return 0;
        /* Filled in place, so that the owner frees whatever was parsed on error. */
        *ret = calloc(n, sizeof(Isolator));
        if (!*ret)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(first); i++)
                first[i] = SIZE_MAX;

        for (size_t i = 0; i < n; i++) {
                size_t saved = manifest_path_push_index(c, i), t = 0;
                int o;

                (*ret_n)++;
                r = isolator(c, json_array_get(v, i), &(*ret)[i], &t);
                if (r < 0)
                        return r;
                if (first[t] != SIZE_MAX && !multiple_allowed[t])
                        return manifest_error(c, -EINVAL,
                                              "a second %s isolator (the first is [%zu]); only one is allowed",
                                              kind_name((IsolatorKind) t), first[t]);
                o = conflicting_kind((*ret)[i].kind);
                if (o >= 0 && first[o] != SIZE_MAX)
                        return manifest_error(c, -EINVAL,
                                              "%s conflicts with the %s isolator at [%zu]; use one or the other",
                                              kind_name((IsolatorKind) t), kind_name((IsolatorKind) o), first[o]);
                if (first[t] == SIZE_MAX)
                        first[t] = i;
                manifest_path_pop(c, saved);
        }
        return 0;
}
