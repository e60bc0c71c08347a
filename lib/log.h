/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The one way the command, the stage1 entrypoints and the helpers report:
 * one line on stderr each, "<program>: <message>". Code in lib/ proper never
 * logs (it returns -errno and fills an NpError); the programs log once, where
 * they decide. Helpers' stderr goes to the pod's journal and console, so a
 * failed pod start says which path of which app was the problem.
 */

#include "macro.h"

/* The prefix of every line: "nspawn-pod stop", "prepare-app", … Borrowed:
 * it must live as long as the program logs. Default "nspawn-pod". */
void log_set_program(const char *name);

/* "<program>: <message>" */
void log_error(const char *fmt, ...) _printf_(1, 2);
/* "<program>: warning: <message>" */
void log_warning(const char *fmt, ...) _printf_(1, 2);
/* "<program>: <message>: <strerror(-r)>"; returns r (< 0), so that a caller
 * can `return log_errno(r, …)` at the one place it decides. */
int log_errno(int r, const char *fmt, ...) _printf_(2, 3);
