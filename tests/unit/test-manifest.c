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
 * JSON in this file is written with backticks for double quotes, so the
 * tables stay readable; json() turns them back. Expected error substrings use
 * the same convention.
 */

static char *json(const char *s) {
        char *d = strdup(s);

        for (char *p = d; p && *p; p++)
                if (*p == '`')
                        *p = '"';
        return d;
}

static int parse_pod(const char *s, Pod **ret, NpError *e) {
        char *d = json(s);
        int r = manifest_parse_pod(d, strlen(d), ret, e);

        free(d);
        return r;
}

static int parse_image(const char *s, Image **ret, NpError *e) {
        char *d = json(s);
        int r = manifest_parse_image(d, strlen(d), ret, e);

        free(d);
        return r;
}

#define HDR "`acKind`:`PodManifest`,`acVersion`:`0.8.11`"
#define APP0 "{`name`:`a`,`image`:{`id`:`sha512-aa`}}"
/* A pod with one app that uses the image's app; extra top-level fields appended. */
#define POD(...) "{" HDR ",`apps`:[" APP0 "]" __VA_ARGS__ "}"
/* A pod whose single app carries an app object with extra fields. */
#define APP(...)                                                                                     \
        "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`},`app`:{`exec`:[`/x`],`user`:`0`,`group`:`0`" \
        __VA_ARGS__ "}}]}"
#define RAPP(...) "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`}" __VA_ARGS__ "}]}"
#define ISO(...) APP(",`isolators`:[" __VA_ARGS__ "]")
#define IHDR "`acKind`:`ImageManifest`,`acVersion`:`0.8.11`,`name`:`example.com/app`"
#define IMG(...) "{" IHDR __VA_ARGS__ "}"

static const char full_pod[] =
        "{`acKind`:`PodManifest`,`acVersion`:`0.8.11`,"
        "`apps`:["
        " {`name`:`web`,"
        "  `image`:{`name`:`example.com/web`,`id`:`sha512-0123abcd`,"
        "           `labels`:[{`name`:`version`,`value`:`1.0`},{`name`:`os`,`value`:`linux`},"
        "                     {`name`:`arch`,`value`:`amd64`}]},"
        "  `app`:{"
        "   `exec`:[`/bin/web`,`--port`,`80`],"
        "   `user`:`1000`,`group`:`users`,"
        "   `supplementaryGIDs`:[400,4294967294],"
        "   `eventHandlers`:[{`name`:`pre-start`,`exec`:[`/bin/setup`]},"
        "                    {`name`:`post-stop`,`exec`:[`/bin/cleanup`,`-f`]}],"
        "   `workingDirectory`:`/srv`,"
        "   `environment`:[{`name`:`PATH`,`value`:`/bin`},{`name`:`EMPTY`,`value`:``}],"
        "   `mountPoints`:[{`name`:`data`,`path`:`/data`,`readOnly`:true},{`name`:`logs`,`path`:`var/log`}],"
        "   `ports`:[{`name`:`http`,`protocol`:`tcp`,`port`:80,`count`:0,`socketActivated`:true},"
        "            {`name`:`dns`,`protocol`:`udp`,`port`:5353,`count`:3}],"
        "   `isolators`:["
        "     {`name`:`resource/cpu`,`value`:{`request`:`250m`,`limit`:1.5}},"
        "     {`name`:`resource/memory`,`value`:{`limit`:`25Mi`,`default`:false}},"
        "     {`name`:`resource/block-bandwidth`,`value`:{`default`:true,`limit`:`10M`}},"
        "     {`name`:`resource/block-iops`,`value`:{`default`:true,`limit`:1000}},"
        "     {`name`:`resource/network-bandwidth`,`value`:{`default`:true,`limit`:`1G`}},"
        "     {`name`:`os/linux/capabilities-retain-set`,`value`:{`set`:[`CAP_NET_BIND_SERVICE`,`CAP_CHOWN`]}},"
        "     {`name`:`os/linux/capabilities-remove-set`,`value`:{`set`:[`CAP_KILL`]}},"
        "     {`name`:`os/linux/seccomp-remove-set`,"
        "      `value`:{`set`:[`@docker/default-blacklist`,`reboot`],`errno`:`EPERM`}},"
        "     {`name`:`os/linux/no-new-privileges`,`value`:true},"
        "     {`name`:`os/linux/oom-score-adj`,`value`:-100},"
        "     {`name`:`os/linux/cpu-shares`,`value`:512},"
        "     {`name`:`os/linux/selinux-context`,"
        "      `value`:{`user`:`system_u`,`role`:`system_r`,`type`:`svirt_lxc_net_t`,`level`:`s0:c1,c2`}},"
        "     {`name`:`os/linux/apparmor-profile`,`value`:{`profile`:`rkt-default`}},"
        "     {`name`:`os/unix/sysctl`,`value`:{`net.b`:`2`,`net.a`:`1`}}],"
        "   `userAnnotations`:{`z`:`1`,`a`:`2`},"
        "   `userLabels`:{`tier`:`web`}},"
        "  `readOnlyRootFS`:true,"
        "  `mounts`:[{`volume`:`data`,`path`:`/data`},"
        "            {`volume`:`scratch`,`path`:`/tmp/x`,"
        "             `appVolume`:{`name`:`scratch`,`kind`:`empty`,`mode`:`0700`,`uid`:5,`gid`:6}}],"
        "  `annotations`:[{`name`:`coreos.com/rkt/stage2/stdout`,`value`:`log`}]},"
        " {`name`:`worker`,`image`:{`id`:`sha512-ff`}}],"
        "`volumes`:[{`name`:`data`,`kind`:`host`,`source`:`/srv/data`,`readOnly`:false,`recursive`:false},"
        "           {`name`:`cache`,`kind`:`empty`,`source`:``,`readOnly`:true}],"
        "`isolators`:[{`name`:`resource/memory`,`value`:{`limit`:`1G`}}],"
        "`annotations`:[{`name`:`created`,`value`:`2016-01-02T15:04:05Z`},"
        "               {`name`:`homepage`,`value`:`https://example.com`}],"
        "`ports`:[{`name`:`http`,`hostPort`:8080,`hostIP`:`127.0.0.1`},"
        "         {`name`:`dns`,`hostPort`:53,`podPort`:{`name`:`dns`,`protocol`:`udp`,`port`:5353}}],"
        "`userAnnotations`:{`owner`:`me`},"
        "`userLabels`:{`b`:`2`,`a`:`1`}}";

