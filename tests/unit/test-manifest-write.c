/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "strv.h"
#include "tap.h"

/*
 * manifest_pod_to_json() / manifest_image_to_json() and app_copy().
 *
 * Two properties over every manifest we have (tests/corpus/{pod,image}/valid
 * and the golden cases that parse): parse(write(m)) is the same model as m,
 * compared field by field below so that a field the writer drops is caught
 * (a byte comparison alone would not: both writes would drop it), and
 * write(parse(write(m))) is byte-identical to write(m). Then spot checks of
 * particular values and of the exact layout.
 *
 * JSON in this file is written with backticks for double quotes, as in
 * test-manifest.c; json() turns them back.
 */

static char *json(const char *s) {
        char *d = strdup(s);

        for (char *p = d; p && *p; p++)
                if (*p == '`')
                        *p = '"';
        return d;
}

static Pod *parse_pod(const char *s) {
        _cleanup_error_ NpError e = NP_ERROR_INIT;
        _cleanup_free_ char *d = json(s);
        Pod *p = NULL;
        int r;

        r = manifest_parse_pod(d, strlen(d), &p, &e);
        if (r < 0)
                printf("#   parse: %s\n", error_format(&e, r));
        return p;
}

static Image *parse_image(const char *s) {
        _cleanup_error_ NpError e = NP_ERROR_INIT;
        _cleanup_free_ char *d = json(s);
        Image *i = NULL;
        int r;

        r = manifest_parse_image(d, strlen(d), &i, &e);
        if (r < 0)
                printf("#   parse: %s\n", error_format(&e, r));
        return i;
}

static char *pod_json(const Pod *p) {
        char *s = NULL;
        size_t n = 0;
        int r = manifest_pod_to_json(p, &s, &n);

        if (r < 0)
                printf("#   write: %s\n", strerror(-r));
        else if (n != strlen(s))
                printf("#   write: size %zu, strlen %zu\n", n, strlen(s));
        return s;
}

static char *image_json(const Image *i) {
        char *s = NULL;
        int r = manifest_image_to_json(i, &s, NULL);

        if (r < 0)
                printf("#   write: %s\n", strerror(-r));
        return s;
}

/* ---- model equality ----------------------------------------------------------------------- */

/* Set to the first field that differs, for the failure message. */
static const char *diff;

#define SAME(cond, what)                                                                             \
        do {                                                                                         \
                if (!(cond)) {                                                                       \
                        diff = (what);                                                               \
                        return false;                                                                \
                }                                                                                    \
        } while (0)

static bool str_eq(const char *a, const char *b) {
        return a && b ? strcmp(a, b) == 0 : a == b;
}

/* NULL and empty are the same vector: an absent exec parses as empty. */
static bool strv_eq(char *const *a, char *const *b) {
        size_t n = strv_length(a);

        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!str_eq(a[i], b[i]))
                        return false;
        return true;
}

static bool nv_eq(const NameValue *a, size_t na, const NameValue *b, size_t nb) {
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (!str_eq(a[i].name, b[i].name) || !str_eq(a[i].value, b[i].value))
                        return false;
        return true;
}

static bool quantity_eq(const Quantity *a, const Quantity *b) {
        return a->set == b->set && a->ceil == b->ceil && a->milli == b->milli && str_eq(a->text, b->text);
}

static bool isolator_eq(const Isolator *a, const Isolator *b) {
        SAME(a->kind == b->kind, "isolator kind");
        switch (a->kind) {
        case ISOLATOR_RESOURCE_CPU:
        case ISOLATOR_RESOURCE_MEMORY:
        case ISOLATOR_RESOURCE_BLOCK_BANDWIDTH:
        case ISOLATOR_RESOURCE_BLOCK_IOPS:
        case ISOLATOR_RESOURCE_NETWORK_BANDWIDTH:
                SAME(quantity_eq(&a->resource.request, &b->resource.request), "resource request");
                SAME(quantity_eq(&a->resource.limit, &b->resource.limit), "resource limit");
                return true;
        case ISOLATOR_CAPABILITIES_RETAIN:
        case ISOLATOR_CAPABILITIES_REMOVE:
                SAME(strv_eq(a->caps, b->caps), "capability set");
                return true;
        case ISOLATOR_SECCOMP_RETAIN:
        case ISOLATOR_SECCOMP_REMOVE:
                SAME(strv_eq(a->seccomp.set, b->seccomp.set), "seccomp set");
                SAME(str_eq(a->seccomp.errno_name, b->seccomp.errno_name), "seccomp errno");
                return true;
        case ISOLATOR_NO_NEW_PRIVILEGES:
                SAME(a->no_new_privileges == b->no_new_privileges, "no-new-privileges");
                return true;
        case ISOLATOR_OOM_SCORE_ADJ:
        case ISOLATOR_CPU_SHARES:
                SAME(a->integer == b->integer, "isolator integer");
                return true;
        case ISOLATOR_SELINUX_CONTEXT:
                SAME(str_eq(a->selinux.user, b->selinux.user) && str_eq(a->selinux.role, b->selinux.role) &&
                             str_eq(a->selinux.type, b->selinux.type) && str_eq(a->selinux.level, b->selinux.level),
                     "selinux context");
                return true;
        case ISOLATOR_APPARMOR_PROFILE:
                SAME(str_eq(a->apparmor_profile, b->apparmor_profile), "apparmor profile");
                return true;
        case ISOLATOR_SYSCTL:
                SAME(nv_eq(a->sysctl.items, a->sysctl.n_items, b->sysctl.items, b->sysctl.n_items), "sysctl");
                return true;
        case _ISOLATOR_KIND_MAX:
        default:
                return false;
        }
}

