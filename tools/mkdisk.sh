#!/bin/sh
# Makes a disk image for --disk: 4 MiB, an MBR with one Linux partition from 1 MiB on, and an
# ext2 file system in it holding DIR's files (empty without DIR). Linux sees it as vda, vda1.
#
# usage: tools/mkdisk.sh IMAGE [DIR]
set -eu
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: tools/mkdisk.sh IMAGE [DIR]" >&2; exit 2; }
img=$1 dir=${2:-}
[ -z "$dir" ] || [ -d "$dir" ] || { echo "mkdisk: $dir is not a directory" >&2; exit 2; }
if [ -e "$img" ]; then
	echo "mkdisk: $img exists; not overwriting it" >&2
	exit 1
fi
command -v mke2fs >/dev/null 2>&1 || { echo "mkdisk: mke2fs is missing (Debian's e2fsprogs)" >&2; exit 1; }
dd if=/dev/zero of="$img" bs=1M count=4 2>/dev/null
# One partition entry (type 0x83, LBA 2048, 6144 sectors), then the boot signature 55 aa.
printf '\000\000\000\000\203\000\000\000\000\010\000\000\000\030\000\000' |
	dd of="$img" bs=1 seek=446 conv=notrunc 2>/dev/null
printf '\125\252' | dd of="$img" bs=1 seek=510 conv=notrunc 2>/dev/null
mke2fs -q -t ext2 -F ${dir:+-d "$dir"} -E offset=$((2048 * 512)) "$img" 3072
