/* SPDX-License-Identifier: MIT */
/* What the validator needs to know about this host: online CPUs and the guest directories. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

/* Parse a CPU list such as "0-3,8,10-11" into online[]. Returns 0 or -EINVAL. */
int pol_host_parse_cpulist(struct pol_host *host, const char *list)
{
	const char *s = list;

	memset(host->cpu_online, 0, sizeof(host->cpu_online));
	host->n_cpus_online = 0;
	while (*s && *s != '\n') {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a;

		if (end == s)
			return -EINVAL;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s)
				return -EINVAL;
		}
		if (a > b || b >= POL_CPU_MAX)
			return -EINVAL;
		for (unsigned long i = a; i <= b; i++)
			if (!host->cpu_online[i]) {
				host->cpu_online[i] = true;
				host->n_cpus_online++;
			}
		s = end;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
	}
	snprintf(host->online_text, sizeof(host->online_text), "%.*s", (int)strcspn(list, "\n"),
		 list);
	return host->n_cpus_online ? 0 : -EINVAL;
}

int pol_host_probe(struct pol_host *host)
{
	char buf[4096];
	FILE *f;
	size_t n;

	memset(host, 0, sizeof(*host));
	f = fopen("/sys/devices/system/cpu/online", "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (pol_host_parse_cpulist(host, buf) < 0)
		return -EINVAL;
	host->guest_dirs[host->n_guest_dirs++] = MUMU_BUILD_GUEST_DIR;
	host->guest_dirs[host->n_guest_dirs++] = MUMU_INSTALL_GUEST_DIR;
	return 0;
}
