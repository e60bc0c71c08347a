/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>

#include "quantity.h"
#include "tap.h"

static void good(const char *s, int64_t ceil, int64_t milli) {
        Quantity q = {};
        int r = quantity_parse(s, &q);

        OK_INTEQ(r, 0, "\"%s\" parses", s);
        if (r < 0)
                return;
        OK(q.set, "\"%s\" set", s);
        OK_INTEQ(q.ceil, ceil, "\"%s\" ceil", s);
        OK_INTEQ(q.milli, milli, "\"%s\" milli", s);
        OK_STREQ(q.text, s, "\"%s\" text kept", s);
        quantity_done(&q);
        OK(!q.text && !q.set, "\"%s\" done clears", s);
}

static void bad(const char *s, int code) {
        Quantity q = { .ceil = 42 };

        OK_INTEQ(quantity_parse(s, &q), code, "\"%s\" refused", s);
        OK(!q.set && q.ceil == 42 && !q.text, "\"%s\" output untouched", s);
}

int main(void) {
        /* The vectors the stage1 contract gives (§3.4.5). */
        good("500m", 1, 500);
        good("1", 1, 1000);
        good("1.5", 2, 1500);
        good("25Mi", 26214400, 26214400000LL);
        good("5m", 1, 5);
        good("0.1", 1, 100);
        good("800m", 1, 800);
        good("1k", 1000, 1000000);
        good("1e3", 1000, 1000000);
        good("1E3", 1000, 1000000);

        /* Zero in its many forms. */
        good("0", 0, 0);
        good("0.000", 0, 0);
        good("0m", 0, 0);
        good("0Ei", 0, 0);
        good("0e999999999", 0, 0);
        good("+0", 0, 0);

        /* Suffixes. */
        good("1m", 1, 1);
        good("1M", 1000000, 1000000000LL);
        good("1G", 1000000000LL, 1000000000000LL);
        good("1T", 1000000000000LL, 1000000000000000LL);
        good("1P", 1000000000000000LL, 1000000000000000000LL);
        good("1Ki", 1024, 1024000);
        good("1Gi", 1073741824LL, 1073741824000LL);
        good("1Ti", 1099511627776LL, 1099511627776000LL);
        good("1Pi", 1125899906842624LL, 1125899906842624000LL);
        good("+2k", 2000, 2000000);
        good("1.5Gi", 1610612736LL, 1610612736000LL);
        good("0.5Ki", 512, 512000);

        /* Rounding up, exactly. */
        good("0.0001", 1, 1);
        good("1.0001", 2, 1001);
        good("1.000", 1, 1000);
        good("1500m", 2, 1500);
        good("2000m", 2, 2000);
        good("1001m", 2, 1001);
        good("0.001Ki", 2, 1024); /* 1.024 exactly */
        good("0.0001Ki", 1, 103); /* 0.1024 -> 102.4 milli, up to 103 */
        good("1e-3", 1, 1);
        good("1e-4", 1, 1);
        good("1e-30", 1, 1);
        good("12345678901234567890e-30", 1, 1);
        good("1.23456789e2", 124, 123457);
        good("007", 7, 7000);
        good("1e+2", 100, 100000);
        good("100", 100, 100000);
        good("0.000000000000000000000000000000000000000000000001", 1, 1);
        good("0.0000000000000000000000000000000000000001Ei", 1, 1);
        good("123456789012345678901234567890.12345678e-20", 1234567891LL, 1234567890124LL); /* 1.2345…e9 */

        /* The int64 edge of the milli value. */
        good("9223372036854775807m", 9223372036854776LL, INT64_MAX);
        good("9223372036854775.807", 9223372036854776LL, INT64_MAX);
        bad("9223372036854775808m", -ERANGE);
        bad("9223372036854776", -ERANGE);
        bad("1Ei", -ERANGE);
        bad("1E", -ERANGE);
        bad("1e100", -ERANGE);
        bad("1e999999999999999999999", -ERANGE);
        good("8Pi", 9007199254740992LL, 9007199254740992000LL);
        bad("9Pi", -ERANGE);
        bad("123456789012345678901234567890123456789", -ERANGE); /* 39 significant digits */
        good("12345678901234567890123456789012345678e-30", 12345679, 12345678902LL); /* 38 digits */

        /* Syntax. */
        bad("", -EINVAL);
        bad("abc", -EINVAL);
        bad("1.2.3", -EINVAL);
        bad("-1", -EINVAL);
        bad("-0", -EINVAL);
        bad("1Z", -EINVAL);
        bad("1K", -EINVAL);
        bad("1e", -EINVAL);
        bad("1e+", -EINVAL);
        bad("1ee3", -EINVAL);
        bad("1Kib", -EINVAL);
        bad("1n", -EINVAL);
        bad("1u", -EINVAL);
        bad(".5", -EINVAL);
        bad("1.", -EINVAL);
        bad(" 1", -EINVAL);
        bad("1 ", -EINVAL);
        bad("1 k", -EINVAL);
        bad("0x10", -EINVAL);
        bad("++1", -EINVAL);
        bad("m", -EINVAL);
        bad("1mi", -EINVAL);
        bad("1e3Ki", -EINVAL);
        bad(NULL, -EINVAL);

        quantity_done(NULL);
        return tap_done();
}
