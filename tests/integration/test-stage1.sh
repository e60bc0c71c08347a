#!/usr/bin/env bash
# Integration test (TAP, root): the stage1 image (build/stage1-host.aci) driven
# exactly as rkt 1.30's stage0 drives a stage1 (docs/stage1.md), with real
# pods: a pod directory laid out as rkt's stage0 lays it out (the image
# extracted into stage1/, the apps into stage1/rootfs/opt/stage2/<app>/, pod,
# pod-created, stage1TreeStoreID, appsinfo/, the stage1 also in the tree
# store), locked, then
#
#   run    exec of stage1/rootfs/init with the flags of interface version 6,
#          cwd = the pod, RKT_LOCK_FD = the locked directory fd, RKT_SELINUX_*;
#   enter  exec of <tree store>/rootfs/enter --pid=<pod's init> --appname=APP;
#   stop   stage1/rootfs/stop [--force] UUID as a child, cwd = the pod;
#   gc     stage1/rootfs/gc --local-config DIR UUID in exited-garbage/.
#
# And the other way round: nspawn-pod's own verbs on such pods, on a fake pod of
# rkt's fly stage1 (a pid file), and on one of rkt's host stage1 (its own stop
# and gc entrypoints, a netns, a machine scope cgroup). Every flag the stage1
# refuses is refused with exit 254 and a message, leaving nothing behind.
#
# Everything lives under HARNESS_DIR; the EXIT trap kills and removes whatever
# is left (tests/lib/pod-harness.sh).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

if ! reason=$(harness_have_nspawn); then
        tap_skip "the stage1 under a stage0: real pods" "$reason"
        tap_done
        exit
fi
harness_init || exit 1

bail() {
        tap_diag "$@"
        tap_done
        exit 1
}

harness_np_init
tap_ok $? "nspawn-pod and the stage1 image are built" || bail "$(tail -n 30 "$HARNESS_DIR/make.log" 2>&1)"
ACI=$(dirname "$HARNESS_NP")/stage1-host.aci
D=$HARNESS_NP_DATA
mkdir -p "$D/pods/"{embryo,prepare,prepared,run,exited-garbage,garbage} || bail "cannot make $D/pods"

images=$HARNESS_DIR/images
"$HARNESS_SRC_ROOT/tests/images/build-busybox" "$images" >"$HARNESS_DIR/images.log" 2>&1
tap_ok $? "busybox test image builds" || bail "$(cat "$HARNESS_DIR/images.log")"
bb=$images/busybox.aci
cd "$HARNESS_DIR" || bail "cannot enter $HARNESS_DIR"

out() { cat "$HARNESS_DIR/$1.out"; }
err() { cat "$HARNESS_DIR/$1.err"; }
diag() { tap_diag "exit status $RC" "stdout:" "$(head -c 3000 "$HARNESS_DIR/$1.out")" "stderr:" "$(head -c 3000 "$HARNESS_DIR/$1.err")"; }

# --- the image ----------------------------------------------------------------------

if command -v actool >/dev/null 2>&1; then
        actool validate "$ACI" >"$HARNESS_DIR/actool.out" 2>&1
        tap_ok $? "actool validate accepts $ACI" || tap_diag "$(cat "$HARNESS_DIR/actool.out")"
else
        tap_skip "actool validate" "actool (appc-spec) not installed"
fi
tar -xOf "$ACI" manifest >"$HARNESS_DIR/s1.manifest" 2>/dev/null
ok=0
for a in 'coreos.com/rkt/stage1/run" *, *"value": *"/init' 'coreos.com/rkt/stage1/enter" *, *"value": *"/enter' \
        'coreos.com/rkt/stage1/gc" *, *"value": *"/gc' 'coreos.com/rkt/stage1/stop" *, *"value": *"/stop' \
        'coreos.com/rkt/stage1/interface-version" *, *"value": *"6'; do
        grep -q "$a" "$HARNESS_DIR/s1.manifest" || {
                ok=1
                tap_diag "no annotation matching: $a"
        }
done
tar -tf "$ACI" >"$HARNESS_DIR/s1.list"
for f in init enter gc stop prepare-app reaper flavor; do
        grep -qx "rootfs/$f" "$HARNESS_DIR/s1.list" || {
                ok=1
                tap_diag "rootfs/$f missing"
        }
done
for u in "$HARNESS_SRC_ROOT"/units/*; do
        grep -qx "rootfs/etc/systemd/system.control/${u##*/}" "$HARNESS_DIR/s1.list" || {
                ok=1
                tap_diag "unit ${u##*/} missing"
        }
done
tap_ok "$ok" "the image: run/enter/gc/stop annotations, interface version 6, the entrypoints, helpers and every unit of units/" ||
        tap_diag "$(cat "$HARNESS_DIR/s1.manifest")"

# --- a stage0 ------------------------------------------------------------------------

TREE_ID=deps-sha512-nspawnpodtest
mkdir -p "$D/cas/tree/$TREE_ID" && tar -xf "$ACI" -C "$D/cas/tree/$TREE_ID" ||
        bail "cannot put the stage1 into the tree store"

