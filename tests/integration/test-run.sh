#!/usr/bin/env bash
# Integration test (TAP, root): pods run for real with `nspawn-pod run`,
# `prepare` and `run-prepared`, from images built by tests/images/build-*:
# the pod's exit code and every app's status files (docs/helpers.md,
# docs/exit-codes.md), argv and environment byte-exact through the command
# line, users, groups and working directory, the app's /proc, /sys and /dev
# (the probe's report), hostile images refused with nothing left behind, and
# a real Debian daemon (Redis) serving a real client on the host's loopback.
#
# Everything is asserted on files (status files, the probe's reports) and on
# exit codes, never on timing. Every pod lives under HARNESS_DIR/data (the
# --dir of every command); the EXIT trap kills and removes whatever of them
# is left, whatever happened (tests/lib/pod-harness.sh, harness_np_*).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

if ! reason=$(harness_have_nspawn); then
        tap_skip "nspawn-pod run: real pods" "$reason"
        tap_done
        exit
fi

harness_init || exit 1

bail() {
        tap_diag "$@"
        tap_done
        exit 1
}

# Files an escape would write on the host are removed by the teardown too:
# a failing test must not leave them behind.
harness_on_exit 'rm -f /etc/nspawn-pod-test-pwned /etc/nspawn-pod-test-hardlink /escape; cd /'

harness_np_init
tap_ok $? "nspawn-pod and its helpers are built ($HARNESS_NP)" || bail "$(tail -n 30 "$HARNESS_DIR/make.log" 2>&1)"

# --- images ---------------------------------------------------------------------

images=$HARNESS_DIR/images
log=$HARNESS_DIR/images.log
"$HARNESS_SRC_ROOT/tests/images/build-busybox" "$images" >"$log" 2>&1 &&
        "$HARNESS_SRC_ROOT/tests/images/build-probe" "$images" >>"$log" 2>&1 &&
        "$HARNESS_SRC_ROOT/tests/images/build-bad" "$images" >>"$log" 2>&1
tap_ok $? "test images build (busybox, probe, hostile)" || bail "$(cat "$log")"
have_redis=0
if [ -x /usr/bin/redis-check-rdb ] && command -v redis-cli >/dev/null 2>&1; then
        "$HARNESS_SRC_ROOT/tests/images/build-redis" "$images" >>"$log" 2>&1
        if tap_ok $? "redis image builds from Debian's redis-tools (binary + ldd closure)"; then
                have_redis=1
        else
                tap_diag "$(tail -n 20 "$log")"
        fi
fi
probe_host=$images/probe/rootfs/probe

# Every command runs from a directory of its own, two levels down: an image
# entry "../../x" resolved against the working directory would land in
# HARNESS_DIR/cwd, where the checks look for it.
if ! mkdir -p "$HARNESS_DIR/cwd/a/b" || ! cd "$HARNESS_DIR/cwd/a/b"; then
        bail "cannot enter the working directory"
fi

# --- helpers --------------------------------------------------------------------

# np NAME CMD ARGS...: `nspawn-pod --dir=DATA CMD ARGS` with stdout and
# stderr in HARNESS_DIR/NAME.{out,err}; sets RC, and for run/prepare UUID,
# POD (the pod directory) and STATUS (its /rkt/status on the host). CMD run
# and prepare get --uuid-file-save=HARNESS_DIR/NAME.uuid.
np() {
        local name=$1 cmd=$2
        shift 2
        local -a extra=()
        case $cmd in
        run | prepare) extra=(--uuid-file-save="$HARNESS_DIR/$name.uuid") ;;
        *) ;;
        esac
        rm -f "$HARNESS_DIR/$name.uuid"
        RC=0
        harness_np_run "$cmd" "${extra[@]}" "$@" >"$HARNESS_DIR/$name.out" 2>"$HARNESS_DIR/$name.err" || RC=$?
        UUID="" POD="" STATUS=""
        if [ -s "$HARNESS_DIR/$name.uuid" ]; then
                UUID=$(head -n 1 "$HARNESS_DIR/$name.uuid")
                HARNESS_NP_UUIDS+=("$UUID")
                POD=$(harness_np_pod_dir "$UUID") || POD=""
                STATUS=$POD/stage1/rootfs/rkt/status
        fi
        return 0
}

