/* SPDX-License-Identifier: MIT */
/* Fixed-size latency histograms (log2 buckets with 16 linear steps: within 6.25 %). */
#ifndef MUMU_SUPERVISOR_STATS_H
#define MUMU_SUPERVISOR_STATS_H

#include <stdint.h>

#define SUP_HIST_SUB	 16
#define SUP_HIST_BUCKETS (64 * SUP_HIST_SUB)

struct sup_hist {
	uint64_t n;
	uint64_t max;
	uint32_t bucket[SUP_HIST_BUCKETS];
};

void sup_hist_add(struct sup_hist *h, uint64_t v);
/* Merge src into dst. */
void sup_hist_merge(struct sup_hist *dst, const struct sup_hist *src);
/* The value at percentile pct (0..100], rounded up to its bucket's upper bound; 0 when empty. */
uint64_t sup_hist_percentile(const struct sup_hist *h, double pct);

/* What one partition's windows did, counted by the core threads. */
struct sup_part_stats {
	uint64_t ran;		     /* stopped by its end timer */
	uint64_t yielded;	     /* gave the rest away */
	uint64_t missed;	     /* start missed entirely */
	uint64_t enforced;	     /* did not stop within the grace: stopped by the supervisor */
	uint64_t idle;		     /* the partition was not running */
	struct sup_hist lateness_ns; /* first guest entry - planned start */
	struct sup_hist overrun_ns;  /* last guest exit - planned end, 0 when on time */
};

void sup_part_stats_merge(struct sup_part_stats *dst, const struct sup_part_stats *src);

#endif
