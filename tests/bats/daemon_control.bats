#!/usr/bin/env bats
# torkitd's ControlPort and ControlSocket (a subset of Tor's control
# protocol), its cookie file, its bounds, and sd_notify. The direct engine:
# what needs circuits (NEWNYM changing them, bootstrap events) is in
# tests/interop/control_stem.bats, on a network of real Tor relays.

load "$TK_SRCDIR/tests/bats/helpers"
load "$TK_SRCDIR/tests/bats/daemon_helpers"

teardown() { tk_stop_all; }

CTL="$TK_SRCDIR/tests/bats/ctl.py"

# ctl_torkitd [torrc lines...]: torkitd with a ControlPort on a free port
# (cookie authentication) and a ControlSocket; sets CPORT, CSOCK, COOKIE.
ctl_torkitd() {
	CPORT=$(tk_free_port)
	mkdir -p "$BATS_TEST_TMPDIR/run"
	chmod 700 "$BATS_TEST_TMPDIR/run"
	CSOCK="$BATS_TEST_TMPDIR/run/control"
	COOKIE="$BATS_TEST_TMPDIR/data/control_auth_cookie"
	dh_torkitd "ControlPort 127.0.0.1:$CPORT" "ControlSocket $CSOCK" \
		"CookieAuthentication 1" "DataDirectory $BATS_TEST_TMPDIR/data" "$@"
	tk_wait_log "$DH_LOG" "Opened Control listener connection \(ready\) on unix:$CSOCK" 20 "$DH_PID"
}

@test "PROTOCOLINFO, AUTHENTICATE and GETINFO answer as tor does" {
	ctl_torkitd
	run python3 "$CTL" "127.0.0.1:$CPORT" -c "$COOKIE" PROTOCOLINFO @AUTH \
		"GETINFO version status/bootstrap-phase net/listeners/socks status/circuit-established net/listeners/control"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "250-PROTOCOLINFO 1" ]
	[ "${lines[1]}" = "250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE=\"$COOKIE\"" ]
	[ "${lines[2]}" = "250-VERSION Tor=\"0.4.9.11 (torkit-0.1.0)\"" ]
	[ "${lines[3]}" = "250 OK" ]
	[ "${lines[4]}" = "250 OK" ]
	[ "${lines[5]}" = "250-version=0.4.9.11 (torkit-0.1.0)" ]
	[ "${lines[6]}" = '250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"' ]
	[ "${lines[7]}" = "250-net/listeners/socks=\"127.0.0.1:$DH_PORT\"" ]
	[ "${lines[8]}" = "250-status/circuit-established=1" ]
	[ "${lines[9]}" = "250-net/listeners/control=\"127.0.0.1:$CPORT\" \"unix:$CSOCK\"" ]
	[ "${lines[10]}" = "250 OK" ]
	[ "${lines[11]}" = "250 closing connection" ]
	[ "${#lines[@]}" -eq 12 ]
}

@test "the cookie file is 32 bytes, mode 0600 (0640 with CookieAuthFileGroupReadable), new at each start" {
	ctl_torkitd
	[ "$(stat -c '%s %a' "$COOKIE")" = "32 600" ]
	first=$(od -An -tx1 "$COOKIE")
	kill -TERM "$DH_PID"
	tk_poll 20 "" tk_gone "$DH_PID"
	dh_torkitd "ControlSocket $BATS_TEST_TMPDIR/run/control" "CookieAuthentication 1" \
		"CookieAuthFile $BATS_TEST_TMPDIR/cookie" "CookieAuthFileGroupReadable 1"
	tk_wait_log "$DH_LOG" "Opened Control listener" 20 "$DH_PID"
	[ "$(stat -c '%s %a' "$BATS_TEST_TMPDIR/cookie")" = "32 640" ]
	[ "$first" != "$(od -An -tx1 "$BATS_TEST_TMPDIR/cookie")" ]
	# a link planted at the cookie's place is replaced, not followed
	kill -TERM "$DH_PID"
	tk_poll 20 "" tk_gone "$DH_PID"
	echo keep >"$BATS_TEST_TMPDIR/victim"
	ln -sf "$BATS_TEST_TMPDIR/victim" "$BATS_TEST_TMPDIR/cookie"
	dh_torkitd "ControlSocket $BATS_TEST_TMPDIR/run/control" "CookieAuthentication 1" \
		"CookieAuthFile $BATS_TEST_TMPDIR/cookie"
	tk_wait_log "$DH_LOG" "Opened Control listener" 20 "$DH_PID"
	[ "$(cat "$BATS_TEST_TMPDIR/victim")" = keep ]
	[ ! -L "$BATS_TEST_TMPDIR/cookie" ]
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/cookie")" = 32 ]
}

