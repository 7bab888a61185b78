#!/usr/bin/env bats
# The onion engine's bootstrap against the real tor authorities and relays
# of tools/tornet: from an empty DataDirectory to 100 % (consensus,
# authority certificates, signature check, microdescriptors over one-hop
# BEGIN_DIR circuits), and from the warm cache without any fetch. Uses
# tools/tkbootstrap.

load helpers

TKBOOT=$TK_BUILDDIR/tools/tkbootstrap

setup() {
	[ -x "$TKBOOT" ] || skip "tools/tkbootstrap not built"
	dd=$BATS_TEST_TMPDIR/data
	out=$BATS_TEST_TMPDIR/out
	err=$BATS_TEST_TMPDIR/err
}

# boot [ARGS]: tkbootstrap on tornet's authorities with our DataDirectory;
# status in $boot_rc, stdout in $out, stderr in $err.
boot() {
	boot_rc=0
	"$TKBOOT" -S -t 60 -d "$dd" -f "$TORNET_DIRAUTHORITY_FILE" "$@" \
		>"$out" 2>"$err" || boot_rc=$?
}

show() {
	echo "--- stdout"
	cat "$out"
	echo "--- stderr"
	cat "$err"
}

# percentages of the "Bootstrapped N%" lines, one per line
percents() {
	sed -nE 's/.*Bootstrapped ([0-9]+)% .*/\1/p' "$err"
}

# relays of the consensus tkbootstrap used (its cache), by our own
# reading: "listed usable guards exits", where usable means Running,
# Valid and Fast (what a general-purpose circuit needs in tor too), and
# exits also Exit without BadExit. A relay restarted by an earlier test
# (daemon_tor.bats kills one) is listed without Fast for a while: tor
# does not use it either, so neither may we.
cached_counts() {
	awk '/^r / { n++ }
	/^s / {
		delete f
		for (i = 2; i <= NF; i++) f[$i] = 1
		if (!("Running" in f) || !("Valid" in f) || !("Fast" in f)) next
		u++
		if ("Guard" in f) g++
		if (("Exit" in f) && !("BadExit" in f)) e++
	}
	END { print n + 0, u + 0, g + 0, e + 0 }' "$dd/cached-microdesc-consensus"
}

