#!/bin/sh
# Installs the Debian packages vmm needs, or, when not root, prints the exact apt-get line.
#
# usage: tools/install-deps.sh [--check-build]
#   --check-build   only what `make`, `make test` and `make demo` need (with the nested KVM)
#   (default)       also what `make check` needs to build the Linux test guest
set -eu
# qemu-system-x86, cpio and busybox-static: the nested kvm_amd the KVM suites also run on
# (tests/nested/run.sh), the only KVM of a host without /dev/kvm.
build="gcc make libc6-dev binutils libcmocka-dev libzstd-dev zstd gdb iproute2 qemu-system-x86 cpio busybox-static"
# clang with libFuzzer, and llvm-cov: coverage-guided fuzzing (make fuzz, make fuzz-coverage).
fuzz="clang libclang-rt-dev llvm"
linux="linux-source-6.1 patch flex bison libelf-dev libssl-dev bc lz4 xz-utils e2fsprogs"
want=$build
[ "${1:-}" = --check-build ] || want="$build $fuzz $linux"
missing=
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "vmm: missing Debian packages. Run as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "vmm: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # word list by design
apt-get install -y -qq --no-install-recommends $missing