# np_diag NAME: what a failed check needs to be understood.
np_diag() {
        local name=$1
        tap_diag "exit status $RC; uuid ${UUID:-none}; pod ${POD:-none}"
        tap_diag "stderr:" "$(sed 's/\x1b\[[0-9;]*m//g' "$HARNESS_DIR/$name.err" 2>&1 | tail -n 30)"
        tap_diag "stdout:" "$(sed 's/\x1b\[[0-9;]*m//g' "$HARNESS_DIR/$name.out" 2>&1 | tail -n 30)"
        if [ -n "$STATUS" ] && [ -d "$STATUS" ]; then
                tap_diag "status files:" "$(cd "$STATUS" && for f in * .pod-exit-code; do
                        [ -f "$f" ] && printf '%s: %s\n' "$f" "$(tr '\n' ' ' <"$f")"
                done)"
        fi
}

# status_is APP CODE END: /rkt/status/APP holds CODE and APP.end holds END
# (each one line).
status_is() {
        [ -n "$STATUS" ] && [ -f "$STATUS/$1" ] && [ -f "$STATUS/$1.end" ] &&
                [ "$(cat "$STATUS/$1")" = "$2" ] && [ "$(cat "$STATUS/$1.end")" = "$3" ]
}

# Where, on the host, the files an app writes land: an app from an ACI runs on
# an overlay (image store below, the pod's upper directory above) mounted in
# the pod's own mount namespace, so its writes are in the upper directory; an
# app from an image directory has a real root in the stage1. Usage: app_dir POD APP
app_dir() {
        if [ -d "$1/overlay/$2/upper" ]; then
                printf '%s\n' "$1/overlay/$2/upper"
        else
                printf '%s\n' "$1/stage1/rootfs/opt/stage2/$2/rootfs"
        fi
}

# The image's own files of app APP (read-only store for ACIs).
app_image_dir() {
        if [ -f "$1/overlay/$2/image-id" ]; then
                printf '%s\n' "$HARNESS_NP_DATA/images/$(cat "$1/overlay/$2/image-id")/rootfs"
        else
                printf '%s\n' "$1/stage1/rootfs/opt/stage2/$2/rootfs"
        fi
}

# The probe's report of app APP of the last pod (written to $2, a path in the app).
report_of() {
        printf '%s\n' "$(app_dir "$POD" "$1")$2"
}

report_ok() {
        [ -s "$1" ] && [ "$(tail -n 1 "$1")" = end ]
}

decoded() {
        "$probe_host" --decode "$1" 2>&1 | grep -a "${@:2}"
}

# No pod directory in any state beyond those listed in $POD_BASELINE,
# nothing mounted, no process left: what a refused run must leave.
pod_dirs() {
        find "$HARNESS_NP_DATA/pods" -mindepth 2 -maxdepth 2 2>/dev/null | sort
}
nothing_left() {
        local d
        d=$(comm -13 <(printf '%s\n' "$POD_BASELINE") <(pod_dirs) | sed '/^$/d')
        [ -z "$d" ] || {
                printf 'new pod dirs: %s\n' "$d"
                return 1
        }
        harness_np_leftovers
}

# --- a pod of two apps ---------------------------------------------------------------

np two run "$images/busybox.aci" --name=a --exec=/bin/sh -- -c 'echo a; exit 0' \
        --- "$images/busybox" --name=b --exec=/bin/sh -- -c 'echo b; exit 0'
[ "$RC" = 0 ] && [ -n "$POD" ] && [ "$POD" = "$HARNESS_NP_DATA/pods/run/$UUID" ]
tap_ok $? "two-app pod (an ACI and a directory image): run exits 0, the pod is in pods/run/" || np_diag two
status_is a 0 'exited 0' && status_is b 0 'exited 0'
tap_ok $? "two-app pod: both apps' status files say 0 / \"exited 0\"" || np_diag two
[ -f "$POD/pod" ] && [ -f "$POD/subcgroup" ] && [ -f "$POD/ppid" ] && [ -d "$POD/stage1/rendered" ]
tap_ok $? "two-app pod: the pod directory has pod, subcgroup, ppid and stage1/rendered" ||
        tap_diag "$(ls -la "$POD" 2>&1)"

# --- exit codes -------------------------------------------------------------------------

np exit3 run "$images/busybox.aci" --name=three --exec=/bin/sh -- -c 'exit 3'
[ "$RC" = 3 ] && status_is three 3 'exited 3'
tap_ok $? "an app exiting 3: run exits 3, status 3, \"exited 3\"" || np_diag exit3

# shellcheck disable=SC2016 # $$ is the app shell's
np kill9 run "$images/busybox.aci" --name=killed --exec=/bin/sh -- -c 'kill -9 $$'
[ "$RC" = 137 ] && status_is killed 137 'killed 9'
tap_ok $? "an app killed by SIGKILL: run exits 137, status 137, \"killed 9\"" || np_diag kill9