static void test_full_pod(void) {
        _cleanup_error_ NpError e = NP_ERROR_INIT;
        _cleanup_(pod_freep) Pod *p = NULL;
        const RuntimeApp *ra;
        const App *a;
        const Isolator *iso;
        const Volume *v;
        int r;

        r = parse_pod(full_pod, &p, &e);
        OK_INTEQ(r, 0, "full pod parses");
        if (r < 0) {
                printf("# %s\n", error_format(&e, r));
                return;
        }
        OK_STREQ(p->ac_version, "0.8.11", "acVersion");
        OK_INTEQ(p->n_apps, 2, "two apps");

        ra = pod_find_app(p, "web");
        OK(ra == &p->apps[0], "pod_find_app(web)");
        OK(pod_find_app(p, "worker") == &p->apps[1], "pod_find_app(worker)");
        OK(!pod_find_app(p, "nope"), "pod_find_app(nope)");
        OK_STREQ(ra->image.name, "example.com/web", "image name");
        OK_STREQ(ra->image.id, "sha512-0123abcd", "image id");
        OK_INTEQ(ra->image.n_labels, 3, "image labels");
        OK_STREQ(name_value_find(ra->image.labels, ra->image.n_labels, "arch")->value, "amd64", "arch label");
        OK(!name_value_find(ra->image.labels, ra->image.n_labels, "nope"), "missing label");
        OK(ra->read_only_root_fs, "readOnlyRootFS");
        OK_INTEQ(ra->n_mounts, 2, "mounts");
        OK_STREQ(ra->mounts[0].volume, "data", "mount volume");
        OK_STREQ(ra->mounts[0].path, "/data", "mount path");
        OK(!ra->mounts[0].app_volume, "no appVolume");
        OK(ra->mounts[1].app_volume, "appVolume");
        if (ra->mounts[1].app_volume) {
                v = ra->mounts[1].app_volume;
                OK_STREQ(v->name, "scratch", "appVolume name");
                OK_INTEQ(v->kind, VOLUME_EMPTY, "appVolume kind");
                OK_INTEQ(v->mode, 0700, "appVolume mode");
                OK_INTEQ(v->uid, 5, "appVolume uid");
                OK_INTEQ(v->gid, 6, "appVolume gid");
                OK(!v->source, "appVolume source");
                OK_INTEQ(v->read_only, -1, "appVolume readOnly unset");
        }
        OK_INTEQ(ra->n_annotations, 1, "app annotations");
        OK_STREQ(ra->annotations[0].value, "log", "annotation value");

        a = ra->app;
        OK(a, "app present");
        if (!a)
                return;
        OK_INTEQ(strv_length(a->exec), 3, "exec");
        OK_STREQ(a->exec[0], "/bin/web", "exec[0]");
        OK_STREQ(a->exec[2], "80", "exec[2]");
        OK_STREQ(a->user, "1000", "user");
        OK_STREQ(a->group, "users", "group");
        OK_INTEQ(a->n_supplementary_gids, 2, "supplementary gids");
        OK_INTEQ(a->supplementary_gids[0], 400, "gid 0");
        OK_INTEQ(a->supplementary_gids[1], 4294967294U, "gid 1");
        OK_INTEQ(a->n_event_handlers, 2, "event handlers");
        OK_STREQ(a->event_handlers[1].name, "post-stop", "handler name");
        OK_STREQ(a->event_handlers[1].exec[1], "-f", "handler exec");
        OK_STREQ(a->working_directory, "/srv", "workingDirectory");
        OK_INTEQ(a->n_environment, 2, "environment");
        OK_STREQ(a->environment[0].name, "PATH", "environment in manifest order");
        OK_STREQ(a->environment[1].value, "", "empty env value");
        OK_INTEQ(a->n_mount_points, 2, "mount points");
        OK(a->mount_points[0].read_only && !a->mount_points[1].read_only, "mount point readOnly");
        OK_STREQ(a->mount_points[1].path, "var/log", "relative mount point path kept");
        OK_INTEQ(a->n_ports, 2, "ports");
        OK_STREQ(a->ports[0].protocol, "tcp", "protocol");
        OK_INTEQ(a->ports[0].port, 80, "port");
        OK_INTEQ(a->ports[0].count, 1, "count 0 means 1");
        OK(a->ports[0].socket_activated, "socketActivated");
        OK_INTEQ(a->ports[1].count, 3, "count");
        OK(!a->ports[1].socket_activated, "socketActivated default");
        OK_INTEQ(a->n_user_annotations, 2, "user annotations");
        OK_STREQ(a->user_annotations[0].name, "a", "user annotations sorted");
        OK_STREQ(a->user_annotations[1].name, "z", "user annotations sorted (2)");
        OK_STREQ(a->user_labels[0].value, "web", "user label");

        OK_INTEQ(a->n_isolators, 14, "isolators");
        if (a->n_isolators != 14)
                return;
        iso = a->isolators;
        OK_INTEQ(iso[0].kind, ISOLATOR_RESOURCE_CPU, "cpu kind");
        OK(iso[0].resource.request.set && iso[0].resource.request.milli == 250, "cpu request 250m");
        OK(iso[0].resource.limit.set && iso[0].resource.limit.milli == 1500, "cpu limit from a JSON real");
        OK_STREQ(iso[0].resource.limit.text, "1.5", "real printed back as 1.5");
        OK_INTEQ(iso[1].kind, ISOLATOR_RESOURCE_MEMORY, "memory kind");
        OK(!iso[1].resource.request.set, "memory request unset");
        OK_INTEQ(iso[1].resource.limit.ceil, 26214400, "memory limit 25Mi");
        OK_STREQ(iso[1].resource.limit.text, "25Mi", "quantity text");
        OK_INTEQ(iso[2].kind, ISOLATOR_RESOURCE_BLOCK_BANDWIDTH, "block-bandwidth");
        OK_INTEQ(iso[2].resource.limit.ceil, 10000000, "block-bandwidth limit");
        OK_INTEQ(iso[3].kind, ISOLATOR_RESOURCE_BLOCK_IOPS, "block-iops");
        OK_STREQ(iso[3].resource.limit.text, "1000", "integer quantity text");
        OK_INTEQ(iso[3].resource.limit.ceil, 1000, "integer quantity");
        OK_INTEQ(iso[4].kind, ISOLATOR_RESOURCE_NETWORK_BANDWIDTH, "network-bandwidth");
        OK_INTEQ(iso[5].kind, ISOLATOR_CAPABILITIES_RETAIN, "caps retain");
        OK_INTEQ(strv_length(iso[5].caps), 2, "caps retain set");
        OK_STREQ(iso[5].caps[1], "CAP_CHOWN", "caps verbatim");
        OK_INTEQ(iso[6].kind, ISOLATOR_CAPABILITIES_REMOVE, "caps remove");
        OK_INTEQ(iso[7].kind, ISOLATOR_SECCOMP_REMOVE, "seccomp remove");
        OK_STREQ(iso[7].seccomp.set[0], "@docker/default-blacklist", "seccomp set");
        OK_STREQ(iso[7].seccomp.errno_name, "EPERM", "seccomp errno");
        OK_INTEQ(iso[8].kind, ISOLATOR_NO_NEW_PRIVILEGES, "nnp");
        OK(iso[8].no_new_privileges, "nnp true");
        OK_INTEQ(iso[9].kind, ISOLATOR_OOM_SCORE_ADJ, "oom");
        OK_INTEQ(iso[9].integer, -100, "oom value");
        OK_INTEQ(iso[10].kind, ISOLATOR_CPU_SHARES, "cpu-shares");
        OK_INTEQ(iso[10].integer, 512, "cpu-shares value");
        OK_INTEQ(iso[11].kind, ISOLATOR_SELINUX_CONTEXT, "selinux");
        OK_STREQ(iso[11].selinux.type, "svirt_lxc_net_t", "selinux type");
        OK_STREQ(iso[11].selinux.level, "s0:c1,c2", "selinux level with ':'");
        OK_INTEQ(iso[12].kind, ISOLATOR_APPARMOR_PROFILE, "apparmor");
        OK_STREQ(iso[12].apparmor_profile, "rkt-default", "apparmor profile");
        OK_INTEQ(iso[13].kind, ISOLATOR_SYSCTL, "sysctl");
        OK_INTEQ(iso[13].sysctl.n_items, 2, "sysctl items");
        OK_STREQ(iso[13].sysctl.items[0].name, "net.a", "sysctl sorted");

        OK(!p->apps[1].app, "second app uses the image's app");
        OK(!p->apps[1].image.name, "second app has no image name");

        OK_INTEQ(p->n_volumes, 2, "volumes");
        v = pod_find_volume(p, "data");
        OK(v == &p->volumes[0], "pod_find_volume(data)");
        OK(!pod_find_volume(p, "nope"), "pod_find_volume(nope)");
        OK_INTEQ(v->kind, VOLUME_HOST, "host volume");
        OK_STREQ(v->source, "/srv/data", "host source");
        OK_INTEQ(v->read_only, 0, "readOnly false");
        OK_INTEQ(v->recursive, 0, "recursive false");
        v = pod_find_volume(p, "cache");
        OK(v && v->kind == VOLUME_EMPTY && v->mode == 0755 && v->uid == 0 && v->gid == 0,
           "empty volume defaults");
        OK(v && !v->source, "empty volume source \"\" reads as absent");
        OK(v && v->read_only == 1 && v->recursive == -1, "empty volume tristates");

        OK_INTEQ(p->n_isolators, 1, "pod isolators");
        OK_INTEQ(p->n_annotations, 2, "pod annotations");
        OK_INTEQ(p->n_ports, 2, "pod ports");
        OK_STREQ(p->ports[0].host_ip, "127.0.0.1", "hostIP");
        OK_INTEQ(p->ports[0].host_port, 8080, "hostPort");
        OK(!p->ports[0].pod_port, "no podPort");
        OK(!p->ports[1].host_ip, "hostIP absent");
        OK(p->ports[1].pod_port && p->ports[1].pod_port->port == 5353 && p->ports[1].pod_port->count == 1,
           "podPort");
        OK_INTEQ(p->n_user_annotations, 1, "pod user annotations");
        OK_STREQ(p->user_labels[0].name, "a", "pod user labels sorted");
        OK_STREQ(p->user_labels[1].value, "2", "pod user labels values follow");
}

