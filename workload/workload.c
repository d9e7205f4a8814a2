// SPDX-License-Identifier: GPL-2.0-only
/* The workloads' plans, their dispatch, the stop flag, the JSON summary and small helpers. */
#include "workload/workload.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/jsonw.h"
#include "util/log.h"
#include "workload/workload-local.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stop_signal;

static const char *const kind_names[WORKLOAD__COUNT] = {
	[WORKLOAD_FRAGMENT] = "fragment",
	[WORKLOAD_THP] = "thp",
	[WORKLOAD_FORKS] = "forks",
	[WORKLOAD_MIXED] = "mixed",
};

int workload_kind_from_name(const char *name)
{
	for (int i = 0; i < WORKLOAD__COUNT; i++)
		if (!strcmp(name, kind_names[i]))
			return i;
	return -1;
}

const char *workload_kind_name(enum workload_kind kind)
{
	return (unsigned)kind < WORKLOAD__COUNT ? kind_names[kind] : "?";
}

void workload_request_stop(int signo)
{
	stop_signal = signo;
	stop_requested = 1;
}

void workload_reset_stop(void)
{
	stop_requested = 0;
	stop_signal = 0;
}

uint64_t wl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

bool wl_should_stop(struct wl_ctx *c)
{
	if (stop_requested) {
		c->res->interrupted = true;
		c->res->stop_signal = stop_signal;
		return true;
	}
	if (c->res->timed_out)
		return true;
	if (wl_now_ns() >= c->deadline_ns) {
		c->res->timed_out = true;
		return true;
	}
	return false;
}

void wl_phase_begin(struct wl_ctx *c, const char *name)
{
	struct workload_result *r = c->res;

	if (r->nr_phases >= WORKLOAD_MAX_PHASES)
		return;
	r->phases[r->nr_phases].name = name;
	r->phases[r->nr_phases].start_ns = wl_now_ns();
	r->phases[r->nr_phases].end_ns = 0;
	r->nr_phases++;
	if (c->opts->progress)
		pr_info("%s: %s", workload_kind_name(c->plan->kind), name);
}

void wl_phase_end(struct wl_ctx *c)
{
	struct workload_result *r = c->res;

	if (r->nr_phases > 0 && !r->phases[r->nr_phases - 1].end_ns)
		r->phases[r->nr_phases - 1].end_ns = wl_now_ns();
}

void wl_note(struct wl_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->res->note[0])
		return;	/* keep the first */
	va_start(ap, fmt);
	vsnprintf(c->res->note, sizeof(c->res->note), fmt, ap);
	va_end(ap);
	pr_info("%s", c->res->note);
}

int wl_read_file(const char *path, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 16384, len = 0;
	char *buf;

	*out = NULL;
	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb = realloc(buf, cap * 2 + 1);

			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			free(buf);
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return 0;
}

int64_t wl_meminfo_available(const char *text)
{
	const char *p = strstr(text, "MemAvailable:");
	unsigned long long kb;

	if (!p || sscanf(p + strlen("MemAvailable:"), "%llu", &kb) != 1)
		return -1;
	return (int64_t)kb * 1024;
}

/*
 * Sums, over every zone, the free pages of the type the kernel names "Unmovable" in the
 * "Free pages count per migrate type at order ..." table. The orders are taken from that
 * header line, not assumed. Counts capped by the kernel (100000) make this a lower bound.
 */
int64_t workload_pagetypeinfo_unmovable_free(const char *text)
{
	const char *p = strstr(text, "Free pages count per migrate type at order");
	long page = sysconf(_SC_PAGESIZE);
	int orders[64], nr_orders = 0;
	int64_t total = 0;
	bool seen = false;

	if (!p)
		return -1;
	p += strlen("Free pages count per migrate type at order");
	while (*p && *p != '\n') {
		char *end;
		long o = strtol(p, &end, 10);

		if (end == p) {
			p++;
			continue;
		}
		if (nr_orders < 64 && o >= 0 && o < 63)
			orders[nr_orders++] = (int)o;
		p = end;
	}
	if (!nr_orders)
		return -1;
	while (*p) {
		const char *eol = strchr(++p, '\n');
		const char *t;

		if (!eol)
			eol = p + strlen(p);
		if (!strncmp(p, "Number of blocks type", strlen("Number of blocks type")))
			break;
		t = strstr(p, ", type");
		if (t && t < eol) {
			t += strlen(", type");
			while (*t == ' ')
				t++;
			if (!strncmp(t, "Unmovable", 9) && (t[9] == ' ' || t[9] == '\t')) {
				t += 9;
				seen = true;
				for (int i = 0; i < nr_orders && t < eol; i++) {
					char *end;
					unsigned long long n = strtoull(t, &end, 10);

					if (end == t)
						break;
					total += (int64_t)(n << orders[i]) * page;
					t = end;
				}
			}
		}
		p = eol;
		if (!*p)
			break;
	}
	return seen ? total : -1;
}

