#!/usr/bin/env bash
# Integration test (TAP, root): `nspawn-pod enter` on a real pod (docs/enter.md).
#
# One pod of three apps runs throughout: "probe" (the probe as user 1000,
# groups 1000 + 2000 3000, a working directory, hostile environment values, a
# capability retain set, a seccomp retain set with its own errno, an
# oom_score_adj), "rootprobe" (the probe as root, a retain set without
# CAP_SYS_ADMIN and a seccomp remove set: no no_new_privs, so enter must keep
# CAP_SYS_ADMIN just long enough to install the filters), both reporting once
# and then staying alive, and "bb" (busybox sleeping, for shell commands).
#
# Parity is shown by running the probe again through `enter` and comparing
# its report with the app's own, record by record: ids, groups, working
# directory, every capability set, no_new_privs, seccomp mode and what a
# blocked system call returns, cgroups, every namespace (the app's own mount
# namespace included), umask, signal dispositions, limits, scheduling,
# oom_score_adj, environment (but TERM, which is the caller's), open
# descriptors (a descriptor the caller holds must not be there). Then exit
# statuses and signals, stdin/stdout/stderr, a terminal (script(1)),
# refusals with their messages and exit code, a prepared and an exited pod,
# and nothing left behind: the apps untouched (same main process, not traced,
# alone in their cgroups), no process, mount or cgroup of the pod once it is
# stopped.
#
# ENTER_TEST_KEEP=DIR keeps both probe reports of each app there
# (tests/probe/probe --decode FILE shows them). ENTER_TEST_USERNS=1 (how
# test-enter-userns.sh runs it) runs the pod with --private-users: the same
# parity, checked against an app in a user namespace of the pod's own, and
# the command's ids as the host sees them are the app's, shifted.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

if ! reason=$(harness_have_nspawn); then
        tap_skip "nspawn-pod enter: real pods" "$reason"
        tap_done
        exit
fi
if ! command -v perl >/dev/null 2>&1; then
        tap_skip "nspawn-pod enter: real pods" "perl (to tell an exit status from a signal) not installed"
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
[ -x "$(dirname "$HARNESS_NP")/libexec/enter" ]
tap_ok $? "the enter helper is built ($(dirname "$HARNESS_NP")/libexec/enter)" || bail "no enter helper"

images=$HARNESS_DIR/images
log=$HARNESS_DIR/images.log
"$HARNESS_SRC_ROOT/tests/images/build-busybox" "$images" >"$log" 2>&1 &&
        "$HARNESS_SRC_ROOT/tests/images/build-probe" "$images" >>"$log" 2>&1
tap_ok $? "test images build (busybox, probe)" || bail "$(cat "$log")"
probe_host=$images/probe/rootfs/probe
cd "$HARNESS_DIR" || bail "cannot enter $HARNESS_DIR"

# --- helpers ---------------------------------------------------------------------

# Where, on the host, the files an app writes land (test-run.sh's app_dir): an
# app from an ACI runs on an overlay whose upper directory is in the pod dir.
app_dir() {
        if [ -d "$1/overlay/$2/upper" ]; then
                printf '%s\n' "$1/overlay/$2/upper"
        else
                printf '%s\n' "$1/stage1/rootfs/opt/stage2/$2/rootfs"
        fi
}

# en NAME ARGS...: `nspawn-pod --dir=DATA enter ARGS` with stdin /dev/null,
# stdout and stderr in NAME.out and NAME.err; sets RC.
en() {
        local name=$1
        shift
        RC=0
        timeout -k 5 120 "$HARNESS_NP" --dir="$HARNESS_NP_DATA" enter "$@" </dev/null \
                >"$HARNESS_DIR/$name.out" 2>"$HARNESS_DIR/$name.err" || RC=$?
}
en_diag() {
        tap_diag "exit status $RC" "stderr:" "$(tail -n 20 "$HARNESS_DIR/$1.err" 2>&1)" \
                "stdout:" "$(tail -n 20 "$HARNESS_DIR/$1.out" 2>&1)"
}