static const char full_image[] =
        "{`acKind`:`ImageManifest`,`acVersion`:`0.8.11`,`name`:`example.com/reduce-worker`,"
        "`labels`:[{`name`:`version`,`value`:`1.0.0`},{`name`:`arch`,`value`:`amd64`},{`name`:`os`,`value`:`linux`}],"
        "`app`:{`exec`:[`/usr/bin/reduce-worker`,`--quiet`],`user`:`100`,`group`:`300`,"
        "       `environment`:[{`name`:`REDUCE_WORKER_DEBUG`,`value`:`true`}]},"
        "`annotations`:[{`name`:`authors`,`value`:`Carly <carly@example.com>`},"
        "               {`name`:`created`,`value`:`2014-10-27T19:32:58.123+01:00`},"
        "               {`name`:`documentation`,`value`:`https://example.com/docs`},"
        "               {`name`:`homepage`,`value`:`http://example.com`}],"
        "`dependencies`:[{`imageName`:`example.com/reduce-worker-base`,`imageID`:`sha512-abc`,"
        "                 `labels`:[{`name`:`os`,`value`:`linux`}],`size`:1234567890123},"
        "                {`imageName`:`example.com/other`}],"
        "`pathWhitelist`:[`/etc/ca/example.com/crt`,`/usr/bin/map-reduce-worker`]}";

static void test_full_image(void) {
        _cleanup_error_ NpError e = NP_ERROR_INIT;
        _cleanup_(image_freep) Image *i = NULL;
        int r;

        r = parse_image(full_image, &i, &e);
        OK_INTEQ(r, 0, "full image parses");
        if (r < 0) {
                printf("# %s\n", error_format(&e, r));
                return;
        }
        OK_STREQ(i->ac_version, "0.8.11", "image acVersion");
        OK_STREQ(i->name, "example.com/reduce-worker", "image name");
        OK_INTEQ(i->n_labels, 3, "image labels");
        OK(i->app && i->app->n_environment == 1, "image app");
        OK(i->app && strv_length(i->app->exec) == 2, "image app exec");
        OK_INTEQ(i->n_annotations, 4, "image annotations");
        OK_INTEQ(i->n_dependencies, 2, "dependencies");
        OK_STREQ(i->dependencies[0].image_id, "sha512-abc", "dependency id");
        OK_INTEQ(i->dependencies[0].size, 1234567890123LL, "dependency size");
        OK_INTEQ(i->dependencies[0].n_labels, 1, "dependency labels");
        OK(!i->dependencies[1].image_id && i->dependencies[1].size == 0, "dependency defaults");
        OK_INTEQ(strv_length(i->path_whitelist), 2, "pathWhitelist");
}

static void test_minimal(void) {
        _cleanup_error_ NpError e = NP_ERROR_INIT;
        Pod *p = NULL;
        Image *i = NULL;
        int r;

        r = parse_pod("{" HDR ",`apps`:[]}", &p, &e);
        OK_INTEQ(r, 0, "pod with an empty apps array (actool accepts it too)");
        OK(p && p->n_apps == 0 && !p->apps, "no apps");
        p = pod_free(p);

        r = parse_image("{" IHDR "}", &i, &e);
        OK_INTEQ(r, 0, "minimal image");
        OK(i && !i->app && !i->path_whitelist && i->n_labels == 0, "minimal image is empty");
        i = image_free(i);

        r = parse_image(IMG(",`app`:{`user`:`0`,`group`:`0`}"), &i, &e);
        OK_INTEQ(r, 0, "image app without exec");
        OK(i && i->app && i->app->exec && !i->app->exec[0], "absent exec reads as an empty vector");
        i = image_free(i);
        OK(!pod_free(NULL) && !image_free(NULL) && !app_free(NULL), "destructors accept NULL");
}

/* null means absent for every optional field. */
static void test_nulls(void) {
        static const char *const pods[] = {
                POD(",`volumes`:null,`isolators`:null,`annotations`:null,`ports`:null,`userAnnotations`:null,"
                    "`userLabels`:null"),
                RAPP(",`app`:null,`readOnlyRootFS`:null,`mounts`:null,`annotations`:null"),
                "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`,`name`:null,`labels`:null}}]}",
                APP(",`eventHandlers`:null,`supplementaryGIDs`:null,`workingDirectory`:null,`environment`:null,"
                    "`mountPoints`:null,`ports`:null,`isolators`:null,`userAnnotations`:null,`userLabels`:null"),
                APP(",`ports`:[{`name`:`p`,`protocol`:`tcp`,`port`:1,`count`:null,`socketActivated`:null}]"),
                APP(",`mountPoints`:[{`name`:`p`,`path`:`/p`,`readOnly`:null}]"),
                POD(",`volumes`:[{`name`:`v`,`kind`:`host`,`source`:`/x`,`readOnly`:null,`recursive`:null,"
                    "`mode`:null,`uid`:null,`gid`:null}]"),
                POD(",`volumes`:[{`name`:`v`,`kind`:`empty`,`source`:null,`mode`:null,`uid`:null,`gid`:null}]"),
                POD(",`ports`:[{`name`:`p`,`hostPort`:1,`hostIP`:null,`podPort`:null}]"),
                ISO("{`name`:`resource/cpu`,`value`:{`request`:null,`limit`:null,`default`:null}}"),
                ISO("{`name`:`resource/block-iops`,`value`:{`default`:true,`request`:null,`limit`:null}}"),
                ISO("{`name`:`os/linux/seccomp-retain-set`,`value`:{`set`:[`read`],`errno`:null}}"),
                ISO("{`name`:`os/linux/seccomp-retain-set`,`value`:{`set`:[`read`],`errno`:``}}"),
        };
        static const char *const images[] = {
                IMG(",`labels`:null,`app`:null,`annotations`:null,`dependencies`:null,`pathWhitelist`:null"),
                IMG(",`dependencies`:[{`imageName`:`x`,`imageID`:null,`labels`:null,`size`:null}]"),
        };

        for (size_t k = 0; k < ELEMENTSOF(pods); k++) {
                _cleanup_error_ NpError e = NP_ERROR_INIT;
                Pod *p = NULL;
                int r = parse_pod(pods[k], &p, &e);

                OK_INTEQ(r, 0, "null optional fields accepted (pod %zu)", k);
                if (r < 0)
                        printf("# %s\n", error_format(&e, r));
                if (k == 7 && p)
                        OK(!p->volumes[0].source && p->volumes[0].mode == 0755, "null source/mode are defaults");
                if (k == 12 && p)
                        OK(!p->apps[0].app->isolators[0].seccomp.errno_name, "empty errno reads as absent");
                pod_free(p);
        }
        for (size_t k = 0; k < ELEMENTSOF(images); k++) {
                _cleanup_error_ NpError e = NP_ERROR_INIT;
                Image *i = NULL;
                int r = parse_image(images[k], &i, &e);

                OK_INTEQ(r, 0, "null optional fields accepted (image %zu)", k);
                if (r < 0)
                        printf("# %s\n", error_format(&e, r));
                image_free(i);
        }
}

typedef struct Case {
        const char *json;
        const char *error; /* substring of error_format() */
} Case;

