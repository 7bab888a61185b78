#!/usr/bin/env bats
# Congestion control (prop 324) and ntor v3 (prop 332) against tornet's
# real tor exits, which run Vegas because tornet's consensus says cc_alg=2
# as the live network's does: torkitd negotiates it with the exit, carries
# 50 MB each way through one stream under it, and measures the circuit's
# round trip (on a tornet with --latency, TORNET_LATENCY, that is about 3
# times the added link latency); with CongestionControl 0 it keeps fixed
# windows. tornet's own tor client negotiates it too.
#
#   TORNET_BASE=B tests/interop/run tests/interop/onion_cc.bats
#   TORNET_LATENCY=50 TORNET_BASE=B tests/interop/run tests/interop/onion_cc.bats

load helpers

KC_PORT=$((TORNET_SPARE_PORT + 5)) # CongestionControl auto (the default)
KF_PORT=$((TORNET_SPARE_PORT + 6)) # CongestionControl 0

start_torkitd() {
	local d=$BATS_FILE_TMPDIR/$1 port=$2
	shift 2
	mkdir -p "$d/data"
	{
		cat "$TORNET_DIRAUTHORITY_FILE"
		echo "Engine tor"
		echo "SocksPort 127.0.0.1:$port"
		echo "EnforceDistinctSubnets 0"
		echo "DataDirectory $d/data"
		echo "HalfCloseLinger 2"
		echo "SafeLogging 0"
		# tornet's relays and services are all 127.0.0.1
		echo "ClientRejectInternalAddresses 0"
		echo "ClientDNSRejectInternalAddresses 0"
		echo "Log info file $d/torkitd.log"
		printf '%s\n' "$@"
	} >"$d/torkitd.conf"
	"$TK_TORKITD" -f "$d/torkitd.conf" </dev/null >"$d/torkitd.out" 2>&1 3>&- &
	echo $! >"$d/torkitd.pid"
	wait_port "$port" || { cat "$d/torkitd.out" >&2; return 1; }
	wait_file "$d/torkitd.log" 'circ [0-9]* built' 1800 ||
		{ cat "$d/torkitd.log" >&2; return 1; }
}

setup_file() {
	start_torkitd cc "$KC_PORT"
	start_torkitd fw "$KF_PORT" "CongestionControl 0"
}

teardown_file() {
	stop_torkitd "$BATS_FILE_TMPDIR/cc"
	stop_torkitd "$BATS_FILE_TMPDIR/fw"
}

setup() {
	T=$BATS_TEST_TMPDIR
	CLOG=$BATS_FILE_TMPDIR/cc/torkitd.log
	FLOG=$BATS_FILE_TMPDIR/fw/torkitd.log
}

# echo_check PORT IN OUT: IN through a stream of the torkitd on PORT to
# tornet's echo server; the echo lands in OUT. The sending side stays
# open until the whole echo is back (Tor has no half-close).
echo_check() {
	local port=$1 in=$2 out=$3 size
	size=$(stat -c %s "$in")
	{ cat "$in"; wait_size "$out" "$size" 3000; } |
		TOR_SOCKS_HOST=127.0.0.1 TOR_SOCKS_PORT=$port timeout 400 \
			"$TK_CONNECT" "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT" >"$out"
}

# the last "stream ... closed after" line of LOG, once the stream's
# HalfCloseLinger (2 s) has run out
closed_line() {
	wait_file "$1" "closed after $2 bytes up, $2 down" 200 &&
		grep "closed after $2 bytes up, $2 down" "$1" | tail -n 1
}

@test "torkitd negotiates congestion control with tornet's exit: ntor v3, CC request, Vegas at sendme_inc 31" {
	run grep -E 'circ [0-9]+: congestion control with exit tnexit[01]: Vegas, sendme_inc 31, cwnd 124$' "$CLOG"
	echo "$output"
	assert_success
	refute_output --partial "did not accept congestion control"
	run_echo "cc hello" env TOR_SOCKS_HOST=127.0.0.1 TOR_SOCKS_PORT="$KC_PORT" \
		"$TK_CONNECT" "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
	assert_success
	assert_output "cc hello"
	# the stream's circuit is the congestion-controlled one
	grep -qE "CONNECT $TORNET_ECHO_NAME:$TORNET_ECHO_PORT open on circ [0-9]+ .* cc (slow-start )?cwnd [0-9]+ rtt" "$CLOG"
}

@test "50 MB each way through one stream under congestion control, byte for byte" {
	head -c 52428800 /dev/urandom >"$T/big"
	echo_check "$KC_PORT" "$T/big" "$T/big.out"
	cmp "$T/big" "$T/big.out"
	run closed_line "$CLOG" 52428800
	echo "$output"
	assert_success
	assert_output --regexp ' cc (slow-start )?cwnd [0-9]+ rtt [0-9]+/[0-9]+ ms inflight [0-9]+ acks [0-9]+ \([0-9]+ blocked\)$'
}

@test "Vegas measured the circuit's round trip: with --latency, at least 3 x the added link latency" {
	local line min
	line=$(grep -E ' cc (slow-start )?cwnd [0-9]+ rtt [0-9]+/' "$CLOG" | tail -n 1)
	[ -n "$line" ]
	min=$(sed -E 's/.* rtt ([0-9]+)\/.*/\1/' <<<"$line")
	echo "min RTT $min ms; added per link: $TORNET_LATENCY_MS ms"
	[ "$min" -ge $((3 * TORNET_LATENCY_MS)) ]
	[ "$min" -le $((3 * TORNET_LATENCY_MS + 500)) ]
}

@test "CongestionControl 0: ntor v1 to every hop, fixed windows; 5 MB each way" {
	head -c 5242880 /dev/urandom >"$T/mid"
	echo_check "$KF_PORT" "$T/mid" "$T/mid.out"
	cmp "$T/mid" "$T/mid.out"
	grep -q 'CongestionControl 0' "$FLOG"
	run grep -c 'congestion control with exit' "$FLOG"
	assert_output 0
	run closed_line "$FLOG" 5242880
	echo "$output"
	assert_success
	refute_output --partial " cc "
}

@test "tornet's tor client negotiates it too: CIRC_BW events carry its congestion window" {
	run timeout 120 python3 - "$TORNET_CONTROL_PORT" "$TORNET_SOCKS_PORT" <<'EOF'
import os, socket, struct, sys, time
ctl = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
f = ctl.makefile("rwb")
def cmd(line):
    f.write(line.encode() + b"\r\n"); f.flush()
    reply = f.readline().decode()
    assert reply.startswith("250"), reply
cmd("AUTHENTICATE")
cmd("SETEVENTS CIRC_BW")
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=60)
s.sendall(b"\x05\x01\x00"); s.recv(2)
h = os.environ["TORNET_ECHO_NAME"].encode()
s.sendall(b"\x05\x01\x00\x03" + bytes([len(h)]) + h + struct.pack(">H", int(os.environ["TORNET_ECHO_PORT"])))
s.recv(10)
data = os.urandom(1 << 20)
s.sendall(data)
got = 0
while got < len(data):
    got += len(s.recv(65536))
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    line = f.readline().decode().strip()
    if line.startswith("650 CIRC_BW") and " CWND=" in line:
        print(line)
        sys.exit(0)
sys.exit("no CIRC_BW event with CWND=")
EOF
	echo "$output"
	assert_success
	assert_output --regexp 'SS=[01] CWND=[0-9]+ RTT=[0-9]+ MIN_RTT=[0-9]+'
}
