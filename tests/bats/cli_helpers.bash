# Helpers for the clients' bats tests (cli_*.bats): the scripted SOCKS
# peer and a few assertions. Loads the shared helpers first.
load "$TK_SRCDIR/tests/bats/helpers"
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
bats_require_minimum_version 1.5.0

TK_FAKESOCKS="$TK_BUILDDIR/tests/helpers/cli_fakesocks"

# fake_start [-n N] [-U path] [-F] step...: start the scripted peer (see
# tests/helpers/cli_fakesocks.c). Sets FAKE_PORT (or FAKE_PATH), FAKE_PID
# and FAKE_LOG (the hex of every client message, one a line).
fake_start() {
	local out="$BATS_TEST_TMPDIR/fake.$RANDOM.out"
	FAKE_LOG="$BATS_TEST_TMPDIR/fake.$RANDOM.log"
	: >"$FAKE_LOG"
	"$TK_FAKESOCKS" -l "$FAKE_LOG" "$@" >"$out" 2>>"$BATS_TEST_TMPDIR/fake.err" &
	FAKE_PID=$!
	tk_track "$FAKE_PID"
	tk_wait_log "$out" '^(port|unix) ' 10 || return 1
	FAKE_PORT=$(awk '$1 == "port" { print $2 }' "$out")
	FAKE_PATH=$(awk '$1 == "unix" { print $2 }' "$out")
	FAKE_PROXY="127.0.0.1:$FAKE_PORT"
}

# fake_replies_resolve HEX: a SOCKS5 proxy that accepts no-auth, reads
# the request and answers HEX, then closes.
fake_socks5() {
	fake_start "$@"
}

# assert_exit N: the last `run` exited with N (prints output otherwise).
assert_exit() {
	if [ "$status" -ne "$1" ]; then
		echo "expected exit $1, got $status" >&2
		echo "output: $output" >&2
		return 1
	fi
}
