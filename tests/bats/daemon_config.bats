#!/usr/bin/env bats
# torkitd's configuration, command line, signals and files.

load "$TK_SRCDIR/tests/bats/helpers"
load "$TK_SRCDIR/tests/bats/daemon_helpers"

teardown() { tk_stop_all; }

# conf LINES...: write $BATS_TEST_TMPDIR/torrc
conf() {
	CONF="$BATS_TEST_TMPDIR/torrc"
	printf '%s\n' "$@" >"$CONF"
}

@test "unknown option: file:line in the error, exit 1, nothing listening" {
	port=$(tk_free_port)
	conf "# a comment" "SocksPort 127.0.0.1:$port" "Bogus 1" "Engine direct"
	run "$TK_TORKITD" -f "$CONF"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$CONF:3: unknown option \"Bogus\""* ]]
	refute tk_port_in_use "$port"
}

@test "bad values name the file, the line and what is allowed" {
	conf "SocksPort nowhere:9050"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[ "$status" -eq 1 ]
	[[ "$output" == *"$CONF:1: bad SocksPort address \"nowhere:9050\""* ]]

	conf "" "MaxClients lots"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[ "$status" -eq 1 ]
	[[ "$output" == *"$CONF:2: MaxClients must be a number"* ]]

	conf "SocksTimeout 3 fortnights"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[[ "$output" == *"$CONF:1: SocksTimeout must be a time"* ]]

	conf "ExitPolicy allow *:*"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[ "$status" -eq 1 ]
	[[ "$output" == *"$CONF:1: policy entry \"allow\" must start with accept or reject"* ]]

	conf "ExitPolicy accept 10.0.0.0/33:80"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[[ "$output" == *"$CONF:1: bad address in policy entry"* ]]

	conf "ExitPolicy reject *:70000"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[[ "$output" == *"$CONF:1: bad port in policy entry"* ]]

	conf "Log loud stderr"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[[ "$output" == *"$CONF:1: bad severity in Log"* ]]

	conf "DNSServer dns.example.test"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[[ "$output" == *"$CONF:1: bad DNSServer"* ]]

	conf "SocksPort 9050 IsolateEverything"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[[ "$output" == *"$CONF:1: unknown SocksPort flag \"IsolateEverything\""* ]]

	conf "SafeSocks maybe"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[[ "$output" == *"$CONF:1: SafeSocks must be 0 or 1"* ]]

	conf "Engine warp"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[[ "$output" == *"$CONF:1: Engine must be \"direct\" or \"tor\""* ]]
}

@test "command-line errors: unknown --Option, bad value, missing -f file" {
	run "$TK_TORKITD" -f /dev/null --Nonsense 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"unknown option \"--Nonsense\""* ]]
	run "$TK_TORKITD" -f /dev/null --MaxClients 0
	[ "$status" -eq 1 ]
	[[ "$output" == *"command line (--MaxClients): MaxClients must be a number from 1"* ]]
	run "$TK_TORKITD" -f "$BATS_TEST_TMPDIR/missing.conf"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot read configuration file $BATS_TEST_TMPDIR/missing.conf"* ]]
	run "$TK_TORKITD" stray
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: torkitd"* ]]
}

@test "--verify-config: valid file, quoting, continuations; nothing started" {
	port=$(tk_free_port)
	conf "Engine direct" \
		"SocksPort 127.0.0.1:$port NoIsolateSOCKSAuth ExtendedErrors # trailing comment" \
		"SocksPort 127.0.0.1:$((port + 1)) NoIsolateClientAddr IsolateDestAddr IsolateDestPort IsolateClientProtocol NoIsolateDestPort" \
		"ExitPolicy accept 192.0.2.0/24:80-443, \\" \
		"  reject6 [2001:db8::]/32:*, accept *:*" \
		"SocksPolicy accept 127.0.0.1, reject *" \
		"DataDirectory \"$BATS_TEST_TMPDIR/data dir\"" \
		"Log notice-err stderr" "Log info file $BATS_TEST_TMPDIR/log" \
		"SocksTimeout 2 minutes" "MaxClients 100" "SafeLogging relay" \
		"DirAuthority test orport=5000 no-v2 v3ident=AAAA 127.0.0.1:7000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000" \
		"DNSServer 127.0.0.1:5353" "DNSServer [::1]"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[ "$status" -eq 0 ]
	[ "$output" = "Configuration was valid" ]
	refute tk_port_in_use "$port"
	[ ! -e "$BATS_TEST_TMPDIR/data dir" ]
}