static bool isolators_eq(const Isolator *a, size_t na, const Isolator *b, size_t nb) {
        SAME(na == nb, "number of isolators");
        for (size_t i = 0; i < na; i++)
                if (!isolator_eq(&a[i], &b[i]))
                        return false;
        return true;
}

static bool port_eq(const Port *a, const Port *b) {
        return str_eq(a->name, b->name) && str_eq(a->protocol, b->protocol) && a->port == b->port &&
               a->count == b->count && a->socket_activated == b->socket_activated;
}

static bool app_eq(const App *a, const App *b) {
        if (!a || !b) {
                SAME(a == b, "app presence");
                return true;
        }
        SAME(strv_eq(a->exec, b->exec), "exec");
        SAME(str_eq(a->user, b->user), "user");
        SAME(str_eq(a->group, b->group), "group");
        SAME(a->n_supplementary_gids == b->n_supplementary_gids, "number of supplementaryGIDs");
        for (size_t i = 0; i < a->n_supplementary_gids; i++)
                SAME(a->supplementary_gids[i] == b->supplementary_gids[i], "supplementaryGIDs");
        SAME(a->n_event_handlers == b->n_event_handlers, "number of eventHandlers");
        for (size_t i = 0; i < a->n_event_handlers; i++)
                SAME(str_eq(a->event_handlers[i].name, b->event_handlers[i].name) &&
                             strv_eq(a->event_handlers[i].exec, b->event_handlers[i].exec),
                     "eventHandlers");
        SAME(str_eq(a->working_directory, b->working_directory), "workingDirectory");
        SAME(nv_eq(a->environment, a->n_environment, b->environment, b->n_environment), "environment");
        SAME(a->n_mount_points == b->n_mount_points, "number of mountPoints");
        for (size_t i = 0; i < a->n_mount_points; i++)
                SAME(str_eq(a->mount_points[i].name, b->mount_points[i].name) &&
                             str_eq(a->mount_points[i].path, b->mount_points[i].path) &&
                             a->mount_points[i].read_only == b->mount_points[i].read_only,
                     "mountPoints");
        SAME(a->n_ports == b->n_ports, "number of ports");
        for (size_t i = 0; i < a->n_ports; i++)
                SAME(port_eq(&a->ports[i], &b->ports[i]), "ports");
        if (!isolators_eq(a->isolators, a->n_isolators, b->isolators, b->n_isolators))
                return false;
        SAME(nv_eq(a->user_annotations, a->n_user_annotations, b->user_annotations, b->n_user_annotations),
             "userAnnotations");
        SAME(nv_eq(a->user_labels, a->n_user_labels, b->user_labels, b->n_user_labels), "userLabels");
        return true;
}

static bool volume_eq(const Volume *a, const Volume *b) {
        if (!a || !b) {
                SAME(a == b, "appVolume presence");
                return true;
        }
        SAME(str_eq(a->name, b->name) && a->kind == b->kind && str_eq(a->source, b->source), "volume");
        SAME(a->read_only == b->read_only, "volume readOnly");
        SAME(a->recursive == b->recursive, "volume recursive");
        SAME(a->mode == b->mode && a->uid == b->uid && a->gid == b->gid, "volume mode/uid/gid");
        return true;
}

static bool pod_eq(const Pod *a, const Pod *b) {
        SAME(str_eq(a->ac_version, b->ac_version), "acVersion");
        SAME(a->n_apps == b->n_apps, "number of apps");
        for (size_t i = 0; i < a->n_apps; i++) {
                const RuntimeApp *x = &a->apps[i], *y = &b->apps[i];

                SAME(str_eq(x->name, y->name), "app name");
                SAME(str_eq(x->image.name, y->image.name) && str_eq(x->image.id, y->image.id), "image");
                SAME(nv_eq(x->image.labels, x->image.n_labels, y->image.labels, y->image.n_labels), "image labels");
                if (!app_eq(x->app, y->app))
                        return false;
                SAME(x->read_only_root_fs == y->read_only_root_fs, "readOnlyRootFS");
                SAME(x->n_mounts == y->n_mounts, "number of mounts");
                for (size_t k = 0; k < x->n_mounts; k++) {
                        SAME(str_eq(x->mounts[k].volume, y->mounts[k].volume) &&
                                     str_eq(x->mounts[k].path, y->mounts[k].path),
                             "mounts");
                        if (!volume_eq(x->mounts[k].app_volume, y->mounts[k].app_volume))
                                return false;
                }
                SAME(nv_eq(x->annotations, x->n_annotations, y->annotations, y->n_annotations), "app annotations");
        }
        SAME(a->n_volumes == b->n_volumes, "number of volumes");
        for (size_t i = 0; i < a->n_volumes; i++)
                if (!volume_eq(&a->volumes[i], &b->volumes[i]))
                        return false;
        if (!isolators_eq(a->isolators, a->n_isolators, b->isolators, b->n_isolators))
                return false;
        SAME(nv_eq(a->annotations, a->n_annotations, b->annotations, b->n_annotations), "annotations");
        SAME(a->n_ports == b->n_ports, "number of exposed ports");
        for (size_t i = 0; i < a->n_ports; i++) {
                const ExposedPort *x = &a->ports[i], *y = &b->ports[i];

                SAME(str_eq(x->name, y->name) && x->host_port == y->host_port && str_eq(x->host_ip, y->host_ip),
                     "exposed port");
                SAME(!x->pod_port == !y->pod_port, "podPort presence");
                SAME(!x->pod_port || port_eq(x->pod_port, y->pod_port), "podPort");
        }
        SAME(nv_eq(a->user_annotations, a->n_user_annotations, b->user_annotations, b->n_user_annotations),
             "userAnnotations");
        SAME(nv_eq(a->user_labels, a->n_user_labels, b->user_labels, b->n_user_labels), "userLabels");
        return true;
}

