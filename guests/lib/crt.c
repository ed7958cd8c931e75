/* SPDX-License-Identifier: MIT */
/*
 * The start of a guest program after start.S: its static constructors (C++ globals, C
 * __attribute__((constructor))) run once, on vCPU 0, before any vCPU enters main; and what a
 * freestanding C++ program needs of its ABI without exceptions or a heap.
 */
#include "lib/mumu.h"

typedef void (*ctor_fn)(void);
extern ctor_fn __init_array_start[], __init_array_end[]; /* guest.ld */

static volatile int ctors_done;

void mumu_runtime_start(uint64_t vcpu, const struct mumu_info *info);
void mumu_runtime_start(uint64_t vcpu, const struct mumu_info *info)
{
	if (vcpu == 0) {
		for (ctor_fn *f = __init_array_start; f < __init_array_end; f++)
			(*f)();
		__atomic_store_n(&ctors_done, 1, __ATOMIC_RELEASE);
	} else {
		while (!__atomic_load_n(&ctors_done, __ATOMIC_ACQUIRE))
			__builtin_ia32_pause();
	}
	main(vcpu, info);
}

/* Static destructors are registered and never run: a partition program does not exit. */
void *__dso_handle;
int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);
int __cxa_atexit(void (*fn)(void *), void *arg, void *dso)
{
	return 0;
}

/* A pure virtual function called: a program error, the partition's. */
void __cxa_pure_virtual(void);
void __cxa_pure_virtual(void)
{
	static const char msg[] = "pure virtual function called";

	mumu_raise_error(0, msg, sizeof(msg) - 1);
	for (;;)
		mumu_yield();
}

/* operator delete (plain and sized): what a virtual destructor refers to; there is no heap. */
void _ZdlPv(void *p);
void _ZdlPvm(void *p, unsigned long size);
void _ZdlPv(void *p)
{
}
void _ZdlPvm(void *p, unsigned long size)
{
}
