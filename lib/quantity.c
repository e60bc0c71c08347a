/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "quantity.h"

/*
 * Kubernetes resource quantities, computed exactly. The value is
 *
 *     D × 10^E × 2^B
 *
 * where D is the digit string without its decimal point (at most 38
 * significant digits, so it fits in an unsigned __int128), E the decimal
 * exponent (suffix or e<n>, minus the number of fraction digits) and B the
 * binary exponent of a Ki…Ei suffix. We need ⌈value × 1000⌉ (the milli value,
 * what rkt's CPUQuota uses) and ⌈value⌉ (what MemoryLimit uses); both round
 * up exactly as Go's resource.Quantity does, without floating point.
 */

typedef unsigned __int128 u128;

#define MAX_DIGITS 38 /* 10^38 < 2^128 */

static const struct {
        const char *suffix;
        int dec; /* power of ten */
        int bin; /* power of two */
} suffixes[] = {
        { "m", -3, 0 },  { "k", 3, 0 },   { "M", 6, 0 },   { "G", 9, 0 },   { "T", 12, 0 },
        { "P", 15, 0 },  { "E", 18, 0 },  { "Ki", 0, 10 }, { "Mi", 0, 20 }, { "Gi", 0, 30 },
        { "Ti", 0, 40 }, { "Pi", 0, 50 }, { "Ei", 0, 60 },
};

static u128 pow10_u128(unsigned n) {
        u128 p = 1;

        while (n-- > 0)
                p *= 10;
        return p;
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Parses e<n> / E<n>: an optional sign and decimal digits. Huge exponents are
 * clamped; anything beyond ±10^6 already decides the result (0-digit values
 * aside, which stay zero). */
static int parse_exponent(const char *s, int64_t *ret) {
        bool neg = false;
        int64_t v = 0;

        if (*s == '+' || *s == '-')
                neg = *s++ == '-';
        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (!is_digit(*s))
                        return -EINVAL;
                if (v < 1000000)
                        v = v * 10 + (*s - '0');
        }
        *ret = neg ? -v : v;
        return 0;
}

/* ⌈D × 2^b × 10^k⌉ into *ret, or -ERANGE if it exceeds INT64_MAX. D > 0, at
 * most MAX_DIGITS digits (L of them). */
static int scaled_ceil(u128 D, int64_t L, int b, int64_t k, int64_t *ret) {
        u128 x;

        /* D × 10^k ≥ 10^(L-1+k): from 10^19 on it cannot fit, whatever b is. */
        if (L - 1 + k >= 19)
                return -ERANGE;
        /* D × 10^k < 10^(L+k) ≤ 10^-20 and 2^60 < 10^19: the value is a positive
         * number below 1, which rounds up to 1. */
        if (L + k <= -20) {
                *ret = 1;
                return 0;
        }

        if (k >= 0) {
                /* D × 10^k < 10^19 < 2^64, so shifting by at most 60 stays below 2^124. */
                x = (D * pow10_u128((unsigned) k)) << b;
        } else {
                /* Divide by 10^m in at most two steps, using
                 * ⌈⌈a / p⌉ / q⌉ = ⌈a / (p × q)⌉ for positive integers. */
                unsigned m = (unsigned) -k, m1 = m > MAX_DIGITS ? MAX_DIGITS : m;
                u128 P = pow10_u128(m1), q = D / P, r = D % P, f = 0;

                /* q ≤ D × 10^k < 10^19 when m1 = m, and q = 0 otherwise (D < 10^38). */
                x = q << b;
                /* ⌈r × 2^b / P⌉ by binary long division: r < P ≤ 10^38, so 2r fits. */
                for (int i = 0; i < b; i++) {
                        r <<= 1;
                        f <<= 1;
                        if (r >= P) {
                                r -= P;
                                f |= 1;
                        }
                }
                x += f + (r != 0);
                if (m > m1) {
                        u128 P2 = pow10_u128(m - m1); /* m - m1 < 20 by the early exits */

                        x = x / P2 + (x % P2 != 0);
                }
        }
        if (x > (u128) INT64_MAX)
                return -ERANGE;
        *ret = (int64_t) x;
        return 0;
}

int quantity_parse(const char *s, Quantity *ret) {
        const char *p = s, *int_start, *frac_start = NULL, *suffix;
        size_t int_len, frac_len = 0;
        int64_t exp10 = 0, L = 0, k, milli = 0;
        int bin = 0, r;
        char digits[MAX_DIGITS + 1];
        u128 D = 0;
        char *text;

        if (!s)
                return -EINVAL;
        /* A '+' is allowed, as in Kubernetes; negative limits make no sense. */
        if (*p == '+')
                p++;
        int_start = p;
        while (is_digit(*p))
                p++;
        int_len = (size_t) (p - int_start);
        if (int_len == 0)
                return -EINVAL;
        if (*p == '.') {
                frac_start = ++p;
                while (is_digit(*p))
                        p++;
                frac_len = (size_t) (p - frac_start);
                if (frac_len == 0)
                        return -EINVAL;
        }

        suffix = p;
        if (*suffix) {
                bool found = false;

                for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
                        if (strcmp(suffix, suffixes[i].suffix) == 0) {
                                exp10 = suffixes[i].dec;
                                bin = suffixes[i].bin;
                                found = true;
                                break;
                        }
                /* "E" alone is exa; "E3" / "e-3" are exponents. */
                if (!found) {
                        if ((suffix[0] != 'e' && suffix[0] != 'E') || parse_exponent(suffix + 1, &exp10) < 0)
                                return -EINVAL;
                }
        }

        /* Significant digits: integer and fraction part without leading zeros;
         * trailing zeros move into the exponent. */
        {
                size_t total = int_len + frac_len, first = 0, last;
                size_t n;

#define DIGIT_AT(i) ((i) < int_len ? int_start[i] : frac_start[(i) - int_len])
                while (first < total && DIGIT_AT(first) == '0')
                        first++;
                if (first < total) {
                        last = total;
                        while (DIGIT_AT(last - 1) == '0')
                                last--;
                        n = last - first;
                        if (n > MAX_DIGITS)
                                return -ERANGE; /* more precision than we can carry exactly */
                        for (size_t i = 0; i < n; i++)
                                digits[i] = DIGIT_AT(first + i);
                        digits[n] = 0;
                        L = (int64_t) n;
                        /* digits × 10^(total - last) is the number without its point */
                        exp10 += (int64_t) (total - last) - (int64_t) frac_len;
                        for (size_t i = 0; i < n; i++)
                                D = D * 10 + (unsigned) (digits[i] - '0');
                }
#undef DIGIT_AT
        }

        if (L > 0) {
                k = exp10 + 3; /* milli */
                r = scaled_ceil(D, L, bin, k, &milli);
                if (r < 0)
                        return r;
        }

        text = strdup(s);
        if (!text)
                return -ENOMEM;
        *ret = (Quantity){
                .set = true,
                .milli = milli,
                /* ⌈⌈v × 1000⌉ / 1000⌉ = ⌈v⌉ */
                .ceil = milli / 1000 + (milli % 1000 != 0),
                .text = text,
        };
        return 0;
}

void quantity_done(Quantity *q) {
        if (!q)
                return;
        free(q->text);
        *q = (Quantity){};
}
