#!/bin/sh
# Runs make targets inside a QEMU TCG VM whose Debian kernel serves /dev/kvm with nested kvm_amd,
# so the KVM suites run on a standard KVM on any x86-64 machine, with or without a /dev/kvm.
#
# usage: tests/nested/run.sh [--timeout SECONDS] [--memory MIB] [--sh COMMAND] [VAR=VALUE...] TARGET...
#
# The VM sees the host's root read-only over 9p and this work tree read-write at the same path,
# so the host's gdb, python, zstd and the vmm just built run in it unchanged; nothing is built
# inside. Each TARGET runs as `make VAR=VALUE... TARGET`, then COMMAND (for a look around) under sh; the exit status is 0 when every one passed. The
# kernel comes from Debian's linux-image-amd64 (apt-get download, cached in build/nested).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=build/nested
timeout=2700 mem=4096 shcmd= vars=
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=$2; shift 2 ;;
	--memory) mem=$2; shift 2 ;;
	--sh) shcmd=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "nested: unknown option $1" >&2; exit 2 ;;
	*=*) vars="$vars $1"; shift ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || [ -n "$shcmd" ] ||
	{ echo "usage: tests/nested/run.sh [--timeout SECONDS] [--memory MIB] [--sh COMMAND] [VAR=VALUE...] TARGET..." >&2; exit 2; }
for tool in qemu-system-x86_64 cpio busybox objcopy; do
	command -v $tool >/dev/null 2>&1 && continue
	echo "nested: $tool is missing (tools/install-deps.sh installs qemu-system-x86, cpio, busybox-static, binutils)" >&2
	exit 1
done
mkdir -p $out

# The kernel: the newest linux-image-*-amd64 the archive has, unless one is cached already.
deb=$(ls $out/linux-image-*-amd64_*.deb 2>/dev/null | tail -n 1 || true)
if [ -z "$deb" ]; then
	kpkg() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1; }
	pkg=$(kpkg)
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
		apt-get update -qq > /dev/null 2>&1
		pkg=$(kpkg)
	fi
	[ -n "$pkg" ] || { echo "nested: apt-cache knows no linux-image-amd64 (run apt-get update)" >&2; exit 1; }
	(cd $out && apt-get download "$pkg" > download.log 2>&1) ||
		{ echo "nested: apt-get download $pkg failed:" >&2; tail -n 3 $out/download.log >&2; exit 1; }
	deb=$(ls $out/linux-image-*-amd64_*.deb | tail -n 1)
fi

# The initramfs: busybox, the modules kvm_amd and 9p need (dependencies first), and init.sh.
if [ ! -s $out/initramfs.gz ] || [ $out/initramfs.gz -ot "$deb" ] || [ $out/initramfs.gz -ot tests/nested/init.sh ] ||
   [ $out/initramfs.gz -ot tests/nested/run.sh ]; then
	rm -rf $out/deb $out/root
	dpkg-deb -x "$deb" $out/deb
	cp "$(ls $out/deb/boot/vmlinuz-* | head -n 1)" $out/vmlinuz
	mkdir -p $out/root/bin $out/root/modules $out/root/proc $out/root/sys $out/root/dev $out/root/newroot
	cp "$(command -v busybox)" $out/root/bin/busybox
	cp tests/nested/init.sh $out/root/init
	chmod 755 $out/root/init
	: > $out/root/modules.list
	# add NAME: copy module NAME after the modules it depends on (from its .modinfo).
	add() {
		local f d
		grep -qx "$1" $out/root/modules.list && return 0
		f=$(find $out/deb/lib/modules -name "$1.ko" | head -n 1)
		[ -n "$f" ] || { echo "nested: $deb has no module $1" >&2; exit 1; }
		for d in $(objcopy -O binary --only-section=.modinfo "$f" /dev/stdout | tr '\0' '\n' |
			   sed -n 's/^depends=//p' | tr ',' ' '); do
			add "$d"
		done
		cp "$f" $out/root/modules/
		echo "$1" >> $out/root/modules.list
	}
	for m in kvm-amd virtio_pci 9pnet_virtio 9p tun; do add $m; done
	(cd $out/root && find . | cpio -o -H newc --quiet) | gzip -1 > $out/initramfs.gz
	rm -rf $out/deb
fi

# The command: each target as its own make, with a marker so a timeout can name what ran.
{
	echo "# written by tests/nested/run.sh"
	echo "failed="
	for t in "$@"; do
		echo "echo 'vmm-nested: running make $t'"
		echo "make --no-print-directory$vars $t || failed=\"\$failed $t\""
	done
	[ -z "$shcmd" ] || { echo "echo 'vmm-nested: running $shcmd'"; echo "$shcmd || failed=\"\$failed sh\""; }
	echo "[ -z \"\$failed\" ] || { echo \"vmm-nested: failed:\$failed\"; exit 1; }"
} > $out/cmd.sh

log=$out/console.log
echo "nested: booting $(basename "$deb" .deb) under qemu TCG (-cpu max, kvm_amd inside); limit ${timeout} s"
start=$(date +%s)
# One vCPU: with two, QEMU's multi-threaded TCG left both of the VM's CPUs in soft lockups
# (kthreadd, swapper) within minutes, under kvm_amd's nested guests. NESTED_CPUS=2 is for a
# short measurement of threads that need a CPU of their own (bench: ioeventfd), never the suites.
set +e
# A periodic LAPIC timer (no TSC deadline, highres=off nohz=off): while kvm_amd single-steps
# a guest, the VM's one-shot timer interrupt was seen to get lost, and with it every later
# tick, leaving the stepping process the only thing that ever ran (make check stalled for
# 40 minutes). A periodic timer keeps firing whether or not one interrupt went missing.
timeout -s KILL "$timeout" qemu-system-x86_64 -nodefaults -no-user-config -accel tcg,thread=multi \
	-cpu max,-tsc-deadline -smp "${NESTED_CPUS:-1}" -m "$mem" -display none -no-reboot -serial stdio \
	-kernel $out/vmlinuz -initrd $out/initramfs.gz \
	-append "console=ttyS0 quiet loglevel=3 panic=-1 highres=off nohz=off vmm.dir=$top" \
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-fsdev local,id=work,path="$top",security_model=none,multidevs=remap \
	-device virtio-9p-pci,fsdev=work,mount_tag=work \
	${NESTED_MONITOR:+-monitor unix:$NESTED_MONITOR,server=on,wait=off} < /dev/null 2> $out/qemu.err | tee $log
set -e
took=$(($(date +%s) - start))
status=$(sed -n 's/^vmm-nested: exit \([0-9]*\).*/\1/p' $log | tail -n 1)
if [ -z "$status" ]; then
	what=$(sed -n 's/^vmm-nested: running //p' $log | tail -n 1)
	if [ "$took" -ge "$timeout" ]; then
		echo "nested: FAILED: timed out after $took s while running ${what:-the boot}" >&2
	else
		echo "nested: FAILED: the VM stopped after $took s without an exit status, while running ${what:-the boot}" >&2
		tail -n 5 $out/qemu.err >&2
	fi
	grep -q 'soft lockup' $log && echo "nested: the VM's kernel reported soft lockups (see $log)" >&2
	exit 1
fi
echo "nested: done in $took s, exit status $status"
exit "$status"
