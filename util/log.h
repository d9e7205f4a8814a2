/* SPDX-License-Identifier: GPL-2.0-only */
/* One logging sink for the whole program; libbpf's print callback feeds it too. */
#ifndef FRAGSCOPE_LOG_H
#define FRAGSCOPE_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_ERR = 0,	/* always shown */
	LOG_WARN = 1,	/* shown unless --quiet */
	LOG_INFO = 2,	/* shown with -v */
	LOG_DEBUG = 3,	/* shown with -vv */
};

/* "fragscope replay": prefixed to every message, as git does. */
void log_set_prefix(const char *prefix);
const char *log_prefix(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

#define pr_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
