#!/usr/bin/env bash
# Integration test (TAP, root): readiness (docs/lifecycle.md, "Readiness").
# An app whose image says it supports sd_notify runs as Type=notify; the pod
# is ready (its /rkt/supervisor-status -> ready) once every app is;
# `status --wait-ready` waits for that, and nspawn (--notify-ready=yes) tells
# the service manager of the run (its NOTIFY_SOCKET) at the same time. The
# test decides when the app is ready (the probe's --notify-when=FILE), so
# "not ready before" is checked without any timing: the app cannot have
# said READY=1 before the file exists. Then a socket-activated echo server
# (the pod's systemd listens, the app gets the socket) answers a client.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

harness_np_begin "readiness"
"$HARNESS_SRC_ROOT/tests/images/build-probe" "$images" >>"$HARNESS_DIR/images.log" 2>&1
tap_ok $? "probe image builds" || harness_bail "$(cat "$HARNESS_DIR/images.log")"
cp -a "$images/probe" "$images/notify" && python3 - "$images/notify/manifest" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["name"] = "example.com/notify"
m.setdefault("annotations", []).append({"name": "appc.io/executor/supports-systemd-notify", "value": "true"})
json.dump(m, open(sys.argv[1], "w"))
EOF
tap_ok $? "an image that says it supports sd_notify" || harness_bail "cannot make the notify image"

# The run's own service manager, as a Type=notify host service would have
# it: a datagram socket the test reads.
notify_sock=$HARNESS_DIR/host-notify.sock
python3 - "$notify_sock" "$HARNESS_DIR/host-notify.log" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as log:
    while True:
        log.write(s.recv(4096) + b"\n")
EOF
listener=$!
HARNESS_PIDS+=("$listener")
harness_np_wait_for "$notify_sock" 10

NOTIFY_SOCKET=$notify_sock harness_np_start "$HARNESS_DIR/notify.log" run --uuid-file-save="$HARNESS_DIR/notify.uuid" \
        --net=none "$images/notify" --name=slow --exec=/probe -- --notify-when=/tmp/go \
        --- "$bb" --name=quick --exec=/bin/sleep -- 600
run_pid=$HARNESS_NP_PID
harness_np_wait_for "$HARNESS_DIR/notify.uuid" 60
uuid=$(head -n 1 "$HARNESS_DIR/notify.uuid" 2>/dev/null)
HARNESS_NP_UUIDS+=("$uuid")
pod=$(harness_np_pod_dir "$uuid")

harness_np_capture early status --wait-ready=1s "$uuid"
[ "$RC" = 124 ] && grep -q '^state=running$' "$HARNESS_DIR/early.out" &&
        [ ! -e "$pod/stage1/rootfs/rkt/supervisor-status" ]
tap_ok $? "before the notify app is ready: status --wait-ready=1s times out (124), no supervisor-status" ||
        harness_np_diag early
grep -q 'READY=1' "$HARNESS_DIR/host-notify.log" 2>/dev/null
tap_ok $((1 - $?)) "before the app is ready, the run's service manager has no READY=1" ||
        tap_diag "$(cat "$HARNESS_DIR/host-notify.log")"

touch "$pod/stage1/rootfs/opt/stage2/slow/rootfs/tmp/go"
harness_np_capture ready status --wait-ready=60s "$uuid"
[ "$RC" = 0 ] && [ "$(readlink "$pod/stage1/rootfs/rkt/supervisor-status")" = ready ]
tap_ok $? "once it says READY=1: status --wait-ready returns 0, /rkt/supervisor-status -> ready" || harness_np_diag ready
for ((i = 0; i < 300; i++)); do
        grep -q 'READY=1' "$HARNESS_DIR/host-notify.log" 2>/dev/null && break
        sleep 0.1
done
grep -q 'READY=1' "$HARNESS_DIR/host-notify.log"
tap_ok $? "nspawn --notify-ready=yes: the run's NOTIFY_SOCKET gets READY=1" || tap_diag "$(cat "$HARNESS_DIR/host-notify.log" 2>&1)"

harness_np_stop_pod "$uuid" "$run_pid"
[ ! -e "$pod/stage1/rootfs/rkt/supervisor-status" ]
tap_ok $? "an orderly stop removes supervisor-status" || tap_diag "$(ls -l "$pod/stage1/rootfs/rkt")"

# A pod that ends before it is ready.
harness_np_start "$HARNESS_DIR/never.log" run --uuid-file-save="$HARNESS_DIR/never.uuid" --net=none "$images/notify" \
        --name=never --exec=/probe -- --notify-when=/tmp/never
never_pid=$HARNESS_NP_PID
harness_np_wait_for "$HARNESS_DIR/never.uuid" 60
never=$(head -n 1 "$HARNESS_DIR/never.uuid" 2>/dev/null)
HARNESS_NP_UUIDS+=("$never")
# The UUID is saved while the pod is still being prepared, when stop refuses
# it ("not running"): until it takes.
for ((i = 0; i < 600; i++)); do
        harness_np_run stop "$never" >/dev/null 2>&1 && break
        harness_pid_alive "$never_pid" || break
        sleep 0.1
