#!/bin/sh
# Boots the test Linux (tools/build-linux.sh, tools/mkinitramfs.sh) as bzImage and as PVH vmlinux.
#
# Then a PVH boot with virtio-rng, virtio-blk, virtio-console and virtio-net devices, whose /init
# uses them from user space; and one, without user space, recorded and replayed 3 times,
# bit-exact: the kernel's virtio drivers must have found the devices and used them (entropy
# taken, the disk's partition table read and its ext2 root mounted read-write, the log printed
# on hvc0, an address leased over DHCP). And a recording of a TSC-reading Linux must replay to
# a divergence report.
#
# Each boot must reach the init marker, run a command, and stop: poweroff gives vmm status 112,
# "reboot -f" with reboot=k gives 113. On kvm_pvm hosts that takes the kernel's
# tools/linux-pvm-syscall.patch: there SYSCALL from native user mode does not enter the kernel.
#
# usage: VMM=./vmm tests/linux-boot.sh build/guest
set -u
. "$(dirname "$0")/lib.sh"
VMM=${VMM:-./vmm}
dir=${1:?usage: linux-boot.sh BUILD_DIR}
passed=0 failed=0
if ! have_kvm; then
	no_kvm "Linux boots"
fi
kvm_probe
pvm=no
[ -d /sys/module/kvm_pvm ] && pvm=yes
# Three replays on every KVM: where debug registers never fire (nested kvm_amd), landmarks are
# found by HLTs planted in kernel code, by state, and by steps, and the replay must be as exact.
replays="1 2 3"
clear=$pvm_clearcpuid	# tests/lib.sh: kvm_pvm's CPUID leaks
base="console=ttyS0 panic=-1 io_delay=none $clear"
log_dir=${TMPDIR:-/tmp}/vmm-linux.$$
mkdir -p "$log_dir"
trap 'rm -rf "$log_dir"' EXIT

check() {	# check NAME COND MESSAGE
	if [ "$2" = yes ]; then
		passed=$((passed + 1)); echo "PASS $1: $3"
	else
		fail_check "$1: $3"
	fi
}

has() { grep -q "$2" "$1" && echo yes || echo no; }