@test "Engine tor is the default: the public network's authorities, or DirAuthority lines, checked by --verify-config" {
	# nothing is started by --verify-config: no packet leaves
	conf "SocksPort 127.0.0.1:$(tk_free_port)"
	HOME=$BATS_TEST_TMPDIR run "$TK_TORKITD" -f "$CONF" --verify-config
	[ "$status" -eq 0 ]
	[ "$output" = "Configuration was valid" ]
	id=$(printf '0123%.0s' 1 2 3 4 5 6 7 8 9 10)
	conf "Engine tor" "DataDirectory $BATS_TEST_TMPDIR/tordata" \
		"DirAuthority test orport=5000 no-v2 v3ident=$id 127.0.0.1:7000 0123 0123 0123 0123 0123 0123 0123 0123 0123 0123" \
		"FallbackDir 127.0.0.1 orport=5001 id=$id" "TestingTorNetwork 1"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[ "$status" -eq 0 ]
	[ "$output" = "Configuration was valid" ]
	[ ! -e "$BATS_TEST_TMPDIR/tordata" ]
	conf "TestingTorNetwork 1"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[ "$status" -eq 1 ]
	[[ "$output" == *"TestingTorNetwork may only be configured with a non-default set of DirAuthority lines"* ]]
	conf "DirAuthority Serge orport=9001 bridge 66.111.2.131:9030 BA44 A889 E64B 93FA A2B1 14E0 2C2A 279A 8555 C533"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[ "$status" -eq 1 ]
	[[ "$output" == *"Serge is a bridge authority"* ]]
	conf "FallbackDir 192.0.2.1 orport=443 id=0123"
	run "$TK_TORKITD" -f "$CONF" --verify-config
	[ "$status" -eq 1 ]
	[[ "$output" == *"FallbackDir \"192.0.2.1 orport=443 id=0123\": bad id=0123"* ]]
}

@test "--Option on the command line replaces the file's lines" {
	a=$(tk_free_port)
	b=$(tk_free_port)
	conf "Engine direct" "SocksPort 127.0.0.1:$a" "Log notice file $BATS_TEST_TMPDIR/log"
	"$TK_TORKITD" -f "$CONF" --SocksPort "127.0.0.1:$b" &
	tk_track $!
	tk_wait_log "$BATS_TEST_TMPDIR/log" "Opened Socks listener connection \(ready\) on 127.0.0.1:$b"
	refute grep -q ":$a" "$BATS_TEST_TMPDIR/log"
	refute tk_port_in_use "$a"
}

