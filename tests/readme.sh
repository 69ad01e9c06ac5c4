#!/bin/sh
# The README's commands, run as a user would run them: every ```sh block, in order, in one scratch
# directory where ./vmm is $VMM and build/, tests/ and tools/ are this tree's, each under sh -e (its first failing
# command ends it). A block passes when it exits
# with status 0, or N if an HTML comment <!-- status N --> stands on a line before it, and when
# every line of a ```text block right after it appears in what it printed (stdout and stderr;
# "..." in an expected line stands for any text). <!-- needs CAP --> before a block names a KVM
# capability (tests/lib.sh: hw_bp, int3) it rests on: where the probe finds it lacking, a failure
# of that block is an expected one (XFAIL), never a pass. <!-- linux --> marks a block that needs
# the Linux guest (make linux): those run with --linux (make linux-tests), the others without it,
# so that every block runs in `make check`. On kvm_pvm hosts --linux adds the clearcpuid= words
# the README's host notes ask for to every --append "...", as a user there would. <!-- retry -->
# marks a block whose claim a stall of the machine under a nested VM can break (no update lost
# in a plain recording: vmm cannot see such a stall, the README says so): it runs a second time
# when the first fails, and passes only if the second does; the first failure is shown.
#
# usage: VMM=./vmm tests/readme.sh [--linux] README.md
set -u
. "$(dirname "$0")/lib.sh"
linux=0
[ "${1:-}" = --linux ] && { linux=1; shift; }
readme=$(realpath "${1:?usage: readme.sh [--linux] README.md}")
root=$(dirname "$readme")
tmp=$(realpath "${TMPDIR:-/tmp}")/vmm-readme.$$
mkdir -p "$tmp/blocks" "$tmp/work"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0 failed=0
have_kvm || no_kvm "README"
kvm_probe
for f in build tests tools; do ln -s "$root/$f" "$tmp/work/$f"; done
# ./vmm is the binary under test: the sanitizer build in the SANITIZE=1 pass.
ln -s "$(realpath "${VMM:-$root/vmm}")" "$tmp/work/vmm"

# Split the README: blocks/N.sh, blocks/N.status, blocks/N.line, and blocks/N.text when one follows.
awk -v dir="$tmp/blocks" -v linux=$linux '
	inblock == "" && /^<!-- status [0-9]+ -->$/ { status = $3; after_sh = 0; next }
	inblock == "" && /^<!-- needs [a-z_0-9]+ -->$/ { needs = needs " " $3; after_sh = 0; next }
	inblock == "" && /^<!-- linux -->$/ { marked = 1; after_sh = 0; next }
	inblock == "" && /^<!-- retry -->$/ { retry = 1; after_sh = 0; next }
	inblock == "" && /^```sh$/ && marked != linux {
		inblock = "other"; status = ""; needs = ""; marked = 0; retry = 0; after_sh = 0; next
	}
	inblock == "" && /^```sh$/ {
		n++; inblock = "sh"; file = dir "/" n ".sh"; printf "" > file
		print (status == "" ? 0 : status) > (dir "/" n ".status"); print NR > (dir "/" n ".line")
		print needs > (dir "/" n ".needs"); print retry + 0 > (dir "/" n ".retry")
		status = ""; needs = ""; marked = 0; retry = 0; next
	}
	inblock == "" && /^```text$/ {
		if (after_sh) { inblock = "text"; file = dir "/" n ".text"; printf "" > file } else inblock = "other"
		after_sh = 0; next
	}
	inblock == "" && /^```/ { inblock = "other"; after_sh = 0; next }
	inblock != "" && /^```$/ { after_sh = inblock == "sh"; inblock = ""; next }
	inblock == "sh" || inblock == "text" { print > file; next }
	inblock == "other" { next }
	NF { after_sh = 0 }
	END { print n + 0 > (dir "/count") }
' "$readme"

# expected LINE FILE: true if LINE, with "..." standing for any text, is in FILE.
expected() {
	pattern=$(printf '%s\n' "$1" | sed 's/[][\.*^$/]/\\&/g; s/\\\.\\\.\\\./.*/g')
	grep -q -- "$pattern" "$2"
}

# run_block: $block in the work directory; sets got (its status) and missing (an expected line not printed).
run_block() {
	(cd "$tmp/work" && timeout -k 10 900 sh -e "$block") > "$base.out" 2>&1
	got=$?
	missing=
	if [ -f "$base.text" ]; then
		while IFS= read -r want_line; do
			[ -n "$want_line" ] || continue
			expected "$want_line" "$base.out" || missing="$want_line"
		done < "$base.text"
	fi
}

n=$(cat "$tmp/blocks/count")
for i in $(seq 1 "$n"); do
	base=$tmp/blocks/$i
	block=$base.sh
	want=$(cat "$base.status")
	line=$(cat "$base.line")
	first=$(head -n 1 "$block")
	# kvm_pvm: the words of the README's host notes, as its Linux section tells a user there.
	[ $linux = 1 ] && [ -d /sys/module/kvm_pvm ] &&
		sed -i "s/--append \"/--append \"$pvm_clearcpuid,tsc /" "$block"
	run_block
	if [ "$(cat "$base.retry")" = 1 ] && { [ "$got" -ne "$want" ] || [ -n "$missing" ]; }; then
		echo "README line $line: first try: status $got${missing:+, missing: $missing}; trying again (<!-- retry -->):"
		tail -n 4 "$base.out" | sed 's/^/    /'
		run_block
	fi
	if [ "$got" -eq "$want" ] && [ -z "$missing" ]; then
		passed=$((passed + 1)); echo "PASS README line $line: $first"
	else
		needs=$(cat "$base.needs")
		fail_check "README line $line: $first: status $got (want $want)${missing:+; missing: $missing}"
		tail -n 8 "$base.out" | sed 's/^/    /'
		# A command that failed under sh -e hides what the guest said: show its serial files too.
		for f in $(grep -o 'file:[^ ]*' "$block" | sed 's/^file://' | sort -u); do
			case $f in *'{}'*) continue ;; esac
			[ -f "$tmp/work/$f" ] || continue
			echo "    $f:"
			tail -n 8 "$tmp/work/$f" | sed 's/^/      /'
		done
	fi
done
if [ "$n" -lt $((linux ? 3 : 5)) ]; then
	failed=$((failed + 1)); echo "FAIL README: only $n command blocks found"
fi
summary "README"
[ "$failed" -eq 0 ]