np exit137 run "$images/busybox.aci" --name=exits137 --exec=/bin/sh -- -c 'exit 137'
[ "$RC" = 137 ] && status_is exits137 137 'exited 137'
tap_ok $? "an app exiting 137: run exits 137, status 137, but \"exited 137\" (told apart from SIGKILL)" ||
        np_diag exit137

np noexec run "$images/busybox.aci" --name=noexec --exec=/no/such/program
[ "$RC" = 203 ] && status_is noexec 203 'exited 203'
tap_ok $? "an app whose executable does not exist: run exits 203, status 203, \"exited 203\"" || np_diag noexec

# Started by a parent that ignores SIGCHLD (inherited across exec): nspawn's
# status is not reaped away, the pod's code comes through.
rm -f "$HARNESS_DIR/ign.uuid"
RC=0
timeout --foreground -k 10 120 perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV or die "exec: $!"' \
        "$HARNESS_NP" --dir="$HARNESS_NP_DATA" run --uuid-file-save="$HARNESS_DIR/ign.uuid" "$images/busybox.aci" \
        --name=ign --exec=/bin/sh -- -c 'exit 7' </dev/null >"$HARNESS_DIR/ign.out" 2>"$HARNESS_DIR/ign.err" || RC=$?
UUID=$(head -n 1 "$HARNESS_DIR/ign.uuid" 2>/dev/null) && HARNESS_NP_UUIDS+=("$UUID")
POD=$(harness_np_pod_dir "$UUID") || POD=""
STATUS=$POD/stage1/rootfs/rkt/status
[ "$RC" = 7 ] && status_is ign 7 'exited 7'
tap_ok $? "run under a parent that ignores SIGCHLD: run exits 7, status 7" || np_diag ign

# The first failing app sets the pod's code; a sibling still running is
# stopped by its reaper (SIGTERM: 143, "killed 15") and does not change it.
# The app running /bin/true races with the failure: it has exited 0, or was
# stopped (143, "killed 15"), or never started ("not-started cancelled");
# none of which may change the pod's code.
np mixed run "$images/busybox.aci" --name=ok --exec=/bin/true \
        --- "$images/busybox.aci" --name=fails --exec=/bin/sh -- -c 'exit 3' \
        --- "$images/busybox.aci" --name=sleeper --exec=/bin/sleep -- 1000
{ status_is ok 0 'exited 0' || status_is ok 143 'killed 15' ||
        [ "$(cat "$STATUS/ok.end" 2>/dev/null)" = 'not-started cancelled' ]; } &&
        [ "$RC" = 3 ] && status_is fails 3 'exited 3' && status_is sleeper 143 'killed 15' &&
        [ "$(cat "$STATUS/.pod-exit-code" 2>/dev/null)" = 3 ]
tap_ok $? "apps exiting 3 beside one still running (and one running /bin/true): pod exits 3, the runner is stopped (143, \"killed 15\")" ||
        np_diag mixed

# --- stopping a running pod ----------------------------------------------------------

# stop_case NAME SIGNAL TARGET WHAT: a pod whose app marks that it runs and
# then sleeps; once the mark is there (bounded poll, 30 s), SIGNAL goes to
# the run process (TARGET pid) or to its whole process group (TARGET group,
# which is what Ctrl-C in a terminal does). docs/exit-codes.md: the app is
# stopped by its reaper (143, "killed 15") and the pod exits 0.
stop_case() {
        local name=$1 sig=$2 target=$3 what=$4 pid mark="" i
        rm -f "$HARNESS_DIR/$name.uuid"
        harness_np_start "$HARNESS_DIR/$name.out" run --uuid-file-save="$HARNESS_DIR/$name.uuid" \
                "$images/busybox.aci" --name=runner --exec=/bin/sh -- -c 'touch /running; exec sleep 1000'
        pid=$HARNESS_NP_PID
        for ((i = 0; i < 300; i++)); do
                if [ -s "$HARNESS_DIR/$name.uuid" ]; then
                        UUID=$(head -n 1 "$HARNESS_DIR/$name.uuid")
                        mark=$(app_dir "$HARNESS_NP_DATA/pods/run/$UUID" runner)/running
                        [ -e "$mark" ] && break
                fi
                harness_pid_alive "$pid" || break
                sleep 0.1
        done
        HARNESS_NP_UUIDS+=("$UUID")
        if [ -z "$mark" ] || [ ! -e "$mark" ]; then
                tap_ok 1 "$what: the app runs" || tap_diag "$(cat "$HARNESS_DIR/$name.out")"
                harness_np_wait "$pid" 1
                return
        fi
        case $target in
        pid) kill "-$sig" "$pid" ;;
        group) kill "-$sig" -- "-$pid" ;;
        *) ;;
        esac
        RC=0
        harness_np_wait "$pid" 60 || RC=$?
        POD=$(harness_np_pod_dir "$UUID") || POD=""
        STATUS=$POD/stage1/rootfs/rkt/status
        cp "$HARNESS_DIR/$name.out" "$HARNESS_DIR/$name.err"
        [ "$RC" = 0 ] && status_is runner 143 'killed 15'
        tap_ok $? "$what: the pod stops in order (run exits 0, the app 143 / \"killed 15\")" || np_diag "$name"
}
stop_case stop-term TERM pid "SIGTERM to the run process while its app runs"
stop_case stop-int INT group "SIGINT to the run's whole process group (Ctrl-C in a terminal)"
stop_case stop-term-group TERM group "SIGTERM to the run's whole process group (kill -- -PGID, timeout(1), a service manager)"

