// SPDX-License-Identifier: GPL-2.0-only
#include "util/log.h"

#include <stdio.h>
#include <string.h>

static char prefix[64] = "fragscope";
static enum log_level level = LOG_WARN;

void log_set_prefix(const char *p)
{
	snprintf(prefix, sizeof(prefix), "%s", p ? p : "fragscope");
}

const char *log_prefix(void)
{
	return prefix;
}

void log_set_level(enum log_level l)
{
	level = l;
}

enum log_level log_get_level(void)
{
	return level;
}

void log_vmsg(enum log_level l, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t n;

	if (l > level)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (l == LOG_WARN)
		fprintf(stderr, "%s: warning: %s\n", prefix, buf);
	else
		fprintf(stderr, "%s: %s\n", prefix, buf);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(l, fmt, ap);
	va_end(ap);
}
