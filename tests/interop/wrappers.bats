#!/usr/bin/env bats
# The SOCKS wrappers nobody here wrote, on tornet, through torkitd with
# Engine tor (3-hop circuits through tornet's relays) and through tornet's
# own tor client, with the same checks on both: proxychains4 in proxy_dns
# mode (the program's names go to the proxy in its CONNECTs) driving
# curl, Python's socket module and ssh (logging in to a real sshd on
# 127.0.0.1, which tornet's exits reach); torsocks (the program's
# getaddrinfo is Tor's RESOLVE, gethostbyaddr RESOLVE_PTR, an onion name a
# CONNECT by name) driving Python, curl and ssh. The names exist only in
# tornet's dnsmasq, which only the exits ask: an answer proves the lookup
# went through the circuit.
#
# What the wrappers do the same against both, and so is no fault of
# torkitd's, the tests show against both:
# - torsocks refuses the program's connect() to a 127.0.0.0/8 address
#   (it may be a local DNS server) and does not send it to the proxy at
#   all; tornet's services all live there, so under torsocks curl and ssh
#   reach them by an onion name only (torsocks sends the name in the
#   CONNECT). An ssh login under torsocks would need an onion service in
#   front of an sshd, which tornet does not run.

load helpers

KT_PORT=$((TORNET_SPARE_PORT + 2))
KT=127.0.0.1:$KT_PORT
SSHD_PORT=$((TORNET_SPARE_PORT + 3))
# Debian's python, a plain dynamically linked program the wrappers preload
# (a python built elsewhere may lack modules)
PY=/usr/bin/python3

setup_file() {
	local d=$BATS_FILE_TMPDIR s i
	tornet_torkitd_conf "$d" "SocksPort $KT" "TestingTorNetwork 1" "SafeLogging 0"
	"$TK_TORKITD" -f "$d/torkitd.conf" </dev/null >"$d/torkitd.out" 2>&1 3>&- &
	echo $! >"$d/torkitd.pid"

	# a real sshd on loopback, logging in with a key made here
	s=$d/ssh
	mkdir -p "$s"
	ssh-keygen -q -t ed25519 -N '' -f "$s/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$s/userkey"
	cp "$s/userkey.pub" "$s/authorized_keys"
	chmod 600 "$s/authorized_keys"
	cat >"$s/sshd_config" <<-CONF
	Port $SSHD_PORT
	ListenAddress 127.0.0.1
	HostKey $s/hostkey
	AuthorizedKeysFile $s/authorized_keys
	PidFile $s/sshd.pid
	StrictModes no
	UsePAM no
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	CONF
	"$(command -v sshd || echo /usr/sbin/sshd)" -D -e -f "$s/sshd_config" \
		</dev/null 2>"$s/sshd.log" 3>&- &
	echo $! >"$s/sshd.run"
	# its own log line: the listener is this sshd, not something left
	# on the port
	wait_file "$s/sshd.log" "Server listening on 127.0.0.1 port $SSHD_PORT" 200 ||
		{ cat "$s/sshd.log" >&2; return 1; }

	# an onion service in front of the sshd (a real tor, as tornet's)
	mkdir -p "$d/hs/data"
	chmod 700 "$d/hs/data"
	{
		echo "TestingTorNetwork 1"
		cat "$TORNET_DIRAUTHORITY_FILE"
		echo "DataDirectory $d/hs/data"
		echo "SocksPort 0"
		echo "RunAsDaemon 0"
		echo "ShutdownWaitLength 0"
		echo "ClientUseIPv6 0"
		echo "Log notice file $d/hs/notice.log"
		echo "HiddenServiceDir $d/hs/service"
		echo "HiddenServicePort 22 127.0.0.1:$SSHD_PORT"
	} >"$d/hs/torrc"
	tor -f "$d/hs/torrc" --quiet </dev/null >"$d/hs/out" 2>&1 3>&- &
	echo $! >"$d/hs/tor.pid"

	wait_port "$KT_PORT" || { cat "$d/torkitd.out" >&2; return 1; }
	wait_file "$d/torkitd.log" 'Bootstrapped 100%' 1200 ||
		{ cat "$d/torkitd.log" >&2; return 1; }

	# the service is up once tornet's client reaches it (its
	# descriptor on the HSDirs, intro points set): bounded, 2 minutes
	wait_size "$d/hs/service/hostname" 10 600 || { cat "$d/hs/out" >&2; return 1; }
	SSH_ONION=$(cat "$d/hs/service/hostname")
	for ((i = 0; i < 120; i++)); do
		timeout 20 "$TK_CONNECT" -z -P "$TORNET_SOCKS" "$SSH_ONION" 22 \
			>/dev/null 2>&1 && return 0
		sleep 1
	done
	echo "the sshd's onion service $SSH_ONION is not reachable after 2 minutes" >&2
	cat "$d/hs/notice.log" >&2
	return 1
}