# prepare_pod APP:EXEC_JSON...: a pod in pods/run/<uuid> as rkt's stage0
# (--no-overlay) leaves it; prints the UUID. EXEC_JSON is the app's exec.
prepare_pod() {
        local uuid pod spec name exec apps="" sep=""
        uuid=$(cat /proc/sys/kernel/random/uuid)
        pod=$D/pods/prepare/$uuid
        mkdir -p "$pod/stage1" "$pod/appsinfo" || return 1
        tar -xf "$ACI" -C "$pod/stage1" || return 1
        printf '%s' "$TREE_ID" >"$pod/stage1TreeStoreID"
        for spec in "$@"; do
                name=${spec%%:*} exec=${spec#*:}
                mkdir -p "$pod/stage1/rootfs/opt/stage2/$name" "$pod/appsinfo/$name" || return 1
                tar -xf "$bb" -C "$pod/stage1/rootfs/opt/stage2/$name" || return 1
                cp "$pod/stage1/rootfs/opt/stage2/$name/manifest" "$pod/appsinfo/$name/manifest"
                apps+="$sep{\"name\": \"$name\", \"image\": {\"name\": \"example.com/busybox\", \"id\": \"sha512-$(printf 'ab%.0s' {1..32})\"},"
                apps+=" \"app\": {\"exec\": $exec, \"user\": \"0\", \"group\": \"0\"}}"
                sep=", "
        done
        printf '{"acVersion": "0.8.11", "acKind": "PodManifest", "apps": [%s]}\n' "$apps" >"$pod/pod"
        : >"$pod/pod-created"
        mv "$pod" "$D/pods/run/$uuid" || return 1
        HARNESS_NP_UUIDS+=("$uuid")
        printf '%s\n' "$uuid"
}

# stage0_run NAME UUID FLAGS...: what rkt's stage0 does to run a pod: lock the
# pod directory, chdir into it, put the lock fd in RKT_LOCK_FD (not
# close-on-exec) and exec the run entrypoint with FLAGS and the UUID. In the
# background; RUNPID is the entrypoint's pid.
stage0_run() {
        local name=$1 uuid=$2
        shift 2
        (
                cd "$D/pods/run/$uuid" || exit 253
                exec 9<. || exit 253
                flock -x -n 9 || exit 253
                # In the test's network namespace, like every pod here: the
                # CNI networks' veths and rules live there (harness_np_init).
                RKT_LOCK_FD=9 RKT_SELINUX_CONTEXT="" RKT_SELINUX_MOUNT_CONTEXT="" \
                        exec setsid nsenter --net="/run/netns/$HARNESS_NETNS" stage1/rootfs/init "$@" "$uuid"
        ) </dev/null >"$HARNESS_DIR/$name.out" 2>"$HARNESS_DIR/$name.err" &
        RUNPID=$!
        HARNESS_PIDS+=("$RUNPID")
}

# run_fg NAME UUID FLAGS...: the same in the foreground; RC is the exit code.
run_fg() {
        stage0_run "$@"
        RC=0
        harness_np_wait "$RUNPID" 120 || RC=$?
}

# wait_running UUID APP: until the app has created /running.
wait_running() {
        harness_np_wait_for "$D/pods/run/$1/stage1/rootfs/opt/stage2/$2/rootfs/running" 60
}

# init_of UUID: the pod's init, as rkt's stage0 finds it: the only child of ppid.
init_of() {
        local ppid
        ppid=$(cat "$D/pods/run/$1/ppid" 2>/dev/null) || return 1
        c=""
        read -r c _ <"/proc/$ppid/task/$ppid/children"
        [ -n "$c" ] && printf '%s\n' "$c"
}

# The flags rkt 1.30's stage0 passes to a stage1 of interface version 6 for
# `rkt run --net=none` (--local-config is always there: /etc/rkt by default).
FLAGS=(--net=none --local-config=/etc/rkt)

# --- run: one app, exit code, files, network ----------------------------------------

U1=$(prepare_pod 'one:["/bin/sh", "-c", "echo hello from one; cat /proc/net/dev; hostname; exit 7"]') ||
        bail "cannot prepare a pod"
run_fg one "$U1" "${FLAGS[@]}"
P1=$D/pods/run/$U1
[ "$RC" = 7 ] && grep -q 'hello from one' "$HARNESS_DIR/one.out" && [ "$(cat "$P1/stage1/rootfs/rkt/status/one")" = 7 ] &&
        [ -s "$P1/subcgroup" ] && [ -s "$P1/ppid" ] && [ "$(cat "$P1/exit-code")" = 7 ] && [ -L "$P1/flavor" ]
tap_ok $? "run entrypoint: exits with the app's 7, its output on the console, status 7, subcgroup, ppid, exit-code, flavor" ||
        diag one
# /proc/net/dev: two header lines, then one line per interface.
ifaces=$(grep -oE ' [a-z0-9]+: +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ ' "$HARNESS_DIR/one.out" | sed -E 's/^ ([a-z0-9]+):.*/\1/' | sort -u | tr '\n' ' ')
[ "$ifaces" = "lo " ]
tap_ok $? "--net=none: the app sees only lo (saw: $ifaces)" || diag one
grep -q "rkt-$U1" "$HARNESS_DIR/one.out"
tap_ok $? "the default hostname is the machine name rkt-<uuid>" || diag one
[ "$(stat -c %Y "$P1/subcgroup")" -le "$(stat -c %Y "$P1/ppid")" ]
tap_ok $? "subcgroup is written before ppid"
# The journal (docs/logs.md): on disk in the pod, the app's lines in it as
# the app's, the console's lines without the kernel's timestamp and nspawn's
# noise about its runtime-mount directory.
journalctl -D "$P1/stage1/rootfs/var/log/journal" -o cat --no-pager SYSLOG_IDENTIFIER=one _SYSTEMD_UNIT=one.service \
        2>/dev/null | grep -qx 'hello from one' && grep -qx "one\[[0-9]*\]: hello from one.*" "$HARNESS_DIR/one.out" &&
        ! grep -q 'Attempted to remove' "$HARNESS_DIR/one.err" "$HARNESS_DIR/one.out"
tap_ok $? "the pod's journal is on disk in its stage1 root, with the app's lines; the console shows 'one[PID]: line', no nspawn noise" ||
        diag one

# --- run: volumes as rkt's stage0 writes them (rkt run --volume/--mount) --------------

mkdir -p "$HARNESS_DIR/vol-rw" "$HARNESS_DIR/vol-ro" && echo stage0-marker >"$HARNESS_DIR/vol-ro/marker"
UV=$(prepare_pod 'vol:["/bin/sh", "-c", "cat /ro/marker && { touch /ro/x 2>/dev/null && echo RO-WROTE || echo RO-OK; } && echo written >/rw/new && stat -c \"%a %u %g\" /e && echo VOL-DONE"]') ||
        bail "cannot prepare a pod"
PV=$D/pods/run/$UV
jq --arg rw "$HARNESS_DIR/vol-rw" --arg ro "$HARNESS_DIR/vol-ro" '
        .volumes = [{"name": "rw", "kind": "host", "source": $rw},
                    {"name": "ro", "kind": "host", "source": $ro, "readOnly": true},
                    {"name": "e", "kind": "empty", "mode": "0710", "uid": 5, "gid": 6}]
        | .apps[0].mounts = [{"volume": "rw", "path": "/rw"}, {"volume": "ro", "path": "/ro"}, {"volume": "e", "path": "/e"}]' \
        "$PV/pod" >"$PV/pod.new" && mv "$PV/pod.new" "$PV/pod"
run_fg vol "$UV" "${FLAGS[@]}"
[ "$RC" = 0 ] && grep -q 'stage0-marker' "$HARNESS_DIR/vol.out" && grep -q 'RO-OK' "$HARNESS_DIR/vol.out" &&
        grep -q '710 5 6' "$HARNESS_DIR/vol.out" && [ "$(cat "$HARNESS_DIR/vol-rw/new" 2>/dev/null)" = written ] &&
        [ ! -e "$HARNESS_DIR/vol-ro/x" ] && [ -d "$PV/sharedVolumes/e" ]
tap_ok $? "run entrypoint with a pod manifest's volumes: host rw and read-only, empty with mode and owner (docs/volumes.md)" ||
        diag vol
! grep -qF "$PV/" /proc/self/mountinfo && ! grep -qF "$HARNESS_DIR/vol-" /proc/self/mountinfo
tap_ok $? "after the pod: no volume mount in the host's namespace" || tap_diag "$(grep -F "$HARNESS_DIR" /proc/self/mountinfo)"

# --- run: two apps, the first failure is the pod's code ------------------------------

U2=$(prepare_pod 'ok:["/bin/sh", "-c", "exit 0"]' 'bad:["/bin/sh", "-c", "sleep 1; exit 5"]') ||
        bail "cannot prepare a pod"
run_fg two "$U2" "${FLAGS[@]}" --hostname=stage0-host
[ "$RC" = 5 ] && [ "$(cat "$D/pods/run/$U2/stage1/rootfs/rkt/status/ok")" = 0 ] &&
        [ "$(cat "$D/pods/run/$U2/stage1/rootfs/rkt/status/bad")" = 5 ]
tap_ok $? "a two-app pod (exit 0, exit 5): exits 5, statuses 0 and 5" || diag two

# nspawn-pod's verbs read pods rkt's stage0 made and ran.
v() {
        local name=$1
        shift
        RC=0
        harness_np_run "$@" >"$HARNESS_DIR/$name.out" 2>"$HARNESS_DIR/$name.err" || RC=$?
}
v st-two status "$U2"
[ "$RC" = 0 ] && grep -qx state=exited "$HARNESS_DIR/st-two.out" && grep -qx app-bad=5 "$HARNESS_DIR/st-two.out" &&
        grep -qx exit-code=5 "$HARNESS_DIR/st-two.out"
tap_ok $? "nspawn-pod status of the pod rkt's stage0 ran: exited, exit-code=5, app-bad=5" || diag st-two

# --- enter, stop --------------------------------------------------------------------

U3=$(prepare_pod 'sleeper:["/bin/sh", "-c", "touch /running; exec sleep 1000"]' \
        'other:["/bin/sh", "-c", "exec sleep 1000"]') || bail "cannot prepare a pod"
stage0_run sleeper "$U3" "${FLAGS[@]}"
S_PID=$RUNPID
if wait_running "$U3" sleeper && init=$(init_of "$U3"); then
        tap_ok 0 "a running two-app pod (init $init)"
        RC=0
        (cd "$D/pods/run/$U3" && exec "$D/cas/tree/$TREE_ID/rootfs/enter" --pid="$init" --appname=sleeper -- \
                /bin/sh -c 'echo "app=$AC_APP_NAME"; grep -E "^0::" /proc/self/cgroup; exit 42') \
                </dev/null >"$HARNESS_DIR/enter.out" 2>"$HARNESS_DIR/enter.err" || RC=$?
        [ "$RC" = 42 ] && grep -qx app=sleeper "$HARNESS_DIR/enter.out" &&
                grep -q '/system.slice/sleeper.service$' "$HARNESS_DIR/enter.out"
        tap_ok $? "enter --pid=<init> --appname=sleeper (from the tree store): in the app (its env, its cgroup), exit 42 back" ||
                diag enter
        RC=0
        (cd "$D/pods/run/$U3" && exec "$D/cas/tree/$TREE_ID/rootfs/enter" --pid="$init" --appname=nosuch -- /bin/true) \
                </dev/null >"$HARNESS_DIR/enter-bad.out" 2>"$HARNESS_DIR/enter-bad.err" || RC=$?
        [ "$RC" = 254 ] && grep -q 'not running' "$HARNESS_DIR/enter-bad.err"
        tap_ok $? "enter of an app the pod does not run: 254 with a message" || diag enter-bad

        v st-run status "$U3"
        grep -qx state=running "$HARNESS_DIR/st-run.out" && grep -qx "pid=$(cat "$D/pods/run/$U3/ppid")" "$HARNESS_DIR/st-run.out"
        tap_ok $? "nspawn-pod status of a pod running under rkt's stage0: running, pid=nspawn's" || diag st-run

        RC=0
        (cd "$D/pods/run/$U3" && exec stage1/rootfs/stop "$U3") >"$HARNESS_DIR/stop.out" 2>"$HARNESS_DIR/stop.err" || RC=$?
        src=$RC
        RC=0
        harness_np_wait "$S_PID" 60 || RC=$?
        [ "$src" = 0 ] && [ "$RC" = 0 ] && [ "$(cat "$D/pods/run/$U3/stage1/rootfs/rkt/status/sleeper")" = 143 ]
        tap_ok $? "stop entrypoint (in order): exit 0, the pod ends with 0, the app's status recorded (143)" || diag sleeper
else
        tap_ok 1 "a running two-app pod" || diag sleeper
fi

U4=$(prepare_pod 'forced:["/bin/sh", "-c", "touch /running; exec sleep 1000"]') || bail "cannot prepare a pod"
stage0_run forced "$U4" "${FLAGS[@]}"
F_PID=$RUNPID
if wait_running "$U4" forced; then
        RC=0
        (cd "$D/pods/run/$U4" && exec stage1/rootfs/stop --force "$U4") >"$HARNESS_DIR/stopf.out" 2>"$HARNESS_DIR/stopf.err" ||
                RC=$?
        src=$RC
        RC=0
        harness_np_wait "$F_PID" 60 || RC=$?
        [ "$src" = 0 ] && [ "$RC" = 137 ] && [ -z "$(harness_np_pod_procs "$U4")" ]
        tap_ok $? "stop --force: exit 0, the pod is killed (137), nothing of it runs" || diag stopf
else
        tap_ok 1 "a pod to stop --force" || diag forced
fi

# nspawn-pod stop of a pod running under rkt's stage0.
U5=$(prepare_pod 'np:["/bin/sh", "-c", "touch /running; exec sleep 1000"]') || bail "cannot prepare a pod"
stage0_run np "$U5" "${FLAGS[@]}"
N_PID=$RUNPID
if wait_running "$U5" np; then
        v np-stop stop --wait=60s "$U5"
        src=$RC
        RC=0
        harness_np_wait "$N_PID" 60 || RC=$?
        [ "$src" = 0 ] && [ "$RC" = 0 ]
        tap_ok $? "nspawn-pod stop --wait of a pod running under rkt's stage0: done, the pod ends with 0" || diag np-stop
else
        tap_ok 1 "a pod for nspawn-pod stop" || diag np
fi

# --- run: the flags ------------------------------------------------------------------

host_ipc=$(readlink /proc/self/ns/ipc)
U6=$(prepare_pod 'ipc:["/bin/sh", "-c", "readlink /proc/self/ns/ipc"]') || bail "cannot prepare a pod"
run_fg ipc-parent "$U6" "${FLAGS[@]}" --ipc=parent
U7=$(prepare_pod 'ipc:["/bin/sh", "-c", "readlink /proc/self/ns/ipc"]') || bail "cannot prepare a pod"
rc_parent=$RC
run_fg ipc-private "$U7" "${FLAGS[@]}" --ipc=private
[ "$rc_parent" = 0 ] && [ "$RC" = 0 ] && grep -qF "$host_ipc" "$HARNESS_DIR/ipc-parent.out" &&
        ! grep -qF "$host_ipc" "$HARNESS_DIR/ipc-private.out" && grep -qF 'ipc:[' "$HARNESS_DIR/ipc-private.out"
tap_ok $? "--ipc=parent: the host's IPC namespace ($host_ipc); --ipc=private: one of its own" ||
        { diag ipc-parent; diag ipc-private; }

U8=$(prepare_pod 'dbg:["/bin/true"]') || bail "cannot prepare a pod"
run_fg debug "$U8" --debug "${FLAGS[@]}" --disable-capabilities-restriction --disable-paths --disable-seccomp \
        --interactive=false --mutable=false
[ "$RC" = 0 ] && grep -q 'Spawning container rkt-' "$HARNESS_DIR/debug.err"
tap_ok $? "--debug keeps nspawn's messages; --disable-* and false booleans (--interactive=false, --mutable=false) run" ||
        diag debug

# Refused: each with exit 254 and a message, before anything is started.
ok=0
for refused in "--net=mynet:IP=10.1.2.3" "--net=host,none" "--net=host:IP=10.1.2.3" \
        "--private-users=65536:65536" "--mds-token=abc" "--mutable" \
        "--dns-conf-mode=resolv=bogus,hosts=default" "--dns-conf-mode=resolv=default,hosts=sometimes" \
        "--ipc=bogus"; do
        U=$(prepare_pod 'never:["/bin/true"]') || bail "cannot prepare a pod"
        case $refused in --net=*) set -- "$refused" --local-config=/etc/rkt ;; *) set -- "${FLAGS[@]}" "$refused" ;; esac
        run_fg refused "$U" "$@"
        if ! { [ "$RC" = 254 ] && grep -q 'stage1: ' "$HARNESS_DIR/refused.err" && [ ! -e "$D/pods/run/$U/ppid" ] &&
                [ -z "$(harness_np_uuid_leftovers "$U" | grep -v '^pod dir')" ]; }; then
                ok=1
                tap_diag "$refused: exit $RC" "$(cat "$HARNESS_DIR/refused.err")"
        fi
