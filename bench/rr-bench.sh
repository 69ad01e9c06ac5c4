#!/bin/sh
# `make bench`: run vs record vs replay, side by side in one run, for an I/O-bound guest
# (rtc), a CPU-bound one whose ticks land in busy loops (landmarks), and the Linux boot.
# Prints a Markdown report; `make bench` writes it to bench/RESULTS.md.
#
# usage: VMM=./vmm bench/rr-bench.sh
set -u
VMM=${VMM:-./vmm}
tmp=${TMPDIR:-/tmp}/vmm-bench.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
CLR="clearcpuid=smap,smep,popcnt,xsave,rdrand,rdseed,fsgsbase,umip,pku,tsc"


timed() {	# timed OUTFILE ERRFILE CMD...: prints seconds
	out=$1 err=$2
	shift 2
	start=$(date +%s.%N)
	"$@" > "$out" 2> "$err"
	end=$(date +%s.%N)
	echo "$end - $start" | bc
}

echo "# vmm record/replay benchmark"
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, /dev/kvm from $( [ -d /sys/module/kvm_pvm ] && echo kvm_pvm || echo kvm), vmm $("$VMM" --version | cut -d' ' -f2)."
echo "Wall seconds; ratios against the run or record of the same guest, in this one run."
echo
echo "| guest | run s | record s | record/run | replay s | replay/record | journal bytes | bytes/guest s | bytes/exit | exits | landmarks | breakpoint hits | kick finds | replay s per landmark |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"

bench() {	# bench NAME VMM-ARGS...
	name=$1
	shift
	run=$(timed "$tmp/run.out" "$tmp/run.err" "$VMM" run --serial none "$@")
	rec=$(timed "$tmp/rec.out" "$tmp/rec.err" "$VMM" record --force -o "$tmp/$name.vrr" --serial none "$@")
	rep=$(timed "$tmp/rep.out" "$tmp/rep.err" "$VMM" replay --serial none "$tmp/$name.vrr")
	"$VMM" journal stat "$tmp/$name.vrr" > "$tmp/stat" 2>&1
	bytes=$(stat -c %s "$tmp/$name.vrr")
	gsecs=$(sed -n 's/^guest time: \([0-9.]*\) s.*/\1/p' "$tmp/stat")
	exits=$(awk '$1 == "exit" {print $2}' "$tmp/stat")
	line=$(grep '^replay:' "$tmp/rep.err" || grep -m1 'diverged' "$tmp/rep.err" || echo "replay failed")
	lm=$(echo "$line" | sed -n 's/.* \([0-9]*\) landmarks.*/\1/p')
	hits=$(echo "$line" | sed -n 's/.*(\([0-9]*\) breakpoint hits.*/\1/p')
	kicks=$(echo "$line" | sed -n 's/.*, \([0-9]*\) found by kicks.*/\1/p')
	per=$(python3 -c "import sys; l=int(sys.argv[1] or 0); print(f'{(float(sys.argv[2])-float(sys.argv[3]))/l:.4f}' if l else '-')" "${lm:-0}" "$rep" "$rec")
	printf '| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %.0f | %.1f | %s | %s | %s | %s | %s |\n' "$name" "$run" "$rec" \
		"$(echo "$rec / $run" | bc -l)" "$rep" "$(echo "$rep / $rec" | bc -l)" "$bytes" \
		"$(echo "$bytes / ($gsecs + 0.000001)" | bc -l)" "$(echo "$bytes / ($exits + 0.000001)" | bc -l)" \
		"$exits" "${lm:--}" "${hits:--}" "${kicks:--}" "$per"
	case "$line" in replay:*) ;; *) echo "$name: $line" >> "$tmp/notes" ;; esac
}

bench rtc-guest --rtc 1700000000 build/guests/rtc.elf
bench landmarks-guest build/guests/landmarks.elf
# The boot stops before user space (rdinit= names no program, and there is no root device): the
# row measures the kernel's boot alone, comparable with the rows of earlier runs.
if [ -f build/guest/bzImage ] && [ -f build/guest/initramfs.cpio ]; then
	bench linux-pvh --initrd build/guest/initramfs.cpio \
		--append "console=ttyS0 panic=-1 io_delay=none rdinit=/vmm-no-init $CLR" \
		build/guest/vmlinux
fi
echo

