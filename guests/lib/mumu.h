/* SPDX-License-Identifier: MIT */
/* The guest runtime: hypercall wrappers and a small printf over the console hypercall. */
#ifndef MUMU_GUEST_MUMU_H
#define MUMU_GUEST_MUMU_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mumu/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A guest program's entry, called by the runtime's start-up (start.S) on every vCPU with
 * its logical core id and the information page: a partition program defines it. When it
 * returns, that vCPU gives every window away from then on.
 */
int main(uint64_t vcpu, const struct mumu_info *info);

static inline long mumu_hc(long nr, long a0, long a1, long a2)
{
	long ret;

	/* The store exits to the VMM, which puts the result in rax before the guest goes on. */
	__asm__ volatile("movl %%eax, %c1"
			 : "=a"(ret)
			 : "i"(MUMU_HC_GPA), "a"(nr), "D"(a0), "S"(a1), "d"(a2)
			 : "memory");
	return ret;
}

/* This vCPU's logical core id, from its GS base (ABI 3: mumu_info.vcpu_self), no exit. */
static inline uint32_t mumu_vcpu_self(void)
{
	uint32_t v;

	__asm__ volatile("movl %%gs:0, %0" : "=r"(v));
	return v;
}

static inline long mumu_console_write(const char *buf, size_t len)
{
	return mumu_hc(MUMU_HC_CONSOLE_WRITE, (long)buf, (long)len, 0);
}

static inline void mumu_yield(void)
{
	mumu_hc(MUMU_HC_YIELD, 0, 0, 0);
}

static inline uint64_t mumu_time_ns(void)
{
	return (uint64_t)mumu_hc(MUMU_HC_TIME_NS, 0, 0, 0);
}

static inline long mumu_raise_error(uint32_t code, const char *msg, size_t len)
{
	return mumu_hc(MUMU_HC_RAISE_ERROR, code, (long)msg, (long)len);
}

/* A guard page (ABI 3): the page at `page` is unmapped until the partition restarts, so an
 * access faults (#PF, an exception upcall or a MEMORY_VIOLATION). -ENOSPC: no spare page
 * table for its 2 MiB (docs/abi.md). */
static inline long mumu_guard(const void *page)
{
	return mumu_hc(MUMU_HC_GUARD, (long)page, 0, 0);
}

/* ARINC SET_MODULE_SCHEDULE: from the next major frame on; -EPERM unless SetModuleSchedule. */
static inline long mumu_set_schedule(uint32_t id)
{
	return mumu_hc(MUMU_HC_SET_SCHEDULE, id, 0, 0);
}

static inline long mumu_get_schedule(struct mumu_schedule_status *st)
{
	return mumu_hc(MUMU_HC_GET_SCHEDULE, (long)st, 0, 0);
}

/* ARINC SET_PARTITION_MODE: NORMAL after initialisation, IDLE, or a restart of itself. */
static inline long mumu_set_mode(enum mumu_mode mode)
{
	return mumu_hc(MUMU_HC_SET_MODE, mode, 0, 0);
}

static inline long mumu_get_status(struct mumu_partition_status *st)
{
	return mumu_hc(MUMU_HC_GET_STATUS, (long)st, 0, 0);
}

static inline uint64_t mumu_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

size_t mumu_strlen(const char *s);
int mumu_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int mumu_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Formats into a buffer and writes it with one console hypercall. */
int mumu_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Opening a port or region that must succeed (r >= 0). Otherwise: "cannot open WHAT: r" on the
 * console, an application error naming WHAT for the health monitor, then every window is
 * given away. */
void mumu_require(long r, const char *what);

#ifdef __cplusplus
}
#endif
#endif