boot() {	# boot NAME KERNEL END_ARG EXPECTED_STATUS
	name=$1 kernel=$2 endarg=$3 want=$4
	log=$log_dir/$name.log
	start=$(date +%s.%N)
	timeout 600 "$VMM" run -m 256 --serial "file:$log" --stats --initrd "$dir/initramfs.cpio" \
		--append "$base $endarg" "$kernel" 2> "$log_dir/$name.err"
	status=$?
	end=$(date +%s.%N)
	secs=$(echo "$end - $start" | bc)
	init_at=$(sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' "$log" | head -n 1)
	echo "$name: vmm status $status after ${secs}s; kernel log time at 'Run /init': ${init_at:-never}"
	sed -n 's/^vmm: \(.*exits.*\)/    \1/p' "$log_dir/$name.err"
	check "$name" "$(has "$log" 'Run /init as init process')" "the kernel booted to /init"
	check "$name" "$(has "$log" 'VMM-INIT-MARKER: init started')" "init printed its marker"
	check "$name" "$(has "$log" 'uname: Linux 6.1')" "init ran a command"
	[ "$status" -eq "$want" ] && ok=yes || ok=no
	check "$name" $ok "the guest stopped itself with status $want (got $status)"
	if [ "$failed" -gt 0 ]; then
		echo "--- last lines of $name's console:"; tail -n 15 "$log"; cat "$log_dir/$name.err"
	fi
}

boot bzimage "$dir/bzImage" "" 112
boot pvh "$dir/vmlinux" "vmm.end=reboot reboot=k" 113

# The devices with Linux's own drivers, on a PVH boot of the patched kernel: virtio-rng,
# virtio-blk, virtio-console and virtio-net, on a disk of 4 MiB: an MBR, random bytes up to
# sector 2048, and there one partition (type 0x83) holding an ext2 file system.
# 1. Under run, with user space: Linux mounts vda1 as root and runs /init from it
#    (vmm.work=devices), which reads 32 bytes from /dev/hwrng, reads the disk's first MiB raw
#    (its md5 must be the image's), writes /guest.txt (it must be in the image afterwards) and
#    reboots.
# 2. Recorded (told clearcpuid=tsc: on kvm_pvm the TSC bit leaks through CPUID), then replayed
#    3 times: same status, same console bytes, same final state, the image left as recording
#    left it. The kernel alone drives the devices: its hwrng driver takes entropy, it reads the
#    partition table and mounts vda1 read-write -- which writes the superblock, so the mount
#    count in the image goes from 0 to 1 --, prints its log on hvc0 too, and leases an address
#    over DHCP (ip=dhcp) from tools/netpeer over --net udp:. Its root holds no program (an /init
#    that is not one), so the boot ends at "Requested init /init failed" and panic=-1's reset: a
#    recording with user space does not replay on kvm_pvm yet (README, host notes).
root=$log_dir/root recroot=$log_dir/recroot
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$recroot/dev"
cp /bin/busybox "$root/bin/busybox"
cp tools/init.sh "$root/init"
chmod 755 "$root/init"
for app in sh mount echo cat ls uname tr reboot poweroff halt sleep dmesg grep dd md5sum sync; do
	ln -s busybox "$root/bin/$app"
done
echo "not a program: the recorded boot stops at 'Requested init /init failed'" > "$recroot/init"
mkdisk() {	# mkdisk IMAGE ROOT: tools/mkdisk.sh's disk, with random bytes before the partition
	rm -f "$1"
	tools/mkdisk.sh "$1" "$2" >"$log_dir/mke2fs.err" 2>&1 || cat "$log_dir/mke2fs.err"
	dd if=/dev/urandom of="$1" bs=512 seek=1 count=2047 conv=notrunc 2>/dev/null
}
mount_count() {	# the ext2 superblock's s_mnt_count (le16 at byte 52 of the superblock, 1 KiB in)
	od -An -tu2 -j $((2048 * 512 + 1024 + 52)) -N2 "$img" | tr -d ' '
}
peer_port=$log_dir/peer.port
"${NETPEER:-build/release/netpeer}" dhcp --port-file "$peer_port" > "$log_dir/peer.log" 2>&1 &
peer_pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$peer_port" ] && break; sleep 0.1; done
net="udp:0,peer=127.0.0.1:$(cat "$peer_port")"
devargs="vmm.end=reboot reboot=k console=hvc0 console=ttyS0 root=/dev/vda1 rw rootfstype=ext2 init=/init ip=dhcp"

img=$log_dir/user.img
mkdisk "$img" "$root"
head_sum=$(dd if="$img" bs=64k count=16 2>/dev/null | md5sum)
timeout 900 "$VMM" run --rng --disk "$img" --console --net "$net" --append "$base $devargs vmm.work=devices" \
	"$dir/vmlinux" > "$log_dir/user.log" 2> "$log_dir/user.err"
st=$?
if grep -q 'VMM-INIT-MARKER: rebooting' "$log_dir/user.log" && [ "$st" -eq 113 ]; then
	check user yes "/init ran from the ext2 root on virtio-blk and rebooted (status $st)"
else
	check user no "/init did not reach its reboot (status $st)"; tail -n 8 "$log_dir/user.log"
fi
if grep -q '^hwrng: [0-9a-f]\{32\}  -' "$log_dir/user.log"; then
	check virtio-rng yes "dd read /dev/hwrng from user space ($(grep '^hwrng:' "$log_dir/user.log"))"
else
	check virtio-rng no "no 'hwrng: MD5' line from /init"
fi
if grep -q "^vda-head: $head_sum" "$log_dir/user.log"; then
	check virtio-blk yes "dd read /dev/vda's first MiB from user space, md5 as in the image"
else
	check virtio-blk no "the guest's md5 of /dev/vda's first MiB ($(sed -n 's/^vda-head: //p' "$log_dir/user.log")) is not the image's ($head_sum)"
fi
guest_txt=$(debugfs -R 'cat /guest.txt' "$img?offset=$((2048 * 512))" 2>/dev/null)
if grep -q '^wrote /guest.txt' "$log_dir/user.log" && [ "$guest_txt" = "written by the guest" ]; then
	check virtio-blk yes "a file /init wrote and synced is in the image's ext2 file system"
else
	check virtio-blk no "/guest.txt not in the image (debugfs read '$guest_txt')"
fi
if grep -q '^eth0: 52:54:00:12:34:56 up' "$log_dir/user.log"; then
	check virtio-net yes "user space sees eth0 with vmm's MAC, link up"
else
	check virtio-net no "no 'eth0: 52:54:00:12:34:56 up' from /init (peer: $(grep -c '^dhcp:' "$log_dir/peer.log") requests answered)"
	grep -a -i 'eth0\|ip-config\|dhcp\|virtio_net' "$log_dir/user.log" | tail -n 8 | sed 's/^/    /'
fi

img=$log_dir/disk.img
mkdisk "$img" "$recroot"
before=$(mount_count)
j=$log_dir/linux.vrr
# --ioeventfd: the nested kvm_amd's VM has one CPU, where the default would leave it off; Linux
# moves and re-enables the BARs as it probes them, which the registrations must follow.
timeout 900 "$VMM" record -o "$j" --ioeventfd --rng --disk "$img" --console --net "$net" \
	--append "$base,tsc $devargs" "$dir/vmlinux" > "$log_dir/rr.rec" 2> "$log_dir/rr-rec.err"
rec_status=$?
kill "$peer_pid" 2>/dev/null
summary=$(grep '^vmm: recorded' "$log_dir/rr-rec.err" | sed 's/^vmm: //')
if grep -q 'Requested init /init failed' "$log_dir/rr.rec" && [ "$rec_status" -eq 113 ] && zstd -q -t "$j" 2>/dev/null; then
	check record yes "status $rec_status, $summary"
else
	check record no "status $rec_status, no boot to 'Requested init /init failed' or a journal that fails zstd -t"
	tail -n 5 "$log_dir/rr-rec.err"
fi
# Devices in command-line order: rng 0, disk 1, console 2, net 3.
completions=$("$VMM" journal dump "$j" | grep -c ' virtio *device=0 ')
if grep -q '\[1af4:1005\]' "$log_dir/rr.rec" && [ "${completions:-0}" -gt 0 ]; then
	check virtio-rng yes "Linux found 1af4:1005 on PCI and its driver took $completions buffer(s) of entropy"
else
	check virtio-rng no "Linux did not use the virtio-rng device (${completions:-0} completions)"
fi
if grep -q '\[vda\] 8192 512-byte logical blocks' "$log_dir/rr.rec" && grep -q ' vda: vda1' "$log_dir/rr.rec"; then
	check virtio-blk yes "Linux's virtio-blk driver sized /dev/vda and read its partition table (vda1); journaled completions: $("$VMM" journal dump "$j" | grep -c ' virtio *device=1 ')"
else
	check virtio-blk no "no '[vda] 8192 512-byte logical blocks' and ' vda: vda1' in the console"
fi
notifies=$("$VMM" journal dump "$j" | grep -c ' notify *device=1 ')
if "$VMM" journal stat "$j" | grep -q '(notifications by ioeventfd)' && [ "${notifies:-0}" -gt 0 ]; then
	check ioeventfd yes "Linux's virtio-blk kicks came through ioeventfds: $notifies notify records for the disk"
else
	check ioeventfd no "no notify records for the disk (${notifies:-0}), or the journal does not say ioeventfd"
fi
after=$(mount_count)
if grep -q 'VFS: Mounted root (ext2 filesystem) on device 254:1' "$log_dir/rr.rec" && [ "$before" = 0 ] && [ "$after" = 1 ]; then
	check virtio-blk yes "Linux mounted vda1 (ext2) read-write as root and its superblock write reached the image (mount count $before -> $after)"
else
	check virtio-blk no "root mount: mount count $before -> $after; $(grep -m1 'VFS:' "$log_dir/rr.rec")"
fi
img_sum=$(md5sum < "$img")
# hvc0 is a second kernel console: once its driver is up, every line comes out twice.
if grep -q 'printk: console \[hvc0\] enabled' "$log_dir/rr.rec" &&
   [ "$(grep -c '\[vda\] 8192 512-byte logical blocks' "$log_dir/rr.rec")" -ge 2 ]; then
	check virtio-console yes "hvc0 came up as a second kernel console and printed the log after it"
else
	check virtio-console no "no 'console [hvc0] enabled', or lines after it not printed twice"
fi
if grep -q 'IP-Config: Complete' "$log_dir/rr.rec" && grep -q 'hwaddr=52:54:00:12:34:56, ipaddr=10.0.2.15' "$log_dir/rr.rec" &&
   grep -q DHCPDISCOVER "$log_dir/peer.log" && grep -q DHCPREQUEST "$log_dir/peer.log"; then
	check virtio-net yes "Linux's DHCP client got 10.0.2.15 from netpeer over --net udp: ($(grep -c '^dhcp:' "$log_dir/peer.log") requests answered, $("$VMM" journal dump "$j" | grep -c ' virtio *device=3 ') frames journaled)"
else
	check virtio-net no "no 'IP-Config: Complete' with ipaddr=10.0.2.15, or netpeer saw no DHCP exchange"
	cat "$log_dir/peer.log"
fi
for i in $replays; do
	timeout 900 "$VMM" replay "$j" > "$log_dir/rr.rep" 2> "$log_dir/rr-rep.err"
	st=$?
	if [ "$st" -eq "$rec_status" ] && cmp -s "$log_dir/rr.rec" "$log_dir/rr.rep" &&
	   grep -q 'final state matches' "$log_dir/rr-rep.err"; then
		check "replay $i" yes "$(grep '^replay:' "$log_dir/rr-rep.err")"
	else
		check "replay $i" no "status $st (recorded $rec_status), console $(cmp -s "$log_dir/rr.rec" "$log_dir/rr.rep" && echo same || echo differs)"
		tail -n 12 "$log_dir/rr-rep.err"
	fi
done
needs=
[ "$(md5sum < "$img")" = "$img_sum" ] && ok=yes || ok=no
check disk $ok "the replays left the disk image exactly as the recording left it (no superblock write)"

# gdb on the replayed boot, with the kernel's vmlinux for symbols: paused before the first
# event at the PVH entry (32-bit protected mode, no paging), then across the switch to long
# mode to a hardware breakpoint on start_kernel (virtual: set before paging maps the kernel),
# the banner read through the kernel's page tables, a software breakpoint (int3) on
# virtnet_probe (virtio-net's driver meeting the device; on the way the kernel's own
# int3_selftest runs, and must get its #BP), and on to the end of the recording, where replay
# stops. From there, reverse-continue back to virtnet_probe: from
# the snapshots taken on the way (one every 2 s of replaying), window by window backwards, to
# the same event as the forward stop; then forward to the end again.
needs="hw_bp int3"	# hbreak, break, and the landmarks
sock=$log_dir/gdb.sock
"$VMM" replay --serial none --snapshot-interval 2 --gdb "unix:$sock" "$j" 2> "$log_dir/gdb-rep.err" &
pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S "$sock" ] && break; sleep 0.3; done
# start_kernel is not mapped yet at the PVH entry (paging is off): a debug register takes its
# linear address as it is; a software breakpoint (where debug registers do not fire) waits to be
# planted until it is mapped, at an exit, which comes after start_kernel has run. There the
# replay under gdb also hunts its landmarks stop by stop: 4 minutes tell as much.
gdb_limit=900
kvm_has hw_bp || gdb_limit=240
timeout $gdb_limit gdb -batch -nx -ex "target remote $sock" -ex "info registers rip cs" -ex "monitor when" \
	-ex "hbreak start_kernel" -ex "continue" -ex "x/s &linux_banner" \
	-ex "break virtnet_probe" -ex "continue" -ex "monitor when" -ex "delete" -ex "continue" \
	-ex "break virtnet_probe" -ex "reverse-continue" -ex "monitor when" -ex "monitor snapshots" \
	-ex "delete" -ex "continue" "$dir/vmlinux" > "$log_dir/gdb.out" 2>&1