# virtio-blk: the blk_read guest reads a 64 MiB image front to back, 64 KiB a request, one in
# flight. (Linux's dd cannot run on kvm_pvm hosts, whose guest user space dies at its first
# system call, so the workload is a test guest's driver.)
# The image is random bytes, so the journal's size per MB is that of data that does not compress.
head -c $((64 << 20)) /dev/urandom > "$tmp/disk.img"
run=$(timed "$tmp/run.out" "$tmp/run.err" "$VMM" run --serial none --disk "$tmp/disk.img" --append random \
	build/guests/blk_read.elf)
rec=$(timed "$tmp/rec.out" "$tmp/rec.err" "$VMM" record --force -o "$tmp/blk.vrr" --serial none \
	--disk "$tmp/disk.img" --append random build/guests/blk_read.elf)
rep=$(timed "$tmp/rep.out" "$tmp/rep.err" "$VMM" replay --serial none "$tmp/blk.vrr")
bytes=$(stat -c %s "$tmp/blk.vrr")
echo "## virtio-blk sequential read, 64 MiB"
echo
echo "| | run | record | replay |"
echo "|---|---|---|---|"
printf '| seconds | %.2f | %.2f | %.2f |\n' "$run" "$rec" "$rep"
printf '| MB/s | %.1f | %.1f | %.1f |\n' "$(echo "64 / $run" | bc -l)" "$(echo "64 / $rec" | bc -l)" "$(echo "64 / $rep" | bc -l)"
echo
printf 'record/run %.2f, replay/record %.2f; journal %s bytes, %.0f bytes per MB read (the image is random\n' \
	"$(echo "$rec / $run" | bc -l)" "$(echo "$rep / $rec" | bc -l)" "$bytes" "$(echo "$bytes / 64" | bc -l)"
echo "bytes, which zstd cannot shrink: every byte the guest reads is in the journal, plus the exits around it)."
grep -q '^replay:' "$tmp/rep.err" || echo "blk: $(grep -m1 -e diverged -e error "$tmp/rep.err")" >> "$tmp/notes"
echo
if [ -f "$tmp/notes" ]; then
	echo "Replays that did not finish:"
	echo
	sed 's/^/    /' "$tmp/notes"
	echo
fi
# Reverse execution: gdb on a replay of the rtc guest (a few seconds of guest time), continued
# to the end of the journal; then the same session going back from there to the last call of
# report(). The difference is what the reverse-continue cost: once from the snapshots vmm takes
# as the replay advances, once with none (--snapshot-interval 0: every going back replays from
# the start). At the end of each session, before going back, the memory of every vmm process
# of the replay is summed (PSS, so pages shared copy-on-write count once).
cat > "$tmp/pss.sh" <<'PSS'
# pss.sh ROOT-PID OUT: KiB of PSS of the process and all its descendants, into OUT
pids=$1 all=$1
while [ -n "$pids" ]; do
	next=""
	for p in $pids; do next="$next $(cat /proc/$p/task/*/children 2>/dev/null)"; done
	pids=$(echo $next)
	all="$all $pids"
