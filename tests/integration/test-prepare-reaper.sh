#!/usr/bin/env bash
# Integration test (TAP): the real stage1 helpers, prepare-app and reaper
# (docs/helpers.md), in pods rendered by `nspawn-pod render -o` and booted
# with systemd-nspawn (tests/lib/pod-harness.sh). The apps are busybox-static
# shells; each pod checks one part of the contract:
#
#   env      what an app sees: procfs on /proc, a read-only sysfs, a fresh
#            tmpfs /dev with exactly the standard nodes (a volume below /dev
#            kept), a usable /dev/ptmx, a writable /dev/shm tmpfs, /etc/hosts,
#            /etc/resolv.conf, /etc/hostname, the journal sockets; a second
#            prepare-app run on the prepared root changes nothing;
#   exits    apps exiting 0 and 3 and one still running: statuses, .end
#            files, pod exit code 3, the running one stopped (SIGTERM);
#   killed   an app killing itself with SIGKILL: 137, "killed 9";
#   noexec   an app whose executable does not exist: 203;
#   stopped  nspawn asked to stop the pod while the app runs: the app is
#            stopped (143, "killed 15"), the pod exits 0;
#   unsafe   images whose /dev, or /run/systemd, is a symlink to /etc:
#            prepare-app refuses (exit 1; the second after undoing the mounts
#            it had made), writes nothing through them, the apps never start,
#            the pod ends with 254.
#
# The helpers' argument checks and exit codes 0, 1 and 2 are checked first,
# without a pod.
#
# Only the helpers are ours here: the units, the argv and the environment are
# render's. Drop-ins in the test's stage1 add instrumentation only (where
# prepare-app's and the reaper's messages go, prepare-app's exit status).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

if ! reason=$(harness_have_nspawn); then
        tap_skip "prepare-app and reaper in booted pods" "$reason"
        tap_done
        exit
fi
busybox=${BUSYBOX:-/bin/busybox}
if [ ! -x "$busybox" ] || { command -v file >/dev/null && ! file -L "$busybox" | grep -q 'statically linked'; }; then
        # The apps are busybox shells; a dynamic busybox would need the
        # host's libraries inside every app root.
        tap_skip "prepare-app and reaper in booted pods" \
                "no static busybox at $busybox (apt-get install busybox-static)"
        tap_done
        exit
fi

harness_init || exit 1

bail() {
        tap_diag "$@"
        tap_done
        exit 1
}

# --- build ----------------------------------------------------------------------

