#!/usr/bin/env bash
# Integration test (TAP, root): the pod lifecycle verbs on real pods booted
# with systemd-nspawn (docs/lifecycle.md): status, list and cat-manifest of
# prepared, running and exited pods (text and JSON, UUID prefixes, --wait),
# stop in order and --force, a pod whose nspawn (and run process) were
# SIGKILLed, gc and rm (mounts, cgroups, processes, /run leftovers, parallel
# gc, half-created and hostile pod directories), 20 pods at once, 100 run+gc
# cycles, and every verb's answer to a bad UUID, an ambiguous prefix and a
# pod in the wrong state.
#
# Every pod lives under HARNESS_DIR/data; the EXIT trap kills and removes
# whatever is left (tests/lib/pod-harness.sh). LIFECYCLE_CYCLES (default 100)
# sets the number of run+gc cycles.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

if ! reason=$(harness_have_nspawn); then
        tap_skip "nspawn-pod lifecycle verbs: real pods" "$reason"
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
tap_ok $? "nspawn-pod is built ($HARNESS_NP)" || bail "$(tail -n 30 "$HARNESS_DIR/make.log" 2>&1)"

images=$HARNESS_DIR/images
"$HARNESS_SRC_ROOT/tests/images/build-busybox" "$images" >"$HARNESS_DIR/images.log" 2>&1
tap_ok $? "busybox test image builds" || bail "$(cat "$HARNESS_DIR/images.log")"
bb=$images/busybox.aci
cd "$HARNESS_DIR" || bail "cannot enter $HARNESS_DIR"

have_python=0
command -v python3 >/dev/null 2>&1 && python3 -c 'import json' 2>/dev/null && have_python=1

# --- helpers ----------------------------------------------------------------------

# v NAME ARGS...: `nspawn-pod --dir=DATA ARGS`; stdout, stderr in NAME.out,
# NAME.err; RC is its exit status.
v() {
        local name=$1
        shift
        RC=0
        harness_np_run "$@" >"$HARNESS_DIR/$name.out" 2>"$HARNESS_DIR/$name.err" || RC=$?
        return 0
}
# vx NAME CMD ARGS...: the same for any command.
vx() {
        local name=$1
        shift
        RC=0
        "$@" </dev/null >"$HARNESS_DIR/$name.out" 2>"$HARNESS_DIR/$name.err" || RC=$?
        return 0
}
out() { cat "$HARNESS_DIR/$1.out"; }
err() { cat "$HARNESS_DIR/$1.err"; }
diag() {
        tap_diag "exit status $RC" "stdout:" "$(head -c 3000 "$HARNESS_DIR/$1.out")" "stderr:" \
                "$(head -c 3000 "$HARNESS_DIR/$1.err")"
}
# has NAME LINE: NAME.out has exactly that line.
has() { grep -qxF -- "$2" "$HARNESS_DIR/$1.out"; }