# --- argv and environment, byte-exact ------------------------------------------------

# Every word is an argv word and an environment value (the list of
# test-escape-roundtrip.sh, plus words that look like our own options).
# shellcheck disable=SC2016,SC1003 # literal $, ` and \ are the point
hostile=(
        $'new\nline' $'carriage\rreturn' $'\r' $'tab\there' '%' '%%' '%n' '%%n' '100% %i %U'
        '$HOME' '${PATH}' '$$' '$' '"' "'" '"double" and '"'single'" '\' 'back\slash' 'trailing\'
        '\\' '\n' '\x41\t\"' ';' 'semi;colon & pipe | amp' '' ' ' '  leading and trailing  '
        '#hash' ' #not a comment' '`tick` $(subst)' 'ünïcødé ☃' $'\x01' $'\x7f'
        $'ctl\x01\x02\x1b[0m\x7fend' $'x\nINJECTED=1' $'line\\\ncontinued' '-' '-dash' '+plus'
        '@at' '!bang' ':colon' 'NAME=value'
        '--' '--name=x' '--exec=/bin/false' '-- ' '----' '--- ' '=' 'a=b=c'
)
env_args=(--environment=PROBE_OUT=/report --environment=PREC=app)
for i in "${!hostile[@]}"; do
        env_args+=("--environment=V$i=${hostile[$i]}")
done
set_args=(--set-env=PREC=pod --set-env=_s_9=pod-wide)
for i in 0 1 3 9 14 19 34; do
        set_args+=("--set-env=S$i=${hostile[$i]}")
done
np argv run "${set_args[@]}" "$images/probe.aci" --exec=/probe "${env_args[@]}" -- "${hostile[@]}"
report=$(report_of probe /report)
[ "$RC" = 0 ] && report_ok "$report"
tap_ok $? "probe pod with ${#hostile[@]} hostile words: run exits 0, the report is complete" || {
        np_diag argv
        tap_diag "$(ls -la "$(dirname "$report")" 2>&1)"
}
want=$(
        printf 'argv 0 %s\n' "$(harness_hex /probe)"
        for i in "${!hostile[@]}"; do
                printf 'argv %d %s\n' $((i + 1)) "$(harness_hex "${hostile[$i]}")"
        done
)
got=$(grep -a '^argv ' "$report" 2>/dev/null)
[ "$want" = "$got" ]
tap_ok $? "argv arrives byte-exact: /probe and ${#hostile[@]} words, in order, nothing added" || {
        for i in "${!hostile[@]}"; do
                grep -qxF "argv $((i + 1)) $(harness_hex "${hostile[$i]}")" <<<"$got" ||
                        tap_diag "argv[$((i + 1))] want $(printf '%q' "${hostile[$i]}")"
        done
        tap_diag "$(decoded "$report" '^argv ')"
}
env_records=$(grep -a '^env ' "$report" 2>/dev/null)
bad=0
# once NAME VALUE: exactly one variable NAME, with exactly VALUE.
once() {
        local rec pfx
        rec="env $(harness_hex "$1=$2")"
        pfx="env $(harness_hex "$1=")"
        [ "$(grep -cxF "$rec" <<<"$env_records")" = 1 ] && [ "$(grep -c "^$pfx" <<<"$env_records")" = 1 ]
}
for i in "${!hostile[@]}"; do
        once "V$i" "${hostile[$i]}" || {
                bad=1
                tap_diag "V$i want $(printf '%q' "${hostile[$i]}")"
        }
