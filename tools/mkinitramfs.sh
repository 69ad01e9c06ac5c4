#!/bin/sh
# Builds the test initramfs (an uncompressed cpio: nothing to decompress in an emulated kernel)
# from Debian's busybox-static, with gen_init_cpio so no root is needed for device nodes.
#
# usage: tools/mkinitramfs.sh GEN_INIT_CPIO OUT.cpio
set -eu
gen=${1:?usage: mkinitramfs.sh GEN_INIT_CPIO OUT}
out=${2:?usage: mkinitramfs.sh GEN_INIT_CPIO OUT}
here=$(cd "$(dirname "$0")" && pwd)
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkinitramfs: $bb missing; run: apt-get install busybox-static" >&2; exit 1; }
list=$(mktemp)
trap 'rm -f "$list"' EXIT
{
	echo "dir /bin 755 0 0"
	echo "dir /sbin 755 0 0"
	echo "dir /proc 755 0 0"
	echo "dir /sys 755 0 0"
	echo "dir /dev 755 0 0"
	echo "dir /tmp 1777 0 0"
	echo "nod /dev/console 600 0 0 c 5 1"
	echo "nod /dev/null 666 0 0 c 1 3"
	echo "file /bin/busybox $bb 755 0 0"
	echo "file /init $here/init.sh 755 0 0"
	for app in sh mount echo cat ls uname tr reboot poweroff halt sleep dmesg grep dd md5sum sync; do
		echo "slink /bin/$app busybox 777 0 0"
	done
} > "$list"
"$gen" "$list" > "$out.tmp"
mv "$out.tmp" "$out"
