/* SPDX-License-Identifier: MIT */
/*
 * Reading a config safely: a regular file of bounded size, text without DOCTYPE or entities,
 * parsed with nothing fetched from outside, validated against mumu.xsd; every problem a
 * diagnostic at FILE:LINE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "common/util.h"
#include "policy/internal.h"

#define CONFIG_MAX_BYTES (1U << 20)
#define SCHEMA_MAX_BYTES (1U << 20)

struct err_sink {
	struct pol_diags *diags;
	const char *file;
	size_t n;
};

/* Nothing outside the config is ever read: every external entity, DTD or include is refused. */
static xmlParserInputPtr refuse_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	return NULL;
}

static void collect_error(void *data, xmlErrorPtr e)
{
	struct err_sink *sink = data;
	char msg[400];
	size_t len;

	if (!e || e->level == XML_ERR_WARNING)
		return;
	snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "malformed XML");
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	if (e->domain == XML_FROM_SCHEMASV)
		pol_diag_add(sink->diags, sink->file, e->line, "%s; see etc/mumu.xsd", msg);
	else
		pol_diag_add(sink->diags, sink->file, e->line, "malformed XML: %s", msg);
	sink->n++;
}

/* Read at most max_bytes of a regular file into a NUL-terminated buffer. */
static int read_file(const char *path, size_t max_bytes, char **ret_buf, size_t *ret_size)
{
	/* O_NONBLOCK: a FIFO or a device must not block the open; fstat refuses it next. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	char *buf;
	size_t n = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
	if ((uint64_t)st.st_size > max_bytes)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (n < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	*ret_buf = buf;
	*ret_size = n;
	return 0;
}

/* A document type declaration is the door to entity bombs and XXE: mumu configs have none. */
static int find_doctype(const char *buf, size_t size)
{
	int line = 1;

	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n')
			line++;
		else if (buf[i] == '<' && size - i >= 9 && memcmp(buf + i, "<!DOCTYPE", 9) == 0)
			return line;
		else if (buf[i] == '<' && size - i >= 8 && memcmp(buf + i, "<!ENTITY", 8) == 0)
			return line;
	}
	return 0;
}

static const int parse_options = XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA;

static xmlSchemaPtr load_schema(const char *schema_path, struct pol_diags *diags)
{
	_cleanup_free_ char *buf = NULL;
	xmlSchemaParserCtxtPtr pctxt;
	xmlSchemaPtr schema;
	size_t size;
	int r;

	r = read_file(schema_path, SCHEMA_MAX_BYTES, &buf, &size);
	if (r < 0) {
		pol_diag_add(diags, schema_path, 0, "cannot read the schema: %s", strerror(-r));
		return NULL;
	}
	pctxt = xmlSchemaNewMemParserCtxt(buf, (int)size);
	if (!pctxt)
		return NULL;
	schema = xmlSchemaParse(pctxt);
	xmlSchemaFreeParserCtxt(pctxt);
	if (!schema)
		pol_diag_add(diags, schema_path, 0, "the schema is not a valid XSD");
	return schema;
}

/* What a config must be before an XML parser sees it: small, text, no DOCTYPE. */
static int check_text(const char *name, const char *buf, size_t size, struct pol_diags *diags)
{
	int line;

	if (size > CONFIG_MAX_BYTES) {
		pol_diag_add(diags, name, 0,
			     "the file is larger than %u bytes; configs are smaller",
			     CONFIG_MAX_BYTES);
		return -EINVAL;
	}
	if (memchr(buf, '\0', size)) {
		pol_diag_add(diags, name, 0, "the file contains a NUL byte; expected XML text");
		return -EINVAL;
	}
	line = find_doctype(buf, size);
	if (line > 0) {
		pol_diag_add(
		    diags, name, line,
		    "DOCTYPE and ENTITY declarations are not allowed; a config is plain XML "
		    "checked against etc/mumu.xsd");
		return -EINVAL;
	}
	return 0;
}

/* The document against the schema, every violation a diagnostic (FILE:LINE). */
static int validate(xmlDocPtr doc, const char *name, const char *schema_path, struct err_sink *sink,
		    struct pol_diags *diags)
{
	size_t before = diags->n;
	xmlSchemaValidCtxtPtr vctxt;
	xmlSchemaPtr schema;
	int r;

	schema = load_schema(schema_path, diags);
	if (!schema)
		return diags->n > before ? -EINVAL : -ENOMEM;
	vctxt = xmlSchemaNewValidCtxt(schema);
	if (!vctxt) {
		xmlSchemaFree(schema);
		return -ENOMEM;
	}
	xmlSchemaSetValidStructuredErrors(vctxt, collect_error, sink);
	r = xmlSchemaValidateDoc(vctxt, doc);
	xmlSchemaFreeValidCtxt(vctxt);
	xmlSchemaFree(schema);
	if (r != 0 && diags->n == before)
		pol_diag_add(diags, name, 0, "does not match etc/mumu.xsd");
	return r != 0 ? -EINVAL : 0;
}

int pol_xml_read(const char *name, const char *buf, size_t size, const char *schema_path,
		 struct pol_diags *diags, xmlDocPtr *ret_doc)
{
	struct err_sink sink = { .diags = diags, .file = name };
	xmlDocPtr doc;
	int r;

	r = check_text(name, buf, size, diags);
	if (r < 0)
		return r;
	xmlSetExternalEntityLoader(refuse_loader);
	xmlSetStructuredErrorFunc(&sink, collect_error);
	doc = xmlReadMemory(buf, (int)size, name, NULL, parse_options);
	if (!doc || !xmlDocGetRootElement(doc)) {
		if (sink.n == 0)
			pol_diag_add(diags, name, 0, "not an XML document");
		r = -EINVAL;
	} else {
		r = validate(doc, name, schema_path, &sink, diags);
	}
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (r < 0) {
		xmlFreeDoc(doc);
		return r;
	}
	*ret_doc = doc;
	return 0;
}

int pol_xml_read_file(const char *path, char **ret_buf, size_t *ret_size, struct pol_diags *diags)
{
	int r = read_file(path, CONFIG_MAX_BYTES, ret_buf, ret_size);

	if (r == -EFBIG)
		pol_diag_add(diags, path, 0,
			     "the file is larger than %u bytes; configs are smaller",
			     CONFIG_MAX_BYTES);
	else if (r == -EBADFD)
		pol_diag_add(diags, path, 0,
			     "not a regular file (a FIFO, socket or device); a config is a file");
	else if (r < 0)
		pol_diag_add(diags, path, 0, "cannot read: %s", strerror(-r));
	return r < 0 ? -EINVAL : 0;
}
