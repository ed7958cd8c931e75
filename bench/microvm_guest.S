/* SPDX-License-Identifier: MIT */
/* QEMU comparison guest: a PVH ELF whose first act is a port write to isa-debug-exit. */
	.code32
	.section .note.pvh, "a"
	.balign 4
	.long 4         /* name size: "Xen\0" */
	.long 4         /* descriptor size */
	.long 18        /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long _start

	.text
	.globl _start
_start:
	/* The benchmark's "first port write": isa-debug-exit ends QEMU with status 1. */
	movw $0xf4, %dx
	movb $0, %al
	outb %al, %dx
1:	hlt
	jmp 1b