wait $pid
st=$?
# The PVH entry is pvh_start_xen's physical address: its link address less 0xffffffff80000000
# (low 32 bits only: sh arithmetic is signed 64-bit).
sym=$(nm "$dir/vmlinux" | sed -n 's/^\([0-9a-f]*\) t pvh_start_xen$/\1/p')
entry=$(printf '0x%x' $((0x${sym#????????} - 0x80000000)))
if grep -q "^rip  *$entry " "$log_dir/gdb.out" && grep -q '^cs  *0x10 ' "$log_dir/gdb.out" &&
   grep -q 'event 0 (exit 0' "$log_dir/gdb.out"; then
	check gdb yes "replay paused before event 0 at the PVH entry $entry (32-bit code segment 0x10)"
else
	check gdb no "not paused at the PVH entry $entry"
fi
if grep -q 'Breakpoint 1, .*start_kernel' "$log_dir/gdb.out" && grep -q '<linux_banner>:.*"Linux version 6.1' "$log_dir/gdb.out"; then
	check gdb yes "a breakpoint on start_kernel in long mode, and linux_banner read through the page tables"
else
	check gdb no "no stop in start_kernel, or linux_banner not readable"
fi
if ! kvm_has hw_bp; then
	needs=
	if grep -q 'nothing is mapped at 0xffffffff8[0-9a-f]* yet: its breakpoint is planted once the guest maps it' \
		"$log_dir/gdb-rep.err"; then
		check gdb yes "vmm said the software hbreak on start_kernel waits for paging"
	else
		check gdb no "no word that the software hbreak on start_kernel waits for paging"
	fi
	needs="hw_bp int3"
fi
if grep -q 'Breakpoint 2, .*virtnet_probe' "$log_dir/gdb.out" && grep -q 'event [1-9][0-9]* (exit' "$log_dir/gdb.out" &&
   grep -q 'No more reverse-execution history' "$log_dir/gdb.out" && [ "$st" -eq "$rec_status" ] &&
   grep -q 'final state matches' "$log_dir/gdb-rep.err"; then
	check gdb yes "a breakpoint on virtnet_probe, then to the end: status $st, final state matches"
else
	check gdb no "virtnet_probe stop, exit report or final state missing (replay status $st)"
fi
whens=$(sed -n 's/^event \([0-9]*\) (exit.*/\1/p' "$log_dir/gdb.out" | tr '\n' ' ')
set -- $whens
began=$(sed -n 's/.*this replay began at event \([0-9]*\)$/\1/p' "$log_dir/gdb.out")
if grep -q 'Breakpoint 3, .*virtnet_probe' "$log_dir/gdb.out" && [ $# -eq 3 ] && [ "$2" -eq "$3" ] &&
   [ "${began:-0}" -gt 0 ] && [ "$(grep -c 'No more reverse-execution history' "$log_dir/gdb.out")" -eq 2 ]; then
	check gdb yes "reverse-continue from the end back to virtnet_probe at event $3 (as forward), from the snapshot at event $began"
else
	check gdb no "reverse-continue to virtnet_probe: events $whens, snapshot start '$began'"
fi
if [ "$failed" -gt 0 ]; then
	echo "--- gdb's output:"; cat "$log_dir/gdb.out"; tail -n 5 "$log_dir/gdb-rep.err"
fi

# A Linux that reads the TSC cannot be replayed exactly; replay must say so with a divergence
# report, never finish as if it had worked. On kvm_pvm the host's TSC bit leaks through CPUID,
# so this kernel, not told clearcpuid=tsc, reads it. Elsewhere the model hides the TSC and the
# patched kernel never reads it: there is no TSC-reading kernel to test with.
needs=
if [ $pvm = no ]; then
	echo "NOTE: TSC divergence check needs a host that leaks the TSC bit (kvm_pvm); not applicable here"
	summary "Linux"
	[ "$failed" -eq 0 ]
	exit
fi
j=$log_dir/tsc.vrr
timeout 600 "$VMM" record -o "$j" --serial none --initrd "$dir/initramfs.cpio" \
	--append "$base" "$dir/vmlinux" 2> "$log_dir/tsc-rec.err"
timeout 600 "$VMM" replay --serial none "$j" 2> "$log_dir/tsc-rep.err"
status=$?
if [ "$status" -eq 115 ] && grep -q 'replay diverged at event' "$log_dir/tsc-rep.err"; then
	check tsc yes "a TSC-reading Linux's replay reports divergence: $(grep -m1 'expected:' "$log_dir/tsc-rep.err" | sed 's/^ *//' | cut -c1-80)"
else
	check tsc no "a TSC-reading Linux's replay ended with status $status, not a divergence report"
	cat "$log_dir/tsc-rec.err" "$log_dir/tsc-rep.err" | tail -n 8
fi
summary "Linux"
[ "$failed" -eq 0 ]