static bool image_eq(const Image *a, const Image *b) {
        SAME(str_eq(a->ac_version, b->ac_version), "acVersion");
        SAME(str_eq(a->name, b->name), "name");
        SAME(nv_eq(a->labels, a->n_labels, b->labels, b->n_labels), "labels");
        if (!app_eq(a->app, b->app))
                return false;
        SAME(nv_eq(a->annotations, a->n_annotations, b->annotations, b->n_annotations), "annotations");
        SAME(a->n_dependencies == b->n_dependencies, "number of dependencies");
        for (size_t i = 0; i < a->n_dependencies; i++) {
                const Dependency *x = &a->dependencies[i], *y = &b->dependencies[i];

                SAME(str_eq(x->image_name, y->image_name) && str_eq(x->image_id, y->image_id) &&
                             nv_eq(x->labels, x->n_labels, y->labels, y->n_labels) && x->size == y->size,
                     "dependency");
        }
        SAME(strv_eq(a->path_whitelist, b->path_whitelist), "pathWhitelist");
        return true;
}

/* ---- round trips -------------------------------------------------------------------------- */

static bool ends_with_newline(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return n > 0 && s[n - 1] == '\n' && (n < 2 || s[n - 2] != '\n');
}

/* `p` parsed from `name`: write, parse again, compare models, write again,
 * compare bytes. */
static void roundtrip_pod(const Pod *p, const char *name) {
        _cleanup_error_ NpError e = NP_ERROR_INIT;
        _cleanup_free_ char *j1 = NULL, *j2 = NULL;
        _cleanup_(pod_freep) Pod *q = NULL;
        int r;

        j1 = pod_json(p);
        if (!OK(j1, "%s: written", name))
                return;
        OK(ends_with_newline(j1), "%s: output ends with one newline", name);
        r = manifest_parse_pod(j1, strlen(j1), &q, &e);
        if (!OK(r == 0, "%s: output parses", name)) {
                printf("#   %s\n", error_format(&e, r));
                return;
        }
        diff = "?";
        if (!OK(pod_eq(p, q), "%s: same model after the round trip", name))
                printf("#   differs: %s\n", diff);
        j2 = pod_json(q);
        OK_STREQ(j2, j1, "%s: writing is a fixed point", name);
}

static void roundtrip_image(const Image *i, const char *name) {
        _cleanup_error_ NpError e = NP_ERROR_INIT;
        _cleanup_free_ char *j1 = NULL, *j2 = NULL;
        _cleanup_(image_freep) Image *q = NULL;
        int r;

        j1 = image_json(i);
        if (!OK(j1, "%s: written", name))
                return;
        OK(ends_with_newline(j1), "%s: output ends with one newline", name);
        r = manifest_parse_image(j1, strlen(j1), &q, &e);
        if (!OK(r == 0, "%s: output parses", name)) {
                printf("#   %s\n", error_format(&e, r));
                return;
        }
        diff = "?";
        if (!OK(image_eq(i, q), "%s: same model after the round trip", name))
                printf("#   differs: %s\n", diff);
        j2 = image_json(q);
        OK_STREQ(j2, j1, "%s: writing is a fixed point", name);
}

static char *read_file(const char *path, size_t *ret_size) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *d;
        long n;

        if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
                return NULL;
        d = malloc((size_t) n + 1);
        if (!d)
                return NULL;
        if (fread(d, 1, (size_t) n, f) != (size_t) n) {
                free(d);
                return NULL;
        }
        d[n] = 0;
        *ret_size = (size_t) n;
        return d;
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The files in `dir` whose names end in `suffix`, or with `sub`, the path
 * `suffix` inside each entry of `dir`; sorted. NULL if `dir` cannot be opened. */
static char **list_files(const char *dir, const char *suffix, bool sub) {
        char **files = NULL;
        struct dirent *de;
        DIR *d = opendir(dir);

        if (!d)
                return NULL;
        files = calloc(1, sizeof(char *));
        while (files && (de = readdir(d))) {
                size_t n = strlen(de->d_name), m = strlen(suffix);

                if (de->d_name[0] == '.')
                        continue;
                if (sub)
                        (void) strv_extendf(&files, "%s/%s/%s", dir, de->d_name, suffix);
                else if (n > m && strcmp(de->d_name + n - m, suffix) == 0)
                        (void) strv_extendf(&files, "%s/%s", dir, de->d_name);
        }
        closedir(d);
        if (files)
                qsort(files, strv_length(files), sizeof(char *), cmp_names);
        return files;
}

