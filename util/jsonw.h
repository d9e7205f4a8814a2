/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small streaming JSON writer, after bpftool's json_writer: every --json output goes
 * through it. Floats are printed with a fixed format so output is byte-identical across runs.
 */
#ifndef FRAGSCOPE_JSONW_H
#define FRAGSCOPE_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jsonw;

struct jsonw *jsonw_new(FILE *f);
void jsonw_free(struct jsonw *w);	/* NULL-safe; closes open containers and ends the line */
void jsonw_pretty(struct jsonw *w, bool on);

void jsonw_start_object(struct jsonw *w);
void jsonw_end_object(struct jsonw *w);
void jsonw_start_array(struct jsonw *w);
void jsonw_end_array(struct jsonw *w);
void jsonw_name(struct jsonw *w, const char *name);

void jsonw_string(struct jsonw *w, const char *s);
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_float(struct jsonw *w, double v);	/* %.6g; NaN/inf become null */
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

void jsonw_string_field(struct jsonw *w, const char *name, const char *s);
void jsonw_uint_field(struct jsonw *w, const char *name, uint64_t v);
void jsonw_int_field(struct jsonw *w, const char *name, int64_t v);
void jsonw_float_field(struct jsonw *w, const char *name, double v);
void jsonw_bool_field(struct jsonw *w, const char *name, bool v);
void jsonw_null_field(struct jsonw *w, const char *name);

/* Write a JSON string literal (with quotes) for s to f. */
void json_print_string(FILE *f, const char *s);

#endif
