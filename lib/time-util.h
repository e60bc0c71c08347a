/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <time.h>

/* RFC 3339 in local time with milliseconds ("2025-01-02T15:04:05.123+01:00"),
 * or "" for an unknown time (tv_sec == 0). */
char *time_format(const struct timespec *t, char buf[static 64]);