/* Round-trips every file in `files` that parses; `must_parse` for the
 * corpus of valid manifests. Returns how many parsed. */
static size_t roundtrip_files(char *const *files, bool is_pod, bool must_parse) {
        size_t parsed = 0;

        STRV_FOREACH (f, files) {
                _cleanup_error_ NpError e = NP_ERROR_INIT;
                _cleanup_free_ char *data = NULL;
                _cleanup_(pod_freep) Pod *p = NULL;
                _cleanup_(image_freep) Image *i = NULL;
                size_t size = 0;
                int r;

                data = read_file(*f, &size);
                if (!data) {
                        /* A golden case without images/ lists a path that is not there. */
                        if (must_parse)
                                OK(false, "read %s", *f);
                        continue;
                }
                r = is_pod ? manifest_parse_pod(data, size, &p, &e) : manifest_parse_image(data, size, &i, &e);
                if (r < 0) {
                        if (must_parse)
                                OK(false, "%s parses: %s", *f, error_format(&e, r));
                        else
                                printf("# %s does not parse, not round-tripped\n", *f);
                        continue;
                }
                parsed++;
                if (is_pod)
                        roundtrip_pod(p, *f);
                else
                        roundtrip_image(i, *f);
        }
        return parsed;
}

static void test_corpus(void) {
        const char *root = getenv("CORPUS_DIR") ?: "tests/corpus";
        static const struct {
                const char *dir;
                bool is_pod;
        } dirs[] = { { "pod/valid", true }, { "image/valid", false } };

        for (size_t k = 0; k < ELEMENTSOF(dirs); k++) {
                _cleanup_free_ char *dir = NULL;
                _cleanup_strv_free_ char **files = NULL;

                if (asprintf(&dir, "%s/%s", root, dirs[k].dir) < 0)
                        return;
                files = list_files(dir, ".json", false);
                if (!files) {
                        printf("ok %u - corpus %s # SKIP cannot open %s (run from the source tree)\n", ++tap_n,
                               dirs[k].dir, dir);
                        continue;
                }
                OK(strv_length(files) > 0, "corpus %s is not empty", dirs[k].dir);
                (void) roundtrip_files(files, dirs[k].is_pod, true);
        }
}

/* The golden render cases include ones meant to be refused; those that
 * parse are round-tripped. GOLDEN_DIR overrides the location. */
static void test_golden(void) {
        const char *root = getenv("GOLDEN_DIR") ?: "tests/golden/cases";
        _cleanup_strv_free_ char **pods = NULL, **cases = NULL, **images = NULL;
        size_t parsed;

        pods = list_files(root, "pod.json", true);
        if (!pods) {
                printf("ok %u - golden cases # SKIP cannot open %s (run from the source tree)\n", ++tap_n, root);
                return;
        }
        parsed = roundtrip_files(pods, true, false);
        OK(parsed > 0, "%zu of %zu golden pod manifests parse and were round-tripped", parsed, strv_length(pods));

        cases = list_files(root, "images", true);
        STRV_FOREACH (c, cases) {
                _cleanup_strv_free_ char **l = list_files(*c, ".json", false);

                STRV_FOREACH (f, l)
                        (void) strv_extend(&images, *f);
        }
        parsed = roundtrip_files(images, false, false);
        OK(parsed > 0, "%zu of %zu golden image manifests parse and were round-tripped", parsed,
           strv_length(images));
}

/* ---- spot checks -------------------------------------------------------------------------- */

#define HDR "`acVersion`:`0.8.11`,`acKind`:`PodManifest`"
#define ID "sha512-0123abcd"

/* Every isolator kind, hostile strings, every optional field. Seccomp retain
 * and remove cannot share one list, so the remove set is at pod level. */