static const Case pod_cases[] = {
        /* top level */
        { "{`acVersion`:`0.8.11`,`apps`:[]}", "$.acKind: required field is missing" },
        { "{`acKind`:`ImageManifest`,`acVersion`:`0.8.11`,`name`:`x`}",
          "$.acKind: expected `PodManifest`, got `ImageManifest`" },
        { "{`acKind`:5,`acVersion`:`0.8.11`,`apps`:[]}", "$.acKind: expected a string, got an integer" },
        { "{`acKind`:`PodManifest`,`apps`:[]}", "$.acVersion: required field is missing" },
        { "{`acKind`:`PodManifest`,`acVersion`:`0.0.0`,`apps`:[]}", "$.acVersion: `0.0.0` is not a valid SemVer" },
        { "{`acKind`:`PodManifest`,`acVersion`:`01.0.0`,`apps`:[]}", "$.acVersion: `01.0.0` is not a valid SemVer" },
        { "{`acKind`:`PodManifest`,`acVersion`:null,`apps`:[]}", "$.acVersion: must not be null" },
        { "{" HDR "}", "$.apps: required field is missing" },
        { "{" HDR ",`apps`:{}}", "$.apps: expected an array of apps, got an object" },
        { "{" HDR ",`apps`:[],`APPS`:[]}", "$.APPS: unknown field `APPS`" },
        { POD(",`foo`:1"), "$.foo: unknown field `foo`" },
        { POD(",`odd key`:1"), "$[`odd key`]: unknown field `odd key`" },
        /* runtime apps */
        { "{" HDR ",`apps`:[5]}", "$.apps[0]: expected an object, got an integer" },
        { "{" HDR ",`apps`:[{`image`:{`id`:`sha512-aa`}}]}", "$.apps[0].name: required field is missing" },
        { "{" HDR ",`apps`:[{`name`:`Web`,`image`:{`id`:`sha512-aa`}}]}",
          "$.apps[0].name: `Web` is not a valid ACName (lower-case letters, digits and '-', not starting or ending "
          "with '-')" },
        { "{" HDR ",`apps`:[{`name`:`-a`,`image`:{`id`:`sha512-aa`}}]}", "$.apps[0].name: `-a` is not a valid ACName" },
        { "{" HDR ",`apps`:[{`name`:``,`image`:{`id`:`sha512-aa`}}]}", "$.apps[0].name: `` is not a valid ACName" },
        { "{" HDR ",`apps`:[" APP0 "," APP0 "]}", "$.apps[1].name: duplicate app name `a` (also at [0])" },
        { "{" HDR ",`apps`:[{`name`:`a`}]}", "$.apps[0].image: required field is missing" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{}}]}", "$.apps[0].image.id: required field is missing" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha256-aa`}}]}",
          "$.apps[0].image.id: `sha256-aa` is not a valid image ID" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-XYZ`}}]}",
          "$.apps[0].image.id: `sha512-XYZ` is not a valid image ID" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`,`name`:`/x`}}]}",
          "$.apps[0].image.name: `/x` is not a valid ACIdentifier" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`,`foo`:1}}]}",
          "$.apps[0].image.foo: unknown field `foo`" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`,`labels`:[{`name`:`name`,`value`:`x`}]}}]}",
          "$.apps[0].image.labels[0].name: `name` is not allowed as a label name" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`,`labels`:[{`name`:`os`,`value`:`windows`}]}}]}",
          "$.apps[0].image.labels[0].value: `windows` is not a known os" },
        { RAPP(",`readOnlyRootFS`:`true`"), "$.apps[0].readOnlyRootFS: expected a boolean (true or false), got a string" },
        { RAPP(",`mounts`:[{`path`:`/x`}]"), "$.apps[0].mounts[0].volume: required field is missing" },
        { RAPP(",`mounts`:[{`volume`:``,`path`:`/x`}]"), "$.apps[0].mounts[0].volume: `` is not a valid ACName" },
        { RAPP(",`mounts`:[{`volume`:`v`,`path`:``}]"), "$.apps[0].mounts[0].path: must not be empty" },
        { RAPP(",`mounts`:[{`volume`:`v`}]"), "$.apps[0].mounts[0].path: required field is missing" },
        { RAPP(",`mounts`:[{`volume`:`v`,`path`:`/x`,`appVolume`:{`name`:`v`,`kind`:`host`}}]"),
          "$.apps[0].mounts[0].appVolume.source: a host volume needs a source" },
        { RAPP(",`mounts`:[{`volume`:`v`,`path`:`/x`,`readOnly`:true}]"),
          "$.apps[0].mounts[0].readOnly: unknown field `readOnly`" },
        { RAPP(",`annotations`:[{`name`:`x`,`value`:`1`},{`name`:`x`,`value`:`2`}]"),
          "$.apps[0].annotations[1].name: duplicate annotation name `x` (also at [0])" },
        { RAPP(",`annotations`:[{`name`:`x`}]"), "$.apps[0].annotations[0].value: required field is missing" },
        { RAPP(",`annotations`:[{`value`:`x`}]"), "$.apps[0].annotations[0].name: required field is missing" },
        { RAPP(",`annotations`:[{`name`:`X`,`value`:`x`}]"),
          "$.apps[0].annotations[0].name: `X` is not a valid ACIdentifier" },
        { RAPP(",`annotations`:[{`name`:`created`,`value`:`yesterday`}]"),
          "$.apps[0].annotations[0].value: `yesterday` is not an RFC 3339 date-time" },
        { RAPP(",`app`:5"), "$.apps[0].app: expected an object, got an integer" },
        /* app */
        { APP(",`exec`:[`x`]"), "duplicate object key" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`},`app`:{`exec`:[`bin/x`],`user`:`0`,`group`:`0`}}]}",
          "$.apps[0].app.exec[0]: `bin/x` is not an absolute path (exec[0] must be an absolute path)" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`},`app`:{`exec`:[`/x`,5],`user`:`0`,`group`:`0`}}]}",
          "$.apps[0].app.exec[1]: expected a string, got an integer" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`},`app`:{`exec`:`/x`,`user`:`0`,`group`:`0`}}]}",
          "$.apps[0].app.exec: expected an array of strings, got a string" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`},`app`:{`exec`:[`/x`],`group`:`0`}}]}",
          "$.apps[0].app.user: required field is missing" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`},`app`:{`exec`:[`/x`],`user`:``,`group`:`0`}}]}",
          "$.apps[0].app.user: must not be empty" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`},`app`:{`exec`:[`/x`],`user`:`0`}}]}",
          "$.apps[0].app.group: required field is missing" },
        { "{" HDR ",`apps`:[{`name`:`a`,`image`:{`id`:`sha512-aa`},`app`:{`exec`:[`/x`],`user`:0,`group`:`0`}}]}",
          "$.apps[0].app.user: expected a string, got an integer" },
        { APP(",`supplementaryGIDs`:[1,-1]"), "$.apps[0].app.supplementaryGIDs[1]: -1 is out of range (0..4294967294)" },
        { APP(",`supplementaryGIDs`:[4294967295]"), "$.apps[0].app.supplementaryGIDs[0]: 4294967295 is out of range" },
        { APP(",`supplementaryGIDs`:[1.0]"), "$.apps[0].app.supplementaryGIDs[0]: expected an integer, got a number" },
        { APP(",`supplementaryGIDs`:5"), "$.apps[0].app.supplementaryGIDs: expected an array of group IDs" },
        { APP(",`eventHandlers`:[{`name`:`pre-start`,`exec`:[`/a`]},{`name`:`pre-start`,`exec`:[`/b`]}]"),
          "$.apps[0].app.eventHandlers[1].name: duplicate event handler `pre-start` (also at [0])" },
        { APP(",`eventHandlers`:[{`name`:`on-crash`,`exec`:[`/a`]}]"),
          "$.apps[0].app.eventHandlers[0].name: `on-crash` is not an event handler name" },
        { APP(",`eventHandlers`:[{`name`:`pre-start`,`exec`:[]}]"),
          "$.apps[0].app.eventHandlers[0].exec: must not be empty" },
        { APP(",`eventHandlers`:[{`name`:`pre-start`}]"), "$.apps[0].app.eventHandlers[0].exec: required field is missing" },
        { APP(",`eventHandlers`:[{`name`:`post-stop`,`exec`:[`cleanup`]}]"),
          "$.apps[0].app.eventHandlers[0].exec[0]: `cleanup` is not an absolute path" },
        { APP(",`workingDirectory`:`srv`"), "$.apps[0].app.workingDirectory: `srv` is not an absolute path" },
        { APP(",`environment`:[{`name`:`1A`,`value`:`x`}]"),
          "$.apps[0].app.environment[0].name: `1A` is not a valid environment variable name" },
        { APP(",`environment`:[{`name`:`A`,`value`:`x`},{`name`:`A`,`value`:`y`}]"),
          "$.apps[0].app.environment[1].name: duplicate environment variable name `A` (also at [0])" },
        { APP(",`environment`:[{`name`:`A`,`value`:1}]"), "$.apps[0].app.environment[0].value: expected a string" },
        { APP(",`environment`:{`A`:`x`}"), "$.apps[0].app.environment: expected an array of environment variables" },
        { APP(",`mountPoints`:[{`path`:`/x`}]"), "$.apps[0].app.mountPoints[0].name: required field is missing" },
        { APP(",`mountPoints`:[{`name`:`x`}]"), "$.apps[0].app.mountPoints[0].path: required field is missing" },
        { APP(",`mountPoints`:[{`name`:`x`,`path`:``}]"), "$.apps[0].app.mountPoints[0].path: must not be empty" },
        { APP(",`mountPoints`:[{`name`:`X`,`path`:`/x`}]"), "$.apps[0].app.mountPoints[0].name: `X` is not a valid ACName" },
        { APP(",`mountPoints`:[{`name`:`x`,`path`:`/x`,`readOnly`:1}]"),
          "$.apps[0].app.mountPoints[0].readOnly: expected a boolean" },
        { APP(",`ports`:[{`name`:`p`,`protocol`:`sctp`,`port`:80}]"),
          "$.apps[0].app.ports[0].protocol: `sctp` is not a supported protocol (expected `tcp` or `udp`)" },
        { APP(",`ports`:[{`name`:`p`,`port`:80}]"), "$.apps[0].app.ports[0].protocol: required field is missing" },
        { APP(",`ports`:[{`name`:`p`,`protocol`:`tcp`,`port`:0}]"), "$.apps[0].app.ports[0].port: 0 is out of range (1..65535)" },
        { APP(",`ports`:[{`name`:`p`,`protocol`:`tcp`,`port`:65536}]"), "$.apps[0].app.ports[0].port: 65536 is out of range" },
        { APP(",`ports`:[{`name`:`p`,`protocol`:`tcp`}]"), "$.apps[0].app.ports[0].port: required field is missing" },
        { APP(",`ports`:[{`name`:`p`,`protocol`:`tcp`,`port`:65535,`count`:2}]"),
          "$.apps[0].app.ports[0].count: ports 65535..65536 go beyond 65535" },
        { APP(",`ports`:[{`name`:`p`,`protocol`:`tcp`,`port`:1,`count`:-1}]"), "$.apps[0].app.ports[0].count: -1 is out of range" },
        { APP(",`ports`:[{`protocol`:`tcp`,`port`:1}]"), "$.apps[0].app.ports[0].name: required field is missing" },
        { APP(",`ports`:[{`name`:`p`,`protocol`:`tcp`,`port`:1,`socketActivated`:`yes`}]"),
          "$.apps[0].app.ports[0].socketActivated: expected a boolean" },
        { APP(",`ports`:[{`name`:`p`,`protocol`:`tcp`,`port`:1},{`name`:`p`,`protocol`:`udp`,`port`:2}]"),
          "$.apps[0].app.ports[1].name: duplicate port name `p` (also at [0])" },
        { APP(",`userAnnotations`:{`a`:1}"), "$.apps[0].app.userAnnotations.a: expected a string, got an integer" },
        { APP(",`userLabels`:[]"), "$.apps[0].app.userLabels: expected an object of strings, got an array" },
        { APP(",`isolators`:{}"), "$.apps[0].app.isolators: expected an array of isolators, got an object" },
        { APP(",`Exec`:[]"), "$.apps[0].app.Exec: unknown field `Exec`" },
        /* isolators */
        { ISO("{`name`:`foo/bar`,`value`:{}}"), "$.apps[0].app.isolators[0].name: `foo/bar` is not a known isolator" },
        { ISO("{`name`:`Foo`,`value`:{}}"), "`Foo` is not a known isolator (nor a valid ACIdentifier)" },
        { ISO("{`value`:{}}"), "$.apps[0].app.isolators[0].name: required field is missing" },
        { ISO("{`name`:`resource/cpu`}"), "$.apps[0].app.isolators[0].value: required field is missing" },
        { ISO("{`name`:`resource/cpu`,`value`:null}"), "$.apps[0].app.isolators[0].value: must not be null" },
        { ISO("{`name`:`resource/cpu`,`value`:{},`extra`:1}"), "$.apps[0].app.isolators[0].extra: unknown field" },
        { ISO("{`name`:`resource/cpu`,`value`:5}"), "$.apps[0].app.isolators[0].value: expected an object, got an integer" },
        { ISO("{`name`:`resource/cpu`,`value`:{`limit`:`1`,`default`:true}}"),
          "$.apps[0].app.isolators[0].value.default: must be false for resource/cpu" },
        { ISO("{`name`:`resource/memory`,`value`:{`limit`:`1`,`default`:`false`}}"),
          "$.apps[0].app.isolators[0].value.default: expected a boolean" },
        { ISO("{`name`:`resource/memory`,`value`:{`limit`:`1Z`}}"),
          "$.apps[0].app.isolators[0].value.limit: `1Z` is not a valid quantity" },
        { ISO("{`name`:`resource/memory`,`value`:{`limit`:`-1`}}"),
          "$.apps[0].app.isolators[0].value.limit: `-1` is not a valid quantity" },
        { ISO("{`name`:`resource/memory`,`value`:{`limit`:-5}}"),
          "$.apps[0].app.isolators[0].value.limit: `-5` is not a valid quantity" },
        { ISO("{`name`:`resource/memory`,`value`:{`limit`:`1Ei`}}"),
          "$.apps[0].app.isolators[0].value.limit: `1Ei` is out of range" },
        { ISO("{`name`:`resource/memory`,`value`:{`request`:true}}"),
          "$.apps[0].app.isolators[0].value.request: expected a quantity" },
        { ISO("{`name`:`resource/cpu`,`value`:{`limit`:`1`,`max`:`2`}}"),
          "$.apps[0].app.isolators[0].value.max: unknown field `max`" },
        { ISO("{`name`:`resource/block-bandwidth`,`value`:{`limit`:`1M`}}"),
          "$.apps[0].app.isolators[0].value.default: required field is missing" },
        { ISO("{`name`:`resource/block-iops`,`value`:{`default`:false,`limit`:`1M`}}"),
          "$.apps[0].app.isolators[0].value.default: must be true for resource/block-iops" },
        { ISO("{`name`:`resource/network-bandwidth`,`value`:{`default`:true,`request`:`1`,`limit`:`1M`}}"),
          "$.apps[0].app.isolators[0].value.request: is not supported by resource/network-bandwidth" },
        { ISO("{`name`:`os/linux/capabilities-retain-set`,`value`:{`set`:[]}}"),
          "$.apps[0].app.isolators[0].value.set: must not be empty" },
        { ISO("{`name`:`os/linux/capabilities-remove-set`,`value`:{}}"),
          "$.apps[0].app.isolators[0].value.set: required field is missing" },
        { ISO("{`name`:`os/linux/capabilities-remove-set`,`value`:{`set`:[1]}}"),
          "$.apps[0].app.isolators[0].value.set[0]: expected a string" },
        { ISO("{`name`:`os/linux/seccomp-retain-set`,`value`:{`set`:[`read`]}},"
              "{`name`:`os/linux/seccomp-remove-set`,`value`:{`set`:[`write`]}}"),
          "$.apps[0].app.isolators[1]: os/linux/seccomp-remove-set conflicts with the os/linux/seccomp-retain-set "
          "isolator at [0]" },
        { ISO("{`name`:`os/linux/seccomp-retain-set`,`value`:{`set`:[`read`]}},"
              "{`name`:`os/linux/seccomp-retain-set`,`value`:{`set`:[`write`]}}"),
          "$.apps[0].app.isolators[1]: a second os/linux/seccomp-retain-set isolator (the first is [0]); only one "
          "is allowed" },
        { ISO("{`name`:`os/linux/seccomp-retain-set`,`value`:{`set`:[`read`],`errno`:`eperm`}}"),
          "$.apps[0].app.isolators[0].value.errno: `eperm` is not an errno name" },
        { ISO("{`name`:`os/linux/seccomp-retain-set`,`value`:{`set`:[`read`],`errno`:`E`}}"),
          "$.apps[0].app.isolators[0].value.errno: `E` is not an errno name" },
        { ISO("{`name`:`os/linux/seccomp-retain-set`,`value`:{`set`:[`read`],`errno`:`E_X`}}"),
          "$.apps[0].app.isolators[0].value.errno: `E_X` is not an errno name" },
        { ISO("{`name`:`os/linux/seccomp-remove-set`,`value`:{`set`:[]}}"),
          "$.apps[0].app.isolators[0].value.set: must not be empty" },
        { ISO("{`name`:`os/linux/no-new-privileges`,`value`:`true`}"),
          "$.apps[0].app.isolators[0].value: expected a boolean (true or false), got a string" },
        { ISO("{`name`:`os/linux/oom-score-adj`,`value`:1001}"),
          "$.apps[0].app.isolators[0].value: 1001 is out of range (-1000..1000)" },
        { ISO("{`name`:`os/linux/oom-score-adj`,`value`:1},{`name`:`os/linux/oom-score-adj`,`value`:2}"),
          "$.apps[0].app.isolators[1]: a second os/linux/oom-score-adj isolator" },
        { ISO("{`name`:`os/linux/cpu-shares`,`value`:1}"), "$.apps[0].app.isolators[0].value: 1 is out of range (2..262144)" },
        { ISO("{`name`:`os/linux/cpu-shares`,`value`:`100`}"), "$.apps[0].app.isolators[0].value: expected an integer" },
        { ISO("{`name`:`os/linux/cpu-shares`,`value`:2},{`name`:`os/linux/cpu-shares`,`value`:3}"),
          "a second os/linux/cpu-shares isolator" },
        { ISO("{`name`:`os/linux/selinux-context`,`value`:{`user`:`u:x`,`role`:`r`,`type`:`t`,`level`:`s0`}}"),
          "$.apps[0].app.isolators[0].value.user: must not contain ':'" },
        { ISO("{`name`:`os/linux/selinux-context`,`value`:{`user`:`u`,`role`:`r`,`type`:`t`}}"),
          "$.apps[0].app.isolators[0].value.level: required field is missing" },
        { ISO("{`name`:`os/linux/selinux-context`,`value`:{`user`:`u`,`role`:``,`type`:`t`,`level`:`s0`}}"),
          "$.apps[0].app.isolators[0].value.role: must not be empty" },
        { ISO("{`name`:`os/linux/selinux-context`,`value`:{`user`:`u`,`role`:`r`,`type`:`t`,`level`:`s0`}},"
              "{`name`:`os/linux/selinux-context`,`value`:{`user`:`u`,`role`:`r`,`type`:`t`,`level`:`s0`}}"),
          "a second os/linux/selinux-context isolator" },
        { ISO("{`name`:`os/linux/apparmor-profile`,`value`:{`profile`:``}}"),
          "$.apps[0].app.isolators[0].value.profile: must not be empty" },
        { ISO("{`name`:`os/linux/apparmor-profile`,`value`:{`profile`:`a`}},"
              "{`name`:`os/linux/apparmor-profile`,`value`:{`profile`:`b`}}"),
          "a second os/linux/apparmor-profile isolator" },
        { ISO("{`name`:`os/unix/sysctl`,`value`:{`a`:1}}"), "$.apps[0].app.isolators[0].value.a: expected a string" },
        { ISO("{`name`:`os/unix/sysctl`,`value`:{`a`:`1`}},{`name`:`os/unix/sysctl`,`value`:{`b`:`1`}}"),
          "a second os/unix/sysctl isolator" },
        { ISO("{`name`:`os/unix/sysctl`,`value`:[]}"), "$.apps[0].app.isolators[0].value: expected an object of strings" },
        { POD(",`isolators`:[{`name`:`foo/bar`,`value`:{}}]"), "$.isolators[0].name: `foo/bar` is not a known isolator" },
        { POD(",`isolators`:[{`name`:`os/linux/oom-score-adj`,`value`:1},{`name`:`os/linux/oom-score-adj`,`value`:1}]"),
          "$.isolators[1]: a second os/linux/oom-score-adj isolator" },
        /* volumes */
        { POD(",`volumes`:[{`kind`:`empty`}]"), "$.volumes[0].name: required field is missing" },
        { POD(",`volumes`:[{`name`:`v`}]"), "$.volumes[0].kind: required field is missing" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`tmpfs`}]"),
          "$.volumes[0].kind: `tmpfs` is not a volume kind (expected `host` or `empty`)" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`empty`},{`name`:`v`,`kind`:`empty`}]"),
          "$.volumes[1].name: duplicate volume name `v` (also at [0])" },
        { POD(",`volumes`:[{`name`:`a`,`kind`:`empty`},{`name`:`b`,`kind`:`empty`},{`name`:`b`,`kind`:`empty`},"
              "{`name`:`a`,`kind`:`empty`}]"),
          "$.volumes[2].name: duplicate volume name `b` (also at [1])" },
        { POD(",`volumes`:[{`name`:`c`,`kind`:`empty`},{`name`:`a`,`kind`:`empty`},{`name`:`a`,`kind`:`empty`},"
              "{`name`:`a`,`kind`:`empty`}]"),
          "$.volumes[2].name: duplicate volume name `a` (also at [1])" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`host`}]"), "$.volumes[0].source: a host volume needs a source" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`host`,`source`:``}]"), "$.volumes[0].source: a host volume needs a source" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`host`,`source`:`srv`}]"), "$.volumes[0].source: `srv` is not an absolute path" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`host`,`source`:`/srv`,`mode`:`0755`}]"),
          "$.volumes[0].mode: must not be set for a host volume" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`host`,`source`:`/srv`,`uid`:0}]"),
          "$.volumes[0].uid: must not be set for a host volume" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`host`,`source`:`/srv`,`gid`:0}]"),
          "$.volumes[0].gid: must not be set for a host volume" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`empty`,`source`:`/srv`}]"),
          "$.volumes[0].source: must not be set for an empty volume" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`empty`,`mode`:`abc`}]"), "$.volumes[0].mode: `abc` is not an octal mode" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`empty`,`mode`:`0789`}]"), "$.volumes[0].mode: `0789` is not an octal mode" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`empty`,`mode`:`17777`}]"), "$.volumes[0].mode: `17777` is not an octal mode" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`empty`,`mode`:``}]"), "$.volumes[0].mode: `` is not an octal mode" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`empty`,`mode`:755}]"), "$.volumes[0].mode: expected a string, got an integer" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`empty`,`uid`:-1}]"), "$.volumes[0].uid: -1 is out of range (0..4294967294)" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`empty`,`gid`:4294967295}]"), "$.volumes[0].gid: 4294967295 is out of range" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`empty`,`uid`:`0`}]"), "$.volumes[0].uid: expected an integer, got a string" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`empty`,`readOnly`:`true`}]"), "$.volumes[0].readOnly: expected a boolean" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`empty`,`recursive`:0}]"), "$.volumes[0].recursive: expected a boolean" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`empty`,`size`:`1G`}]"), "$.volumes[0].size: unknown field `size`" },
        { POD(",`volumes`:{}"), "$.volumes: expected an array of volumes, got an object" },
        /* pod ports */
        { POD(",`ports`:[{`name`:`p`,`hostPort`:0}]"), "$.ports[0].hostPort: 0 is out of range (1..65535)" },
        { POD(",`ports`:[{`name`:`p`,`hostPort`:70000}]"), "$.ports[0].hostPort: 70000 is out of range" },
        { POD(",`ports`:[{`name`:`p`}]"), "$.ports[0].hostPort: required field is missing" },
        { POD(",`ports`:[{`hostPort`:80}]"), "$.ports[0].name: required field is missing" },
        { POD(",`ports`:[{`name`:`p`,`hostPort`:80,`hostIP`:`::1`}]"), "$.ports[0].hostIP: `::1` is not an IPv4 address" },
        { POD(",`ports`:[{`name`:`p`,`hostPort`:80,`hostIP`:`1.2.3`}]"), "$.ports[0].hostIP: `1.2.3` is not an IPv4 address" },
        { POD(",`ports`:[{`name`:`p`,`hostPort`:80,`hostIP`:``}]"), "$.ports[0].hostIP: `` is not an IPv4 address" },
        { POD(",`ports`:[{`name`:`p`,`hostPort`:80,`podPort`:{`name`:`q`,`protocol`:`tcp`,`port`:0}}]"),
          "$.ports[0].podPort.port: 0 is out of range" },
        { POD(",`ports`:[{`name`:`p`,`hostPort`:80,`podPort`:{`name`:`q`,`protocol`:`icmp`,`port`:1}}]"),
          "$.ports[0].podPort.protocol: `icmp` is not a supported protocol" },
        /* annotations */
        { POD(",`annotations`:[{`name`:`a`,`value`:`1`},{`name`:`a`,`value`:`2`}]"),
          "$.annotations[1].name: duplicate annotation name `a` (also at [0])" },
        { POD(",`annotations`:[{`name`:`created`,`value`:`2016-02-30T00:00:00Z`}]"),
          "$.annotations[0].value: `2016-02-30T00:00:00Z` is not an RFC 3339 date-time" },
        { POD(",`annotations`:[{`name`:`homepage`,`value`:`ftp://x`}]"),
          "$.annotations[0].value: `ftp://x` is not an http:// or https:// URL with a host" },
        { POD(",`annotations`:[{`name`:`documentation`,`value`:`http:`}]"),
          "$.annotations[0].value: `http:` is not an http:// or https:// URL" },
        { POD(",`annotations`:[{`name`:`a`,`value`:`1`,`extra`:`2`}]"), "$.annotations[0].extra: unknown field" },
        { POD(",`userAnnotations`:{`a`:null}"), "$.userAnnotations.a: expected a string, got null" },
        { POD(",`userLabels`:{`a b`:5}"), "$.userLabels[`a b`]: expected a string, got an integer" },
        /* messages quote values safely */
        { POD(",`volumes`:[{`name`:`v`,`kind`:`a\\n\\u0001\\`\\\\`}]"),
          "$.volumes[0].kind: `a\\n\\u0001\\`\\\\` is not a volume kind" },
        { POD(",`volumes`:[{`name`:`v`,`kind`:`0123456789012345678901234567890123456789012345678901234567890123456789`}]"),
          "$.volumes[0].kind: `0123456789012345678901234567890123456789012345678901234567890123`… is not a volume kind" },
};

