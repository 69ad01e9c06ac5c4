#!/bin/busybox sh
# /init of the vmm test initramfs: mount, print the marker, run a command, power off.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
echo "VMM-INIT-MARKER: init started"
echo "uname: $(uname -sr)"
echo "pci: $(ls /sys/bus/pci/devices 2>/dev/null | tr '\n' ' ')"
echo "cmdline: $(cat /proc/cmdline)"
# vmm.work=devices: use the virtio devices from user space (the recorded boot of the tests):
# entropy from virtio-rng, the disk's first MiB read raw, a file written to the ext2 root.
case " $(cat /proc/cmdline) " in
*" vmm.work=devices "*)
	echo "hwrng: $(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | md5sum)"
	echo "vda-head: $(dd if=/dev/vda bs=64k count=16 2>/dev/null | md5sum)"
	echo "written by the guest" > /guest.txt && sync && echo "wrote /guest.txt"
	# The kernel's linkwatch sets operstate up to a second after the link came up (it runs at
	# most once a second): wait for it, up to 5 s, rather than race it.
	i=0
	while [ "$(cat /sys/class/net/eth0/operstate 2>/dev/null)" != up ] && [ $i -lt 50 ]; do
		sleep 0.1 2>/dev/null || sleep 1
		i=$((i + 1))
	done
	echo "eth0: $(cat /sys/class/net/eth0/address) $(cat /sys/class/net/eth0/operstate)"
	;;
esac
# vmm.end=reboot asks for a reset (reboot=k exercises the i8042 path); default powers off.
case " $(cat /proc/cmdline) " in
*" vmm.end=reboot "*) echo "VMM-INIT-MARKER: rebooting"; reboot -f ;;
*) echo "VMM-INIT-MARKER: powering off"; poweroff -f ;;
esac
