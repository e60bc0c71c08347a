# shellcheck shell=bash
# Minimal TAP producer for the shell tests (sourced). tests/run-all counts
# "ok N", "not ok N" and "# SKIP" lines; the plan comes last, so a test may
# decide at run time how many checks it makes.

TAP_N=0
TAP_FAILED=0

# tap_ok RC NAME: RC 0 is a pass. Lets a test write `tap_ok $? "name"` or
# `[ "$a" = "$b" ]; tap_ok $? "name"`.
tap_ok() {
        local rc=$1
        shift
        TAP_N=$((TAP_N + 1))
        if [ "$rc" = 0 ]; then
                printf 'ok %d - %s\n' "$TAP_N" "$*"
        else
                printf 'not ok %d - %s\n' "$TAP_N" "$*"
                TAP_FAILED=$((TAP_FAILED + 1))
        fi
        return "$rc"
}

tap_skip() {
        local name=$1 reason=$2
        TAP_N=$((TAP_N + 1))
        printf 'ok %d - %s # SKIP %s\n' "$TAP_N" "$name" "$reason"
}

# tap_diag TEXT...: comment lines, prefixed so they cannot look like results.
tap_diag() {
        printf '%s\n' "$@" | sed 's/^/# /'
}

# tap_done: prints the plan and returns 1 if anything failed (use as the
# script's last command, or `tap_done; exit $?`).
tap_done() {
        printf '1..%d\n' "$TAP_N"
        [ "$TAP_FAILED" = 0 ]
}