src=$HARNESS_SRC_ROOT
build=${BUILD:-build}
case $build in
/*) ;;
*) build=$src/$build ;;
esac
np=$build/nspawn-pod
prepare_app=$build/libexec/prepare-app
reaper=$build/libexec/reaper
# Rebuilt when missing or older than any of their sources (a single test
# must be runnable on its own, right after an edit).
stale=0
for b in "$np" "$prepare_app" "$reaper"; do
        if [ ! -x "$b" ] || [ -n "$(find "$src/lib" "$src/nspawn-pod" "$src/prepare-app" "$src/reaper" "$src/Makefile" \
                -newer "$b" \( -name '*.[ch]' -o -name Makefile \) -print -quit 2>/dev/null)" ]; then
                stale=1
        fi
done
if [ "$stale" = 1 ]; then
        make -C "$src" BUILD="${BUILD:-build}" "${np#"$src"/}" "${prepare_app#"$src"/}" "${reaper#"$src"/}" \
                >"$HARNESS_DIR/make.log" 2>&1
        tap_ok $? "nspawn-pod, prepare-app and reaper build" || bail "$(tail -n 30 "$HARNESS_DIR/make.log")"
fi

# --- the helpers' own exit codes ----------------------------------------------------

# exit_code_is WANT CMD...: CMD exits WANT. Only argument errors and --help here:
# a valid app root would be prepared on this machine, not in a pod.
exit_code_is() {
        local want=$1 rc=0
        shift
        "$@" >/dev/null 2>&1 || rc=$?
        [ "$rc" = "$want" ] || tap_diag "$* exited $rc, want $want"
        [ "$rc" = "$want" ]
}
exit_code_is 0 "$prepare_app" --help && exit_code_is 2 "$prepare_app" && exit_code_is 2 "$prepare_app" --bogus &&
        exit_code_is 2 "$prepare_app" opt/stage2/a/rootfs && exit_code_is 2 "$prepare_app" /opt/stage2/a/../b/rootfs &&
        exit_code_is 2 "$prepare_app" /opt/stage2/Bad/rootfs && exit_code_is 2 "$prepare_app" /opt/stage2/a/rootfs/ &&
        exit_code_is 2 "$prepare_app" /opt/stage2/a/rootfs /opt/stage2/b/rootfs
tap_ok $? "prepare-app: --help exits 0; a missing, extra or malformed APP_ROOT exits 2 (usage)"
exit_code_is 0 "$reaper" --help && exit_code_is 2 "$reaper" && exit_code_is 2 "$reaper" Bad_Name &&
        exit_code_is 2 "$reaper" a b && exit_code_is 2 "$reaper" -- -a
tap_ok $? "reaper: --help exits 0; a missing, extra or invalid APP exits 2 (usage)"
# No systemd at /run/systemd/private in this mount namespace (PID 1 is not
# systemd here), or one without such a unit: exit 254, nothing written.
if [ ! -e /rkt ]; then
        exit_code_is 254 "$reaper" nspawn-pod-test-no-such-app && [ ! -e /rkt ]
        tap_ok $? "reaper: exits 254 when the pod's systemd cannot tell, writing nothing"
fi

# --- pods -----------------------------------------------------------------------

sha=$(printf 'ab%.0s' {1..32})

# app_json NAME EXEC_JSON [EXTRA_JSON]: one app of a pod manifest.
app_json() {
        printf '{"name": "%s", "image": {"name": "example.com/%s", "id": "sha512-%s"},\n' "$1" "$1" "$sha"
        printf ' "app": {"exec": %s, "user": "0", "group": "0"%s}}' "$2" "${3:+, $3}"
}

# make_pod NAME MANIFEST_JSON: renders the pod into $HARNESS_DIR/NAME, adds
# a test stage1 with our helpers (instead of the harness's stand-ins) and
# the instrumentation drop-ins.
make_pod() {
        local name=$1 json=$2 pod=$HARNESS_DIR/$1 s1 uuid
        uuid=$(cat /proc/sys/kernel/random/uuid)
        printf '%s\n' "$json" >"$HARNESS_DIR/$name.json"
        "$np" render --nspawn-binds --net=host "$HARNESS_DIR/$name.json" --uuid="$uuid" --pod-dir="$pod" -o "$pod" \
                >"$HARNESS_DIR/$name.render.log" 2>&1 || {
                tap_diag "render $name:" "$(cat "$HARNESS_DIR/$name.render.log")"
                return 1
        }
        s1=$pod/stage1/rootfs
        harness_make_stage1 "$s1" && harness_install_units "$s1" || return 1
        install -m 0755 "$prepare_app" "$s1/prepare-app" && install -m 0755 "$reaper" "$s1/reaper" || return 1
        mkdir -p "$s1/etc/systemd/system/prepare-app@.service.d" "$s1/etc/systemd/system/reaper-.service.d" || return 1
        # The pod's journal lives in its /run and is gone after the pod:
        # keep what the helpers say, and prepare-app's exit status.
        cat >"$s1/etc/systemd/system/prepare-app@.service.d/test.conf" <<'EOF' || return 1
[Service]
StandardOutput=append:/rkt/prepare-app.log
StandardError=append:/rkt/prepare-app.log
ExecStopPost=/bin/sh -c 'echo "%f $$EXIT_CODE $$EXIT_STATUS" >>/rkt/prepare-app.exit'
EOF
        # After the reaper's ExecStop=: what systemd says about the app.
        cat >"$s1/etc/systemd/system/reaper-.service.d/test.conf" <<'EOF' || return 1
[Service]
StandardOutput=append:/rkt/reaper.log
StandardError=append:/rkt/reaper.log
ExecStopPost=/bin/sh -c 'n=%N; systemctl show "$${n#reaper-}.service" \
        -p Id,ActiveState,Result,ExecMainCode,ExecMainStatus,ExecMainStartTimestampMonotonic | \
        tr "\n" " " >>/rkt/systemd-show; echo >>/rkt/systemd-show'
EOF
        printf '%s\n' "$uuid" >"$pod/uuid"
}

# busybox_root POD APP: an app root holding busybox and its applets.
busybox_root() {
        local r=$HARNESS_DIR/$1/stage1/rootfs/opt/stage2/$2/rootfs a
        mkdir -p "$r/bin" && cp "$busybox" "$r/bin/busybox" || return 1
        for a in sh ls cat stat readlink tr grep awk wc sleep kill echo touch mkdir uname test mv logger; do
                ln -sf busybox "$r/bin/$a" || return 1
        done
}

BOOT_RC=0
# boot POD: boots it, BOOT_RC = nspawn's exit code.
boot() {
        local pod=$HARNESS_DIR/$1
        BOOT_RC=0
        harness_boot "$pod" "$pod/nspawn.argv" 60 "$pod/nspawn.env" || BOOT_RC=$?
        tap_diag "$1: nspawn exited $BOOT_RC after $HARNESS_BOOT_MS ms"
}

diag_pod() {
        local pod=$HARNESS_DIR/$1 s1=$HARNESS_DIR/$1/stage1/rootfs f
        tap_diag "console.log:" "$(sed 's/\x1b\[[0-9;]*m//g' "$pod/console.log" 2>&1 | tail -n 40)"
        for f in "$s1"/rkt/prepare-app.log "$s1"/rkt/prepare-app.exit "$s1"/rkt/reaper.log "$s1"/rkt/systemd-show \
                "$s1"/rkt/status/*; do
                [ -f "$f" ] && tap_diag "${f#"$s1"/}:" "$(cat "$f")"
        done
}

status_of() {
        cat "$HARNESS_DIR/$1/stage1/rootfs/rkt/status/$2" 2>/dev/null
}

# check_app POD APP STATUS END: the reaper's two files for APP.
check_app() {
        local st end
        st=$(status_of "$1" "$2")
        end=$(status_of "$1" "$2.end")
        [ "$st" = "$3" ]
        tap_ok $? "$1: /rkt/status/$2 is $3" || tap_diag "got '$st'"
        [ "$end" = "$4" ]
        tap_ok $? "$1: /rkt/status/$2.end is '$4'" || tap_diag "got '$end'"
}

# --- env: what the app sees ---------------------------------------------------------

out=$HARNESS_DIR/out devvol=$HARNESS_DIR/devvol
mkdir -p "$out" "$devvol" && echo carried >"$devvol/marker"
env_json=$(
        printf '{"acVersion": "0.8.11", "acKind": "PodManifest", "apps": [\n'
        app_json env '["/bin/sh", "/check.sh"]' '"mountPoints": [{"name": "out", "path": "/out"},
          {"name": "devvol", "path": "/dev/myvol", "readOnly": true}]'
        printf '],\n "volumes": [{"name": "out", "kind": "host", "source": "%s"},\n' "$out"
        printf '  {"name": "devvol", "kind": "host", "source": "%s"}]}\n' "$devvol"
)
make_pod env "$env_json" && busybox_root env env
tap_ok $? "env: pod rendered, stage1 with our prepare-app and reaper" || bail "cannot set up the env pod"
s1=$HARNESS_DIR/env/stage1/rootfs
ar=$s1/opt/stage2/env/rootfs
# What the app sent to /dev/log, as journald got it (the pod's journal is
# in its /run, gone with the pod).
mkdir -p "$s1/etc/systemd/system/reaper-env.service.d"
cat >"$s1/etc/systemd/system/reaper-env.service.d/journal.conf" <<'EOF'
[Service]
ExecStopPost=/bin/sh -c 'journalctl --no-pager -o cat -t nspawn-pod-test >/rkt/journal-check'
EOF
# A second run on the prepared root, as a restart would do: must succeed
# and change nothing (docs/helpers.md, idempotence).
cat >>"$s1/etc/systemd/system/prepare-app@.service.d/test.conf" <<'EOF'
ExecStartPost=/prepare-app %f
EOF
cat >"$ar/check.sh" <<'EOF'
#!/bin/sh
# Reports what the app sees, one "key value" per line.
r=/out/report
exec >$r.tmp 2>&1
echo "proc_fs $(stat -f -c %T /proc)"
echo "proc_pid1 $(cat /proc/1/comm)"
echo "sys_fs $(stat -f -c %T /sys)"
# busybox's test -w is always true for root: try it for real.
echo "sys_touch $(touch /sys/nspawn-pod-test 2>&1)"
echo "sys_opts $(awk '$5 == "/sys" { print $6 }' /proc/self/mountinfo)"
echo "dev_fs $(stat -f -c %T /dev)"
echo "dev_ls $(ls -A /dev | tr '\n' ' ')"
for n in null zero full random urandom tty net/tun; do
        [ -e /dev/$n ] && echo "node $n $(stat -c '%F %t:%T' /dev/$n)"
done
for l in ptmx fd stdin stdout stderr log; do echo "link $l $(readlink /dev/$l)"; done
echo "pts_fs $(stat -f -c %T /dev/pts)"
echo "ptmx $(stat -L -c '%F %t:%T %a' /dev/ptmx)"
if exec 3<>/dev/ptmx; then echo "ptmx_open ok"; fi
echo "pts_ls $(ls /dev/pts | tr '\n' ' ')"
exec 3>&-
echo "shm_fs $(stat -f -c %T /dev/shm) $(stat -c %a /dev/shm)"
echo shared >/dev/shm/t && echo "shm_write $(cat /dev/shm/t)"
echo "devvol $(cat /dev/myvol/marker)"
echo "tmp $(stat -c %a /tmp)"
echo "hosts $(grep -v '^#' /etc/hosts | tr '\n\t' '  ')"
echo "resolv $(cat /etc/resolv.conf | tr '\n' ' ')"
echo "resolv_touch $(touch /etc/resolv.conf 2>&1)"
echo "hostname $(cat /etc/hostname) $(uname -n)"
[ -S /run/systemd/journal/socket ] && [ -S /run/systemd/journal/stdout ] && echo "journal ok"
[ -S /dev/log ] && echo "dev_log ok"
[ -S /run/systemd/notify ] && echo "notify ok"
logger -t nspawn-pod-test "via /dev/log"
for m in / /proc /sys /dev /dev/pts /dev/shm /etc/hosts; do
        echo "mounts $m $(awk -v m=$m '$5 == m' /proc/self/mountinfo | wc -l)"
done
echo end
mv $r.tmp $r
EOF
boot env
[ "$BOOT_RC" = 0 ]
tap_ok $? "env: the pod boots and exits 0" || diag_pod env
report=$out/report
[ -s "$report" ] && [ "$(tail -n 1 "$report")" = end ]
tap_ok $? "env: the app's report is complete" || {
        diag_pod env
        bail "no report: nothing more to check"
}
val() {
        sed -n "s|^$1 ||p" "$report" | head -n 1
}
tap_diag "report:" "$(cat "$report")"

[ "$(val proc_fs)" = proc ] && [ "$(val proc_pid1)" = systemd ]
tap_ok $? "env: /proc is procfs, the pod's (PID 1 is the pod's systemd)"
[ "$(val sys_fs)" = sysfs ] &&
        case ,$(val sys_opts),:$(val sys_touch) in *,ro,*:*"Read-only file system"*) true ;; *) false ;; esac
tap_ok $? "env: /sys is sysfs, mounted read-only"
[ "$(val dev_fs)" = tmpfs ]
tap_ok $? "env: /dev is a tmpfs"
# .nspawn-pod-stdio: what the app's unit runs first (docs/logs.md).
want=".nspawn-pod-stdio fd full log myvol"
[ -c /dev/net/tun ] && want+=" net"
want+=" null ptmx pts random shm stderr stdin stdout tty urandom zero"
got=$(val dev_ls | tr ' ' '\n' | sed '/^$/d' | LC_ALL=C sort | tr '\n' ' ')
[ "$got" = "$want " ]
tap_ok $? "env: /dev holds exactly the standard nodes, the volume and app-stdio" || tap_diag "want: $want" "got:  $got"
bad=0
for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0 net/tun:a:c8; do
        IFS=: read -r name ma mi <<<"$n"
        [ "$name" = net/tun ] && [ ! -c /dev/net/tun ] && continue
        [ "$(val "node $name")" = "character special file $ma:$mi" ] || {
                bad=1
                tap_diag "/dev/$name: $(val "node $name")"
        }
done
[ "$bad" = 0 ]
tap_ok $? "env: the nodes are character devices with the right major:minor"
[ "$(val 'link ptmx')" = pts/ptmx ] && [ "$(val 'link fd')" = /proc/self/fd ] &&
        [ "$(val 'link stdin')" = /proc/self/fd/0 ] && [ "$(val 'link stdout')" = /proc/self/fd/1 ] &&
        [ "$(val 'link stderr')" = /proc/self/fd/2 ] && [ "$(val 'link log')" = /run/systemd/journal/dev-log ]
tap_ok $? "env: ptmx, fd, stdin, stdout, stderr and log are the standard symlinks"
[ "$(val pts_fs)" = devpts ] && [ "$(val ptmx)" = "character special file 5:2 666" ] &&
        [ "$(val ptmx_open)" = ok ] && case " $(val pts_ls) " in *" 0 "*) true ;; *) false ;; esac
tap_ok $? "env: /dev/ptmx opens a pty of the app's own devpts (pts/0 appears)" ||
        tap_diag "$(grep -E '^(pts|ptmx)' "$report")"
[ "$(val shm_fs)" = "tmpfs 1777" ] && [ "$(val shm_write)" = shared ]
tap_ok $? "env: /dev/shm is a writable tmpfs, mode 1777"
[ "$(val devvol)" = carried ]
tap_ok $? "env: a volume below /dev stays visible on top of the fresh /dev"
[ "$(val tmp)" = 1777 ]
tap_ok $? "env: /tmp created with mode 1777"
hostname=nspawn-pod-$(cat "$HARNESS_DIR/env/uuid")
[ "$(val hostname)" = "$hostname $hostname" ]
tap_ok $? "env: /etc/hostname is the pod's hostname" || tap_diag "$(val hostname)"
case " $(val hosts) " in
*" 127.0.0.1 localhost $hostname "*) true ;;
*) false ;;
esac
tap_ok $? "env: /etc/hosts (none in image or pod) maps localhost and the hostname" || tap_diag "$(val hosts)"
if [ -f "$s1/etc/resolv.conf" ]; then
        [ "$(val resolv)" = "$(tr '\n' ' ' <"$s1/etc/resolv.conf")" ] &&
                case $(val resolv_touch) in *"Read-only file system"*) true ;; *) false ;; esac
        tap_ok $? "env: /etc/resolv.conf is the pod's, read-only" || tap_diag "$(val resolv)"
else
        tap_skip "env: /etc/resolv.conf is the pod's" "nspawn gave the pod no /etc/resolv.conf"
fi
[ "$(val journal)" = ok ] && [ "$(val dev_log)" = ok ]
tap_ok $? "env: the journal's sockets and /dev/log are there"
[ "$(val notify)" = ok ]
tap_ok $? "env: the pod's notify socket is at /run/systemd/notify"
grep -qxF "via /dev/log" "$s1/rkt/journal-check" 2>/dev/null
tap_ok $? "env: a message sent to /dev/log reaches the pod's journal (read-only bind of its sockets)" ||
        tap_diag "$(cat "$s1/rkt/journal-check" 2>&1)"
bad=0
for m in /proc /sys /dev /dev/pts /dev/shm /etc/hosts; do
        [ "$(val "mounts $m")" = 1 ] || bad=1
done
# (A failing ExecStartPost= would have failed the unit: no app, no report.)
[ "$bad" = 0 ] && grep -qxF "prepare-app: '/opt/stage2/env/rootfs' is already prepared" "$s1/rkt/prepare-app.log"
tap_ok $? "env: a second prepare-app run exits 0 and adds no mount" || tap_diag "$(grep '^mounts' "$report")" \
        "$(cat "$s1/rkt/prepare-app.log" 2>/dev/null)"
check_app env env 0 "exited 0"
[ ! -e "$s1/rkt/status/.pod-exit-code" ]
tap_ok $? "env: no pod exit code claimed by a successful app"

# --- exits: 0, 3 and a sibling still running ------------------------------------------

exits_json=$(
        printf '{"acVersion": "0.8.11", "acKind": "PodManifest", "apps": [\n'
        app_json ok '["/bin/sh", "-c", "exit 0"]'
        printf ',\n'
        app_json bad '["/bin/sh", "-c", "sleep 1; exit 3"]'
        printf ',\n'
        app_json long '["/bin/sleep", "60"]'
        printf ']}\n'
)
make_pod exits "$exits_json" && busybox_root exits ok && busybox_root exits bad && busybox_root exits long
tap_ok $? "exits: pod with apps exiting 0, 3 and one sleeping" || bail "cannot set up the exits pod"
boot exits
[ "$BOOT_RC" = 3 ]
tap_ok $? "exits: the pod exits 3, the failing app's status" || diag_pod exits
check_app exits ok 0 "exited 0"
check_app exits bad 3 "exited 3"
# Still running when bad failed: its reaper stopped it (SIGTERM) and
# recorded that; a stop is not a failure and does not change the code.
check_app exits long 143 "killed 15"
[ "$(status_of exits .pod-exit-code)" = 3 ]
tap_ok $? "exits: /rkt/status/.pod-exit-code holds 3"
# halt.target conflicts with every app: the unit graph stops "long" before
# its reaper runs, so no reaper has to stop an app itself.
[ ! -s "$HARNESS_DIR/exits/stage1/rootfs/rkt/reaper.log" ]
tap_ok $? "exits: the pod's halt stopped the sibling app; no reaper had to" || diag_pod exits
[ "$HARNESS_BOOT_MS" -lt 30000 ]
tap_ok $? "exits: the pod did not wait for the sleeping app to end by itself ($HARNESS_BOOT_MS ms)"

# --- killed: SIGKILL ------------------------------------------------------------------------

# shellcheck disable=SC2016 # $$ is the app shell's own PID
make_pod killed "$(printf '{"acVersion": "0.8.11", "acKind": "PodManifest", "apps": [%s]}' \
        "$(app_json victim '["/bin/sh", "-c", "kill -9 $$"]')")" && busybox_root killed victim
tap_ok $? "killed: pod with an app that SIGKILLs itself" || bail "cannot set up the killed pod"
boot killed
[ "$BOOT_RC" = 137 ]
tap_ok $? "killed: the pod exits 137" || diag_pod killed
check_app killed victim 137 "killed 9"

# --- noexec: the executable does not exist ----------------------------------------------

make_pod noexec "$(printf '{"acVersion": "0.8.11", "acKind": "PodManifest", "apps": [%s]}' \
        "$(app_json ghost '["/no/such/program"]')")" && busybox_root noexec ghost
tap_ok $? "noexec: pod with an app whose executable is missing" || bail "cannot set up the noexec pod"
boot noexec
[ "$BOOT_RC" = 203 ]
tap_ok $? "noexec: the pod exits 203 (systemd's exec failure)" || diag_pod noexec
check_app noexec ghost 203 "exited 203"

# --- stopped: the pod is stopped from outside --------------------------------------------

out2=$HARNESS_DIR/out2
mkdir -p "$out2"
make_pod stopped "$(printf '{"acVersion": "0.8.11", "acKind": "PodManifest", "apps": [%s],
 "volumes": [{"name": "out", "kind": "host", "source": "%s"}]}' \
        "$(app_json sleeper '["/bin/sh", "-c", "echo up >/out/up; exec sleep 60"]' \
                '"mountPoints": [{"name": "out", "path": "/out"}]')" "$out2")" && busybox_root stopped sleeper
tap_ok $? "stopped: pod with an app that runs until stopped" || bail "cannot set up the stopped pod"
harness_boot_bg "$HARNESS_DIR/stopped" "$HARNESS_DIR/stopped/nspawn.argv" 60 "$HARNESS_DIR/stopped/nspawn.env"
for _ in $(seq 200); do
        [ -e "$out2/up" ] && break
        sleep 0.05
done
[ -e "$out2/up" ]
tap_ok $? "stopped: the app is running"
# One SIGTERM to nspawn itself, which asks the pod's systemd to halt
# (SIGRTMIN+3). Not through timeout(1): it sends the signal to nspawn and
# then to its process group, and nspawn takes a second SIGTERM as "kill the
# container now" (seen: "terminated by signal KILL", no status recorded).
nspawn_pid=$(cat "/proc/$HARNESS_BOOT_PID/task/$HARNESS_BOOT_PID/children" 2>/dev/null)
nspawn_pid=${nspawn_pid%% *}
[ -n "$nspawn_pid" ] && [ "$(cat "/proc/$nspawn_pid/comm" 2>/dev/null)" = systemd-nspawn ] &&
        kill -TERM "$nspawn_pid"
tap_ok $? "stopped: SIGTERM sent to nspawn ($nspawn_pid)"
BOOT_RC=0
harness_wait "$HARNESS_BOOT_PID" || BOOT_RC=$?
tap_diag "stopped: nspawn exited $BOOT_RC after $HARNESS_BOOT_MS ms"
[ "$BOOT_RC" = 0 ]
tap_ok $? "stopped: the pod exits 0: a stop is not a failure" || diag_pod stopped
check_app stopped sleeper 143 "killed 15"
# SIGRTMIN+3 starts halt.target (replace-irreversibly, not isolated): it
# conflicts with the reapers only, so the reaper finds its app running and
# stops it itself (SIGTERM) before recording.
! grep -qs 'Failed' "$HARNESS_DIR/stopped/stage1/rootfs/rkt/reaper.log"
tap_ok $? "stopped: the reaper logged no failure" || diag_pod stopped
[ ! -e "$HARNESS_DIR/stopped/stage1/rootfs/rkt/status/.pod-exit-code" ]
tap_ok $? "stopped: no pod exit code claimed"

# --- unsafe: /dev is a symlink to /etc --------------------------------------------------------

# evil's /dev is refused before anything is mounted; evil2's /run/systemd
# only once the app root is bound and /proc, /sys, /dev are mounted: that
# preparation is undone without touching the pod's own mounts (the pod's
# units keep working: the reapers run).
make_pod unsafe "$(printf '{"acVersion": "0.8.11", "acKind": "PodManifest", "apps": [%s,\n%s]}' \
        "$(app_json evil '["/bin/sh", "-c", "echo started >/started"]')" \
        "$(app_json evil2 '["/bin/sh", "-c", "echo started >/started"]')")" &&
        busybox_root unsafe evil && busybox_root unsafe evil2
tap_ok $? "unsafe: pod with images whose /dev and /run/systemd are symlinks to /etc" ||
        bail "cannot set up the unsafe pod"
s1=$HARNESS_DIR/unsafe/stage1/rootfs
ar=$s1/opt/stage2/evil/rootfs
ar2=$s1/opt/stage2/evil2/rootfs
mkdir -p "$ar/etc" "$ar2/etc" "$ar2/run" && ln -s /etc "$ar/dev" && ln -s /etc "$ar2/run/systemd"
before=$(find "$s1/etc" -mindepth 1 -maxdepth 1 -printf '%P\n' | sort)
boot unsafe
[ "$BOOT_RC" = 254 ]
tap_ok $? "unsafe: the pod ends with 254, not hanging ($HARNESS_BOOT_MS ms)" || diag_pod unsafe
grep -qxF "/opt/stage2/evil/rootfs exited 1" "$s1/rkt/prepare-app.exit" 2>/dev/null &&
        grep -q "Refusing the image: '/opt/stage2/evil/rootfs/dev' is a symlink (to '/etc')" "$s1/rkt/prepare-app.log"
tap_ok $? "unsafe: prepare-app refuses a symlinked /dev with exit 1 and says why" || diag_pod unsafe
grep -qxF "/opt/stage2/evil2/rootfs exited 1" "$s1/rkt/prepare-app.exit" 2>/dev/null &&
        grep -q "'/opt/stage2/evil2/rootfs/run/systemd/journal' (a symlink" "$s1/rkt/prepare-app.log"
tap_ok $? "unsafe: prepare-app refuses a symlinked /run/systemd with exit 1 and says why" || diag_pod unsafe
after=$(find "$s1/etc" -mindepth 1 -maxdepth 1 -printf '%P\n' | sort)
# nspawn itself may add resolv.conf and localtime to the pod's /etc.
added=$(comm -13 <(echo "$before") <(echo "$after") | grep -vxE 'resolv.conf|localtime')
[ -z "$added" ] && [ -z "$(ls -A "$ar/etc")" ] && [ -L "$ar/dev" ] && [ -L "$ar2/run/systemd" ]
tap_ok $? "unsafe: nothing created in the pod's /etc or the image's /etc" || tap_diag "added: $added" \
        "image etc: $(ls -A "$ar/etc")"
[ ! -e "$ar/started" ] && [ ! -e "$ar2/started" ]
tap_ok $? "unsafe: the apps never started"
check_app unsafe evil 254 "not-started dependency prepare-app@opt-stage2-evil-rootfs.service"
check_app unsafe evil2 254 "not-started dependency prepare-app@opt-stage2-evil2-rootfs.service"
[ "$(status_of unsafe .pod-exit-code)" = 254 ]
tap_ok $? "unsafe: the app that never started set the pod's exit code"

# --- the machine is clean ---------------------------------------------------------------------

left=$(harness_leftovers) && ! grep -qF "$HARNESS_DIR" /proc/self/mountinfo
tap_ok $? "machine clean afterwards (no mount, process or cgroup of the pods left)" ||
        tap_diag "$left" "$(grep -F "$HARNESS_DIR" /proc/self/mountinfo)"
tap_done
