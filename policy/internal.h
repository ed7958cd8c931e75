/* SPDX-License-Identifier: MIT */
/* Shared between the policy library's files; not part of its interface. */
#ifndef MUMU_POLICY_INTERNAL_H
#define MUMU_POLICY_INTERNAL_H

#include "policy/policy.h"

/* Append one diagnostic; returns -ENOMEM when it could not be stored. */
int pol_diag_add(struct pol_diags *diags, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Strict decimal: digits only, no sign or spaces, no overflow. 0 or -EINVAL / -ERANGE. */
int pol_parse_u64(const char *s, uint64_t *ret);

/* 1 to POL_NAME_MAX of A-Z a-z 0-9 _ - */
bool pol_name_ok(const char *s);

/* Unless pol_name_ok(name): the diagnostic "WHAT name 'NAME' is invalid; allowed: ..." at
 * FILE:LINE. Returns the problems added (0 or 1). */
size_t pol_check_name(struct pol_diags *diags, const char *file, int line, const char *what,
		      const char *name);

/* One pass over a system (link or check): where its problems go, and how many it found. */
struct pol_pass {
	const struct pol_system *sys;
	const struct pol_host *host;
	struct pol_diags *diags;
	size_t n;
};

#define pol_problem(c, line, ...) \
	((c)->n++, pol_diag_add((c)->diags, (c)->sys->path, line, __VA_ARGS__))

/* xml.c: a config's text checked, parsed and validated against the schema: 0 and the document
 * (xmlFreeDoc it), or -EINVAL / -ENOMEM with the problems in diags. */
struct _xmlDoc;
int pol_xml_read(const char *name, const char *buf, size_t size, const char *schema_path,
		 struct pol_diags *diags, struct _xmlDoc **ret_doc);
/* A config file's bytes (a regular file, bounded), NUL-terminated; -EINVAL with a diagnostic. */
int pol_xml_read_file(const char *path, char **ret_buf, size_t *ret_size, struct pol_diags *diags);

/*
 * link.c: finish the model parse.c built: every reference resolved to an index (windows,
 * channel ends, shared memory access), the initial schedule, the vCPUs in logical order,
 * each binary found and its size. A reference that names nothing is a problem here, and
 * stays SIZE_MAX. Returns the problems added.
 */
size_t pol_link(struct pol_system *sys, const struct pol_host *host, struct pol_diags *diags);

/* check.c, comms.c: the rules of a linked system, which they only read. Return the count. */
size_t pol_check(const struct pol_system *sys, const struct pol_host *host,
		 struct pol_diags *diags);
size_t pol_check_comms(const struct pol_system *sys, struct pol_diags *diags);

#endif
