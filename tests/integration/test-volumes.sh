#!/usr/bin/env bash
# Integration test (TAP, root): volumes and runtime binds (issue 9) on real
# pods. A pod's volumes come from --pod-manifest, from an image's
# mountPoints, and from `run --volume=NAME,kind=host|empty[,source=PATH]
# [,readOnly=][,recursive=][,mode=][,uid=][,gid=]` with the app option
# `--mount=volume=NAME,target=PATH`; a running pod gets more with
# `nspawn-pod bind [--read-only] [--app=APP] UUID SRC DEST [--mkdir]` and
# loses them with `unbind UUID DEST`; `status` lists them.
#
# What is asserted: host volumes read-write and read-only (directories,
# regular files, device nodes), empty volumes with their mode and owner,
# recursive and non-recursive binds of a directory with a mount below it,
# the device policy (a volume's device works, nodes the app makes itself do
# not open), targets through the image's symlinks landing inside the app's
# root and never on the host or the stage1, a target of "/" refused, binds
# into a running app (directory, file, read-only, through symlinks the app
# planted, listed by status, unbound again, per app in a pod of two), and
# that nothing of a volume's data is lost and no mount is left by stop + gc,
# nor by gc after the run process and nspawn were SIGKILLed.
#
# Assertions are on output, exit codes and files, never on timing: a running
# pod is waited for by polling for a file its app creates. What the test
# makes beyond its work directory's files (a marker directory in /tmp, a
# tmpfs mounted below a volume) is removed by the EXIT trap, whatever happens.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

harness_np_begin "volumes and runtime binds"
bail() { harness_bail "$@"; }
id_bb="sha512-$(sha512sum "$bb" | cut -c1-128)"
H=$HARNESS_DIR
cd "$H" || bail "cannot enter $H"
# A tag unique to this run, for names that must not exist anywhere else.
TAG=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')

# --- helpers ----------------------------------------------------------------------

# np NAME ARGS...: nspawn-pod ARGS, output in NAME.out/.err, status in RC.
np() { harness_np_capture "$@"; }
diag() { harness_np_diag "$@"; }
# run_pod NAME ARGS...: `nspawn-pod run` with a UUID file; UUID and POD set.
run_pod() { harness_np_run_pod "$@"; }
# said NAME LINE: the pod run as NAME had an app print LINE (the console
# shows app output as "APP[PID]: LINE\r\n").
said() {
        tr -d '\r' <"$H/$1.out" 2>/dev/null | sed -E 's/^[^[ ]+\[[0-9]+\]: //' | grep -qxF -- "$2"
}
# out NAME: stdout of NAME.
out() { cat "$H/$1.out" 2>/dev/null; }
# mkvol NAME CONTENT: a host directory H/vol/NAME with a file marker holding CONTENT.
mkvol() {
        mkdir -p "$H/vol/$1" && printf '%s\n' "$2" >"$H/vol/$1/marker"
}
# app_dir POD APP: where, on the host, the files app APP writes land: the
# pod's overlay upper directory for an app from an ACI (docs/run.md), else
# the app's root in the stage1.
app_dir() {
        if [ -d "$1/overlay/$2/upper" ]; then
                printf '%s\n' "$1/overlay/$2/upper"
        else
                printf '%s\n' "$1/stage1/rootfs/opt/stage2/$2/rootfs"
        fi
}
# pods_count: how many pod directories the data dir has.
pods_count() {
        find "$HARNESS_NP_DATA/pods" -mindepth 2 -maxdepth 2 2>/dev/null | wc -l
}
# snapshot DIR: every entry below DIR with its type, mode, size, link target
# and content hash, sorted: equal snapshots, nothing lost or changed.
snapshot() {
        (cd "$1" && find . -printf '%p %y %m %s %l\n' | LC_ALL=C sort &&
                find . -type f -exec sha256sum {} + | LC_ALL=C sort -k 2)
}
# mounts_mentioning STRING: mountinfo lines of ours (mount point or root in
# its file system) that contain STRING.
mounts_mentioning() {
        grep -F -- "$1" /proc/self/mountinfo
}
# start_pod NAME APPS ARGS...: `run ARGS` in the background; waits until every
# app of the space-separated APPS has created /running in its root (their
# commands must). Sets UUID, POD and RUNPID; returns 1 if the pod does not
# come up.
start_pod() {
        local name=$1 apps=$2 i a up
        shift 2
        rm -f "$H/$name.uuid"
        harness_np_start "$H/$name.log" run --uuid-file-save="$H/$name.uuid" "$@"
        RUNPID=$HARNESS_NP_PID
        UUID="" POD=""
        for ((i = 0; i < 600; i++)); do
                if [ -z "$UUID" ] && [ -s "$H/$name.uuid" ]; then
                        UUID=$(head -n 1 "$H/$name.uuid")
                        HARNESS_NP_UUIDS+=("$UUID")
                        POD=$HARNESS_NP_DATA/pods/run/$UUID
                fi
                if [ -n "$UUID" ]; then
                        up=1
                        for a in $apps; do
                                [ -e "$(app_dir "$POD" "$a")/running" ] || up=0
                        done
                        [ "$up" = 1 ] && return 0
                fi
                harness_pid_alive "$RUNPID" || break
                sleep 0.1
        done
        tap_diag "pod $name did not come up:" "$(cat "$H/$name.log" 2>&1)"
        return 1
}
stop_pod() { harness_np_stop_pod "$@"; }
# enter_ NAME UUID ARGS...: `enter` into a running pod, as np.
enter_() {
        local name=$1
        shift
        np "$name" enter "$@"
}

# --- baseline: --pod-manifest volumes and image mountPoints (as before issue 9) ------

mkvol pm-rw pm-rw-marker
mkvol pm-ro pm-ro-marker
cat >"$H/pm.json" <<EOF
{
  "acVersion": "0.8.11",
  "acKind": "PodManifest",
  "apps": [
    {
      "name": "pm",
      "image": {"name": "example.com/busybox", "id": "$id_bb"},
      "app": {
        "exec": ["/bin/sh", "-c", "cat /rw/marker && echo from-pm >/rw/new && echo W-OK; cat /ro/marker && { touch /ro/x 2>/dev/null && echo RO-WROTE || echo RO-OK; }; stat -c '%a %u %g' /e"],
        "user": "0",
        "group": "0"
      },
      "mounts": [
        {"volume": "rw", "path": "/rw"},
        {"volume": "ro", "path": "/ro"},
        {"volume": "e", "path": "/e"}
      ]
    }
  ],
  "volumes": [
    {"name": "rw", "kind": "host", "source": "$H/vol/pm-rw"},
    {"name": "ro", "kind": "host", "source": "$H/vol/pm-ro", "readOnly": true},
    {"name": "e", "kind": "empty", "mode": "0123", "uid": 9991, "gid": 9992}
  ]
}
EOF
run_pod pm --pod-manifest="$H/pm.json" "$bb"
[ "$RC" = 0 ] && said pm pm-rw-marker && said pm W-OK && [ "$(cat "$H/vol/pm-rw/new" 2>/dev/null)" = from-pm ]
tap_ok $? "--pod-manifest host volume (rw): the app reads the host's file, its write lands in the host directory" || diag pm
said pm pm-ro-marker && said pm RO-OK && [ ! -e "$H/vol/pm-ro/x" ]
tap_ok $? "--pod-manifest host volume readOnly: readable, a write fails, nothing on the host" || diag pm
said pm "123 9991 9992"
tap_ok $? "--pod-manifest empty volume mode 0123, uid 9991, gid 9992: stat inside says \"123 9991 9992\"" || diag pm

