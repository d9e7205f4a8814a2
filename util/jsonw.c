// SPDX-License-Identifier: GPL-2.0-only
#include "util/jsonw.h"

#include <math.h>
#include <stdlib.h>

#define JSONW_MAX_DEPTH 64

struct jsonw {
	FILE *f;
	bool pretty;
	int depth;
	bool first[JSONW_MAX_DEPTH + 1];	/* no element yet at this depth */
	char closer[JSONW_MAX_DEPTH + 1];	/* '}' or ']' for each open container */
	bool after_name;
};

struct jsonw *jsonw_new(FILE *f)
{
	struct jsonw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->f = f;
	w->first[0] = true;
	return w;
}

void jsonw_pretty(struct jsonw *w, bool on)
{
	w->pretty = on;
}

static void indent(struct jsonw *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

/* Separator before a value or a name. */
static void sep(struct jsonw *w)
{
	if (w->after_name) {
		w->after_name = false;
		return;
	}
	if (!w->first[w->depth])
		fputc(',', w->f);
	if (w->depth > 0)
		indent(w);
	w->first[w->depth] = false;
}

void json_print_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void open_c(struct jsonw *w, char c)
{
	sep(w);
	fputc(c, w->f);
	if (w->depth < JSONW_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
	w->closer[w->depth] = c == '{' ? '}' : ']';
}

static void close_c(struct jsonw *w, char c)
{
	bool empty = w->first[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (!empty)
		indent(w);
	fputc(c, w->f);
	if (w->depth == 0)
		fputc('\n', w->f);
}

void jsonw_start_object(struct jsonw *w) { open_c(w, '{'); }
void jsonw_end_object(struct jsonw *w) { close_c(w, '}'); }
void jsonw_start_array(struct jsonw *w) { open_c(w, '['); }
void jsonw_end_array(struct jsonw *w) { close_c(w, ']'); }

void jsonw_name(struct jsonw *w, const char *name)
{
	sep(w);
	json_print_string(w->f, name);
	fputc(':', w->f);
	if (w->pretty)
		fputc(' ', w->f);
	w->after_name = true;
}

void jsonw_string(struct jsonw *w, const char *s)
{
	sep(w);
	json_print_string(w->f, s);
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
	sep(w);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

void jsonw_int(struct jsonw *w, int64_t v)
{
	sep(w);
	fprintf(w->f, "%lld", (long long)v);
}

void jsonw_float(struct jsonw *w, double v)
{
	sep(w);
	if (isnan(v) || isinf(v))
		fputs("null", w->f);
	else
		fprintf(w->f, "%.6g", v);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	sep(w);
	fputs(v ? "true" : "false", w->f);
}

void jsonw_null(struct jsonw *w)
{
	sep(w);
	fputs("null", w->f);
}

void jsonw_string_field(struct jsonw *w, const char *n, const char *s) { jsonw_name(w, n); jsonw_string(w, s); }
void jsonw_uint_field(struct jsonw *w, const char *n, uint64_t v) { jsonw_name(w, n); jsonw_uint(w, v); }
void jsonw_int_field(struct jsonw *w, const char *n, int64_t v) { jsonw_name(w, n); jsonw_int(w, v); }
void jsonw_float_field(struct jsonw *w, const char *n, double v) { jsonw_name(w, n); jsonw_float(w, v); }
void jsonw_bool_field(struct jsonw *w, const char *n, bool v) { jsonw_name(w, n); jsonw_bool(w, v); }
void jsonw_null_field(struct jsonw *w, const char *n) { jsonw_name(w, n); jsonw_null(w); }

void jsonw_free(struct jsonw *w)
{
	if (!w)
		return;
	while (w->depth > 0)
		close_c(w, w->closer[w->depth]);	/* callers should close what they open */
	fflush(w->f);
	free(w);
}
