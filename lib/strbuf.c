/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "strbuf.h"

void strbuf_done(StrBuf *b) {
        free(b->data);
        *b = STRBUF_INIT;
}

static bool strbuf_reserve(StrBuf *b, size_t extra) {
        size_t need;
        char *d;

        if (b->oom)
                return false;
        if (extra > SIZE_MAX - b->len - 1)
                goto fail;
        need = b->len + extra + 1;
        if (need <= b->cap)
                return true;
        if (need < 64)
                need = 64;
        if (need < b->cap * 2)
                need = b->cap * 2;
        d = realloc(b->data, need);
        if (!d)
                goto fail;
        b->data = d;
        b->cap = need;
        return true;
fail:
        b->oom = true;
        return false;
}

void strbuf_reserve_total(StrBuf *b, size_t extra) {
        (void) strbuf_reserve(b, extra);
}

void strbuf_append_n(StrBuf *b, const char *s, size_t n) {
        if (!strbuf_reserve(b, n))
                return;
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = 0;
}

void strbuf_append(StrBuf *b, const char *s) {
        strbuf_append_n(b, s, strlen(s));
}

void strbuf_putc_slow(StrBuf *b, char c) {
        strbuf_append_n(b, &c, 1);
}

void strbuf_printf(StrBuf *b, const char *fmt, ...) {
        va_list ap, aq;
        size_t room;
        int n;

        if (b->oom)
                return;
        /* Format straight into the spare room; only a result that does not
         * fit is formatted a second time, after growing. */
        if (!strbuf_reserve(b, 64))
                return;
        room = b->cap - b->len;
        va_start(ap, fmt);
        va_copy(aq, ap);
        n = vsnprintf(b->data + b->len, room, fmt, aq);
        va_end(aq);
        if (n < 0) {
                b->data[b->len] = 0;
                b->oom = true;
        } else if ((size_t) n < room) {
                b->len += (size_t) n;
        } else if (strbuf_reserve(b, (size_t) n)) {
                (void) vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
                b->len += (size_t) n;
        } else
                b->data[b->len] = 0;
        va_end(ap);
}

void strbuf_truncate(StrBuf *b, size_t len) {
        if (len < b->len) {
                b->len = len;
                b->data[len] = 0;
        }
}

int strbuf_error(const StrBuf *b) {
        return b->oom ? -ENOMEM : 0;
}

char *strbuf_steal(StrBuf *b, size_t *ret_len) {
        char *d;

        if (b->oom) {
                strbuf_done(b);
                return NULL;
        }
        d = b->data ? b->data : strdup("");
        if (d && ret_len)
                *ret_len = b->len;
        *b = STRBUF_INIT;
        return d;
}
