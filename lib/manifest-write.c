/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "isolator.h"
#include "manifest-internal.h"
#include "names.h"
#include "strbuf.h"
#include "strv.h"

/*
 * The inverse of lib/manifest.c: a Pod or Image model back to appc 0.8.11
 * JSON, plus deep copies of the parts the `run` verb assembles a pod from.
 *
 * The output is what appc's Go encoder would write, made deterministic and
 * quieter: keys in the order of appc's Go structs (schema/pod.go,
 * schema/image.go, schema/types/…), fields tagged omitempty left out when
 * empty, false or zero, and — where Go would write `null` for a nil slice —
 * empty arrays left out too (our parser reads absent, null and [] alike).
 * Objects whose key order carries no meaning (userAnnotations, userLabels,
 * os/unix/sysctl) are sorted by key. Writing what the parser produced and
 * parsing it again gives the same model, and writing that gives the same
 * bytes (tests/unit/test-manifest-write.c holds both properties over the
 * corpus and the golden cases).
 *
 * The writer checks the invariants the model relies on (required strings
 * present, kinds in range, sets non-empty, values representable), not the
 * appc syntax rules: a caller that built a model by hand validates it by
 * parsing the output, which is the one place those rules live.
 */



/* ---- values ------------------------------------------------------------------------------- */

/* A model string as a JSON string. The parser only produces valid UTF-8, but
 * a model built by hand may not: that is the model's fault (-EINVAL), and
 * checking first keeps jansson's NULL meaning out of memory only. */