@test "log lines are timestamped like Tor's" {
	dh_torkitd
	run head -n1 "$DH_LOG"
	[[ "$output" =~ ^[A-Z][a-z]{2}\ [\ 0-9][0-9]\ [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\ \[notice\]\ torkitd\  ]]
}

@test "SafeLogging (default on) scrubs names and addresses" {
	tk_start_dnsmasq "$BATS_TEST_TMPDIR/dns"
	dh_torkitd
	sed -i '/SafeLogging 0/d' "$DH_CONF"
	tk_stop "$DH_PID"
	"$TK_TORKITD" -f "$DH_CONF" &
	DH_PID=$!
	tk_track $DH_PID
	tk_wait_log "$DH_LOG" "Opened Socks listener.*$DH_PORT.*" 10
	tk_wait_port 127.0.0.1 "$DH_PORT"
	run dh_raw "$DH_PORT" "050100 05f00003 $(dh_hexname www.example.test) 0000"
	[ "${lines[0]}" = "05 00 05 00 00 01 c0 00 02 0a 00 00" ]
	tk_wait_log "$DH_LOG" "RESOLVE \[scrubbed\]"
	run dh_raw "$DH_PORT" "050100 05010003 $(dh_hexname 'bad!name.secret.test') 0050"
	[ "${lines[0]}" = "05 00 05 01 00 01 00 00 00 00 00 00" ]
	tk_wait_log "$DH_LOG" "malformed hostname: \[scrubbed\]. Rejecting"
	refute grep -q "www.example.test" "$DH_LOG"
	refute grep -q "secret" "$DH_LOG"
}

@test "SocksPolicy: a rejected client is closed without a reply" {
	dh_torkitd "SocksPolicy reject 127.0.0.1"
	run dh_raw "$DH_PORT" 050100
	dh_closed "$output"
	tk_wait_log "$DH_LOG" "Denying socks connection from untrusted address 127.0.0.1"
}

@test "SIGTERM and SIGINT: stop accepting, exit 0, PidFile removed" {
	pidf="$BATS_TEST_TMPDIR/torkitd.pid"
	dh_torkitd "PidFile $pidf"
	[ "$(cat "$pidf")" = "$DH_PID" ]
	kill -TERM "$DH_PID"
	rc=0
	wait "$DH_PID" || rc=$?
	[ "$rc" -eq 0 ]
	grep -q "Catching signal TERM, exiting cleanly." "$DH_LOG"
	grep -q "Clean shutdown finished" "$DH_LOG"
	[ ! -e "$pidf" ]
	refute tk_port_in_use "$DH_PORT"

	dh_torkitd
	kill -INT "$DH_PID"
	rc=0
	wait "$DH_PID" || rc=$?
	[ "$rc" -eq 0 ]
	grep -q "Catching signal INT" "$DH_LOG"
}

@test "SIGTERM with clients connected still exits 0" {
	dh_target ECHO echo
	dh_torkitd "ExitPolicyRejectPrivate 0"
	exec 7<>"/dev/tcp/127.0.0.1/$DH_PORT"
	printf "\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01$(dh_portesc "$ECHO")" >&7
	exec 8<>"/dev/tcp/127.0.0.1/$DH_PORT"
	printf '\x05' >&8
	tk_wait_log "$DH_LOG" "CONNECT 127.0.0.1:$ECHO"
	kill -TERM "$DH_PID"
	rc=0
	wait "$DH_PID" || rc=$?
	exec 7>&- 8>&-
	[ "$rc" -eq 0 ]
}

@test "SIGHUP: new SocksPort opened, removed one closed, log re-read" {
	dh_torkitd
	second=$(tk_free_port)
	sed -i "s/^SocksPort .*/SocksPort 127.0.0.1:$second/" "$DH_CONF"
	kill -HUP "$DH_PID"
	tk_wait_log "$DH_LOG" "Opened Socks listener connection \(ready\) on 127.0.0.1:$second"
	tk_wait_log "$DH_LOG" "Closing Socks listener on 127.0.0.1:$DH_PORT"
	DH_PORT=$second
	dh_alive
}

@test "SIGHUP with a broken file keeps the old configuration" {
	dh_torkitd
	echo "Bogus line" >>"$DH_CONF"
	kill -HUP "$DH_PID"
	tk_wait_log "$DH_LOG" "Keeping the old configuration"
	grep -q "torrc:[0-9]*: unknown option \"Bogus\"" "$DH_LOG"
	dh_alive
}

@test "SIGHUP applies a new ExitPolicy to new requests" {
	dh_target ECHO echo
	dh_torkitd "ExitPolicyRejectPrivate 0"
	P=$(dh_hexport "$ECHO")
	run dh_raw -W "$DH_PORT" "050100 0501 0001 7f000001 $P 6f6b"
	[ "${lines[0]}" = "05 00 05 00 00 01 00 00 00 00 00 00 6f 6b" ]
	echo "ExitPolicy reject 127.0.0.1:$ECHO" >>"$DH_CONF"
	kill -HUP "$DH_PID"
	tk_wait_log "$DH_LOG" "Reloading config"
	for ((i = 0; i < 100; i++)); do
		run dh_raw "$DH_PORT" "050100 0501 0001 7f000001 $P"
		[ "${lines[0]}" = "05 00 05 02 00 01 00 00 00 00 00 00" ] && break
		sleep 0.05
	done
	[ "${lines[0]}" = "05 00 05 02 00 01 00 00 00 00 00 00" ]
}

@test "RunAsDaemon: the parent returns 0 once the daemon listens" {
	port=$(tk_free_port)
	pidf="$BATS_TEST_TMPDIR/d.pid"
	conf "Engine direct" "SocksPort 127.0.0.1:$port" "RunAsDaemon 1" "PidFile $pidf" \
		"Log notice file $BATS_TEST_TMPDIR/log"
	run "$TK_TORKITD" -f "$CONF"
	[ "$status" -eq 0 ]
	pid=$(cat "$pidf")
	tk_track "$pid"
	tk_port_in_use "$port"
	kill -TERM "$pid"
	tk_wait_exit "$pid"
	tk_wait_log "$BATS_TEST_TMPDIR/log" "Clean shutdown finished"
}

@test "a SocksPort already in use: clear error, exit 1" {
	dh_torkitd
	run "$TK_TORKITD" -f /dev/null --Engine direct --SocksPort "127.0.0.1:$DH_PORT" --Log "notice stderr"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Could not bind to 127.0.0.1:$DH_PORT: address already in use"* ]]
}

@test "--help and --version" {
	run "$TK_TORKITD" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: torkitd"* ]]
	run "$TK_TORKITD" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "torkitd "[0-9]* ]]
}

