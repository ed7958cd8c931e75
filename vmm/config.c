/* SPDX-License-Identifier: MIT */
/* Validation of the IPC_CONFIG a VMM receives: the supervisor is trusted, but checked anyway. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "vmm/vmm.h"

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL && s[0] != '\0';
}

int vmm_config_validate(const struct ipc_config *cfg, char *why, size_t why_size)
{
	const char *err = NULL;

	if (!terminated(cfg->partition_name, sizeof(cfg->partition_name)) ||
	    strlen(cfg->partition_name) > MUMU_NAME_MAX)
		err = "partition name";
	else if (!terminated(cfg->module_name, sizeof(cfg->module_name)) ||
		 strlen(cfg->module_name) > MUMU_NAME_MAX)
		err = "module name";
	else if (cfg->n_vcpus == 0 || cfg->n_vcpus > MUMU_VCPU_MAX)
		err = "vCPU count";
	else if (cfg->ram_bytes < MUMU_RAM_MIN_BYTES || cfg->ram_bytes > MUMU_RAM_MAX_BYTES ||
		 cfg->ram_bytes % MUMU_PAGE_BYTES)
		err = "RAM size";
	else if (cfg->image_bytes == 0 || cfg->image_bytes > cfg->ram_bytes - MUMU_USER_GPA -
								 cfg->n_vcpus * MUMU_STACK_BYTES)
		err = "image size";
	else if (cfg->entry < MUMU_USER_GPA || cfg->entry - MUMU_USER_GPA >= cfg->image_bytes)
		err = "entry point";
	else if (cfg->n_regions > MUMU_REGION_MAX)
		err = "region count";
	else if (cfg->flags & ~(IPC_CFG_SECCOMP_LOG | IPC_CFG_NO_SANDBOX | IPC_CFG_SET_SCHEDULE |
				IPC_CFG_USERNS))
		err = "flags";
	else if (cfg->n_batons > IPC_BATON_MAX)
		err = "baton count";
	for (uint32_t i = 0; !err && i < cfg->n_batons; i++)
		if (cfg->batons[i].vcpu >= cfg->n_vcpus || cfg->batons[i].out > 1)
			err = "baton";
	for (uint32_t i = 0; !err && i < cfg->n_vcpus; i++)
		for (uint32_t j = 0; j < i; j++)
			if (cfg->physical_core_id[i] == cfg->physical_core_id[j])
				err = "two vCPUs on one core";
	for (uint32_t i = 0; !err && i < cfg->n_regions; i++) {
		const struct mumu_region *r = &cfg->regions[i];

		if (!terminated(r->name, sizeof(r->name)) || r->size_bytes == 0 ||
		    r->size_bytes % MUMU_PAGE_BYTES || r->gpa % MUMU_PAGE_BYTES ||
		    r->gpa < MUMU_REGION_GPA ||
		    !range_ok(r->gpa - MUMU_REGION_GPA, r->size_bytes,
			      MUMU_INFO_GPA - MUMU_REGION_GPA) ||
		    (r->access != MUMU_ACCESS_READ && r->access != MUMU_ACCESS_WRITE))
			err = "region";
	}
	if (err) {
		snprintf(why, why_size, "invalid %s", err);
		return -EINVAL;
	}
	return 0;
}
