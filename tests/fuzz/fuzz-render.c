/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: bytes -> pod manifest parse + validate -> render, and the
 * same bytes as an image manifest. Any crash, leak or UB report is a bug;
 * inputs that fail validation must fail cleanly with a message. */
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "manifest.h"
#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        NpError err = NP_ERROR_INIT;
        Pod *pod = NULL;
        Image *img = NULL;
        int r;

        r = manifest_parse_pod((const char *) data, size, &pod, &err);
        if (r < 0) {
                /* A refusal must always come with a message. */
                if (!err.message)
                        __builtin_trap();
        } else {
                RenderOptions opts = { .uuid = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } };
                RenderResult *res = NULL;
                NpError rerr = NP_ERROR_INIT;

                r = render_pod(pod, NULL, &opts, &res, &rerr);
                if (r < 0 && r != -ENOMEM && !rerr.message)
                        __builtin_trap();
                render_result_free(res);
                error_done(&rerr);
        }
        pod_free(pod);
        error_done(&err);

        r = manifest_parse_image((const char *) data, size, &img, &err);
        if (r < 0 && !err.message)
                __builtin_trap();
        image_free(img);
        error_done(&err);
        return 0;
}
