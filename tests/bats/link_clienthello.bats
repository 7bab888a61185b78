#!/usr/bin/env bats
# torkit's TLS ClientHello next to tor's own: Debian's tor, as a client
# with one bridge, and tools/tkonion both connect to a listener that
# keeps the first record they send (tests/bats/clienthello.py). Both run
# in a network namespace of their own with nothing but loopback, so tor
# cannot reach anything else even by mistake. With OpenSSL (the default
# TLS library) the two hellos have the same shape; only what is random
# differs.

load helpers

HELLO=$TK_SRCDIR/tests/bats/clienthello.py

setup() {
	command -v tor >/dev/null || skip "tor not installed (tools/deps)"
	command -v python3 >/dev/null || skip "python3 not installed"
	[ -x "$TK_BUILDDIR/tools/tkonion" ] || skip "tools/tkonion not built"
	if [ "$(id -u)" -eq 0 ]; then
		NETNS=(unshare -n)
	else
		NETNS=(unshare -rn)
	fi
	"${NETNS[@]}" true 2>/dev/null ||
		skip "cannot make a network namespace here (unshare -n)"
	T=$BATS_TEST_TMPDIR
}

# capture WHO COMMAND...: in a fresh namespace, listen on a port, run
# COMMAND against it, keep the hello in $T/WHO.hello
capture() {
	local who=$1
	shift
	"${NETNS[@]}" bash -c '
		ip link set lo up || exit 1
		python3 "$1" capture 9901 "$2" & cap=$!
		for i in $(seq 100); do
			ss -Hltn "sport = :9901" | grep -q . && break
			sleep 0.05
		done
		shift 2
		timeout 30 "$@" >/dev/null 2>&1 &
		run=$!
		wait "$cap"; rc=$?
		kill "$run" 2>/dev/null
		wait "$run" 2>/dev/null
		exit $rc' _ "$HELLO" "$T/$who.hello" "$@"
}

@test "tor's ClientHello and torkit's have the same shape (OpenSSL)" {
	grep -q 'TLS library for the link: openssl' "$TK_BUILDDIR/config.log" ||
		skip "configure --with-tls=mbedtls: a ClientHello unlike tor's (tls_mbedtls.c)"
	mkdir -p "$T/tordata"
	chmod 700 "$T/tordata"
	capture tor tor --ignore-missing-torrc -f /dev/null --defaults-torrc /dev/null \
		--DataDirectory "$T/tordata" --SocksPort 0 --UseBridges 1 \
		--Bridge "127.0.0.1:9901" --Log "notice stderr"
	capture torkit "$TK_BUILDDIR/tools/tkonion" -t 5000 handshake \
		127.0.0.1:9901 0000000000000000000000000000000000000000
	python3 "$HELLO" shape "$T/tor.hello" >"$T/tor.shape"
	python3 "$HELLO" shape "$T/torkit.hello" >"$T/torkit.shape"
	cat "$T/torkit.shape"
	diff -u "$T/tor.shape" "$T/torkit.shape"
	grep -qx 'server name www.<base32{4,25}>.com' "$T/torkit.shape"
	grep -q '^cipher suites 1301 ' "$T/torkit.shape"
}

@test "torkit's server name looks like tor's: www. + 4 to 25 base32 characters + .com" {
	local i names=""
	for i in 1 2 3 4 5 6; do
		capture "sni$i" "$TK_BUILDDIR/tools/tkonion" -t 5000 handshake \
			127.0.0.1:9901 0000000000000000000000000000000000000000
		names="$names $(python3 "$HELLO" shape "$T/sni$i.hello" | sed -n 's/^server name //p')"
	done
	echo "$names"
	for i in $names; do
		[ "$i" = "www.<base32{4,25}>.com" ]
	done
}