done
tap_ok "$ok" "refused with 254 and a message, nothing started: an unknown network, host+none, host with arguments, --private-users on a pod not rendered shifted, --mds-token, --mutable, unknown --dns-conf-mode modes, --ipc=bogus"

# --- rkt run --private-users --no-overlay ---------------------------------------------

# rkt's stage0 renders the stage1 and the apps with every owner shifted
# (uid + SHIFT), writes private-users-prepared and passes
# --private-users=SHIFT:COUNT; the stage1 shifts what it makes itself.
SHIFT=1879179264
shift_tree() {
        python3 - "$1" "$SHIFT" <<'EOF2'
import os, sys
top, shift = sys.argv[1], int(sys.argv[2])
for d, dirs, files in os.walk(top):
    for n in ([d] if d == top else []) + [os.path.join(d, f) for f in files + dirs]:
        st = os.lstat(n)
        os.lchown(n, st.st_uid + shift, st.st_gid + shift)
EOF2
}
UU=$(prepare_pod 'shifted:["/bin/sh", "-c", "touch /running; id; cat /proc/self/uid_map; stat -c \"%u:%g %n\" / /etc/passwd 2>&1; echo made >/made; exec sleep 1000"]') ||
        bail "cannot prepare a pod"
PU=$D/pods/run/$UU
shift_tree "$PU/stage1/rootfs" && printf '%s:65536' "$SHIFT" >"$PU/private-users-prepared"
stage0_run shifted "$UU" "${FLAGS[@]}" --private-users="$SHIFT:65536"
U_PID=$RUNPID
if wait_running "$UU" shifted && init=$(init_of "$UU"); then
        app_uid=""
        for p in /proc/[0-9]*; do
                [ "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" = "sleep 1000 " ] &&
                        [ "$p/root" -ef "$PU/stage1/rootfs/opt/stage2/shifted/rootfs" ] &&
                        app_uid=$(awk '/^Uid:/{print $2}' "$p/status")
        done
        out=$(sed -E 's/^[a-z]+\[[0-9]+\]: //; s/\r$//' "$HARNESS_DIR/shifted.out")
        [ "$app_uid" = "$SHIFT" ] && grep -qx 'uid=0(root) gid=0(root)' <<<"$out" &&
                grep -qE "^ +0 +$SHIFT +65536\$" <<<"$out" && grep -qx '0:0 /' <<<"$out" && grep -qx '0:0 /etc/passwd' <<<"$out" &&
                [ "$(stat -c %u "$PU/stage1/rootfs/opt/stage2/shifted/rootfs/made")" = "$SHIFT" ] &&
                [ "$(stat -c %u:%g "$PU/stage1/rootfs/etc/hostname" 2>/dev/null || stat -c %u:%g "$PU/stage1/rootfs/etc/machine-id")" = "$SHIFT:$SHIFT" ]
        tap_ok $? "--private-users=SHIFT:COUNT on a pod rkt rendered shifted: the app is root inside, $SHIFT on the host; its files root's; what the stage1 made is shifted" ||
                { diag shifted; tap_diag "app uid on the host: $app_uid" "$(find "$PU/stage1/rootfs" -path '*/opt/stage2/*/rootfs' -prune -o ! -uid "$SHIFT" -printf '%U:%G %p\n' | head)"; }
        RC=0
        (cd "$PU" && exec "$D/cas/tree/$TREE_ID/rootfs/enter" --pid="$init" --appname=shifted -- \
                /bin/sh -c 'id -u; cat /proc/self/uid_map; exit 42') </dev/null >"$HARNESS_DIR/enter-u.out" 2>"$HARNESS_DIR/enter-u.err" || RC=$?
        [ "$RC" = 42 ] && [ "$(head -n 1 "$HARNESS_DIR/enter-u.out")" = 0 ] && grep -qE "^ +0 +$SHIFT +65536\$" "$HARNESS_DIR/enter-u.out"
        tap_ok $? "enter --pid=<init> --appname=shifted joins the pod's user namespace: uid 0 there, exit 42 back" || diag enter-u
