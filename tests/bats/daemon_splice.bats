#!/usr/bin/env bats
# torkitd's relay with splice(2) (RelaySplice, direct engine, Linux): the
# bytes, half-close, backpressure, early data and aborts with it on, and
# each way of falling back to copying. The fallbacks the kernel does not
# give on demand are forced with TK_TEST_SPLICE_FAULT (src/daemon/
# splice.c):
#   einval-in   splice refuses a socket the first time it reads one
#   einval-out  ... the first time it writes one (a pipe holds bytes then)
#   enosys      splice is missing: refused once, never tried again
#   emfile      no pipe can be had
# Every test reads from torkitd's log which way its connections went.
# The other relay tests run with splice too (the default) and again with
# RelaySplice 0 (tests/bats/*.copy).

load "$TK_SRCDIR/tests/bats/helpers"
load "$TK_SRCDIR/tests/bats/daemon_helpers"

setup() {
	[ "$(uname -s)" = Linux ] || skip "splice(2) is Linux only"
	tk_start_dnsmasq "$BATS_TEST_TMPDIR/dns"
	dh_target ECHO echo
	P=$(dh_hexport "$ECHO")
}

teardown() {
	unset TK_TEST_SPLICE_FAULT
	tk_stop_all
}

SPLICED='relaying [^ ]+ with splice\(2\)'

# echo_cmp MIB: MIB MiB of random bytes through torkitd to the echo
# target and back, with the client's half-close; byte for byte.
echo_cmp() {
	local d="$BATS_TEST_TMPDIR/echo.$RANDOM"
	mkdir -p "$d"
	head -c $(($1 * 1024 * 1024)) /dev/urandom >"$d/in"
	timeout 120 nc.openbsd -N -X 5 -x "127.0.0.1:$DH_PORT" 127.0.0.1 "$ECHO" \
		<"$d/in" >"$d/out"
	cmp "$d/in" "$d/out"
}

# queued PORTSEL: the bytes in the receive queue of the established
# socket `ss` selects ("sport = :N"): what its owner has not read.
queued() { ss -Htn state established "( $1 )" | awk '{ s += $1 } END { print s + 0 }'; }
queued_over() { [ "$(queued "$1")" -ge "$2" ]; }

# fds PID: how many descriptors PID holds.
fds() { ls "/proc/$1/fd" | wc -l; }

hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

@test "splice: 24 MiB echoed both ways at once, and 8 streams of 4 MiB side by side, byte for byte" {
	dh_torkitd "ExitPolicyRejectPrivate 0" "RelaySplice 1"
	echo_cmp 24
	local pids=() i
	for i in 1 2 3 4 5 6 7 8; do
		echo_cmp 4 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	[ "$(grep -Ec "$SPLICED" "$DH_LOG")" -eq 9 ]
	refute grep -Eq "refused|copying|failed" "$DH_LOG"
}

@test "splice: a 64 MiB download from a source target, byte for byte" {
	dh_target SRC source $((64 * 1024 * 1024))
	dh_torkitd "ExitPolicyRejectPrivate 0"
	timeout 120 nc.openbsd -d -X 5 -x "127.0.0.1:$DH_PORT" 127.0.0.1 "$SRC" \
		>"$BATS_TEST_TMPDIR/out"
	# daemon_echo's pattern: 'a'..'z' over and over in each 64 KiB block
	python3 -c '
import sys
block = bytes(97 + i % 26 for i in range(65536))
sys.stdout.buffer.write(block * 1024)' >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
	grep -Eq "$SPLICED" "$DH_LOG"
}

@test "splice: the client's half-close reaches the target, its answer still arrives" {
	dh_torkitd "ExitPolicyRejectPrivate 0"
	run bash -c "printf 'line one\nline two\n' | timeout 20 nc.openbsd -N -X 5 -x 127.0.0.1:$DH_PORT echo.example.test $ECHO"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'line one\nline two')" ]
	grep -Eq "$SPLICED" "$DH_LOG"
}