# An image with a mount point "data" at /data.
cp -a "$images/busybox" "$images/mp" &&
        jq '.name = "example.com/busybox-mp" | .app.mountPoints = [{"name": "data", "path": "/data"}]' \
                "$images/busybox/manifest" >"$images/mp/manifest"
tap_ok $? "an image directory with mountPoints [data: /data]" || bail "cannot make the mountPoints image"
run_pod mp-none "$images/mp" --name=mp --exec=/bin/sh -- -c 'echo x >/data/x && echo MP-OK'
[ "$RC" = 0 ] && said mp-none MP-OK && grep -q 'has no volume' "$H/mp-none.err"
tap_ok $? "an image mount point without a volume: an empty one (with a warning), writable" || diag mp-none
mkvol mp mp-marker
run_pod mp-vol --volume=data,kind=host,source="$H/vol/mp" "$images/mp" --name=mp --exec=/bin/sh -- \
        -c 'cat /data/marker && echo from-mp >/data/new'
[ "$RC" = 0 ] && said mp-vol mp-marker && [ "$(cat "$H/vol/mp/new" 2>/dev/null)" = from-mp ]
tap_ok $? "--volume=data,kind=host,… fills the image's mount point \"data\" (no --mount): read and written through" ||
        diag mp-vol

# An image converted from Docker (annotation appc.io/docker/repository) whose
# mount point has content: its implicit volume starts with that content,
# owners, modes and symlinks kept, and the directory's own mode and owner
# (rkt's copy-up); the same image without the annotation gets an empty one.
cp -a "$images/busybox" "$images/docker" &&
        jq '.name = "example.com/busybox-docker" | .app.mountPoints = [{"name": "data", "path": "/data"}]
            | .annotations = ((.annotations // []) + [{"name": "appc.io/docker/repository", "value": "example.com/bb"}])' \
                "$images/busybox/manifest" >"$images/docker/manifest" &&
        mkdir -p "$images/docker/rootfs/data/sub" && echo seed-content >"$images/docker/rootfs/data/seed" &&
        chown 123:456 "$images/docker/rootfs/data/seed" && chmod 0640 "$images/docker/rootfs/data/seed" &&
        ln -s seed "$images/docker/rootfs/data/link" && chown 7:8 "$images/docker/rootfs/data" &&
        chmod 0750 "$images/docker/rootfs/data" && echo deep >"$images/docker/rootfs/data/sub/deep"
tap_ok $? "an image from Docker with a mount point /data holding seed (123:456 0640), link -> seed, sub/deep" ||
        bail "cannot make the Docker image"
run_pod docker "$images/docker" --name=dk --exec=/bin/sh -- \
        -c 'cat /data/seed /data/link /data/sub/deep && stat -c "%a %u %g" /data /data/seed && echo more >/data/new'
[ "$RC" = 0 ] && said docker seed-content && said docker deep && said docker "750 7 8" && said docker "640 123 456" &&
        grep -q 'filled from the image' "$H/docker.err"
tap_ok $? "Docker copy-up: the implicit volume has the image's content, owners and modes (and run says so)" ||
        diag docker
dkvol=$POD/sharedVolumes/dk-data
[ "$(stat -c '%a %u %g' "$dkvol" 2>/dev/null)" = "750 7 8" ] && [ "$(readlink "$dkvol/link")" = seed ] &&
        [ "$(cat "$dkvol/new" 2>/dev/null)" = more ] && [ "$(stat -c '%a %u %g' "$dkvol/seed")" = "640 123 456" ]
tap_ok $? "Docker copy-up: the backing directory sharedVolumes/dk-data holds the copy (symlink kept) and what the app wrote" ||
        tap_diag "$(ls -laR "$dkvol" 2>&1 | head -20)"
jq 'del(.annotations[] | select(.name == "appc.io/docker/repository"))' "$images/docker/manifest" >"$H/nodocker.json" &&
        cp -a "$images/docker" "$images/nodocker" && cp "$H/nodocker.json" "$images/nodocker/manifest"
run_pod nodocker "$images/nodocker" --name=nd --exec=/bin/sh -- -c 'ls -A /data | wc -l'
[ "$RC" = 0 ] && said nodocker 0
tap_ok $? "without the Docker annotation the implicit volume starts empty (appc)" || diag nodocker

# --- 1. host volumes, read-write and read-only ---------------------------------------

mkvol rw rw-marker
run_pod rw --volume=rw,kind=host,source="$H/vol/rw",readOnly=false "$bb" --name=rw --mount=volume=rw,target=/data \
        --exec=/bin/sh -- -c 'cat /data/marker && echo from-app >/data/new && echo W-OK'
HAVE_VOLUME_OPT=0
[ "$RC" = 0 ] && HAVE_VOLUME_OPT=1
[ "$RC" = 0 ] && said rw rw-marker && said rw W-OK && [ "$(cat "$H/vol/rw/new" 2>/dev/null)" = from-app ]
tap_ok $? "--volume kind=host readOnly=false + --mount target=/data: the app reads the host's file and its write appears on the host" ||
        diag rw

mkvol ro ro-marker
run_pod ro --volume=ro,kind=host,source="$H/vol/ro",readOnly=true "$bb" --name=ro --mount=volume=ro,target=/data \
        --exec=/bin/sh -- -c 'cat /data/marker && { touch /data/x 2>/dev/null && echo RO-WROTE || echo RO-OK; }'
[ "$RC" = 0 ] && said ro ro-marker && said ro RO-OK && ! said ro RO-WROTE && [ ! -e "$H/vol/ro/x" ] &&
        [ "$(ls -A "$H/vol/ro")" = marker ]
tap_ok $? "--volume readOnly=true: the app reads it, its write fails (RO-OK), nothing appears on the host" || diag ro

# --- 2. empty volumes ------------------------------------------------------------------

run_pod empty --volume=e,kind=empty,mode=0123,uid=9991,gid=9992 "$bb" --name=empty --mount=volume=e,target=/e \
        --exec=/bin/sh -- -c "stat -c '%a %u %g' /e"
[ "$RC" = 0 ] && said empty "123 9991 9992"
tap_ok $? "--volume kind=empty,mode=0123,uid=9991,gid=9992: stat inside says \"123 9991 9992\"" || diag empty

# Two apps share one empty volume: what the first writes, the second reads.
# shellcheck disable=SC2016 # the app shell's $i
run_pod empty2 --volume=sh,kind=empty "$bb" --name=writer --mount=volume=sh,target=/s \
        --exec=/bin/sh -- -c 'echo shared-data >/s/f.tmp && mv /s/f.tmp /s/f' \
        --- "$bb" --name=reader --mount=volume=sh,target=/t --exec=/bin/sh -- \
        -c 'i=0; while [ ! -e /t/f ] && [ $i -lt 600 ]; do usleep 100000; i=$((i+1)); done; cat /t/f'
[ "$RC" = 0 ] && said empty2 shared-data
tap_ok $? "one empty volume mounted in two apps (at /s and /t): the second reads what the first wrote" || diag empty2

# --- 3. a regular file as a volume -------------------------------------------------------

printf 'conf-%s\n' "$TAG" >"$H/app.conf"
run_pod file --volume=conf,kind=host,source="$H/app.conf" "$bb" --name=file --mount=volume=conf,target=/etc/app.conf \
        --exec=/bin/sh -- -c 'cat /etc/app.conf && echo appended >>/etc/app.conf'
[ "$RC" = 0 ] && said file "conf-$TAG" && [ "$(cat "$H/app.conf")" = "$(printf 'conf-%s\nappended' "$TAG")" ]
tap_ok $? "a host file as a volume at /etc/app.conf (not in the image): the app reads its content, its append reaches the host file" ||
        { diag file; tap_diag "host file: $(cat "$H/app.conf")"; }
cp "$H/app.conf" "$H/app.conf.orig"

run_pod file-ro --volume=conf,kind=host,source="$H/app.conf",readOnly=true "$bb" --name=file \
        --mount=volume=conf,target=/etc/app.conf \
        --exec=/bin/sh -- -c 'cat /etc/app.conf && { echo hacked 2>/dev/null >/etc/app.conf && echo RO-WROTE || echo RO-OK; }'
[ "$RC" = 0 ] && said file-ro "conf-$TAG" && said file-ro RO-OK && cmp -s "$H/app.conf" "$H/app.conf.orig"
tap_ok $? "the file volume readOnly=true: read, a write fails, the host file unchanged" || diag file-ro

# --- 4. recursive and non-recursive ---------------------------------------------------------

mkvol rec rec-marker
mkdir -p "$H/vol/rec/sub"
REC_MNT=$H/vol/rec/sub
harness_on_exit "umount -l '$REC_MNT' 2>/dev/null"
mount -t tmpfs -o size=1m,mode=0755 nspawn-pod-test-rec "$REC_MNT" && printf 'inner\n' >"$REC_MNT/inner"
tap_ok $? "a host directory with a tmpfs mounted at sub/ holding the file inner" || diag rec
run_pod rec-yes --volume=r,kind=host,source="$H/vol/rec",recursive=true "$bb" --name=rec --mount=volume=r,target=/r \
        --exec=/bin/sh -- -c 'cat /r/marker /r/sub/inner'
rec_ran=1
[ "$RC" = 0 ] && said rec-yes rec-marker && said rec-yes inner && rec_ran=0
[ "$rec_ran" = 0 ]
tap_ok $? "recursive=true: the app sees the mount below the volume (sub/inner)" || diag rec-yes
# shellcheck disable=SC2016 # the app shell's $(...)
run_pod rec-no --volume=r,kind=host,source="$H/vol/rec",recursive=false "$bb" --name=rec --mount=volume=r,target=/r \
        --exec=/bin/sh -- -c 'cat /r/marker && [ -d /r/sub ] && [ -z "$(ls -A /r/sub)" ] && echo NOREC-OK'
[ "$RC" = 0 ] && said rec-no rec-marker && said rec-no NOREC-OK
tap_ok $? "recursive=false: the app sees the volume but not the mount below it (sub/ empty)" || diag rec-no
umount "$REC_MNT"
rc=$?
[ "$rec_ran" = 0 ] && [ "$rc" = 0 ]
tap_ok $? "after a pod had it bound recursively, the tmpfs below the volume unmounts again (nothing of the pod held it)" ||
        tap_diag "$(grep -F "$REC_MNT" /proc/self/mountinfo)"

# --- 5. devices ---------------------------------------------------------------------------

mknod "$H/mynull" c 1 3 && chmod 0666 "$H/mynull"
tap_ok $? "a device node mynull (c 1 3) in the host work directory" || diag rec
# A node of the same numbers as the ones the app makes, on the host: the
# refusals below mean something only if these open here.
mknod "$H/ctl-fuse" c 10 229 2>/dev/null
mknod "$H/ctl-lc" c 10 237 2>/dev/null
host_ctl="fuse: $( (: <"$H/ctl-fuse") 2>&1 && echo opens), loop-control: $( (: <"$H/ctl-lc") 2>&1 && echo opens)"
rm -f "$H/ctl-fuse" "$H/ctl-lc"
# (In a subshell: a failed redirection of ":", a special builtin, would end
# the shell. Whether mknod itself is refused is shown as *-MADE, not asserted.)
DEV_SCRIPT='echo x >/dev/mynull && echo DEVW-OK
cat /dev/mynull && echo DEVR-OK
mknod /tmp/fuse c 10 229 2>/dev/null && echo FUSE-MADE
if (: </tmp/fuse) 2>/dev/null; then echo FUSE-OPENED; else echo FUSE-DENIED; fi
mknod /tmp/lc c 10 237 2>/dev/null && echo LC-MADE
if (: </tmp/lc) 2>/dev/null; then echo LC-OPENED; else echo LC-DENIED; fi'
run_pod dev --volume=nul,kind=host,source="$H/mynull" "$bb" --name=dev --mount=volume=nul,target=/dev/mynull \
        --exec=/bin/sh -- -c "$DEV_SCRIPT"
[ "$RC" = 0 ] && said dev DEVW-OK && said dev DEVR-OK
tap_ok $? "a device volume at /dev/mynull: the app writes to it and reads it" || diag dev
said dev FUSE-DENIED && ! said dev FUSE-OPENED
tap_ok $? "in that app, a node it makes itself (mknod /tmp/fuse c 10 229) does not open" ||
        { diag dev; tap_diag "on the host: $host_ctl"; }
said dev LC-DENIED && ! said dev LC-OPENED
tap_ok $? "in that app, mknod /tmp/lc c 10 237 (loop-control) does not open either" ||
        { diag dev; tap_diag "on the host: $host_ctl"; }
# /dev/null (1:3) is allowed to every app anyway: what a device volume adds
# shows with a node nothing else allows, loop-control (10:237), opened
# without doing anything with it. A read-only device volume allows it for
# reading only (the device cgroup says so: a read-only mount does not stop
# writes to a device node).
mknod "$H/lc" c 10 237 && chmod 0666 "$H/lc"
tap_ok $? "a device node lc (c 10 237, loop-control) in the host work directory" || diag rec
LC_SCRIPT='if (: </dev/lc) 2>/dev/null; then echo LCR-OK; else echo LCR-DENIED; fi
if (: >/dev/lc) 2>/dev/null; then echo LCW-OK; else echo LCW-DENIED; fi'
run_pod dev-rw --volume=lc,kind=host,source="$H/lc" "$bb" --name=dev --mount=volume=lc,target=/dev/lc \
        --exec=/bin/sh -- -c "$LC_SCRIPT"
[ "$RC" = 0 ] && said dev-rw LCR-OK && said dev-rw LCW-OK
tap_ok $? "a device volume of loop-control: the app opens it for reading and for writing" ||
        { diag dev-rw; tap_diag "on the host: $host_ctl"; }
run_pod dev-ro --volume=lc,kind=host,source="$H/lc",readOnly=true "$bb" --name=dev \
        --mount=volume=lc,target=/dev/lc --exec=/bin/sh -- -c "$LC_SCRIPT"
[ "$RC" = 0 ] && said dev-ro LCR-OK && said dev-ro LCW-DENIED
tap_ok $? "the device volume readOnly=true: opened for reading, refused for writing" || diag dev-ro
run_pod dev-paths --insecure-options=paths "$bb" --name=dev --exec=/bin/sh -- \
        -c 'mknod /tmp/lc c 10 237 && if (: </tmp/lc) 2>/dev/null; then echo LC-OPENED; else echo LC-DENIED; fi'
[ "$RC" = 0 ] && said dev-paths LC-OPENED
tap_ok $? "with --insecure-options=paths the device policy is off: a node the app makes opens (the refusals above are the policy's)" ||
        diag dev-paths

# --- 6. targets through the image's symlinks ------------------------------------------------

HOSTMARK=/tmp/HOSTMARK-$TAG
mkdir "$HOSTMARK" || bail "cannot create $HOSTMARK"
harness_on_exit "_harness_unmount_all '$HOSTMARK'; rm -rf --one-file-system -- '$HOSTMARK'"
links=$images/links
cp -a "$images/busybox" "$links" &&
        jq '.name = "example.com/busybox-links"' "$images/busybox/manifest" >"$links/manifest" &&
        mkdir -p "$links/rootfs/dir1" "$links/rootfs/dir2" &&
        ln -s /dir2 "$links/rootfs/dir1/link_abs" &&
        ln -s ../dir2 "$links/rootfs/dir1/link_rel" &&
        ln -s /../../../../dir2 "$links/rootfs/dir1/link_dotdot" &&
        ln -s / "$links/rootfs/dir1/link_root" &&
        ln -s "$HOSTMARK" "$links/rootfs/escape"
tap_ok $? "an image whose rootfs has dir1/link_abs -> /dir2, link_rel -> ../dir2, link_dotdot -> /../../../../dir2, link_root -> /, escape -> $HOSTMARK" ||
        bail "cannot make the symlink image"
# Host names that must not appear: record which exist already.
host_absent=()
for p in /dir2 /a /b /c /d /e /f; do
        [ -e "$p" ] || [ -L "$p" ] || host_absent+=("$p")
done
targets=(/dir1/link_abs/a /dir1/link_rel/b /dir1/link_dotdot/c /dir1/link_root/d /escape/e ../../../../f)
landed=(/dir2/a /dir2/b /dir2/c /d "$HOSTMARK/e" /f)
SYM_VOLS=() SYM_MOUNTS=()
for i in "${!targets[@]}"; do
        mkvol "sym$i" "sym-$i-marker"
        SYM_VOLS+=(--volume="sym$i,kind=host,source=$H/vol/sym$i")
        SYM_MOUNTS+=(--mount="volume=sym$i,target=${targets[$i]}")
done
# Exits 0 only if every marker was read.
SYM_SCRIPT="ok=0; for p in ${landed[*]}; do echo \"\$p=\$(cat \$p/marker 2>&1)\"; [ -e \$p/marker ] || ok=1; done; exit \$ok"
# sym_landed NAME: each volume's marker was read where its target resolves
# inside the app's root.
sym_landed() {
        local i
        for i in "${!targets[@]}"; do
                said "$1" "${landed[$i]}=sym-$i-marker" || return 1
        done
}
# sym_escaped POD: prints what landed outside the app's root: on the host,
# in the marker directory, in the stage1's top level, anywhere in the work
# directory but the images and the app's root.
sym_escaped() {
        local pod=$1 p
        for p in "${host_absent[@]}"; do
                [ -e "$p" ] || [ -L "$p" ] && printf 'host %s\n' "$p"
        done
        [ -z "$(find "$HOSTMARK" -mindepth 1 -printf x -quit)" ] ||
                printf 'host %s: %s\n' "$HOSTMARK" "$(find "$HOSTMARK" -mindepth 1 | tr '\n' ' ')"
        if [ -n "$pod" ]; then
                for p in dir2 a b c d e f "${HOSTMARK#/}"; do
                        [ -e "$pod/stage1/rootfs/$p" ] && printf 'stage1 %s\n' "$p"
                        [ -e "$pod/$p" ] && printf 'pod dir %s\n' "$p"
                done
        fi
        mounts_mentioning "HOSTMARK-$TAG" | sed 's/^/mount /'
        find "$H" -xdev \( -name dir2 -o -name "HOSTMARK-$TAG" -o -name marker \) \
                ! -path "$images/*" ! -path "$H/vol/*" ! -path "$HARNESS_NP_DATA/pods/*/*/stage1/rootfs/opt/stage2/*/rootfs/*" \
                2>/dev/null | sed 's/^/work dir /'
}

run_pod sym "${SYM_VOLS[@]}" "$links" --name=links "${SYM_MOUNTS[@]}" --exec=/bin/sh -- -c "$SYM_SCRIPT"
SYM_POD=$POD
[ "$RC" = 0 ] && sym_landed sym
tap_ok $? "--mount targets through symlinks land inside the app: ${targets[*]} at ${landed[*]}" || diag sym
left=$(sym_escaped "$SYM_POD")
[ "$RC" = 0 ] && [ -z "$left" ]
tap_ok $? "with every one of them mounted, nothing landed on the host ($HOSTMARK empty, no /dir2 /d /f), in the stage1's top level or elsewhere in the work directory" ||
        tap_diag "${left:-the pod did not run}"

# The same targets through a --pod-manifest: the same rules.
{
        printf '{"acVersion": "0.8.11", "acKind": "PodManifest", "apps": [{"name": "links",\n'
        printf ' "image": {"name": "example.com/busybox-links", "id": "%s"},\n' "$id_bb"
        printf ' "app": {"exec": ["/bin/sh", "-c", %s], "user": "0", "group": "0"},\n' "$(jq -Rn --arg s "$SYM_SCRIPT" '$s')"
        printf ' "mounts": [\n'
        for i in "${!targets[@]}"; do
                printf '  {"volume": "sym%s", "path": "%s"}%s\n' "$i" "${targets[$i]}" "$([ "$i" = 5 ] || echo ,)"
        done
        printf ' ]}],\n "volumes": [\n'
        for i in "${!targets[@]}"; do
                printf '  {"name": "sym%s", "kind": "host", "source": "%s"}%s\n' "$i" "$H/vol/sym$i" "$([ "$i" = 5 ] || echo ,)"
        done
        printf ' ]}\n'
} >"$H/sym.json"
run_pod sym-pm --pod-manifest="$H/sym.json" "$links"
SYM_PM_POD=$POD
[ "$RC" = 0 ] && sym_landed sym-pm
tap_ok $? "--pod-manifest mounts through the same symlinks land inside the app too" || diag sym-pm
left=$(sym_escaped "$SYM_PM_POD")
[ "$RC" = 0 ] && [ -z "$left" ]
tap_ok $? "with every one of them mounted, nothing landed on the host, in the stage1 or elsewhere in the work directory" ||
        tap_diag "${left:-the pod did not run}"

# A target that is the app's root itself.
for t in / /../; do
        n=root-${#t}
        run_pod "$n" --volume=sym0,kind=host,source="$H/vol/sym0" "$links" --name=links --mount=volume=sym0,target="$t" \
                --exec=/bin/true
        left=$(harness_np_leftovers)
        [ "$HAVE_VOLUME_OPT" = 1 ] && [ "$RC" != 0 ] && grep -qiE "target|\"$t\"|'$t'" "$H/$n.err" &&
                ! grep -qi 'unknown option\|unrecognized option' "$H/$n.err" && [ -z "$left" ] &&
                [ "$(ls -A "$H/vol/sym0")" = marker ]
        tap_ok $? "--mount target=$t (the app's root) is refused with an error naming the target; no pod mount left behind" ||
                { diag "$n"; tap_diag "leftovers: $left"; }
done

# Bad volume options: refused before anything runs, nothing left.
ok=0
before=$(pods_count)
for bad in "--volume=v,kind=bogus,source=$H/vol/rw" "--volume=v,kind=host" "--volume=v,kind=host,source=relative/dir" \
        "--volume=v,kind=empty,mode=abc" "--volume=v,kind=host,source=$H/vol/rw,readOnly=maybe" \
        "--volume=v,kind=host,source=$H/vol/rw,sauce=x" "--volume=Bad_Name,kind=empty"; do
        np bad-vol run "$bad" "$bb" --name=bad --mount=volume=v,target=/v --exec=/bin/true
        if [ "$RC" = 0 ] || [ ! -s "$H/bad-vol.err" ] || grep -qi 'unknown option\|unrecognized option' "$H/bad-vol.err"; then
                ok=1
                tap_diag "accepted or not understood: $bad"
                diag bad-vol
        fi
done
np bad-mnt run --volume=v,kind=empty "$bb" --name=bad --mount=volume=nosuch,target=/v --exec=/bin/true
{ [ "$RC" != 0 ] && grep -q nosuch "$H/bad-mnt.err"; } || { ok=1; diag bad-mnt; }
np bad-mnt2 run --volume=v,kind=empty "$bb" --name=bad --mount=volume=v --exec=/bin/true
{ [ "$RC" != 0 ] && [ -s "$H/bad-mnt2.err" ]; } || { ok=1; diag bad-mnt2; }
[ "$HAVE_VOLUME_OPT" = 1 ] && [ "$ok" = 0 ] && [ "$(pods_count)" = "$before" ]
tap_ok $? "bad --volume (unknown kind, host without source, relative source, bad mode, bad readOnly, unknown key, bad name) and bad --mount (unknown volume, no target): refused, no pod left" ||
        tap_diag "pods before: $before, after: $(pods_count)"

# --- 7. binds into a running pod ---------------------------------------------------------------

mkvol b1 b1-marker
mkvol b2 b2-marker
mkvol b3 b3-marker
mkvol b4 b4-marker
printf 'bound-%s\n' "$TAG" >"$H/bound.conf"
ZA=z-$TAG ZB=zz-$TAG
HAVE_BIND=0
if start_pod live app "$bb" --name=app --exec=/bin/sh -- -c 'touch /running; exec sleep 1000'; then
        UL=$UUID PL=$POD LPID=$RUNPID
        enter_ pre "$UL" /bin/sh -c '[ ! -e /mnt/x ] && [ ! -e /etc/bound.conf ] && echo ABSENT'
        [ "$RC" = 0 ] && [ "$(out pre)" = ABSENT ]
        tap_ok $? "a running pod (enter works; /mnt/x and /etc/bound.conf are not in its image)" || diag pre

        np bind-x bind "$UL" "$H/vol/b1" /mnt/x --mkdir
        rc_bind=$RC
        [ "$rc_bind" = 0 ] && HAVE_BIND=1
        enter_ cat-x "$UL" /bin/cat /mnt/x/marker
        [ "$rc_bind" = 0 ] && [ "$RC" = 0 ] && [ "$(out cat-x)" = b1-marker ]
        tap_ok $? "bind UUID DIR /mnt/x --mkdir: enter reads /mnt/x/marker at once, no restart" || { diag bind-x; diag cat-x; }

        np bind-f bind "$UL" "$H/bound.conf" /etc/bound.conf --mkdir
        rc_bind=$RC
        enter_ cat-f "$UL" /bin/cat /etc/bound.conf
        [ "$rc_bind" = 0 ] && [ "$RC" = 0 ] && [ "$(out cat-f)" = "bound-$TAG" ]
        tap_ok $? "bind of a file at /etc/bound.conf --mkdir: enter reads it" || { diag bind-f; diag cat-f; }

        mkvol same same-marker
        np bind-same bind --mkdir "$UL" "$H/vol/same"
        rc_bind=$RC
        enter_ cat-same "$UL" /bin/cat "$H/vol/same/marker"
        [ "$rc_bind" = 0 ] && [ "$RC" = 0 ] && [ "$(out cat-same)" = same-marker ] &&
                [ "$(ls -A "$PL/stage1/rootfs$H" 2>/dev/null)" = "" ]
        tap_ok $? "bind UUID SOURCE without DEST: bound at the same path inside the app" ||
                { diag bind-same; diag cat-same; }

        np bind-ro bind --read-only "$UL" "$H/vol/b2" /mnt/ro --mkdir
        rc_bind=$RC
        enter_ cat-ro "$UL" /bin/cat /mnt/ro/marker
        rc_cat=$RC
        enter_ touch-ro "$UL" /bin/sh -c 'touch /mnt/ro/x'
        [ "$rc_bind" = 0 ] && [ "$rc_cat" = 0 ] && [ "$(out cat-ro)" = b2-marker ] && [ "$RC" != 0 ] && [ ! -e "$H/vol/b2/x" ]
        tap_ok $? "bind --read-only: readable, touch inside fails, nothing appears in the host directory" ||
                { diag bind-ro; diag touch-ro; }

        np bind-nomk bind "$UL" "$H/vol/b1" /mnt/missing
        rc_bind=$RC
        enter_ nomk "$UL" /bin/sh -c '[ ! -e /mnt/missing ] && echo ABSENT'
        [ "$HAVE_BIND" = 1 ] && [ "$rc_bind" != 0 ] && [ -s "$H/bind-nomk.err" ] && [ "$(out nomk)" = ABSENT ]
        tap_ok $? "bind to a missing DEST without --mkdir: fails with an error, DEST still missing" || { diag bind-nomk; diag nomk; }

        enter_ plant "$UL" /bin/sh -c 'ln -s / /evil && ln -s ../../../../tmp /evil2 && echo PLANTED'
        np bind-evil bind "$UL" "$H/vol/b3" "/evil/tmp/$ZA" --mkdir
        rc_bind=$RC
        np bind-evil2 bind "$UL" "$H/vol/b4" "/evil2/$ZB" --mkdir
        rc_bind2=$RC
        enter_ cat-evil "$UL" /bin/cat "/tmp/$ZA/marker" "/tmp/$ZB/marker"
        [ "$(out plant)" = PLANTED ] && [ "$rc_bind" = 0 ] && [ "$rc_bind2" = 0 ] && [ "$RC" = 0 ] &&
                [ "$(out cat-evil)" = "$(printf 'b3-marker\nb4-marker')" ]
        tap_ok $? "bind through symlinks the app planted (/evil -> /, /evil2 -> ../../../../tmp): land at the app's /tmp/$ZA and /tmp/$ZB" ||
                { diag plant; diag bind-evil; diag bind-evil2; diag cat-evil; }
        [ "$rc_bind" = 0 ] && [ "$rc_bind2" = 0 ] && ! [ -e "/tmp/$ZA" ] && ! [ -e "/tmp/$ZB" ] && ! [ -e "$PL/stage1/rootfs/tmp/$ZA" ] && ! [ -e "$PL/stage1/rootfs/tmp/$ZB" ] &&
                [ -z "$(mounts_mentioning "$ZA")" ] && [ -z "$(mounts_mentioning "$ZB")" ]
        tap_ok $? "and never on the host's /tmp or the stage1's /tmp" ||
                tap_diag "$(ls -ld "/tmp/$ZA" "/tmp/$ZB" "$PL/stage1/rootfs/tmp/$ZA" "$PL/stage1/rootfs/tmp/$ZB" 2>&1)"

        np st status "$UL"
        ok=0
        for d in /mnt/x /etc/bound.conf /mnt/ro; do
                grep -qF -- "$d" "$H/st.out" || ok=1
        done
        grep -qF -- "$ZA" "$H/st.out" && grep -qF -- "$ZB" "$H/st.out" || ok=1
        grep -qF /mnt/missing "$H/st.out" && ok=1
        [ "$RC" = 0 ] && [ "$ok" = 0 ]
        tap_ok $? "status lists the binds (each DEST; not the failed one)" || diag st
        np st-json status --format=json "$UL"
        ok=0
        jq -e . "$H/st-json.out" >/dev/null 2>&1 || ok=1
        for d in /mnt/x /etc/bound.conf /mnt/ro "$ZA" "$ZB"; do
                grep -qF -- "$d" "$H/st-json.out" || ok=1
        done
        [ "$RC" = 0 ] && [ "$ok" = 0 ]
        tap_ok $? "status --format=json: valid JSON with every bind's DEST" || diag st-json

        np unbind unbind "$UL" /mnt/x
        rc_unbind=$RC
        # (Left empty, or removed: either way nothing of the bind shows.)
        enter_ ls-x "$UL" /bin/sh -c 'ls -A /mnt/x 2>/dev/null; echo END'
        [ "$rc_unbind" = 0 ] && [ "$RC" = 0 ] && [ "$(out ls-x)" = END ] && [ "$(cat "$H/vol/b1/marker")" = b1-marker ]
        tap_ok $? "unbind UUID /mnt/x: the app sees /mnt/x empty, the host directory keeps its marker" || { diag unbind; diag ls-x; }
        np st2 status "$UL"
        [ "$RC" = 0 ] && ! grep -qF /mnt/x "$H/st2.out" && grep -qF /mnt/ro "$H/st2.out"
        tap_ok $? "status no longer lists /mnt/x, still lists /mnt/ro" || diag st2
        np unbind-none unbind "$UL" /mnt/never
        [ "$HAVE_BIND" = 1 ] && [ "$RC" != 0 ] && [ -s "$H/unbind-none.err" ]
        tap_ok $? "unbind of a DEST that was never bound: an error" || diag unbind-none

        # unbind removes only what bind made: never the pod's protective
        # mounts, not even when the app swaps a bound DEST for a symlink to
        # one of them before the unbind.
        np unbind-sys unbind "$UL" /proc/sys
        rc_unbind=$RC
        enter_ sys-ro "$UL" /bin/sh -c 'grep -E "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ /proc/sys (ro|ro,[^ ]*) " /proc/self/mountinfo >/dev/null && echo SYS-RO'
        [ "$HAVE_BIND" = 1 ] && [ "$rc_unbind" = 1 ] && grep -q 'nothing bound by nspawn-pod bind' "$H/unbind-sys.err" &&
                [ "$(out sys-ro)" = SYS-RO ]
        tap_ok $? "unbind /proc/sys (not a bind of ours): refused with 1, /proc/sys stays read-only in the app" ||
                { diag unbind-sys; diag sys-ro; }
        np bind-sw bind "$UL" "$H/vol/b1" /swap/x --mkdir
        rc_bind=$RC
        enter_ swap "$UL" /bin/sh -c 'mv /swap /swap.old && mkdir /swap && ln -s /proc/sys /swap/x && echo SWAPPED'
        np unbind-sw unbind "$UL" /swap/x
        rc_unbind=$RC
        enter_ sys-ro2 "$UL" /bin/sh -c 'grep -E "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ /proc/sys (ro|ro,[^ ]*) " /proc/self/mountinfo >/dev/null && echo SYS-RO'
        [ "$rc_bind" = 0 ] && [ "$(out swap)" = SWAPPED ] && [ "$rc_unbind" = 1 ] && [ "$(out sys-ro2)" = SYS-RO ]
        tap_ok $? "the app swaps a bound DEST for a symlink to /proc/sys: unbind of it is refused, /proc/sys stays read-only" ||
                { diag bind-sw; diag swap; diag unbind-sw; diag sys-ro2; }
        np bind-twice bind "$UL" "$H/vol/b2" /mnt/ro
        [ "$HAVE_BIND" = 1 ] && [ "$RC" = 1 ] && grep -q 'a bind is there already' "$H/bind-twice.err"
        tap_ok $? "a second bind on a bound DEST: refused (unbind first), nothing stacked" || diag bind-twice
        np bind-dev bind "$UL" "$H/lc" /dev/lc2 --mkdir
        enter_ dev-absent "$UL" /bin/sh -c '[ ! -e /dev/lc2 ] && echo ABSENT'
        [ "$HAVE_BIND" = 1 ] && [ "$RC" = 0 ] && [ "$(out dev-absent)" = ABSENT ] && grep -q 'device node' "$H/bind-dev.err"
        tap_ok $? "bind of a device node into a running app: refused (its device policy is fixed), nothing created" ||
                { diag bind-dev; diag dev-absent; }
        np bind-root bind "$UL" "$H/vol/b1" /newdir/.. --mkdir
        enter_ root-absent "$UL" /bin/sh -c '[ ! -e /newdir ] && echo ABSENT'
        [ "$HAVE_BIND" = 1 ] && [ "$(out root-absent)" = ABSENT ] && grep -q "app's root" "$H/bind-root.err"
        tap_ok $? "bind at /newdir/.. (the app's root): refused before anything is created" || { diag bind-root; diag root-absent; }
        (umask 077 && np bind-umask bind "$UL" "$H/vol/b1" /made/by/bind --mkdir)
        enter_ umask "$UL" /bin/stat -c %a /made /made/by /made/by/bind
        [ "$HAVE_BIND" = 1 ] && [ "$(out umask | head -n 2 | tr '\n' ' ')" = "755 755 " ]
        tap_ok $? "directories bind --mkdir creates are 0755 whatever the caller's umask (077 here)" || diag umask

        stop_pod "$UL" "$LPID"
        [ "$HAVE_BIND" = 1 ] && [ "$(cat "$H/vol/b1/marker" "$H/vol/b2/marker" "$H/vol/b3/marker" "$H/vol/b4/marker" "$H/bound.conf" 2>&1)" = \
                "$(printf 'b1-marker\nb2-marker\nb3-marker\nb4-marker\nbound-%s' "$TAG")" ] &&
                [ "$(ls -A "$H/vol/b2")" = marker ]
        tap_ok $? "the pod stopped: every bound host directory and file as it was"
        np bind-exited bind "$UL" "$H/vol/b1" /mnt/late --mkdir
        [ "$HAVE_BIND" = 1 ] && [ "$RC" != 0 ] && [ -s "$H/bind-exited.err" ]
        tap_ok $? "bind into a pod that has exited: an error" || diag bind-exited
else
        tap_ok 1 "a running pod to bind into"
fi

if start_pod two "one two" "$bb" --name=one --exec=/bin/sh -- -c 'touch /running; exec sleep 1000' \
        --- "$bb" --name=two --exec=/bin/sh -- -c 'touch /running; exec sleep 1000'; then
        UT=$UUID TPID=$RUNPID
        np bind-noapp bind "$UT" "$H/vol/b1" /mnt/y --mkdir
        [ "$HAVE_BIND" = 1 ] && [ "$RC" != 0 ] && grep -qF -- --app "$H/bind-noapp.err"
        tap_ok $? "a pod of two apps: bind without --app fails, naming --app" || diag bind-noapp
        np bind-one bind --app=one "$UT" "$H/vol/b1" /mnt/y --mkdir
        rc_bind=$RC
        enter_ one-y --app=one "$UT" /bin/cat /mnt/y/marker
        rc_one=$RC
        enter_ two-y --app=two "$UT" /bin/sh -c '[ ! -e /mnt/y ] && echo ABSENT'
        [ "$rc_bind" = 0 ] && [ "$rc_one" = 0 ] && [ "$(out one-y)" = b1-marker ] && [ "$RC" = 0 ] && [ "$(out two-y)" = ABSENT ]
        tap_ok $? "bind --app=one: app one sees it, app two does not" || { diag bind-one; diag one-y; diag two-y; }
        stop_pod "$UT" "$TPID"
else
        tap_ok 1 "a running pod of two apps to bind into"
fi

# An app that made a user and mount namespace of its own (possible once its
# seccomp filter is off) would be root over a bind moved into it and could
# remount it writable: bind refuses such a namespace.
if start_pod userns app --insecure-options=seccomp "$bb" --name=app --exec=/bin/sh -- \
        -c 'touch /running; exec /bin/unshare -U -r -m /bin/sleep 1000'; then
        UN=$UUID UNPID=$RUNPID
        # The main process is the unshared one once it has exec'd sleep.
        for ((i = 0; i < 100; i++)); do
                pid=$(harness_np_pod_procs "$UN" 2>/dev/null | while read -r p; do
                        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && echo "$p"; done | head -n 1)
                [ -n "$pid" ] && [ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/1/ns/user)" ] && break
                sleep 0.1
        done
        np bind-userns bind --read-only "$UN" "$H/vol/b1" /mnt/x --mkdir
        [ "$RC" = 1 ] && grep -q "made one of its own" "$H/bind-userns.err"
        tap_ok $? "bind into an app that made its own user namespace: refused (it could remount the bind writable)" ||
                diag bind-userns
        stop_pod "$UN" "$UNPID"
else
        tap_ok 1 "a pod whose app makes its own user namespace"
fi

# Volumes inside volumes: an image's mount point /var/lib/app (an implicit
# volume) and a --mount at /var/lib/app/cache: the outer one is mounted first,
# so the inner one stays visible, whatever order they were given in.
cp -a "$images/busybox" "$images/nested" &&
        jq '.name = "example.com/busybox-nested" | .app.mountPoints = [{"name": "state", "path": "/var/lib/app"}]' \
                "$images/busybox/manifest" >"$images/nested/manifest"
mkvol cache cache-marker
run_pod nested --volume=cache,kind=host,source="$H/vol/cache" "$images/nested" --name=nest \
        --mount=volume=cache,target=/var/lib/app/cache --exec=/bin/sh -- -c 'cat /var/lib/app/cache/marker && echo x >/var/lib/app/top'
[ "$RC" = 0 ] && said nested cache-marker && [ -e "$POD/sharedVolumes/nest-state/top" ] &&
        [ -d "$POD/sharedVolumes/nest-state/cache" ] && [ -z "$(ls -A "$POD/sharedVolumes/nest-state/cache")" ]
tap_ok $? "a --mount inside an image's mount point: both visible (the outer one mounted first)" || diag nested

# --- 8. nothing lost, nothing left ------------------------------------------------------------

mkdir -p "$H/vol/precious/sub/deeper" &&
        printf 'precious one\n' >"$H/vol/precious/one" &&
        head -c 65536 /dev/urandom >"$H/vol/precious/sub/random.bin" &&
        printf 'with a space\n' >"$H/vol/precious/sub/deeper/a file" &&
        ln -s /nonexistent "$H/vol/precious/dangling" &&
        chmod 0640 "$H/vol/precious/one"
snapshot "$H/vol/precious" >"$H/precious.before"
if start_pod keep app --volume=p,kind=host,source="$H/vol/precious" "$bb" --name=app --mount=volume=p,target=/p \
        --exec=/bin/sh -- -c 'cat /p/one >/dev/null && touch /running; exec sleep 1000'; then
        UK=$UUID KPID=$RUNPID
        stop_pod "$UK" "$KPID"
        np keep-gc gc --grace-period=0
        after=$(snapshot "$H/vol/precious")
        left=$(harness_np_uuid_leftovers "$UK")
        [ "$RC" = 0 ] && [ "$after" = "$(cat "$H/precious.before")" ] && [ -z "$left" ] &&
                [ -z "$(mounts_mentioning "${H##*/}")" ] && harness_np_leftovers >/dev/null
        tap_ok $? "a host volume through stop + gc: every file intact; no mount, process or cgroup left" ||
                { diag keep-gc; tap_diag "$left" "$(mounts_mentioning "${H##*/}")" "$(harness_np_leftovers)" \
                        "$(diff "$H/precious.before" <(printf '%s\n' "$after"))"; }
else
        tap_ok 1 "a running pod with a host volume"
fi

# SIGKILL to the run process and nspawn, then gc.
mkdir -p "$H/vol/k-vol" "$H/vol/k-bind" &&
        printf 'k volume data\n' >"$H/vol/k-vol/data" && printf 'k bind data\n' >"$H/vol/k-bind/data"
snapshot "$H/vol/k-bind" >"$H/k-bind.before"
cat >"$H/kill.json" <<EOF
{
  "acVersion": "0.8.11",
  "acKind": "PodManifest",
  "apps": [
    {
      "name": "app",
      "image": {"name": "example.com/busybox", "id": "$id_bb"},
      "app": {"exec": ["/bin/sh", "-c", "echo from-app >/p/from-app && touch /running; exec sleep 1000"], "user": "0", "group": "0"},
      "mounts": [{"volume": "p", "path": "/p"}]
    }
  ],
  "volumes": [{"name": "p", "kind": "host", "source": "$H/vol/k-vol"}]
}
EOF
if start_pod kill app --pod-manifest="$H/kill.json" "$bb"; then
        UX=$UUID XPID=$RUNPID
        np kill-bind bind "$UX" "$H/vol/k-bind" /mnt/k --mkdir
        enter_ kill-cat "$UX" /bin/cat /mnt/k/data
        kill_bound=1
        [ "$(out kill-cat)" = "k bind data" ] && kill_bound=0
        tap_ok "$kill_bound" "a pod with a host volume (rw) and a runtime bind of another host directory, about to be SIGKILLed" ||
                { diag kill-bind; diag kill-cat; }
        npid=$(cat "$POD/ppid" 2>/dev/null)
        kill -KILL "$XPID" ${npid:+"$npid"}
        harness_np_wait "$XPID" 30 2>/dev/null
        for ((i = 0; i < 50; i++)); do
                if [ -z "$npid" ] || ! harness_pid_alive "$npid"; then break; fi
                sleep 0.1
        done
        np kill-gc gc --grace-period=0
        snapshot "$H/vol/k-bind" >"$H/k-bind.after"
        left=$(harness_np_uuid_leftovers "$UX")
        [ "$RC" = 0 ] && [ "$(cat "$H/vol/k-vol/data")" = "k volume data" ] &&
                [ "$(cat "$H/vol/k-vol/from-app")" = from-app ] &&
                [ -z "$left" ] && [ -z "$(mounts_mentioning "${H##*/}")" ] && harness_np_leftovers >/dev/null
        tap_ok $? "run process and nspawn SIGKILLed, then gc: the volume's host data intact (and what the app wrote); no mount, process or cgroup left" ||
                { diag kill-gc; tap_diag "$left" "$(mounts_mentioning "${H##*/}")" "$(harness_np_leftovers)" \
                        "$(ls -la "$H/vol/k-vol" "$H/vol/k-bind" 2>&1)"; }
        [ "$kill_bound" = 0 ] && cmp -s "$H/k-bind.before" "$H/k-bind.after"
        tap_ok $? "and the runtime bind's host directory intact" ||
                tap_diag "bound: $kill_bound" "$(diff "$H/k-bind.before" "$H/k-bind.after" 2>&1)"
else
        tap_ok 1 "a running pod with a host volume to SIGKILL"
fi

# Everything else, and nothing at all left.
np gc-all gc --grace-period=0
left=$(harness_np_uuid_leftovers "${HARNESS_NP_UUIDS[@]}")
[ "$RC" = 0 ] && [ -z "$left" ] && harness_np_leftovers >/dev/null && harness_leftovers >/dev/null &&
        [ -z "$(mounts_mentioning "${H##*/}")" ] && [ -z "$(mounts_mentioning "HOSTMARK-$TAG")" ] &&
        [ "$(cat "$H/vol/pm-rw/marker" "$H/vol/rw/marker" "$H/vol/rec/marker" "$H/vol/sym5/marker")" = \
                "$(printf 'pm-rw-marker\nrw-marker\nrec-marker\nsym-5-marker')" ]
tap_ok $? "gc of every pod: nothing of them left, no mount under or from the work directory, the volumes' data still there" ||
        { diag gc-all; tap_diag "$left" "$(harness_np_leftovers)" "$(harness_leftovers)" "$(mounts_mentioning "${H##*/}")"; }

tap_done
