/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* A boolean as Go's flag package reads one, which is how rkt's stage0 and
 * its stage1 entrypoints spell them ("--debug", "--debug=false"): "1", "t",
 * "T", "true", "TRUE", "True" and "0", "f", "F", "false", "FALSE", "False".
 * NULL (a flag without a value) is true. 1, 0, or -EINVAL. */
int parse_go_bool(const char *s);

/* A duration: "0", "90" (seconds), or numbers with units, "500ms", "30s",
 * "10m", "2h", "1d", also combined ("1h30m"). -EINVAL if malformed, -ERANGE
 * if too large. */
int parse_duration(const char *s, uint64_t *ret_usec);

/* A point in time for --since/--until, as µs since the epoch: "now",
 * "today", "yesterday", "tomorrow" (local midnight); "@SECONDS"; a date and
 * time "YYYY-MM-DD[ HH:MM[:SS[.FRACTION]]]" ('T' also separates them), in
 * local time unless followed by "Z" or an offset "+hh:mm" (so what status
 * prints is accepted); a duration before or after now, "-10m", "+1h", or
 * "10m ago". -EINVAL if malformed, -ERANGE if out of range. */
int parse_timestamp(const char *s, uint64_t *ret_usec);

/* A decimal number, digits only (no sign, no blanks, nothing after it):
 * 0 or -EINVAL (also when it does not fit). */
int parse_uint64(const char *s, uint64_t *ret);
