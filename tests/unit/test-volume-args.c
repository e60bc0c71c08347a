/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rkt's --volume and --mount syntax (pod_prepare_parse_volume/_mount,
 * docs/volumes.md): what is accepted, what each key gives, and a message for
 * everything refused. */
#include <string.h>

#include "pod-prepare.h"
#include "tap.h"

static void refused(const char *arg, const char *want) {
        NpError err = NP_ERROR_INIT;
        Volume v = { .name = NULL };
        int r = pod_prepare_parse_volume(arg, &v, &err);
        const char *m = error_format(&err, r);

        OK(r == -EINVAL && strstr(m, want), "--volume=%s refused: %s", arg, m);
        OK(v.name == NULL, "and nothing returned");
        error_done(&err);
}

static void mount_refused(const char *arg, const char *want) {
        NpError err = NP_ERROR_INIT;
        Mount m = {};
        int r = pod_prepare_parse_mount(arg, &m, &err);
        const char *msg = error_format(&err, r);

        OK(r == -EINVAL && strstr(msg, want), "--mount=%s refused: %s", arg, msg);
        error_done(&err);
}

int main(void) {
        NpError err = NP_ERROR_INIT;
        Volume v = {};
        Mount m = {};

        OK_INTEQ(pod_prepare_parse_volume("data,kind=host,source=/srv/data", &v, &err), 0, "a host volume");
        OK_STREQ(v.name, "data", "its name");
        OK(v.kind == VOLUME_HOST, "kind host");
        OK_STREQ(v.source, "/srv/data", "its source");
        OK(v.read_only == -1 && v.recursive == -1, "readOnly and recursive unset: the defaults apply");
        pod_prepare_volume_clear(&v);

        OK_INTEQ(pod_prepare_parse_volume("d,kind=host,source=/a:b,readOnly=true,recursive=false", &v, &err), 0,
                 "readOnly, recursive; a source with ':'");
        OK(v.read_only == 1 && v.recursive == 0, "readOnly=true recursive=false");
        OK_STREQ(v.source, "/a:b", "the source as given");
        pod_prepare_volume_clear(&v);

        OK_INTEQ(pod_prepare_parse_volume("s,kind=empty,mode=0123,uid=9991,gid=9992", &v, &err), 0, "an empty volume");
        OK(v.kind == VOLUME_EMPTY && v.mode == 0123 && v.uid == 9991 && v.gid == 9992, "mode, uid, gid");
        OK(v.source == NULL, "no source");
        pod_prepare_volume_clear(&v);

        OK_INTEQ(pod_prepare_parse_volume("s,kind=empty", &v, &err), 0, "an empty volume with defaults");
        OK(v.mode == 0755 && v.uid == 0 && v.gid == 0, "0755, root");
        pod_prepare_volume_clear(&v);

        refused("data", "kind=host or kind=empty is required");
        refused("Data,kind=empty", "not a volume name");
        refused(",kind=empty", "not a volume name");
        refused("d,kind=tmpfs", "kind must be host or empty");
        refused("d,kind=host", "needs source=PATH");
        refused("d,kind=host,source=rel/path", "absolute");
        refused("d,kind=empty,source=/x", "has no source");
        refused("d,kind=host,source=/x,mode=0700", "for empty volumes");
        refused("d,kind=empty,readOnly=yes", "true or false");
        refused("d,kind=empty,mode=8", "octal");
        refused("d,kind=empty,mode=17777", "octal");
        refused("d,kind=empty,uid=-1", "a number");
        refused("d,kind=empty,gid=4294967295", "a number");
        refused("d,kind=empty,size=1G", "unknown key");
        refused("d,kind=empty,readOnly", "not KEY=VALUE");

        OK_INTEQ(pod_prepare_parse_mount("volume=data,target=/var/lib/x", &m, &err), 0, "a mount");
        OK_STREQ(m.volume, "data", "its volume");
        OK_STREQ(m.path, "/var/lib/x", "its target");
        pod_prepare_mount_clear(&m);
        OK_INTEQ(pod_prepare_parse_mount("target=../x,volume=d", &m, &err), 0, "keys in any order, a relative target");
        OK_STREQ(m.path, "../x", "kept as given: resolved inside the app at run time");
        pod_prepare_mount_clear(&m);

        mount_refused("volume=data", "target=PATH is required");
        mount_refused("target=/x", "volume=NAME");
        mount_refused("volume=Bad,target=/x", "volume=NAME");
        mount_refused("volume=d,target=/x,readOnly=true", "unknown key");
        mount_refused("volume=d,target=", "target=PATH is required");
        error_done(&err);
        return tap_done();
}
