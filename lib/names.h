/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Validators for the appc name and string types (appc spec, "types"), and the
 * UUID form pods are named by. Pure functions, no allocation. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ACName: non-empty, [a-z0-9-], not starting or ending with '-'. */
bool acname_is_valid(const char *s);
/* ACIdentifier: non-empty, [a-z0-9._~/-], not starting or ending with one of "-._~/". */
bool acidentifier_is_valid(const char *s);
/* SemVer 2.0.0 (MAJOR.MINOR.PATCH[-pre][+build], no leading zeros), not 0.0.0. */
bool semver_is_valid(const char *s);
/* "<type>-<value>": exactly one '-', type "sha512", value non-empty lower-case hex. */
bool image_id_is_valid(const char *s);
/* ^[A-Za-z_][A-Za-z_0-9.-]*$ */
bool env_name_is_valid(const char *s);
/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF, no NUL. */
bool utf8_is_valid(const char *s, size_t n);
bool path_is_absolute(const char *s);
/* RFC 3339 date-time ("2016-01-02T15:04:05Z", fractions and offsets allowed). */
bool rfc3339_is_valid(const char *s);
/* "http://…" or "https://…" with a non-empty host. */
bool http_url_is_valid(const char *s);
/* Dotted-quad IPv4 address. */
bool ipv4_is_valid(const char *s);

/* Parses a UUID with or without dashes (32 hex digits, any case) into 16
 * bytes; the all-zero UUID is refused. Returns 0 or -EINVAL. */
int uuid_parse(const char *s, uint8_t ret[16]);
/* Canonical 8-4-4-4-12 lower-case form into `buf` (at least 37 bytes). */
char *uuid_format(const uint8_t id[16], char buf[static 37]);
