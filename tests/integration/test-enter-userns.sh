#!/usr/bin/env bash
# Integration test (TAP, root): `nspawn-pod enter` with full parity in a pod
# with a user namespace of its own (run --private-users, docs/enter.md):
# test-enter.sh's every check, on such a pod.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ENTER_TEST_USERNS=1 exec bash "$here/test-enter.sh" "$@"
