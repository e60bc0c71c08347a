/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <time.h>

#include "time-util.h"

char *time_format(const struct timespec *t, char buf[static 64]) {
        struct tm tm;
        char date[32], zone[8];
        time_t s = t->tv_sec;

        buf[0] = 0;
        if (t->tv_sec == 0 || !localtime_r(&s, &tm))
                return buf;
        if (strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0 || strftime(zone, sizeof(zone), "%z", &tm) != 5)
                return buf;
        /* RFC 3339 wants the offset as +hh:mm. */
        (void) snprintf(buf, 64, "%s.%03ld%.3s:%.2s", date, t->tv_nsec / 1000000, zone, zone + 3);
        return buf;
}