/*
 * The "Unmovable" column of the "Number of blocks type" table (its position from the header
 * line, not assumed), summed over the zones.
 */
int64_t workload_pagetypeinfo_unmovable_blocks(const char *text)
{
	const char *p = strstr(text, "Number of blocks type");
	const char *eol;
	int col = -1, i = 0;
	int64_t total = 0;
	bool seen = false;

	if (!p)
		return -1;
	p += strlen("Number of blocks type");
	eol = strchr(p, '\n');
	if (!eol)
		return -1;
	while (p < eol) {
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, " \t\n");
		if (!n)
			break;
		if (n == 9 && !strncmp(p, "Unmovable", 9))
			col = i;
		i++;
		p += n;
	}
	if (col < 0)
		return -1;
	for (p = eol + 1; !strncmp(p, "Node", 4); p = eol + 1) {
		const char *z = strstr(p, "zone");

		eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		if (!z || z > eol)
			break;
		z += 4;
		z += strspn(z, " \t");
		z += strcspn(z, " \t\n");	/* the zone's name */
		for (i = 0; z < eol; i++) {
			char *end;
			unsigned long long v = strtoull(z, &end, 10);

			if (end == z)
				break;
			if (i == col) {
				total += (int64_t)v;
				seen = true;
				break;
			}
			z = end;
		}
		if (!*eol)
			break;
	}
	return seen ? total : -1;
}

/* parse applied to /proc/pagetypeinfo as it is now; -1 if it cannot be read */
static int64_t pagetypeinfo_now(int64_t (*parse)(const char *text))
{
	char *text = NULL;
	int64_t v;

	if (wl_read_file("/proc/pagetypeinfo", &text))
		return -1;
	v = parse(text);
	free(text);
	return v;
}

int64_t wl_unmovable_blocks_now(void)
{
	return pagetypeinfo_now(workload_pagetypeinfo_unmovable_blocks);
}

int64_t wl_unmovable_free_now(void)
{
	return pagetypeinfo_now(workload_pagetypeinfo_unmovable_free);
}

int workload_parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v;
	double mult = 1;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0))
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': mult = 1024.0; end++; break;
	case 'M': mult = 1024.0 * 1024; end++; break;
	case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
	case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
	default: return -EINVAL;
	}
	if (mult > 1 && *end == 'i')
		end++;			/* "64Mi" */
	if (mult > 1 && (*end == 'B' || *end == 'b'))
		end++;			/* "64MB", "64MiB": powers of 1024 either way */
	if (*end)
		return -EINVAL;
	v *= mult;
	if (v >= 18446744073709551615.0)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

static uint64_t round_down(uint64_t v, uint64_t to)
{
	return v / to * to;
}

static unsigned long long mib(uint64_t b)
{
	return b >> 20;
}

int workload_plan(enum workload_kind kind, const struct workload_opts *o,
		  struct workload_plan *p, char *err, size_t errlen)
{
	char *text = NULL;
	int64_t avail;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	ret = wl_read_file("/proc/meminfo", &text);
	if (ret)
		return ret;
	avail = wl_meminfo_available(text);
	free(text);
	if (avail < 0)
		return -ENODATA;
	return workload_plan_for(kind, o, (uint64_t)avail, wl_unmovable_free_now(), p, err, errlen);
}

int workload_plan_for(enum workload_kind kind, const struct workload_opts *o,
		      uint64_t mem_available, int64_t unmovable_free,
		      struct workload_plan *p, char *err, size_t errlen)
{
	uint64_t m, peak, held;