done
[ "$bad" = 0 ]
tap_ok $? "--environment values arrive byte-exact, once each (V0..V$((${#hostile[@]} - 1)))" ||
        tap_diag "$(decoded "$report" '^env V')"
bad=0
for i in 0 1 3 9 14 19 34; do
        once "S$i" "${hostile[$i]}" || bad=1
done
once _s_9 pod-wide || bad=1
[ "$bad" = 0 ]
tap_ok $? "--set-env values arrive byte-exact, once each" || tap_diag "$(decoded "$report" '^env [S_]')"
once PREC app
tap_ok $? "--environment wins over --set-env for the same name (PREC=app, once)" ||
        tap_diag "$(decoded "$report" '^env PREC')"
once AC_APP_NAME probe && once PROBE_OUT /report && ! grep -q "^env $(harness_hex INJECTED=)" <<<"$env_records"
tap_ok $? "AC_APP_NAME=probe, PROBE_OUT=/report; no variable injected through a newline" ||
        tap_diag "$(decoded "$report" '^env ')"

# --- users, groups, working directory --------------------------------------------------

# ids_are REPORT UID GID CWD EXTRA...: uid and gid (real, effective, saved),
# cwd, and the supplementary groups: exactly EXTRA, give or take the primary
# gid (systemd's initgroups() may add it; appc adds nothing else).
ids_are() {
        local r=$1 uid=$2 gid=$3 cwd=$4 g
        shift 4
        local -a groups want=("$@")
        grep -qx "uid $uid $uid $uid" "$r" && grep -qx "gid $gid $gid $gid" "$r" &&
                grep -qxF "cwd $(harness_hex "$cwd")" "$r" || return 1
        read -r -a groups <<<"$(grep -a '^groups' "$r" | sed 's/^groups *//')"
        for g in "${groups[@]}"; do
                [ "$g" = "$gid" ] && continue
                case " ${want[*]} " in *" $g "*) ;; *) return 1 ;; esac
        done
        for g in "${want[@]}"; do
                case " ${groups[*]} " in *" $g "*) ;; *) return 1 ;; esac
        done
}
ids_diag() {
        tap_diag "$(decoded "$1" -E '^(uid|gid|groups|cwd)' 2>&1)"
}

np names run "$images/probe.aci" --user=app --group=app --environment=PROBE_OUT=/tmp/report
report=$(report_of probe /tmp/report)
[ "$RC" = 0 ] && report_ok "$report" && ids_are "$report" 1000 1000 /
tap_ok $? "--user=app --group=app (names from the image's /etc/passwd, /etc/group): uid 1000, gid 1000, cwd /, no other group" ||
        {
                np_diag names
                ids_diag "$report"
        }

np numeric run "$images/probe.aci" --user=1234 --group=5678 --working-dir=/tmp --environment=PROBE_OUT=/tmp/report
report=$(report_of probe /tmp/report)
[ "$RC" = 0 ] && report_ok "$report" && ids_are "$report" 1234 5678 /tmp
tap_ok $? "--user=1234 --group=5678 --working-dir=/tmp: uid 1234, gid 5678, cwd /tmp" || {
        np_diag numeric
        ids_diag "$report"
}

id_probe="sha512-$(sha512sum "$images/probe.aci" | cut -c1-128)"
cat >"$HARNESS_DIR/pod-groups.json" <<EOF
{
  "acVersion": "0.8.11",
  "acKind": "PodManifest",
  "apps": [
    {
      "name": "grouped",
      "image": {"name": "example.com/probe", "id": "$id_probe"},
      "app": {
        "exec": ["/probe", "from-manifest"],
        "user": "1000",
        "group": "1000",
        "supplementaryGIDs": [2000, 3000],
        "workingDirectory": "/home/app",
        "environment": [{"name": "PROBE_OUT", "value": "/tmp/report"}]
      }
    }
  ]
}
EOF
np manifest run --pod-manifest="$HARNESS_DIR/pod-groups.json" "$images/probe.aci"
report=$(report_of grouped /tmp/report)
[ "$RC" = 0 ] && report_ok "$report" && ids_are "$report" 1000 1000 /home/app 2000 3000 &&
        grep -qxF "argv 1 $(harness_hex from-manifest)" "$report"
tap_ok $? "--pod-manifest with supplementaryGIDs [2000, 3000]: uid 1000, gid 1000, groups 2000 3000, cwd /home/app" ||
        {
                np_diag manifest
                ids_diag "$report"
        }

