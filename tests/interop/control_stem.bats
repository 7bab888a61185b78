#!/usr/bin/env bats
# torkitd's ControlPort driven by Debian's python3-stem, a controller
# nobody here wrote, with Engine tor on the real Tor relays of
# tools/tornet: PROTOCOLINFO and SAFECOOKIE authentication as stem does
# them, the bootstrap phase (GETINFO and STATUS_CLIENT events), the SOCKS
# listeners, SIGNAL NEWNYM giving new streams a new circuit while a
# stream opened before it goes on, and Tor's 510 for an unknown command.
# The protocol's details on the direct engine: tests/bats/daemon_control.bats.

load helpers

KS_PORT=$((TORNET_SPARE_PORT + 20))
KS_CTL=$((TORNET_SPARE_PORT + 21))
STEM_PY=/usr/bin/python3

# tornet's directory authorities, whose pids we hold
auth_pids() {
	local n pid
	for n in "$TORNET_DIR"/run/auth*.pid; do
		pid=$(cat "$n")
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '^tor ' && echo "$pid"
	done
}

# every authority running again (also when a step failed)
release_auths() {
	local pid
	for pid in $(auth_pids); do kill -CONT "$pid"; done
}

setup_file() {
	local d=$BATS_FILE_TMPDIR pid
	mkdir -p "$d/data"
	# torkitd bootstraps from tornet in a fraction of a second: stopping
	# the authorities holds it at its first step until stem has
	# subscribed to the bootstrap events (stem_control.py continues them)
	auth_pids >"$d/auths"
	[ "$(wc -l <"$d/auths")" -eq 3 ] || { echo "tornet has not 3 authorities running" >&2; return 1; }
	for pid in $(cat "$d/auths"); do kill -STOP "$pid"; done
	tornet_torkitd_conf "$d" "SocksPort 127.0.0.1:$KS_PORT" \
		"ControlPort 127.0.0.1:$KS_CTL" "CookieAuthentication 1" "SafeLogging 0"
	"$TK_TORKITD" -f "$d/torkitd.conf" </dev/null >"$d/torkitd.out" 2>&1 3>&- &
	echo $! >"$d/torkitd.pid"
	# only the port: stem follows the bootstrap itself
	wait_port "$KS_CTL" || { release_auths; cat "$d/torkitd.out" >&2; return 1; }
}

teardown_file() {
	release_auths
	stop_torkitd "$BATS_FILE_TMPDIR"
}

@test "stem: authenticate, bootstrap phase, listeners, NEWNYM puts new streams on a new circuit, 510" {
	"$STEM_PY" -c 'import stem' || fail "Debian's python3-stem is not installed (tools/deps)"
	d=$BATS_FILE_TMPDIR
	run timeout 600 "$STEM_PY" "$TK_SRCDIR/tests/interop/stem_control.py" \
		"$KS_CTL" "$KS_PORT" "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT" "$d/torkitd.log" \
		$(cat "$d/auths")
	release_auths
	echo "$output"
	assert_success
	assert_line "auth methods: COOKIE,SAFECOOKIE"
	assert_line "cookie file: $d/data/control_auth_cookie"
	assert_line "authenticated: True"
	assert_line "version: 0.4.9.11 (torkit-0.1.0)"
	assert_line "bootstrap phase at first: not done"
	assert_line --regexp '^bootstrap events up to 100%: [1-9][0-9]*$'
	assert_line 'bootstrap phase: NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"'
	assert_line "circuit established: 1"
	assert_line "socks listeners: 127.0.0.1:$KS_PORT"
	assert_line "stream A echoes: True"
	assert_line "stream B echoes: True"
	assert_line "stream C echoes: True"
	assert_line "stream A echoes after NEWNYM: True"
	assert_line "A and B share a circuit: True"
	assert_line "C is on another circuit: True"
	assert_line 'unknown command: 510 Unrecognized command "FOO"'
	# the log says so too: SAFECOOKIE from stem, NEWNYM retiring A's circuit
	grep -Eq "Control connection from 127.0.0.1 authenticated" "$d/torkitd.log"
	grep -Eq "NEWNYM: new requests get new circuits \([1-9][0-9]* in use retired" "$d/torkitd.log"
}