	if (err && errlen)
		err[0] = '\0';
	memset(p, 0, sizeof(*p));
	if ((unsigned)kind >= WORKLOAD__COUNT)
		return -EINVAL;
	p->kind = kind;
	p->seed = o->seed;
	p->duration = o->duration > 0 ? o->duration : WORKLOAD_DEFAULT_DURATION;
	p->hold = o->hold > 0 ? o->hold : 0;
	p->mem_available = mem_available;
	p->unmovable_free = unmovable_free;

	if (o->mem) {
		m = o->mem;
	} else {
		m = p->mem_available / 100 * WORKLOAD_DEFAULT_MEM_PCT;
		if (m > WORKLOAD_DEFAULT_MEM_CAP)
			m = WORKLOAD_DEFAULT_MEM_CAP;
		p->mem_default = true;
	}
	m = round_down(m, 2 * WORKLOAD_CHUNK);
	if (m < WORKLOAD_MIN_MEM) {
		if (err)
			snprintf(err, errlen, "a budget of %llu KiB is below the minimum of %llu MiB%s",
				 (unsigned long long)(m >> 10), mib(WORKLOAD_MIN_MEM),
				 o->mem ? "" : " (MemAvailable is too small)");
		return -EINVAL;
	}
	p->mem = m;

	/*
	 * Automatic pipe pressure: at least what the holes freed, and enough to use up the free
	 * space of the unmovable pageblocks plus a margin, since the kernel only falls back to
	 * (steals from) other types once that is gone; but never more than
	 * WORKLOAD_AUTO_PIPE_CAP_PCT of MemAvailable for that second term.
	 */
	uint64_t pipe_base = 0;

	switch (kind) {
	case WORKLOAD_FRAGMENT:
		p->file_bytes = round_down(m / 4 * 3, 2 * WORKLOAD_CHUNK);
		p->anon_bytes = m - p->file_bytes;
		pipe_base = m / 2;
		p->forks = 32;
		p->fork_batch = 32;
		p->fork_touch = 64 << 10;
		break;
	case WORKLOAD_THP:
		p->thp_bytes = round_down(m / 2, 2 << 20);
		p->anon_bytes = round_down(m - p->thp_bytes, 2 << 20);
		break;
	case WORKLOAD_FORKS:
		p->forks = (unsigned)(m / (256 << 10));
		p->fork_batch = 64;
		p->fork_touch = 64 << 10;
		break;
	case WORKLOAD_MIXED:
		p->file_bytes = round_down(m / 8 * 3, 2 * WORKLOAD_CHUNK);
		p->anon_bytes = round_down(m / 8, 2 * WORKLOAD_CHUNK);
		p->thp_bytes = round_down(m / 4, 2 << 20);
		pipe_base = m / 4;
		p->forks = (unsigned)(m / (1 << 20));
		p->fork_batch = 64;
		p->fork_touch = 64 << 10;
		break;
	default:
		break;
	}
	if (p->forks) {
		if (o->forks)
			p->forks = o->forks;
		if (p->forks < 16)
			p->forks = 16;
		if (p->forks > 4096 && !o->forks)
			p->forks = 4096;
		if (p->fork_batch > p->forks)
			p->fork_batch = p->forks;
	}
	if (kind == WORKLOAD_FRAGMENT || kind == WORKLOAD_MIXED) {
		if (o->pipes) {
			p->pipe_bytes = o->pipes;
		} else {
			uint64_t want = pipe_base;

			p->pipe_cap = p->mem_available / 100 * WORKLOAD_AUTO_PIPE_CAP_PCT;
			if (p->pipe_cap < pipe_base)
				p->pipe_cap = pipe_base;
			if (p->unmovable_free >= 0) {
				uint64_t need = (uint64_t)p->unmovable_free + WORKLOAD_PIPE_MARGIN;

				if (need > p->pipe_cap)
					need = p->pipe_cap;
				if (need > want)
					want = need;
				p->pipes_auto = true;	/* closed loop, see wl_pipes() */
			} else {
				p->pipe_cap = want;
			}
			p->pipe_bytes = want;
		}
		p->pipe_bytes = (p->pipe_bytes + WORKLOAD_PIPE_SIZE - 1) / WORKLOAD_PIPE_SIZE *
				WORKLOAD_PIPE_SIZE;
		if (p->pipe_cap < p->pipe_bytes)
			p->pipe_cap = p->pipe_bytes;
	}