static const char everything[] =
        "{" HDR ","
        "`apps`:["
        " {`name`:`web`,"
        "  `image`:{`name`:`example.com/web`,`id`:`" ID "`,"
        "           `labels`:[{`name`:`version`,`value`:`1.0`},{`name`:`os`,`value`:`linux`}]},"
        "  `app`:{"
        "   `exec`:[`/bin/web`,`new\\nline`,`dq\\`uote`,`back\\\\slash`,`ünïcødé ☃`,`\\u0001ctl`,`tab\\t`,``,`a/b`],"
        "   `user`:`1000`,`group`:`users`,"
        "   `supplementaryGIDs`:[0,400,4294967294],"
        "   `eventHandlers`:[{`name`:`pre-start`,`exec`:[`/bin/setup`]},"
        "                    {`name`:`post-stop`,`exec`:[`/bin/cleanup`,`-f`]}],"
        "   `workingDirectory`:`/srv`,"
        "   `environment`:[{`name`:`Z`,`value`:`last\\nfirst`},{`name`:`A`,`value`:``}],"
        "   `mountPoints`:[{`name`:`data`,`path`:`/data`,`readOnly`:true},{`name`:`logs`,`path`:`/var/log`}],"
        "   `ports`:[{`name`:`http`,`protocol`:`tcp`,`port`:80,`count`:0,`socketActivated`:true},"
        "            {`name`:`dns`,`protocol`:`udp`,`port`:5353,`count`:3}],"
        "   `isolators`:["
        "     {`name`:`resource/cpu`,`value`:{`request`:`500m`,`limit`:1.5}},"
        "     {`name`:`resource/memory`,`value`:{`limit`:`25Mi`,`default`:false}},"
        "     {`name`:`resource/block-bandwidth`,`value`:{`default`:true,`limit`:`10M`}},"
        "     {`name`:`resource/block-iops`,`value`:{`default`:true,`limit`:1000}},"
        "     {`name`:`resource/network-bandwidth`,`value`:{`default`:true}},"
        "     {`name`:`os/linux/capabilities-retain-set`,`value`:{`set`:[`CAP_NET_BIND_SERVICE`,`CAP_CHOWN`]}},"
        "     {`name`:`os/linux/capabilities-remove-set`,`value`:{`set`:[`CAP_KILL`]}},"
        "     {`name`:`os/linux/seccomp-retain-set`,"
        "      `value`:{`set`:[`@rkt/default-whitelist`,`mount`],`errno`:`ENOSYS`}},"
        "     {`name`:`os/linux/no-new-privileges`,`value`:true},"
        "     {`name`:`os/linux/oom-score-adj`,`value`:-100},"
        "     {`name`:`os/linux/cpu-shares`,`value`:512},"
        "     {`name`:`os/linux/selinux-context`,"
        "      `value`:{`user`:`system_u`,`role`:`system_r`,`type`:`svirt_lxc_net_t`,`level`:`s0:c1,c2`}},"
        "     {`name`:`os/linux/apparmor-profile`,`value`:{`profile`:`rkt-default`}},"
        "     {`name`:`os/unix/sysctl`,`value`:{`net.b`:`2`,`net.a`:`1`}}],"
        "   `userAnnotations`:{`z`:`1`,`a`:`quote\\` and ☃`},"
        "   `userLabels`:{`tier`:`web`}},"
        "  `readOnlyRootFS`:true,"
        "  `mounts`:[{`volume`:`data`,`path`:`/data`},"
        "            {`volume`:`scratch`,`path`:`/tmp/x`,"
        "             `appVolume`:{`name`:`scratch`,`kind`:`empty`,`mode`:`0700`,`uid`:5,`gid`:6,`readOnly`:false}}],"
        "  `annotations`:[{`name`:`coreos.com/rkt/stage2/stdout`,`value`:`log`}]},"
        " {`name`:`worker`,`image`:{`id`:`sha512-ff`}}],"
        "`volumes`:[{`name`:`data`,`kind`:`host`,`source`:`/srv/data`,`readOnly`:false,`recursive`:false},"
        "           {`name`:`ro`,`kind`:`host`,`source`:`/etc`,`readOnly`:true,`recursive`:true},"
        "           {`name`:`cache`,`kind`:`empty`,`source`:``},"
        "           {`name`:`owned`,`kind`:`empty`,`mode`:`0700`,`uid`:1000,`gid`:4294967294}],"
        "`isolators`:[{`name`:`resource/memory`,`value`:{`limit`:`1G`}},"
        "             {`name`:`os/linux/seccomp-remove-set`,`value`:{`set`:[`reboot`],`errno`:``}}],"
        "`annotations`:[{`name`:`created`,`value`:`2016-01-02T15:04:05Z`}],"
        "`ports`:[{`name`:`http`,`hostPort`:8080,`hostIP`:`127.0.0.1`},"
        "         {`name`:`dns`,`hostPort`:53,`podPort`:{`name`:`dns`,`protocol`:`udp`,`port`:5353,`count`:2,"
        "                                               `socketActivated`:true}}],"
        "`userAnnotations`:{`owner`:`me\\nyou`},"
        "`userLabels`:{`b`:`2`,`a`:`1`}}";

static bool contains(const char *haystack, const char *needle) {
        return haystack && strstr(haystack, needle);
}