else
        tap_ok 1 "a pod rkt rendered shifted runs with --private-users=SHIFT:COUNT" || diag shifted
fi
(cd "$PU" && exec stage1/rootfs/stop "$UU") </dev/null >/dev/null 2>&1
harness_np_wait "$U_PID" 60 >/dev/null 2>&1
[ -z "$(harness_np_uuid_leftovers "$UU" | grep -v -e '^pod dir' -e '^journal link')" ] && [ ! -e "/run/nspawn-pod/userns/$SHIFT-65536" ]
tap_ok $? "stopped by the stop entrypoint: nothing of the user-namespaced pod is left, nor its range's lock" ||
        tap_diag "$(harness_np_uuid_leftovers "$UU")"

# rkt's default: --net=default, as its stage0 passes it (docs/networks.md).
UD=$(prepare_pod 'dflt:["/bin/sh", "-c", "ip -4 -o addr show eth0; ip route; cat /etc/resolv.conf"]') ||
        bail "cannot prepare a pod"
mkdir -p "$HARNESS_DIR/rkt-config/net.d"
printf '# Generated by rkt run\n\nnameserver 192.0.2.53\n' >"$D/pods/run/$UD/stage1/rootfs/etc/rkt-resolv.conf"
run_fg dflt "$UD" --net=default --local-config="$HARNESS_DIR/rkt-config" --dns-conf-mode=resolv=stage0,hosts=default
[ "$RC" = 0 ] && grep -q 'inet 172\.16\.28\.[0-9]*/24' "$HARNESS_DIR/dflt.out" &&
        grep -q 'default via 172\.16\.28\.1' "$HARNESS_DIR/dflt.out" && grep -q 'nameserver 192\.0\.2\.53' "$HARNESS_DIR/dflt.out" &&
        [ ! -e "/run/netns/nspawn-pod-$UD" ] && [ ! -e "$D/pods/run/$UD/netns" ] &&
        [ -z "$(harness_in_net ip -o link show type veth)" ]
