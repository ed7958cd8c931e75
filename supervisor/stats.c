/* SPDX-License-Identifier: MIT */
/* Latency histograms for the per-partition window statistics. */
#include "supervisor/stats.h"

static unsigned bucket_of(uint64_t v)
{
	unsigned msb;

	if (v < SUP_HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	return (msb - 3) * SUP_HIST_SUB + (unsigned)((v >> (msb - 4)) & (SUP_HIST_SUB - 1));
}

/* The largest value that falls into bucket b. */
static uint64_t bucket_top(unsigned b)
{
	unsigned msb;
	uint64_t base;

	if (b < SUP_HIST_SUB)
		return b;
	msb = b / SUP_HIST_SUB + 3;
	base = (1ULL << msb) | ((uint64_t)(b % SUP_HIST_SUB) << (msb - 4));
	return base + (1ULL << (msb - 4)) - 1;
}

void sup_hist_add(struct sup_hist *h, uint64_t v)
{
	h->bucket[bucket_of(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

void sup_hist_merge(struct sup_hist *dst, const struct sup_hist *src)
{
	for (unsigned i = 0; i < SUP_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->n += src->n;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t sup_hist_percentile(const struct sup_hist *h, double pct)
{
	uint64_t want, seen = 0;

	if (h->n == 0)
		return 0;
	want = (uint64_t)((double)h->n * pct / 100.0 + 0.999999);
	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < SUP_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want)
			return bucket_top(i) < h->max ? bucket_top(i) : h->max;
	}
	return h->max;
}

void sup_part_stats_merge(struct sup_part_stats *dst, const struct sup_part_stats *src)
{
	dst->ran += src->ran;
	dst->yielded += src->yielded;
	dst->missed += src->missed;
	dst->enforced += src->enforced;
	dst->idle += src->idle;
	sup_hist_merge(&dst->lateness_ns, &src->lateness_ns);
	sup_hist_merge(&dst->overrun_ns, &src->overrun_ns);
}
