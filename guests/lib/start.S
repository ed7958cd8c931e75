/* SPDX-License-Identifier: MIT */
/* Guest entry: every vCPU starts here in long mode with rdi = logical id, rsi = info page. */
	.section .text.start, "ax"
	.globl _start
_start:
	call main
	/* main returned: give every window away from now on. */
1:	movl $2, %eax		/* MUMU_HC_YIELD */
	outl %eax, $0xe0
	jmp 1b
	.section .note.GNU-stack, "", @progbits
