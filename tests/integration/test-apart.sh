#!/usr/bin/env bash
# Integration test (TAP, root): how far the apps of one pod are apart
# (docs/security.md, "Apps of one pod"). Beside a root app (the victim) that
# keeps a file in its root, other apps of the same pod try to reach it
# through /proc/<victim's pid>/root: one as another user, one as root with
# fewer capabilities; the kernel refuses both. A third, root with the same
# capabilities, does reach it: the limit docs/security.md states, and the
# proof that the check can tell. Two apps of user 1000 (no_new_privs, as
# systemd gives non-root apps with a filter) are apart: each is in a Landlock
# domain of its own (app-stdio -a). The shared network stays shared.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

harness_np_begin "apps apart"

# Each peer finds the victim (cmdline exactly "sleep $2") in its /proc and
# tries its root.
try='victim=""
until [ -n "$victim" ]; do
        for p in /proc/[0-9]*; do
                [ "$(tr "\0" " " <$p/cmdline 2>/dev/null)" = "sleep $2 " ] && victim=$p
        done
        [ -n "$victim" ] || sleep 0.2
done
if cat $victim/root/secret >/dev/null 2>&1 || ls $victim/root/ >/dev/null 2>&1; then echo "$1=reached"; else echo "$1=refused"; fi
echo "$1=done"'
harness_np_run_pod apart --net=none \
        "$bb" --name=victim --exec=/bin/sh -- -c 'echo s3cret >/secret; nc -l -p 7000 -e /bin/echo shared-net & exec sleep 600' \
        --- "$bb" --name=other-user --user=1000 --group=1000 --exec=/bin/sh -- -c "$try"'; nc 127.0.0.1 7000 </dev/null' x other-user 600 \
        --- "$bb" --name=fewer-caps --caps-retain=CAP_KILL --exec=/bin/sh -- -c "$try" x fewer-caps 600 \
        --- "$bb" --name=same --exec=/bin/sh -- -c "$try" x same 600 \
        --- "$bb" --name=victim2 --user=1000 --group=1000 --exec=/bin/sh -- -c 'echo s3cret >/tmp/secret; exec sleep 601' \
        --- "$bb" --name=same-user --user=1000 --group=1000 --exec=/bin/sh -- -c "$try" x same-user 601 &
wait_pid=$!
# The victim never ends by itself: stop the pod once both peers reported.
for ((i = 0; i < 600; i++)); do
        n=$(grep -c '=done' "$HARNESS_DIR/apart.out" 2>/dev/null)
        [ "${n:-0}" -ge 4 ] && break
        sleep 0.1
done
uuid=$(head -n 1 "$HARNESS_DIR/apart.uuid" 2>/dev/null)
[ -n "$uuid" ] && HARNESS_NP_UUIDS+=("$uuid") && harness_np_run stop "$uuid" >/dev/null 2>&1
wait "$wait_pid"
out=$(sed -E 's/^[a-z0-9-]+\[[0-9]+\]: //; s/\r$//' "$HARNESS_DIR/apart.out")
grep -qx 'other-user=refused' <<<"$out" && ! grep -q 'other-user=reached' <<<"$out"
tap_ok $? "an app running as another user cannot reach a root app's root through /proc/<pid>/root" || tap_diag "$out"
grep -qx 'fewer-caps=refused' <<<"$out" && ! grep -q 'fewer-caps=reached' <<<"$out"
tap_ok $? "a root app with fewer capabilities cannot reach it either" || tap_diag "$out"
grep -qx 'same=reached' <<<"$out"
tap_ok $? "the documented limit, and the check's control: a root app with the same capabilities does reach it" ||
        tap_diag "$out"
grep -qx 'same-user=refused' <<<"$out" && ! grep -q 'same-user=reached' <<<"$out"
tap_ok $? "two apps of the same user 1000 (no_new_privs): each in a Landlock domain of its own, one cannot reach the other's root" ||
        tap_diag "$out"
grep -qx 'shared-net' <<<"$out"
tap_ok $? "what apps share stays shared: the pod's network (a peer reaches the victim's loopback port)" || tap_diag "$out"

left=$(harness_np_leftovers)
[ -z "$left" ]
tap_ok $? "nothing left: no process, mount, cgroup of the test's pods" || tap_diag "$left"
tap_done
