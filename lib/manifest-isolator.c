/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
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

/* ---- rkt's per-app run options as isolators ------------------------------- */

static void context_done_isolator(ManifestContext *c) {
        strbuf_done(&c->path);
}

/* "A,B,C" as a JSON array of strings (empty items refused). */
static json_t *comma_list(const char *s) {
        _cleanup_json_ json_t *a = json_array();
        const char *p = s;

        if (!a)
                return NULL;
        for (;;) {
                size_t n = strcspn(p, ",");

                if (n == 0 || json_array_append_new(a, json_stringn(p, n)) < 0)
                        return NULL;
                if (!p[n])
                        break;
                p += n + 1;
        }
        return TAKE_PTR(a);
}

/* --seccomp=mode=retain|remove[,errno=ENAME],SET…: the isolator's value. */
static int seccomp_option(ManifestContext *c, const char *value, const char **ret_name, json_t **ret) {
        _cleanup_json_ json_t *o = json_object(), *set = NULL;
        const char *rest;

        if (!o)
                return -ENOMEM;
        if (strncmp(value, "mode=retain,", 12) == 0) {
                *ret_name = "os/linux/seccomp-retain-set";
                rest = value + 12;
        } else if (strncmp(value, "mode=remove,", 12) == 0) {
                *ret_name = "os/linux/seccomp-remove-set";
                rest = value + 12;
        } else
                return manifest_error(c, -EINVAL, "expected mode=retain or mode=remove, then the system calls "
                                                  "(mode=retain,[errno=ENAME,]NAME,…)");
        if (strncmp(rest, "errno=", 6) == 0) {
                size_t n = strcspn(rest + 6, ",");

                if (json_object_set_new(o, "errno", json_stringn(rest + 6, n)) < 0)
                        return -ENOMEM;
                rest += 6 + n + (rest[6 + n] == ',');
        }
        set = *rest ? comma_list(rest) : NULL;
        if (!set)
                return manifest_error(c, -EINVAL, "expected a comma-separated list of system calls and "
                                                  "wildcards (@rkt/default-whitelist, …) after the mode");
        if (json_object_set_new(o, "set", TAKE_PTR(set)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}

static int isolator_from_option(const char *option, const char *value, Isolator *ret, NpError *err) {
        _cleanup_(context_done_isolator) ManifestContext c = { .err = err };
        _cleanup_json_ json_t *o = json_object(), *v = NULL;
        const char *name = NULL;
        size_t t;
        int r;

        strbuf_printf(&c.path, "--%s", option);
        if (!o || strbuf_error(&c.path) < 0)
                return -ENOMEM;
        if (strcmp(option, "memory") == 0 || strcmp(option, "cpu") == 0) {
                name = option[0] == 'm' ? "resource/memory" : "resource/cpu";
                /* rkt's: the request is the limit. */
                v = json_pack("{s:s,s:s}", "request", value, "limit", value);
        } else if (strcmp(option, "cpu-shares") == 0 || strcmp(option, "oom-score-adj") == 0) {
                char *end = NULL;
                long long n;

                errno = 0;
                n = strtoll(value, &end, 10);
                if (!*value || *end || errno != 0)
                        return manifest_error(&c, -EINVAL, "\"%s\" is not an integer", value);
                name = option[0] == 'c' ? "os/linux/cpu-shares" : "os/linux/oom-score-adj";
                v = json_integer(n);
        } else if (strcmp(option, "caps-retain") == 0 || strcmp(option, "caps-remove") == 0) {
                _cleanup_json_ json_t *set = comma_list(value);

                if (!set)
                        return manifest_error(&c, -EINVAL, "expected a comma-separated list of capabilities "
                                                           "(CAP_NET_ADMIN,CAP_SYS_TIME)");
                name = option[5] == 'r' && option[7] == 't' ? "os/linux/capabilities-retain-set"
                                                             : "os/linux/capabilities-remove-set";
                v = json_pack("{s:O}", "set", set);
        } else if (strcmp(option, "seccomp") == 0) {
                r = seccomp_option(&c, value, &name, &v);
                if (r < 0)
                        return r;
        } else
                return -EINVAL;
        if (!v || json_object_set_new(o, "name", json_string(name)) < 0 ||
            json_object_set_new(o, "value", TAKE_PTR(v)) < 0)
                return -ENOMEM;
        *ret = (Isolator){};
        r = isolator(&c, o, ret, &t);
        if (r < 0)
                isolator_done(ret);
        return r;
}

/* The kinds an option's isolator replaces in the image's list. */
static bool same_family(IsolatorKind a, IsolatorKind b) {
        static const IsolatorKind pairs[][2] = {
                { ISOLATOR_CAPABILITIES_RETAIN, ISOLATOR_CAPABILITIES_REMOVE },
                { ISOLATOR_SECCOMP_RETAIN, ISOLATOR_SECCOMP_REMOVE },
        };

        if (a == b)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(pairs); i++)
                if ((a == pairs[i][0] && b == pairs[i][1]) || (a == pairs[i][1] && b == pairs[i][0]))
                        return true;
        return false;
}

int manifest_app_set_isolator_option(App *a, const char *option, const char *value, NpError *err) {
        Isolator iso = {}, *grown;
        size_t k = 0;
        int r;

        r = isolator_from_option(option, value, &iso, err);
        if (r < 0)
                return r;
        {
                /* What the run would refuse (ranges, names), refused now,
                 * before a pod exists, and said of the option. */
                _cleanup_(isolator_settings_done) IsolatorSettings check = {};
                _cleanup_error_ NpError e = NP_ERROR_INIT;

                r = isolator_settings_resolve(&iso, 1, 0, "", &check, &e);
                if (r < 0) {
                        const char *m = error_format(&e, r), *colon = strstr(m, ": ");

                        isolator_done(&iso);
                        return r == -ENOMEM ? r : error_set(err, r, NULL, "--%s=%s: %s", option, value,
                                                            colon ? colon + 2 : m);
                }
        }
        for (size_t i = 0; i < a->n_isolators; i++)
                if (same_family(a->isolators[i].kind, iso.kind))
                        isolator_done(&a->isolators[i]);
                else
                        a->isolators[k++] = a->isolators[i];
        a->n_isolators = k;
        grown = reallocarray(a->isolators, k + 1, sizeof(Isolator));
        if (!grown) {
                isolator_done(&iso);
                return -ENOMEM;
        }
        a->isolators = grown;
        a->isolators[a->n_isolators++] = iso;
        return 0;
}
