/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Placeholder until this verb lands (issue 4); replaced by its implementation. */
#include <stdio.h>

#include "verbs.h"

int verb_enter(int argc, char *argv[], const GlobalOptions *g) {
        fprintf(stderr, "nspawn-pod: enter is not implemented yet\n");
        return EXIT_INTERNAL;
}