# how_ended PIDFILE CMD...: runs CMD (no timeout(1) in between: it would turn a
# signal into 128+N) and prints "exit N" or "signal N"; with PIDFILE, CMD's pid
# is written there first. Killed after 120 s.
how_ended() {
        local pidfile=$1
        shift
        perl -e '
                my $pf = shift;
                my $pid = fork() // die "fork: $!";
                if (!$pid) { exec { $ARGV[0] } @ARGV; exit 127; }
                if ($pf) { open(my $f, ">", $pf) or die; print $f "$pid\n"; close($f); }
                local $SIG{ALRM} = sub { kill "KILL", $pid; };
                alarm 120;
                waitpid($pid, 0);
                my $s = $?;
                print(($s & 127) ? "signal " . ($s & 127) . "\n" : "exit " . ($s >> 8) . "\n");
        ' "$pidfile" "$@"
}

report_ok() {
        [ -s "$1" ] && [ "$(tail -n 1 "$1")" = end ]
}

decoded() {
        "$probe_host" --decode "$1" 2>&1
}

# records FILE KEY...: the records of a report with these keys, in order.
records() {
        local f=$1 k pat=""
        shift
        for k in "$@"; do
                pat+="${pat:+|}$k"
        done
        grep -aE "^($pat)( |\$)" "$f"
}

# The processes in the cgroup of APP's service, host pids, from every
# hierarchy that has it (name=systemd on hybrid hosts, cgroup2 on unified).
app_procs() {
        local app=$1 mp d
        while IFS= read -r -d '' mp; do
                d=$(find "$mp" -maxdepth 6 -type d -path "*/nspawn-pod-$UUID/*" -name "$app.service" -print -quit 2>/dev/null)
                [ -n "$d" ] && cat "$d/cgroup.procs"
        done < <(_harness_cgroup_mounts) | sort -un
}

# The app's main process: in its cgroup, a child of the pod's init.
main_pid() {
        local p pp
        for p in $(app_procs "$1"); do
                pp=$(_harness_ppid "$p") || continue
                if [ "$(awk '/^NSpid:/{print $NF}' "/proc/$pp/status" 2>/dev/null)" = 1 ]; then
                        printf '%s\n' "$p"
                        return 0
                fi
        done
        return 1
}

# --- the pod ---------------------------------------------------------------------------

id_of() {
        printf 'sha512-%s' "$(sha512sum "$1" | cut -c1-128)"
}
id_probe=$(id_of "$images/probe.aci")
id_bb=$(id_of "$images/busybox.aci")
retain='"@systemd/default", "@systemd/basic-io", "@systemd/file-system", "@systemd/io-event",
        "@systemd/process", "@systemd/signal", "@systemd/sync", "@systemd/timer", "@systemd/resources",
        "@systemd/ipc", "@systemd/network-io", "getpriority", "ioctl", "sched_getparam",
        "sched_getscheduler", "uname"'
