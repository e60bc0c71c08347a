/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_lower_hex(char c) {
        return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* appc's validator checks the character set and the edges only, so "a--b" is
 * an ACName even though the documented regex would refuse it; we follow the
 * validator, which is what every existing manifest was checked against. */
bool acname_is_valid(const char *s) {
        size_t n;

        if (!s || !*s)
                return false;
        for (const char *p = s; *p; p++)
                if (!is_lower_alnum(*p) && *p != '-')
                        return false;
        n = strlen(s);
        return s[0] != '-' && s[n - 1] != '-';
}

bool acidentifier_is_valid(const char *s) {
        static const char edges[] = "-._~/";
        size_t n;

        if (!s || !*s)
                return false;
        for (const char *p = s; *p; p++)
                if (!is_lower_alnum(*p) && !strchr(edges, *p))
                        return false;
        n = strlen(s);
        return !strchr(edges, s[0]) && !strchr(edges, s[n - 1]);
}

/* A SemVer numeric identifier: "0" or no leading zero, and (like the Go
 * library appc uses) small enough for an int64. Advances *p past it and
 * reports whether it was zero. */
static bool semver_number(const char **p, bool *ret_zero) {
        const char *s = *p;
        unsigned long long v = 0;

        if (!is_digit(*s))
                return false;
        if (s[0] == '0' && is_digit(s[1]))
                return false;
        for (; is_digit(*s); s++) {
                if (v > (9223372036854775807ULL - (unsigned) (*s - '0')) / 10)
                        return false;
                v = v * 10 + (unsigned) (*s - '0');
        }
        *ret_zero = v == 0;
        *p = s;
        return true;
}

/* Dot-separated non-empty identifiers of [0-9A-Za-z-]; in a pre-release an
 * all-digit identifier must not have a leading zero (SemVer 2.0.0 §9). */
static bool semver_identifiers(const char **p, bool prerelease) {
        const char *s = *p;

        for (;;) {
                const char *start = s;
                bool numeric = true;

                for (; is_digit(*s) || is_alpha(*s) || *s == '-'; s++)
                        if (!is_digit(*s))
                                numeric = false;
                if (s == start)
                        return false;
                if (prerelease && numeric && s - start > 1 && start[0] == '0')
                        return false;
                if (*s != '.')
                        break;
                s++;
        }
        *p = s;
        return true;
}

bool semver_is_valid(const char *s) {
        bool z1, z2, z3, extra = false;

        if (!s)
                return false;
        if (!semver_number(&s, &z1) || *s++ != '.')
                return false;
        if (!semver_number(&s, &z2) || *s++ != '.')
                return false;
        if (!semver_number(&s, &z3))
                return false;
        if (*s == '-') {
                s++;
                if (!semver_identifiers(&s, true))
                        return false;
                extra = true;
        }
        if (*s == '+') {
                s++;
                if (!semver_identifiers(&s, false))
                        return false;
                extra = true;
        }
        if (*s)
                return false;
        /* appc refuses the zero version; like its Go library we only count
         * the bare "0.0.0" as zero ("0.0.0-rc1" is a real version). */
        return !(z1 && z2 && z3 && !extra);
}

bool image_id_is_valid(const char *s) {
        const char *p;

        if (!s || strncmp(s, "sha512-", 7) != 0)
                return false;
        p = s + 7;
        if (!*p)
                return false;
        /* Lower-case hex only: that also rules out a second '-'. */
        for (; *p; p++)
                if (!is_lower_hex(*p))
                        return false;
        return true;
}

bool env_name_is_valid(const char *s) {
        if (!s || !(is_alpha(*s) || *s == '_'))
                return false;
        for (s++; *s; s++)
                if (!(is_alpha(*s) || is_digit(*s) || *s == '_' || *s == '.' || *s == '-'))
                        return false;
        return true;
}

bool utf8_is_valid(const char *str, size_t n) {
        const unsigned char *s = (const unsigned char *) str;
        size_t i = 0;

        if (!s)
                return n == 0;
        while (i < n) {
                unsigned char c = s[i];
                unsigned cp, len;

                if (c == 0)
                        return false;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        len = 2;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        len = 3;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        len = 4;
                        cp = c & 0x07;
                } else
                        return false; /* continuation byte, 0xc0/0xc1 overlong leads, > U+10FFFF */
                if (n - i < len)
                        return false;
                for (unsigned k = 1; k < len; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
                        return false; /* overlong */
                if (cp >= 0xd800 && cp <= 0xdfff)
                        return false; /* UTF-16 surrogate */
                if (cp > 0x10ffff)
                        return false;
                i += len;
        }
        return true;
}

bool path_is_absolute(const char *s) {
        return s && s[0] == '/';
}

/* Reads exactly `n` digits. */
static bool digits(const char **p, unsigned n, unsigned *ret) {
        unsigned v = 0;

        for (unsigned i = 0; i < n; i++) {
                if (!is_digit((*p)[i]))
                        return false;
                v = v * 10 + (unsigned) ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

static unsigned days_in_month(unsigned year, unsigned month) {
        static const unsigned days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

        return month == 2 && leap ? 29 : days[month - 1];
}

/* RFC 3339 §5.6 date-time, with the field ranges Go's time.Parse (which appc
 * uses) enforces: no leap second, day checked against the month. Upper-case
 * 'T' and 'Z' only, as in Go. */
bool rfc3339_is_valid(const char *s) {
        unsigned year, month, day, hour, min, sec, oh, om;

        if (!s)
                return false;
        if (!digits(&s, 4, &year) || *s++ != '-' || !digits(&s, 2, &month) || *s++ != '-' ||
            !digits(&s, 2, &day) || *s++ != 'T' || !digits(&s, 2, &hour) || *s++ != ':' ||
            !digits(&s, 2, &min) || *s++ != ':' || !digits(&s, 2, &sec))
                return false;
        if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
                return false;
        if (hour > 23 || min > 59 || sec > 59)
                return false;
        if (*s == '.') {
                s++;
                if (!is_digit(*s))
                        return false;
                while (is_digit(*s))
                        s++;
        }
        if (*s == 'Z')
                return s[1] == 0;
        if (*s != '+' && *s != '-')
                return false;
        s++;
        if (!digits(&s, 2, &oh) || *s++ != ':' || !digits(&s, 2, &om))
                return false;
        return *s == 0 && oh <= 23 && om <= 59;
}

/* Characters allowed in the authority part (RFC 3986 unreserved, sub-delims,
 * ':' for the port, '@' for user info, brackets for IPv6, '%' escapes). */
static bool is_authority_char(char c) {
        return is_alpha(c) || is_digit(c) || (c && strchr("-._~!$&'()*+,;=:@[]%", c));
}

bool http_url_is_valid(const char *s) {
        const char *host;

        if (!s)
                return false;
        /* URL schemes are case-insensitive (RFC 3986 §3.1); Go lower-cases them too. */
        if (strncasecmp(s, "http://", 7) == 0)
                host = s + 7;
        else if (strncasecmp(s, "https://", 8) == 0)
                host = s + 8;
        else
                return false;
        if (!is_authority_char(*host))
                return false;
        for (const char *p = host; *p && *p != '/' && *p != '?' && *p != '#'; p++)
                if (!is_authority_char(*p))
                        return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

bool ipv4_is_valid(const char *s) {
        if (!s)
                return false;
        for (int part = 0; part < 4; part++) {
                unsigned v = 0, n = 0;

                if (part > 0 && *s++ != '.')
                        return false;
                for (; is_digit(*s) && n < 4; s++, n++)
                        v = v * 10 + (unsigned) (*s - '0');
                /* No leading zeros: "010" is octal to inet_aton but decimal to
                 * others, so refuse the ambiguity (Go does too). */
                if (n == 0 || n > 3 || v > 255 || (n > 1 && s[-(int) n] == '0'))
                        return false;
        }
        return *s == 0;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int uuid_parse(const char *s, uint8_t ret[16]) {
        uint8_t id[16] = {};
        unsigned n = 0;
        bool zero = true;

        if (!s)
                return -EINVAL;
        /* Like appc's NewUUID: dashes anywhere are dropped, then exactly 32 hex digits. */
        for (; *s; s++) {
                int v;

                if (*s == '-')
                        continue;
                v = unhex(*s);
                if (v < 0 || n >= 32)
                        return -EINVAL;
                id[n / 2] |= (uint8_t) (n % 2 ? v : v << 4);
                n++;
        }
        if (n != 32)
                return -EINVAL;
        for (unsigned i = 0; i < 16; i++)
                if (id[i])
                        zero = false;
        if (zero)
                return -EINVAL;
        memcpy(ret, id, 16);
        return 0;
}

char *uuid_format(const uint8_t id[16], char buf[static 37]) {
        static const char hex[] = "0123456789abcdef";
        char *p = buf;

        for (unsigned i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        *p++ = '-';
                *p++ = hex[id[i] >> 4];
                *p++ = hex[id[i] & 15];
        }
        *p = 0;
        return buf;
}