static const Case image_cases[] = {
        { "{`acKind`:`ImageManifest`,`name`:`x`}", "$.acVersion: required field is missing" },
        { "{`acVersion`:`0.8.11`,`name`:`x`}", "$.acKind: required field is missing" },
        { "{`acKind`:`PodManifest`,`acVersion`:`0.8.11`,`apps`:[]}", "$.acKind: expected `ImageManifest`, got `PodManifest`" },
        { "{`acKind`:`ImageManifest`,`acVersion`:`0.8.11`}", "$.name: required field is missing" },
        { "{`acKind`:`ImageManifest`,`acVersion`:`0.8.11`,`name`:``}", "$.name: `` is not a valid ACIdentifier" },
        { "{`acKind`:`ImageManifest`,`acVersion`:`0.8.11`,`name`:`Example`}", "$.name: `Example` is not a valid ACIdentifier" },
        { "{`acKind`:`ImageManifest`,`acVersion`:`1.0`,`name`:`x`}", "$.acVersion: `1.0` is not a valid SemVer" },
        { IMG(",`labels`:[{`name`:`name`,`value`:`x`}]"), "$.labels[0].name: `name` is not allowed as a label name" },
        { IMG(",`labels`:[{`name`:`v`,`value`:`1`},{`name`:`v`,`value`:`2`}]"),
          "$.labels[1].name: duplicate label name `v` (also at [0])" },
        { IMG(",`labels`:[{`name`:`os`,`value`:`windows`}]"),
          "$.labels[0].value: `windows` is not a known os (one of darwin, freebsd, linux)" },
        { IMG(",`labels`:[{`name`:`arch`,`value`:`arm64`},{`name`:`os`,`value`:`linux`}]"),
          "$.labels[0].value: `arm64` is not a known arch for os linux (one of amd64, i386, aarch64" },
        { IMG(",`labels`:[{`name`:`os`,`value`:`darwin`},{`name`:`arch`,`value`:`amd64`}]"),
          "$.labels[1].value: `amd64` is not a known arch for os darwin (one of x86_64, i386)" },
        { IMG(",`labels`:[{`name`:`Os`,`value`:`linux`}]"), "$.labels[0].name: `Os` is not a valid ACIdentifier" },
        { IMG(",`app`:{`exec`:[`/x`],`user`:`0`}"), "$.app.group: required field is missing" },
        { IMG(",`app`:{`exec`:[`x`],`user`:`0`,`group`:`0`}"), "$.app.exec[0]: `x` is not an absolute path" },
        { IMG(",`annotations`:[{`name`:`created`,`value`:`2016-01-02`}]"),
          "$.annotations[0].value: `2016-01-02` is not an RFC 3339 date-time" },
        { IMG(",`annotations`:[{`name`:`homepage`,`value`:`example.com`}]"),
          "$.annotations[0].value: `example.com` is not an http:// or https:// URL" },
        { IMG(",`dependencies`:[{`labels`:[]}]"), "$.dependencies[0].imageName: required field is missing" },
        { IMG(",`dependencies`:[{`imageName`:``}]"), "$.dependencies[0].imageName: `` is not a valid ACIdentifier" },
        { IMG(",`dependencies`:[{`imageName`:`b`,`imageID`:`sha256-aa`}]"),
          "$.dependencies[0].imageID: `sha256-aa` is not a valid image ID" },
        { IMG(",`dependencies`:[{`imageName`:`b`,`size`:-1}]"), "$.dependencies[0].size: -1 is out of range" },
        { IMG(",`dependencies`:[{`imageName`:`b`,`labels`:[{`name`:`os`,`value`:`plan9`}]}]"),
          "$.dependencies[0].labels[0].value: `plan9` is not a known os" },
        { IMG(",`dependencies`:[{`imageName`:`b`,`hash`:`x`}]"), "$.dependencies[0].hash: unknown field `hash`" },
        { IMG(",`pathWhitelist`:[`/a`,`rel`]"), "$.pathWhitelist[1]: `rel` is not an absolute path" },
        { IMG(",`pathWhitelist`:[1]"), "$.pathWhitelist[0]: expected a string, got an integer" },
        { IMG(",`apps`:[]"), "$.apps: unknown field `apps`" },
};