# getcpu (x86-64: 309; aarch64: 168) is in none of these groups: the probe's
# PROBE_SYSCALL call of it is blocked, with EXFULL (54) for "probe" and
# ENOTBLK (15) for "rootprobe".
case $(uname -m) in
x86_64) getcpu=309 ;;
aarch64) getcpu=168 ;;
*) getcpu="" ;;
esac
cat >"$HARNESS_DIR/pod.json" <<EOF
{
  "acVersion": "0.8.11",
  "acKind": "PodManifest",
  "apps": [
    {
      "name": "probe",
      "image": {"name": "example.com/probe", "id": "$id_probe"},
      "app": {
        "exec": ["/probe", "--sleep=100000", "app"],
        "user": "1000",
        "group": "1000",
        "supplementaryGIDs": [2000, 3000],
        "workingDirectory": "/home/app",
        "environment": [
          {"name": "PROBE_OUT", "value": "/tmp/report"},
          {"name": "PROBE_SYSCALL", "value": "$getcpu"},
          {"name": "PLAIN", "value": "hello world"},
          {"name": "HOSTILE", "value": "new\\nline \\"quoted\\" \$HOME %n back\\\\slash\\ttab"},
          {"name": "EMPTY", "value": ""}
        ],
        "isolators": [
          {"name": "os/linux/capabilities-retain-set",
           "value": {"set": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]}},
          {"name": "os/linux/seccomp-retain-set", "value": {"set": [$retain], "errno": "EXFULL"}},
          {"name": "os/linux/oom-score-adj", "value": 100}
        ]
      }
    },
    {
      "name": "rootprobe",
      "image": {"name": "example.com/probe", "id": "$id_probe"},
      "app": {
        "exec": ["/probe", "--sleep=100000", "root"],
        "user": "0",
        "group": "0",
        "environment": [
          {"name": "PROBE_OUT", "value": "/tmp/report"},
          {"name": "PROBE_SYSCALL", "value": "$getcpu"}
        ],
        "isolators": [
          {"name": "os/linux/capabilities-retain-set",
           "value": {"set": ["CAP_CHOWN", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE",
                             "CAP_SYS_CHROOT"]}},
          {"name": "os/linux/seccomp-remove-set", "value": {"set": ["getcpu"], "errno": "ENOTBLK"}}
        ]
      }
    },
    {
      "name": "bb",
      "image": {"name": "example.com/busybox", "id": "$id_bb"},
      "app": {"exec": ["/bin/sleep", "100000"], "user": "0", "group": "0"}
    }
  ]
}
EOF
userns_opts=()
[ "${ENTER_TEST_USERNS:-0}" = 1 ] && userns_opts=(--private-users)
harness_np_start "$HARNESS_DIR/pod.log" run --uuid-file-save="$HARNESS_DIR/pod.uuid" "${userns_opts[@]}" \
        --pod-manifest="$HARNESS_DIR/pod.json" "$images/probe.aci" --- "$images/probe.aci" --- "$images/busybox.aci"
run_pid=$HARNESS_NP_PID
UUID="" POD=""
ready=0
for ((i = 0; i < 600; i++)); do
        if [ -z "$UUID" ] && [ -s "$HARNESS_DIR/pod.uuid" ]; then
                UUID=$(head -n 1 "$HARNESS_DIR/pod.uuid")
                HARNESS_NP_UUIDS+=("$UUID")
                POD=$HARNESS_NP_DATA/pods/run/$UUID
        fi
        if [ -n "$UUID" ] && report_ok "$(app_dir "$POD" probe)/tmp/report" &&
                report_ok "$(app_dir "$POD" rootprobe)/tmp/report" && main_pid bb >/dev/null; then
                ready=1
                break
        fi
        harness_pid_alive "$run_pid" || break
        sleep 0.1
done
[ "$ready" = 1 ]
tap_ok $? "a pod of three apps runs: both probes have reported, busybox sleeps" ||
        bail "$(sed 's/\x1b\[[0-9;]*m//g' "$HARNESS_DIR/pod.log" | tail -n 30)"
short=${UUID:0:8}

declare -A main0=()
for app in probe rootprobe bb; do
        main0[$app]=$(main_pid "$app")
done

# --- parity: the probe, run again through enter ----------------------------------------

# Records that must be identical, byte for byte, between the app and the
# command: everything the app's unit and the pod decide.
same_keys=(uid gid groups cwd cap_bnd cap_eff cap_prm cap_inh cap_amb no_new_privs seccomp hostname cgroup
        umask sig_blk sig_ign cpus oom_score_adj nice sched rlimit ns fds syscall)