static void test_everything(void) {
        _cleanup_(pod_freep) Pod *p = NULL, *q = NULL;
        _cleanup_free_ char *j = NULL;
        _cleanup_error_ NpError e = NP_ERROR_INIT;
        bool seen[_ISOLATOR_KIND_MAX] = {};
        const App *a;
        int r;

        p = parse_pod(everything);
        if (!OK(p, "the everything pod parses"))
                return;
        roundtrip_pod(p, "everything pod");

        j = pod_json(p);
        if (!OK(j, "written"))
                return;
        /* Strings: escaped the JSON way, UTF-8 written as is. */
        OK(contains(j, "\"new\\nline\""), "newline escaped");
        OK(contains(j, "\"dq\\\"uote\""), "double quote escaped");
        OK(contains(j, "\"back\\\\slash\""), "backslash escaped");
        OK(contains(j, "\"ünïcødé ☃\""), "UTF-8 kept, not \\u-escaped");
        OK(contains(j, "\"\\u0001ctl\""), "control character as \\u0001");
        OK(contains(j, "\"a/b\""), "slash not escaped");
        /* Values in their appc shapes. */
        OK(contains(j, "\"request\": \"500m\""), "quantity 500m as written");
        OK(contains(j, "\"limit\": \"25Mi\""), "quantity 25Mi as written");
        OK(contains(j, "\"limit\": \"1.5\""), "a JSON number quantity as its text");
        OK(contains(j, "\"limit\": \"1000\""), "an integer quantity as its text");
        OK(contains(j, "\"default\": true,\n"), "bandwidth isolators say default: true");
        OK(!contains(j, "\"default\": false"), "cpu/memory omit default: false");
        OK(contains(j, "\"mode\": \"0700\""), "mode as an octal string");
        OK(contains(j, "\"mode\": \"0755\""), "default mode of an empty volume written");
        OK(contains(j, "\"gid\": 4294967294"), "gid up to 2^32-2");
        OK(contains(j, "\"errno\": \"ENOSYS\""), "seccomp errno");
        OK(!contains(j, "\"errno\": \"\""), "empty seccomp errno omitted");
        OK(contains(j, "\"value\": -100"), "oom-score-adj as an integer");
        OK(contains(j, "\"value\": true"), "no-new-privileges as a boolean");
        OK(contains(j, "\"net.a\": \"1\",\n"), "sysctl as an object, sorted");
        OK(contains(j, "\"userLabels\": {\n    \"a\": \"1\",\n    \"b\": \"2\"\n  }\n}\n"),
           "pod userLabels last, as a sorted object");
        OK(contains(j, "\"podPort\": {\n        \"name\": \"dns\""), "podPort as a Port object");
        OK(contains(j, "\"count\": 1,"), "count 0 written as 1");
        OK(!contains(j, "\"source\": \"\""), "empty source of an empty volume omitted");
        OK(!contains(j, "null"), "no nulls");

        r = manifest_parse_pod(j, strlen(j), &q, &e);
        if (!OK(r == 0, "reparses"))
                return;
        a = q->apps[0].app;
        OK_STREQ(a->exec[1], "new\nline", "newline survives");
        OK_STREQ(a->exec[2], "dq\"uote", "double quote survives");
        OK_STREQ(a->exec[3], "back\\slash", "backslash survives");
        OK_STREQ(a->exec[4], "ünïcødé ☃", "UTF-8 survives");
        OK_STREQ(a->exec[5], "\001ctl", "control character survives");
        OK_STREQ(a->exec[7], "", "empty argument survives");
        OK_STREQ(a->environment[0].name, "Z", "environment order kept");
        OK_STREQ(a->environment[0].value, "last\nfirst", "environment value");
        OK_INTEQ(a->supplementary_gids[2], 4294967294U, "supplementary gid");
        OK_STREQ(a->user_annotations[0].value, "quote\" and ☃", "userAnnotations value");
        OK_STREQ(q->user_annotations[0].value, "me\nyou", "pod userAnnotations value");
        OK_STREQ(a->isolators[0].resource.request.text, "500m", "request text");
        OK_INTEQ(a->isolators[0].resource.request.milli, 500, "request value");
        OK_STREQ(a->isolators[1].resource.limit.text, "25Mi", "limit text");
        OK_INTEQ(a->isolators[1].resource.limit.ceil, 26214400, "limit value");
        OK(!a->isolators[4].resource.limit.set, "network-bandwidth without limit stays so");
        for (size_t i = 0; i < a->n_isolators; i++)
                seen[a->isolators[i].kind] = true;
        for (size_t i = 0; i < q->n_isolators; i++)
                seen[q->isolators[i].kind] = true;
        for (size_t k = 0; k < _ISOLATOR_KIND_MAX; k++)
                OK(seen[k], "isolator kind %zu round-trips", k);
        OK_STREQ(a->isolators[7].seccomp.errno_name, "ENOSYS", "seccomp errno survives");
        OK(!q->isolators[1].seccomp.errno_name, "empty errno stays absent");
        OK_INTEQ(q->apps[0].mounts[1].app_volume->mode, 0700, "appVolume mode");
        OK_INTEQ(q->apps[0].mounts[1].app_volume->read_only, 0, "appVolume readOnly false");
        OK_INTEQ(q->volumes[0].read_only, 0, "readOnly false");
        OK_INTEQ(q->volumes[0].recursive, 0, "recursive false");
        OK_INTEQ(q->volumes[1].read_only, 1, "readOnly true");
        OK_INTEQ(q->volumes[1].recursive, 1, "recursive true");
        OK_INTEQ(q->volumes[2].read_only, -1, "readOnly unset");
        OK_INTEQ(q->volumes[2].recursive, -1, "recursive unset");
        OK_INTEQ(q->volumes[2].mode, 0755, "default mode");
        OK_INTEQ(q->volumes[3].mode, 0700, "mode 0700");
        OK_INTEQ(q->volumes[3].uid, 1000, "uid");
        OK_INTEQ(q->volumes[3].gid, 4294967294U, "gid");
        OK(q->ports[1].pod_port && q->ports[1].pod_port->count == 2 && q->ports[1].pod_port->socket_activated,
           "podPort fields");
        OK(!q->ports[0].pod_port, "no podPort stays so");
        OK_STREQ(q->ports[0].host_ip, "127.0.0.1", "hostIP");
        OK(q->apps[0].read_only_root_fs && !q->apps[1].read_only_root_fs, "readOnlyRootFS");
        OK(!q->apps[1].app, "an app without app object stays so");
}

