/* SPDX-License-Identifier: MIT */
/* What a VMM reports to its supervisor of its guest: faults and errors, bounded per second. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/vmm.h"

/*
 * A guest that faults or asks in a loop costs its own core, not the supervisor's time: a vCPU
 * sends IPC_FAULT_REPORTS_PER_S non-fatal reports and requests a second at most.
 */
bool vmm_may_send(struct vmm_vcpu *vcpu)
{
	uint64_t now = mono_ns();

	if (now - vcpu->report_period_ns >= 1000000000ULL) {
		vcpu->report_period_ns = now;
		vcpu->reports = 0;
	}
	if (vcpu->reports >= IPC_FAULT_REPORTS_PER_S)
		return false;
	vcpu->reports++;
	return true;
}

void vmm_report_fault(struct vmm_vcpu *vcpu, enum ipc_fault_kind kind, bool fatal, uint32_t code,
		      uint64_t addr, const char *fmt, ...)
{
	struct ipc_fault f = {
		.kind = kind,
		.vcpu = vcpu->id,
		.fatal = fatal,
		.code = code,
		.rip = vcpu->run ? vcpu->run->s.regs.regs.rip : 0,
		.addr = addr,
	};
	va_list ap;

	if (kind < IPC_FAULT_COUNT && !fatal && !vmm_may_send(vcpu)) {
		vcpu->suppressed[kind]++;
		return;
	}
	if (kind < IPC_FAULT_COUNT) {
		f.suppressed = vcpu->suppressed[kind];
		vcpu->suppressed[kind] = 0;
	}
	va_start(ap, fmt);
	vsnprintf(f.msg, sizeof(f.msg), fmt, ap);
	va_end(ap);
	/* A fault report is never dropped: wait for room (the supervisor drains continuously). */
	for (int tries = 0; tries < 100; tries++) {
		struct pollfd p = { .fd = vcpu->vmm->sock, .events = POLLOUT };
		int r = ipc_send(vcpu->vmm->sock, IPC_FAULT, &f, sizeof(f), NULL, 0);

		if (r != -EAGAIN)
			return;
		poll(&p, 1, 10);
	}
	log_error("fault report lost: %s", f.msg);
}
