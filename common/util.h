/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the host processes: cleanup attributes and checked arithmetic. */
#ifndef MUMU_COMMON_UTIL_H
#define MUMU_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

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

#endif