static void run_cases(const Case *cases, size_t n, bool is_pod) {
        for (size_t k = 0; k < n; k++) {
                _cleanup_error_ NpError e = NP_ERROR_INIT;
                _cleanup_free_ char *want = json(cases[k].error);
                Pod *p = NULL;
                Image *i = NULL;
                const char *got;
                int r;

                r = is_pod ? parse_pod(cases[k].json, &p, &e) : parse_image(cases[k].json, &i, &e);
                got = r < 0 ? error_format(&e, r) : "(accepted)";
                if (!OK(r == -EINVAL && strstr(got, want), "%s case %zu: %s", is_pod ? "pod" : "image", k, want))
                        printf("#   got (%d): %s\n", r, got);
                OK(!p && !i, "%s case %zu: nothing returned", is_pod ? "pod" : "image", k);
                pod_free(p);
                image_free(i);
        }
}

/* Whole-input checks, before and around jansson. */
static void expect_error(const char *data, size_t size, int code, const char *want, int line, int column,
                         const char *name) {
        _cleanup_error_ NpError e = NP_ERROR_INIT;
        Pod *p = NULL;
        int r = manifest_parse_pod(data, size, &p, &e);
        const char *got = r < 0 ? error_format(&e, r) : "(accepted)";

        if (!OK(r == code && strstr(got, want), "%s", name))
                printf("#   got (%d): %s\n", r, got);
        if (line > 0)
                OK(e.line == line && e.column == column, "%s: at line %d column %d (got %d:%d)", name, line,
                   column, e.line, e.column);
        OK(!p, "%s: nothing returned", name);
        pod_free(p);
}