parity() {
        local app=$1 app_report=$HARNESS_DIR/$1.app.report ent_report=$HARNESS_DIR/$1.enter.report live diff_out
        live=$(app_dir "$POD" "$app")/tmp/report
        cp "$live" "$app_report"
        # A descriptor of the caller's: it must not reach the command.
        exec 7</etc/hostname
        TERM=enter-test-term en "enter-$app" --app="$app" "$short" /probe entered
        exec 7<&-
        cp "$live" "$ent_report" 2>/dev/null
        [ -z "${ENTER_TEST_KEEP:-}" ] || cp "$app_report" "$ent_report" "$ENTER_TEST_KEEP/"
        [ "$RC" = 0 ] && report_ok "$ent_report" && grep -qxF "argv 1 $(harness_hex entered)" "$ent_report"
        tap_ok $? "$app: enter --app=$app <uuid prefix> /probe runs the probe (exit 0, complete report)" || {
                en_diag "enter-$app"
                return
        }
        diff_out=$(diff <(records "$app_report" "${same_keys[@]}") <(records "$ent_report" "${same_keys[@]}"))
        [ -z "$diff_out" ] && [ "$(records "$app_report" "${same_keys[@]}" | wc -l)" -ge 40 ]
        tap_ok $? "$app: identical ids, groups, cwd, capability sets, no_new_privs, seccomp, cgroups, namespaces, umask, signals, limits, scheduling, oom_score_adj, descriptors, blocked call" ||
                tap_diag "$diff_out"
        diff_out=$(diff <(grep -a '^env ' "$app_report" | grep -v "^env $(harness_hex TERM=)" | sort) \
                <(grep -a '^env ' "$ent_report" | grep -v "^env $(harness_hex TERM=)" | sort))
        [ -z "$diff_out" ] && [ "$(grep -c "^env $(harness_hex TERM=)" "$ent_report")" = 1 ] &&
                grep -qxF "env $(harness_hex TERM=enter-test-term)" "$ent_report"
        tap_ok $? "$app: the same environment, byte for byte, but TERM, which is the caller's" ||
                tap_diag "$diff_out" "$(decoded "$ent_report" | grep '^env ')"
        # The descriptors: stdin, stdout, stderr only, pipes (not the
        # caller's files), and not the caller's fd 7.
        grep -qx 'fds 0 1 2' "$ent_report" && (
                for fd in 0 1 2; do
                        decoded "$ent_report" | grep -q "^fd $fd pipe:\[" || exit 1
                done
        )
        tap_ok $? "$app: the command has fds 0 1 2 only, all pipes: nothing of the caller's (its fd 7) leaks in" ||
                tap_diag "$(decoded "$ent_report" | grep '^fds\?')"
        # The app's own mount namespace, not the pod's (systemd gives each
        # app service one): compare with the pod's init.
        local init_mnt app_mnt
        init_mnt=$(stat -L -c %i "/proc/$(_harness_ppid "${main0[$app]}")/ns/mnt" 2>/dev/null)
        app_mnt=$(awk '$1 == "ns" && $2 == "mnt" {print $3}' "$ent_report")
        [ -n "$app_mnt" ] && [ -n "$init_mnt" ] && [ "$app_mnt" != "$init_mnt" ] &&
                [ "$app_mnt" = "$(stat -L -c %i "/proc/${main0[$app]}/ns/mnt")" ]
        tap_ok $? "$app: the command is in the app's own mount namespace ($app_mnt), not the pod's ($init_mnt)"
}

if [ -z "$getcpu" ]; then
        tap_diag "no getcpu number known for $(uname -m): the blocked-call comparison compares nothing"