tap_ok $? "run entrypoint with --net=default (rkt's default) and the stage0's resolv.conf: eth0 in 172.16.28.0/24, a default route, its nameserver; all of it gone after the pod" ||
        diag dflt

# Without RKT_LOCK_FD, or run from elsewhere: refused too.
U9=$(prepare_pod 'never:["/bin/true"]') || bail "cannot prepare a pod"
RC=0
(cd "$D/pods/run/$U9" && exec stage1/rootfs/init "${FLAGS[@]}" "$U9") </dev/null >"$HARNESS_DIR/nolock.out" \
        2>"$HARNESS_DIR/nolock.err" || RC=$?
rc_nolock=$RC
RC=0
(cd "$D/pods/run/$U9" && exec 9<. && RKT_LOCK_FD=9 exec stage1/rootfs/init "${FLAGS[@]}" "$U1") </dev/null \
        >"$HARNESS_DIR/wrong.out" 2>"$HARNESS_DIR/wrong.err" || RC=$?
[ "$rc_nolock" = 254 ] && grep -q 'RKT_LOCK_FD is not set' "$HARNESS_DIR/nolock.err" && [ "$RC" = 254 ] &&
        grep -q 'is not the directory of pod' "$HARNESS_DIR/wrong.err" && [ ! -e "$D/pods/run/$U9/ppid" ]
