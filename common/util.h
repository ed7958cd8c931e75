/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the host processes: cleanup attributes, checked arithmetic, time. */
#ifndef MUMU_COMMON_UTIL_H
#define MUMU_COMMON_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void freep(void *p)
{
	free(*(void **)p);
}

/* `_cleanup_close_ int fd = -1;` closes fd when it goes out of scope (systemd's idiom). */
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_free_	__attribute__((cleanup(freep)))

/* Hand an fd out of a _cleanup_close_ variable: the variable no longer owns it. */
static inline int take_fd(int *fd)
{
	int r = *fd;

	*fd = -1;
	return r;
}

/* True when [off, off + len) lies inside [0, size), without overflow. */
static inline bool range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* CLOCK_MONOTONIC in ns: the one clock of the supervisor, the VMMs and the trace. */
static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline struct timespec ns_timespec(uint64_t t_ns)
{
	return (struct timespec){ .tv_sec = (time_t)(t_ns / 1000000000ULL),
				  .tv_nsec = (long)(t_ns % 1000000000ULL) };
}

/*
 * A whole decimal number, digits only (no sign, space or base prefix): 0, -EINVAL when s is
 * not one, -ERANGE when it does not fit. The one number parser of configs, options and
 * requests.
 */
static inline int parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

/*
 * The host TSC at a CLOCK_MONOTONIC instant: a TSC read between two clock reads, the
 * tightest of a few, stands for the instant halfway between them (to some 20 ns here).
 */
static inline void tsc_anchor(uint64_t *ret_tsc, uint64_t *ret_ns)
{
	uint64_t best = UINT64_MAX;

	for (int k = 0; k < 8; k++) {
		uint64_t t0 = mono_ns(), tsc = __rdtsc(), t1 = mono_ns();

		if (t1 - t0 < best) {
			best = t1 - t0;
			*ret_tsc = tsc;
			*ret_ns = t0 + (t1 - t0) / 2;
		}
	}
}

/* Printable ASCII: what text from a guest, a VMM or a client may show as it is. */
static inline bool is_printable(int c)
{
	return (unsigned char)c >= 0x20 && (unsigned char)c < 0x7f;
}

/* Sleep until mono_ns() reaches t_ns: an absolute deadline, so no drift; signals resume it. */
static inline void sleep_until_ns(uint64_t t_ns)
{
	struct timespec ts = ns_timespec(t_ns);

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

#endif
