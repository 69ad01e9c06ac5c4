#!/bin/sh
# The arrows point down (README "Layout"): devices see only core's leaf libraries, core's
# library code never includes the recorder, the replayer or the debugger (it reaches them through
# struct vm_hooks and struct vm_debugger), and the debugger never includes the replayer.
# Only the command-line layer (core/main.c, core/cli*.c) sees every part.
cd "$(dirname "$0")/.."
fail=0
bad() {
	echo "FAIL layers: $1"
	fail=1
}
for f in devices/*.[ch] devices/virtio/*.[ch]; do
	grep -Ho '#include "\(\.\./\)*core/[a-z_]*\.h"' "$f" | grep -v '/\(le\|worker\|guest_mem\)\.h"$' &&
		bad "$f includes more of core than its leaf libraries"
	grep -Hq '#include "\(\.\./\)*\(replay\|gdbstub\)/' "$f" && bad "$f includes the replayer or the debugger"
done
for f in core/*.[ch]; do
	case $f in core/main.c | core/cli*) continue ;; esac
	grep -Hn '#include "\.\./\(replay\|gdbstub\)/' "$f" && bad "$f (library code) includes the replayer or the debugger"
done
for f in gdbstub/*.[ch]; do
	grep -Hn '#include "\.\./replay/' "$f" && bad "$f (the debugger) includes the replayer"
done
[ $fail = 0 ] && echo "PASS layers: devices, core, gdbstub include only what is below them"
exit $fail
