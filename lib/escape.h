/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The one escaping module: every string that reaches a unit file, an env file
 * or the systemd-nspawn argv goes through exactly one of these, chosen by the
 * context it lands in. The rules were verified against systemd 252
 * (docs/escaping.md) and are round-trip tested through a booted pod.
 *
 * Each function appends to `out` and returns 0, or returns -EINVAL (leaving
 * `out` unchanged) when the string cannot be represented in that context at
 * all, with a short reason in `*ret_reason` (static string) when non-NULL.
 * Common refusals: invalid UTF-8, NUL, CR/LF where a line would break.
 */

#include <stdbool.h>

#include "strbuf.h"

/* Longest value we put on one unit line; systemd refuses lines over 1 MiB. */
#define UNIT_LINE_MAX (1024U * 1024U - 4096U)
/* Longest single argv word: the kernel's MAX_ARG_STRLEN is 128 KiB. */
#define EXEC_WORD_MAX (128U * 1024U - 1U)

/* A plain unit setting value (Description=, SyslogIdentifier=, User=, …):
 * `%` -> `%%`; refuses CR, LF, other C0 controls and DEL, a trailing `\`,
 * leading/trailing whitespace (systemd strips it), invalid UTF-8. */
int escape_unit_value(StrBuf *out, const char *s, const char **ret_reason);

/* One word of an Exec*= line: always double-quoted; inside `\` `"` become
 * `\\` `\"`, LF `\n`, TAB `\t`, other C0 and DEL `\xHH`; `%` -> `%%` in every
 * word; `$` -> `$$` except in argv0 (`is_argv0`), which systemd does not expand. */
int escape_exec_word(StrBuf *out, const char *s, bool is_argv0, const char **ret_reason);
/* A whole command line: argv0 must be absolute (so no exec prefix such as
 * `+`, `-`, `@`, `!`, `:` can be smuggled in), words joined by one space. */
int escape_exec_line(StrBuf *out, char *const *argv, const char **ret_reason);

/* One word of a space-separated path list (ReadWritePaths=, DeviceAllow=, …):
 * quoted like an exec word, `$` not doubled. */
int escape_path_word(StrBuf *out, const char *s, const char **ret_reason);

/* Environment="NAME=VALUE": one quoted word, exec-word escaping without `$`
 * doubling (`$` is literal there). Refuses names systemd would drop. */
int escape_environment_assignment(StrBuf *out, const char *name, const char *value,
                                  const char **ret_reason);

/* One line of an EnvironmentFile=: NAME="VALUE"\n with `"` `\` `$` and
 * backtick preceded by `\`; raw newlines stay inside the quotes. */
int escape_env_file_line(StrBuf *out, const char *name, const char *value, const char **ret_reason);

/* systemd-nspawn --bind=SRC:DST[:OPTS] path part: `\` -> `\\`, `:` -> `\:`. */
int escape_nspawn_bind_path(StrBuf *out, const char *path, const char **ret_reason);

/* `systemd-escape --path`: "/opt/stage2/my-app/rootfs" -> "opt-stage2-my\x2dapp-rootfs";
 * "/" -> "-". Bytes outside [A-Za-z0-9:_.] become \xNN, a leading '.' too. */
int escape_unit_name_path(StrBuf *out, const char *path, const char **ret_reason);

/* True if systemd passes an environment variable of this name through
 * Environment=/EnvironmentFile= ([A-Za-z_][A-Za-z0-9_]*). */
bool env_name_is_systemd_safe(const char *name);