@test "RunAsDaemon: relative -f, PidFile and Log are the start directory's, for SIGHUP and at exit" {
	port=$(tk_free_port)
	second=$(tk_free_port)
	cd "$BATS_TEST_TMPDIR"
	printf '%s\n' "Engine direct" "SocksPort 127.0.0.1:$port" "RunAsDaemon 1" "PidFile t.pid" \
		"Log info file t.log" "DNSServer 127.0.0.1:$(tk_free_port)" >t.conf
	run "$TK_TORKITD" -f t.conf
	[ "$status" -eq 0 ]
	pid=$(cat t.pid)
	tk_track "$pid"
	# SIGHUP reads t.conf again, not /t.conf
	sed -i "s/^SocksPort .*/SocksPort 127.0.0.1:$second/" t.conf
	kill -HUP "$pid"
	tk_wait_log t.log "Opened Socks listener connection \(ready\) on 127.0.0.1:$second"
	refute grep -q "Keeping the old configuration" t.log
	kill -TERM "$pid"
	tk_wait_exit "$pid"
	tk_wait_log t.log "Clean shutdown finished"
	# the PidFile removed at exit is ours, not /t.pid
	[ ! -e t.pid ]
}

@test "PidFile: a symlink planted there is replaced, never followed" {
	pidf="$BATS_TEST_TMPDIR/t.pid"
	echo "precious" >"$BATS_TEST_TMPDIR/victim"
	ln -s "$BATS_TEST_TMPDIR/victim" "$pidf"
	dh_torkitd "PidFile $pidf"
	[ "$(cat "$BATS_TEST_TMPDIR/victim")" = "precious" ]
	[ ! -L "$pidf" ]
	[ "$(cat "$pidf")" = "$DH_PID" ]
}

@test "DataDirectory: created 0700; refused when not ours or writable by others; fixed when readable" {
	d="$BATS_TEST_TMPDIR/data"
	dh_torkitd "DataDirectory $d"
	[ "$(stat -c %a "$d")" = 700 ]
	tk_stop "$DH_PID"

	chmod 0770 "$d"
	run timeout 20 "$TK_TORKITD" -f /dev/null --Engine direct --SocksPort "127.0.0.1:$(tk_free_port)" \
		--DataDirectory "$d" --Log "notice stderr"
	[ "$status" -eq 1 ]
	[[ "$output" == *"DataDirectory $d is writable by its group or by everyone (mode 770); refusing it"* ]]

	chmod 0755 "$d"
	dh_torkitd "DataDirectory $d"
	grep -q "Fixing permissions on DataDirectory $d" "$DH_LOG"
	[ "$(stat -c %a "$d")" = 700 ]
	tk_stop "$DH_PID"

	if [ "$(id -u)" -eq 0 ]; then
		chown nobody "$d"
		run timeout 20 "$TK_TORKITD" -f /dev/null --Engine direct --SocksPort "127.0.0.1:$(tk_free_port)" \
			--DataDirectory "$d" --Log "notice stderr"
		[ "$status" -eq 1 ]
		[[ "$output" == *"is not owned by this user"* ]]
	fi
}