fi
# In a user namespace on a CNI network no capability of the pod's reaches the
# network namespace (the host's user namespace's): nspawn drops
# CAP_NET_BIND_SERVICE (bit 10), the run opens ports below 1024 instead
# (docs/security.md, "User namespaces").
bnd_probe=0000000000000421 bnd_root=00000000000404e1
[ "${ENTER_TEST_USERNS:-0}" = 1 ] && bnd_probe=0000000000000021 bnd_root=00000000000400e1
parity probe
r=$HARNESS_DIR/probe.enter.report
grep -qx 'uid 1000 1000 1000' "$r" && grep -qx 'gid 1000 1000 1000' "$r" && grep -qxE 'groups (1000 )?2000 3000' "$r" &&
        grep -qxF "cwd $(harness_hex /home/app)" "$r" && grep -qx "cap_bnd $bnd_probe" "$r" &&
        grep -qx 'cap_eff 0000000000000000' "$r" && grep -qx 'no_new_privs 1' "$r" && grep -qx 'seccomp 2' "$r" &&
        grep -qx 'oom_score_adj 100' "$r" && { [ -z "$getcpu" ] || grep -qx "syscall $getcpu !54" "$r"; }
tap_ok $? "probe: the values are the manifest's: uid/gid 1000, groups 2000 3000 (and the primary 1000: systemd adds it), cwd /home/app, bounding set CAP_CHOWN CAP_KILL CAP_NET_BIND_SERVICE, no_new_privs, seccomp filter, getcpu fails with EXFULL, oom_score_adj 100" ||
        tap_diag "$(decoded "$r" | grep -E '^(uid|gid|groups|cwd|cap_|no_new|seccomp|syscall|oom)')"

parity rootprobe
r=$HARNESS_DIR/rootprobe.enter.report
grep -qx 'uid 0 0 0' "$r" && grep -qx "cap_bnd $bnd_root" "$r" && grep -qx "cap_eff $bnd_root" "$r" &&
        grep -qx "cap_prm $bnd_root" "$r" && grep -qx 'no_new_privs 0' "$r" && grep -qx 'seccomp 2' "$r" &&
        { [ -z "$getcpu" ] || grep -qx "syscall $getcpu !15" "$r"; }
tap_ok $? "rootprobe: root with exactly its retain set (no CAP_SYS_ADMIN left from installing the filters), no no_new_privs, getcpu fails with ENOTBLK" ||
        tap_diag "$(decoded "$r" | grep -E '^(uid|cap_|no_new|seccomp|syscall)')"

if [ "${ENTER_TEST_USERNS:-0}" = 1 ]; then
        # The app's ids on the host are shifted; the command's are the same.
        shift_uid=$(awk '/^Uid:/{print $2}' "/proc/${main0[bb]}/status")
        en userns-map --app=bb "$UUID" /bin/sh -c 'cat /proc/self/uid_map; id -u; sleep 0.1 & p=$!; echo $p; wait'
        map=$(head -n 1 "$HARNESS_DIR/userns-map.out" | tr -s ' ' | sed 's/^ //')
        [ "$RC" = 0 ] && [ -n "$shift_uid" ] && [ "$shift_uid" != 0 ] && [ "$map" = "0 $shift_uid 65536" ] &&
                [ "$(sed -n 2p "$HARNESS_DIR/userns-map.out")" = 0 ] &&
                [ "$(awk '/^Uid:/{print $2}' "/proc/${main0[probe]}/status")" = $((shift_uid + 1000)) ]
        tap_ok $? "user namespace: the apps run shifted on the host (root as $shift_uid, user 1000 as $((shift_uid + 1000))); the command is uid 0 in the app's user namespace ($map)" ||
                { en_diag userns-map; tap_diag "bb's host uid: $shift_uid"; }
fi

# A root shell in busybox: its capability sets as the app's main process has them.
en bb-caps --app=bb "$UUID" /bin/sh -c 'grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status'
want=$(grep -E '^(Cap|NoNewPrivs|Seccomp)' "/proc/${main0[bb]}/status")
[ "$RC" = 0 ] && [ "$(cat "$HARNESS_DIR/bb-caps.out")" = "$want" ]
tap_ok $? "bb: a shell's CapInh/Prm/Eff/Bnd/Amb, NoNewPrivs, Seccomp (and filter count) are the busybox app's" || {
        en_diag bb-caps
        tap_diag "want:" "$want"
}

