/* SPDX-License-Identifier: MIT */
/* Confinement of a VMM process. So far: die with the supervisor (the sandbox issue adds more). */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "vmm/vmm.h"

int vmm_sandbox_enter(const struct ipc_config *cfg)
{
	/* No VMM outlives its supervisor; the check catches a parent that died before prctl. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return -errno;
	if (getppid() == 1)
		return -ESRCH;
	return 0;
}
