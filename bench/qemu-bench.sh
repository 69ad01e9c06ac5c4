#!/bin/sh
# vmm against QEMU (Debian's qemu-system-x86), for `make bench` (bench/run.sh). Prints Markdown.
#
#   bench/qemu-bench.sh boot   on a machine with /dev/kvm: the project's Linux to its /init, vmm
#                              (PVH vmlinux, bzImage) against QEMU with KVM and no firmware in the
#                              way it can be had (-M microvm -kernel vmlinux: PVH; -M pc -kernel
#                              bzImage), same memory, initramfs and command line.
#   bench/qemu-bench.sh tcg    anywhere: the same Linux to its /init under QEMU's TCG (no KVM), the
#                              emulator's figure beside the rows with KVM.
#   bench/qemu-bench.sh rr     anywhere: QEMU's record/replay (TCG with -icount, the only way
#                              QEMU records) of the test guests vmm records, beside vmm's journal
#                              of the same guest when VMM_JOURNALS names a directory of them.
#
# usage: VMM=./vmm [BENCH_RUNS=5] [VMM_JOURNALS=DIR] bench/qemu-bench.sh boot|tcg|rr
set -u
VMM=${VMM:-./vmm}
RUNS=${BENCH_RUNS:-5}
LIMIT=${BENCH_BOOT_LIMIT:-300}
QEMU=qemu-system-x86_64
tmp=${TMPDIR:-/tmp}/vmm-qbench.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
CLR="clearcpuid=smap,smep,popcnt,xsave,rdrand,rdseed,fsgsbase,umip,pku,tsc"
APPEND="console=ttyS0 panic=-1 io_delay=none $CLR"
KERNEL_DIR=build/guest

if ! command -v $QEMU > /dev/null; then
	echo "($QEMU is not installed: tools/install-deps.sh installs qemu-system-x86)"
	exit 0
fi
qver=$($QEMU --version | head -n 1)

# One row: the median (min-max) seconds to the init marker, or why there is none.
boot_row() {	# boot_row LABEL CMD...
	label=$1
	shift
	python3 bench/linux-boot-time.py -n "$RUNS" --limit "$LIMIT" -- "$@" > "$tmp/boot.out" 2>&1
	m=$(sed -n "s/^median time to .*: \([0-9.]*\) s (min \([0-9.]*\), max \([0-9.]*\).*/\1 (\2-\3)/p" "$tmp/boot.out")
	rss=$(sed -n "s/^median peak RSS: \([0-9.]*\) MiB (min \([0-9.]*\), max \([0-9.]*\)).*/\1 (\2-\3)/p" "$tmp/boot.out")
	if [ -n "$m" ]; then
		echo "| $label | $m | ${rss:--} |"
	else
		echo "| $label | no /init within $LIMIT s: $(head -n 1 "$tmp/boot.out" | cut -c1-120) | - |"
	fi
}

# isa-debug-exit makes QEMU exit with 2 * CODE + 1 for the guest's CODE.
guest_status() {
	if [ $(($1 % 2)) = 1 ]; then echo "guest status $((($1 - 1) / 2))"; else echo "QEMU status $1"; fi
}

need_kernel() {
	if [ ! -f $KERNEL_DIR/vmlinux ] || [ ! -f $KERNEL_DIR/bzImage ] || [ ! -f $KERNEL_DIR/initramfs.cpio ]; then
		echo "(no kernel in $KERNEL_DIR: make linux builds it)"
		exit 0
	fi
}

# The kernel's two firmware-free ways into QEMU: the PVH vmlinux under microvm, the bzImage under pc.
qemu_rows() {	# qemu_rows LABEL QEMU-CMD...
	qlabel=$1
	shift
	boot_row "$qlabel -M microvm, PVH vmlinux (qboot)" "$@" -M microvm -kernel $KERNEL_DIR/vmlinux \
		-initrd $KERNEL_DIR/initramfs.cpio -append "$APPEND"
	boot_row "$qlabel -M pc, bzImage (SeaBIOS)" "$@" -M pc -kernel $KERNEL_DIR/bzImage \
		-initrd $KERNEL_DIR/initramfs.cpio -append "$APPEND"
}

