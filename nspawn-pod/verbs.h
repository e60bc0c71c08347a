/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "exit-status.h"
#include <stdbool.h>

#include "error.h"

typedef struct GlobalOptions {
        const char *dir; /* data directory */
        bool debug;
} GlobalOptions;

int verb_render(int argc, char *argv[], const GlobalOptions *g);
int verb_validate(int argc, char *argv[], const GlobalOptions *g);
int verb_prepare(int argc, char *argv[], const GlobalOptions *g);
int verb_run(int argc, char *argv[], const GlobalOptions *g);
int verb_run_prepared(int argc, char *argv[], const GlobalOptions *g);
int verb_status(int argc, char *argv[], const GlobalOptions *g);
int verb_list(int argc, char *argv[], const GlobalOptions *g);
int verb_cat_manifest(int argc, char *argv[], const GlobalOptions *g);
int verb_stop(int argc, char *argv[], const GlobalOptions *g);
int verb_gc(int argc, char *argv[], const GlobalOptions *g);
int verb_rm(int argc, char *argv[], const GlobalOptions *g);
int verb_enter(int argc, char *argv[], const GlobalOptions *g);
int verb_bind(int argc, char *argv[], const GlobalOptions *g);
int verb_unbind(int argc, char *argv[], const GlobalOptions *g);
int verb_logs(int argc, char *argv[], const GlobalOptions *g);

/* Where the stage1 helpers are: $NSPAWN_POD_LIBEXEC, libexec/ beside the
 * command in a build tree, else the installed LIBEXECDIR. */
const char *libexec_dir(void);

/* yes/true/1 or no/false/0 as the value of option `opt`; a message and
 * -EINVAL otherwise. */
int parse_bool_option(const char *opt, const char *v, bool *ret);

/* Reads a whole file (at most `max` bytes, else -EFBIG); "-" is stdin. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size);

typedef enum ManifestKind {
        MANIFEST_POD,
        MANIFEST_IMAGE,
} ManifestKind;

/* Reads `path` ("-": stdin) and parses it as a Pod or an Image into *ret.
 * Returns 0, or -errno with `err` saying why, read errors included. */
int manifest_load_file(const char *path, ManifestKind kind, void **ret, NpError *err);
/* The exit code for a failure of manifest_load_file(). */
int manifest_load_exit_code(int r);
