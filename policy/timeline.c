/* SPDX-License-Identifier: MIT */
/* Timeline arithmetic: which windows a physical core runs, and how much time a partition gets. */
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static int cmp_offset(const void *a, const void *b)
{
	const struct pol_core_window *x = a, *y = b;

	return (x->offset_ns > y->offset_ns) - (x->offset_ns < y->offset_ns);
}

size_t pol_core_windows(const struct pol_system *sys, const struct pol_schedule *s, uint32_t core,
			struct pol_core_window *out, size_t max)
{
	size_t n = 0;

	for (size_t w = 0; w < s->n_windows; w++) {
		const struct pol_window *win = &s->windows[w];
		const struct pol_partition *p;

		if (win->partition >= sys->n_partitions)
			continue;
		p = &sys->partitions[win->partition];
		for (size_t v = 0; v < p->n_cores; v++) {
			if (p->cores[v].physical_core_id != core)
				continue;
			if (n < max)
				out[n] = (struct pol_core_window){
					.partition = win->partition,
					.vcpu = p->cores[v].logical_core_id,
					.offset_ns = win->offset_ns,
					.duration_ns = win->duration_ns,
				};
			n++;
		}
	}
	if (out && max)
		qsort(out, n < max ? n : max, sizeof(*out), cmp_offset);
	return n;
}

bool pol_core_used(const struct pol_system *sys, uint32_t core)
{
	for (size_t i = 0; i < sys->n_partitions; i++)
		for (size_t v = 0; v < sys->partitions[i].n_cores; v++)
			if (sys->partitions[i].cores[v].physical_core_id == core)
				return true;
	return false;
}

uint64_t pol_window_time_in(const struct pol_schedule *s, size_t p, uint64_t start_ns,
			    uint64_t end_ns)
{
	uint64_t total = 0;

	for (size_t w = 0; w < s->n_windows; w++) {
		const struct pol_window *win = &s->windows[w];
		uint64_t a = win->offset_ns, b = win->offset_ns + win->duration_ns;

		if (win->partition != p)
			continue;
		if (a < start_ns)
			a = start_ns;
		if (b > end_ns)
			b = end_ns;
		if (b > a)
			total += b - a;
	}
	return total;
}

void pol_timeline_render(const struct pol_system *sys, const struct pol_schedule *s, uint32_t core,
			 char *buf, size_t width)
{
	memset(buf, '.', width);
	buf[width] = '\0';
	if (s->major_frame_ns == 0)
		return;
	for (size_t w = 0; w < s->n_windows; w++) {
		const struct pol_window *win = &s->windows[w];
		const struct pol_partition *p;
		bool here = false;
		size_t a, b;

		if (win->partition >= sys->n_partitions)
			continue;
		p = &sys->partitions[win->partition];
		for (size_t v = 0; v < p->n_cores; v++)
			here |= p->cores[v].physical_core_id == core;
		if (!here)
			continue;
		/* Cells whose start lies inside the window; at least one cell per window. */
		a = (size_t)((__uint128_t)win->offset_ns * width / s->major_frame_ns);
		b = (size_t)((__uint128_t)(win->offset_ns + win->duration_ns) * width /
			     s->major_frame_ns);
		if (b <= a)
			b = a + 1;
		for (size_t i = a; i < b && i < width; i++)
			buf[i] = p->name[0];
	}
}