# --- exit status, signals, stdio ------------------------------------------------------------

en exit7 --app=bb "$UUID" /bin/sh -c 'exit 7'
[ "$RC" = 7 ]
tap_ok $? "enter ... /bin/sh -c 'exit 7' exits 7" || en_diag exit7
RC=0
timeout -k 5 120 perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV or die "exec: $!"' "$HARNESS_NP" --dir="$HARNESS_NP_DATA" \
        enter --app=bb "$UUID" /bin/sh -c 'exit 7' </dev/null >"$HARNESS_DIR/ign.out" 2>"$HARNESS_DIR/ign.err" || RC=$?
[ "$RC" = 7 ]
tap_ok $? "enter under a parent that ignores SIGCHLD: still exits 7" || en_diag ign

# shellcheck disable=SC2016 # $$ is the entered shell's
got=$(how_ended "" "$HARNESS_NP" --dir="$HARNESS_NP_DATA" enter --app=bb "$UUID" /bin/sh -c 'kill -TERM $$' </dev/null)
[ "$got" = "signal 15" ]
tap_ok $? "a command killed by SIGTERM: enter dies of SIGTERM too ($got)"
# shellcheck disable=SC2016
got=$(how_ended "" "$HARNESS_NP" --dir="$HARNESS_NP_DATA" enter --app=bb "$UUID" /bin/sh -c 'kill -KILL $$' </dev/null)
[ "$got" = "signal 9" ]
tap_ok $? "a command killed by SIGKILL: enter dies of SIGKILL too ($got)"

# SIGTERM to enter reaches the command: a sleeping command ends by it.
bbdir=$(app_dir "$POD" bb)
rm -f "$bbdir/tmp/entered-pid"
how_ended "$HARNESS_DIR/sleeper.pid" "$HARNESS_NP" --dir="$HARNESS_NP_DATA" enter --app=bb "$UUID" \
        /bin/sh -c 'echo $$ >/tmp/entered-pid; exec sleep 1000' </dev/null >"$HARNESS_DIR/sleeper.how" 2>&1 &
how_pid=$!
for ((i = 0; i < 300; i++)); do
        [ -s "$bbdir/tmp/entered-pid" ] && [ -s "$HARNESS_DIR/sleeper.pid" ] && break
        sleep 0.1
done
inner=$(cat "$bbdir/tmp/entered-pid" 2>/dev/null)
in_cgroup=0
[ -n "$inner" ] && [ "$(app_procs bb | wc -l)" = 2 ] && in_cgroup=1
kill -TERM "$(cat "$HARNESS_DIR/sleeper.pid" 2>/dev/null)" 2>/dev/null
wait "$how_pid"
got=$(cat "$HARNESS_DIR/sleeper.how")
[ "$in_cgroup" = 1 ]
tap_ok $? "a running command is in the app's cgroup, beside the app's main process" || tap_diag "$(app_procs bb)"
[ "$got" = "signal 15" ] && [ "$(app_procs bb)" = "${main0[bb]}" ]
tap_ok $? "SIGTERM to enter is passed to the command, which ends by it; enter dies of SIGTERM ($got); the app's cgroup holds its main process alone again" ||
        tap_diag "left in the app's cgroup: $(app_procs bb)"

out=$(printf 'line one\nline two\n' | timeout -k 5 60 "$HARNESS_NP" --dir="$HARNESS_NP_DATA" enter --app=bb "$UUID" \
        /bin/sh -c 'cat; echo to-stderr >&2; echo done' 2>"$HARNESS_DIR/stdio.err")
rc=$?
[ "$rc" = 0 ] && [ "$out" = $'line one\nline two\ndone' ] && [ "$(cat "$HARNESS_DIR/stdio.err")" = to-stderr ]
tap_ok $? "stdin reaches the command, stdout and stderr come back apart (pipes)" || tap_diag "rc $rc" "out: $out" "err: $(cat "$HARNESS_DIR/stdio.err")"