	/* The peak: the whole fill, or what stays after the holes plus the pipes and THP. */
	held = (p->file_bytes + p->anon_bytes) / 2 + p->thp_bytes + p->pipe_cap;
	peak = p->file_bytes + p->anon_bytes + p->thp_bytes;
	if (held > peak)
		peak = held;
	if (kind == WORKLOAD_FORKS)
		peak = (uint64_t)p->fork_batch * (p->fork_touch * 2 + (256 << 10));
	if (peak > p->mem_available / 100 * WORKLOAD_MAX_MEM_PCT) {
		if (err)
			snprintf(err, errlen,
				 "the run would hold up to %llu MiB, more than %d%% of MemAvailable (%llu MiB)",
				 mib(peak), WORKLOAD_MAX_MEM_PCT, mib(p->mem_available));
		return -EINVAL;
	}
	return 0;
}

static void ctx_init(struct wl_ctx *c, const struct workload_plan *plan,
		     const struct workload_opts *opts, struct workload_result *res)
{
	memset(c, 0, sizeof(*c));
	c->plan = plan;
	c->opts = opts;
	c->res = res;
	c->rng.s = plan->seed;
	c->dirfd = -1;
}

int workload_run(const struct workload_plan *plan, const struct workload_opts *opts,
		 struct workload_result *res)
{
	struct wl_ctx c;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	res->plan = *plan;
	res->unmovable_free_end = -1;
	res->sequence = 0xcbf29ce484222325ULL;
	ctx_init(&c, plan, opts, res);
	res->start_ns = wl_now_ns();
	res->pid = (int)getpid();
	c.deadline_ns = res->start_ns + (uint64_t)(plan->duration * 1e9);
	c.buf = malloc(WORKLOAD_CHUNK);
	if (!c.buf)
		return -ENOMEM;
	for (size_t i = 0; i < WORKLOAD_CHUNK; i += 8) {
		uint64_t v = wl_rng_next(&c.rng);

		memcpy(c.buf + i, &v, 8);
	}

	if (plan->file_bytes) {
		ret = wl_setup_dir(&c);
		if (ret)
			goto out;
	}
	/* Each step only while nothing failed and no stop (signal, --duration) came. */
#define NEXT (!ret && !wl_should_stop(&c))
	switch (plan->kind) {
	case WORKLOAD_FRAGMENT:
		ret = wl_fill(&c, plan->file_bytes, plan->anon_bytes);
		if (NEXT)
			ret = wl_holes(&c);
		if (NEXT)
			ret = wl_pipes(&c, plan->pipe_bytes, plan->pipe_cap, plan->pipes_auto);
		if (NEXT)
			ret = wl_forks(&c, plan->forks, plan->fork_batch, plan->fork_touch);
		break;
	case WORKLOAD_THP:
		ret = wl_thp(&c, plan->thp_bytes, plan->anon_bytes);
		break;
	case WORKLOAD_FORKS:
		ret = wl_forks(&c, plan->forks, plan->fork_batch, plan->fork_touch);
		break;
	case WORKLOAD_MIXED:
		ret = wl_fill(&c, plan->file_bytes, plan->anon_bytes);
		if (NEXT)
			ret = wl_holes(&c);
		if (NEXT)
			ret = wl_thp(&c, plan->thp_bytes, 0);
		if (NEXT)
			ret = wl_pipes(&c, plan->pipe_bytes, plan->pipe_cap, plan->pipes_auto);
		if (NEXT)
			ret = wl_forks(&c, plan->forks, plan->fork_batch, plan->fork_touch);
		break;
	default:
		ret = -EINVAL;
	}
	if (NEXT && plan->hold > 0)
		ret = wl_hold(&c, plan->hold);
#undef NEXT
out:
	wl_phase_begin(&c, "cleanup");
	wl_cleanup(&c);
	wl_phase_end(&c);
	res->end_ns = wl_now_ns();
	return ret;
}

static void json_bytes_or_null(struct jsonw *w, const char *name, int64_t v)
{
	if (v < 0)
		jsonw_null_field(w, name);
	else
		jsonw_uint_field(w, name, (uint64_t)v);
}

