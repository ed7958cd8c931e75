/* SPDX-License-Identifier: MIT */
/* Upcall entry and the return to a context (guests/lib/upcall.h): user mode, no exit. */
#include "lib/upcall.h"

	.text
/*
 * The VMM (or mumu_upcall_self) enters here with events masked, rsp = the vCPU's upcall
 * stack top, rdi = its area, which is the start of its struct mumu_upcalls. The interrupted
 * general registers are in the area's frame; the FPU state is still in the registers.
 */
	.globl mumu_upcall_entry
mumu_upcall_entry:
	mov	%rdi, %rbx
	mov	MUMU_UP_CURRENT(%rbx), %rax
	fxsave64 MUMU_CTX_FPU(%rax)
	fninit				/* the handler's own FPU state: as at reset */
	ldmxcsr	mxcsr_reset(%rip)
	call	mumu_upcall_dispatch	/* -> the context to resume, now up->current */
	mov	%rax, %rdi
	mov	%rbx, %rsi
	/* fall through */

/*
 * mumu_context_resume(ctx, up): events masked, any stack. The frame is copied below the
 * context's stack pointer (past a red zone), events are unmasked, and the registers are
 * popped from that copy: an upcall in between saves a context that simply goes on popping.
 * Events pending at the unmask are taken first, as an upcall of this very context.
 */
	.globl mumu_context_resume
mumu_context_resume:
	fxrstor64 MUMU_CTX_FPU(%rdi)
	mov	%rsi, %rdx
	mov	MUMU_FRAME_RSP(%rdi), %rax
	sub	$(128 + MUMU_FRAME_BYTES), %rax
	mov	%rdi, %rsi
	mov	%rax, %rdi
	mov	$(MUMU_FRAME_BYTES / 8), %ecx
	cld
	rep movsq
	mov	%rax, %rsp
	movl	$0, MUMU_AREA_MASKED(%rdx)
	cmpl	$0, MUMU_AREA_PENDING(%rdx)
	jne	1f
	pop	%rax
	pop	%rbx
	pop	%rcx
	pop	%rdx
	pop	%rsi
	pop	%rdi
	pop	%rbp
	add	$8, %rsp		/* rsp: the ret below restores it */
	pop	%r8
	pop	%r9
	pop	%r10
	pop	%r11
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	popfq
	ret	$128
1:	movl	$1, MUMU_AREA_MASKED(%rdx)
	mov	%rsp, %rsi
	lea	MUMU_AREA_FRAME(%rdx), %rdi
	mov	$(MUMU_FRAME_BYTES / 8), %ecx
	rep movsq
	mov	%rdx, %rdi
	mov	MUMU_UP_STACK_TOP(%rdi), %rsp
	jmp	mumu_upcall_entry

/* mumu_upcall_self(up): this context, as if interrupted at the return address. */
	.globl mumu_upcall_self
mumu_upcall_self:
	movl	$1, MUMU_AREA_MASKED(%rdi)
	mov	%rax, MUMU_AREA_FRAME + 0(%rdi)
	mov	%rbx, MUMU_AREA_FRAME + 8(%rdi)
	mov	%rcx, MUMU_AREA_FRAME + 16(%rdi)
	mov	%rdx, MUMU_AREA_FRAME + 24(%rdi)
	mov	%rsi, MUMU_AREA_FRAME + 32(%rdi)
	mov	%rdi, MUMU_AREA_FRAME + 40(%rdi)
	mov	%rbp, MUMU_AREA_FRAME + 48(%rdi)
	mov	%r8, MUMU_AREA_FRAME + 64(%rdi)
	mov	%r9, MUMU_AREA_FRAME + 72(%rdi)
	mov	%r10, MUMU_AREA_FRAME + 80(%rdi)
	mov	%r11, MUMU_AREA_FRAME + 88(%rdi)
	mov	%r12, MUMU_AREA_FRAME + 96(%rdi)
	mov	%r13, MUMU_AREA_FRAME + 104(%rdi)
	mov	%r14, MUMU_AREA_FRAME + 112(%rdi)
	mov	%r15, MUMU_AREA_FRAME + 120(%rdi)
	lea	8(%rsp), %rax
	mov	%rax, MUMU_AREA_FRAME + MUMU_FRAME_RSP(%rdi)
	mov	(%rsp), %rax
	mov	%rax, MUMU_AREA_FRAME + MUMU_FRAME_RIP(%rdi)
	pushfq
	pop	%rax
	mov	%rax, MUMU_AREA_FRAME + MUMU_FRAME_RFLAGS(%rdi)
	mov	MUMU_UP_STACK_TOP(%rdi), %rsp
	jmp	mumu_upcall_entry

/* A context whose function returned: it gives every window away from then on. */
	.globl mumu_context_exit
mumu_context_exit:
1:	movl	$2, %eax		/* MUMU_HC_YIELD */
	movl	%eax, 0x7ffff000	/* MUMU_HC_GPA */
	jmp	1b
	.section .rodata
mxcsr_reset:
	.long	0x1f80
	.section .note.GNU-stack, "", @progbits
