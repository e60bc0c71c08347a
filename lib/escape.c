/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "escape.h"

/* Unit names are limited to 255 bytes (UNIT_NAME_MAX 256 with the NUL). */
#define UNIT_NAME_LEN_MAX 255U

/* Length of the valid UTF-8 character at `s` (s[0] != 0), or 0 when the bytes
 * there are not valid. This is deliberately as strict as systemd's
 * utf8_is_valid(): besides overlong forms, surrogates and code points above
 * U+10FFFF it refuses the noncharacters U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF.
 * systemd 252 drops a unit line holding one of those as "not UTF-8 clean",
 * so accepting them here would let a directive silently disappear. */
static size_t utf8_char_len(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        uint32_t c;
        size_t n;

        if (p[0] < 0x80)
                return 1;
        if (p[0] < 0xc2) /* a lone continuation byte, or an overlong 2-byte lead */
                return 0;
        if (p[0] < 0xe0) {
                n = 2;
                c = p[0] & 0x1f;
        } else if (p[0] < 0xf0) {
                n = 3;
                c = p[0] & 0x0f;
        } else if (p[0] < 0xf5) {
                n = 4;
                c = p[0] & 0x07;
        } else
                return 0;

        /* The terminating NUL is not a continuation byte, so this never reads
         * past the end of the string. */
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (p[i] & 0x3f);
        }

        if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff)
                return 0;
        if (c >= 0xd800 && c <= 0xdfff)
                return 0;
        if ((c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe)
                return 0;
        return n;
}

static bool utf8_is_valid(const char *s) {
        while (*s) {
                size_t n = utf8_char_len(s);

                if (n == 0)
                        return false;
                s += n;
        }
        return true;
}

static bool is_control(unsigned char c) {
        return c < 0x20 || c == 0x7f;
}

static int set_reason(const char **ret_reason, const char *reason) {
        if (ret_reason)
                *ret_reason = reason;
        return -EINVAL;
}

static int refuse(StrBuf *out, size_t start, const char **ret_reason, const char *reason) {
        strbuf_truncate(out, start);
        return set_reason(ret_reason, reason);
}

/* Common tail of every public function: enforce the line cap on what was
 * appended and turn a failed allocation into -ENOMEM, never leaving a partial
 * result behind. */
static int finish(StrBuf *out, size_t start, const char **ret_reason) {
        if (strbuf_error(out) < 0) {
                strbuf_truncate(out, start);
                return -ENOMEM;
        }
        if (out->len - start > UNIT_LINE_MAX)
                return refuse(out, start, ret_reason, "too long for a unit file line");
        return 0;
}

bool env_name_is_systemd_safe(const char *name) {
        if (!name || !*name)
                return false;
        if (*name >= '0' && *name <= '9')
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                      *p == '_'))
                        return false;
        return true;
}

int escape_unit_value(StrBuf *out, const char *s, const char **ret_reason) {
        size_t start = out->len, len;

        if (!s)
                return refuse(out, start, ret_reason, "missing value");
        if (!utf8_is_valid(s))
                return refuse(out, start, ret_reason, "not valid UTF-8");

        len = strlen(s);
        /* systemd strips the value, so surrounding spaces would silently vanish. */
        if (len > 0 && (s[0] == ' ' || s[len - 1] == ' '))
                return refuse(out, start, ret_reason, "leading or trailing whitespace");
        /* A trailing backslash joins the next line onto this one: verified to
         * swallow a following User= so the service ran as root. */
        if (len > 0 && s[len - 1] == '\\')
                return refuse(out, start, ret_reason, "ends in a backslash");

        for (const char *p = s; *p; p++) {
                if (*p == '\n' || *p == '\r')
                        return refuse(out, start, ret_reason, "contains a line break");
                if (is_control((unsigned char) *p))
                        return refuse(out, start, ret_reason, "contains a control character");
                if (*p == '%')
                        strbuf_append_n(out, "%%", 2);
                else
                        strbuf_putc(out, *p);
        }
        return finish(out, start, ret_reason);
}

typedef enum QuoteFlags {
        QUOTE_DOLLAR = 1 << 0,  /* `$` -> `$$`: the word is $-expanded at exec time */
        QUOTE_CESCAPE = 1 << 1, /* the parser C-unescapes (\n, \t, \xHH); without it controls are refused */
} QuoteFlags;

/* Appends the body of a double-quoted word (without the quotes). */
static int quote_body(StrBuf *out, const char *s, QuoteFlags flags, const char **ret_reason) {
        static const char hex[] = "0123456789abcdef";

        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char) *p;

                switch (c) {
                case '\\':
                        strbuf_append_n(out, "\\\\", 2);
                        break;
                case '"':
                        strbuf_append_n(out, "\\\"", 2);
                        break;
                case '%':
                        /* Specifiers are expanded after unquoting, in every word. */
                        strbuf_append_n(out, "%%", 2);
                        break;
                case '$':
                        if (flags & QUOTE_DOLLAR)
                                strbuf_append_n(out, "$$", 2);
                        else
                                strbuf_putc(out, '$');
                        break;
                default:
                        if (!is_control(c)) {
                                strbuf_putc(out, (char) c);
                                break;
                        }
                        if (!(flags & QUOTE_CESCAPE))
                                return set_reason(ret_reason, "contains a control character");
                        if (c == '\n')
                                strbuf_append_n(out, "\\n", 2);
                        else if (c == '\t')
                                strbuf_append_n(out, "\\t", 2);
                        else {
                                char x[4] = { '\\', 'x', hex[c >> 4], hex[c & 0xf] };

                                strbuf_append_n(out, x, sizeof(x));
                        }
                }
        }
        return 0;
}

