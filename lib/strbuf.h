/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* A growable byte buffer, always NUL-terminated. Out-of-memory is sticky: after
 * a failed append every later append is a no-op and strbuf_steal() / strbuf_error()
 * report it, so builders can append freely and check once at the end. */
typedef struct StrBuf {
        char *data;
        size_t len;
        size_t cap;
        bool oom;
} StrBuf;

#define STRBUF_INIT ((StrBuf){})

void strbuf_done(StrBuf *b);
#define _cleanup_strbuf_ _cleanup_(strbuf_done)

void strbuf_append(StrBuf *b, const char *s);
void strbuf_append_n(StrBuf *b, const char *s, size_t n);
void strbuf_putc_slow(StrBuf *b, char c);
/* Inline: escapers call this once per byte. */
static inline void strbuf_putc(StrBuf *b, char c) {
        if (b->len + 1 < b->cap) {
                b->data[b->len++] = c;
                b->data[b->len] = 0;
        } else
                strbuf_putc_slow(b, c);
}
void strbuf_printf(StrBuf *b, const char *fmt, ...) _printf_(2, 3);
/* Makes room for `extra` more bytes at once (an optimisation only: appends
 * grow the buffer anyway). */
void strbuf_reserve_total(StrBuf *b, size_t extra);
/* Drops the last `n` bytes (or all of them). */
void strbuf_truncate(StrBuf *b, size_t len);
/* 0, or -ENOMEM if any append failed. */
int strbuf_error(const StrBuf *b);
/* Returns the contents (ownership moves to the caller, "" for an empty buffer)
 * and resets the buffer; NULL if any append failed. */
char *strbuf_steal(StrBuf *b, size_t *ret_len);