@test "splice: the target's half-close reaches the client, which can still send" {
	out="$BATS_TEST_TMPDIR/banner.out"
	dh_target BANNER banner "hello from target" "$out"
	dh_torkitd "ExitPolicyRejectPrivate 0"
	exec 7<>"/dev/tcp/127.0.0.1/$DH_PORT"
	printf "\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01$(dh_portesc "$BANNER")" >&7
	timeout 20 cat <&7 >"$BATS_TEST_TMPDIR/got"
	[ "$(tail -c 17 "$BATS_TEST_TMPDIR/got")" = "hello from target" ]
	printf 'sent after the target closed' >&7
	exec 7>&-
	tk_poll 20 "" eval '[ "$(cat "$out" 2>/dev/null)" = "sent after the target closed" ]'
	grep -Eq "$SPLICED" "$DH_LOG"
}

@test "splice: data sent with the request (optimistic data) reaches the target first" {
	dh_torkitd "ExitPolicyRejectPrivate 0"
	big=$(head -c 1500 /dev/zero | tr '\0' 'x')
	run dh_raw -W "$DH_PORT" "050100 0501 0001 7f000001 $P $(dh_hexstr "$big" | tr -d ' ')"
	[ "${lines[1]}" = "EOF" ]
	[ "${lines[0]}" = "05 00 05 00 00 01 00 00 00 00 00 00 $(dh_hexstr "$big")" ]
	grep -Eq "$SPLICED" "$DH_LOG"
}

@test "splice: a target that stops reading stops the client (backpressure), and memory stays flat" {
	dh_target STALL stall
	dh_torkitd "ExitPolicyRejectPrivate 0"
	before=$(hwm_kb "$DH_PID")
	timeout 60 nc.openbsd -X 5 -x "127.0.0.1:$DH_PORT" 127.0.0.1 "$STALL" \
		</dev/zero >/dev/null 2>&1 &
	tk_track $!
	# torkitd stops reading the client: the bytes pile up in the kernel
	# on its side of the client's connection
	tk_poll 30 "" queued_over "sport = :$DH_PORT" $((256 * 1024))
	after=$(hwm_kb "$DH_PID")
	echo "peak RSS grew by $((after - before)) kB"
	[ $((after - before)) -lt 2048 ]
	grep -Eq "$SPLICED" "$DH_LOG"
	dh_alive
}

@test "splice: a client that stops reading stops the target (backpressure)" {
	dh_target SRC source $((1024 * 1024 * 1024))
	dh_torkitd "ExitPolicyRejectPrivate 0"
	before=$(hwm_kb "$DH_PID")
	# a client that connects and then never reads
	python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(bytes.fromhex("050100") + bytes.fromhex("050100017f000001") +
          int(sys.argv[2]).to_bytes(2, "big"))
time.sleep(60)' "$DH_PORT" "$SRC" &
	tk_track $!
	# the source's bytes pile up on torkitd's side of the target's
	# connection
	tk_poll 30 "" queued_over "dport = :$SRC" $((256 * 1024))
	after=$(hwm_kb "$DH_PID")
	echo "peak RSS grew by $((after - before)) kB"
	[ $((after - before)) -lt 2048 ]
	grep -Eq "$SPLICED" "$DH_LOG"
}

@test "splice: a client that resets mid-transfer: the target's side closes, no descriptor is left" {
	dh_torkitd "ExitPolicyRejectPrivate 0"
	base=$(fds "$DH_PID")
	# 4 MiB to the echo target without reading its answers (pipes and
	# socket buffers fill both ways), then a reset (SO_LINGER 0)
	python3 -c '
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(bytes.fromhex("050100") + bytes.fromhex("050100017f000001") +
          int(sys.argv[2]).to_bytes(2, "big"))
s.settimeout(10)
got = b""
while len(got) < 12:
    got += s.recv(12 - len(got))
chunk = b"y" * 65536
sent = 0
try:
    while sent < 4 << 20:
        sent += s.send(chunk)
except socket.timeout:
    pass
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print("sent", sent)' "$DH_PORT" "$ECHO"
	# torkitd closes its connection to the target...
	tk_poll 20 "" eval "[ -z \"\$(ss -Htn state established '( dport = :$ECHO )')\" ]"
	# ...and holds no more descriptors than before, but for spare pipes
	tk_poll 20 "" eval "[ \$(fds $DH_PID) -le $((base + 4)) ]"
	grep -Eq "$SPLICED" "$DH_LOG"
	dh_alive
}

