/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The one exit-code vocabulary of the command, the stage1 entrypoints and
 * the helpers (docs/exit-codes.md). Where a program passes another's status
 * through (run: the pod's; enter: the command's), these are what it adds.
 */

enum {
        EXIT_OK = 0,
        EXIT_INVALID = 1,         /* bad input: a manifest, an option value, a pod reference, an unsafe image */
        EXIT_USAGE = 2,           /* a wrong command line */
        EXIT_TIMEOUT = 124,       /* a --wait ran out (as timeout(1)) */
        EXIT_CANNOT_EXECUTE = 126, /* enter: the command exists but cannot be executed */
        EXIT_NOT_FOUND = 127,     /* enter: no such command */
        EXIT_INTERNAL = 254,      /* our own failure (rkt's code for its own errors) */
};