# json_ok NAME: NAME.out parses as JSON (python3), else succeeds (checked by grep elsewhere).
json_ok() {
        [ "$have_python" = 1 ] || return 0
        python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$HARNESS_DIR/$1.out"
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

RUN_FDS=()
# start NAME ARGS...: `run` in the background with an app that marks that it
# runs (/running in its root) and sleeps; waits for the mark. Sets UUID, POD,
# RUNPID (the run process). Returns 1 if the app did not come up.
start_sleeper() {
        local name=$1 i
        shift
        rm -f "$HARNESS_DIR/$name.uuid"
        harness_np_start "$HARNESS_DIR/$name.log" run --uuid-file-save="$HARNESS_DIR/$name.uuid" "$@" \
                "$bb" --name=sleeper --exec=/bin/sh -- -c 'touch /running; exec sleep 1000'
        RUNPID=$HARNESS_NP_PID
        UUID="" POD=""
        for ((i = 0; i < 300; i++)); do
                if [ -z "$UUID" ] && [ -s "$HARNESS_DIR/$name.uuid" ]; then
                        UUID=$(head -n 1 "$HARNESS_DIR/$name.uuid")
                        HARNESS_NP_UUIDS+=("$UUID")
                fi
                if [ -n "$UUID" ]; then
                        POD=$HARNESS_NP_DATA/pods/run/$UUID
                        if [ -e "$(app_dir "$POD" sleeper)/running" ]; then
                                # The run process's open fds while its pod runs:
                                # the same count in every pod, or something leaks.
                                RUN_FDS+=("$(find "/proc/$RUNPID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)")
                                return 0
                        fi
                fi
                harness_pid_alive "$RUNPID" || break
                sleep 0.1
        done
        tap_diag "pod $name did not come up:" "$(cat "$HARNESS_DIR/$name.log" 2>&1)"
        return 1
}

# start_app NAME APP ARGS...: `run "$bb" --name=APP ARGS...` in the background
# (RUNPID), waiting until the app has created /running (its command must);
# UUID and POD are the pod's. Returns 1 if it does not come up.
start_app() {
        local name=$1 app=$2 i
        shift 2
        rm -f "$HARNESS_DIR/$name.uuid"
        harness_np_start "$HARNESS_DIR/$name.log" run --uuid-file-save="$HARNESS_DIR/$name.uuid" "$bb" --name="$app" "$@"
        RUNPID=$HARNESS_NP_PID
        UUID="" POD=""
        for ((i = 0; i < 300; i++)); do
                if [ -z "$UUID" ] && [ -s "$HARNESS_DIR/$name.uuid" ]; then
                        UUID=$(head -n 1 "$HARNESS_DIR/$name.uuid")
                        HARNESS_NP_UUIDS+=("$UUID")
                fi
                POD=$HARNESS_NP_DATA/pods/run/$UUID
                [ -n "$UUID" ] && [ -e "$(app_dir "$POD" "$app")/running" ] && return 0
                harness_pid_alive "$RUNPID" || break
                sleep 0.1
        done
        tap_diag "pod $name did not come up:" "$(cat "$HARNESS_DIR/$name.log" 2>&1)"
        return 1
}

# Sub-second precision so "sorted by creation" has something to sort.
now_ms() { local t=$EPOCHREALTIME; printf '%s\n' "$((${t/./} / 1000))"; }

# --- started first: a stop that times out -------------------------------------------
#
# An app that ignores SIGTERM, stopped now: systemd kills it after its
# TimeoutStopSec (90 s). It runs while the tests below go on and is checked
# before the gc section (docs/exit-codes.md).
start_app stop-timeout stubborn --exec=/bin/sh -- -c 'trap "echo got TERM" TERM; touch /running; while :; do sleep 1; done'
ST=$UUID ST_PID=$RUNPID
v stop-timeout stop "$ST"
[ "$RC" = 0 ]
tap_ok $? "stop of a pod whose app ignores SIGTERM: signalled (its end is checked before the gc section)" || diag stop-timeout


# --- a prepared pod ----------------------------------------------------------------

v prep prepare "$bb" --name=prep --exec=/bin/true
P_UUID=$(out prep | head -n 1)
HARNESS_NP_UUIDS+=("$P_UUID")
[ "$RC" = 0 ] && [ -d "$HARNESS_NP_DATA/pods/prepared/$P_UUID" ]
tap_ok $? "prepare: a prepared pod ($P_UUID)" || diag prep

v st-prep status "$P_UUID"
[ "$RC" = 0 ] && has st-prep state=prepared && has st-prep exited=false && grep -q '^created=20' "$HARNESS_DIR/st-prep.out" &&
        ! grep -q '^started=\|^pid=\|^exit-code=' "$HARNESS_DIR/st-prep.out"
tap_ok $? "status of a prepared pod: state=prepared, created=<RFC 3339>, exited=false, no started/pid/exit-code" ||
        diag st-prep

v st-prep-json status --format=json "$P_UUID"
[ "$RC" = 0 ] && json_ok st-prep-json && grep -q "\"uuid\":\"$P_UUID\"" "$HARNESS_DIR/st-prep-json.out" &&
        grep -q '"state":"prepared"' "$HARNESS_DIR/st-prep-json.out" &&
        grep -q '"pid":null' "$HARNESS_DIR/st-prep-json.out" &&
        grep -q '"apps":\[{"name":"prep","status":null,"end":null}\]' "$HARNESS_DIR/st-prep-json.out"
tap_ok $? "status --format=json of a prepared pod: one JSON object, state, pid null, the app without status" ||
        diag st-prep-json

v cat-prep cat-manifest "$P_UUID"
[ "$RC" = 0 ] && cmp -s "$HARNESS_DIR/cat-prep.out" "$HARNESS_NP_DATA/pods/prepared/$P_UUID/pod" &&
        grep -q '"acKind": *"PodManifest"' "$HARNESS_DIR/cat-prep.out"
tap_ok $? "cat-manifest prints the pod's manifest byte for byte" || diag cat-prep

# --- a running pod ---------------------------------------------------------------------

if start_sleeper run1; then
        R_UUID=$UUID R_POD=$POD R_PID=$RUNPID
        tap_ok 0 "a running pod ($R_UUID)"
        v st-run status "$R_UUID"
        npid=$(cat "$R_POD/ppid")
        [ "$RC" = 0 ] && has st-run state=running && has st-run "pid=$npid" && has st-run exited=false &&
                grep -q '^started=20' "$HARNESS_DIR/st-run.out" &&
                [ "$(cat "/proc/$npid/comm" 2>/dev/null)" = systemd-nspawn ]
        tap_ok $? "status of a running pod: state=running, pid=<nspawn's pid>, started=, exited=false" || diag st-run

        v st-run-json status --format=json "$R_UUID"
        [ "$RC" = 0 ] && json_ok st-run-json && grep -q '"state":"running"' "$HARNESS_DIR/st-run-json.out" &&
                grep -q "\"pid\":$npid," "$HARNESS_DIR/st-run-json.out"
        tap_ok $? "status --format=json of a running pod: state running, pid" || diag st-run-json

        # Prefixes: 8 digits, the first group and a bit with its dash, 12
        # digits without dashes, upper case.
        undashed=${R_UUID//-/}
        ok=0
        for ref in "${R_UUID:0:8}" "${R_UUID:0:10}" "${undashed:0:12}" "$(tr a-f A-F <<<"${R_UUID:0:13}")" "$undashed"; do
                v st-prefix status "$ref"
                if ! { [ "$RC" = 0 ] && has st-prefix state=running; }; then
                        ok=1
                        tap_diag "prefix $ref:"
                        diag st-prefix
                fi
        done
        [ "$ok" = 0 ]
        tap_ok $? "status takes a unique UUID prefix, with or without dashes, in either case"

        t0=$(now_ms)
        v st-wait-short status --wait=1s "$R_UUID"
        t1=$(now_ms)
        [ "$RC" = 124 ] && has st-wait-short state=running && grep -q 'still runs' "$HARNESS_DIR/st-wait-short.err" &&
                [ $((t1 - t0)) -ge 900 ] && [ $((t1 - t0)) -lt 10000 ]
        tap_ok $? "status --wait=1s on a running pod: exit 124 after ~1 s ($((t1 - t0)) ms), state=running shown" ||
                diag st-wait-short

        v rm-running rm "$R_UUID"
        [ "$RC" = 1 ] && grep -q "is running; stop it first" "$HARNESS_DIR/rm-running.err" && [ -d "$R_POD" ]
        tap_ok $? "rm of a running pod: exit 1, \"is running; stop it first\", nothing removed" || diag rm-running

        v gc-running gc --grace-period=0
        [ "$RC" = 0 ] && ! grep -q "$R_UUID\|$P_UUID" "$HARNESS_DIR/gc-running.out" && [ -d "$R_POD" ] &&
                [ -d "$HARNESS_NP_DATA/pods/prepared/$P_UUID" ]
        tap_ok $? "gc leaves a running pod and a prepared pod alone" || diag gc-running

        v list1 list
        row_p=$(grep -n "^$P_UUID " "$HARNESS_DIR/list1.out")
        row_r=$(grep -n "^$R_UUID " "$HARNESS_DIR/list1.out")
        [ "$RC" = 0 ] && head -n 1 "$HARNESS_DIR/list1.out" | grep -q '^UUID  *APPS  *STATE  *CREATED  *STARTED  *NETWORKS$' &&
                grep -q "^$P_UUID  *prep  *prepared  *20[^ ]*  *-  *-$" "$HARNESS_DIR/list1.out" &&
                grep -q "^$R_UUID  *sleeper  *running  *20[^ ]*  *20[^ ]*  *default:ip4=172\.16\.28\.[0-9]*$" "$HARNESS_DIR/list1.out" &&
                [ "${row_p%%:*}" -lt "${row_r%%:*}" ]
        tap_ok $? "list: header, one row per pod (UUID APPS STATE CREATED STARTED NETWORKS), oldest first" || diag list1

        v list1-json list --format=json
        [ "$RC" = 0 ] && json_ok list1-json && grep -q '^\[' "$HARNESS_DIR/list1-json.out" &&
                grep -q "{\"uuid\":\"$R_UUID\",\"apps\":\[\"sleeper\"\],\"state\":\"running\",\"created\":\"20" \
                        "$HARNESS_DIR/list1-json.out"
        tap_ok $? "list --format=json: an array of {uuid, apps, state, created, started}" || diag list1-json

        # Orderly stop: status --wait (blocked on the lock) returns once the pod has ended.
        harness_np_run status --wait "${R_UUID:0:8}" >"$HARNESS_DIR/st-wait.out" 2>"$HARNESS_DIR/st-wait.err" &
        waiter=$!
        sleep 0.3
        v stop1 stop "$R_UUID"
        [ "$RC" = 0 ] && has stop1 "$R_UUID"
        tap_ok $? "stop (in order): exit 0, prints the pod's UUID" || diag stop1
        rc=0
        harness_np_wait "$R_PID" 60 || rc=$?
        RC=0
        wait "$waiter" || RC=$?
        [ "$rc" = 0 ] && [ "$RC" = 0 ] && has st-wait state=exited && has st-wait exit-code=0
        tap_ok $? "status --wait returns once the stopped pod has ended: state=exited, exit-code=0 (run exited $rc)" ||
                diag st-wait

        v st-stopped status "$R_UUID"
        [ "$RC" = 0 ] && has st-stopped state=exited && has st-stopped exited=true && has st-stopped exit-code=0 &&
                has st-stopped app-sleeper=143 && has st-stopped "app-sleeper.end=killed 15" &&
                grep -q '^exited-at=20' "$HARNESS_DIR/st-stopped.out" && ! grep -q '^pid=' "$HARNESS_DIR/st-stopped.out"
        tap_ok $? "after stop: state=exited, exit-code=0, app-sleeper=143, app-sleeper.end=killed 15, exited-at=" ||
                diag st-stopped

        v stop-exited stop "$R_UUID"
        [ "$RC" = 1 ] && grep -q "is not running (it is exited)" "$HARNESS_DIR/stop-exited.err"
        tap_ok $? "stop of an exited pod: exit 1, \"is not running (it is exited)\"" || diag stop-exited
else
        tap_ok 1 "a running pod"
fi

v stop-prep stop "$P_UUID"
[ "$RC" = 1 ] && grep -q "is not running (it is prepared)" "$HARNESS_DIR/stop-prep.err"
tap_ok $? "stop of a prepared pod: exit 1, \"is not running (it is prepared)\"" || diag stop-prep

# --- an exited pod with app failures -------------------------------------------------

# "bad" fails 2 s late: its failure stops the pod, which would stop "ok" too
# if it still ran (143, "killed 15").
v exited run --uuid-file-save="$HARNESS_DIR/exited.uuid" "$bb" --name=ok --exec=/bin/sh -- -c 'exit 0' \
        --- "$bb" --name=bad --exec=/bin/sh -- -c 'sleep 2; exit 3'
E_UUID=$(head -n 1 "$HARNESS_DIR/exited.uuid" 2>/dev/null)
HARNESS_NP_UUIDS+=("$E_UUID")
[ "$RC" = 3 ]
tap_ok $? "an exited pod: apps exiting 0 and 3, run exits 3" || diag exited
v st-exited status "$E_UUID"
[ "$RC" = 0 ] && has st-exited state=exited && has st-exited exit-code=3 && has st-exited app-ok=0 &&
        has st-exited "app-ok.end=exited 0" && has st-exited app-bad=3 && has st-exited "app-bad.end=exited 3"
tap_ok $? "status of the exited pod: exit-code=3, app-ok=0, app-bad=3 and their .end lines" || diag st-exited
v st-exited-json status --format=json "${E_UUID//-/}"
[ "$RC" = 0 ] && json_ok st-exited-json && grep -q '"exited":true' "$HARNESS_DIR/st-exited-json.out" &&
        grep -q '"exit-code":3' "$HARNESS_DIR/st-exited-json.out" &&
        grep -q '"apps":\[{"name":"ok","status":0,"end":"exited 0"},{"name":"bad","status":3,"end":"exited 3"}\]' \
                "$HARNESS_DIR/st-exited-json.out"
tap_ok $? "status --format=json of the exited pod: exited true, exit-code 3, both apps with status and end" ||
        diag st-exited-json
if [ "$have_python" = 0 ]; then
        tap_skip "the JSON outputs parse as JSON" "python3 not installed (fields were checked with grep)"
fi
v cat-exited cat-manifest "$E_UUID"
[ "$RC" = 0 ] && grep -q '"name": *"bad"' "$HARNESS_DIR/cat-exited.out"
tap_ok $? "cat-manifest of an exited pod" || diag cat-exited

# The default grace period (30 min) keeps a pod that just exited.
v gc-grace gc
[ "$RC" = 0 ] && [ ! -s "$HARNESS_DIR/gc-grace.out" ] && [ -d "$HARNESS_NP_DATA/pods/run/$E_UUID" ]
tap_ok $? "gc with the default grace period (30m) keeps a pod that exited just now" || diag gc-grace

# --- bad references, ambiguous prefixes, wrong states ----------------------------------

# Two pod directories whose UUIDs share a prefix: made by hand, empty (a
# half-created pod as a crash could leave it), in prepared/.
A1=abcd0000-0000-4000-8000-000000000001
A2=abcd0000-0000-4000-8000-000000000002
mkdir "$HARNESS_NP_DATA/pods/prepared/$A1" "$HARNESS_NP_DATA/pods/prepared/$A2"
HARNESS_NP_UUIDS+=("$A1" "$A2")

ok=0
for verb in status cat-manifest stop rm; do
        v amb "$verb" abcd0000
        if ! { [ "$RC" = 1 ] && grep -q '"abcd0000" matches 2 pods' "$HARNESS_DIR/amb.err" &&
                grep -q "^  $A1  prepared" "$HARNESS_DIR/amb.err" && grep -q "^  $A2  prepared" "$HARNESS_DIR/amb.err"; }; then
                ok=1
                tap_diag "$verb abcd0000:"
                diag amb
        fi
        for ref in xyz 12 abcd- "$A1-0" 'abcd 0000' ''; do
                v bad "$verb" "$ref"
                if ! { [ "$RC" = 1 ] && grep -q "is not a pod UUID or a prefix of one" "$HARNESS_DIR/bad.err"; }; then
                        ok=1
                        tap_diag "$verb '$ref':"
                        diag bad
                fi
        done
        v none "$verb" ffff0000
        if ! { [ "$RC" = 1 ] && grep -q 'no pod matches "ffff0000"' "$HARNESS_DIR/none.err"; }; then
                ok=1
                tap_diag "$verb ffff0000:"
                diag none
        fi
        v none2 "$verb" ffff0000-0000-4000-8000-000000000001
        if ! { [ "$RC" = 1 ] && grep -q 'no pod with UUID' "$HARNESS_DIR/none2.err"; }; then
                ok=1
                diag none2
        fi
done
[ "$ok" = 0 ]
tap_ok $? "status, cat-manifest, stop, rm: an ambiguous prefix (the matches listed), a bad UUID, no such pod: exit 1 with a message"

ok=0
for args in "status" "status a b" "status --format=xml $A1" "status --wait=soon $A1" "status --bogus $A1" \
        "list extra" "list --format=yaml" "cat-manifest" "stop" "stop --wait=x $A1" "rm" "gc extra" \
        "gc --grace-period=10x" "gc --grace-period=" "gc --grace-period=1m30"; do
        # shellcheck disable=SC2086 # split on purpose
        v usage $args
        [ "$RC" = 2 ] || {
                ok=1
                tap_diag "$args:"
                diag usage
        }
done
[ "$ok" = 0 ]
tap_ok $? "usage errors (missing/extra arguments, bad --format, --wait, --grace-period): exit 2"

ok=0
for verb in status list cat-manifest stop gc rm; do
        v help "$verb" --help
        [ "$RC" = 0 ] && grep -q "^Usage: nspawn-pod \[--dir=DIR\] $verb" "$HARNESS_DIR/help.out" &&
                grep -q '^Exit status:' "$HARNESS_DIR/help.out" || ok=1
done
[ "$ok" = 0 ]
tap_ok $? "every verb has --help with its usage and exit codes"

v cat-empty cat-manifest "$A1"
[ "$RC" = 1 ] && grep -q "has no manifest" "$HARNESS_DIR/cat-empty.err"
tap_ok $? "cat-manifest of a pod without a manifest: exit 1, \"has no manifest\"" || diag cat-empty

v st-empty status --format=json "$A1"
[ "$RC" = 0 ] && grep -q '"state":"prepared","created":null,"started":null' "$HARNESS_DIR/st-empty.out"
tap_ok $? "status of an empty (half-created) pod directory: prepared, times null" || diag st-empty

# A hostile half-created pod: a subcgroup naming another pod's cgroup (and
# one with ".."), a ppid naming a process that is not the pod's, symlinks
# out of the pod. gc must remove it and touch nothing else.
H1=abcd1111-0000-4000-8000-000000000001
H2=abcd2222-0000-4000-8000-000000000002
HARNESS_NP_UUIDS+=("$H1" "$H2")
sleep 1000 &
victim=$!
harness_on_exit "kill $victim 2>/dev/null"
mkdir -p "$HARNESS_DIR/outside/keep" && echo keep >"$HARNESS_DIR/outside/keep/file"
for h in "$H1" "$H2"; do
        d=$HARNESS_NP_DATA/pods/prepare/$h
        mkdir -p "$d/stage1/rootfs/rkt/status"
        : >"$d/pod-created"
        echo "$victim" >"$d/ppid"
        ln -s "$HARNESS_DIR/outside" "$d/stage1/rootfs/out"
        ln -s "$HARNESS_DIR/outside/keep/file" "$d/stage1/rootfs/rkt/status/x"
        ln -s / "$d/root"
done
printf '/nspawn-pod-%s' "$A1" >"$HARNESS_NP_DATA/pods/prepare/$H1/subcgroup"
printf '/../escape/nspawn-pod-%s' "$H2" >"$HARNESS_NP_DATA/pods/prepare/$H2/subcgroup"

# ... and while it is "running" (someone holds its lock), stop must not
# signal the pid its ppid file names.
F=abcd3333-0000-4000-8000-000000000003
HARNESS_NP_UUIDS+=("$F")
fd=$HARNESS_NP_DATA/pods/run/$F
mkdir -p "$fd"
echo "$victim" >"$fd/ppid"
# The sleep itself holds the lock (fd 9): killing it releases it.
(
        exec 9<"$fd" && flock -x 9 && exec sleep 1000
) &
holder=$!
harness_on_exit "kill $holder 2>/dev/null"
sleep 0.2
v st-fake status "$F"
v stop-fake stop "$F"
[ "$RC" = 254 ] && grep -q "is not in the pod's cgroup" "$HARNESS_DIR/stop-fake.err" && harness_pid_alive "$victim" &&
        grep -q '^state=running$' "$HARNESS_DIR/st-fake.out"
tap_ok $? "stop of a pod whose ppid names a process outside the pod's cgroup: exit 254, not signalled" ||
        diag stop-fake
v stop-fake-force stop --force "$F"
[ "$RC" = 254 ] && grep -q "has no cgroups" "$HARNESS_DIR/stop-fake-force.err" && harness_pid_alive "$victim"
tap_ok $? "stop --force of a pod without cgroups: exit 254, nothing killed" || diag stop-fake-force
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

v st-aborted status "$H1"
[ "$RC" = 0 ] && has st-aborted state=aborted-prepare
tap_ok $? "status of an unlocked pod in prepare/: state=aborted-prepare" || diag st-aborted

# With a grace period: the exited pods (the one of above, and the fake
# one, whose ppid file gives it a start time) are kept; aborted ones go.
v gc-hostile gc --grace-period=10m
[ "$RC" = 0 ] && has gc-hostile "$H1" && has gc-hostile "$H2" && ! has gc-hostile "$F" && [ -d "$fd" ] &&
        ! harness_np_pod_dir "$H1" >/dev/null && ! harness_np_pod_dir "$H2" >/dev/null &&
        harness_pid_alive "$victim" && [ "$(cat "$HARNESS_DIR/outside/keep/file" 2>/dev/null)" = keep ] &&
        [ -d "$HARNESS_NP_DATA/pods/prepared/$A1" ] && [ -d "$HARNESS_NP_DATA/pods/run/$E_UUID" ] &&
        grep -q "subcgroup file is not a cgroup path of this pod, ignoring it" "$HARNESS_DIR/gc-hostile.err"
tap_ok $? "gc --grace-period=10m removes aborted, half-created pods with hostile files (subcgroup, ppid, symlinks out), keeps exited ones, touches nothing else" ||
        diag gc-hostile
kill "$victim" 2>/dev/null
wait "$victim" 2>/dev/null

v rm-two rm "$A1" "${A2:0:36}" "$P_UUID"
[ "$RC" = 0 ] && has rm-two "$A1" && has rm-two "$A2" && has rm-two "$P_UUID" && ! harness_np_pod_dir "$A1" >/dev/null &&
        ! harness_np_pod_dir "$P_UUID" >/dev/null
tap_ok $? "rm of two empty pod directories and a prepared pod: exit 0, each UUID printed, all gone" || diag rm-two
v rm-again rm "$A1"
[ "$RC" = 1 ] && grep -q 'no pod with UUID' "$HARNESS_DIR/rm-again.err"
tap_ok $? "rm of a removed pod: exit 1, no such pod" || diag rm-again

# --- gc: mounts below a pod --------------------------------------------------------------

# A prepared pod with mounts below it as a careless or hostile setup could
# leave them: a name with a space, nested, stacked, one hidden under
# another, one on the pod directory itself, and a bind of a shared host
# mount with a submount (unmounting that without making it private first
# would take the host's submount along: rkt#3546).
v mnt prepare "$bb" --name=mnt --exec=/bin/true
M_UUID=$(out mnt | head -n 1)
HARNESS_NP_UUIDS+=("$M_UUID")
M=$HARNESS_NP_DATA/pods/prepared/$M_UUID
peer=$HARNESS_DIR/peer
mkdir -p "$M/m/a b" "$M/m/stack" "$M/m/hide/x" "$M/m/peer" "$peer"
harness_on_exit "umount -R '$peer' 2>/dev/null"
mount -t tmpfs lc-space "$M/m/a b" && mkdir "$M/m/a b/in" && mount -t tmpfs lc-nested "$M/m/a b/in" &&
        mount -t tmpfs lc-stack1 "$M/m/stack" && mount -t tmpfs lc-stack2 "$M/m/stack" &&
        mount -t tmpfs lc-hidden "$M/m/hide/x" && mount -t tmpfs lc-hider "$M/m/hide" &&
        mount -t tmpfs lc-peer "$peer" && mount --make-shared "$peer" && mkdir "$peer/sub" &&
        mount --bind "$peer" "$M/m/peer" && mount -t tmpfs lc-peer-sub "$peer/sub" &&
        mount -t tmpfs lc-self "$M"
tap_ok $? "mounts below a prepared pod: space, nested, stacked, hidden, shared peer, on the pod dir itself"
n_before=$(grep -c "$M_UUID" /proc/self/mountinfo)
grep -q " $peer/sub " /proc/self/mountinfo && grep -q "$M/m/peer/sub " /proc/self/mountinfo
tap_ok $? "the host's submount propagated into the pod ($n_before mounts below the pod)"
v rm-mnt rm "${M_UUID:0:8}"
[ "$RC" = 0 ] && has rm-mnt "$M_UUID" && ! grep -q "$M_UUID" /proc/self/mountinfo && ! harness_np_pod_dir "$M_UUID" >/dev/null
tap_ok $? "rm unmounts all $n_before mounts below the pod (deepest first, rounds for stacked/hidden) and removes it" ||
        {
                diag rm-mnt
                tap_diag "$(grep "$M_UUID" /proc/self/mountinfo)"
        }
grep -q " $peer/sub " /proc/self/mountinfo && grep -q " $peer " /proc/self/mountinfo
tap_ok $? "the host's shared mount and its submount are still mounted (made private before unmounting)" ||
        tap_diag "$(grep "$peer" /proc/self/mountinfo)"
umount -R "$peer" 2>/dev/null

# --- stop --force, several at once ------------------------------------------------------

if start_sleeper force1; then
        F1=$UUID F1_PID=$RUNPID
        if start_sleeper force2; then
                F2=$UUID F2_PID=$RUNPID
                v stop-force stop --force --wait=60s "$F1" "${F2:0:13}"
                # What --wait promises: the pods no longer run (their locks
                # are free). The run processes may still be exiting then:
                # they are waited for below.
                v st-force1 status "$F1"
                has st-force1 state=exited || diag st-force1
                [ "$RC" = 0 ] && has stop-force "$F1" && has stop-force "$F2" && has st-force1 state=exited
                tap_ok $? "stop --force --wait of two pods: exit 0, both UUIDs printed, the pods no longer run" ||
                        diag stop-force
                rc1=0 rc2=0
                harness_np_wait "$F1_PID" 10 || rc1=$?
                harness_np_wait "$F2_PID" 10 || rc2=$?
                v st-force status "$F2"
                [ "$rc1" = 137 ] && [ "$rc2" = 137 ] && has st-force state=exited && has st-force exit-code=137 &&
                        [ -z "$(harness_np_pod_procs "$F1")$(harness_np_pod_procs "$F2")" ]
                tap_ok $? "after stop --force: runs exited 137, state=exited, exit-code=137, no process left" ||
                        diag st-force
        else
                tap_ok 1 "a second running pod"
        fi
else
        tap_ok 1 "a running pod for stop --force"
fi

# --- processes that outlive what the pod's systemd started -----------------------------
#
# Pods used to hang ~90 s (and end with 254) whenever a process outlived what
# the pod's systemd had started: on this hybrid host the pod's systemd only
# had the v1 name=systemd hierarchy and never learnt that a cgroup went empty.
# The pod now has a cgroup2 hierarchy of its own, and an app's leftovers die
# with its main process (KillMode=mixed; docs/render.md). Each wait below is
# bounded (60 s) well under the 90 s that the hang took, so a hang fails.

# A command entered into the app leaves a background process; then stop.
if start_sleeper left-enter; then
        L1=$UUID L1_PID=$RUNPID
        vx left-enter timeout 60 "$HARNESS_NP" --dir="$HARNESS_NP_DATA" enter "$L1" /bin/sh -c 'sleep 300 & echo started'
        erc=$RC
        v left-stop stop --wait=60s "$L1"
        src=$RC
        rc=0
        harness_np_wait "$L1_PID" 60 || rc=$?
        v left-st status "$L1"
        [ "$erc" = 0 ] && grep -qx started "$HARNESS_DIR/left-enter.out" && [ "$src" = 0 ] && [ "$rc" = 0 ] &&
                has left-st exit-code=0 && has left-st "app-sleeper.end=killed 15" && [ -z "$(harness_np_pod_procs "$L1")" ]
        tap_ok $? "enter leaves 'sleep 300 &' in the app, then stop --wait=60s: done (enter $erc, stop $src), run exits $rc, exit-code=0, nothing left" ||
                { diag left-st; tap_diag "stop: $(err left-stop)"; }
else
        tap_ok 1 "a running pod to leave an entered process in"
fi

# The app ends (exit 0) while a command entered beside it still runs: the
# command dies with the app, the pod ends with 0. The app waits until the
# command has started (a file it creates), so the order is fixed.
start_app left-short short --exec=/bin/sh -- -c 'touch /running; until [ -e /entered ]; do sleep 0.1; done; sleep 0.5'
LS=$UUID LS_PID=$RUNPID
timeout 60 "$HARNESS_NP" --dir="$HARNESS_NP_DATA" enter "$LS" /bin/sh -c 'touch /entered; exec sleep 100' \
        </dev/null >"$HARNESS_DIR/left-short-enter.out" 2>&1
erc=$?
rc=0
harness_np_wait "$LS_PID" 60 || rc=$?
v left-short-st status "$LS"
[ -n "$LS" ] && [ "$rc" = 0 ] && [ "$erc" = 137 ] && has left-short-st exit-code=0 && has left-short-st app-short=0 &&
        [ -z "$(harness_np_pod_procs "$LS")" ]
tap_ok $? "an app exits 0 while 'enter … sleep 100' runs beside it: the command is killed with it (enter $erc), run exits $rc, app-short=0, nothing left" ||
        { diag left-short-st; tap_diag "$(cat "$HARNESS_DIR/left-short.log" "$HARNESS_DIR/left-short-enter.out")"; }

# An app leaves a setsid child that ignores SIGTERM and exits 0.
HARNESS_NP_TIMEOUT=60 v left-setsid run --uuid-file-save="$HARNESS_DIR/left-setsid.uuid" "$bb" --name=parent \
        --exec=/bin/sh -- -c 'setsid sh -c "trap \"\" TERM; exec sleep 1000" & echo forked; exit 0'
LP=$(head -n 1 "$HARNESS_DIR/left-setsid.uuid" 2>/dev/null)
HARNESS_NP_UUIDS+=("$LP")
rc=$RC
v left-setsid-st status "$LP"
[ "$rc" = 0 ] && has left-setsid-st exit-code=0 && has left-setsid-st "app-parent.end=exited 0" &&
        [ -z "$(harness_np_pod_procs "$LP")" ]
tap_ok $? "an app leaves a setsid child that ignores SIGTERM and exits 0: run exits $rc (not 254 after 180 s), nothing left" ||
        { diag left-setsid; diag left-setsid-st; }

# --- the pod's exit code after a stop, and after a stop timeout ------------------------
#
# docs/exit-codes.md: a stop in order ends the pod with 0, however early it
# comes (a stop right after nspawn started used to be lost, or to kill
# nspawn: 143); an app killed by another app's SIGTERM does not fail the
# pod; an app that ignores the stop's SIGTERM is killed after systemd's
# TimeoutStopSec (90 s) and fails the pod: 137. That last one was started
# and stopped at the top of this file and is checked before the gc section.
ok=0
for i in 1 2 3; do
        rm -f "$HARNESS_DIR/early.uuid"
        harness_np_start "$HARNESS_DIR/early.log" run --uuid-file-save="$HARNESS_DIR/early.uuid" "$bb" --name=early \
                --exec=/bin/sleep -- 1000
        pid=$HARNESS_NP_PID
        U=""
        for ((j = 0; j < 3000; j++)); do
                [ -z "$U" ] && [ -s "$HARNESS_DIR/early.uuid" ] && U=$(head -n 1 "$HARNESS_DIR/early.uuid") &&
                        HARNESS_NP_UUIDS+=("$U")
                [ -n "$U" ] && [ -s "$HARNESS_NP_DATA/pods/run/$U/ppid" ] && break
                sleep 0.01
        done
        v early-stop stop --wait=60s "$U"
        src=$RC
        rc=0
        harness_np_wait "$pid" 60 || rc=$?
        v early-st status "$U"
        if ! { [ "$src" = 0 ] && [ "$rc" = 0 ] && has early-st exit-code=0; }; then
                ok=1
                tap_diag "round $i: stop $src, run $rc" "$(err early-stop)" "$(out early-st)"
        fi
done
tap_ok "$ok" "stop --wait=60s as soon as a pod's ppid file exists (3 times): run exits 0 each time, exit-code=0"

v killed-by-sibling run --uuid-file-save="$HARNESS_DIR/sibling.uuid" "$bb" --name=victim --exec=/bin/sleep -- 1000 \
        --- "$bb" --name=killer --exec=/bin/sh -- -c 'until killall -TERM sleep 2>/dev/null; do usleep 100000; done'
SB=$(head -n 1 "$HARNESS_DIR/sibling.uuid" 2>/dev/null)
HARNESS_NP_UUIDS+=("$SB")
rc=$RC
v sibling-st status "$SB"
[ "$rc" = 0 ] && has sibling-st exit-code=0 && has sibling-st app-victim=143 && has sibling-st "app-victim.end=killed 15" &&
        has sibling-st app-killer=0
tap_ok $? "an app killed by another app's SIGTERM does not fail the pod: run exits $rc, app-victim=143 (killed 15), app-killer=0" ||
        { diag killed-by-sibling; diag sibling-st; }

# --- SIGKILL: nspawn alone, then nspawn and the run process ---------------------------

if start_sleeper kill-nspawn; then
        K1=$UUID
        kill -KILL "$(cat "$POD/ppid")"
        rc=0
        harness_np_wait "$RUNPID" 30 || rc=$?
        v st-k1 status "$K1"
        [ "$rc" = 137 ] && has st-k1 state=exited && has st-k1 exit-code=137 && [ -z "$(harness_np_pod_procs "$K1")" ]
        tap_ok $? "SIGKILL to nspawn: run exits 137 and cleans up; status: exited, exit-code=137; no process left" ||
                diag st-k1
else
        tap_ok 1 "a running pod to SIGKILL nspawn in"
fi

if start_sleeper kill-both; then
        K2=$UUID
        npid=$(cat "$POD/ppid")
        kill -KILL "$RUNPID" "$npid"
        harness_np_wait "$RUNPID" 30 2>/dev/null # not bash's "Killed" job message
        for ((i = 0; i < 50; i++)); do
                harness_pid_alive "$npid" || break
                sleep 0.1
        done
        left=$(harness_np_pod_procs "$K2" | wc -l)
        v st-k2 status "$K2"
        [ "$RC" = 0 ] && has st-k2 state=exited && ! grep -q '^exit-code=' "$HARNESS_DIR/st-k2.out" && [ "$left" -gt 0 ]
        tap_ok $? "SIGKILL to the run process and nspawn: status says exited (no exit-code), the payload still runs ($left processes)" ||
                diag st-k2
else
        tap_ok 1 "a running pod to SIGKILL the run process and nspawn of"
fi

# A third one, whose subcgroup file is then spoiled: gc must find its
# cgroups by searching for nspawn-pod-<uuid>.
if start_sleeper kill-both-2; then
        K3=$UUID
        npid=$(cat "$POD/ppid")
        kill -KILL "$RUNPID" "$npid"
        harness_np_wait "$RUNPID" 30 2>/dev/null
        printf '/../elsewhere/nspawn-pod-%s' "$K3" >"$POD/subcgroup"
        [ -n "$(harness_np_pod_procs "$K3")" ]
        tap_ok $? "a third pod, run process and nspawn SIGKILLed, its subcgroup file spoiled; its payload runs"
else
        tap_ok 1 "a running pod to SIGKILL and spoil"
fi

# The pod stopped at the top of this file, whose app ignores SIGTERM: killed
# after systemd's TimeoutStopSec, which fails it.
rc=0
harness_np_wait "$ST_PID" 150 || rc=$?
v stop-timeout-st status "$ST"
[ "$rc" = 137 ] && has stop-timeout-st exit-code=137 && has stop-timeout-st "app-stubborn.end=killed 9" &&
        grep -q 'got TERM' "$HARNESS_DIR/stop-timeout.log" && [ -z "$(harness_np_pod_procs "$ST")" ]
tap_ok $? "an app that ignores the stop's SIGTERM is killed after TimeoutStopSec (90 s): run exits $rc (137), app-stubborn.end=killed 9" ||
        { diag stop-timeout-st; tap_diag "$(cat "$HARNESS_DIR/stop-timeout.log")"; }

# gc runs from cgroups of its own, not the one `run` ran in: it must find the
# pods' cgroups from their subcgroup file (K2) or by searching (K3).
other_cgroups=()
while IFS= read -r -d '' mp; do
        c=${mp%/}/nspawn-pod-lifecycle-gc.$$
        mkdir "$c" 2>/dev/null && other_cgroups+=("$c")
done < <(_harness_cgroup_mounts)
harness_on_exit "rmdir ${other_cgroups[*]} 2>/dev/null"
in_other_cgroups() {
        (
                for c in "${other_cgroups[@]}"; do
                        echo "$BASHPID" >"$c/cgroup.procs" || exit 125
                done
                exec "$@"
        )
}

# has_all NAME UUID...: NAME.out has a line for each.
has_all() {
        local name=$1 u
        shift
        for u in "$@"; do
                has "$name" "$u" || return 1
        done
}
vx gc1 in_other_cgroups nsenter --net="/run/netns/$HARNESS_NETNS" "$HARNESS_NP" --dir="$HARNESS_NP_DATA" gc --grace-period=0
[ "$RC" = 0 ] && has_all gc1 "${K1:-x}" "${K2:-x}" "${K3:-x}" "$E_UUID" "${R_UUID:-x}" "${F1:-x}" "${F2:-x}" "$F"
tap_ok $? "gc --grace-period=0 (from another cgroup) removes every exited pod (stopped, forced, killed, exited, fake) and prints each" ||
        diag gc1
grep -q "pod ${K3:-x}: its subcgroup file is not a cgroup path of this pod, ignoring it" "$HARNESS_DIR/gc1.err"
tap_ok $? "gc ignores the spoiled subcgroup file (and says so)" || diag gc1
left=$(harness_np_uuid_leftovers "${K1:-x}" "${K2:-x}" "${K3:-x}" "$E_UUID" "${R_UUID:-x}" "${F1:-x}" "${F2:-x}")
[ -z "$left" ] && [ -z "$(find "$HARNESS_NP_DATA/pods" -mindepth 2 -maxdepth 2)" ]
tap_ok $? "after gc: no pod directory, mount, cgroup, process or propagate directory of them" || tap_diag "$left"
rmdir "${other_cgroups[@]}" 2>/dev/null
v gc2 gc --grace-period=0
[ "$RC" = 0 ] && [ ! -s "$HARNESS_DIR/gc2.out" ] && [ ! -s "$HARNESS_DIR/gc2.err" ]
tap_ok $? "gc again: exit 0, nothing to do, nothing said" || diag gc2

fds=$(printf '%s\n' "${RUN_FDS[@]}" | sort -u)
[ "${#RUN_FDS[@]}" -ge 4 ] && [ "$(wc -l <<<"$fds")" = 1 ]
tap_ok $? "the run process holds the same number of fds in each of the ${#RUN_FDS[@]} running pods ($(paste -sd" " - <<<"$fds"))"

# --- 20 pods at once, then 3 gcs at once -----------------------------------------------

N=20
declare -a par_pid=() par_uuid=()
t0=$(now_ms)
# Pod i: app "w<i>" writes its name ($AC_APP_NAME) and exits i. One app a
# pod: a failing app stops its siblings at a moment of its own choosing, and
# per-app statuses are to be checked exactly here.
for ((i = 0; i < N; i++)); do
        # shellcheck disable=SC2016 # $AC_APP_NAME is the app's
        harness_np_start "$HARNESS_DIR/par$i.log" run --uuid-file-save="$HARNESS_DIR/par$i.uuid" \
                "$bb" --name="w$i" --exec=/bin/sh -- -c "echo \$AC_APP_NAME >/name; exit $i"
        par_pid[i]=$HARNESS_NP_PID
done
ok=0
for ((i = 0; i < N; i++)); do
        rc=0
        harness_np_wait "${par_pid[i]}" 180 || rc=$?
        par_uuid[i]=$(head -n 1 "$HARNESS_DIR/par$i.uuid" 2>/dev/null)
        HARNESS_NP_UUIDS+=("${par_uuid[i]}")
        [ "$rc" = "$i" ] || {
                ok=1
                tap_diag "pod $i exited $rc, want $i:" "$(tail -n 5 "$HARNESS_DIR/par$i.log")"
        }
done
t1=$(now_ms)
tap_ok "$ok" "$N pods started at once all end, each with its own exit code ($((t1 - t0)) ms in all)"
ok=0
for ((i = 0; i < N; i++)); do
        u=${par_uuid[i]}
        d=$(app_dir "$HARNESS_NP_DATA/pods/run/$u" "w$i")
        v par-st status "$u"
        if ! { has par-st exit-code=$i && has par-st "app-w$i=$i" && has par-st "app-w$i.end=exited $i" &&
                [ "$(cat "$d/name" 2>/dev/null)" = "w$i" ]; }; then
                ok=1
                tap_diag "pod $i ($u):"
                diag par-st
        fi
done
tap_ok "$ok" "each of the $N pods: exit-code=i, app-w<i>=i, \"exited i\", the app wrote its own name"

t0=$(now_ms)
for g in 1 2 3; do
        harness_np_run gc --grace-period=0 >"$HARNESS_DIR/pgc$g.out" 2>"$HARNESS_DIR/pgc$g.err" &
        eval "pgc$g=\$!"
done
rcs=""
for g in 1 2 3; do
        rc=0
        eval "wait \$pgc$g" || rc=$?
        rcs="$rcs$rc"
done
t1=$(now_ms)
removed=$(cat "$HARNESS_DIR"/pgc[123].out | sort)
[ "$rcs" = 000 ] && [ "$removed" = "$(printf '%s\n' "${par_uuid[@]}" | sort)" ]
tap_ok $? "3 gcs at once: all exit 0, each pod removed (and printed) exactly once ($((t1 - t0)) ms; $(wc -l <"$HARNESS_DIR/pgc1.out")/$(wc -l <"$HARNESS_DIR/pgc2.out")/$(wc -l <"$HARNESS_DIR/pgc3.out") pods)" ||
        tap_diag "exit codes $rcs" "$(cat "$HARNESS_DIR"/pgc[123].err)" "$(diff <(printf '%s\n' "$removed") <(printf '%s\n' "${par_uuid[@]}" | sort))"
left=$(harness_np_uuid_leftovers "${par_uuid[@]}")
[ -z "$left" ] && [ -z "$(find "$HARNESS_NP_DATA/pods" -mindepth 2 -maxdepth 2)" ]
tap_ok $? "after the parallel gcs: nothing left of the $N pods" || tap_diag "$left"

# --- run + gc cycles ---------------------------------------------------------------------

cycles=${LIFECYCLE_CYCLES:-100}
mounts_host() { wc -l </proc/self/mountinfo; }
mounts_data() { grep -c " ${HARNESS_NP_DATA}[/ ]" /proc/self/mountinfo; }
our_cgroups() {
        local u
        for u in "${cyc_uuid[@]}"; do _harness_np_pod_cgroups "$u"; done | wc -l
}
run_dirs() { find /run/systemd/nspawn/propagate /run/systemd/nspawn/locks -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
declare -a cyc_uuid=()
timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -f %M -o)
m0=$(mounts_host) d0=$(mounts_data) r0=$(run_dirs)
t0=$(now_ms)
ok=0
rss_run_first="" rss_run_last="" rss_gc_first="" rss_gc_last=""
for ((c = 1; c <= cycles; c++)); do
        rm -f "$HARNESS_DIR/cyc.uuid"
        rc=0
        if [ "${#timer[@]}" -gt 0 ]; then
                "${timer[@]}" "$HARNESS_DIR/cyc-run.rss" "$HARNESS_NP" --dir="$HARNESS_NP_DATA" run \
                        --uuid-file-save="$HARNESS_DIR/cyc.uuid" "$bb" --name=c --exec=/bin/sh -- -c "exit 7" \
                        </dev/null >"$HARNESS_DIR/cyc.log" 2>&1 || rc=$?
                "${timer[@]}" "$HARNESS_DIR/cyc-gc.rss" "$HARNESS_NP" --dir="$HARNESS_NP_DATA" gc --grace-period=0 \
                        </dev/null >"$HARNESS_DIR/cyc-gc.out" 2>&1 || ok=1
        else
                harness_np_run run --uuid-file-save="$HARNESS_DIR/cyc.uuid" "$bb" --name=c --exec=/bin/sh -- -c "exit 7" \
                        >"$HARNESS_DIR/cyc.log" 2>&1 || rc=$?
                harness_np_run gc --grace-period=0 >"$HARNESS_DIR/cyc-gc.out" 2>&1 || ok=1
        fi
        u=$(head -n 1 "$HARNESS_DIR/cyc.uuid" 2>/dev/null)
        cyc_uuid+=("$u")
        HARNESS_NP_UUIDS+=("$u")
        if [ "$rc" != 7 ] || [ "$(cat "$HARNESS_DIR/cyc-gc.out")" != "$u" ]; then
                ok=1
                tap_diag "cycle $c: run exited $rc (want 7), gc said: $(cat "$HARNESS_DIR/cyc-gc.out")" "$(tail -n 5 "$HARNESS_DIR/cyc.log")"
                break
        fi
        if [ "${#timer[@]}" -gt 0 ]; then
                [ "$c" = 1 ] && rss_run_first=$(tail -n 1 "$HARNESS_DIR/cyc-run.rss") rss_gc_first=$(tail -n 1 "$HARNESS_DIR/cyc-gc.rss")
                rss_run_last=$(tail -n 1 "$HARNESS_DIR/cyc-run.rss") rss_gc_last=$(tail -n 1 "$HARNESS_DIR/cyc-gc.rss")
        fi
done
t1=$(now_ms)
m1=$(mounts_host) d1=$(mounts_data) r1=$(run_dirs)
cg=$(our_cgroups)
tap_diag "$cycles run+gc cycles: $((t1 - t0)) ms ($(((t1 - t0) / (c > 1 ? c - 1 : 1))) ms a cycle)" \
        "host mounts before/after: $m0/$m1 (other pods of other users may come and go: not asserted)" \
        "mounts under the data dir before/after: $d0/$d1; /run/systemd/nspawn entries before/after: $r0/$r1; cgroups of our pods left: $cg" \
        "max RSS (KiB) of run, first/last cycle: ${rss_run_first:-n/a}/${rss_run_last:-n/a}; of gc: ${rss_gc_first:-n/a}/${rss_gc_last:-n/a}"
[ "$ok" = 0 ] && [ "$d0" = 0 ] && [ "$d1" = 0 ] && [ "$cg" = 0 ] &&
        [ -z "$(find "$HARNESS_NP_DATA/pods" -mindepth 2 -maxdepth 2)" ] && [ -z "$(harness_np_uuid_leftovers "${cyc_uuid[@]}")" ]
tap_ok $? "$cycles cycles of run + gc: every run exits 7, every gc removes its pod; no mount, cgroup, directory or /run entry left" ||
        tap_diag "$(harness_np_uuid_leftovers "${cyc_uuid[@]}" | head -n 20)"
if [ -n "$rss_run_first" ]; then
        [ "$rss_run_last" -le $((rss_run_first + 1024)) ] && [ "$rss_gc_last" -le $((rss_gc_first + 1024)) ]
        tap_ok $? "max RSS flat over the cycles (run ${rss_run_first}→${rss_run_last} KiB, gc ${rss_gc_first}→${rss_gc_last} KiB)"
else
        tap_skip "max RSS over the cycles" "/usr/bin/time (package time) not installed"
fi

# --- leaks: file descriptors and memory of every verb (valgrind) -----------------------------

if command -v valgrind >/dev/null 2>&1; then
        vg() {
                local name=$1
                shift
                RC=0
                valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
                        --show-leak-kinds=definite,indirect --track-fds=yes --log-file="$HARNESS_DIR/$name.vg" \
                        "$HARNESS_NP" --dir="$HARNESS_NP_DATA" "$@" </dev/null >"$HARNESS_DIR/$name.out" \
                        2>"$HARNESS_DIR/$name.err" || RC=$?
        }
        # The baseline: what valgrind reports for a program that opens nothing.
        valgrind -q --track-fds=yes --log-file="$HARNESS_DIR/base.vg" /bin/true </dev/null
        base=$(grep -o 'FILE DESCRIPTORS: [0-9]* open' "$HARNESS_DIR/base.vg" | head -n 1)
        v vg-run run --uuid-file-save="$HARNESS_DIR/vg.uuid" "$bb" --name=vg --exec=/bin/true
        VG=$(head -n 1 "$HARNESS_DIR/vg.uuid" 2>/dev/null)
        HARNESS_NP_UUIDS+=("$VG")
        v vg-prep prepare "$bb" --name=vgp --exec=/bin/true
        VGP=$(out vg-prep | head -n 1)
        HARNESS_NP_UUIDS+=("$VGP")
        ok=0
        for args in "status $VG" "status --format=json ${VG:0:8}" "list" "list --format=json" "cat-manifest $VG" \
                "status nope" "stop $VG" "rm $VGP" "gc --grace-period=0"; do
                # shellcheck disable=SC2086 # split on purpose
                vg vg $args
                fds=$(grep -o 'FILE DESCRIPTORS: [0-9]* open' "$HARNESS_DIR/vg.vg" | head -n 1)
                if [ "$RC" = 99 ] || [ "$fds" != "$base" ]; then
                        ok=1
                        tap_diag "$args: exit $RC, $fds (baseline: $base)" "$(grep -v '^==[0-9]*== *$' "$HARNESS_DIR/vg.vg" | head -n 30)"
                fi
        done
        tap_ok "$ok" "status, list, cat-manifest, stop, rm, gc under valgrind: no leak, no memory error, no fd left open at exit ($base)"
else
        tap_skip "verbs under valgrind" "valgrind not installed"
fi


tap_done
