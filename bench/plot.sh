#!/bin/sh
# Draws bench/RESULTS.md's headline figures into bench/results.png, beside it: the cost of an
# exit against the bare KVM loop, run/record/replay wall time per guest, and Linux to /init
# against QEMU. Reads the tables `make bench` wrote, so the picture and the text cannot disagree.
# gnuplot comes from Debian's gnuplot-nox (installed here when missing and run as root).
#
# usage: bench/plot.sh [RESULTS.md [OUT.png]]
set -eu
in=${1:-bench/RESULTS.md}
out=${2:-bench/results.png}
if ! command -v gnuplot > /dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null 2>&1; then
		apt-get install -y -q gnuplot-nox > /dev/null
	else
		echo "plot: gnuplot is missing (apt-get install gnuplot-nox); no $out" >&2
		exit 1
	fi
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Each table cell's median is its first number; a section "## On KVM" names the KVM of its rows.
awk -v dir="$tmp" '
	function med(cell) { gsub(/^ +| +$/, "", cell); split(cell, w, " "); return w[1] ~ /^[0-9.]+$/ ? w[1] : "?" }
	function nm(cell) { gsub(/^ +| +$/, "", cell); gsub(/"/, "", cell); return cell }
	/^## On / { kvm = $0; sub(/^## On /, "", kvm); sub(/ \(.*/, "", kvm); next }
	/^## / { kvm = "" }
	/^### / { table = $0 }
	/^\| (pio|mmio|hlt) \|/ && kvm != "" {
		split($0, c, "|")
		printf "\"%s\\n%s\" %s %s %s %s\n", nm(c[2]), kvm, med(c[3]), med(c[4]), med(c[6]), med(c[8]) >> (dir "/exit.dat")
	}
	/^\| [a-z0-9-]+ \| [0-9.]+ \(/ && kvm != "" && $0 !~ /^\| (pio|mmio|hlt) / {
		split($0, c, "|")
		label = nm(c[2])
		if (label == "seconds" && table ~ /virtio-blk/)
			label = "virtio-blk read"
		else if (label == "seconds")
			next
		printf "\"%s\" %s %s %s\n", label, med(c[3]), med(c[4]), med(c[label == "virtio-blk read" ? 5 : 6]) >> (dir "/rr.dat")
	}
	/^\| `--(no-)?ioeventfd` \| [0-9.]+ / && kvm != "" {
		split($0, c, "|")
		label = nm(c[2]) ~ /no-/ ? "virtio-blk read\\n(MMIO kicks)" : "virtio-blk read\\n(ioeventfd)"
		if (match(table, / on [0-9]+ CPUs/))
			label = label "," substr(table, RSTART + 3, RLENGTH - 3)
		printf "\"%s\" %s %s %s\n", label, med(c[3]), med(c[4]), med(c[5]) >> (dir "/rr.dat")
	}
	/^\| (vmm run|QEMU)[^|]*\| [0-9.]+ / {
		split($0, c, "|"); name = c[2]; gsub(/^ +| +$/, "", name); gsub(/"/, "", name)
		sub(/ \(.*\)$/, "", name); sub(/, /, "\\n", name)
		printf "\"%s\" %s\n", name, med(c[3]) >> (dir "/boot.dat")
	}
' "$in"
for f in exit rr boot; do
	[ -s "$tmp/$f.dat" ] || { echo "plot: no $f table in $in" >&2; exit 1; }
done

gnuplot <<GP
set terminal pngcairo size 1500,560 font ",10"
set bmargin 8
set termoption noenhanced
set output "$out"
set multiplot layout 1,3 title "vmm benchmarks (bench/RESULTS.md, medians of 5)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top left
set yrange [0:*]
set datafile missing "?"
set title "One exit: microseconds"
plot "$tmp/exit.dat" using 2:xtic(1) title "bare KVM loop", '' using 3 title "vmm run", \
     '' using 4 title "vmm record", '' using 5 title "vmm replay"
set title "Run, record, replay: seconds (no bar: the replay failed)"
set xtics rotate by -20
plot "$tmp/rr.dat" using 2:xtic(1) title "run", '' using 3 title "record", '' using 4 title "replay"
set title "Linux to /init: seconds"
set xtics rotate by -35 font ",9"
set key off
plot "$tmp/boot.dat" using 2:xtic(1) title "seconds"
unset multiplot
GP
echo "plot: wrote $out" >&2