tap_ok $? "without \$RKT_LOCK_FD, or with another pod's UUID: 254, nothing started" || { diag nolock; diag wrong; }
RC=0
(cd "$D/pods/run/$U9" && exec stage1/rootfs/stop --force "$U1") </dev/null >"$HARNESS_DIR/wstop.out" \
        2>"$HARNESS_DIR/wstop.err" || RC=$?
rc_stop=$RC
RC=0
(cd "$D/pods/run/$U9" && exec stage1/rootfs/gc "$U1") </dev/null >"$HARNESS_DIR/wgc.out" 2>"$HARNESS_DIR/wgc.err" || RC=$?
[ "$rc_stop" = 254 ] && grep -q 'is not the directory of pod' "$HARNESS_DIR/wstop.err" && [ "$RC" = 254 ] &&
        grep -q 'is not the directory of pod' "$HARNESS_DIR/wgc.err" && [ -d "$D/pods/run/$U9/stage1" ]
tap_ok $? "stop and gc entrypoints run from another pod's directory: 254, that pod untouched" || { diag wstop; diag wgc; }

# --- gc ------------------------------------------------------------------------------

# stage0_gc UUID: rkt's gc: move the pod to exited-garbage/, lock it, run the
# gc entrypoint there (interface version >= 5: --local-config), remove the
# directory after making whatever is left unmountable (rkt: MountGC).
stage0_gc() {
        local uuid=$1 g=$D/pods/exited-garbage/$1
        mv "$D/pods/run/$uuid" "$g" || return 253
        (cd "$g" && exec 9<. && flock -x -n 9 && exec nsenter --net="/run/netns/$HARNESS_NETNS" stage1/rootfs/gc --local-config /etc/rkt "$uuid")
}
ok=0
for u in "$U1" "$U2" "$U3" "$U4" "$U5" "$U6" "$U7" "$U8"; do
        RC=0
        stage0_gc "$u" >"$HARNESS_DIR/gc.out" 2>"$HARNESS_DIR/gc.err" || RC=$?
        left=$(harness_np_uuid_leftovers "$u" | grep -v '^pod dir')
        if [ "$RC" != 0 ] || [ -n "$left" ] || [ -s "$HARNESS_DIR/gc.err" ]; then
                ok=1
                tap_diag "gc $u: exit $RC" "$(cat "$HARNESS_DIR/gc.err")" "$left"
        fi
        # Twice: nothing left to do, no error.
        (cd "$D/pods/exited-garbage/$u" && exec stage1/rootfs/gc "$u") >/dev/null 2>"$HARNESS_DIR/gc2.err" || ok=1
        [ -s "$HARNESS_DIR/gc2.err" ] && ok=1
        rm -rf "${D:?}/pods/exited-garbage/$u"
