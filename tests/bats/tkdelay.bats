#!/usr/bin/env bats
# tools/tkdelay, the forwarder behind tornet --latency: it holds every
# byte back for the delay in each direction, limits the rate if asked,
# passes data and a half-close on unchanged, and leaves its command line
# as it was (tornet checks /proc/PID/cmdline before it stops a process).
# Against daemon_echo on loopback; every bound below is a lower bound: a
# forwarder cannot be faster than its delay or rate, however loaded the
# machine is.

load "$TK_SRCDIR/tests/bats/helpers"
load "$TK_SRCDIR/tests/bats/daemon_helpers"
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

TKDELAY=$TK_BUILDDIR/tools/tkdelay

teardown() {
	tk_stop_all
}

# start_delay VAR ARGS...: tkdelay on a free port forwarding to $ECHO;
# sets VAR to its port and DELAY_PID.
start_delay() {
	local var=$1 port try rc
	shift
	for try in 1 2 3; do
		port=$(tk_free_port) || return 1
		"$TKDELAY" "$@" "$port=$ECHO" 2>"$BATS_TEST_TMPDIR/tkdelay.err" &
		DELAY_PID=$!
		tk_track "$DELAY_PID"
		rc=0
		tk_wait_port 127.0.0.1 "$port" 20 "$DELAY_PID" || rc=$?
		[ "$rc" -eq 0 ] && break
	done
	[ "$rc" -eq 0 ] || { cat "$BATS_TEST_TMPDIR/tkdelay.err" >&2; return 1; }
	printf -v "$var" '%s' "$port"
}

# through PORT: python3 connects to PORT; prints the fastest one-byte
# round trip in ms, then sends $BYTES (default 1 MiB) of random data, shuts
# its side, reads the echo until EOF, and prints "same" if it is what it
# sent, then the seconds the transfer took.
through() {
	BYTES=${BYTES:-1048576} python3 - "$1" <<'EOF'
import os, socket, sys, threading, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
best = None
for _ in range(3):
    t = time.monotonic(); s.sendall(b"x"); s.recv(1)
    ms = (time.monotonic() - t) * 1000
    best = ms if best is None else min(best, ms)
print(int(best))
data = os.urandom(int(os.environ["BYTES"]))
def w():
    s.sendall(data); s.shutdown(socket.SHUT_WR)
t = time.monotonic()
th = threading.Thread(target=w); th.start()
got = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    got += c
th.join()
print("same" if got == data else "differs (%d of %d bytes)" % (len(got), len(data)))
print("%.2f" % (time.monotonic() - t))
EOF
}

@test "tkdelay: usage errors exit 2" {
	run "$TKDELAY"
	assert_failure 2
	assert_output --partial "usage: tkdelay"
	run "$TKDELAY" -d 10
	assert_failure 2
	run "$TKDELAY" -d x 1=2
	assert_failure 2
	run "$TKDELAY" -d 10 1=70000
	assert_failure 2
	run "$TKDELAY" -d 10 12345
	assert_failure 2
}

@test "tkdelay: 40 ms each way: a round trip takes at least 80 ms; 1 MiB and a half-close pass unchanged" {
	dh_target ECHO echo
	start_delay P -d 40
	run through "$P"
	echo "$output"
	assert_success
	[ "${lines[0]}" -ge 80 ]
	assert_line --index 1 "same"
	# its argv is intact, as tornet's stop checks it
	tr '\0' ' ' <"/proc/$DELAY_PID/cmdline" | grep -q -- "-d 40 $P=$ECHO"
}

@test "tkdelay: -r 200000: 400 kB each way take at least 2 s" {
	dh_target ECHO echo
	start_delay P -d 1 -r 200000
	BYTES=400000 run through "$P"
	echo "$output"
	assert_success
	assert_line --index 1 "same"
	awk -v t="${lines[2]}" 'BEGIN { exit !(t >= 1.95) }'
}

@test "tkdelay: a target that is not there closes the client's connection; SIGTERM stops it cleanly" {
	ECHO=$(tk_free_port)
	start_delay P -d 5
	run bash -c "exec 3<>/dev/tcp/127.0.0.1/$P; cat <&3"
	assert_success
	kill -TERM "$DELAY_PID"
	tk_poll 10 "" tk_gone "$DELAY_PID"
	wait "$DELAY_PID" || false
	grep -q "stopping after [0-9]* connections" "$BATS_TEST_TMPDIR/tkdelay.err"
}