teardown_file() {
	local d=$BATS_FILE_TMPDIR
	stop_pidfile "$d/hs/tor.pid" "tor -f $d/hs/torrc"
	stop_pidfile "$d/ssh/sshd.run" "-f $d/ssh/sshd_config"
	stop_pidfile "$d/torkitd.pid" "$TK_TORKITD -f $d/torkitd.conf"
	grep -q 'Clean shutdown finished' "$d/torkitd.log" ||
		echo "torkitd did not log a clean shutdown" >&2
	# the logs stay with the network's (kept when the run fails)
	mkdir -p "$TORNET_DIR/wrappers"
	cp "$d/torkitd.log" "$d/ssh/sshd.log" "$d/hs/notice.log" "$TORNET_DIR/wrappers/" 2>/dev/null || true
}

setup() {
	T=$BATS_TEST_TMPDIR
	LOG=$BATS_FILE_TMPDIR/torkitd.log
	SSH_DIR=$BATS_FILE_TMPDIR/ssh
	SSH_ONION=$(cat "$BATS_FILE_TMPDIR/hs/service/hostname")
}

# the two proxies every test runs against: NAME:PORT
PROXIES=(torkitd:"$((TORNET_SPARE_PORT + 2))" tor:"$TORNET_SOCKS_PORT")

# pc_conf PORT: a proxychains4 configuration for the SOCKS port; prints
# its path
pc_conf() {
	printf '%s\n' strict_chain proxy_dns "remote_dns_subnet 224" \
		"tcp_read_time_out 30000" "tcp_connect_time_out 30000" \
		"[ProxyList]" "socks5 127.0.0.1 $1" >"$T/proxychains.$1.conf"
	echo "$T/proxychains.$1.conf"
}

# ts_conf PORT: the same for torsocks
ts_conf() {
	printf '%s\n' "TorAddress 127.0.0.1" "TorPort $1" >"$T/torsocks.$1.conf"
	echo "$T/torsocks.$1.conf"
}

# the ssh client's options: our key, no known_hosts, never a prompt
ssh_opts() {
	echo -F /dev/null -i "$SSH_DIR/userkey" -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o ConnectTimeout=60
}

# log_from: the torkitd log's length, to look at what a test added
log_from() { echo $(($(wc -l <"$LOG") + 1)); }
log_since() { tail -n +"$1" "$LOG"; }

@test "torkitd bootstrapped on tornet (Engine tor)" {
	grep -q 'starting (engine tor)' "$LOG"
	grep -q 'Bootstrapped 100%' "$LOG"
}

