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

# echo_start: an echo server on 127.0.0.1 that keeps answering after the
# client's half-close (ncat --exec cat loses that reply). Sets ECHO_PORT.
echo_start() {
	local out="$BATS_TEST_TMPDIR/echo.$RANDOM.out"
	"$TK_FAKESOCKS" -k echo >"$out" 2>>"$BATS_TEST_TMPDIR/echo.err" &
	tk_track $!
	tk_wait_log "$out" '^port ' 10 || return 1
	ECHO_PORT=$(awk '$1 == "port" { print $2 }' "$out")
	export ECHO_PORT
}

# stdin_open_start: fd 5 becomes a FIFO opened read-write, so a command
# given <&5 sees a standard input that never ends and never blocks a
# pipeline from finishing. stdin_open_stop closes it.
stdin_open_start() {
	mkfifo "$BATS_TEST_TMPDIR/never-ending"
	exec 5<>"$BATS_TEST_TMPDIR/never-ending"
}
stdin_open_stop() { exec 5>&-; }

# assert_exit N: the last `run` exited with N (prints output otherwise).
assert_exit() {
	if [ "$status" -ne "$1" ]; then
		echo "expected exit $1, got $status" >&2
		echo "output: $output" >&2
		return 1
	fi
}