/* The layout itself: key order, indent, final newline. */
static void test_layout(void) {
        static const char pod_want[] = "{\n"
                                       "  \"acVersion\": \"0.8.11\",\n"
                                       "  \"acKind\": \"PodManifest\",\n"
                                       "  \"apps\": [\n"
                                       "    {\n"
                                       "      \"name\": \"a\",\n"
                                       "      \"image\": {\n"
                                       "        \"id\": \"sha512-aa\"\n"
                                       "      },\n"
                                       "      \"app\": {\n"
                                       "        \"exec\": [\n"
                                       "          \"/x\"\n"
                                       "        ],\n"
                                       "        \"user\": \"0\",\n"
                                       "        \"group\": \"0\",\n"
                                       "        \"ports\": [\n"
                                       "          {\n"
                                       "            \"name\": \"p\",\n"
                                       "            \"protocol\": \"tcp\",\n"
                                       "            \"port\": 80,\n"
                                       "            \"count\": 1,\n"
                                       "            \"socketActivated\": false\n"
                                       "          }\n"
                                       "        ]\n"
                                       "      }\n"
                                       "    }\n"
                                       "  ]\n"
                                       "}\n";
        static const char image_want[] = "{\n"
                                         "  \"acKind\": \"ImageManifest\",\n"
                                         "  \"acVersion\": \"0.8.11\",\n"
                                         "  \"name\": \"example.com/x\",\n"
                                         "  \"app\": {\n"
                                         "    \"user\": \"0\",\n"
                                         "    \"group\": \"0\"\n"
                                         "  },\n"
                                         "  \"dependencies\": [\n"
                                         "    {\n"
                                         "      \"imageName\": \"example.com/base\",\n"
                                         "      \"size\": 42\n"
                                         "    }\n"
                                         "  ],\n"
                                         "  \"pathWhitelist\": [\n"
                                         "    \"/a\"\n"
                                         "  ]\n"
                                         "}\n";
        _cleanup_(pod_freep) Pod *p = NULL, *empty = NULL;
        _cleanup_(image_freep) Image *i = NULL;
        _cleanup_free_ char *j = NULL, *ji = NULL, *je = NULL;
        size_t n = 0;

        /* Keys given out of order, and fields at their defaults. */
        p = parse_pod("{`apps`:[{`app`:{`group`:`0`,`user`:`0`,`exec`:[`/x`],`environment`:[],"
                      "`ports`:[{`socketActivated`:false,`port`:80,`protocol`:`tcp`,`name`:`p`}]},"
                      "`image`:{`labels`:[],`id`:`sha512-aa`},`name`:`a`,`readOnlyRootFS`:false,`mounts`:[]}],"
                      "`acKind`:`PodManifest`,`volumes`:[],`acVersion`:`0.8.11`,`userLabels`:{}}");
        i = parse_image("{`pathWhitelist`:[`/a`],`dependencies`:[{`size`:42,`imageName`:`example.com/base`}],"
                        "`app`:{`user`:`0`,`exec`:[],`group`:`0`},`name`:`example.com/x`,"
                        "`acKind`:`ImageManifest`,`acVersion`:`0.8.11`}");
        empty = parse_pod("{" HDR ",`apps`:[]}");
        if (!OK(p && i && empty, "layout inputs parse"))
                return;
        OK_INTEQ(manifest_pod_to_json(p, &j, &n), 0, "pod written");
        OK_STREQ(j, pod_want, "pod layout");
        OK_INTEQ(n, strlen(pod_want), "size without the NUL");
        ji = image_json(i);
        OK_STREQ(ji, image_want, "image layout");
        je = pod_json(empty);
        OK_STREQ(je, "{\n  \"acVersion\": \"0.8.11\",\n  \"acKind\": \"PodManifest\",\n  \"apps\": []\n}\n",
                 "apps written even when empty");
}