# --- the app's /proc, /sys and /dev (prepare + run-prepared) ---------------------------

np vfs-prepare prepare "$images/probe" --environment=PROBE_OUT=/report --environment=PROBE_STAT_FILE=/stat-paths
prepared_uuid=$(head -n 1 "$HARNESS_DIR/vfs-prepare.out" 2>/dev/null)
[ "$RC" = 0 ] && [ -n "$UUID" ] && [ "$prepared_uuid" = "$UUID" ] && [ "$POD" = "$HARNESS_NP_DATA/pods/prepared/$UUID" ]
tap_ok $? "prepare prints the pod's UUID and leaves it in pods/prepared/" || np_diag vfs-prepare
vfs_paths=(/proc /sys /dev /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/ptmx
        /dev/pts /dev/pts/ptmx /dev/shm)
printf '%s\n' "${vfs_paths[@]}" >"$(app_dir "$POD" probe)/stat-paths"
np vfs-bad run-prepared "${prepared_uuid:0:3}"
rc_short=$RC
np vfs-none run-prepared ffff0000
[ "$rc_short" = 254 ] && grep -q 'is not a pod UUID or a prefix' "$HARNESS_DIR/vfs-bad.err" && [ "$RC" = 254 ] &&
        grep -q 'no pod matches "ffff0000"' "$HARNESS_DIR/vfs-none.err" && [ -d "$HARNESS_NP_DATA/pods/prepared/$prepared_uuid" ]
tap_ok $? "run-prepared of a too short prefix and of no such pod: 254 with a message, the prepared pod untouched" ||
        { np_diag vfs-bad; np_diag vfs-none; }
# A unique prefix names the pod, as everywhere.
np vfs run-prepared "${prepared_uuid:0:8}"
POD=$HARNESS_NP_DATA/pods/run/$prepared_uuid
STATUS=$POD/stage1/rootfs/rkt/status
report=$(report_of probe /report)
[ "$RC" = 0 ] && report_ok "$report" && status_is probe 0 'exited 0' && [ ! -e "$HARNESS_NP_DATA/pods/prepared/$prepared_uuid" ]
tap_ok $? "run-prepared of a UUID prefix runs the prepared pod (exits 0, moved to pods/run/, report complete)" || np_diag vfs

# stat_rec PATH: "MODE MAJ:MIN FSTYPE RO" of the probe's stat record for PATH.
stat_rec() {
        local line
        line=$(grep -a "^stat .* $(harness_hex "$1")\$" "$report" | head -n 1)
        line=${line#stat }
        printf '%s\n' "${line% *}"
}
bad=""
check_stat() {
        local path=$1 pattern=$2 got
        got=$(stat_rec "$path")
        # shellcheck disable=SC2254 # the pattern is a glob on purpose
        case $got in
        $pattern) ;;
        *) bad+=" $path=[$got] want [$pattern]" ;;
        esac
}
check_stat /proc '40* 0:0 9fa0 *'
check_stat /sys '40* 0:0 62656572 ro'
tap_ok "$([ -z "$bad" ] && echo 0 || echo 1)" "/proc is procfs, /sys is sysfs mounted read-only" ||
        tap_diag "$bad" "$(decoded "$report" '^stat ')"
bad=""
check_stat /dev '40* 0:0 1021994 *'
check_stat /dev/null '20??? 1:3 *'
check_stat /dev/zero '20??? 1:5 *'
check_stat /dev/full '20??? 1:7 *'
check_stat /dev/random '20??? 1:8 *'
check_stat /dev/urandom '20??? 1:9 *'
check_stat /dev/tty '20??? 5:0 *'
check_stat /dev/ptmx '120777 0:0 1cd1 *'
check_stat /dev/pts/ptmx '20666 5:2 1cd1 *'
check_stat /dev/pts '40* 0:0 1cd1 *'
check_stat /dev/shm '41777 0:0 1021994 *'
tap_ok "$([ -z "$bad" ] && echo 0 || echo 1)" \
        "/dev is a tmpfs with null zero full random urandom tty (right device numbers), ptmx -> pts/ptmx, a devpts on pts, a 1777 tmpfs on shm" ||
        tap_diag "$bad" "$(decoded "$report" '^stat ')"

# --- hostile images ------------------------------------------------------------------------

host_etc_clean() {
        [ ! -e /etc/nspawn-pod-test-pwned ] && [ ! -e /etc/nspawn-pod-test-hardlink ] && [ ! -e /escape ] &&
                [ -z "$(find "$HARNESS_DIR" -xdev \( -name escape -o -name 'nspawn-pod-test-*' \) -print -quit 2>/dev/null)" ]
}

