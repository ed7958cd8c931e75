/* SPDX-License-Identifier: MIT */
/* Guest entry: every vCPU starts here in long mode, user mode, rdi = logical id, rsi = info. */
	.section .text.start, "ax"
	.globl _start
_start:
	call mumu_runtime_start	/* crt.c: constructors, then main */
	/* main returned: give every window away from now on. */
1:	movl $2, %eax		/* MUMU_HC_YIELD */
	movl %eax, 0x7ffff000	/* MUMU_HC_GPA */
	jmp 1b
	.section .note.GNU-stack, "", @progbits