done
for p in $all; do awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup 2>/dev/null; done | awk '{s += $1} END {print s + 0}' > "$2"
PSS
gdbtime() {	# gdbtime JOURNAL SYMBOLS REPLAY-OPTS -- GDB-ARGS...: wall seconds of a gdb batch session on a replay
	gj=$1 gsyms=$2
	shift 2
	gopts=""
	while [ "$1" != "--" ]; do gopts="$gopts $1"; shift; done
	shift
	sock=$tmp/bench.sock
	rm -f "$sock"
	"$VMM" replay --serial none $gopts --gdb "unix:$sock" "$gj" 2> "$tmp/gdbrep.err" &
	gpid=$!
	echo "$gpid" > "$tmp/gdbrep.pid"
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do [ -S "$sock" ] && break; sleep 0.1; done
	gs=$(date +%s.%N)
	gdb -batch -nx -ex "target remote $sock" "$@" "$gsyms" > "$tmp/gdb.out" 2>&1
	ge=$(date +%s.%N)
	wait $gpid
	echo "$ge - $gs" | bc -l
}
if [ -f "$tmp/rtc-guest.vrr" ] && command -v gdb > /dev/null; then
	measure="shell bash $tmp/pss.sh \$(cat $tmp/gdbrep.pid) $tmp/pss"
	fwd=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 -- -ex continue -ex "$measure")
	pss_snap=$(cat "$tmp/pss")
	both=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 -- -ex continue -ex "hbreak report" -ex reverse-continue \
		-ex "monitor snapshots")
	landed=$(grep -c 'Breakpoint 1, report' "$tmp/gdb.out")
	snaps=$(grep -m1 '^[0-9]* snapshots' "$tmp/gdb.out" | cut -d, -f1)
	fwd0=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 --snapshot-interval 0 -- -ex continue -ex "$measure")
	pss_none=$(cat "$tmp/pss")
	both0=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 --snapshot-interval 0 -- -ex continue \
		-ex "hbreak report" -ex reverse-continue)
	landed0=$(grep -c 'Breakpoint 1, report' "$tmp/gdb.out")
	# Watchpoints trap their page: one that never stops (gdb's condition is never true), and a
	# reverse-continue from the end to the last write of a watched variable.
	fwdw=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 -- -ex "watch failed if failed == 99" -ex continue)
	bothw=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 -- -ex continue -ex "watch passed" -ex reverse-continue)
	landedw=$(grep -c 'Hardware watchpoint 1: passed' "$tmp/gdb.out")
	# Software breakpoints: an int3 planted around every KVM_RUN, on a function the guest never
	# calls; and the reverse-continue to report() again with `break` instead of `hbreak`.
	fwds=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 -- -ex "break user_run" -ex continue)
	boths=$(gdbtime "$tmp/rtc-guest.vrr" build/guests/rtc.elf64 -- -ex continue -ex "break report" -ex reverse-continue)
	landeds=$(grep -c 'Breakpoint 1, report' "$tmp/gdb.out")
	rcs=$(echo "$boths - $fwd" | bc -l)
	rcw=$(echo "$bothw - $fwd" | bc -l)
	rc=$(echo "$both - $fwd" | bc -l)
	rc0=$(echo "$both0 - $fwd0" | bc -l)
	echo "## Reverse execution (rtc guest, gdb attached to its replay)"
	echo
	echo "| | seconds | / replay to the end | memory at the end (PSS of all vmm processes) |"
	echo "|---|---|---|---|"
	printf '| replay to the end under gdb, snapshots every 1 s (default) | %.2f | 1.00 | %d KiB (%s) |\n' "$fwd" \
		"$pss_snap" "$snaps"
	printf '| reverse-continue from the end to the last report(), from the snapshots | %.2f | %.2f | |\n' "$rc" \
		"$(echo "$rc / $fwd" | bc -l)"
	printf '| replay to the end under gdb with a watchpoint on a page the guest writes (never stops) | %.2f | %.2f | |\n' \
		"$fwdw" "$(echo "$fwdw / $fwd" | bc -l)"
	printf '| reverse-continue from the end to the last write of a watched variable, from the snapshots | %.2f | %.2f | |\n' \
		"$rcw" "$(echo "$rcw / $fwd" | bc -l)"
	printf '| replay to the end under gdb with a software breakpoint that never fires | %.2f | %.2f | |\n' \
		"$fwds" "$(echo "$fwds / $fwd" | bc -l)"
	printf '| reverse-continue from the end to the last report() with a software breakpoint, from the snapshots | %.2f | %.2f | |\n' \
		"$rcs" "$(echo "$rcs / $fwd" | bc -l)"
	printf '| replay to the end under gdb, no snapshots (--snapshot-interval 0) | %.2f | %.2f | %d KiB |\n' "$fwd0" \
		"$(echo "$fwd0 / $fwd" | bc -l)" "$pss_none"
	printf '| reverse-continue from the end to the last report(), from the start | %.2f | %.2f | |\n' "$rc0" \
		"$(echo "$rc0 / $fwd" | bc -l)"
	echo
	echo "The reverse-continue to the write stopped on the watchpoint: $( [ "$landedw" -ge 2 ] && echo yes || echo NO);"
	echo "the one with a software breakpoint landed on report(): $( [ "$landeds" -ge 1 ] && echo yes || echo NO)."
	echo "The reverse-continue landed on report(): $( [ "$landed" -ge 1 ] && echo yes || echo NO) from the snapshots,"
	echo "$( [ "$landed0" -ge 1 ] && echo yes || echo NO) from the start. Snapshot memory overhead:"
	echo "$((pss_snap - pss_none)) KiB for the $snaps (the pages the replay wrote after each was taken, plus each"
	echo "process's own few pages). From the start, going back replays twice (scan to the point, then run to"
	echo "the stop found); from the snapshots, both runs start at the newest snapshot before the point."
	echo
fi

echo "Landmark cost: (replay s - record s) / landmarks, an upper bound that charges all of replay's"
echo "extra time to landmark hunting. The Linux guest is the patched kernel of tools/build-linux.sh,"
echo "told clearcpuid=...,tsc, so that it never reads the TSC and replays exactly."
