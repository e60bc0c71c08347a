#!/usr/bin/env bash
# Integration test (TAP, root): signals and terminals (docs/run.md). SIGTERM,
# SIGINT and SIGHUP sent to `run` stop the pod in order (its app gets
# SIGTERM, the run exits 0); on a terminal (a pty the test drives), input
# typed before an interactive app starts reaches it, and a window size change
# (SIGWINCH) reaches the app of `run --interactive` and the command of
# `enter -t`. The pty side waits for what the app prints, never for a time.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/pod-harness.sh
. "$here/../lib/pod-harness.sh"

harness_np_begin "signals"

# --- stop signals through run ------------------------------------------------------------

for sig in TERM INT HUP; do
        harness_np_start "$HARNESS_DIR/sig$sig.log" run --uuid-file-save="$HARNESS_DIR/sig$sig.uuid" --net=none "$bb" \
                --name=app --exec=/bin/sh -- -c 'trap "echo got-TERM; exit 0" TERM; while :; do sleep 1; done'
        pid=$HARNESS_NP_PID
        harness_np_wait_for "$HARNESS_DIR/sig$sig.uuid" 60
        uuid=$(head -n 1 "$HARNESS_DIR/sig$sig.uuid" 2>/dev/null)
        HARNESS_NP_UUIDS+=("$uuid")
        harness_np_run status --wait-ready=60s "$uuid" >/dev/null 2>&1
        kill -"$sig" "$pid"
        harness_np_wait "$pid" 120
        rc=$?
        end=$(harness_np_run status "$uuid" | sed -n 's/^app-app.end=//p')
        [ "$rc" = 0 ] && grep -q got-TERM "$HARNESS_DIR/sig$sig.log" && [ "$end" = "exited 0" ]
        tap_ok $? "SIG$sig to run: the app gets SIGTERM (orderly stop), run exits 0" ||
                tap_diag "rc $rc end '$end'" "$(tail -n 15 "$HARNESS_DIR/sig$sig.log")"
done

# --- terminals ------------------------------------------------------------------------------

# drive-pty.py CMD…: runs CMD on a new pty of 30x100; types "early" at once; when
# CMD prints READY, resizes to 40x120 (SIGWINCH) and types "go"; prints all
# CMD wrote; exits when it prints DONE or ends.
cat >"$HARNESS_DIR/drive-pty.py" <<'EOF'
import fcntl, os, pty, select, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
os.write(fd, b"early\n")
out, resized = b"", False
while b"DONE" not in out:
    r, _, _ = select.select([fd], [], [], 120)
    if not r:
        break
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
    if b"READY" in out and not resized:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        resized = True
        os.write(fd, b"go\n")
try:
    os.waitpid(pid, 0)
except ChildProcessError:
    pass
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
EOF

timeout -k 10 180 python3 "$HARNESS_DIR/drive-pty.py" nsenter --net="/run/netns/$HARNESS_NETNS" "$HARNESS_NP" \
        --dir="$HARNESS_NP_DATA" run --uuid-file-save="$HARNESS_DIR/tty.uuid" --net=none --interactive "$bb" \
        --exec=/bin/sh -- -c 'read a; echo "first=$a"; stty size; echo READY; read b; stty size; echo DONE' \
        >"$HARNESS_DIR/tty.out" 2>&1
HARNESS_NP_UUIDS+=("$(head -n 1 "$HARNESS_DIR/tty.uuid" 2>/dev/null)")
grep -qx 'first=early' "$HARNESS_DIR/tty.out"
tap_ok $? "run --interactive: a line typed before the app started reaches it" || tap_diag "$(cat "$HARNESS_DIR/tty.out")"
grep -qx '30 100' "$HARNESS_DIR/tty.out" && grep -qx '40 120' "$HARNESS_DIR/tty.out"
tap_ok $? "run --interactive: the app's terminal is the caller's size (30x100), and follows a resize (SIGWINCH: 40x120)" ||
        tap_diag "$(cat "$HARNESS_DIR/tty.out")"

harness_np_start "$HARNESS_DIR/long.log" run --uuid-file-save="$HARNESS_DIR/long.uuid" --net=none "$bb" --name=long \
        --exec=/bin/sleep -- 600
long_pid=$HARNESS_NP_PID
harness_np_wait_for "$HARNESS_DIR/long.uuid" 60
long=$(head -n 1 "$HARNESS_DIR/long.uuid" 2>/dev/null)
HARNESS_NP_UUIDS+=("$long")
harness_np_run status --wait-ready=60s "$long" >/dev/null 2>&1
timeout -k 10 120 python3 "$HARNESS_DIR/drive-pty.py" nsenter --net="/run/netns/$HARNESS_NETNS" "$HARNESS_NP" \
        --dir="$HARNESS_NP_DATA" enter -t "$long" /bin/sh -c 'read a; stty size; echo READY; read b; stty size; echo DONE' \
        >"$HARNESS_DIR/enter-tty.out" 2>&1
grep -qx '30 100' "$HARNESS_DIR/enter-tty.out" && grep -qx '40 120' "$HARNESS_DIR/enter-tty.out"
tap_ok $? "enter -t: the command's terminal follows a resize (SIGWINCH: 30x100, then 40x120)" ||
        tap_diag "$(cat "$HARNESS_DIR/enter-tty.out")"
harness_np_stop_pod "$long" "$long_pid"

left=$(harness_np_leftovers)
[ -z "$left" ]
tap_ok $? "nothing left: no process, mount, cgroup of the test's pods" || tap_diag "$left"
tap_done
