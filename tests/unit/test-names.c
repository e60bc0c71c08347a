/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "names.h"
#include "tap.h"

#define VALID(f, s) OK(f(s), #f "(\"%s\")", s)
#define INVALID(f, s) OK(!f(s), "!" #f "(\"%s\")", s)

static void test_acname(void) {
        static const char *const good[] = { "a", "web", "web-1", "0", "a--b", "123abc" };
        static const char *const bad[] = { "", "-a", "a-", "Web", "a_b", "a.b", "a/b", "a b", "é" };

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                VALID(acname_is_valid, good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                INVALID(acname_is_valid, bad[i]);
        OK(!acname_is_valid(NULL), "acname NULL");
}

static void test_acidentifier(void) {
        static const char *const good[] = { "a", "example.com/app", "coreos.com/etcd", "a~b", "a_b", "a-b.c/d" };
        static const char *const bad[] = { "", "/a", "a/", ".a", "a.", "_a", "a_", "~a", "-a", "A", "a b", "a:b" };

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                VALID(acidentifier_is_valid, good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                INVALID(acidentifier_is_valid, bad[i]);
}

static void test_semver(void) {
        static const char *const good[] = { "0.8.11", "1.0.0", "0.0.1", "1.2.3-alpha", "1.2.3-alpha.1",
                                            "1.2.3+build.5", "1.2.3-rc.1+b-7", "0.0.0-rc1", "0.0.0+b",
                                            "10.20.30", "1.0.0-0a", "1.0.0+001" };
        static const char *const bad[] = { "", "0.0.0", "1.0", "1", "1.2.3.4", "v1.0.0", "01.0.0", "1.02.0",
                                           "1.0.00", "+1.0.0", "1.0.0-", "1.0.0+", "1.0.0-a..b", "1.0.0-01",
                                           "1.0.0 ", " 1.0.0", "1.0.0-a_b", "99999999999999999999.0.0",
                                           "1.0.0+a+b", "-1.0.0" };

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                VALID(semver_is_valid, good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                INVALID(semver_is_valid, bad[i]);
        VALID(semver_is_valid, "9223372036854775807.0.0");
        INVALID(semver_is_valid, "9223372036854775808.0.0");
}

static void test_image_id(void) {
        VALID(image_id_is_valid, "sha512-0123456789abcdef");
        VALID(image_id_is_valid, "sha512-a");
        INVALID(image_id_is_valid, "sha512-");
        INVALID(image_id_is_valid, "sha512");
        INVALID(image_id_is_valid, "sha256-abcd");
        INVALID(image_id_is_valid, "sha512-ABCD");
        INVALID(image_id_is_valid, "sha512-ab-cd");
        INVALID(image_id_is_valid, "sha512-xyz");
        INVALID(image_id_is_valid, "SHA512-abcd");
        INVALID(image_id_is_valid, "");
}

static void test_env_name(void) {
        VALID(env_name_is_valid, "PATH");
        VALID(env_name_is_valid, "_x");
        VALID(env_name_is_valid, "a.b-c_9");
        INVALID(env_name_is_valid, "");
        INVALID(env_name_is_valid, "1A");
        INVALID(env_name_is_valid, "-A");
        INVALID(env_name_is_valid, ".A");
        INVALID(env_name_is_valid, "A=B");
        INVALID(env_name_is_valid, "A B");
}

static void test_utf8(void) {
        static const struct {
                const char *s;
                size_t n;
                bool valid;
        } v[] = {
                { "", 0, true },
                { "abc", 3, true },
                { "h\xc3\xa9", 3, true },                 /* é */
                { "\xe2\x82\xac", 3, true },              /* € */
                { "\xf0\x9f\x98\x80", 4, true },          /* U+1F600 */
                { "\xf4\x8f\xbf\xbf", 4, true },          /* U+10FFFF */
                { "\xed\x9f\xbf", 3, true },              /* U+D7FF */
                { "\xee\x80\x80", 3, true },              /* U+E000 */
                { "a\0b", 3, false },                     /* NUL */
                { "\xff", 1, false },
                { "\x80", 1, false },                     /* lone continuation */
                { "\xc3", 1, false },                     /* truncated */
                { "\xe2\x82", 2, false },                 /* truncated */
                { "\xc0\xaf", 2, false },                 /* overlong '/' */
                { "\xc1\xbf", 2, false },                 /* overlong */
                { "\xe0\x80\xaf", 3, false },             /* overlong */
                { "\xf0\x80\x80\xaf", 4, false },         /* overlong */
                { "\xed\xa0\x80", 3, false },             /* U+D800 surrogate */
                { "\xed\xbf\xbf", 3, false },             /* U+DFFF surrogate */
                { "\xf4\x90\x80\x80", 4, false },         /* U+110000 */
                { "\xf5\x80\x80\x80", 4, false },
                { "\xc3\x28", 2, false },                 /* bad continuation */
        };

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
                OK(utf8_is_valid(v[i].s, v[i].n) == v[i].valid, "utf8 vector %zu is %s", i,
                   v[i].valid ? "valid" : "invalid");
}

static void test_paths(void) {
        OK(path_is_absolute("/"), "/ absolute");
        OK(path_is_absolute("/usr/bin"), "/usr/bin absolute");
        OK(!path_is_absolute("usr"), "usr relative");
        OK(!path_is_absolute(""), "empty not absolute");
        OK(!path_is_absolute(NULL), "NULL not absolute");
}

static void test_rfc3339(void) {
        static const char *const good[] = { "2016-01-02T15:04:05Z", "2016-01-02T15:04:05.123Z",
                                            "2016-01-02T15:04:05+01:00", "2016-01-02T15:04:05.5-07:30",
                                            "2016-02-29T00:00:00Z", "2000-02-29T23:59:59Z",
                                            "0001-12-31T00:00:00Z" };
        static const char *const bad[] = { "", "yesterday", "2016-01-02", "2016-01-02 15:04:05Z",
                                           "2016-01-02t15:04:05Z", "2016-01-02T15:04:05z",
                                           "2016-01-02T15:04:05", "2015-02-29T00:00:00Z",
                                           "1900-02-29T00:00:00Z", "2016-13-01T00:00:00Z",
                                           "2016-00-01T00:00:00Z", "2016-04-31T00:00:00Z",
                                           "2016-01-02T24:00:00Z", "2016-01-02T15:60:00Z",
                                           "2016-01-02T15:04:60Z", "2016-01-02T15:04:05.Z",
                                           "2016-01-02T15:04:05,5Z", "2016-01-02T15:04:05+24:00",
                                           "2016-01-02T15:04:05+01:60", "2016-01-02T15:04:05+0100",
                                           "2016-01-02T15:04:05Zx", "16-01-02T15:04:05Z" };

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                VALID(rfc3339_is_valid, good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                INVALID(rfc3339_is_valid, bad[i]);
}

static void test_url(void) {
        static const char *const good[] = { "http://example.com", "https://example.com/docs?x=1#y",
                                            "HTTP://EXAMPLE.COM", "http://user@host:8080/",
                                            "http://[::1]:80/", "https://a" };
        static const char *const bad[] = { "", "ftp://example.com", "http:", "http://", "http:///path",
                                           "http://exa mple.com", "example.com", "http://a/b c",
                                           "http://a\x01", "mailto:a@b" };

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                VALID(http_url_is_valid, good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                INVALID(http_url_is_valid, bad[i]);
}

static void test_ipv4(void) {
        static const char *const good[] = { "0.0.0.0", "127.0.0.1", "255.255.255.255", "10.1.2.3" };
        static const char *const bad[] = { "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.04",
                                           "::1", "1.2.3.", ".1.2.3", "1..2.3", "a.b.c.d", "1.2.3.4 ",
                                           "1234.1.1.1" };

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                VALID(ipv4_is_valid, good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                INVALID(ipv4_is_valid, bad[i]);
}

static void test_uuid(void) {
        uint8_t id[16], id2[16];
        char buf[37];

        OK_INTEQ(uuid_parse("6733C088-A507-4694-AABF-EDDD0AE0A1E5", id), 0, "uuid with dashes, upper case");
        OK_STREQ(uuid_format(id, buf), "6733c088-a507-4694-aabf-eddd0ae0a1e5", "uuid formatted canonically");
        OK_INTEQ(uuid_parse("6733c088a5074694aabfeddd0ae0a1e5", id2), 0, "uuid without dashes");
        OK(memcmp(id, id2, 16) == 0, "both forms give the same bytes");
        OK_INTEQ(id[0], 0x67, "first byte");
        OK_INTEQ(id[15], 0xe5, "last byte");
        OK_INTEQ(uuid_parse("00000000-0000-0000-0000-000000000000", id2), -EINVAL, "all-zero uuid refused");
        OK_INTEQ(uuid_parse("6733c088a5074694aabfeddd0ae0a1e", id2), -EINVAL, "31 digits refused");
        OK_INTEQ(uuid_parse("6733c088a5074694aabfeddd0ae0a1e55", id2), -EINVAL, "33 digits refused");
        OK_INTEQ(uuid_parse("g733c088a5074694aabfeddd0ae0a1e5", id2), -EINVAL, "non-hex refused");
        OK_INTEQ(uuid_parse("", id2), -EINVAL, "empty refused");
        OK(memcmp(id, id2, 16) == 0, "output untouched on failure");
        OK_INTEQ(uuid_parse("6733c088-a507-4694-aabf-eddd0ae0a1e5", id2), 0, "canonical form parses");
        OK_STREQ(uuid_format(id2, buf), "6733c088-a507-4694-aabf-eddd0ae0a1e5", "round trip");
}

int main(void) {
        test_acname();
        test_acidentifier();
        test_semver();
        test_image_id();
        test_env_name();
        test_utf8();
        test_paths();
        test_rfc3339();
        test_url();
        test_ipv4();
        test_uuid();
        return tap_done();
}
