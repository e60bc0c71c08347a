#!/usr/bin/env bash
# Integration test (TAP, root): the pod's journal (docs/logs.md). Real pods
# write to stdout and stderr; afterwards, and while they run, `nspawn-pod
# logs` shows every line (of every app or one, as text, bare or JSON, the
# last N, followed), journalctl -D reads the journal directory as a member
# of the journal readers' groups and not as anyone else, the host's journal
# finds the pod, a chatty pod loses no line and a flooding one stays within
# its bound, and gc leaves nothing of it.
#
# Assertions are on output, exit codes and files, never on timing: a follow
# is driven by what it has shown, not by sleeps. Users made for the ACL
# checks are removed by the teardown, whatever happens.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

if ! reason=$(harness_have_nspawn); then
        tap_skip "pod journals: real pods" "$reason"
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
tap_ok $? "nspawn-pod and its helpers are built ($HARNESS_NP)" || bail "$(tail -n 30 "$HARNESS_DIR/make.log" 2>&1)"

images=$HARNESS_DIR/images
"$HARNESS_SRC_ROOT/tests/images/build-busybox" "$images" >"$HARNESS_DIR/images.log" 2>&1
tap_ok $? "busybox test image builds" || bail "$(cat "$HARNESS_DIR/images.log")"
bb=$images/busybox.aci

# np NAME ARGS...: nspawn-pod ARGS, output in NAME.out/.err, status in RC.
np() {
        local name=$1
        shift
        RC=0
        harness_np_run "$@" >"$HARNESS_DIR/$name.out" 2>"$HARNESS_DIR/$name.err" || RC=$?
}
diag() {
        tap_diag "exit status $RC" "stderr:" "$(tail -n 20 "$HARNESS_DIR/$1.err" 2>&1)" \
                "stdout:" "$(head -n 30 "$HARNESS_DIR/$1.out" 2>&1)"
}
# run_pod NAME ARGS...: `nspawn-pod run` with a UUID file; UUID and POD set.
run_pod() {
        local name=$1
        shift
        rm -f "$HARNESS_DIR/$name.uuid"
        np "$name" run --uuid-file-save="$HARNESS_DIR/$name.uuid" "$@"
        UUID=$(head -n 1 "$HARNESS_DIR/$name.uuid" 2>/dev/null)
        [ -n "$UUID" ] && HARNESS_NP_UUIDS+=("$UUID")
        POD=$HARNESS_NP_DATA/pods/run/$UUID
}
# wait_for_line FILE LINE: until FILE has the line (at most 60 s).
wait_for_line() {
        local i
        for ((i = 0; i < 600; i++)); do
                grep -qxF "$2" "$1" 2>/dev/null && return 0
                sleep 0.1
        done
        return 1
}

# --- a two-app pod, after it has exited ------------------------------------------

run_pod two "$bb" --name=alpha --exec=/bin/sh -- -c 'echo "alpha out 1"; echo "alpha err 1" >&2; echo "alpha out 2"' \
        --- "$bb" --name=beta --exec=/bin/sh -- -c 'echo "beta 1"; echo "beta 2"; echo "beta 3"'
U2=$UUID P2=$POD
[ "$RC" = 0 ] && [ -d "$P2/stage1/rootfs/var/log/journal" ]
tap_ok $? "a two-app pod writing to stdout and stderr runs and exits 0" || diag two

np logs-all logs "$U2"
ok=0
for l in "alpha out 1" "alpha err 1" "alpha out 2" "beta 1" "beta 2" "beta 3"; do
        grep -qE "^[0-9T:.+-]+ (alpha|beta)\[[0-9]+\]: $l\$" "$HARNESS_DIR/logs-all.out" || ok=1
done
[ "$RC" = 0 ] && [ "$ok" = 0 ] && [ "$(wc -l <"$HARNESS_DIR/logs-all.out")" = 6 ]
tap_ok $? "logs: every line of both apps, \"TIME APP[PID]: LINE\", nothing else" || diag logs-all

np logs-alpha logs --app=alpha "${U2:0:8}"
[ "$RC" = 0 ] && [ "$(grep -c 'alpha\[' "$HARNESS_DIR/logs-alpha.out")" = 3 ] && ! grep -q beta "$HARNESS_DIR/logs-alpha.out"
tap_ok $? "logs --app=alpha (by a UUID prefix): its 3 lines, none of beta's" || diag logs-alpha