case ${1:-} in
boot)
	need_kernel
	QK="$QEMU -accel kvm -cpu host -m 256 -nodefaults -no-user-config -display none -serial stdio -no-reboot"
	echo "### Linux to /init: vmm against QEMU with KVM"
	echo
	echo "Seconds from start to the console line 'VMM-INIT-MARKER: init started' (tools/init.sh), median of"
	echo "$RUNS (fastest-slowest); a run that gets no further than $LIMIT s is given up. $qver."
	echo "Same kernel, initramfs, 256 MiB and command line:"
	echo
	echo "    $APPEND"
	echo
	echo "| | seconds to /init | peak RSS by then, MiB (the process's VmHWM) |"
	echo "|---|---|---|"
	I=$KERNEL_DIR/initramfs.cpio
	boot_row "vmm run, PVH vmlinux" "$VMM" run --initrd $I --append "$APPEND" $KERNEL_DIR/vmlinux
	boot_row "vmm run, bzImage" "$VMM" run --initrd $I --append "$APPEND" $KERNEL_DIR/bzImage
	qemu_rows QEMU $QK
	echo
	;;
tcg)
	need_kernel
	QT="$QEMU -accel tcg -cpu max -m 256 -nodefaults -no-user-config -display none -serial stdio -no-reboot"
	echo "### Linux to /init under QEMU's TCG, on this machine's host"
	echo
	echo "The boot of the section above with no KVM at all: QEMU's emulator, $qver, the same kernel,"
	echo "initramfs, memory and command line, median of $RUNS (fastest-slowest), given up after $LIMIT s."
	echo
	echo "| | seconds to /init | peak RSS by then, MiB (the process's VmHWM) |"
	echo "|---|---|---|"
	qemu_rows "QEMU TCG" $QT
	echo
	;;
rr)
	echo "### Record and replay: vmm against QEMU's record/replay"
	echo
	echo "QEMU records only under TCG with -icount (shift=auto,rr=record|replay,rrfile=); $qver, on this"
	echo "machine's host, with the same multiboot test guest vmm runs (-kernel GUEST.elf, its debug-exit port"
	echo "as isa-debug-exit). One run each. vmm's journal is the one the section above recorded on its KVM."
	echo
	echo "| guest | QEMU record s | QEMU replay s | QEMU log bytes | zstd -3 of it | vmm journal bytes | QEMU output = its replay's |"
	echo "|---|---|---|---|---|---|---|"
	for g in rtc landmarks; do
		args=
		[ $g = rtc ] && args="-rtc base=2023-11-14T22:13:20"
		Q="$QEMU -accel tcg -m 256 -nodefaults -no-user-config -display none -serial stdio -no-reboot
		   -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel build/guests/$g.elf $args"
		s=$(date +%s.%N)
		timeout 600 $Q -icount shift=auto,rr=record,rrfile="$tmp/$g.qrr" > "$tmp/$g.rec" 2> "$tmp/$g.recerr"
		rs=$?
		rec=$(echo "$(date +%s.%N) - $s" | bc)
		s=$(date +%s.%N)
		timeout 600 $Q -icount shift=auto,rr=replay,rrfile="$tmp/$g.qrr" > "$tmp/$g.rep" 2> "$tmp/$g.reperr"
		ps=$?
		rep=$(echo "$(date +%s.%N) - $s" | bc)
		bytes=$(stat -c %s "$tmp/$g.qrr" 2>/dev/null || echo 0)
		z=$(zstd -3 -q -c "$tmp/$g.qrr" 2>/dev/null | wc -c)
		vj=-
		[ -n "${VMM_JOURNALS:-}" ] && [ -f "$VMM_JOURNALS/$g-guest.vrr" ] && vj=$(stat -c %s "$VMM_JOURNALS/$g-guest.vrr")
		same=no
		cmp -s "$tmp/$g.rec" "$tmp/$g.rep" && [ $rs = $ps ] && same=yes
		printf '| %s | %.2f (%s) | %.2f (%s) | %s | %s | %s | %s |\n' "$g" "$rec" "$(guest_status $rs)" "$rep" \
			"$(guest_status $ps)" "$bytes" "$z" "$vj" "$same"
		fails=$(grep -c '^not ok' "$tmp/$g.rec")
		[ "$fails" -gt 0 ] && echo "$g under QEMU: $fails of its checks fail there ($(grep -m1 '^not ok' "$tmp/$g.rec"))" >> "$tmp/notes"
	done
	echo
	if [ -f "$tmp/notes" ]; then
		sed 's/^/    /' "$tmp/notes"
		echo
	fi
	;;
*)
	echo "usage: bench/qemu-bench.sh boot|tcg|rr" >&2
	exit 2
	;;
esac