static int string_new(const char *s, json_t **ret) {
        json_t *v;

        if (!s || !utf8_is_valid(s, strlen(s)))
                return -EINVAL;
        v = json_string_nocheck(s);
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

/* Hands `v` to `o` under a key of ours (ASCII, constant). A NULL `v` is a
 * failed jansson constructor; *_set_new() consumes `v` even when it fails. */
static int put(json_t *o, const char *key, json_t *v) {
        if (!v)
                return -ENOMEM;
        return json_object_set_new_nocheck(o, key, v) < 0 ? -ENOMEM : 0;
}

static int append(json_t *a, json_t *v) {
        if (!v)
                return -ENOMEM;
        return json_array_append_new(a, v) < 0 ? -ENOMEM : 0;
}

static int put_string(json_t *o, const char *key, const char *s) {
        json_t *v;
        int r;

        r = string_new(s, &v);
        if (r < 0)
                return r;
        return put(o, key, v);
}

static int put_string_opt(json_t *o, const char *key, const char *s) {
        return s ? put_string(o, key, s) : 0;
}

static int put_int(json_t *o, const char *key, int64_t n) {
        return put(o, key, json_integer((json_int_t) n));
}

static int put_bool(json_t *o, const char *key, bool b) {
        return put(o, key, json_boolean(b));
}

/* -1 is unset (omitted); anything but -1, 0 and 1 is a broken model. */
static int put_tristate(json_t *o, const char *key, int b) {
        if (b == -1)
                return 0;
        if (b != 0 && b != 1)
                return -EINVAL;
        return put_bool(o, key, b);
}

/* Quantities go back as the text they were written as: "500m" stays "500m"
 * and a JSON number (which the parser kept as its shortest decimal text)
 * becomes the equivalent string, which is the appc form. */
static int put_quantity(json_t *o, const char *key, const Quantity *q) {
        if (!q->set)
                return 0;
        return put_string(o, key, q->text);
}

static int strv_to_json(char *const *l, json_t **ret) {
        _cleanup_json_ json_t *a = json_array();
        int r;

        if (!a)
                return -ENOMEM;
        STRV_FOREACH (s, l) {
                json_t *v;

                r = string_new(*s, &v);
                if (r < 0)
                        return r;
                r = append(a, v);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(a);
        return 0;
}

/* Omitted when empty: the parser reads an absent list as an empty one. */
static int put_strv_opt(json_t *o, const char *key, char *const *l) {
        json_t *a;
        int r;

        if (strv_length(l) == 0)
                return 0;
        r = strv_to_json(l, &a);
        if (r < 0)
                return r;
        return put(o, key, a);
}

/* Labels, annotations, environment: [{"name": …, "value": …}, …] in model
 * order (for the environment the order is meaningful). */
static int put_name_values_opt(json_t *o, const char *key, const NameValue *l, size_t n) {
        _cleanup_json_ json_t *a = NULL;
        int r;

        if (n == 0)
                return 0;
        a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_json_ json_t *e = json_object();

                if (!e)
                        return -ENOMEM;
                r = put_string(e, "name", l[i].name);
                if (r < 0)
                        return r;
                r = put_string(e, "value", l[i].value);
                if (r < 0)
                        return r;
                r = append(a, TAKE_PTR(e));
                if (r < 0)
                        return r;
        }
        return put(o, key, TAKE_PTR(a));
}

static int name_value_ptr_cmp(const void *a, const void *b) {
        return strcmp((*(const NameValue *const *) a)->name, (*(const NameValue *const *) b)->name);
}

/* {"name": "value", …} sorted by name: the parser sorts these maps, but a
 * model built by hand need not be, and the output must not depend on it. */
static int string_map_to_json(const NameValue *l, size_t n, json_t **ret) {
        _cleanup_free_ const NameValue **sorted = NULL;
        _cleanup_json_ json_t *o = json_object();
        int r;

        if (!o)
                return -ENOMEM;
        if (n > 0) {
                sorted = calloc(n, sizeof(NameValue *));
                if (!sorted)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                if (!l[i].name || !utf8_is_valid(l[i].name, strlen(l[i].name)))
                        return -EINVAL;
                sorted[i] = &l[i];
        }
        if (n > 1)
                qsort(sorted, n, sizeof(NameValue *), name_value_ptr_cmp);
        for (size_t i = 0; i < n; i++) {
                json_t *v;

                /* A repeated key would silently replace the earlier value. */
                if (i > 0 && strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
                        return -EINVAL;
                r = string_new(sorted[i]->value, &v);
                if (r < 0)
                        return r;
                if (json_object_set_new_nocheck(o, sorted[i]->name, v) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static int put_string_map_opt(json_t *o, const char *key, const NameValue *l, size_t n) {
        json_t *m;
        int r;

        if (n == 0)
                return 0;
        r = string_map_to_json(l, n, &m);
        if (r < 0)
                return r;
        return put(o, key, m);
}

/* Builds one JSON object from one model element. */
typedef int (*ElementWriter)(const void *item, json_t *o);

static int object_new(const void *item, ElementWriter w, json_t **ret) {
        _cleanup_json_ json_t *o = json_object();
        int r;

        if (!o)
                return -ENOMEM;
        r = w(item, o);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int put_object(json_t *o, const char *key, const void *item, ElementWriter w) {
        json_t *v;
        int r;

        r = object_new(item, w, &v);
        if (r < 0)
                return r;
        return put(o, key, v);
}

/* An array of `n` elements of `size` bytes, each written by `w`. */
static int objects_to_json(const void *items, size_t n, size_t size, ElementWriter w, json_t **ret) {
        _cleanup_json_ json_t *a = json_array();
        int r;

        if (!a)
                return -ENOMEM;
        if (n > 0 && !items)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                json_t *v;

                r = object_new((const char *) items + i * size, w, &v);
                if (r < 0)
                        return r;
                r = append(a, v);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(a);
        return 0;
}

static int put_objects_opt(json_t *o, const char *key, const void *items, size_t n, size_t size,
                           ElementWriter w) {
        json_t *a;
        int r;

        if (n == 0)
                return 0;
        r = objects_to_json(items, n, size, w, &a);
        if (r < 0)
                return r;
        return put(o, key, a);
}

/* ElementWriter adapters for the typed writers below. */
#define DEFINE_ELEMENT_WRITER(name, type)                                                            \
        static int name##_item(const void *item, json_t *o) {                                      \
                return name((const type *) item, o);                                                 \
        }

/* ---- isolators ---------------------------------------------------------------------------- */

static int put_set(json_t *o, char *const *set) {
        json_t *a;
        int r;

        /* The parser requires a non-empty set; an empty one would not read back. */
        if (strv_length(set) == 0)
                return -EINVAL;
        r = strv_to_json(set, &a);
        if (r < 0)
                return r;
        return put(o, "set", a);
}

/* The value shapes of the appc spec, "Isolators" (keys in Go struct order). */
static int isolator_value(const Isolator *iso, json_t **ret) {
        _cleanup_json_ json_t *v = NULL;
        int r;

        switch (iso->kind) {
        case ISOLATOR_RESOURCE_CPU:
        case ISOLATOR_RESOURCE_MEMORY:
                /* "default" must be false here, which is also what its absence means. */
                v = json_object();
                if (!v)
                        return -ENOMEM;
                r = put_quantity(v, "request", &iso->resource.request);
                if (r < 0)
                        return r;
                r = put_quantity(v, "limit", &iso->resource.limit);
                break;
        case ISOLATOR_RESOURCE_BLOCK_BANDWIDTH:
        case ISOLATOR_RESOURCE_BLOCK_IOPS:
        case ISOLATOR_RESOURCE_NETWORK_BANDWIDTH:
                /* These carry a limit only, and appc requires "default": true. */
                if (iso->resource.request.set)
                        return -EINVAL;
                v = json_object();
                if (!v)
                        return -ENOMEM;
                r = put_bool(v, "default", true);
                if (r < 0)
                        return r;
                r = put_quantity(v, "limit", &iso->resource.limit);
                break;
        case ISOLATOR_CAPABILITIES_RETAIN:
        case ISOLATOR_CAPABILITIES_REMOVE:
                v = json_object();
                if (!v)
                        return -ENOMEM;
                r = put_set(v, iso->caps);
                break;
        case ISOLATOR_SECCOMP_RETAIN:
        case ISOLATOR_SECCOMP_REMOVE:
                v = json_object();
                if (!v)
                        return -ENOMEM;
                r = put_set(v, iso->seccomp.set);
                if (r < 0)
                        return r;
                /* An empty errno means the default (kill), as does none. */
                r = put_string_opt(v, "errno",
                                   iso->seccomp.errno_name && *iso->seccomp.errno_name ? iso->seccomp.errno_name
                                                                                       : NULL);
                break;
        case ISOLATOR_NO_NEW_PRIVILEGES:
                v = json_boolean(iso->no_new_privileges);
                r = v ? 0 : -ENOMEM;
                break;
        case ISOLATOR_OOM_SCORE_ADJ:
        case ISOLATOR_CPU_SHARES:
                v = json_integer((json_int_t) iso->integer);
                r = v ? 0 : -ENOMEM;
                break;
        case ISOLATOR_SELINUX_CONTEXT:
                v = json_object();
                if (!v)
                        return -ENOMEM;
                r = put_string(v, "user", iso->selinux.user);
                if (r >= 0)
                        r = put_string(v, "role", iso->selinux.role);
                if (r >= 0)
                        r = put_string(v, "type", iso->selinux.type);
                if (r >= 0)
                        r = put_string(v, "level", iso->selinux.level);
                break;
        case ISOLATOR_APPARMOR_PROFILE:
                v = json_object();
                if (!v)
                        return -ENOMEM;
                r = put_string(v, "profile", iso->apparmor_profile);
                break;
        case ISOLATOR_SYSCTL:
                r = string_map_to_json(iso->sysctl.items, iso->sysctl.n_items, &v);
                break;
        case _ISOLATOR_KIND_MAX:
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

static int isolator(const Isolator *iso, json_t *o) {
        json_t *v;
        int r;

        if ((unsigned) iso->kind >= _ISOLATOR_KIND_MAX)
                return -EINVAL;
        r = put_string(o, "name", isolator_kind_to_string(iso->kind));
        if (r < 0)
                return r;
        r = isolator_value(iso, &v);
        if (r < 0)
                return r;
        return put(o, "value", v);
}

DEFINE_ELEMENT_WRITER(isolator, Isolator)

/* ---- App ---------------------------------------------------------------------------------- */

static int event_handler(const EventHandler *e, json_t *o) {
        int r;

        r = put_string(o, "name", e->name);
        if (r < 0)
                return r;
        /* Required and non-empty for a handler, unlike an app's exec. */
        if (strv_length(e->exec) == 0)
                return -EINVAL;
        return put_strv_opt(o, "exec", e->exec);
}

static int mount_point(const MountPoint *m, json_t *o) {
        int r;

        r = put_string(o, "name", m->name);
        if (r < 0)
                return r;
        r = put_string(o, "path", m->path);
        if (r < 0)
                return r;
        /* omitempty in appc */
        return m->read_only ? put_bool(o, "readOnly", true) : 0;
}

static int port(const Port *p, json_t *o) {
        int r;

        r = put_string(o, "name", p->name);
        if (r < 0)
                return r;
        r = put_string(o, "protocol", p->protocol);
        if (r < 0)
                return r;
        r = put_int(o, "port", p->port);
        if (r < 0)
                return r;
        /* A count of 0 means 1 in appc; the model keeps it as 1, and writing
         * it so makes a hand-built 0 read back the same. */
        r = put_int(o, "count", p->count == 0 ? 1 : p->count);
        if (r < 0)
                return r;
        return put_bool(o, "socketActivated", p->socket_activated);
}

DEFINE_ELEMENT_WRITER(event_handler, EventHandler)
DEFINE_ELEMENT_WRITER(mount_point, MountPoint)
DEFINE_ELEMENT_WRITER(port, Port)

static int app(const App *a, json_t *o) {
        int r;

        /* An image's app may have no exec; absent reads back as empty. */
        r = put_strv_opt(o, "exec", a->exec);
        if (r < 0)
                return r;
        r = put_objects_opt(o, "eventHandlers", a->event_handlers, a->n_event_handlers, sizeof(EventHandler),
                            event_handler_item);
        if (r < 0)
                return r;
        r = put_string(o, "user", a->user);
        if (r < 0)
                return r;
        r = put_string(o, "group", a->group);
        if (r < 0)
                return r;
        if (a->n_supplementary_gids > 0) {
                _cleanup_json_ json_t *gids = json_array();

                if (!gids || !a->supplementary_gids)
                        return gids ? -EINVAL : -ENOMEM;
                for (size_t i = 0; i < a->n_supplementary_gids; i++) {
                        r = append(gids, json_integer((json_int_t) a->supplementary_gids[i]));
                        if (r < 0)
                                return r;
                }
                r = put(o, "supplementaryGIDs", TAKE_PTR(gids));
                if (r < 0)
                        return r;
        }
        r = put_string_opt(o, "workingDirectory", a->working_directory);
        if (r < 0)
                return r;
        r = put_name_values_opt(o, "environment", a->environment, a->n_environment);
        if (r < 0)
                return r;
        r = put_objects_opt(o, "mountPoints", a->mount_points, a->n_mount_points, sizeof(MountPoint),
                            mount_point_item);
        if (r < 0)
                return r;
        r = put_objects_opt(o, "ports", a->ports, a->n_ports, sizeof(Port), port_item);
        if (r < 0)
                return r;
        r = put_objects_opt(o, "isolators", a->isolators, a->n_isolators, sizeof(Isolator), isolator_item);
        if (r < 0)
                return r;
        r = put_string_map_opt(o, "userAnnotations", a->user_annotations, a->n_user_annotations);
        if (r < 0)
                return r;
        return put_string_map_opt(o, "userLabels", a->user_labels, a->n_user_labels);
}

DEFINE_ELEMENT_WRITER(app, App)

/* ---- PodManifest -------------------------------------------------------------------------- */

static int volume(const Volume *v, json_t *o) {
        int r;

        r = put_string(o, "name", v->name);
        if (r < 0)
                return r;
        switch (v->kind) {
        case VOLUME_HOST:
                r = put_string(o, "kind", "host");
                if (r < 0)
                        return r;
                r = put_string(o, "source", v->source);
                break;
        case VOLUME_EMPTY:
                /* The parser refuses a source on an empty volume. */
                r = v->source ? -EINVAL : put_string(o, "kind", "empty");
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;
        r = put_tristate(o, "readOnly", v->read_only);
        if (r < 0)
                return r;
        r = put_tristate(o, "recursive", v->recursive);
        if (r < 0)
                return r;
        if (v->kind == VOLUME_EMPTY) {
                char mode[8];

                /* The model cannot tell a given mode, uid or gid from appc's
                 * defaults (0755, 0, 0), so they are always written: explicit
                 * and equivalent. The mode is an octal string in appc. */
                if (v->mode > 07777)
                        return -EINVAL;
                (void) snprintf(mode, sizeof mode, "%04o", (unsigned) v->mode);
                r = put_string(o, "mode", mode);
                if (r < 0)
                        return r;
                r = put_int(o, "uid", v->uid);
                if (r < 0)
                        return r;
                r = put_int(o, "gid", v->gid);
        }
        return r;
}

DEFINE_ELEMENT_WRITER(volume, Volume)

static int mount_entry(const Mount *m, json_t *o) {
        int r;

        r = put_string(o, "volume", m->volume);
        if (r < 0)
                return r;
        r = put_string(o, "path", m->path);
        if (r < 0)
                return r;
        return m->app_volume ? put_object(o, "appVolume", m->app_volume, volume_item) : 0;
}

DEFINE_ELEMENT_WRITER(mount_entry, Mount)

static int image_ref(const ImageRef *img, json_t *o) {
        int r;

        r = put_string_opt(o, "name", img->name);
        if (r < 0)
                return r;
        r = put_string(o, "id", img->id);
        if (r < 0)
                return r;
        return put_name_values_opt(o, "labels", img->labels, img->n_labels);
}

DEFINE_ELEMENT_WRITER(image_ref, ImageRef)

static int runtime_app(const RuntimeApp *ra, json_t *o) {
        int r;

        r = put_string(o, "name", ra->name);
        if (r < 0)
                return r;
        r = put_object(o, "image", &ra->image, image_ref_item);
        if (r < 0)
                return r;
        if (ra->app) {
                r = put_object(o, "app", ra->app, app_item);
                if (r < 0)
                        return r;
        }
        /* omitempty in appc */
        if (ra->read_only_root_fs) {
                r = put_bool(o, "readOnlyRootFS", true);
                if (r < 0)
                        return r;
        }
        r = put_objects_opt(o, "mounts", ra->mounts, ra->n_mounts, sizeof(Mount), mount_entry_item);
        if (r < 0)
                return r;
        return put_name_values_opt(o, "annotations", ra->annotations, ra->n_annotations);
}

DEFINE_ELEMENT_WRITER(runtime_app, RuntimeApp)

static int exposed_port(const ExposedPort *p, json_t *o) {
        int r;

        r = put_string(o, "name", p->name);
        if (r < 0)
                return r;
        r = put_int(o, "hostPort", p->host_port);
        if (r < 0)
                return r;
        r = put_string_opt(o, "hostIP", p->host_ip);
        if (r < 0)
                return r;
        return p->pod_port ? put_object(o, "podPort", p->pod_port, port_item) : 0;
}

DEFINE_ELEMENT_WRITER(exposed_port, ExposedPort)

static int pod(const Pod *p, json_t *o) {
        json_t *apps;
        int r;

        r = put_string(o, "acVersion", p->ac_version);
        if (r < 0)
                return r;
        r = put_string(o, "acKind", "PodManifest");
        if (r < 0)
                return r;
        /* Required, so written even when empty. */
        r = objects_to_json(p->apps, p->n_apps, sizeof(RuntimeApp), runtime_app_item, &apps);
        if (r < 0)
                return r;
        r = put(o, "apps", apps);
        if (r < 0)
                return r;
        r = put_objects_opt(o, "volumes", p->volumes, p->n_volumes, sizeof(Volume), volume_item);
        if (r < 0)
                return r;
        r = put_objects_opt(o, "isolators", p->isolators, p->n_isolators, sizeof(Isolator), isolator_item);
        if (r < 0)
                return r;
        r = put_name_values_opt(o, "annotations", p->annotations, p->n_annotations);
        if (r < 0)
                return r;
        r = put_objects_opt(o, "ports", p->ports, p->n_ports, sizeof(ExposedPort), exposed_port_item);
        if (r < 0)
                return r;
        r = put_string_map_opt(o, "userAnnotations", p->user_annotations, p->n_user_annotations);
        if (r < 0)
                return r;
        return put_string_map_opt(o, "userLabels", p->user_labels, p->n_user_labels);
}

DEFINE_ELEMENT_WRITER(pod, Pod)

/* ---- ImageManifest ------------------------------------------------------------------------ */

static int dependency(const Dependency *d, json_t *o) {
        int r;

        r = put_string(o, "imageName", d->image_name);
        if (r < 0)
                return r;
        r = put_string_opt(o, "imageID", d->image_id);
        if (r < 0)
                return r;
        r = put_name_values_opt(o, "labels", d->labels, d->n_labels);
        if (r < 0)
                return r;
        /* omitempty in appc; JSON integers are signed 64-bit for jansson and us. */
        if (d->size > INT64_MAX)
                return -EINVAL;
        return d->size > 0 ? put_int(o, "size", (int64_t) d->size) : 0;
}

DEFINE_ELEMENT_WRITER(dependency, Dependency)

static int image(const Image *img, json_t *o) {
        int r;

        r = put_string(o, "acKind", "ImageManifest");
        if (r < 0)
                return r;
        r = put_string(o, "acVersion", img->ac_version);
        if (r < 0)
                return r;
        r = put_string(o, "name", img->name);
        if (r < 0)
                return r;
        r = put_name_values_opt(o, "labels", img->labels, img->n_labels);
        if (r < 0)
                return r;
        if (img->app) {
                r = put_object(o, "app", img->app, app_item);
                if (r < 0)
                        return r;
        }
        r = put_name_values_opt(o, "annotations", img->annotations, img->n_annotations);
        if (r < 0)
                return r;
        r = put_objects_opt(o, "dependencies", img->dependencies, img->n_dependencies, sizeof(Dependency),
                            dependency_item);
        if (r < 0)
                return r;
        return put_strv_opt(o, "pathWhitelist", img->path_whitelist);
}

DEFINE_ELEMENT_WRITER(image, Image)

/* ---- output ------------------------------------------------------------------------------- */

static int dump_append(const char *buffer, size_t size, void *userdata) {
        StrBuf *b = userdata;

        strbuf_append_n(b, buffer, size);
        return strbuf_error(b) < 0 ? -1 : 0;
}

static int to_json(const void *model, ElementWriter w, char **ret, size_t *ret_size) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;
        _cleanup_json_ json_t *root = NULL;
        char *s;
        size_t len;
        int r;

        if (!model)
                return -EINVAL;
        r = object_new(model, w, &root);
        if (r < 0)
                return r;
        /* Two-space indent as in the appc spec's examples; insertion order
         * (jansson ≥ 2.8 keeps it anyway, the flag says we rely on it). No
         * JSON_ENSURE_ASCII: manifests are UTF-8 and stay readable. The tree
         * holds only valid UTF-8 and no loops, so failure is out of memory. */
        if (json_dump_callback(root, dump_append, &b, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
                return -ENOMEM;
        strbuf_putc(&b, '\n');
        s = strbuf_steal(&b, &len);
        if (!s)
                return -ENOMEM;
        *ret = s;
        if (ret_size)
                *ret_size = len;
        return 0;
}

int manifest_pod_to_json(const Pod *p, char **ret, size_t *ret_size) {
        return to_json(p, pod_item, ret, ret_size);
}

int manifest_image_to_json(const Image *i, char **ret, size_t *ret_size) {
        return to_json(i, image_item, ret, ret_size);
}

/* ---- copies ------------------------------------------------------------------------------- */

/*
 * Copies fill zeroed storage that already belongs to the destination (counts
 * set before the elements), so a failure half-way leaves something app_free()
 * frees completely: every destructor accepts NULL members.
 */

static int strdup_opt(const char *s, char **ret) {
        if (!s) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* NULL stays NULL: for exec that differs from empty only before parsing,
 * but a copy should not invent what was not there. */
static int strv_copy_opt(char *const *l, char ***ret) {
        if (!l) {
                *ret = NULL;
                return 0;
        }
        *ret = strv_copy(l);
        return *ret ? 0 : -ENOMEM;
}

/* Zeroed storage for `n` elements into *items, NULL for none. */
static int alloc_copy(void **items, size_t n, size_t size) {
        *items = NULL;
        if (n == 0)
                return 0;
        *items = calloc(n, size);
        return *items ? 0 : -ENOMEM;
}

int name_values_copy(const NameValue *l, size_t n, NameValue **ret) {
        NameValue *c = NULL;
        int r;

        r = alloc_copy((void **) &c, n, sizeof(NameValue));
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (strdup_opt(l[i].name, &c[i].name) < 0 || strdup_opt(l[i].value, &c[i].value) < 0) {
                        manifest_name_values_free(c, n);
                        return -ENOMEM;
                }
        *ret = c;
        return 0;
}

static int quantity_copy(const Quantity *q, Quantity *ret) {
        *ret = *q;
        return strdup_opt(q->text, &ret->text);
}

static int isolator_copy(const Isolator *s, Isolator *d) {
        int r;

        d->kind = s->kind;
        switch (s->kind) {
        case ISOLATOR_RESOURCE_CPU:
        case ISOLATOR_RESOURCE_MEMORY:
        case ISOLATOR_RESOURCE_BLOCK_BANDWIDTH:
        case ISOLATOR_RESOURCE_BLOCK_IOPS:
        case ISOLATOR_RESOURCE_NETWORK_BANDWIDTH:
                r = quantity_copy(&s->resource.request, &d->resource.request);
                if (r < 0)
                        return r;
                return quantity_copy(&s->resource.limit, &d->resource.limit);
        case ISOLATOR_CAPABILITIES_RETAIN:
        case ISOLATOR_CAPABILITIES_REMOVE:
                return strv_copy_opt(s->caps, &d->caps);
        case ISOLATOR_SECCOMP_RETAIN:
        case ISOLATOR_SECCOMP_REMOVE:
                r = strv_copy_opt(s->seccomp.set, &d->seccomp.set);
                if (r < 0)
                        return r;
                return strdup_opt(s->seccomp.errno_name, &d->seccomp.errno_name);
        case ISOLATOR_NO_NEW_PRIVILEGES:
                d->no_new_privileges = s->no_new_privileges;
                return 0;
        case ISOLATOR_OOM_SCORE_ADJ:
        case ISOLATOR_CPU_SHARES:
                d->integer = s->integer;
                return 0;
        case ISOLATOR_SELINUX_CONTEXT:
                if (strdup_opt(s->selinux.user, &d->selinux.user) < 0 ||
                    strdup_opt(s->selinux.role, &d->selinux.role) < 0 ||
                    strdup_opt(s->selinux.type, &d->selinux.type) < 0 ||
                    strdup_opt(s->selinux.level, &d->selinux.level) < 0)
                        return -ENOMEM;
                return 0;
        case ISOLATOR_APPARMOR_PROFILE:
                return strdup_opt(s->apparmor_profile, &d->apparmor_profile);
        case ISOLATOR_SYSCTL:
                r = name_values_copy(s->sysctl.items, s->sysctl.n_items, &d->sysctl.items);
                if (r < 0)
                        return r;
                d->sysctl.n_items = s->sysctl.n_items;
                return 0;
        case _ISOLATOR_KIND_MAX:
        default:
                /* Nothing owned to copy; the writer refuses the kind. */
                return 0;
        }
}

static int port_copy(const Port *s, Port *d) {
        *d = (Port){ .port = s->port, .count = s->count, .socket_activated = s->socket_activated };
        if (strdup_opt(s->name, &d->name) < 0 || strdup_opt(s->protocol, &d->protocol) < 0)
                return -ENOMEM;
        return 0;
}

/* Copies the members of `a` into the zeroed App `c`. */
static int app_copy_into(const App *a, App *c) {
        int r;

        r = strv_copy_opt(a->exec, &c->exec);
        if (r < 0)
                return r;
        if (strdup_opt(a->user, &c->user) < 0 || strdup_opt(a->group, &c->group) < 0 ||
            strdup_opt(a->working_directory, &c->working_directory) < 0)
                return -ENOMEM;

        if (a->n_supplementary_gids > 0) {
                c->supplementary_gids = calloc(a->n_supplementary_gids, sizeof(uint32_t));
                if (!c->supplementary_gids)
                        return -ENOMEM;
                memcpy(c->supplementary_gids, a->supplementary_gids, a->n_supplementary_gids * sizeof(uint32_t));
                c->n_supplementary_gids = a->n_supplementary_gids;
        }

        r = alloc_copy((void **) &c->event_handlers, a->n_event_handlers, sizeof(EventHandler));
        if (r < 0)
                return r;
        c->n_event_handlers = a->n_event_handlers;
        for (size_t i = 0; i < a->n_event_handlers; i++) {
                r = strdup_opt(a->event_handlers[i].name, &c->event_handlers[i].name);
                if (r < 0)
                        return r;
                r = strv_copy_opt(a->event_handlers[i].exec, &c->event_handlers[i].exec);
                if (r < 0)
                        return r;
        }

        r = name_values_copy(a->environment, a->n_environment, &c->environment);
        if (r < 0)
                return r;
        c->n_environment = a->n_environment;

        r = alloc_copy((void **) &c->mount_points, a->n_mount_points, sizeof(MountPoint));
        if (r < 0)
                return r;
        c->n_mount_points = a->n_mount_points;
        for (size_t i = 0; i < a->n_mount_points; i++) {
                c->mount_points[i].read_only = a->mount_points[i].read_only;
                if (strdup_opt(a->mount_points[i].name, &c->mount_points[i].name) < 0 ||
                    strdup_opt(a->mount_points[i].path, &c->mount_points[i].path) < 0)
                        return -ENOMEM;
        }

        r = alloc_copy((void **) &c->ports, a->n_ports, sizeof(Port));
        if (r < 0)
                return r;
        c->n_ports = a->n_ports;
        for (size_t i = 0; i < a->n_ports; i++) {
                r = port_copy(&a->ports[i], &c->ports[i]);
                if (r < 0)
                        return r;
        }

        r = alloc_copy((void **) &c->isolators, a->n_isolators, sizeof(Isolator));
        if (r < 0)
                return r;
        c->n_isolators = a->n_isolators;
        for (size_t i = 0; i < a->n_isolators; i++) {
                r = isolator_copy(&a->isolators[i], &c->isolators[i]);
                if (r < 0)
                        return r;
        }

        r = name_values_copy(a->user_annotations, a->n_user_annotations, &c->user_annotations);
        if (r < 0)
                return r;
        c->n_user_annotations = a->n_user_annotations;
        r = name_values_copy(a->user_labels, a->n_user_labels, &c->user_labels);
        if (r < 0)
                return r;
        c->n_user_labels = a->n_user_labels;
        return 0;
}

App *app_copy(const App *a) {
        _cleanup_(app_freep) App *c = calloc(1, sizeof(App));

        if (!c || app_copy_into(a, c) < 0)
                return NULL;
        return TAKE_PTR(c);
}
