/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A boolean as Go's flag package reads one, which is how rkt's stage0 and
 * its stage1 entrypoints spell them ("--debug", "--debug=false"): "1", "t",
 * "T", "true", "TRUE", "True" and "0", "f", "F", "false", "FALSE", "False".
 * NULL (a flag without a value) is true. 1, 0, or -EINVAL. */
int parse_go_bool(const char *s);