static int exec_word(StrBuf *out, const char *s, bool is_argv0, const char **ret_reason) {
        size_t len;
        int r;

        if (!s)
                return set_reason(ret_reason, "missing word");
        if (!utf8_is_valid(s))
                return set_reason(ret_reason, "not valid UTF-8");
        len = strlen(s);
        if (len > EXEC_WORD_MAX)
                return set_reason(ret_reason, "argument longer than the kernel's MAX_ARG_STRLEN");

        if (is_argv0) {
                /* The exec prefixes (`+` runs with full privileges, `-`, `@`,
                 * `!`, `:`) are recognised after unquoting, so quoting does not
                 * neutralise them; only an absolute argv0 rules them all out. */
                if (s[0] != '/')
                        return set_reason(ret_reason, "command is not an absolute path");
                /* systemd 252 refuses such an executable path ("Executable name
                 * contains special characters") and the unit fails to load. */
                for (const char *p = s; *p; p++)
                        if (is_control((unsigned char) *p) || strchr("\\\"'", *p))
                                return set_reason(ret_reason,
                                                  "quote, backslash or control character in command path");
                /* systemd: "Executable path specifies a directory", fatal too. */
                if (s[len - 1] == '/')
                        return set_reason(ret_reason, "command path ends in '/'");
                if (len >= PATH_MAX)
                        return set_reason(ret_reason, "command path too long");
        }

        /* argv0 is the only word systemd does not $-expand: `$$` there would
         * reach exec() doubled. */
        strbuf_putc(out, '"');
        r = quote_body(out, s, QUOTE_CESCAPE | (is_argv0 ? 0 : QUOTE_DOLLAR), ret_reason);
        if (r < 0)
                return r;
        strbuf_putc(out, '"');
        return 0;
}

int escape_exec_word(StrBuf *out, const char *s, bool is_argv0, const char **ret_reason) {
        size_t start = out->len;
        int r;

        r = exec_word(out, s, is_argv0, ret_reason);
        if (r < 0) {
                strbuf_truncate(out, start);
                return r;
        }
        return finish(out, start, ret_reason);
}

int escape_exec_line(StrBuf *out, char *const *argv, const char **ret_reason) {
        size_t start = out->len;
        int r;

        if (!argv || !argv[0])
                return refuse(out, start, ret_reason, "empty command line");

        for (size_t i = 0; argv[i]; i++) {
                if (i > 0)
                        strbuf_putc(out, ' ');
                r = exec_word(out, argv[i], i == 0, ret_reason);
                if (r < 0) {
                        strbuf_truncate(out, start);
                        return r;
                }
        }
        return finish(out, start, ret_reason);
}

int escape_path_word(StrBuf *out, const char *s, const char **ret_reason) {
        size_t start = out->len;
        int r;

        if (!s || !*s)
                return refuse(out, start, ret_reason, "empty path");
        if (!utf8_is_valid(s))
                return refuse(out, start, ret_reason, "not valid UTF-8");
        /* `-` (ignore if missing) and `+` (relative to RootDirectory=) are
         * prefixes systemd strips after unquoting; no path or device name we
         * write starts with them. */
        if (s[0] == '-' || s[0] == '+')
                return refuse(out, start, ret_reason, "starts with '-' or '+'");

        /* Path lists are unquoted without C unescaping in systemd 252
         * (ReadWritePaths="/x\ny" yields "/xny"), so a control character has
         * no spelling there: refuse it instead of mangling it. */
        strbuf_putc(out, '"');
        r = quote_body(out, s, 0, ret_reason);
        if (r < 0) {
                strbuf_truncate(out, start);
                return r;
        }
        strbuf_putc(out, '"');
        return finish(out, start, ret_reason);
}

int escape_environment_assignment(StrBuf *out, const char *name, const char *value,
                                  const char **ret_reason) {
        size_t start = out->len;
        int r;

        /* systemd drops names outside [A-Za-z_][A-Za-z0-9_]* without an error. */
        if (!env_name_is_systemd_safe(name))
                return refuse(out, start, ret_reason, "variable name not accepted by systemd");
        if (!value)
                return refuse(out, start, ret_reason, "missing value");
        if (!utf8_is_valid(value))
                return refuse(out, start, ret_reason, "not valid UTF-8");
        if (strlen(name) + 1 + strlen(value) > EXEC_WORD_MAX)
                return refuse(out, start, ret_reason, "assignment longer than the kernel's MAX_ARG_STRLEN");

        /* `$` is literal in Environment=, so it is not doubled; `%` is. */
        strbuf_putc(out, '"');
        strbuf_append(out, name);
        strbuf_putc(out, '=');
        r = quote_body(out, value, QUOTE_CESCAPE, ret_reason);
        if (r < 0) {
                strbuf_truncate(out, start);
                return r;
        }
        strbuf_putc(out, '"');
        return finish(out, start, ret_reason);
}

