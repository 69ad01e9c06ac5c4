#!/bin/busybox sh
# PID 1 of the nested test VM: loads kvm_amd and 9p, enters the host's root (read-only) with the
# work tree writable at the same path, runs the command the host left, prints its exit status.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "vmm-nested: $*"; }

for m in $(cat /modules.list); do
	insmod "/modules/$m.ko" || say "insmod $m failed"
done

dir=
for a in $(cat /proc/cmdline); do
	case $a in vmm.dir=*) dir=${a#vmm.dir=} ;; esac
done
r=/newroot
mkdir -p $r
opts=trans=virtio,version=9p2000.L,msize=524288
if ! mount -t 9p -o "$opts,ro,cache=loose" hostroot $r; then
	say "cannot mount the host's root over 9p"
	say "exit 125"
	poweroff -f
fi
mount -t proc proc $r/proc
mount -t sysfs sys $r/sys
mount -t devtmpfs dev $r/dev
mkdir -p $r/dev/pts 2>/dev/null
mount -t devpts devpts $r/dev/pts 2>/dev/null
mount -t tmpfs tmp $r/tmp
mount -t tmpfs run $r/run
mount -t tmpfs root $r/root
# The work tree last, so that one under /tmp or /root is not hidden by those tmpfs mounts.
mkdir -p "$r$dir" 2>/dev/null
if ! mount -t 9p -o "$opts" work "$r$dir"; then
	say "cannot mount the work tree $dir over 9p"
	say "exit 125"
	poweroff -f
fi
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up

[ -c /dev/kvm ] || say "no /dev/kvm: kvm_amd did not load (does the CPU model expose SVM?)"
chroot $r /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root TMPDIR=/tmp LANG=C.UTF-8 VMM_NESTED=tcg \
	/bin/sh -c "cd '$dir' && exec /bin/sh build/nested/cmd.sh" < /dev/null > /dev/console 2>&1
say "exit $?"
sync
poweroff -f