# (a) rootfs/dev -> /etc: imported (a symlink is legal), refused by prepare-app.
np bad-dev run "$images/bad-dev-symlink.aci"
s1=$POD/stage1/rootfs
end=$(cat "$STATUS/bad-dev-symlink.end" 2>/dev/null)
[ "$RC" != 0 ] && [ "$(cat "$STATUS/bad-dev-symlink" 2>/dev/null)" = 254 ] &&
        case $end in "not-started dependency prepare-app@"*) true ;; *) false ;; esac
tap_ok $? "image with rootfs/dev -> /etc: prepare-app refuses it, the app never starts (254, \"$end\"), the pod exits non-zero ($RC)" ||
        np_diag bad-dev
written=""
for f in nspawn-pod-test-pwned null zero full random urandom tty ptmx pts shm fd stdin stdout stderr log; do
        [ -e "$s1/etc/$f" ] || [ -L "$s1/etc/$f" ] && written+=" pod:/etc/$f"
done
[ -L "$(app_image_dir "$(dirname "$(dirname "$s1")")" bad-dev-symlink)/dev" ] || written+=" (the image's dev symlink was replaced)"
host_etc_clean || written+=" host:/etc/nspawn-pod-test-*"
[ -z "$written" ]
tap_ok $? "image with rootfs/dev -> /etc: nothing written into the pod's or the host's /etc" || tap_diag "written:$written"
harness_np_cleanup

# (b), (c), (d): refused while importing, nothing left behind.
refused() {
        local name=$1 image=$2 entry=$3 what=$4 left
        np "$name" run "$images/$image"
        [ "$RC" = 254 ] && grep -qF -- "$entry" "$HARNESS_DIR/$name.err"
        tap_ok $? "$what: run exits 254 with a message naming the entry \"$entry\"" || np_diag "$name"
        left=$(nothing_left 2>&1) && host_etc_clean && [ ! -e "$HARNESS_DIR/$name.uuid" ]
        tap_ok $? "$what: nothing left (no pod dir, mount, process; nothing written outside)" || {
                tap_diag "$left"
                tap_diag "$(find "$HARNESS_DIR" -xdev \( -name escape -o -name 'nspawn-pod-test-*' \) 2>/dev/null)"
                find /etc -maxdepth 1 -name 'nspawn-pod-test-*' -ls 2>/dev/null | sed 's/^/# /'
                find / -maxdepth 1 -name escape -ls 2>/dev/null | sed 's/^/# /'
        }
}
# Runs of the checks above left their exited pods in pods/run/; these must add none.
POD_BASELINE=$(pod_dirs)
refused bad-dotdot bad-dotdot.aci 'rootfs/../../escape' 'ACI with an entry "rootfs/../../escape"'
refused bad-symlink bad-symlink-parent.aci 'x/nspawn-pod-test-pwned' 'ACI with "rootfs/x -> /etc" then "rootfs/x/nspawn-pod-test-pwned"'
refused bad-hardlink bad-hardlink.aci 'rootfs/h' 'ACI with a hard link to /etc/hostname'

# --- a real daemon from Debian: Redis on the host's loopback ---------------------------
# (--net=host: the test's network namespace, where the harness runs every pod,
# is the "host" here; redis-cli runs there too.)