int escape_env_file_line(StrBuf *out, const char *name, const char *value, const char **ret_reason) {
        size_t start = out->len;

        if (!env_name_is_systemd_safe(name))
                return refuse(out, start, ret_reason, "variable name not accepted by systemd");
        if (!value)
                return refuse(out, start, ret_reason, "missing value");
        /* One bad value makes systemd refuse the whole file, failing the unit. */
        if (!utf8_is_valid(value))
                return refuse(out, start, ret_reason, "not valid UTF-8");
        if (strlen(name) + 1 + strlen(value) > EXEC_WORD_MAX)
                return refuse(out, start, ret_reason, "assignment longer than the kernel's MAX_ARG_STRLEN");

        /* Inside double quotes systemd's env-file parser keeps every byte
         * (newlines included) and removes a backslash only before one of
         * " \ ` $; a backslash before a newline would join lines, which
         * escaping every backslash rules out. */
        strbuf_append(out, name);
        strbuf_append_n(out, "=\"", 2);
        for (const char *p = value; *p; p++) {
                if (strchr("\"\\`$", *p))
                        strbuf_putc(out, '\\');
                strbuf_putc(out, *p);
        }
        strbuf_append_n(out, "\"\n", 2);
        return finish(out, start, ret_reason);
}

int escape_nspawn_bind_path(StrBuf *out, const char *path, const char **ret_reason) {
        size_t start = out->len;

        if (!path || !*path)
                return refuse(out, start, ret_reason, "empty path");
        /* An empty source means a temporary directory, a `+` source is taken
         * inside the image and a relative one from nspawn's cwd: we only ever
         * mean absolute host or container paths. */
        if (path[0] != '/')
                return refuse(out, start, ret_reason, "not an absolute path");
        if (!utf8_is_valid(path))
                return refuse(out, start, ret_reason, "not valid UTF-8");
        if (strlen(path) >= PATH_MAX)
                return refuse(out, start, ret_reason, "path too long");

        for (const char *p = path; *p; p++) {
                if (*p == '\\' || *p == ':')
                        strbuf_putc(out, '\\');
                strbuf_putc(out, *p);
        }
        return finish(out, start, ret_reason);
}

/* Bytes systemd keeps verbatim in unit names; everything else is \xNN. */
static bool unit_name_char_plain(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' ||
               c == '_' || c == '.';
}

int escape_unit_name_path(StrBuf *out, const char *path, const char **ret_reason) {
        static const char hex[] = "0123456789abcdef";
        size_t start = out->len;
        bool first = true;

        if (!path || !*path)
                return refuse(out, start, ret_reason, "empty path");
        /* systemd-escape --path also takes relative paths, but warns that the
         * result cannot be turned back into the same path. */
        if (path[0] != '/')
                return refuse(out, start, ret_reason, "not an absolute path");
        if (!utf8_is_valid(path))
                return refuse(out, start, ret_reason, "not valid UTF-8");
        if (strlen(path) >= PATH_MAX)
                return refuse(out, start, ret_reason, "path too long");

        /* Same normalisation as systemd's path_simplify(): repeated and
         * trailing slashes and "." components go, ".." is refused. */
        for (const char *p = path; *p;) {
                size_t n;

                p += strspn(p, "/");
                n = strcspn(p, "/");
                if (n == 0)
                        break;
                if (n == 1 && p[0] == '.') {
                        p += n;
                        continue;
                }
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return refuse(out, start, ret_reason, "contains a \"..\" component");
                if (n > NAME_MAX)
                        return refuse(out, start, ret_reason, "path component too long");

                if (!first)
                        strbuf_putc(out, '-');
                for (size_t i = 0; i < n; i++) {
                        unsigned char c = (unsigned char) p[i];

                        /* A leading '.' is escaped so the unit is not hidden. */
                        if (unit_name_char_plain((char) c) && !(first && i == 0 && c == '.'))
                                strbuf_putc(out, (char) c);
                        else {
                                char x[4] = { '\\', 'x', hex[c >> 4], hex[c & 0xf] };

                                strbuf_append_n(out, x, sizeof(x));
                        }
                }
                first = false;
                p += n;
        }
        if (first)
                strbuf_putc(out, '-'); /* the root directory */

        if (strbuf_error(out) < 0) {
                strbuf_truncate(out, start);
                return -ENOMEM;
        }
        if (out->len - start > UNIT_NAME_LEN_MAX)
                return refuse(out, start, ret_reason, "escaped name longer than a unit name may be");
        return 0;
}
