/* SPDX-License-Identifier: MIT */
/*
 * upcall_storm.bin: an attacker for the isolation benchmark (bench/interference.sh). It makes
 * its vCPU leave the guest as often as ABI 3 lets it: a periodic timer at the shortest period
 * (MUMU_TIMER_PERIOD_MIN_NS), every exception it can raise taken as an upcall, and a kick to
 * itself in each handler. All of it must cost only its own windows.
 */
#include "lib/upcall.h"

static struct mumu_upcalls up;

static struct mumu_context *on_upcall(struct mumu_upcalls *u, uint32_t events,
				      struct mumu_context *ctx)
{
	if (events & MUMU_EV_EXCEPTION)
		ctx->frame.rip += 2; /* past the ud2 */
	mumu_hc(MUMU_HC_KICK, 0, 0, 0);
	return ctx;
}

int main(uint64_t vcpu, const struct mumu_info *info)
{
	if (vcpu != 0 || mumu_upcall_init(&up, MUMU_EV_ALL, on_upcall) < 0)
		for (;;)
			mumu_yield();
	mumu_timer_set(&up, mumu_clock_ns(), 1);
	for (;;)
		__asm__ volatile("ud2");
}