/* Models built or changed by hand that break the parser's invariants. */
static void test_invalid_models(void) {
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_(image_freep) Image *i = NULL;
        char *s = (char *) "unchanged", *saved;
        App *a;

        p = parse_pod(everything);
        i = parse_image("{`acKind`:`ImageManifest`,`acVersion`:`0.8.11`,`name`:`example.com/x`,"
                        "`dependencies`:[{`imageName`:`example.com/base`}]}");
        if (!OK(p && i, "inputs parse"))
                return;
        a = p->apps[0].app;

#define BREAK(field, value, what)                                                                    \
        do {                                                                                         \
                __typeof__(field) _saved = (field);                                                  \
                (field) = (value);                                                                   \
                OK_INTEQ(manifest_pod_to_json(p, &s, NULL), -EINVAL, "%s is refused", what);         \
                OK_STREQ(s, "unchanged", "%s: *ret left alone", what);                               \
                (field) = _saved;                                                                    \
        } while (0)

        BREAK(p->ac_version, NULL, "no acVersion");
        BREAK(a->user, NULL, "no user");
        BREAK(p->apps[1].image.id, NULL, "no image id");
        BREAK(p->apps[0].mounts[1].app_volume->name, NULL, "appVolume without a name");
        BREAK(p->volumes[0].source, NULL, "host volume without source");
        BREAK(p->volumes[2].read_only, 2, "tri-state 2");
        BREAK(p->volumes[3].mode, 010000, "mode above 07777");
        BREAK(p->volumes[3].kind, (VolumeKind) 7, "unknown volume kind");
        BREAK(a->isolators[13].kind, _ISOLATOR_KIND_MAX, "unknown isolator kind");
        BREAK(a->isolators[4].resource.request.set, true, "request on network-bandwidth");
        BREAK(a->isolators[12].apparmor_profile, NULL, "apparmor without profile");
        BREAK(a->environment[0].value, NULL, "environment without value");

        /* A repeated map key would silently lose a value. */
        saved = p->user_labels[1].name;
        p->user_labels[1].name = p->user_labels[0].name;
        OK_INTEQ(manifest_pod_to_json(p, &s, NULL), -EINVAL, "repeated userLabels key is refused");
        p->user_labels[1].name = saved;

        /* Strings must be UTF-8 to be JSON. */
        saved = a->exec[4];
        a->exec[4] = (char *) "\xff\xfe";
        OK_INTEQ(manifest_pod_to_json(p, &s, NULL), -EINVAL, "invalid UTF-8 is refused");
        a->exec[4] = saved;
        saved = a->user_annotations[0].name;
        a->user_annotations[0].name = (char *) "\xc0\x80";
        OK_INTEQ(manifest_pod_to_json(p, &s, NULL), -EINVAL, "invalid UTF-8 in a map key is refused");
        a->user_annotations[0].name = saved;

        /* An empty set would not read back. */
        {
                char **caps = a->isolators[5].caps, *none[] = { NULL };

                a->isolators[5].caps = none;
                OK_INTEQ(manifest_pod_to_json(p, &s, NULL), -EINVAL, "empty capability set is refused");
                a->isolators[5].caps = caps;
        }

        OK_INTEQ(manifest_pod_to_json(NULL, &s, NULL), -EINVAL, "NULL pod");
        OK_INTEQ(manifest_image_to_json(NULL, &s, NULL), -EINVAL, "NULL image");
        OK_STREQ(s, "unchanged", "*ret left alone");

        i->dependencies[0].size = (uint64_t) INT64_MAX + 1;
        OK_INTEQ(manifest_image_to_json(i, &s, NULL), -EINVAL, "size beyond int64");
        i->dependencies[0].size = 0;
        saved = i->name;
        i->name = NULL;
        OK_INTEQ(manifest_image_to_json(i, &s, NULL), -EINVAL, "image without name");
        i->name = saved;

        /* And the untouched models still write. */
        OK_INTEQ(manifest_pod_to_json(p, &s, NULL), 0, "restored pod writes");
        free(s);
        s = NULL;
        OK_INTEQ(manifest_image_to_json(i, &s, NULL), 0, "restored image writes");
        free(s);
}

/* ---- copies ------------------------------------------------------------------------------- */

static void test_app_copy(void) {
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_(image_freep) Image *img = NULL;
        _cleanup_(app_freep) App *c = NULL, *ci = NULL;
        _cleanup_free_ char *j1 = NULL, *j2 = NULL, *ji1 = NULL, *ji2 = NULL;
        NameValue *nv = NULL;
        App *orig;

        p = parse_pod(everything);
        if (!OK(p, "input parses"))
                return;
        orig = p->apps[0].app;
        c = app_copy(orig);
        if (!OK(c, "app_copy"))
                return;
        diff = "?";
        if (!OK(app_eq(orig, c), "copy equals the original"))
                printf("#   differs: %s\n", diff);
        OK(c->exec != orig->exec && c->exec[1] != orig->exec[1] && c->user != orig->user &&
                   c->isolators != orig->isolators &&
                   c->isolators[0].resource.request.text != orig->isolators[0].resource.request.text &&
                   c->isolators[13].sysctl.items[0].name != orig->isolators[13].sysctl.items[0].name &&
                   c->supplementary_gids != orig->supplementary_gids,
           "copy shares no memory");

        /* Written in place of the original, the pod comes out identical. */
        j1 = pod_json(p);
        p->apps[0].app = c;
        j2 = pod_json(p);
        p->apps[0].app = orig;
        OK_STREQ(j2, j1, "pod with the copy writes identically");

        /* Changing the copy leaves the original alone. */
        free(c->user);
        c->user = strdup("nobody");
        OK_STREQ(orig->user, "1000", "original unchanged");

        /* An image app without exec or lists. */
        img = parse_image("{`acKind`:`ImageManifest`,`acVersion`:`0.8.11`,`name`:`example.com/x`,"
                          "`app`:{`user`:`0`,`group`:`0`}}");
        if (!OK(img, "image parses"))
                return;
        ci = app_copy(img->app);
        OK(ci && app_eq(img->app, ci), "bare app copied");
        ji1 = image_json(img);
        if (ci) {
                App *o = img->app;

                img->app = ci;
                ji2 = image_json(img);
                img->app = o;
        }
        OK_STREQ(ji2, ji1, "image with the copy writes identically");

        OK_INTEQ(name_values_copy(p->annotations, p->n_annotations, &nv), 0, "name_values_copy");
        OK(nv && nv_eq(nv, p->n_annotations, p->annotations, p->n_annotations) && nv[0].name != p->annotations[0].name,
           "name/value copy equal and separate");
        for (size_t k = 0; nv && k < p->n_annotations; k++) {
                free(nv[k].name);
                free(nv[k].value);
        }
        free(nv);
        nv = (NameValue *) 1;
        OK_INTEQ(name_values_copy(NULL, 0, &nv), 0, "empty name/value copy");
        OK(!nv, "empty copy is NULL");
}

int main(void) {
        test_layout();
        test_everything();
        test_invalid_models();
        test_app_copy();
        test_corpus();
        test_golden();
        return tap_done();
}