done
harness_np_capture gone status --wait-ready=60s "$never"
[ "$RC" = 3 ] && grep -q 'ended before it was ready' "$HARNESS_DIR/gone.err"
tap_ok $? "a pod stopped before it is ready: status --wait-ready exits 3, saying so" || harness_np_diag gone
harness_np_wait "$never_pid" 60 >/dev/null 2>&1

harness_np_capture both status --wait --wait-ready "$never"
[ "$RC" = 2 ]
tap_ok $? "--wait with --wait-ready is a usage error" || harness_np_diag both

# --- socket activation ----------------------------------------------------------------

# An image whose port "echo" (5000) is socket-activated: the pod's systemd
# listens (echo.socket) and hands the socket to the app, which refuses to
# run without it (the probe's --echo-activated wants LISTEN_FDS=1).
cp -a "$images/probe" "$images/echo" && python3 - "$images/echo/manifest" <<'EOF2'
import json, sys
m = json.load(open(sys.argv[1]))
m["name"] = "example.com/echo"
m["app"]["ports"] = [{"name": "echo", "protocol": "tcp", "port": 5000, "socketActivated": True}]
json.dump(m, open(sys.argv[1], "w"))
EOF2
harness_np_start "$HARNESS_DIR/echo.log" run --uuid-file-save="$HARNESS_DIR/echo.uuid" "$images/echo" --name=echo \
        --exec=/probe -- --echo-activated
echo_pid=$HARNESS_NP_PID
harness_np_wait_for "$HARNESS_DIR/echo.uuid" 60
echo_uuid=$(head -n 1 "$HARNESS_DIR/echo.uuid" 2>/dev/null)
HARNESS_NP_UUIDS+=("$echo_uuid")
harness_np_run status --wait-ready=60s "$echo_uuid" >/dev/null 2>&1
ip=$(harness_np_run status --format=json "$echo_uuid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["networks"][0]["addresses"][0].split("/")[0])' 2>/dev/null)
answer=$(harness_in_net python3 - "$ip" <<'EOF2' 2>&1
import socket, sys
s = socket.create_connection((sys.argv[1], 5000), timeout=30)
s.sendall(b"hello, socket-activated app\n")
print(s.recv(100).decode().strip())
EOF2
)
[ "$answer" = "hello, socket-activated app" ]
tap_ok $? "a socket-activated echo server (port 5000, LISTEN_FDS from the pod's echo.socket) answers a client at $ip" ||
        tap_diag "answer: $answer" "$(tail -n 20 "$HARNESS_DIR/echo.log")"
harness_np_stop_pod "$echo_uuid" "$echo_pid"

# The host's listening socket: systemd-socket-activate (as a host socket unit
# would) listens on port 5000 ([::]:5000, the address of the pod's
# echo.socket, ListenStream=5000) in the test's network namespace and starts
# the pod at the first connection, handing it the socket (LISTEN_FDS); the
# pod has a network namespace of its own (--net=none), so the only way the
# client's bytes reach the app is through that very socket.
if command -v systemd-socket-activate >/dev/null 2>&1; then
        harness_in_net ip link set lo up
        rm -f "$HARNESS_DIR/sa.uuid"
        setsid nsenter --net="/run/netns/$HARNESS_NETNS" systemd-socket-activate -l 5000 -- \
                "$HARNESS_NP" --dir="$HARNESS_NP_DATA" run --uuid-file-save="$HARNESS_DIR/sa.uuid" --net=none \
                "$images/echo" --name=echo --exec=/probe -- --echo-activated </dev/null >"$HARNESS_DIR/sa.log" 2>&1 &
        sa_pid=$!
        HARNESS_PIDS+=("$sa_pid")
        answer=""
        for ((i = 0; i < 100; i++)); do
                answer=$(harness_in_net python3 - <<'EOF2' 2>&1
import socket
s = socket.create_connection(("127.0.0.1", 5000), timeout=5)
s.sendall(b"through the host's socket\n")
s.settimeout(30)
print(s.recv(100).decode().strip())
EOF2
                ) && break
                # Only until systemd-socket-activate listens: once connected,
                # one answer or none.
                case $answer in *"Connection refused"*) ;; *) break ;; esac
                sleep 0.1
        done
        sa_uuid=$(head -n 1 "$HARNESS_DIR/sa.uuid" 2>/dev/null)
        [ -n "$sa_uuid" ] && HARNESS_NP_UUIDS+=("$sa_uuid")
        [ "$answer" = "through the host's socket" ]
        tap_ok $? "the host's listening socket reaches the app: a client's first connection starts the pod (--net=none), which answers through that socket" ||
                tap_diag "answer: $answer" "$(tail -n 20 "$HARNESS_DIR/sa.log")"
        harness_np_stop_pod "$sa_uuid" "$sa_pid"
else
        tap_skip "the host's listening socket" "systemd-socket-activate not installed"
fi

left=$(harness_np_leftovers)
[ -z "$left" ]
tap_ok $? "nothing left: no process, mount, cgroup of the test's pods" || tap_diag "$left"
tap_done