done
tap_ok "$ok" "gc entrypoint of each exited pod (in exited-garbage/, --local-config): exit 0, silent, no mount, cgroup or process left; again: the same"

# gc of a pod whose nspawn and run process were SIGKILLed: its payload runs on
# until gc kills it.
U10=$(prepare_pod 'orphan:["/bin/sh", "-c", "touch /running; exec sleep 1000"]') || bail "cannot prepare a pod"
stage0_run orphan "$U10" "${FLAGS[@]}"
if wait_running "$U10" orphan; then
        kill -KILL "$RUNPID" "$(cat "$D/pods/run/$U10/ppid")"
        harness_np_wait "$RUNPID" 10 2>/dev/null
        sleep 0.5
        n_before=$(harness_np_pod_procs "$U10" | wc -l)
        RC=0
        stage0_gc "$U10" >"$HARNESS_DIR/gc-orphan.out" 2>"$HARNESS_DIR/gc-orphan.err" || RC=$?
        left=$(harness_np_uuid_leftovers "$U10" | grep -v '^pod dir')
        [ "$n_before" -gt 0 ] && [ "$RC" = 0 ] && [ -z "$left" ]
        tap_ok $? "kill -9 of the run entrypoint and nspawn ($n_before processes of the pod left running), then gc: all killed, nothing left" ||
                tap_diag "$(cat "$HARNESS_DIR/gc-orphan.err")" "$left"
        rm -rf "${D:?}/pods/exited-garbage/$U10"
else
        tap_ok 1 "a pod to SIGKILL" || diag orphan
fi

# --- pods of rkt's own stage1s -------------------------------------------------------

# A fly pod: running (its pid file names the app process, a lock is held).
UF=$(cat /proc/sys/kernel/random/uuid)
HARNESS_NP_UUIDS+=("$UF")
PF=$D/pods/run/$UF
mkdir -p "$PF/stage1/rootfs" && : >"$PF/pod-created" &&
        printf '{"acVersion": "0.8.11", "acKind": "PodManifest", "apps": []}\n' >"$PF/pod"
sleep 1000 &
fly_app=$!
harness_on_exit "kill $fly_app 2>/dev/null"
echo "$fly_app" >"$PF/pid"
(exec 9<"$PF" && flock -x 9 && exec sleep 1000) &
fly_lock=$!
harness_on_exit "kill $fly_lock 2>/dev/null"
sleep 0.3
v st-fly status "$UF"
[ "$RC" = 0 ] && grep -qx state=running "$HARNESS_DIR/st-fly.out" && grep -qx "pid=$fly_app" "$HARNESS_DIR/st-fly.out" &&
        grep -q '^started=20' "$HARNESS_DIR/st-fly.out"
tap_ok $? "nspawn-pod status of a pod of rkt's fly stage1: pid= from its pid file, started= its mtime" || diag st-fly
kill "$fly_lock" "$fly_app" 2>/dev/null
wait "$fly_lock" "$fly_app" 2>/dev/null

# A pod of rkt's host stage1 (exited): its own stop and gc entrypoints
# (stand-ins recording how they were run), a network namespace in
# /run/netns, a machine scope cgroup with a process in it.
UH=$(cat /proc/sys/kernel/random/uuid)
HARNESS_NP_UUIDS+=("$UH")
PH=$D/pods/run/$UH
mkdir -p "$PH/stage1/rootfs" && : >"$PH/pod-created" &&
        printf '{"acVersion": "0.8.11", "acKind": "PodManifest", "apps": []}\n' >"$PH/pod" &&
        cat >"$PH/stage1/manifest" <<EOF
{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "coreos.com/rkt/stage1-host",
 "labels": [{"name": "arch", "value": "amd64"}, {"name": "os", "value": "linux"}],
 "annotations": [{"name": "coreos.com/rkt/stage1/run", "value": "/init"},
  {"name": "coreos.com/rkt/stage1/gc", "value": "/gc"}, {"name": "coreos.com/rkt/stage1/stop", "value": "/stop"},
  {"name": "coreos.com/rkt/stage1/interface-version", "value": "5"}]}
EOF
for e in gc stop; do
        printf '#!/bin/sh\necho "%s $* cwd=$(pwd)" >>%s/foreign.log\n' "$e" "$HARNESS_DIR" >"$PH/stage1/rootfs/$e"
        chmod +x "$PH/stage1/rootfs/$e"
