#!/bin/sh
# Builds the minimal x86_64 guest kernel (bzImage + vmlinux) from Debian's linux-source-6.1,
# with the patches tools/linux-*.patch: linux-tsc.patch, so that a guest without TSC in CPUID
# never executes RDTSC, and linux-pvm-syscall.patch, so that user space runs on kvm_pvm hosts.
#
# usage: tools/build-linux.sh OUTDIR
# The result is cached: OUTDIR/bzImage and OUTDIR/vmlinux are rebuilt only when
# this script, tools/linux.config or a patch changes.
set -eu
out=${1:?usage: build-linux.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
tarball=/usr/src/linux-source-6.1.tar.xz
if [ ! -f "$tarball" ]; then
	echo "build-linux: $tarball missing; run: apt-get install linux-source-6.1" >&2
	exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
patches=$(printf "%s " "$here"/linux-*.patch)
# shellcheck disable=SC2086
stamp=$(cat "$0" "$here/linux.config" $patches | sha256sum | cut -c1-16)
if [ -f "$out/bzImage" ] && [ -f "$out/vmlinux" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi
src="$out/linux-source-6.1"
if [ ! -f "$src/Makefile" ]; then
	echo "build-linux: unpacking $tarball"
	tar -C "$out" -xaf "$tarball"
fi
cd "$src"
# The patches (README: replaying your own kernels): each applied once, idempotently. A tree
# patched by an older version of one gets the touched files back from the tarball first.
for p in $patches; do
	if ! patch -p1 -R --dry-run -s -f < "$p" >/dev/null 2>&1; then
		if ! patch -p1 --dry-run -s -f < "$p" >/dev/null 2>&1; then
			files=$(sed -n 's|^+++ b/||p' "$p")
			echo "build-linux: restoring" $files "from $tarball"
			# shellcheck disable=SC2086
			tar -C "$out" -xaf "$tarball" $(printf 'linux-source-6.1/%s ' $files)
		fi
		patch -p1 -s -f < "$p"
	fi
done
make -s ARCH=x86_64 tinyconfig
# Each line of linux.config is "NAME=y", "NAME=n" or "NAME=value".
while IFS= read -r line; do
	case "$line" in ''|'#'*) continue ;; esac
	name=${line%%=*} val=${line#*=}
	case "$val" in
	y) scripts/config --enable "$name" ;;
	n) scripts/config --disable "$name" ;;
	*) scripts/config --set-val "$name" "$val" ;;
	esac
done < "$here/linux.config"
make -s ARCH=x86_64 olddefconfig
# Every option we asked for must have survived olddefconfig: a silently
# dropped dependency would give a kernel that boots differently.
while IFS= read -r line; do
	case "$line" in ''|'#'*) continue ;; esac
	name=${line%%=*} val=${line#*=}
	if [ "$val" = n ]; then
		! grep -q "^CONFIG_$name=y" .config || { echo "build-linux: CONFIG_$name still set" >&2; exit 1; }
	else
		grep -q "^CONFIG_$name=$val\$" .config || { echo "build-linux: CONFIG_$name=$val did not stick" >&2; exit 1; }
	fi
done < "$here/linux.config"
echo "build-linux: building (a few minutes on 2 cores)"
make -s ARCH=x86_64 -j"$(nproc)" bzImage vmlinux KBUILD_BUILD_TIMESTAMP='2026-01-01' KBUILD_BUILD_USER=vmm KBUILD_BUILD_HOST=vmm
cp arch/x86/boot/bzImage vmlinux "$out/"
cc -O2 -o "$out/gen_init_cpio" usr/gen_init_cpio.c
echo "$stamp" > "$out/stamp"