@test "splice: a target that resets mid-transfer: the client's side closes, no descriptor is left" {
	# a stall target of our own, to kill while it has bytes unread (a
	# reset, not a FIN)
	"$DH_ECHO" stall >"$BATS_TEST_TMPDIR/stall.port" &
	stall=$!
	tk_track $stall
	tk_poll 20 "$stall" test -s "$BATS_TEST_TMPDIR/stall.port"
	sp=$(cat "$BATS_TEST_TMPDIR/stall.port")
	dh_torkitd "ExitPolicyRejectPrivate 0"
	base=$(fds "$DH_PID")
	timeout 60 nc.openbsd -X 5 -x "127.0.0.1:$DH_PORT" 127.0.0.1 "$sp" \
		</dev/zero >/dev/null 2>&1 &
	client=$!
	tk_track $client
	tk_poll 30 "" queued_over "sport = :$DH_PORT" $((64 * 1024))
	tk_stop "$stall" KILL # its connection goes with it (PDEATHSIG)
	# torkitd closes the client, whose nc then exits
	tk_wait_exit "$client" 20
	tk_poll 20 "" eval "[ \$(fds $DH_PID) -le $((base + 4)) ]"
	grep -Eq "$SPLICED" "$DH_LOG"
	grep -Eq "stream to 127\.0\.0\.1:$sp failed" "$DH_LOG"
	dh_alive
}

@test "RelaySplice 0: the relay copies" {
	dh_torkitd "ExitPolicyRejectPrivate 0" "RelaySplice 0"
	echo_cmp 4
	refute grep -q "splice" "$DH_LOG"
}

@test "fallback einval-in: splice refuses a socket at its first read; the session copies, intact" {
	export TK_TEST_SPLICE_FAULT=einval-in
	dh_torkitd "ExitPolicyRejectPrivate 0"
	echo_cmp 8
	echo_cmp 1
	[ "$(grep -Ec "splice\(2\) refused the connection to 127\.0\.0\.1:$ECHO \(Invalid argument\): relaying by copying" "$DH_LOG")" -eq 2 ]
	dh_alive
}

@test "fallback einval-out: splice refuses a socket at its first write; the bytes in the pipe go first, intact" {
	export TK_TEST_SPLICE_FAULT=einval-out
	dh_torkitd "ExitPolicyRejectPrivate 0"
	echo_cmp 8
	run bash -c "printf 'line one\nline two\n' | timeout 20 nc.openbsd -N -X 5 -x 127.0.0.1:$DH_PORT echo.example.test $ECHO"
	[ "$output" = "$(printf 'line one\nline two')" ]
	[ "$(grep -Ec "splice\(2\) refused the connection to 127\.0\.0\.1:$ECHO \(Invalid argument\)" "$DH_LOG")" -eq 1 ]
	[ "$(grep -Ec "splice\(2\) refused the connection to echo\.example\.test:$ECHO \(Invalid argument\)" "$DH_LOG")" -eq 1 ]
}

@test "fallback enosys: splice is missing: said once, the session copies, later ones never try" {
	export TK_TEST_SPLICE_FAULT=enosys
	dh_torkitd "ExitPolicyRejectPrivate 0"
	echo_cmp 4
	echo_cmp 4
	[ "$(grep -c "splice(2) is not available here (Function not implemented): relaying by copying from now on" "$DH_LOG")" -eq 1 ]
	[ "$(grep -Ec "$SPLICED" "$DH_LOG")" -eq 1 ]
}