np logs-cat logs --app=beta -o cat "$U2"
[ "$RC" = 0 ] && [ "$(cat "$HARNESS_DIR/logs-cat.out")" = "$(printf 'beta 1\nbeta 2\nbeta 3')" ]
tap_ok $? "logs --app=beta -o cat: its lines, bare, in order" || diag logs-cat

np logs-n1 logs --app=beta -n 1 -o cat "$U2"
[ "$RC" = 0 ] && [ "$(cat "$HARNESS_DIR/logs-n1.out")" = "beta 3" ]
tap_ok $? "logs -n 1: the last line" || diag logs-n1

np logs-json logs -o json "$U2"
ok=0
jq -e . "$HARNESS_DIR/logs-json.out" >/dev/null 2>&1 || ok=1
[ "$(jq -s length "$HARNESS_DIR/logs-json.out" 2>/dev/null)" = 6 ] || ok=1
prio() { jq -r --arg m "$1" 'select(.MESSAGE == $m) | "\(.PRIORITY) \(.SYSLOG_IDENTIFIER) \(._SYSTEMD_UNIT) \(._TRANSPORT)"' \
        "$HARNESS_DIR/logs-json.out" 2>/dev/null; }
[ "$(prio "alpha out 1")" = "6 alpha alpha.service stdout" ] || ok=1
[ "$(prio "alpha err 1")" = "3 alpha alpha.service stdout" ] || ok=1
[ "$(prio "beta 2")" = "6 beta beta.service stdout" ] || ok=1
[ "$RC" = 0 ] && [ "$ok" = 0 ]
tap_ok $? "logs -o json: one object per line, 6 lines; stdout at priority 6, stderr at 3, both the app's (identifier, unit)" ||
        { diag logs-json; tap_diag "alpha err 1: $(prio "alpha err 1")"; }

np logs-system logs --all -o json "$U2"
[ "$RC" = 0 ] && [ "$(jq -s length "$HARNESS_DIR/logs-system.out")" -gt 6 ] &&
        jq -r '.SYSLOG_IDENTIFIER' "$HARNESS_DIR/logs-system.out" | grep -qx systemd-journald
tap_ok $? "logs --all: also the pod's own lines, told apart by their identifier and unit" || diag logs-system

np logs-since logs -o cat --since=tomorrow "$U2"
rc_since=$RC
np logs-range logs -o cat --since=@0 --until=now "$U2"
[ "$rc_since" = 0 ] && [ ! -s "$HARNESS_DIR/logs-since.out" ] && [ "$RC" = 0 ] &&
        [ "$(wc -l <"$HARNESS_DIR/logs-range.out")" = 6 ]
tap_ok $? "logs --since=tomorrow: nothing (exit 0); --since=@0 --until=now: all 6" || { diag logs-since; diag logs-range; }

np st-json status --format=json "$U2"
J=$(jq -r .journal "$HARNESS_DIR/st-json.out" 2>/dev/null)
[ "$RC" = 0 ] && [ "$J" = "$P2/stage1/rootfs/var/log/journal" ] &&
        journalctl -D "$J" -o cat --no-pager SYSLOG_IDENTIFIER=alpha 2>/dev/null | grep -qx "alpha err 1"
tap_ok $? "status --format=json names the journal directory; journalctl -D reads it" || { diag st-json; tap_diag "journal: $J"; }