void workload_result_json(const struct workload_result *r, struct jsonw *w)
{
	const struct workload_plan *p = &r->plan;

	jsonw_start_object(w);
	jsonw_string_field(w, "workload", workload_kind_name(p->kind));
	jsonw_uint_field(w, "seed", p->seed);
	jsonw_name(w, "plan");
	jsonw_start_object(w);
	jsonw_uint_field(w, "mem", p->mem);
	jsonw_bool_field(w, "mem_default", p->mem_default);
	jsonw_uint_field(w, "mem_available", p->mem_available);
	json_bytes_or_null(w, "unmovable_free", p->unmovable_free);
	jsonw_uint_field(w, "file_bytes", p->file_bytes);
	jsonw_uint_field(w, "anon_bytes", p->anon_bytes);
	jsonw_uint_field(w, "thp_bytes", p->thp_bytes);
	jsonw_uint_field(w, "pipe_bytes", p->pipe_bytes);
	jsonw_uint_field(w, "pipe_cap", p->pipe_cap);
	jsonw_bool_field(w, "pipes_auto", p->pipes_auto);
	jsonw_uint_field(w, "forks", p->forks);
	jsonw_uint_field(w, "fork_batch", p->fork_batch);
	jsonw_float_field(w, "duration", p->duration);
	jsonw_float_field(w, "hold", p->hold);
	jsonw_end_object(w);
	jsonw_string_field(w, "dir", r->dir);
	jsonw_bool_field(w, "private_tmpfs", r->private_tmpfs);
	jsonw_uint_field(w, "files", r->files);
	jsonw_uint_field(w, "file_bytes", r->file_bytes);
	jsonw_uint_field(w, "files_unlinked", r->files_unlinked);
	jsonw_uint_field(w, "anon_bytes", r->anon_bytes);
	jsonw_uint_field(w, "anon_chunks_freed", r->anon_chunks_freed);
	jsonw_uint_field(w, "thp_touched", r->thp_touched);
	jsonw_uint_field(w, "thp_bytes", r->thp_bytes);
	jsonw_uint_field(w, "thp_extents_freed", r->thp_extents_freed);
	if (r->thp_mode[0])
		jsonw_string_field(w, "thp_mode", r->thp_mode);
	else
		jsonw_null_field(w, "thp_mode");
	jsonw_bool_field(w, "thp_switched", r->thp_switched);
	jsonw_uint_field(w, "pipes", r->pipes);
	jsonw_uint_field(w, "pipe_bytes", r->pipe_bytes);
	jsonw_uint_field(w, "pipe_rounds", r->pipe_rounds);
	jsonw_bool_field(w, "pipe_overshoot", r->pipe_overshoot);
	json_bytes_or_null(w, "unmovable_free_end", r->unmovable_free_end);
	jsonw_uint_field(w, "forks", r->forks);
	{
		char hex[24];

		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)r->sequence);
		jsonw_string_field(w, "sequence", hex);
	}
	jsonw_float_field(w, "elapsed", (double)(r->end_ns - r->start_ns) / 1e9);
	jsonw_uint_field(w, "start_mono_ns", r->start_ns);
	jsonw_int_field(w, "pid", r->pid);
	jsonw_name(w, "phases");
	jsonw_start_array(w);
	for (int i = 0; i < r->nr_phases; i++) {
		const struct workload_phase *ph = &r->phases[i];

		jsonw_start_object(w);
		jsonw_string_field(w, "name", ph->name);
		jsonw_float_field(w, "start", (double)(ph->start_ns - r->start_ns) / 1e9);
		jsonw_float_field(w, "end", ph->end_ns ? (double)(ph->end_ns - r->start_ns) / 1e9 : NAN);
		jsonw_uint_field(w, "start_mono_ns", ph->start_ns);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	jsonw_bool_field(w, "timed_out", r->timed_out);
	jsonw_bool_field(w, "interrupted", r->interrupted);
	jsonw_bool_field(w, "cleaned_up", r->cleaned_up);
	if (r->note[0])
		jsonw_string_field(w, "note", r->note);
	else
		jsonw_null_field(w, "note");
	jsonw_end_object(w);
}
