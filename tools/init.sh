#!/bin/busybox sh
# /init of the vmm test initramfs: mount, print the marker, run a command, power off.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
echo "VMM-INIT-MARKER: init started"
echo "uname: $(uname -sr)"
echo "pci: $(ls /sys/bus/pci/devices 2>/dev/null | tr '\n' ' ')"
echo "cmdline: $(cat /proc/cmdline)"
# vmm.end=reboot asks for a reset (reboot=k exercises the i8042 path); default powers off.
case " $(cat /proc/cmdline) " in
*" vmm.end=reboot "*) echo "VMM-INIT-MARKER: rebooting"; reboot -f ;;
*) echo "VMM-INIT-MARKER: powering off"; poweroff -f ;;
esac
