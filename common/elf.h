/* SPDX-License-Identifier: MIT */
/*
 * ELF64 partition images (docs/abi.md): which bytes of the file go where in guest RAM, checked
 * like every other guest input. Pure: a buffer in, a plan or a reason out.
 */
#ifndef MUMU_COMMON_ELF_H
#define MUMU_COMMON_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_SEGMENTS_MAX 8

struct elf_segment {
	uint64_t vaddr;	 /* guest-physical = guest-virtual */
	uint64_t offset; /* in the file */
	uint64_t filesz; /* bytes from the file; the rest of memsz is zero */
	uint64_t memsz;
};

struct elf_plan {
	uint64_t entry;
	uint64_t end; /* the highest vaddr + memsz: the image's extent */
	size_t n;
	struct elf_segment seg[ELF_SEGMENTS_MAX];
};

/* Whether buf starts with the ELF magic. */
bool elf_is(const void *buf, size_t size);

/*
 * A static x86-64 executable (ELFCLASS64, little-endian, EM_X86_64, ET_EXEC) whose PT_LOAD
 * segments lie, without overlapping, in [lo, hi), each no more of the file than it has, and
 * whose entry lies in one of them: 0 and the plan, or -ENOEXEC and why (a sentence).
 */
int elf_plan(const void *buf, size_t size, uint64_t lo, uint64_t hi, struct elf_plan *plan,
	     char *why, size_t why_size);

#endif
