/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manifest.h"

/* Kubernetes quantity syntax: [+-]digits[.digits][suffix], suffix one of
 * m k M G T P E Ki Mi Gi Ti Pi Ei, or a decimal exponent e/E<n>. Negative
 * values are refused. Fills ceil/milli/text; -EINVAL on bad syntax, -ERANGE
 * when the milli value overflows int64. */
int quantity_parse(const char *s, Quantity *ret);
void quantity_done(Quantity *q);
