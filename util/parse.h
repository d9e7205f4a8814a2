/* SPDX-License-Identifier: GPL-2.0-only */
/* Parsing of command-line values shared by the commands. */
#ifndef FRAGSCOPE_PARSE_H
#define FRAGSCOPE_PARSE_H

#include <stdint.h>

/* "256M", "1G", "4096", "64k" (binary units K/M/G/T, optional "iB"/"B") -> bytes. 0 or -EINVAL/-ERANGE. */
int parse_size(const char *s, uint64_t *bytes);
/* "30", "30s", "1.5s", "250ms", "2m", "1h" -> nanoseconds. 0 or -EINVAL/-ERANGE. */
int parse_duration(const char *s, uint64_t *ns);
/* A whole number in [min, max] (decimal, or 0x hex). 0 or -EINVAL/-ERANGE. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
