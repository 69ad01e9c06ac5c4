/*
 * Multiboot v1 header and entry of every test guest: entered in 32-bit
 * protected mode, it maps the first 4 GiB 1:1 (2 MiB pages, user-accessible)
 * and switches to long mode at once. 32-bit protected mode cannot IRET on
 * emulating KVMs (kvm_pvm), and long mode is where user-mode code runs.
 */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003	/* page-aligned modules, memory info */
#define PTE_P	0x01
#define PTE_W	0x02
#define PTE_U	0x04
#define PTE_PS	0x80

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.code32
	.text
	.globl _start
_start:
	cli
	movl %eax, %edi			/* multiboot magic, info: kept for guest_start */
	movl %ebx, %esi
	movl $boot_stack_top, %esp
	/* PML4[0] -> PDPT; PDPT[0..3] -> PD[0..3]; each PD maps 1 GiB in 2 MiB pages. */
	movl $pdpt, %eax
	orl $(PTE_P | PTE_W | PTE_U), %eax
	movl %eax, pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $pd, %eax
	orl $(PTE_P | PTE_W | PTE_U), %eax
	movl %eax, pdpt(, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_W | PTE_U | PTE_PS), %eax
	movl %eax, pd(, %ecx, 8)
	movl %ecx, %eax
	shrl $11, %eax			/* high dword of the 2 MiB frame address */
	movl %eax, pd+4(, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 2b
	movl $pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $0x20, %eax			/* PAE */
	movl %eax, %cr4
	movl $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000000, %eax		/* PG: now in compatibility mode */
	movl %eax, %cr0
	lgdt gdt_ptr
	ljmp $0x08, $long_entry

	.code64
long_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $stack_top, %rsp
	call guest_start		/* (magic in edi, info in esi) */
3:	cli
	hlt
	jmp 3b

	.data
	.align 16
	.globl gdt
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: kernel code64 */
	.quad 0x00cf92000000ffff	/* 0x10: kernel data */
	.quad 0x00cff2000000ffff	/* 0x18: user data (0x1b) */
	.quad 0x00affa000000ffff	/* 0x20: user code64 (0x23) */
	.quad 0, 0			/* 0x28: TSS, filled in by guest_start */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

	.bss
	.align 4096
pml4:	.space 4096
pdpt:	.space 4096
pd:	.space 4 * 4096
	.align 16
	.space 1024
boot_stack_top:
	.space 32768
	.globl stack_top
stack_top:

	.section .note.GNU-stack, "", @progbits