mid=${U2//-/}
if [ -d /var/log/journal ]; then
        [ "$(readlink "/var/log/journal/$mid")" = "$P2/stage1/rootfs/var/log/journal/$mid" ] &&
                journalctl -m --no-pager -o cat "_MACHINE_ID=$mid" SYSLOG_IDENTIFIER=beta 2>/dev/null | grep -qx "beta 2"
        tap_ok $? "the host keeps a journal: /var/log/journal/<machine id> links to the pod's, journalctl -m finds its lines" ||
                tap_diag "$(ls -la /var/log/journal 2>&1)"
else
        tap_skip "the host's journal links to the pod's" "the host has no /var/log/journal"
fi

# An app running as another user than root, and a short-lived writer: what
# journald could not attribute to the app's unit (its writer gone when the
# line was read) still shows without --app.
run_pod nonroot "$bb" --name=nobody --user=1000 --group=1000 --exec=/bin/sh -- \
        -c 'echo "nonroot out"; echo "nonroot err" >&2; /bin/echo "nonroot child"'
np logs-nonroot logs -o cat "$UUID"
[ "$RC" = 0 ] && grep -qx "nonroot out" "$HARNESS_DIR/logs-nonroot.out" && grep -qx "nonroot err" "$HARNESS_DIR/logs-nonroot.out" &&
        grep -qx "nonroot child" "$HARNESS_DIR/logs-nonroot.out"
tap_ok $? "an app running as uid 1000: logs shows its stdout, its stderr and a child's line" || diag logs-nonroot
UN=$UUID

# --- bad input -------------------------------------------------------------------

ok=0
np bad-app logs --app=nosuch "$U2"
{ [ "$RC" = 1 ] && grep -q 'has no app "nosuch" (its apps: alpha, beta)' "$HARNESS_DIR/bad-app.err"; } || { ok=1; diag bad-app; }
np bad-pod logs 0123456789abcdef0123456789abcdef
{ [ "$RC" = 1 ] && [ -s "$HARNESS_DIR/bad-pod.err" ]; } || { ok=1; diag bad-pod; }
np bad-out logs -o yaml "$U2"
{ [ "$RC" = 2 ] && grep -q 'short, cat or json' "$HARNESS_DIR/bad-out.err"; } || { ok=1; diag bad-out; }
np bad-lines logs -n x "$U2"
{ [ "$RC" = 2 ] && grep -q 'not a number' "$HARNESS_DIR/bad-lines.err"; } || { ok=1; diag bad-lines; }
np bad-since logs --since=soon "$U2"
{ [ "$RC" = 2 ] && grep -q 'not a time' "$HARNESS_DIR/bad-since.err"; } || { ok=1; diag bad-since; }
np prep prepare "$bb" --exec=/bin/true
UP=$(head -n 1 "$HARNESS_DIR/prep.out")
HARNESS_NP_UUIDS+=("$UP")
np bad-prepared logs "$UP"
{ [ "$RC" = 1 ] && grep -q 'has no journal: it has not run yet' "$HARNESS_DIR/bad-prepared.err"; } || { ok=1; diag bad-prepared; }
pods_before=$(find "$HARNESS_NP_DATA/pods" -mindepth 2 -maxdepth 2 | wc -l)
np bad-size run --journal-max-use=1Mi "$bb" --exec=/bin/true
{ [ "$RC" = 254 ] && grep -q 'out of range' "$HARNESS_DIR/bad-size.err" &&
        [ "$(find "$HARNESS_NP_DATA/pods" -mindepth 2 -maxdepth 2 | wc -l)" = "$pods_before" ]; } ||
        { ok=1; diag bad-size; }
tap_ok "$ok" "clear errors: unknown app (1, its apps listed), unknown pod (1), bad -o, -n, --since (2), a prepared pod (1, no journal yet), --journal-max-use=1Mi (254, no pod left)"

# --- who reads the journal ---------------------------------------------------------

reader_group=""
for g in adm systemd-journal; do
        getent group "$g" >/dev/null && reader_group=$g && break
done
if [ -n "$reader_group" ] && command -v useradd >/dev/null && command -v runuser >/dev/null; then
        u_in=npt-in-$$ u_out=npt-out-$$
        group_before=$(getent group "$reader_group")
        harness_on_exit "userdel $u_in 2>/dev/null; userdel $u_out 2>/dev/null"
        useradd -M -N -s /bin/sh -G "$reader_group" "$u_in" && useradd -M -N -s /bin/sh "$u_out"
        tap_ok $? "two users: $u_in (in $reader_group), $u_out (in no reader group)"
        # The way down to the data dir is the admin's choice: open it here.
        chmod 0711 "$HARNESS_DIR"
        runuser -u "$u_in" -- journalctl -D "$J" -o cat --no-pager >"$HARNESS_DIR/in.out" 2>"$HARNESS_DIR/in.err"
        rc_in=$?
        runuser -u "$u_out" -- journalctl -D "$J" -o cat --no-pager >"$HARNESS_DIR/out.out" 2>"$HARNESS_DIR/out.err"
        rc_out=$?
        [ "$rc_in" = 0 ] && grep -qx "alpha err 1" "$HARNESS_DIR/in.out" && [ "$rc_out" != 0 ] &&
                ! grep -q alpha "$HARNESS_DIR/out.out"
        tap_ok $? "journalctl -D as a member of $reader_group reads the pod's lines; as $u_out it cannot (exit $rc_out)" ||
                tap_diag "in: $rc_in $(cat "$HARNESS_DIR/in.err")" "out: $rc_out $(cat "$HARNESS_DIR/out.err" "$HARNESS_DIR/out.out")"
        # What the way through the pod directory gives: nothing writable;
        # readable, nothing of the apps' roots, data, units, environment or
        # manifest.
        # (Every path as root, then each tried as the user: a way through a
        # directory is not a listing of it.)
        find "$P2" >"$HARNESS_DIR/paths"
        runuser -u "$u_in" -- sh -c 'while IFS= read -r p; do
                [ -L "$p" ] && continue # (a mask: a link to /dev/null, which anyone may write)
                if [ -w "$p" ]; then echo "$p" >&3; elif [ -f "$p" ] && [ -r "$p" ]; then echo "$p"; fi
        done' <"$HARNESS_DIR/paths" >"$HARNESS_DIR/r.out" 3>"$HARNESS_DIR/w.out" 2>/dev/null
        [ ! -s "$HARNESS_DIR/w.out" ] &&
                ! grep -E "/(opt/stage2|rendered|overlay|appsinfo|sharedVolumes)/|^$P2/pod\$|/rkt/env/" "$HARNESS_DIR/r.out" &&
                grep -q '/var/log/journal/.*\.journal$' "$HARNESS_DIR/r.out" &&
                ! runuser -u "$u_in" -- ls "$HARNESS_NP_DATA/pods/run" >/dev/null 2>&1
        tap_ok $? "passing through to the journal, $u_in can write nothing, read no app root, data, unit, environment or manifest, nor list the pods" ||
                tap_diag "writable:" "$(cat "$HARNESS_DIR/w.out")" "readable:" "$(grep -vE '/var/log/journal/' "$HARNESS_DIR/r.out")"
        chmod 0700 "$HARNESS_DIR"
        userdel "$u_in" && userdel "$u_out" && [ "$(getent group "$reader_group")" = "$group_before" ] &&
                ! id "$u_in" >/dev/null 2>&1
        tap_ok $? "the users are gone, $reader_group is as it was"
else
        tap_skip "journal ACLs for the readers' groups" "no adm or systemd-journal group, or no useradd/runuser"
fi

# --- following a running pod -------------------------------------------------------------

# start_pod NAME SCRIPT: `run` in the background of an app NAME running
# `sh -c SCRIPT`; RUNPID and UUID set once the pod has its UUID.
start_pod() {
        rm -f "$HARNESS_DIR/$1.uuid"
        harness_np_start "$HARNESS_DIR/$1.log" run --uuid-file-save="$HARNESS_DIR/$1.uuid" "$bb" --name="$1" \
                --exec=/bin/sh -- -c "$2"
        RUNPID=$HARNESS_NP_PID
        harness_np_wait_for "$HARNESS_DIR/$1.uuid" 60
        UUID=$(head -n 1 "$HARNESS_DIR/$1.uuid" 2>/dev/null)
        HARNESS_NP_UUIDS+=("$UUID")
}

start_pod follow 'echo first; while [ ! -e /go ]; do sleep 0.05; done; echo second; while [ ! -e /end ]; do sleep 0.05; done; echo third'
FPID=$RUNPID UF=$UUID
# Once the pod's journal has its first line, follow it.
for ((i = 0; i < 600; i++)); do
        harness_np_run logs -o cat "$UF" 2>/dev/null | grep -qx first && break
        sleep 0.1
done
"$HARNESS_NP" --dir="$HARNESS_NP_DATA" logs -f -o cat "$UF" >"$HARNESS_DIR/f.out" 2>"$HARNESS_DIR/f.err" </dev/null &
LPID=$!
HARNESS_PIDS+=("$LPID")
wait_for_line "$HARNESS_DIR/f.out" first
rc1=$?
harness_np_run enter --app=follow "$UF" /bin/touch /go >/dev/null 2>&1
wait_for_line "$HARNESS_DIR/f.out" second
rc2=$?
harness_pid_alive "$LPID" && harness_pid_alive "$FPID"
rc3=$?
tap_ok $((rc1 + rc2 + rc3)) "logs -f on a running pod: shows its line, then a new one as it comes, and keeps following while the pod runs" ||
        tap_diag "$(cat "$HARNESS_DIR/f.out" "$HARNESS_DIR/f.err")"
harness_np_run enter --app=follow "$UF" /bin/touch /end >/dev/null 2>&1
RC=0
harness_np_wait "$LPID" 60 || RC=$?
rc_pod=0
harness_np_wait "$FPID" 60 || rc_pod=$?
[ "$RC" = 0 ] && [ "$rc_pod" = 0 ] && [ "$(cat "$HARNESS_DIR/f.out")" = "$(printf 'first\nsecond\nthird')" ]
tap_ok $? "when the pod exits, logs -f shows its last line and returns 0" ||
        tap_diag "logs -f: $RC, pod: $rc_pod" "$(cat "$HARNESS_DIR/f.out" "$HARNESS_DIR/f.err")"

# Interrupted while the pod runs.
start_pod intr 'echo up; exec sleep 1000'
IPID=$RUNPID UI=$UUID
"$HARNESS_NP" --dir="$HARNESS_NP_DATA" logs -f -o cat "$UI" >"$HARNESS_DIR/i.out" 2>"$HARNESS_DIR/i.err" </dev/null &
LPID=$!
HARNESS_PIDS+=("$LPID")
wait_for_line "$HARNESS_DIR/i.out" up
kill -INT "$LPID"
RC=0
harness_np_wait "$LPID" 30 || RC=$?
harness_pid_alive "$IPID"
alive=$?
np stop-intr stop --wait=60s "$UI"
[ "$RC" = 0 ] && [ "$alive" = 0 ] && [ "$(cat "$HARNESS_DIR/i.out")" = up ]
tap_ok $? "logs -f interrupted (SIGINT) while the pod runs: returns 0, the pod runs on" ||
        tap_diag "logs -f: $RC" "$(cat "$HARNESS_DIR/i.err")"

# --- volume: nothing lost, and a bound that holds ----------------------------------------

run_pod flood "$bb" --name=flood --exec=/bin/sh -- -c 'i=0; while [ $i -lt 100000 ]; do echo "line $i"; i=$((i+1)); done'
UF1=$UUID
np flood-logs logs --app=flood -o cat "$UF1"
[ "$RC" = 0 ] && seq 0 99999 | sed 's/^/line /' | cmp -s - "$HARNESS_DIR/flood-logs.out"
tap_ok $? "a pod writing 100000 lines: logs returns all of them, in order" ||
        tap_diag "$(wc -l <"$HARNESS_DIR/flood-logs.out") lines" "$(head -n 3 "$HARNESS_DIR/flood-logs.out")"

bound=$((4 * 1024 * 1024))
run_pod bounded --journal-max-use=4Mi "$bb" --name=bounded --exec=/bin/sh -- \
        -c 'i=0; while [ $i -lt 60000 ]; do echo "line $i of a pod that writes far more than its bound"; i=$((i+1)); done'
UB=$UUID
total=$(find "$POD/stage1/rootfs/var/log/journal" -name '*.journal' -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
np bounded-last logs -n 1 -o cat "$UB"
last=$(cat "$HARNESS_DIR/bounded-last.out")
np bounded-first logs -o cat "$UB"
first=$(head -n 1 "$HARNESS_DIR/bounded-first.out")
[ "$total" -gt 0 ] && [ "$total" -le "$bound" ] && [ "$last" = "line 59999 of a pod that writes far more than its bound" ] &&
        [ "$first" != "line 0 of a pod that writes far more than its bound" ]
tap_ok $? "--journal-max-use=4Mi and far more written: the journal files take $total bytes (<= $bound), the newest lines kept" ||
        tap_diag "total $total, first: $first, last: $last"

# --- gc --------------------------------------------------------------------------------

np gc gc --grace-period=0
[ "$RC" = 0 ] && harness_np_uuid_leftovers "$U2" "$UN" "$UF" "$UI" "$UF1" "$UB" >"$HARNESS_DIR/left.out" &&
        [ ! -e "$J" ]
tap_ok $? "gc: nothing of the pods left (journal, host link, mounts, cgroups, processes)" ||
        { diag gc; tap_diag "$(cat "$HARNESS_DIR/left.out")"; }

tap_done
