/* SPDX-License-Identifier: MIT */
/* mumu's additions to APEX (docs/apex.md), outside the standard's names: lower case. */
#ifndef ARINC653_MUMU_H
#define ARINC653_MUMU_H

#include "arinc653/apex.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * CREATE_PROCESS then START, in initialisation: a process of this name, entry, priority and
 * period (INFINITE_TIME_VALUE: aperiodic), no deadline (TIME_CAPACITY infinite, SOFT), an
 * 8 KiB stack. Returns the first return code that is not NO_ERROR, else NO_ERROR; *id when
 * created.
 */
RETURN_CODE_TYPE apex_spawn(const char *name, void (*entry)(void), PRIORITY_TYPE priority,
			    SYSTEM_TIME_TYPE period, PROCESS_ID_TYPE *id);

#ifdef __cplusplus
}
#endif

#endif