en default-cmd --app=bb "$UUID"
[ "$RC" = 0 ]
tap_ok $? "without a command, /bin/sh runs (stdin at end of file: it exits 0)" || en_diag default-cmd

en relpath --app=bb "$UUID" sh -c 'echo "$0 via PATH"'
[ "$RC" = 0 ] && [ "$(cat "$HARNESS_DIR/relpath.out")" = "sh via PATH" ]
tap_ok $? "a command without '/' is looked up in the app's PATH, inside the app" || en_diag relpath

en notfound --app=bb "$UUID" /no/such/command
[ "$RC" = 127 ] && grep -q 'command not found\|No such file' "$HARNESS_DIR/notfound.err"
tap_ok $? "a command that does not exist: exit 127, with a message" || en_diag notfound
en noexec --app=bb "$UUID" /etc/passwd
[ "$RC" = 126 ] && grep -q 'cannot execute' "$HARNESS_DIR/noexec.err"
tap_ok $? "a command that cannot be executed: exit 126, with a message" || en_diag noexec

# --- a terminal ------------------------------------------------------------------------------

if command -v script >/dev/null 2>&1; then
        out=$(timeout -k 5 60 script -qec "$HARNESS_NP --dir=$HARNESS_NP_DATA enter --app=bb $UUID /bin/sh -c 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-terminals; exit 3'" /dev/null </dev/null 2>&1 | tr -d '\r\000')
        rc=${PIPESTATUS[0]}
        # (script(1) passes a NUL byte on to enter when its stdin ends; the
        # command's terminal echoes it as "^@".)
        grep -q '/dev/pts/[0-9]' <<<"$out" && grep -qx 'all-terminals' <<<"$out" && [ "$rc" = 3 ]
        tap_ok $? "on a terminal (script(1)): the command gets a terminal of the app's own devpts (stdin, stdout, stderr), its exit status comes back" ||
                tap_diag "rc $rc" "$out"
        # The command's terminal has the caller's size; the caller's terminal
        # settings are back as they were afterwards (enter made it raw).
        out=$(timeout -k 5 60 script -qec "stty rows 33 cols 77; stty -g >$HARNESS_DIR/stty.before; $HARNESS_NP --dir=$HARNESS_NP_DATA enter --app=bb $UUID /bin/stty size; stty -g >$HARNESS_DIR/stty.after" /dev/null </dev/null 2>&1 | tr -d '\r\000')
        grep -q '33 77' <<<"$out" && [ -s "$HARNESS_DIR/stty.before" ] &&
                cmp -s "$HARNESS_DIR/stty.before" "$HARNESS_DIR/stty.after"
        tap_ok $? "on a terminal: the command's terminal is the caller's size (33x77); the caller's terminal settings are restored afterwards" ||
                tap_diag "$out" "before: $(cat "$HARNESS_DIR/stty.before" 2>&1)" "after: $(cat "$HARNESS_DIR/stty.after" 2>&1)"
        out=$(timeout -k 5 60 script -qec "$HARNESS_NP --dir=$HARNESS_NP_DATA enter --no-tty --app=bb $UUID /bin/sh -c 'if [ -t 0 ] || [ -t 1 ]; then echo has-terminal; fi; if (exec 3</dev/tty) 2>/dev/null; then echo has-ctty; else echo no-ctty; fi'" /dev/null </dev/null 2>&1 | tr -d '\r\000')
        [ "$out" = no-ctty ]
        tap_ok $? "--no-tty on a terminal: the command has neither the caller's terminal nor a controlling one (no TIOCSTI into the caller's)" ||
                tap_diag "$out"
else
        tap_skip "enter on a terminal" "script(1) (bsdutils) not installed"
fi

# --- refusals ----------------------------------------------------------------------------------