static void test_input(void) {
        const char *s;
        char *big;
        size_t n;

        s = "{\"acKind\":\"PodManifest\",\n \"acVersion\":\"0.8.11\",\"apps\":[],\n \"annotations\":[{\"name\":\"a\",\"value\":\"\xff\"}]}";
        expect_error(s, strlen(s), -EINVAL, "invalid UTF-8 (byte 0xff)", 3, 38, "invalid UTF-8");
        s = "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],\"x\":\"\xc0\xaf\"}";
        expect_error(s, strlen(s), -EINVAL, "invalid UTF-8 (byte 0xc0)", 1, 61, "overlong UTF-8");
        s = "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],\"x\":\"\xed\xa0\x80\"}";
        expect_error(s, strlen(s), -EINVAL, "invalid UTF-8", 1, 61, "encoded surrogate");
        s = "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],\"x\":\"h\xc3\xa9\xc3\"}";
        expect_error(s, strlen(s), -EINVAL, "invalid UTF-8 (byte 0xc3)", 1, 63, "truncated UTF-8, column counts characters");
        expect_error("{\"a\":\"x\0y\"}", 11, -EINVAL, "NUL byte", 1, 8, "raw NUL byte");
        s = "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],\"userLabels\":{\"a\":\"x\\u0000y\"}}";
        expect_error(s, strlen(s), -EINVAL, "\\u0000", 0, 0, "escaped NUL");
        s = "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],\"userLabels\":{\"a\":\"\\ud800\"}}";
        expect_error(s, strlen(s), -EINVAL, "invalid JSON", 0, 0, "escaped lone surrogate");
        s = "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[]} x";
        /* jansson's position: the column before the offending token */
        expect_error(s, strlen(s), -EINVAL, "invalid JSON: end of file expected", 1, 57, "trailing garbage");
        s = "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[]}{}";
        expect_error(s, strlen(s), -EINVAL, "invalid JSON", 0, 0, "second document");
        s = "{\"acKind\":\"PodManifest\",\n\"acVersion\":\"0.8.11\",\n\"apps\":[],\n\"apps\":[]}";
        expect_error(s, strlen(s), -EINVAL, "duplicate object key", 4, 6, "duplicate key");
        s = "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[{\"name\":\"a\",\"name\":\"b\",\"image\":{\"id\":\"sha512-aa\"}}]}";
        expect_error(s, strlen(s), -EINVAL, "duplicate object key", 0, 0, "nested duplicate key");
        s = "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],}";
        expect_error(s, strlen(s), -EINVAL, "invalid JSON", 0, 0, "trailing comma");
        expect_error("", 0, -EINVAL, "invalid JSON", 0, 0, "empty input");
        expect_error("[]", 2, -EINVAL, "$: expected an object, got an array", 0, 0, "top-level array");
        expect_error("\xef\xbb\xbf{}", 5, -EINVAL, "invalid JSON", 0, 0, "byte order mark");
        expect_error("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],\"ports\":[{\"name\":\"p\",\"hostPort\":18446744073709551616}]}",
                     strlen("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],\"ports\":[{\"name\":\"p\",\"hostPort\":18446744073709551616}]}"),
                     -EINVAL, "invalid JSON: too big integer", 0, 0, "integer beyond int64");

        /* Depth: 32 levels are fine (they fail later, for the unknown field),
         * 33 are not; a 100000-level bomb is stopped by jansson. */
        {
                char buf[512];
                int len;

                len = snprintf(buf, sizeof buf, "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],\"x\":%.*s%.*s}",
                               31, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 31,
                               "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
                expect_error(buf, (size_t) len, -EINVAL, "$.x: unknown field", 0, 0, "32 levels of nesting");
                len = snprintf(buf, sizeof buf, "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],\"x\":%.*s%.*s}",
                               32, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 32,
                               "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
                expect_error(buf, (size_t) len, -EINVAL,
                             "$.x[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: "
                             "nested deeper than the limit of 32",
                             0, 0, "33 levels of nesting");
        }
        n = 100000;
        big = malloc(2 * n + 1);
        memset(big, '[', n);
        memset(big + n, ']', n);
        expect_error(big, 2 * n, -EINVAL, "invalid JSON", 0, 0, "depth bomb");
        free(big);

        /* Size caps. */
        n = MANIFEST_SIZE_MAX + 1;
        big = malloc(n);
        memset(big, ' ', n);
        big[0] = '{';
        big[n - 1] = '}';
        expect_error(big, n, -EFBIG, "larger than the limit", 0, 0, "oversize input");
        free(big);

        {
                const char *head = "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],\"userLabels\":{\"a\":\"";
                size_t hl = strlen(head), sl = MANIFEST_STRING_MAX + 1;

                big = malloc(hl + sl + 4);
                memcpy(big, head, hl);
                memset(big + hl, 'x', sl);
                memcpy(big + hl + sl, "\"}}", 4);
                expect_error(big, strlen(big), -EINVAL, "$.userLabels.a: string of 131073 bytes is longer than the limit",
                             0, 0, "oversize string");
                big[hl + sl - 1] = '"';
                memcpy(big + hl + sl, "}}", 3);
                {
                        _cleanup_error_ NpError e = NP_ERROR_INIT;
                        Pod *p = NULL;

                        OK_INTEQ(manifest_parse_pod(big, strlen(big), &p, &e), 0, "string at the limit accepted");
                        pod_free(p);
                }
                free(big);
        }

        /* apps cap: 4096 apps are fine, 4097 are not. */
        for (unsigned extra = 0; extra <= 1; extra++) {
                _cleanup_error_ NpError e = NP_ERROR_INIT;
                unsigned count = MANIFEST_APPS_MAX + extra;
                char *d = malloc(64 + (size_t) count * 64);
                size_t len;
                Pod *p = NULL;
                int r;

                len = (size_t) sprintf(d, "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[");
                for (unsigned i = 0; i < count; i++)
                        len += (size_t) sprintf(d + len, "%s{\"name\":\"a%u\",\"image\":{\"id\":\"sha512-aa\"}}",
                                                i ? "," : "", i);
                strcpy(d + len, "]}");
                r = manifest_parse_pod(d, strlen(d), &p, &e);
                if (extra) {
                        OK(r == -EINVAL && strstr(error_format(&e, r), "$.apps: 4097 entries are more than the limit of 4096"),
                           "too many apps");
                        OK(!p, "too many apps: nothing returned");
                } else {
                        OK_INTEQ(r, 0, "4096 apps accepted");
                        if (r < 0)
                                printf("# %s\n", error_format(&e, r));
                        OK(p && p->n_apps == MANIFEST_APPS_MAX, "4096 apps parsed");
                        OK(p && pod_find_app(p, "a4095") == &p->apps[4095], "last app found");
                }
                pod_free(p);
                free(d);
        }

        /* Uniqueness checks are not quadratic: 200000 volumes, the last one
         * repeating the first, are checked in well under a second. */
        {
                _cleanup_error_ NpError e = NP_ERROR_INIT;
                unsigned count = 200000;
                char *d = malloc(128 + (size_t) count * 48);
                size_t len;
                Pod *p = NULL;
                int r;

                len = (size_t) sprintf(d, "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],\"volumes\":[");
                for (unsigned i = 0; i < count; i++)
                        len += (size_t) sprintf(d + len, "%s{\"name\":\"v%u\",\"kind\":\"empty\"}", i ? "," : "",
                                                i == count - 1 ? 7 : i);
                strcpy(d + len, "]}");
                r = manifest_parse_pod(d, strlen(d), &p, &e);
                if (!OK(r == -EINVAL && strstr(error_format(&e, r),
                                               "$.volumes[199999].name: duplicate volume name \"v7\" (also at [7])"),
                        "duplicate among 200000 volumes"))
                        printf("#   got (%d): %s\n", r, error_format(&e, r));
                pod_free(p);
                free(d);
        }

        /* Not NUL-terminated input is fine. */
        {
                _cleanup_error_ NpError e = NP_ERROR_INIT;
                const char *t = "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[]}garbage";
                Pod *p = NULL;

                OK_INTEQ(manifest_parse_pod(t, strlen(t) - 7, &p, &e), 0, "size bounds the input");
                pod_free(p);
        }
}

/* The first error wins: a caller's earlier error is kept. */
static void test_error_context(void) {
        _cleanup_error_ NpError e = NP_ERROR_INIT;
        Pod *p = NULL;
        int r;

        r = parse_pod(POD(",`foo`:1"), &p, NULL);
        OK_INTEQ(r, -EINVAL, "NULL error context is fine");
        (void) error_set(&e, -EIO, "/x", "earlier");
        r = parse_pod(POD(",`foo`:1"), &p, &e);
        OK_INTEQ(r, -EINVAL, "still fails");
        OK_STREQ(e.message, "earlier", "earlier error kept");
        error_done(&e);
        r = parse_pod(POD(",`foo`:1"), &p, &e);
        OK_STREQ(e.path, "$.foo", "error path");
        OK_STREQ(e.message, "unknown field \"foo\"", "error message");
        OK_INTEQ(e.code, -EINVAL, "error code");
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

/* Every file under tests/corpus/<kind>/<valid|invalid>/ must get the verdict
 * its directory says (tests/corpus/README). actool's verdicts are checked by
 * tests/corpus/check-actool. */
static void test_corpus(void) {
        static const char *const dirs[] = { "pod/valid", "pod/invalid", "image/valid", "image/invalid" };
        const char *root = getenv("CORPUS_DIR") ? getenv("CORPUS_DIR") : "tests/corpus";

        for (size_t k = 0; k < ELEMENTSOF(dirs); k++) {
                _cleanup_free_ char *dir = NULL;
                _cleanup_strv_free_ char **files = NULL;
                bool is_pod = strncmp(dirs[k], "pod", 3) == 0, valid = strstr(dirs[k], "invalid") == NULL;
                DIR *d;
                struct dirent *de;

                if (asprintf(&dir, "%s/%s", root, dirs[k]) < 0)
                        return;
                d = opendir(dir);
                if (!d) {
                        printf("ok %u - corpus %s # SKIP cannot open %s (run from the source tree)\n", ++tap_n, dirs[k], dir);
                        continue;
                }
                while ((de = readdir(d)))
                        if (strlen(de->d_name) > 5 && strcmp(de->d_name + strlen(de->d_name) - 5, ".json") == 0)
                                (void) strv_extendf(&files, "%s/%s", dir, de->d_name);
                closedir(d);
                if (files)
                        qsort(files, strv_length(files), sizeof(char *), cmp_names);
                OK(strv_length(files) > 0, "corpus %s is not empty", dirs[k]);
                STRV_FOREACH(f, files) {
                        _cleanup_error_ NpError e = NP_ERROR_INIT;
                        _cleanup_free_ char *data = NULL;
                        size_t size = 0;
                        Pod *p = NULL;
                        Image *i = NULL;
                        int r;

                        data = read_file(*f, &size);
                        if (!OK(data, "read %s", *f))
                                continue;
                        r = is_pod ? manifest_parse_pod(data, size, &p, &e) : manifest_parse_image(data, size, &i, &e);
                        if (valid) {
                                if (!OK(r == 0, "%s is accepted", *f))
                                        printf("#   %s\n", error_format(&e, r));
                        } else {
                                OK(r == -EINVAL || r == -EFBIG, "%s is rejected", *f);
                                if (r < 0)
                                        printf("#   %s\n", error_format(&e, r));
                        }
                        pod_free(p);
                        image_free(i);
                }
        }
}

int main(void) {
        test_full_pod();
        test_full_image();
        test_minimal();
        test_nulls();
        run_cases(pod_cases, ELEMENTSOF(pod_cases), true);
        run_cases(image_cases, ELEMENTSOF(image_cases), false);
        test_input();
        test_error_context();
        test_corpus();
        return tap_done();
}