@test "bootstrap from an empty DataDirectory reaches 100%, tor-style progress" {
	boot
	show
	[ "$boot_rc" -eq 0 ]
	grep -q 'Bootstrapped 0% (starting): Starting' "$err"
	grep -q 'Bootstrapped 25% (requesting_status): Asking for networkstatus consensus' "$err"
	grep -q 'Bootstrapped 40% (loading_keys): Loading authority key certs' "$err"
	grep -q 'Bootstrapped 75% (enough_dirinfo): Loaded enough directory info to build circuits' "$err"
	grep -q 'Bootstrapped 100% (done): Done' "$err"
	# increasing, each once
	percents | sort -n -c -u
	grep -q '^consensus: .* (fetched)$' "$out"
	grep -qE '^fetches: [1-9][0-9]* before usable' "$out"
	# the cache was written
	[ -s "$dd/cached-microdesc-consensus" ]
	[ -s "$dd/cached-certs" ]
	[ -s "$dd/cached-microdescs" ]
	head -n 1 "$dd/cached-microdesc-consensus" | grep -q '^network-status-version 3 microdesc'
	refute ls "$dd"/*.tmp 2>/dev/null
}

@test "every Running, Valid, Fast relay of the consensus is usable, the exits among them" {
	boot
	show
	[ "$boot_rc" -eq 0 ]
	read -r listed usable guards exits < <(sed -nE 's/^relays: ([0-9]+) listed, ([0-9]+) usable, ([0-9]+) guards, ([0-9]+) exits$/\1 \2 \3 \4/p' "$out")
	read -r n_listed n_usable n_guards n_exits < <(cached_counts)
	echo "the consensus: $n_listed listed, $n_usable usable, $n_guards guards, $n_exits exits"
	echo "we counted:    $listed listed, $usable usable, $guards guards, $exits exits"
	[ "$n_listed" -eq 7 ] # tornet's network: 3 authorities, 2 middles, 2 exits
	[ "$listed" -eq "$n_listed" ]
	[ "$usable" -eq "$n_usable" ]
	[ "$guards" -eq "$n_guards" ]
	[ "$exits" -eq "$n_exits" ]
	[ "$exits" -ge 1 ]
	[ "$guards" -ge 1 ]
}

@test "restart from a warm cache: 100% without a single fetch" {
	local i
	boot
	[ "$boot_rc" -eq 0 ] || { show; false; }
	# The cached consensus lives 40 s on tornet; a stalled machine may
	# outlive it between the two runs, so one retry from cold.
	for i in 1 2; do
		boot -v
		if grep -q '^consensus: .* (from the cache)$' "$out"; then
			break
		fi
		boot
	done
	show
	[ "$boot_rc" -eq 0 ]
	grep -q '^consensus: .* (from the cache)$' "$out"
	grep -q '^fetches: 0 before usable' "$out"
	grep -q 'Bootstrapped 100% (done): Done' "$err"
	# no connection step: nothing was fetched on the way to 100 %
	refute grep -q 'Bootstrapped 5% (conn)' "$err"
	[ -z "$(sed '/Bootstrapped 100%/q' "$err" | grep 'fetching ')" ]
}

@test "a tampered cached consensus is refused and fetched anew" {
	boot
	[ "$boot_rc" -eq 0 ] || { show; false; }
	# change one relay's bandwidth in the signed part
	sed -i -E '0,/^w Bandwidth=/s/^w Bandwidth=([0-9]+)/w Bandwidth=1\1/' "$dd/cached-microdesc-consensus"
	boot -v
	show
	[ "$boot_rc" -eq 0 ]
	grep -q 'refused cached consensus: ' "$err"
	grep -q '^consensus: .* (fetched)$' "$out"
	grep -q 'Bootstrapped 100% (done): Done' "$err"
}

@test "authorities we do not trust: no consensus, clear reasons, exit 4" {
	# the real addresses and identities, but v3idents nobody signs with
	sed -E 's/v3ident=[0-9A-F]{6}/v3ident=000000/' "$TORNET_DIRAUTHORITY_FILE" >"$BATS_TEST_TMPDIR/bad.lines"
	boot_rc=0
	"$TKBOOT" -v -S -t 4 -f "$BATS_TEST_TMPDIR/bad.lines" >"$out" 2>"$err" || boot_rc=$?
	show
	[ "$boot_rc" -eq 4 ]
	grep -q 'no usable directory after 4 s' "$err"
	# the authorities answer 404: the consensus is not signed by them
	grep -q 'consensus from tnauth[0-9] failed: HTTP status 404' "$err"
	refute grep -q 'Bootstrapped 100%' "$err"
}

@test "the consensus is refreshed before valid-until (50 s)" {
	boot -v -k 50
	show
	[ "$boot_rc" -eq 0 ]
	# tornet votes every 20 s and a consensus lives 40 s; the refetch
	# falls 35-39 s after valid-after: in 50 s at least one newer
	# consensus must have replaced the first
	[ "$(grep -c 'new consensus of .* verified' "$err")" -ge 2 ]
	refute grep -q 'directory no longer usable' "$err"
	# the summary's consensus is still live at the end
	vu=$(sed -nE 's/^consensus: .* \.\. ([0-9-]+ [0-9:]+) UTC .*/\1/p' "$out")
	[ "$(date -u -d "$vu" +%s)" -ge "$(date -u +%s)" ]
}

@test "an authority that does not answer is skipped: 100% through the others" {
	local i
	# tnauth0's ORPort replaced by tornet's port kept closed; sources
	# are drawn at random: bootstrap until the dead one was drawn (each
	# run: 1/3 for the consensus; 20 runs miss it with p < 0.0004)
	sed -E "0,/orport=[0-9]+/s//orport=$TORNET_CLOSED_PORT/" "$TORNET_DIRAUTHORITY_FILE" >"$BATS_TEST_TMPDIR/dead.lines"
	grep -q "orport=$TORNET_CLOSED_PORT " "$BATS_TEST_TMPDIR/dead.lines"
	for i in $(seq 20); do
		rm -rf "$dd"
		boot_rc=0
		"$TKBOOT" -S -t 60 -d "$dd" -f "$BATS_TEST_TMPDIR/dead.lines" >"$out" 2>"$err" || boot_rc=$?
		[ "$boot_rc" -eq 0 ] || { show; false; }
		grep -q 'Bootstrapped 100% (done): Done' "$err"
		grep -q 'failed: .*refused' "$err" && break
	done
	show
	# the refusal was seen and bootstrap still completed
	grep -q 'from tnauth0 failed: link handshake with tnauth0 failed: connection refused' "$err"
}
