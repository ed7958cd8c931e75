/* SPDX-License-Identifier: MIT */
/*
 * The APEX test guests' checks (tests/e2e/apex.sh reads their lines): each prints
 *
 *     apex: ok NAME      or      apex: FAIL NAME (line L: got X, want Y)
 *
 * and counts into n_ok and n_failed for the program's last line.
 */
#ifndef MUMU_GUESTS_APEX_CHECK_H
#define MUMU_GUESTS_APEX_CHECK_H

#include "lib/mumu.h"

static int n_ok, n_failed;

#define CHECK(name, got, want) check(name, __LINE__, (long)(got), (long)(want))

static void check(const char *name, int line, long got, long want)
{
	if (got == want) {
		n_ok++;
		mumu_printf("apex: ok %s\n", name);
	} else {
		n_failed++;
		mumu_printf("apex: FAIL %s (line %d: got %ld, want %ld)\n", name, line, got, want);
	}
}

#endif
