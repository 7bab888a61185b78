#!/usr/bin/env bats
# torkitd with NumCPUs 2: two event loops, one per thread, each with its
# own SO_REUSEPORT listener. Bulk streams on both, reload, statistics,
# MaxClients and lingering sessions counted across the loops. (With the
# default NumCPUs 0 every other daemon test runs one loop per core.)

load "$TK_SRCDIR/tests/bats/helpers"
load "$TK_SRCDIR/tests/bats/daemon_helpers"

CTL="$TK_SRCDIR/tests/bats/ctl.py"
BULK="$TK_SRCDIR/tests/bats/socksbulk.py"

teardown() { dh_teardown; }

# loops_torkitd [torrc lines...]: dh_torkitd with NumCPUs 2 and a
# ControlSocket (CSOCK), once both loops run.
loops_torkitd() {
	CSOCK="$BATS_TEST_TMPDIR/control"
	dh_torkitd "NumCPUs 2" "ControlSocket $CSOCK" "$@"
	tk_wait_log "$DH_LOG" "Running 2 event loops \(NumCPUs\)" 20 "$DH_PID"
	tk_wait_log "$DH_LOG" "Opened Control listener" 20 "$DH_PID"
}

# getinfo KEY: the value of GETINFO KEY.
getinfo() {
	python3 "$CTL" "unix:$CSOCK" AUTHENTICATE "GETINFO $1" |
		sed -n "s|^250-$1=||p"
}

# accepted ID: how many clients loop ID accepted so far.
accepted() {
	getinfo torkit/loops | tr ' ' '\n' | sed -n "s/^$1:clients=[0-9]*,accepted=//p"
}

@test "NumCPUs 2: 200 concurrent bulk streams, each checked byte for byte, on both loops" {
	loops_torkitd "ExitPolicyRejectPrivate 0"
	run timeout 200 python3 "$BULK" "$DH_PORT" 200 $((1024 * 1024))
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "ok 200" ]
	loops=$(getinfo torkit/loops)
	echo "$loops"
	[[ "$loops" =~ ^0:clients=[0-9]+,accepted=([0-9]+)\ 1:clients=[0-9]+,accepted=([0-9]+)$ ]]
	a0=${BASH_REMATCH[1]} a1=${BASH_REMATCH[2]}
	[ "$a0" -gt 0 ]
	[ "$a1" -gt 0 ]
	[ $((a0 + a1)) -eq 200 ]
	# every session closed, on both loops
	tk_poll 100 "" eval '[ "$(getinfo torkit/clients)" = 0 ]'
	[[ "$(getinfo torkit/loops)" =~ ^0:clients=0,.*\ 1:clients=0, ]]
}

@test "NumCPUs 2: SIGHUP reaches both loops (a new SocksPort, a new ExitPolicy)" {
	dh_target ECHO echo
	loops_torkitd "ExitPolicyRejectPrivate 0"
	P=$(dh_hexport "$ECHO")
	second=$(tk_free_port)
	sed -i "s/^SocksPort .*/SocksPort 127.0.0.1:$second/" "$DH_CONF"
	echo "ExitPolicy reject 127.0.0.1:$ECHO" >>"$DH_CONF"
	before0=$(accepted 0) before1=$(accepted 1)
	kill -HUP "$DH_PID"
	tk_wait_log "$DH_LOG" "Opened Socks listener connection \(ready\) on 127.0.0.1:$second"
	tk_wait_log "$DH_LOG" "Closing Socks listener on 127.0.0.1:$DH_PORT"
	# Both loops listen on the new port and apply the new policy: every
	# one of 40 requests (spread over the loops by the kernel) refused.
	for i in $(seq 1 40); do
		run dh_raw "$second" "050100 0501 0001 7f000001 $P"
		[ "${lines[0]}" = "05 00 05 02 00 01 00 00 00 00 00 00" ]
	done
	[ "$(accepted 0)" -gt "$before0" ]
	[ "$(accepted 1)" -gt "$before1" ]
	# and neither listens on the old port any more
	refute tk_port_open 127.0.0.1 "$DH_PORT"
	grep -c "Received reload signal" "$DH_LOG"
}

@test "NumCPUs 2: MaxClients counts the clients of both loops" {
	loops_torkitd "MaxClients 4"
	dh_hold 4
	tk_poll 100 "" eval '[ "$(getinfo torkit/clients)" = 4 ]'
	# 20 more, whichever loop the kernel gives each to: all refused
	for i in $(seq 1 20); do
		run "$DH_RAW" -t 60 "$DH_PORT" 050100
		dh_closed "$output"
	done
	tk_wait_log "$DH_LOG" "MaxClients \(4\) reached"
	[ "$(getinfo torkit/clients)" = 4 ]
	[[ "$(getinfo torkit/loops)" =~ ^0:clients=([0-9]+),.*\ 1:clients=([0-9]+), ]]
	[ $((BASH_REMATCH[1] + BASH_REMATCH[2])) -eq 4 ]
}

@test "NumCPUs 2: at MaxClients a lingering connection on either loop makes room" {
	dh_target HOLD hold
	loops_torkitd "ExitPolicyRejectPrivate 0" "MaxClients 8"
	dh_linger 8 "$HOLD"
	# 8 new clients, held open: each one needs a lingering session
	# closed, on its own loop or, when that has none left, the other.
	for i in $(seq 1 8); do
		dh_hold 1
		fd=${DH_HELD[-1]}
		printf '\x05\x01\x00' >&"$fd"
		reply=$(timeout 20 head -c 2 <&"$fd" | od -An -tx1 | tr -d ' ')
		[ "$reply" = 0500 ]
	done
	[ "$(getinfo torkit/clients)" = 8 ]
	[ "$(grep -c 'MaxClients (8) reached: refusing' "$DH_LOG")" -eq 0 ]
}

@test "Engine tor: NumCPUs above 1 is ignored, with a log line" {
	unshare -n true 2>/dev/null ||
		skip "needs unshare -n (root): the tor engine must not reach the network"
	dir="$BATS_TEST_TMPDIR/tor"
	mkdir -p "$dir"
	port=$(tk_free_port)
	unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$TK_TORKITD" \
		-f /dev/null --Engine tor --NumCPUs 4 --SocksPort "127.0.0.1:$port" \
		--DataDirectory "$dir/data" --Log "notice file $dir/log" &
	tk_track $!
	tk_wait_log "$dir/log" "NumCPUs 4 ignored: the tor engine runs on one loop"
	tk_wait_log "$dir/log" "Opened Socks listener connection \(ready\)"
	refute grep -q "event loops" "$dir/log"
}
