/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "sha512.h"
#include "tap.h"

static void check(const char *data, size_t n, const char *want, const char *name) {
        Sha512 s;
        char hex[129];

        sha512_init(&s);
        /* Odd-sized pieces exercise the buffering across block boundaries. */
        for (size_t i = 0; i < n; i += 7)
                sha512_update(&s, data + i, n - i < 7 ? n - i : 7);
        sha512_hex(&s, hex);
        OK_STREQ(hex, want, "%s", name);
}

int main(void) {
        /* FIPS 180-4 examples. */
        check("", 0,
              "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
              "empty input");
        check("abc", 3,
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
              "abc");
        {
                const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
                check(m, 112,
                      "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909",
                      "two-block message");
        }
        {
                size_t n = 1000000;
                char *a = malloc(n);

                for (size_t i = 0; i < n; i++)
                        a[i] = 'a';
                check(a, n,
                      "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b",
                      "a million 'a'");
                free(a);
        }
        return tap_done();
}
