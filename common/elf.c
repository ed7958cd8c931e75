/* SPDX-License-Identifier: MIT */
/* ELF64 partition images (elf.h): the header and program headers checked, the loads planned. */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/elf.h"
#include "common/util.h"

bool elf_is(const void *buf, size_t size)
{
	return size >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0;
}

static int refuse(char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
	return -ENOEXEC;
}

static int check_header(const Elf64_Ehdr *h, size_t size, char *why, size_t why_size)
{
	if (size < sizeof(*h))
		return refuse(why, why_size, "truncated: %zu bytes, an ELF header is %zu", size,
			      sizeof(*h));
	if (h->e_ident[EI_CLASS] != ELFCLASS64 || h->e_ident[EI_DATA] != ELFDATA2LSB)
		return refuse(why, why_size, "not a 64-bit little-endian ELF file");
	if (h->e_machine != EM_X86_64)
		return refuse(why, why_size, "built for machine %u, not x86-64 (%u)", h->e_machine,
			      EM_X86_64);
	if (h->e_type != ET_EXEC)
		return refuse(why, why_size,
			      "type %u, not a static executable (ET_EXEC): link it -static -no-pie "
			      "with the guest linker script",
			      h->e_type);
	if (h->e_phentsize != sizeof(Elf64_Phdr) || h->e_phnum == 0 ||
	    !range_ok(h->e_phoff, (uint64_t)h->e_phnum * sizeof(Elf64_Phdr), size))
		return refuse(why, why_size, "its program headers are not within the file");
	return 0;
}

/* One PT_LOAD segment into the plan: inside [lo, hi), within the file, over no other. */
static int add_load(struct elf_plan *plan, const Elf64_Phdr *ph, size_t size, uint64_t lo,
		    uint64_t hi, char *why, size_t why_size)
{
	struct elf_segment s = { .vaddr = ph->p_vaddr,
				 .offset = ph->p_offset,
				 .filesz = ph->p_filesz,
				 .memsz = ph->p_memsz };

	if (s.memsz == 0)
		return 0;
	if (s.filesz > s.memsz || !range_ok(s.offset, s.filesz, size))
		return refuse(why, why_size,
			      "a segment at 0x%llx takes %llu bytes from offset %llu of a %zu-byte "
			      "file (truncated or malformed)",
			      (unsigned long long)s.vaddr, (unsigned long long)s.filesz,
			      (unsigned long long)s.offset, size);
	if (s.vaddr < lo || !range_ok(s.vaddr - lo, s.memsz, hi - lo))
		return refuse(why, why_size,
			      "a segment [0x%llx, +%llu bytes) is outside the user area [0x%llx, "
			      "0x%llx) of this partition's RAM",
			      (unsigned long long)s.vaddr, (unsigned long long)s.memsz,
			      (unsigned long long)lo, (unsigned long long)hi);
	for (size_t i = 0; i < plan->n; i++)
		if (s.vaddr < plan->seg[i].vaddr + plan->seg[i].memsz &&
		    plan->seg[i].vaddr < s.vaddr + s.memsz)
			return refuse(why, why_size, "segments at 0x%llx and 0x%llx overlap",
				      (unsigned long long)plan->seg[i].vaddr,
				      (unsigned long long)s.vaddr);
	if (plan->n == ELF_SEGMENTS_MAX)
		return refuse(why, why_size, "more than %d loadable segments", ELF_SEGMENTS_MAX);
	plan->seg[plan->n++] = s;
	if (s.vaddr + s.memsz > plan->end)
		plan->end = s.vaddr + s.memsz;
	return 0;
}

int elf_plan(const void *buf, size_t size, uint64_t lo, uint64_t hi, struct elf_plan *plan,
	     char *why, size_t why_size)
{
	const Elf64_Ehdr *h = buf;
	bool entry_in = false;
	int r;

	memset(plan, 0, sizeof(*plan));
	if (!elf_is(buf, size))
		return refuse(why, why_size, "not an ELF file");
	r = check_header(h, size, why, why_size);
	for (uint16_t i = 0; r == 0 && i < h->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, (const uint8_t *)buf + h->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD)
			r = add_load(plan, &ph, size, lo, hi, why, why_size);
		else if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC || ph.p_type == PT_TLS)
			r = refuse(why, why_size,
				   "it needs a dynamic loader or thread-local storage (program "
				   "header type %u): a guest is static, without TLS",
				   ph.p_type);
	}
	if (r < 0)
		return r;
	if (plan->n == 0)
		return refuse(why, why_size, "no loadable segment");
	for (size_t i = 0; i < plan->n; i++)
		entry_in |= h->e_entry >= plan->seg[i].vaddr &&
			    h->e_entry - plan->seg[i].vaddr < plan->seg[i].memsz;
	if (!entry_in)
		return refuse(why, why_size, "its entry 0x%llx is in no loadable segment",
			      (unsigned long long)h->e_entry);
	plan->entry = h->e_entry;
	return 0;
}