en noapp "$UUID" /bin/true
[ "$RC" = 254 ] && grep -q -- '--app' "$HARNESS_DIR/noapp.err" && grep -q 'probe, rootprobe, bb' "$HARNESS_DIR/noapp.err"
tap_ok $? "no --app on a pod of three apps: exit 254, the message lists the apps and asks for --app" || en_diag noapp
en badapp --app=nope "$UUID" /bin/true
[ "$RC" = 254 ] && grep -q 'no app "nope"' "$HARNESS_DIR/badapp.err" && grep -q 'probe, rootprobe, bb' "$HARNESS_DIR/badapp.err"
tap_ok $? "--app=nope: exit 254, the message names it and lists the apps" || en_diag badapp
en baduuid --app=bb not-a-uuid /bin/true
[ "$RC" = 254 ] && grep -q 'not a pod UUID' "$HARNESS_DIR/baduuid.err"
tap_ok $? "a malformed UUID: exit 254, 'not a pod UUID'" || en_diag baduuid
prepared=$(timeout -k 5 120 "$HARNESS_NP" --dir="$HARNESS_NP_DATA" prepare "$images/busybox.aci" --name=later </dev/null 2>"$HARNESS_DIR/prepare.err")
HARNESS_NP_UUIDS+=("$prepared")
en prepared "$prepared" /bin/true
[ -n "$prepared" ] && [ "$RC" = 254 ] && grep -q 'not running (prepared)' "$HARNESS_DIR/prepared.err"
tap_ok $? "a prepared pod that never ran: exit 254, 'pod ... is not running (prepared)'" || {
        en_diag prepared
        tap_diag "prepare: $prepared $(cat "$HARNESS_DIR/prepare.err")"
}
en nopod --app=bb 00000000-0000-4000-8000-000000000001 /bin/true
[ "$RC" = 254 ] && grep -q 'no pod' "$HARNESS_DIR/nopod.err"
tap_ok $? "a UUID no pod has: exit 254, 'no pod'" || en_diag nopod

# --- nothing disturbed, nothing left ---------------------------------------------------------------

bad=""
for app in probe rootprobe bb; do
        p=${main0[$app]}
        [ -n "$p" ] && [ "$(main_pid "$app")" = "$p" ] || bad+=" $app: main process changed"
        [ "$(app_procs "$app")" = "$p" ] || bad+=" $app: cgroup holds $(app_procs "$app" | tr '\n' ' ')"
        [ "$(awk '/^TracerPid:/{print $2}' "/proc/$p/status" 2>/dev/null)" = 0 ] || bad+=" $app: traced"
        case $(awk '/^State:/{print $2}' "/proc/$p/status" 2>/dev/null) in
        S | R) ;;
        *) bad+=" $app: state $(awk '/^State:/{print $2}' "/proc/$p/status" 2>/dev/null)" ;;
        esac
done
left=""
for p in /proc/[0-9]*; do
        exe=$(readlink "$p/exe" 2>/dev/null) || continue
        case $exe in *memfd:nspawn-pod-enter*) left+=" ${p#/proc/}" ;; *) ;; esac
done
[ -z "$bad" ] && [ -z "$left" ]
tap_ok $? "the apps are undisturbed (same main process, running, not traced, alone in their cgroups); no enter process is left" ||
        tap_diag "$bad" "enter processes:$left"

# Stop the pod: enter now refuses it.
kill -TERM "$run_pid" 2>/dev/null
rc=0
harness_np_wait "$run_pid" 60 || rc=$?
en exited --app=bb "$UUID" /bin/true
[ "$rc" = 0 ] && [ "$RC" = 254 ] && grep -q 'not running (exited)' "$HARNESS_DIR/exited.err"
tap_ok $? "once the pod has stopped (run exits $rc): exit 254, 'pod ... is not running (exited)'" || en_diag exited

left=$(harness_np_leftovers 2>&1)
tap_ok "$([ -z "$left" ] && echo 0 || echo 1)" "no process, mount or cgroup of the pod is left" || tap_diag "$left"
tap_done