@test "SAFECOOKIE: the server's hash checks out and the controller's is taken" {
	ctl_torkitd
	run python3 "$CTL" "unix:$CSOCK" -c "$COOKIE" @SAFE "GETINFO version"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "AUTHCHALLENGE serverhash ok" ]
	[ "${lines[1]}" = "250 OK" ]
	[ "${lines[2]}" = "250-version=0.4.9.11 (torkit-0.1.0)" ]
}

@test "before authenticating: 514 and the connection closed; a wrong cookie: 515 and closed" {
	ctl_torkitd
	run python3 "$CTL" --no-quit "127.0.0.1:$CPORT" "GETINFO version" "GETINFO version"
	[ "$status" -eq 0 ]
	[ "$output" = "514 Authentication required." ]
	run python3 "$CTL" --no-quit "127.0.0.1:$CPORT" PROTOCOLINFO PROTOCOLINFO
	[ "${lines[4]}" = "514 Authentication required." ]
	[ "${#lines[@]}" -eq 5 ]
	run python3 "$CTL" --no-quit "127.0.0.1:$CPORT" \
		"AUTHENTICATE 0000000000000000000000000000000000000000000000000000000000000000" "GETINFO version"
	[ "$output" = "515 Authentication failed: Authentication cookie did not match expected value." ]
	run python3 "$CTL" --no-quit "127.0.0.1:$CPORT" "AUTHENTICATE 00"
	[ "$output" = "515 Authentication failed: Wrong length on authentication cookie." ]
	run python3 "$CTL" --no-quit "127.0.0.1:$CPORT" "AUTHENTICATE zz"
	[[ "$output" == "551 Invalid hexadecimal encoding."* ]]
	run python3 "$CTL" --no-quit "127.0.0.1:$CPORT" "AUTHCHALLENGE SAFECOOKIE 0102" PROTOCOLINFO
	[ "${lines[1]}" = "514 Authentication required." ]
	# a browser sent here as to an HTTP proxy is told so
	run python3 "$CTL" --no-quit "127.0.0.1:$CPORT" "GET http://example.com/ HTTP/1.1" "Host: example.com" ""
	[ "${lines[0]}" = "HTTP/1.0 501 torkitd ControlPort is not an HTTP proxy" ]
	dh_alive
}

@test "commands: 510 for unknown ones, 552 for unknown keys, events and signals, 512 for bad arguments" {
	ctl_torkitd
	run python3 "$CTL" "unix:$CSOCK" -c "$COOKIE" @AUTH FOO "GETINFO nope" \
		"SIGNAL FOO" "SIGNAL" "SIGNAL NEWNYM extra" "SETEVENTS CIRC" \
		"SETEVENTS EXTENDED status_client" "SETEVENTS" "+LOADCONF" "SocksPort 1" "." \
		"signal newnym" "SIGNAL CLEARDNSCACHE" ""
	[ "$status" -eq 0 ]
	diff -u - <(printf '%s\n' "$output") <<'EXPECTED'
250 OK
510 Unrecognized command "FOO"
552 Unrecognized key "nope"
552 Unrecognized signal code "FOO"
512 Bad arguments to SIGNAL: Need at least 1 argument(s)
512 Bad arguments to SIGNAL: Cannot accept more than 1 argument(s)
552 Unrecognized event "CIRC"
250 OK
250 OK
510 Unrecognized command "+LOADCONF"
250 OK
250 OK
510 Unrecognized command ""
250 closing connection
EXPECTED
}

