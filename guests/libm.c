/* SPDX-License-Identifier: MIT */
/*
 * libm.bin: the math functions a control partition expects (musl's, linked with the guest
 * runtime: docs/abi.md), checked from inside a guest against values computed to 1e-15:
 *
 *     libm: FAIL NAME got G want W   /   libm: vcpu V done N ok, M failed
 *
 * On every vCPU, and again in a later window: the FPU state and the stack protector's canary
 * (%fs:0x28, the information page: musl is built with it) hold wherever the guest runs.
 */
#include <math.h>
#include <string.h>

#include "lib/mumu.h"

static int n_ok[MUMU_VCPU_MAX], n_failed[MUMU_VCPU_MAX];

static void check(uint64_t me, const char *name, double got, double want)
{
	double err = fabs(got - want), scale = fabs(want) > 1 ? fabs(want) : 1;

	if (err <= 1e-15 * scale) {
		n_ok[me]++;
	} else {
		n_failed[me]++;
		mumu_printf("libm: FAIL %s got %ld want %ld (x1e12)\n", name, (long)(got * 1e12),
			    (long)(want * 1e12));
	}
}

int main(uint64_t vcpu, const struct mumu_info *info)
{
	volatile double x = 2.0, y = -0.75;

	for (int pass = 0; pass < 2; pass++) {
		check(vcpu, "sqrt", sqrt(x), 1.4142135623730951);
		check(vcpu, "sin", sin(x), 0.90929742682568171);
		check(vcpu, "cos", cos(x), -0.41614683654714241);
		check(vcpu, "tan", tan(y), -0.93159645994407259);
		check(vcpu, "atan2", atan2(y, x), -0.35877067027057225);
		check(vcpu, "asin", asin(y), -0.848062078981481);
		check(vcpu, "acos", acos(y), 2.4188584057763776);
		check(vcpu, "exp", exp(x), 7.3890560989306504);
		check(vcpu, "log", log(x), 0.69314718055994529);
		check(vcpu, "log10", log10(x), 0.3010299956639812);
		check(vcpu, "pow", pow(x, 0.5), 1.4142135623730951);
		check(vcpu, "fabs", fabs(y), 0.75);
		check(vcpu, "floor", floor(y), -1.0);
		check(vcpu, "ceil", ceil(y), -0.0);
		check(vcpu, "fmod", fmod(7.5, x), 1.5);
		check(vcpu, "hypot", hypot(3.0, 4.0), 5.0);
		check(vcpu, "sinh", sinh(y), -0.82231673193582999);
		check(vcpu, "tanh", tanh(y), -0.63514895238728731);
		check(vcpu, "round", round(2.5), 3.0);
		check(vcpu, "sinf", (double)sinf(2.0f), (double)0.909297427f);
		{ /* and musl's string functions */
			char buf[8];

			strncpy(buf, "abc", sizeof(buf));
			check(vcpu, "strlen", (double)strlen(buf), 3);
			check(vcpu, "strcmp", (double)(strcmp(buf, "abd") < 0), 1);
			check(vcpu, "strchr", (double)(strchr(buf, 'c') - buf), 2);
		}
		mumu_yield(); /* the same in the next window */
	}
	mumu_printf("libm: vcpu %lu done %d ok, %d failed\n", vcpu, n_ok[vcpu], n_failed[vcpu]);
	for (;;)
		mumu_yield();
}
