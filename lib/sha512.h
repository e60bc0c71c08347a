/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct Sha512 {
        uint64_t h[8];
        uint64_t len;
        uint8_t buf[128];
        size_t fill;
} Sha512;

void sha512_init(Sha512 *s);
void sha512_update(Sha512 *s, const void *data, size_t n);
void sha512_final(Sha512 *s, uint8_t out[64]);
/* Finishes and writes the digest as 128 lower-case hex digits. */
void sha512_hex(Sha512 *s, char out[129]);