@test "fallback emfile: no pipe can be had: the session copies from the start" {
	export TK_TEST_SPLICE_FAULT=emfile
	dh_torkitd "ExitPolicyRejectPrivate 0"
	echo_cmp 4
	grep -q "Descriptors are short: relaying new connections by copying" "$DH_LOG"
	refute grep -Eq "$SPLICED" "$DH_LOG"
}

@test "few descriptors: no pipes (they take 4 per connection), the relay copies" {
	DH_WRAP="prlimit --nofile=48:48" dh_torkitd "ExitPolicyRejectPrivate 0"
	echo_cmp 4
	grep -q "Descriptors are short: relaying new connections by copying" "$DH_LOG"
	refute grep -Eq "$SPLICED" "$DH_LOG"
}

# pipes PID: the sizes of PID's pipes, counted: "BIG MID SMALL" (1 MiB,
# 256 KiB, the rest), each pipe once (both its ends are PID's).
pipes() {
	python3 -c '
import fcntl, os, sys
seen, n = set(), [0, 0, 0]
d = "/proc/%s/fd" % sys.argv[1]
for f in os.listdir(d):
    try:
        if not os.readlink(os.path.join(d, f)).startswith("pipe:"):
            continue
        ino = os.stat(os.path.join(d, f)).st_ino
        if ino in seen:
            continue
        seen.add(ino)
        fd = os.open(os.path.join(d, f), os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        continue
    sz = fcntl.fcntl(fd, 1032)  # F_GETPIPE_SZ
    os.close(fd)
    n[0 if sz >= 1 << 20 else 1 if sz >= 256 << 10 else 2] += 1
print(*n)' "$1"
}
big_at_least() { [ "$(pipes "$1" | cut -d' ' -f1)" -ge "$2" ]; }
mid_at_least() { set -- $(pipes "$1") "$2"; [ "$2" -ge "$4" ]; }
none_grown() { set -- $(pipes "$1"); [ "$1" -eq 0 ] && [ "$2" -eq 0 ]; }

# stall_clients N: N clients that each ask for $SRC and never read, in
# one process (its pid in $hold).
stall_clients() {
	python3 -c '
import socket, sys, time
ss = []
for i in range(int(sys.argv[3])):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.sendall(bytes.fromhex("050100") + bytes.fromhex("050100017f000001") +
              int(sys.argv[2]).to_bytes(2, "big"))
    ss.append(s)
time.sleep(120)' "$DH_PORT" "$SRC" "$1" &
	hold=$!
	tk_track $hold
}

@test "splice: bulk pipes grow to 1 MiB, no more of them than half of pipe-user-pages-soft, then 256 KiB; closing them frees the budget" {
	soft=$(cat /proc/sys/fs/pipe-user-pages-soft)
	page=$(getconf PAGESIZE)
	[ "$soft" -gt 0 ] || skip "pipe-user-pages-soft is 0: no budget"
	budget=$((soft / 2 * page / (1024 * 1024)))
	[ "$budget" -le 64 ] || skip "a budget of $budget big pipes: too many to push here"
	dh_target SRC source $((1024 * 1024 * 1024))
	dh_torkitd "ExitPolicyRejectPrivate 0"
	# budget + 4 clients that never read a 1 GiB download: each stalled
	# direction fills its pipe
	stall_clients $((budget + 4))
	tk_poll 60 "" big_at_least "$DH_PID" "$budget"
	tk_poll 60 "" mid_at_least "$DH_PID" 1
	read -r big mid small < <(pipes "$DH_PID")
	echo "pipes: $big of 1 MiB, $mid of 256 KiB, $small smaller; budget $budget"
	[ "$big" -eq "$budget" ]
	# the clients go: their pipes (full) are closed, the budget is free
	tk_stop "$hold"
	tk_poll 30 "" none_grown "$DH_PID"
	# the budget is free again: a new stalled download grows its pipe to
	# 1 MiB
	stall_clients 1
	tk_poll 30 "" big_at_least "$DH_PID" 1
	grep -Eq "$SPLICED" "$DH_LOG"
	dh_alive
}