if [ "$have_redis" = 1 ]; then
        # A free port in the loopback range: nothing answering there before.
        port=""
        for p in 18379 18380 18381 18382 18383; do
                if ! harness_in_net timeout 5 redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1; then
                        port=$p
                        break
                fi
        done
        [ -n "$port" ] || bail "no free port among 18379..18383 on 127.0.0.1"
        rlog=$HARNESS_DIR/redis.log
        harness_np_start "$rlog" run --net=host --uuid-file-save="$HARNESS_DIR/redis.uuid" "$images/redis.aci" \
                -- /etc/redis/redis.conf --port "$port"
        rpid=$HARNESS_NP_PID
        # Bounded wait for the port (20 s), giving up early if the run ended.
        answer=""
        for _ in $(seq 100); do
                answer=$(harness_in_net timeout 5 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) || answer=""
                [ "$answer" = PONG ] && break
                harness_pid_alive "$rpid" || break
                sleep 0.2
        done
        [ "$answer" = PONG ]
        tap_ok $? "redis-server in a pod (user redis, the host's network) answers redis-cli PING on 127.0.0.1:$port" ||
                tap_diag "$(sed 's/\x1b\[[0-9;]*m//g' "$rlog" | tail -n 30)"
        value="nspawn-pod $$ $RANDOM"
        set_reply=$(harness_in_net timeout 5 redis-cli -h 127.0.0.1 -p "$port" set nspawn-pod-test "$value" 2>&1)
        get_reply=$(harness_in_net timeout 5 redis-cli -h 127.0.0.1 -p "$port" get nspawn-pod-test 2>&1)
        info=$(harness_in_net timeout 5 redis-cli -h 127.0.0.1 -p "$port" info server 2>&1 | tr -d '\r')
        [ "$set_reply" = OK ] && [ "$get_reply" = "$value" ] && grep -qx "tcp_port:$port" <<<"$info" &&
                grep -q '^executable:/usr/bin/redis-server' <<<"$info"
        tap_ok $? "redis: SET then GET round-trips a value; INFO shows /usr/bin/redis-server on port $port" ||
                tap_diag "set: $set_reply" "get: $get_reply" "$info"
        # Stop: SIGTERM to the run process, which has nspawn stop the pod in order.
        kill -TERM "$rpid" 2>/dev/null
        rc=0
        harness_np_wait "$rpid" 60 || rc=$?
        UUID=$(head -n 1 "$HARNESS_DIR/redis.uuid" 2>/dev/null)
        HARNESS_NP_UUIDS+=("$UUID")
        POD=$(harness_np_pod_dir "$UUID") || POD=""
        STATUS=$POD/stage1/rootfs/rkt/status
        end=$(cat "$STATUS/redis.end" 2>/dev/null)
        [ "$rc" = 0 ] && case $end in "exited 0" | "killed 15") true ;; *) false ;; esac
        tap_ok $? "redis: SIGTERM to run stops the pod cleanly (run exits 0, redis.end \"$end\")" || {
                RC=$rc
                tap_diag "exit status $rc" "$(sed 's/\x1b\[[0-9;]*m//g' "$rlog" | tail -n 30)"
        }
        left=$(harness_np_leftovers 2>&1)
        ! harness_in_net timeout 5 redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && [ -z "$left" ]
        tap_ok $? "redis: after the pod, nothing answers on port $port and no process, mount or cgroup of it is left" ||
                tap_diag "$left"
else
        tap_skip "a real Debian daemon (Redis) in a pod" \
                "redis-tools (/usr/bin/redis-check-rdb, redis-cli) not installed: run build-aux/install-deps"
fi

# --- the machine is clean -----------------------------------------------------------------

# Every pod has exited: none of them has a process left. Then the cleanup a
# later `gc` would do, and nothing may remain: no mount under the data dir,
# no systemd-nspawn of ours, no cgroup nspawn-pod-<uuid> of our pods.
left=$(harness_np_leftovers 2>&1)
tap_ok "$([ -z "$left" ] && echo 0 || echo 1)" "every pod has ended by itself: no process, mount or cgroup of any pod left" ||
        tap_diag "$left"
n=0
while read -r uuid; do
        [ -d "/run/systemd/nspawn/propagate/nspawn-pod-$uuid" ] && n=$((n + 1))
done < <(harness_np_uuids)
[ "$n" = 0 ] || tap_diag "nspawn left $n /run/systemd/nspawn/propagate/nspawn-pod-<uuid> directories (it cannot remove them where /run is not a tmpfs); the cleanup removes them"
harness_np_cleanup
left=$(harness_np_leftovers 2>&1)
nspawns=""
for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = systemd-nspawn ] || continue
        if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$HARNESS_NP_DATA"; then
                nspawns+=" ${p#/proc/}"
        fi
done
cg_left=""
while read -r uuid; do
        while IFS= read -r -d '' mp; do
                c=$(find "$mp" -maxdepth 4 -type d -name "nspawn-pod-$uuid" -print -quit 2>/dev/null)
                [ -z "$c" ] || cg_left+=" $c"
        done < <(_harness_cgroup_mounts_all)
done < <(harness_np_uuids)
[ -z "$left" ] && [ -z "$nspawns" ] && [ -z "$cg_left" ] && ! grep -qF "$HARNESS_NP_DATA" /proc/self/mountinfo
tap_ok $? "machine clean: no mount under the data dir, no systemd-nspawn of ours, no nspawn-pod-<uuid> cgroup of our $(harness_np_uuids | wc -l) pods" ||
        tap_diag "$left" "nspawn:$nspawns" "cgroups:$cg_left" "$(grep -F "$HARNESS_NP_DATA" /proc/self/mountinfo)"
tap_done
