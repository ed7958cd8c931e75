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

/* Ports, channels and shared memories: resolves their references; returns the problems. */
size_t pol_check_comms(struct pol_system *sys, struct pol_diags *diags);

/* xml.c: a config's text checked, parsed and validated against the schema: 0 and the document
 * (xmlFreeDoc it), or -EINVAL / -ENOMEM with the problems in diags. */
struct _xmlDoc;
int pol_xml_read(const char *name, const char *buf, size_t size, const char *schema_path,
		 struct pol_diags *diags, struct _xmlDoc **ret_doc);
/* A config file's bytes (a regular file, bounded), NUL-terminated; -EINVAL with a diagnostic. */
int pol_xml_read_file(const char *path, char **ret_buf, size_t *ret_size, struct pol_diags *diags);

/* Semantic checks of a parsed system: every problem goes to diags. Returns the count. */
size_t pol_check(struct pol_system *sys, const struct pol_host *host, struct pol_diags *diags);

#endif