@test "a ControlSocket without CookieAuthentication takes any AUTHENTICATE; a ControlPort needs a cookie" {
	sock="$BATS_TEST_TMPDIR/control"
	dh_torkitd "ControlSocket $sock GroupWritable"
	tk_wait_log "$DH_LOG" "Opened Control listener" 20 "$DH_PID"
	[ "$(stat -c %a "$sock")" = 660 ]
	run python3 "$CTL" "unix:$sock" PROTOCOLINFO AUTHENTICATE "GETINFO version"
	[ "${lines[1]}" = "250-AUTH METHODS=NULL" ]
	[ "${lines[4]}" = "250 OK" ]
	[ "${lines[5]}" = "250-version=0.4.9.11 (torkit-0.1.0)" ]
	run python3 "$CTL" "unix:$sock" "GETINFO version"
	[ "$output" = "514 Authentication required." ]

	printf 'Engine direct\nControlPort 127.0.0.1:%s\n' "$(tk_free_port)" >"$BATS_TEST_TMPDIR/tcp"
	run "$TK_TORKITD" -f "$BATS_TEST_TMPDIR/tcp" --verify-config
	[ "$status" -eq 1 ]
	[[ "$output" == *"needs CookieAuthentication 1"* ]]
	# the direct engine has no DataDirectory unless one is set (the tor
	# engine has a default one)
	printf 'Engine direct\nCookieAuthentication 1\n' >"$BATS_TEST_TMPDIR/nodir"
	run "$TK_TORKITD" -f "$BATS_TEST_TMPDIR/nodir" --verify-config
	[ "$status" -eq 1 ]
	[[ "$output" == *"needs a CookieAuthFile or a DataDirectory"* ]]
	run "$TK_TORKITD" -f /dev/null --ControlPort "127.0.0.1:nope" --verify-config
	[[ "$output" == *"bad ControlPort address \"127.0.0.1:nope\""* ]]
	run "$TK_TORKITD" -f /dev/null --ControlSocket "/x Bogus" --verify-config
	[[ "$output" == *"unknown ControlSocket flag \"Bogus\""* ]]
}

@test "SIGNAL RELOAD reloads, SIGNAL SHUTDOWN stops the daemon cleanly" {
	ctl_torkitd
	run python3 "$CTL" "unix:$CSOCK" -c "$COOKIE" @AUTH "SIGNAL RELOAD"
	[ "${lines[1]}" = "250 OK" ]
	tk_wait_log "$DH_LOG" "Received reload signal \(hup\)" 20 "$DH_PID"
	run python3 "$CTL" --no-quit "unix:$CSOCK" -c "$COOKIE" @AUTH "SIGNAL SHUTDOWN"
	[ "${lines[1]}" = "250 OK" ]
	tk_poll 20 "" tk_gone "$DH_PID"
	grep -q "Clean shutdown finished" "$DH_LOG"
	wait "$DH_PID" || fail=$?
	[ "${fail:-0}" -eq 0 ]
}

@test "bounds: a line past 4096 bytes closes; the 65th controller closes the oldest unauthenticated one" {
	ctl_torkitd
	long=$(head -c 5000 /dev/zero | tr '\0' A)
	run python3 "$CTL" --no-quit "unix:$CSOCK" "$long"
	[ "$output" = "500 Line too long (torkitd takes commands of up to 4096 bytes)" ]
	run python3 - "$CSOCK" "$COOKIE" <<'EOF'
import socket, sys, binascii
path, cookie = sys.argv[1], open(sys.argv[2], "rb").read()
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(20); return s
def reply(s):                  # up to the final "250 OK"
    d = b""
    while not d.endswith(b"250 OK\r\n"):
        more = s.recv(4096)
        assert more, d
        d += more
    return d
# one that authenticated keeps its place
auth = conn()
auth.sendall(b"AUTHENTICATE " + binascii.hexlify(cookie) + b"\r\n")
assert auth.recv(100) == b"250 OK\r\n"
idle = [conn() for _ in range(63)]
for s in idle:                 # each is accepted and answers
    s.sendall(b"PROTOCOLINFO\r\n")
    assert reply(s).startswith(b"250-PROTOCOLINFO")
late = conn()                  # the 65th
late.sendall(b"PROTOCOLINFO\r\n")
assert reply(late).startswith(b"250-PROTOCOLINFO")
print("oldest closed:", idle[0].recv(100) == b"")
auth.sendall(b"GETINFO version\r\n")
print("authenticated kept:", auth.recv(100).startswith(b"250-version"))
EOF
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "oldest closed: True" ]
	[ "${lines[1]}" = "authenticated kept: True" ]
	grep -q "Too many control connections (64): closing the oldest that has not authenticated" "$DH_LOG"
}

