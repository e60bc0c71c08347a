#!/usr/bin/env bash
# Integration test of the pod harness itself (TAP). It boots hand-written
# unit sets with the host's systemd under systemd-nspawn, so that the harness
# is known to work before render's output is fed to it:
#   1. a minimal pod whose exit code comes from `systemctl exit N`;
#   2. the static probe run chrooted as an app (RootDirectory=), with nasty
#      argv and env bytes, and its exit code passed out as the pod's;
#   3. the harness's teardown on a failing and on a signalled test: a running
#      pod killed, mounts under the work dir gone, nothing deleted through a
#      bind mount, no cgroup left.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

if ! reason=$(harness_have_nspawn); then
        tap_skip "pods boot with systemd-nspawn" "$reason"
        tap_done
        exit
fi

harness_init || exit 1
nspawn=$(command -v "$HARNESS_NSPAWN")
# Machine names must differ between concurrent runs: nspawn keys
# /run/systemd/nspawn/propagate/<machine> on them.
sfx=${HARNESS_DIR##*.}

probe=$(harness_probe)
tap_ok $? "probe builds ($probe)" || {
        tap_done
        exit 1
}

# unit_word WORD INDEX: one ExecStart=/Environment= word, quoted the way
# docs/escaping.md: verified to round-trip: "..." with \ " LF TAB escaped, % as
# %% everywhere, $ as $$ in words after argv0 (INDEX >= 1; Environment=
# words pass INDEX -1: no $ expansion there). Only the characters this test
# uses are handled; render owns the real implementation.
unit_word() {
        local w=$1 i=$2
        w=${w//\\/\\\\}
        w=${w//\"/\\\"}
        w=${w//$'\n'/\\n}
        w=${w//$'\t'/\\t}
        w=${w//%/%%}
        if [ "$i" -ge 1 ]; then
                w=${w//\$/\$\$}
        fi
        printf '"%s"' "$w"
}

write_argv() {
        local pod=$1
        shift
        printf '%s\0' "$nspawn" "$@" >"$pod/argv"
}

# Asserts nothing of the pod remains once nspawn has returned.
check_clean() {
        local what=$1 left n
        left=$(harness_leftovers)
        tap_ok $? "$what: machine clean afterwards" || tap_diag "$left"
        n=$(grep -cF "$HARNESS_DIR" /proc/self/mountinfo)
        [ "$n" = 0 ]
        tap_ok $? "$what: no mountinfo line mentions the work dir" || tap_diag "$n lines"
}

# --- 1. minimal pod: exit code of `systemctl exit` ---------------------------

pod=$HARNESS_DIR/minimal
s1=$pod/stage1/rootfs
harness_make_stage1 "$s1"
tap_ok $? "minimal: stage1 built"
cat >"$s1/etc/systemd/system/default.target" <<'EOF'
[Unit]
Description=harness test: minimal pod
Wants=one.service exit.service
EOF
cat >"$s1/etc/systemd/system/one.service" <<'EOF'
[Service]
Type=oneshot
ExecStart=/bin/true
EOF
# --no-block: a synchronous `systemctl exit` would wait for its own job,
# which can only finish by stopping this very unit.
cat >"$s1/etc/systemd/system/exit.service" <<'EOF'
[Unit]
After=one.service
[Service]
Type=oneshot
ExecStart=/usr/bin/systemctl --no-block exit 7
EOF
# No --register/--keep-unit here: the harness must add them.
write_argv "$pod" --directory=stage1/rootfs --bind-ro=/usr --boot --settings=no --machine="harness-minimal-$sfx"
rc=0
harness_boot "$pod" "$pod/argv" 60 || rc=$?
tap_diag "boot took $HARNESS_BOOT_MS ms (minimal pod)"
[ "$rc" = 7 ]
tap_ok $? "minimal: nspawn exits with the code given to systemctl exit (7)" ||
        tap_diag "rc=$rc" "$(sed 's/\x1b\[[0-9;]*m//g' "$pod/console.log")"
grep -q 'one.service' "$pod/console.log"
tap_ok $? "minimal: console.log has the boot output"
check_clean minimal

# --- 2. the probe as a chrooted app -------------------------------------------

pod=$HARNESS_DIR/app
s1=$pod/stage1/rootfs
app=$s1/opt/stage2/app/rootfs
harness_make_stage1 "$s1" && harness_install_test_prepare_app "$s1" &&
        mkdir -p "$app" && cp "$probe" "$app/probe"
tap_ok $? "app: stage1, test prepare-app and app root built"

# shellcheck disable=SC2016 # literal $ is the point
args=(
        --exit=5 plain "two words" "" $'tab\there' $'new\nline' 'quote"d' 'back\slash'
        'dollar$HOME' '${BRACE}' 'pct%n' 'semi;' "'single'" 'ü-utf8' '#hash' '-x'
)
# shellcheck disable=SC2016 # literal $ is the point
envs=(
        "GREETING=hello world" 'QUOTED=a"b\c' 'PCT=100%' 'DOLLAR=$HOME' $'NL=x\ny' 'EMPTY='
        "PROBE_OUT=/report"
)
exec_line="ExecStart=$(unit_word /probe 0)"
for i in "${!args[@]}"; do
        exec_line+=" $(unit_word "${args[$i]}" $((i + 1)))"
done
env_line="Environment="
for e in "${envs[@]}"; do
        env_line+="$(unit_word "$e" -1) "
done

unitdir=$s1/etc/systemd/system
cat >"$unitdir/default.target" <<'EOF'
[Unit]
Description=harness test: probe app
Wants=app.service pod-exit.service
EOF
# %f: the instance is the path-escaped app root ("opt-stage2-app-rootfs").
cat >"$unitdir/prepare-app@.service" <<'EOF'
[Unit]
DefaultDependencies=no
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/prepare-app %f
EOF
# Type=oneshot so that pod-exit (After=) runs once the app has finished.
{
        cat <<'EOF'
[Unit]
Requires=prepare-app@opt-stage2-app-rootfs.service
After=prepare-app@opt-stage2-app-rootfs.service
[Service]
Type=oneshot
RootDirectory=/opt/stage2/app/rootfs
EOF
        printf '%s\n%s\n' "$env_line" "$exec_line"
} >"$unitdir/app.service"
cat >"$unitdir/pod-exit.service" <<'EOF'
[Unit]
After=app.service
[Service]
Type=oneshot
ExecStart=/pod-exit
EOF
# The pod exits with the app's exit status, the way reaper + shutdown will.
cat >"$s1/pod-exit" <<'EOF'
#!/bin/sh
status=$(systemctl show -p ExecMainStatus --value app.service)
exec systemctl --no-block exit "${status:-1}"
EOF
chmod 0755 "$s1/pod-exit"

write_argv "$pod" --directory=stage1/rootfs --bind-ro=/usr --boot --register=no --keep-unit \
        --settings=no --machine="harness-app-$sfx"
rc=0
harness_boot "$pod" "$pod/argv" 60 || rc=$?
tap_diag "boot took $HARNESS_BOOT_MS ms (probe app pod)"
[ "$rc" = 5 ]
tap_ok $? "app: pod exit code is the app's exit code (5)" || {
        tap_diag "rc=$rc"
        tap_diag "$(sed 's/\x1b\[[0-9;]*m//g' "$pod/console.log")"
        tap_diag "$(cat "$unitdir/app.service")"
}

report=$app/report
[ -s "$report" ] && [ "$(tail -n 1 "$report")" = end ]
tap_ok $? "app: probe report written and complete" || tap_diag "$(cat "$report" 2>&1)"

# argv: exactly the words given, in order, nothing more.
want=$(
        printf 'argv 0 %s\n' "$(harness_hex /probe)"
        for i in "${!args[@]}"; do
                printf 'argv %d %s\n' $((i + 1)) "$(harness_hex "${args[$i]}")"
        done
)
got=$(grep '^argv ' "$report")
[ "$want" = "$got" ]
tap_ok $? "app: argv arrives byte-exact (${#args[@]} words)" ||
        tap_diag "want:" "$want" "got:" "$got" "decoded:" "$("$probe" --decode "$report" | grep '^argv')"

bad=0
for e in "${envs[@]}"; do
        if ! grep -qxF "env $(harness_hex "$e")" "$report"; then
                tap_diag "missing env: $(printf '%q' "$e")"
                bad=1
        fi
done
[ "$bad" = 0 ]
tap_ok $? "app: env arrives byte-exact (${#envs[@]} variables)" ||
        tap_diag "$("$probe" --decode "$report" | grep '^env')"

grep -qxF "cwd $(harness_hex /)" "$report"
tap_ok $? "app: cwd is / of the app root"
grep -qxF "hostname $(harness_hex "harness-app-$sfx")" "$report"
tap_ok $? "app: hostname is the machine name"
grep -qx 'uid 0 0 0' "$report" && grep -qx 'gid 0 0 0' "$report"
tap_ok $? "app: runs as root by default"
# The app root has no /proc of its own: readable caps prove the test
# prepare-app ran and its proc mount is visible to the chrooted app.
grep -qE '^cap_bnd [0-9a-f]{16}$' "$report" && grep -qE '^seccomp [0-9]+$' "$report"
tap_ok $? "app: /proc mounted in the app root by the test prepare-app"
tap_diag "app saw: $(grep -E '^(cap_|no_new_privs|seccomp|groups)' "$report" | tr '\n' ' ')"
tap_diag "app cgroup: $("$probe" --decode "$report" | sed -n '/^cgroup /,/^end/p' | grep -E 'name=systemd|^0::|cgroup 0::' | tr '\n' ' ')"
check_clean app

# --- 3. teardown of a test that fails or is killed with a pod running --------

# A child test script: boots a pod that never ends, adds mounts under its
# work dir (one of them a bind of a directory outside it, holding a canary;
# one stacked twice on a path with a space), then, by $2:
#   exit       fails with status 3 while the pod runs;
#   signal     waits for the pod and is killed with SIGTERM;
#   killnspawn SIGKILLs nspawn first, orphaning the pod (docs/security.md, "Removing pods",
#              the "stage1 killed mid-run" case gc must handle), exits 4.
child=$HARNESS_DIR/child.sh
cat >"$child" <<CHILD
. "$HARNESS_LIB_DIR/pod-harness.sh"
state=\$1 mode=\$2 canary_dir=\$3
harness_init || exit 90
echo "\$HARNESS_DIR" >"\$state.dir"
pod=\$HARNESS_DIR/pod
s1=\$pod/stage1/rootfs
harness_make_stage1 "\$s1" || exit 91
printf '[Unit]\nWants=sleep.service\n' >"\$s1/etc/systemd/system/default.target"
printf '[Service]\nExecStart=/usr/bin/sleep 600\nExecStartPost=/usr/bin/touch /running\n' \
        >"\$s1/etc/systemd/system/sleep.service"
printf '%s\0' "$nspawn" --directory=stage1/rootfs --bind-ro=/usr --boot --register=no --keep-unit \
        --settings=no --machine="harness-child-\${HARNESS_DIR##*.}" >"\$pod/argv"
mkdir -p "\$HARNESS_DIR/mnt" "\$HARNESS_DIR/with space"
mount -t tmpfs harness-test "\$HARNESS_DIR/mnt" || exit 92
mkdir -p "\$HARNESS_DIR/mnt/bind"
mount --bind "\$canary_dir" "\$HARNESS_DIR/mnt/bind" || exit 93
mount -t tmpfs harness-test "\$HARNESS_DIR/with space" || exit 94
mount -t tmpfs harness-test "\$HARNESS_DIR/with space" || exit 95
if [ "\$mode" = signal ]; then
        harness_boot "\$pod" "\$pod/argv" 300
        exit 96
fi
harness_boot_bg "\$pod" "\$pod/argv" 300 || exit 97
for i in \$(seq 300); do
        [ -e "\$s1/running" ] && break
        sleep 0.05
done
[ -e "\$s1/running" ] || exit 98
for p in /proc/[0-9]*; do
        [ "\$p/root" -ef "\$s1" ] && printf '%s ' "\${p#/proc/}"
done >"\$state.pids"
printf '%s\n' "\${HARNESS_LOCKS[@]}" >"\$state.locks"
if [ "\$mode" = killnspawn ]; then
        # nspawn is the child of the timeout supervisor.
        for p in /proc/[0-9]*; do
                [ "\$(_harness_ppid "\${p#/proc/}")" = "\$HARNESS_BOOT_PID" ] && kill -KILL "\${p#/proc/}"
        done
        sleep 0.2
        exit 4
fi
exit 3
CHILD

# Pids of processes whose root is DIR (the pod), to check they are gone later.
pod_pids() {
        local p
        for p in /proc/[0-9]*; do
                [ "$p/root" -ef "$1" ] && printf '%s ' "${p#/proc/}"
        done
}

teardown_case() {
        local mode=$1 want_rc=$2 state=$HARNESS_DIR/state-$1 canary_dir=$HARNESS_DIR/canary-$1
        local cpid rc dir="" pids="" p i alive="" leftover_cg locks=""
        mkdir -p "$canary_dir" && echo keep >"$canary_dir/canary"
        bash "$child" "$state" "$mode" "$canary_dir" >"$state.log" 2>&1 &
        cpid=$!
        if [ "$mode" = signal ]; then
                for i in $(seq 300); do
                        dir=$(cat "$state.dir" 2>/dev/null)
                        [ -n "$dir" ] && [ -e "$dir/pod/stage1/rootfs/running" ] && break
                        sleep 0.05
                done
                pids=$(pod_pids "$dir/pod/stage1/rootfs")
                kill -TERM "$cpid"
        fi
        rc=0
        wait "$cpid" || rc=$?
        dir=$(cat "$state.dir" 2>/dev/null)
        [ "$mode" = signal ] || pids=$(cat "$state.pids" 2>/dev/null)
        [ -n "$pids" ]
        tap_ok $? "teardown ($mode): the pod was running when the test ended" || tap_diag "$(cat "$state.log")"
        [ "$rc" = "$want_rc" ]
        tap_ok $? "teardown ($mode): the test's own status is kept ($want_rc)" ||
                tap_diag "rc=$rc" "$(cat "$state.log")"
        [ -n "$dir" ] && [ ! -e "$dir" ]
        tap_ok $? "teardown ($mode): work dir removed" || tap_diag "$(cat "$state.log")"
        ! grep -qF "$dir" /proc/self/mountinfo
        tap_ok $? "teardown ($mode): no mount left under the work dir" ||
                tap_diag "$(grep -F "$dir" /proc/self/mountinfo)"
        [ "$(cat "$canary_dir/canary" 2>/dev/null)" = keep ]
        tap_ok $? "teardown ($mode): nothing deleted through a bind mount"
        for p in $pids; do
                harness_pid_alive "$p" && alive+="$p "
        done
        # nspawn runs with its cwd in the pod dir: catches a supervisor too.
        for p in /proc/[0-9]*; do
                case $(readlink "$p/cwd" 2>/dev/null) in
                "$dir" | "$dir"/*) alive+="${p#/proc/} " ;;
                *) ;;
                esac
        done
        [ -z "$alive" ]
        tap_ok $? "teardown ($mode): no pod process or nspawn left" || tap_diag "alive: $alive"
        leftover_cg=$(find /sys/fs/cgroup -maxdepth 4 -type d -name "nspawn-pod-test.${dir##*.}.*" 2>/dev/null)
        [ -z "$leftover_cg" ]
        tap_ok $? "teardown ($mode): the boot's cgroups are removed" || tap_diag "$leftover_cg"
        if [ "$mode" != signal ]; then
                while IFS= read -r p; do
                        [ -n "$p" ] && [ -e "$p" ] && locks+="$p "
                done <"$state.locks"
                [ -z "$locks" ]
                tap_ok $? "teardown ($mode): no nspawn image lock left in /run" || tap_diag "$locks"
        fi
        tap_diag "teardown ($mode) log:" "$(cat "$state.log")"
}

teardown_case exit 3
teardown_case signal 143
teardown_case killnspawn 4

tap_diag "systemd-nspawn processes on the machine now: $(pgrep -c -x systemd-nspawn)"
tap_done
