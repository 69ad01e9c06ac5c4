/* 64-bit interrupt entry: vectors 0-255 push (vector, error) and the GPRs, then call isr_dispatch. */
	.text
isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rbp
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	cld
	call isr_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rbp
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

	.altmacro
.macro STUB vec
isr_stub_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
.endm
.macro STUBADDR vec
	.quad isr_stub_\vec
.endm

	.set i, 0
	.rept 256
	STUB %i
	.set i, i + 1
	.endr

	.section .rodata
	.globl isr_stubs
isr_stubs:
	.set i, 0
	.rept 256
	STUBADDR %i
	.set i, i + 1
	.endr

	.section .note.GNU-stack, "", @progbits