@test "bounds: a controller that sends and never reads is no longer read; torkitd's memory stays put" {
	ctl_torkitd
	rss() { awk '/^VmRSS/ {print $2}' "/proc/$DH_PID/status"; }
	before=$(rss)
	run python3 - "$CSOCK" "$COOKIE" <<'EOF'
import socket, sys, binascii
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"AUTHENTICATE " + binascii.hexlify(open(sys.argv[2], "rb").read()) + b"\r\n")
assert s.recv(100) == b"250 OK\r\n"
s.setblocking(False)
chunk = b"GETINFO version net/listeners/socks\r\n" * 1000
sent = 0
try:
    while sent < 100 * len(chunk):      # 3.7 MB of commands, 10 MB of answers
        sent += s.send(chunk)
except BlockingIOError:
    pass
print(sent)
EOF
	[ "$status" -eq 0 ]
	sent=${lines[0]}
	# the kernel's buffers fill both ways long before 100 chunks
	[ "$sent" -lt $((100 * 37000)) ]
	after=$(rss)
	echo "# VmRSS $before kB -> $after kB after $sent bytes" >&3
	[ $((after - before)) -lt 4096 ]
	dh_alive
}

@test "sd_notify: READY=1 once the SocksPort listens, STATUS, RELOADING/READY on SIGHUP, STOPPING=1 (path and abstract sockets)" {
	for kind in path abstract; do
		if [ $kind = path ]; then
			addr="$BATS_TEST_TMPDIR/notify"
		else
			addr="@torkit-test-$$-$RANDOM"
		fi
		out="$BATS_TEST_TMPDIR/notify.$kind"
		python3 - "$addr" "$out" <<'EOF' &
import socket, sys
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(out + ".up", "w").close()
s.settimeout(30)
with open(out, "w") as f:
    while True:
        d = s.recv(4096).decode()
        f.write(d.replace("\n", "|") + "\n"); f.flush()
        if "STOPPING=1" in d:
            break
EOF
		tk_track $!
		tk_poll 20 "" test -e "$out.up"
		NOTIFY_SOCKET=$addr dh_torkitd
		tk_wait_log "$out" "^READY=1\|MAINPID=$DH_PID\|STATUS=Bootstrapped 100% \(done\): Done" 20 "$DH_PID"
		kill -HUP "$DH_PID"
		tk_wait_log "$out" "^RELOADING=1" 20 "$DH_PID"
		tk_wait_log "$DH_LOG" "Received reload signal" 20 "$DH_PID"
		kill -TERM "$DH_PID"
		tk_wait_log "$out" "^STOPPING=1" 20
		# the order: ready, then reloading, ready, then stopping
		run sed 's/|.*//' "$out"
		[ "${lines[*]}" = "READY=1 RELOADING=1 READY=1 STOPPING=1" ]
	done
}

@test "--list-torrc-options and --sample-config come from the option table; the man page documents every option" {
	run "$TK_TORKITD" --list-torrc-options
	[ "$status" -eq 0 ]
	names=$(cut -f1 <<<"$output")
	for want in SocksPort ControlPort ControlSocket CookieAuthentication CookieAuthFile CookieAuthFileGroupReadable User; do
		grep -qx "$want" <<<"$names"
	done
	"$TK_TORKITD" --sample-config >"$BATS_TEST_TMPDIR/sample"
	# every option, commented out; the sample as it is is a valid file
	for n in $names; do
		grep -q "^#$n " "$BATS_TEST_TMPDIR/sample"
		grep -Eq "^\.It Cm $n( |$)" "$TK_SRCDIR/man/torkitd.conf.5" ||
			{ echo "torkitd.conf(5) does not document $n" >&2; false; }
	done
	run "$TK_TORKITD" -f "$BATS_TEST_TMPDIR/sample" --verify-config
	[ "$status" -eq 0 ]
	# each default, uncommented, is taken as it is written
	awk '/^## \(not set by default\)/ {skip = 1; next}
	     /^#[A-Za-z]/ { if (!skip) print substr($0, 2); skip = 0 }' \
		"$BATS_TEST_TMPDIR/sample" >"$BATS_TEST_TMPDIR/defaults"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/defaults")" -gt 20 ]
	run "$TK_TORKITD" -f "$BATS_TEST_TMPDIR/defaults" --verify-config
	[ "$status" -eq 0 ]
}