done
netns=cni-nspawn-pod-test-$$   # rkt names its pods' namespaces cni-…
ip netns add "$netns" && harness_on_exit "ip netns delete $netns 2>/dev/null"
echo "/var/run/netns/$netns" >"$PH/netns"
esc=${UH//-/\\x2d}
scope=""
while IFS= read -r -d '' mp; do
        own=$(_harness_own_cgroup "$mp") || own=/
        c=${mp%/}${own%/}/machine-rkt$'\\'x2d$esc.scope
        if mkdir -p "$c"; then
                harness_on_exit "rmdir '$c' 2>/dev/null"
                [ -z "$scope" ] && scope=${own%/}/machine-rkt$'\\'x2d$esc.scope
                [ -z "${scope_dir:-}" ] && scope_dir=$c
        fi
done < <(_harness_cgroup_mounts)
printf '%s' "$scope" >"$PH/subcgroup"
(echo "$BASHPID" >"$scope_dir/cgroup.procs" && exec sleep 1000) &
scoped=$!
harness_on_exit "kill $scoped 2>/dev/null"
sleep 0.3
[ -e "/run/netns/$netns" ] && grep -qx "$scoped" "$scope_dir/cgroup.procs"
tap_ok $? "a pod of rkt's host stage1: netns $netns, a process in $scope" || bail "cannot set it up"
(exec 9<"$PH" && flock -x 9 && exec sleep 1000) &
h_lock=$!
sleep 0.3
v stop-foreign stop "$UH"
kill "$h_lock" 2>/dev/null
wait "$h_lock" 2>/dev/null
[ "$RC" = 0 ] && grep -qx "stop $UH cwd=$PH" "$HARNESS_DIR/foreign.log"
tap_ok $? "nspawn-pod stop of a pod of another stage1 runs that stage1's stop entrypoint in the pod directory, as rkt's stage0 does" ||
        { diag stop-foreign; tap_diag "$(cat "$HARNESS_DIR/foreign.log" 2>&1)"; }
v gc-foreign gc --grace-period=0
[ "$RC" = 0 ] && grep -qx "$UH" "$HARNESS_DIR/gc-foreign.out" && grep -qx "gc $UH cwd=$D/pods/exited-garbage/$UH" "$HARNESS_DIR/foreign.log" &&
        [ ! -e "/run/netns/$netns" ] && [ ! -d "$scope_dir" ] && ! harness_pid_alive "$scoped" && [ ! -e "$PH" ]
tap_ok $? "nspawn-pod gc of it: its gc entrypoint run in exited-garbage/, then its netns, its machine scope cgroup (process killed) and directory gone" ||
        { diag gc-foreign; tap_diag "$(cat "$HARNESS_DIR/foreign.log")" "netns: $(ls /run/netns 2>&1)" "scope: $(ls -d "$scope_dir" 2>&1)"; }

# --- machined: the decision ------------------------------------------------------------

# A D-Bus daemon of our own: without machined on it, pods run unregistered;
# with a process owning org.freedesktop.machine1 (tests/unit/test-machined.c's
# stand-in: it answers pings, not RegisterMachine), nspawn is asked to
# register, and says it cannot (a real machined would register the pod).
bus=$HARNESS_DIR/bus
fake_machined=$(dirname "$HARNESS_NP")/tests/test-machined
cat >"$HARNESS_DIR/bus.conf" <<EOF
<busconfig><type>system</type><listen>unix:path=$bus</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*"/><allow own="*"/><allow receive_sender="*"/></policy></busconfig>
EOF
if command -v dbus-daemon >/dev/null && [ -x "$fake_machined" ]; then
        dbus-daemon --nofork --nopidfile --config-file="$HARNESS_DIR/bus.conf" 2>/dev/null &
        bus_pid=$!
        harness_on_exit "kill $bus_pid 2>/dev/null"
        harness_np_wait_for "$bus" 10
        export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$bus
        v mach-no run --uuid-file-save="$HARNESS_DIR/mach-no.uuid" "$bb" --exec=/bin/true
        HARNESS_NP_UUIDS+=("$(cat "$HARNESS_DIR/mach-no.uuid" 2>/dev/null)")
        rc_no=$RC
        "$fake_machined" --own-machined >"$HARNESS_DIR/owned" 2>/dev/null &
        fake=$!
        harness_on_exit "kill $fake 2>/dev/null"
        for ((i = 0; i < 100; i++)); do
                grep -q owned "$HARNESS_DIR/owned" && break
                sleep 0.1
        done
        v mach-yes --debug run --uuid-file-save="$HARNESS_DIR/mach-yes.uuid" "$bb" --exec=/bin/true
        HARNESS_NP_UUIDS+=("$(cat "$HARNESS_DIR/mach-yes.uuid" 2>/dev/null)")
        mu=$(cat "$HARNESS_DIR/mach-yes.uuid" 2>/dev/null)
        sub_yes=$(cat "$(harness_np_pod_dir "$mu")/subcgroup" 2>/dev/null)
        left_yes=$(find /sys/fs/cgroup -name "nspawn-pod-$mu" 2>/dev/null)
        kill "$fake" "$bus_pid" 2>/dev/null
        wait "$fake" "$bus_pid" 2>/dev/null
        unset DBUS_SYSTEM_BUS_ADDRESS
        [ "$rc_no" = 0 ] && [ "$RC" != 0 ] && grep -qi 'register' "$HARNESS_DIR/mach-yes.err"
        tap_ok $? "a bus without machined: the pod runs unregistered (exit $rc_no); with something owning machine1: nspawn is asked to register (exit $RC: $(grep -i -m1 register "$HARNESS_DIR/mach-yes.err"))" ||
                { diag mach-no; diag mach-yes; }
        [ "$sub_yes" = "/machine.slice/machine-nspawn\\x2dpod\\x2d${mu//-/\\x2d}.scope" ] && [ -z "$left_yes" ]
        tap_ok $? "registering: subcgroup names the machine scope ($sub_yes); the cgroup nspawn ran in is removed by run itself" ||
                tap_diag "left: $left_yes"
        v gc-mach gc --grace-period=0
        [ "$RC" = 0 ] && harness_np_leftovers >"$HARNESS_DIR/left.out"
        tap_ok $? "gc after them: nothing left" || { diag gc-mach; tap_diag "$(cat "$HARNESS_DIR/left.out")"; }
else
        tap_skip "machined decision through a D-Bus daemon of our own" "dbus-daemon or the test stand-in not there (tests/unit/test-machined.c checks the decision itself)"
fi

tap_done