@test "DataDirectory: a second torkitd on the same one refuses to start" {
	d="$BATS_TEST_TMPDIR/data"
	dh_torkitd "DataDirectory $d"
	first=$DH_PID
	run timeout 20 "$TK_TORKITD" -f /dev/null --Engine direct --SocksPort "127.0.0.1:$(tk_free_port)" \
		--DataDirectory "$d" --Log "notice stderr"
	[ "$status" -eq 1 ]
	[[ "$output" == *"another torkitd (or tor) is already using DataDirectory $d"* ]]
	kill -0 "$first"
}

@test "User: after binding, torkitd runs as that user, groups and all, and still serves" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch users"
	d="$BATS_TEST_TMPDIR/data"
	dh_torkitd "User nobody" "DataDirectory $d"
	tk_wait_log "$DH_LOG" "Running as user nobody"
	uid=$(id -u nobody)
	gid=$(id -g nobody)
	grep -Eq "^Uid:[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid\$" "/proc/$DH_PID/status"
	grep -Eq "^Gid:[[:space:]]+$gid[[:space:]]+$gid[[:space:]]+$gid[[:space:]]+$gid\$" "/proc/$DH_PID/status"
	groups=$(sed -n 's/^Groups:[[:space:]]*//p' "/proc/$DH_PID/status")
	[[ " $groups " != *" 0 "* ]]
	[ "$(stat -c %U "$d")" = nobody ]
	dh_alive
}

@test "RLIMIT_NOFILE is raised for MaxClients, and a hard limit too low is said" {
	dir="$BATS_TEST_TMPDIR/lim"
	mkdir -p "$dir"
	port=$(tk_free_port)
	[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 4100 ] ||
		skip "the hard descriptor limit here is below 4100"
	prlimit --nofile=64:"$(ulimit -Hn)" "$TK_TORKITD" -f /dev/null --Engine direct --SocksPort "127.0.0.1:$port" \
		--MaxClients 2000 --Log "info file $dir/log" --DNSServer 127.0.0.1:1 &
	pid=$!
	tk_track $pid
	tk_wait_log "$dir/log" "Opened Socks listener"
	soft=$(awk '/Max open files/ { print $4 }' "/proc/$pid/limits")
	[ "$soft" -ge 4000 ]
	tk_stop "$pid"

	port=$(tk_free_port)
	# without CAP_SYS_RESOURCE the hard limit cannot be raised
	setpriv --bounding-set=-sys_resource prlimit --nofile=64:128 "$TK_TORKITD" -f /dev/null --Engine direct \
		--SocksPort "127.0.0.1:$port" --MaxClients 2000 --Log "info file $dir/log2" \
		--DNSServer 127.0.0.1:1 &
	pid=$!
	tk_track $pid
	tk_wait_log "$dir/log2" "MaxClients 2000 needs about 4064 file descriptors, but the limit is 128"
}

@test "a SocksPort on a non-loopback address without SocksPolicy: Tor's warning" {
	port=$(tk_free_port)
	"$TK_TORKITD" -f /dev/null --Engine direct --SocksPort "0.0.0.0:$port" --Log "notice file $BATS_TEST_TMPDIR/w.log" \
		--DNSServer 127.0.0.1:1 &
	tk_track $!
	tk_wait_log "$BATS_TEST_TMPDIR/w.log" "You specified a public address '0.0.0.0:$port' for SocksPort. Other people on the Internet might find your computer"
	port2=$(tk_free_port)
	"$TK_TORKITD" -f /dev/null --Engine direct --SocksPort "0.0.0.0:$port2" --SocksPolicy "accept 127.0.0.1" \
		--Log "notice file $BATS_TEST_TMPDIR/p.log" --DNSServer 127.0.0.1:1 &
	tk_track $!
	tk_wait_log "$BATS_TEST_TMPDIR/p.log" "Opened Socks listener connection \(ready\) on 0.0.0.0:$port2"
	refute grep -q "public address" "$BATS_TEST_TMPDIR/p.log"
}