@test "proxychains4 proxy_dns: curl fetches by name, through torkitd and through Tor" {
	local p name port from
	for p in "${PROXIES[@]}"; do
		name=${p%%:*} port=${p#*:}
		from=$(log_from)
		run timeout 90 proxychains4 -q -f "$(pc_conf "$port")" \
			curl -sS --max-time 80 "http://$TORNET_ECHO_NAME:$TORNET_HTTP_PORT/"
		echo "$name: status $status, output: $output"
		assert_success
		assert_output "$TORNET_HTTP_BODY"
		if [ "$name" = torkitd ]; then
			log_since "$from" | grep -q "CONNECT $TORNET_ECHO_NAME:$TORNET_HTTP_PORT open on circ"
		fi
	done
}

@test "proxychains4 proxy_dns: Python connects by name and echoes; getaddrinfo is proxychains' placeholder (both)" {
	local p name port from
	for p in "${PROXIES[@]}"; do
		name=${p%%:*} port=${p#*:}
		from=$(log_from)
		# no shutdown of the write side before the echo is in: through
		# Tor a half-close ends the stream (doc/differences.md)
		run timeout 90 proxychains4 -q -f "$(pc_conf "$port")" "$PY" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=80)
s.sendall(b"through proxychains\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(100)
    if not chunk:
        break
    buf += chunk
print(buf.decode().strip())
s.close()
print(socket.gethostbyname(sys.argv[1]))
' "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
		echo "$name: status $status, output: $output"
		assert_success
		assert_line -n 0 "through proxychains"
		# proxychains' own answer (remote_dns_subnet 224), not a lookup
		[[ "${lines[1]}" == 224.* ]]
		if [ "$name" = torkitd ]; then
			log_since "$from" | grep -q "CONNECT $TORNET_ECHO_NAME:$TORNET_ECHO_PORT open on circ"
			[ -z "$(log_since "$from" | grep "RESOLVE")" ]
		fi
	done
}

@test "proxychains4 proxy_dns: ssh logs in to a real sshd by a name only the exit resolves (both)" {
	local p name port from
	for p in "${PROXIES[@]}"; do
		name=${p%%:*} port=${p#*:}
		from=$(log_from)
		# shellcheck disable=SC2046 # ssh_opts is a list of options
		run timeout 120 proxychains4 -q -f "$(pc_conf "$port")" ssh $(ssh_opts) \
			-p "$SSHD_PORT" "$(id -un)@$TORNET_ECHO_NAME" "echo logged-in-through-$name"
		echo "$name: status $status, output: $output"
		assert_success
		assert_line "logged-in-through-$name"
		if [ "$name" = torkitd ]; then
			log_since "$from" | grep -q "CONNECT $TORNET_ECHO_NAME:$SSHD_PORT open on circ"
		fi
	done
}

@test "torsocks: Python's getaddrinfo is a RESOLVE and gethostbyaddr a RESOLVE_PTR (both)" {
	local p name port from
	for p in "${PROXIES[@]}"; do
		name=${p%%:*} port=${p#*:}
		from=$(log_from)
		run env TORSOCKS_CONF_FILE="$(ts_conf "$port")" timeout 90 torsocks "$PY" -c '
import socket, sys
for n in sys.argv[1:3]:
    print(sorted({a[4][0] for a in socket.getaddrinfo(n, 80, socket.AF_INET)}))
print(socket.gethostbyaddr(sys.argv[3])[0])
try:
    socket.getaddrinfo(sys.argv[4], 80, socket.AF_INET)
    print("nx: answered")
except socket.gaierror:
    print("nx: no address")
' "$TORNET_NAME_A" "$TORNET_NAME_DUAL" "$TORNET_PTR4_ADDR" "$TORNET_NAME_NX"
		echo "$name: status $status, output: $output"
		assert_success
		assert_line -n 0 "['$TORNET_ADDR_A']"
		assert_line -n 1 "['$TORNET_ADDR_DUAL_A']"
		assert_line -n 2 "$TORNET_PTR4_NAME"
		assert_line "nx: no address"
		if [ "$name" = torkitd ]; then
			log_since "$from" | grep -q "RESOLVE $TORNET_NAME_A"
			log_since "$from" | grep -q "RESOLVE_PTR $TORNET_PTR4_ADDR"
		fi
	done
}

@test "torsocks: curl and Python reach tornet's onion service by name (both)" {
	local p name port from conf
	for p in "${PROXIES[@]}"; do
		name=${p%%:*} port=${p#*:}
		conf=$(ts_conf "$port")
		from=$(log_from)
		run env TORSOCKS_CONF_FILE="$conf" timeout 120 torsocks \
			curl -sS --max-time 110 "http://$TORNET_ONION_PLAIN:$TORNET_ONION_HTTP_PORT/"
		echo "$name: curl: status $status, output: $output"
		assert_success
		assert_output "$TORNET_HTTP_BODY"
		run env TORSOCKS_CONF_FILE="$conf" timeout 120 torsocks "$PY" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=110)
s.sendall(b"through torsocks\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(100)
    if not chunk:
        break
    buf += chunk
print(buf.decode().strip())
' "$TORNET_ONION_PLAIN" "$TORNET_ONION_ECHO_PORT"
		echo "$name: python: status $status, output: $output"
		assert_success
		assert_output "through torsocks"
		if [ "$name" = torkitd ]; then
			log_since "$from" | grep -q "CONNECT $TORNET_ONION_PLAIN:$TORNET_ONION_HTTP_PORT"
			log_since "$from" | grep -q "CONNECT $TORNET_ONION_PLAIN:$TORNET_ONION_ECHO_PORT"
		fi
	done
}

@test "torsocks: curl and ssh to a 127.0.0.0/8 address are refused by torsocks itself, the same with both" {
	local p name port from conf
	for p in "${PROXIES[@]}"; do
		name=${p%%:*} port=${p#*:}
		conf=$(ts_conf "$port")
		from=$(log_from)
		run env TORSOCKS_CONF_FILE="$conf" timeout 60 torsocks \
			curl -sS --max-time 50 "http://$TORNET_ECHO_NAME:$TORNET_HTTP_PORT/"
		echo "$name: curl: status $status, output: $output"
		assert_failure
		assert_output --partial "Connection to a local address are denied"
		# shellcheck disable=SC2046 # ssh_opts is a list of options
		run env TORSOCKS_CONF_FILE="$conf" timeout 60 torsocks ssh $(ssh_opts) \
			-p "$SSHD_PORT" "$(id -un)@$TORNET_ECHO_NAME" true
		echo "$name: ssh: status $status, output: $output"
		assert_failure
		assert_output --partial "Connection to a local address are denied"
		if [ "$name" = torkitd ]; then
			# the name was resolved through torkitd, the connect never
			# came to it
			log_since "$from" | grep -q "RESOLVE $TORNET_ECHO_NAME"
			[ -z "$(log_since "$from" | grep "CONNECT 127.0.0.1:")" ]
		fi
	done
}

@test "torsocks: ssh logs in to the sshd through its onion service (both)" {
	local p name port from
	for p in "${PROXIES[@]}"; do
		name=${p%%:*} port=${p#*:}
		from=$(log_from)
		# shellcheck disable=SC2046 # ssh_opts is a list of options
		run env TORSOCKS_CONF_FILE="$(ts_conf "$port")" timeout 120 torsocks \
			ssh $(ssh_opts) -p 22 "$(id -un)@$SSH_ONION" "echo logged-in-through-$name"
		echo "$name: status $status, output: $output"
		assert_success
		assert_line "logged-in-through-$name"
		if [ "$name" = torkitd ]; then
			log_since "$from" | grep -q "CONNECT $SSH_ONION:22"
		fi
	done
}

@test "torsocks: getent hosts dies of SIGSEGV after the answer, the same with both; torsocks' hostent has no h_aliases" {
	local p name port from conf
	for p in "${PROXIES[@]}"; do
		name=${p%%:*} port=${p#*:}
		conf=$(ts_conf "$port")
		from=$(log_from)
		run env TORSOCKS_CONF_FILE="$conf" timeout 60 torsocks getent hosts "$TORNET_NAME_A"
		echo "$name: getent hosts NAME: status $status, output: $output"
		[ "$status" -eq $((128 + 11)) ]
		run env TORSOCKS_CONF_FILE="$conf" timeout 60 torsocks getent hosts "$TORNET_PTR4_ADDR"
		echo "$name: getent hosts ADDRESS: status $status, output: $output"
		[ "$status" -eq $((128 + 11)) ]
		# getaddrinfo is fine
		run env TORSOCKS_CONF_FILE="$conf" timeout 60 torsocks getent ahosts "$TORNET_NAME_A"
		echo "$name: getent ahosts: status $status, output: $output"
		assert_success
		assert_line -n 0 --regexp "^$TORNET_ADDR_A +STREAM "
		# why: the hostent torsocks hands back (glibc's has a list)
		run env TORSOCKS_CONF_FILE="$conf" timeout 60 torsocks "$PY" -c '
import ctypes, sys
class HostEnt(ctypes.Structure):
    _fields_ = [("h_name", ctypes.c_char_p), ("h_aliases", ctypes.c_void_p),
                ("h_addrtype", ctypes.c_int), ("h_length", ctypes.c_int),
                ("h_addr_list", ctypes.c_void_p)]
libc = ctypes.CDLL(None)
libc.gethostbyname.restype = ctypes.POINTER(HostEnt)
he = libc.gethostbyname(sys.argv[1].encode()).contents
print(he.h_name.decode(), "aliases:", "NULL" if he.h_aliases is None else "a list")
' "$TORNET_NAME_A"
		echo "$name: hostent: status $status, output: $output"
		assert_success
		assert_output "$TORNET_NAME_A aliases: NULL"
		if [ "$name" = torkitd ]; then
			# the lookups were answered before getent crashed
			log_since "$from" | grep -q "RESOLVE $TORNET_NAME_A (socks5)"
			log_since "$from" | grep -q "RESOLVE_PTR $TORNET_PTR4_ADDR"
			[ -z "$(log_since "$from" | grep "RESOLVE_PTR $TORNET_PTR4_ADDR.*failed")" ]
		fi
	done
}
