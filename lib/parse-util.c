/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "parse-util.h"

int parse_go_bool(const char *s) {
        static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
        static const char *const no[] = { "0", "f", "F", "false", "FALSE", "False" };

        if (!s)
                return 1;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcmp(s, yes[i]) == 0)
                        return 1;
                if (strcmp(s, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

int parse_duration(const char *s, uint64_t *ret_usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                /* Longest first: "ms" before "m". */
                { "ms", 1000ULL },        { "s", 1000000ULL },          { "min", 60000000ULL },
                { "m", 60000000ULL },     { "h", 3600000000ULL },        { "d", 86400000000ULL },
        };
        uint64_t total = 0;
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;
        while (*p) {
                uint64_t v = 0, unit = 1000000ULL; /* a bare number is seconds */
                const char *start = p;
                size_t k;

                for (; *p >= '0' && *p <= '9'; p++) {
                        if (v > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
                                return -ERANGE;
                        v = v * 10 + (uint64_t) (*p - '0');
                }
                if (p == start)
                        return -EINVAL;
                if (*p) {
                        for (k = 0; k < ELEMENTSOF(units); k++)
                                if (strncmp(p, units[k].suffix, strlen(units[k].suffix)) == 0)
                                        break;
                        if (k == ELEMENTSOF(units))
                                return -EINVAL;
                        unit = units[k].usec;
                        p += strlen(units[k].suffix);
                } else if (start != s)
                        return -EINVAL; /* "1m30": a unit is missing */
                if (v > (UINT64_MAX - total) / unit)
                        return -ERANGE;
                total += v * unit;
        }
        *ret_usec = total;
        return 0;
}

/* Exactly `n` digits at *p, advanced past them. */
static int take_digits(const char **p, int n, int *ret) {
        int v = 0;

        for (int i = 0; i < n; i++) {
                if ((*p)[i] < '0' || (*p)[i] > '9')
                        return -EINVAL;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return 0;
}

static uint64_t now_realtime_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static int local_midnight(int days, uint64_t *ret) {
        time_t t = time(NULL);
        struct tm tm;

        if (!localtime_r(&t, &tm))
                return -EINVAL;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_mday += days;
        tm.tm_isdst = -1;
        t = mktime(&tm);
        if (t == (time_t) -1 || t < 0)
                return -ERANGE;
        *ret = (uint64_t) t * 1000000ULL;
        return 0;
}

static int parse_date_time(const char *p, uint64_t *ret) {
        struct tm tm = { .tm_isdst = -1 };
        int year, mon, day, h = 0, m = 0, sec = 0, oh, om;
        uint64_t frac = 0, scale = 1000000ULL;
        bool zone = false;
        long off = 0;
        time_t t;

        if (take_digits(&p, 4, &year) < 0 || *p++ != '-' || take_digits(&p, 2, &mon) < 0 || *p++ != '-' ||
            take_digits(&p, 2, &day) < 0)
                return -EINVAL;
        if (*p == ' ' || *p == 'T') {
                p++;
                if (take_digits(&p, 2, &h) < 0 || *p++ != ':' || take_digits(&p, 2, &m) < 0)
                        return -EINVAL;
                if (*p == ':') {
                        p++;
                        if (take_digits(&p, 2, &sec) < 0)
                                return -EINVAL;
                        if (*p == '.') {
                                p++;
                                if (*p < '0' || *p > '9')
                                        return -EINVAL;
                                for (; *p >= '0' && *p <= '9'; p++)
                                        if (scale > 1) {
                                                scale /= 10;
                                                frac += (uint64_t) (*p - '0') * scale;
                                        }
                        }
                }
        }
        if (*p == 'Z') {
                zone = true;
                p++;
        } else if (*p == '+' || *p == '-') {
                int sign = *p++ == '-' ? -1 : 1;

                if (take_digits(&p, 2, &oh) < 0)
                        return -EINVAL;
                if (*p == ':')
                        p++;
                if (take_digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
                        return -EINVAL;
                zone = true;
                off = sign * (oh * 3600L + om * 60L);
        }
        if (*p || mon < 1 || mon > 12 || day < 1 || day > 31 || h > 23 || m > 59 || sec > 60 || year < 1970)
                return -EINVAL;
        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = h;
        tm.tm_min = m;
        tm.tm_sec = sec;
        if (zone) {
                t = timegm(&tm);
                if (t != (time_t) -1)
                        t -= off;
        } else
                t = mktime(&tm);
        if (t == (time_t) -1 || t < 0)
                return -ERANGE;
        *ret = (uint64_t) t * 1000000ULL + frac;
        return 0;
}

int parse_timestamp(const char *s, uint64_t *ret_usec) {
        uint64_t now = now_realtime_usec(), d;
        size_t n;
        int r;

        if (!s || !*s)
                return -EINVAL;
        if (strcmp(s, "now") == 0) {
                *ret_usec = now;
                return 0;
        }
        if (strcmp(s, "today") == 0)
                return local_midnight(0, ret_usec);
        if (strcmp(s, "yesterday") == 0)
                return local_midnight(-1, ret_usec);
        if (strcmp(s, "tomorrow") == 0)
                return local_midnight(1, ret_usec);
        if (s[0] == '@') {
                char *end;
                unsigned long long v;

                if (s[1] < '0' || s[1] > '9')
                        return -EINVAL;
                errno = 0;
                v = strtoull(s + 1, &end, 10);
                if (errno != 0 || *end != 0 || v > UINT64_MAX / 1000000ULL)
                        return errno == ERANGE || *end == 0 ? -ERANGE : -EINVAL;
                *ret_usec = v * 1000000ULL;
                return 0;
        }
        if (s[0] == '-' || s[0] == '+') {
                r = parse_duration(s + 1, &d);
                if (r < 0)
                        return r;
                if (s[0] == '-')
                        *ret_usec = d > now ? 0 : now - d;
                else if (d > UINT64_MAX - now)
                        return -ERANGE;
                else
                        *ret_usec = now + d;
                return 0;
        }
        n = strlen(s);
        if (n > 4 && strcmp(s + n - 4, " ago") == 0) {
                _cleanup_free_ char *dur = strndup(s, n - 4);

                if (!dur)
                        return -ENOMEM;
                r = parse_duration(dur, &d);
                if (r < 0)
                        return r;
                *ret_usec = d > now ? 0 : now - d;
                return 0;
        }
        return parse_date_time(s, ret_usec);
}

int parse_uint64(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}
