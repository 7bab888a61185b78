# Helpers for torkitd's bats tests, on top of the shared helpers.bash.
#
#   load "$TK_SRCDIR/tests/bats/helpers"
#   load "$TK_SRCDIR/tests/bats/daemon_helpers"

DH_ECHO="$TK_BUILDDIR/tests/helpers/daemon_echo"
DH_RAW="$TK_BUILDDIR/tests/helpers/daemon_rawsocks"

# dh_target NAME MODE [ARGS...]: start daemon_echo (see its header) on an
# ephemeral loopback port; sets the variable NAME to the port.
dh_target() {
	local var=$1; shift
	local out="$BATS_TEST_TMPDIR/target.$var" i port=
	"$DH_ECHO" "$@" >"$out" &
	tk_track $!
	for ((i = 0; i < 600; i++)); do
		port=$(grep -m1 -x '[0-9][0-9]*' "$out" 2>/dev/null) || true
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || { echo "daemon_echo did not start" >&2; return 1; }
	printf -v "$var" '%s' "$port"
}

# dh_torkitd [torrc lines...]: write a torrc with the direct engine (the
# default, tor, would go to the public network), a SocksPort on a free
# port, the test dnsmasq as DNSServer, info logs to a file, and the given
# extra lines; start torkitd -f on it and wait for the listener log line.
# Sets DH_PORT, DH_PID, DH_LOG, DH_CONF. DH_WRAP, if set, is a command
# that runs torkitd (and execs it: DH_PID stays torkitd's), e.g.
# DH_WRAP="prlimit --nofile=48:48" dh_torkitd.
dh_torkitd() {
	local dir="$BATS_TEST_TMPDIR/torkitd.$RANDOM" line try rc
	mkdir -p "$dir"
	DH_LOG="$dir/torkitd.log"
	DH_CONF="$dir/torrc"
	for try in 1 2 3; do
		DH_PORT=$(tk_free_port) || return 1
		{
			echo "Engine direct"
			echo "SocksPort 127.0.0.1:$DH_PORT"
			echo "Log info file $DH_LOG"
			echo "SafeLogging 0"
			# Never the system's resolvers: the test dnsmasq, or
			# a dead loopback port when a test has none.
			echo "DNSServer 127.0.0.1:${TK_DNS_PORT:-$(tk_free_port)}"
			for line in "$@"; do echo "$line"; done
		} >"$DH_CONF"
		# shellcheck disable=SC2086 # DH_WRAP: a command and its words
		${DH_WRAP-} "$TK_TORKITD" -f "$DH_CONF" 2>"$dir/stderr" &
		DH_PID=$!
		tk_track "$DH_PID"
		rc=0
		tk_wait_log "$DH_LOG" "Opened Socks listener connection \(ready\) on 127.0.0.1:$DH_PORT" 20 "$DH_PID" ||
			rc=$?
		# the random port was taken in the meantime: another one
		[ "$rc" -eq 2 ] && grep -q "in use" "$DH_LOG" "$dir/stderr" 2>/dev/null &&
			continue
		break
	done
	if [ "$rc" -ne 0 ]; then
		cat "$dir/stderr" >&2
		return 1
	fi
}

# dh_hold N: open N idle TCP connections to DH_PORT, kept in DH_HELD
# until dh_release (or dh_teardown) closes them.
DH_HELD=()
dh_hold() {
	local i fd
	for ((i = 0; i < $1; i++)); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$DH_PORT" || return 1
		DH_HELD+=("$fd")
	done
}

dh_release() {
	local fd
	for fd in "${DH_HELD[@]}"; do
		exec {fd}>&-
	done
	DH_HELD=()
}

# dh_teardown: a test file's teardown: the held connections closed and
# everything the test started stopped.
dh_teardown() {
	local fd
	for fd in "${DH_HELD[@]}"; do
		exec {fd}>&- 2>/dev/null || true
	done
	DH_HELD=()
	tk_stop_all
}

# dh_linger N TARGET: N lingering sessions through DH_PORT to the
# loopback port TARGET (a `dh_target NAME hold`): each client sends its
# CONNECT and "hi" and half-closes, the target neither answers nor
# closes. Returns once torkitd's N connections to the target are up (the
# clients' EOFs follow at once); client i's output is in
# BATS_TEST_TMPDIR/linger.i.
dh_linger() {
	local n=$1 target=$2 i
	for ((i = 1; i <= n; i++)); do
		"$DH_RAW" -W -t 60 "$DH_PORT" \
			"050100 0501 0001 7f000001 $(dh_hexport "$target") 6869" \
			>"$BATS_TEST_TMPDIR/linger.$i" &
		tk_track $!
		tk_poll 20 "" eval "[ \$(ss -Htn '( dport = :$target )' | wc -l) -ge $i ]"
	done
}

# dh_raw ARGS...: daemon_rawsocks against DH_PORT (see its header).
dh_raw() { "$DH_RAW" -t 20 "$@"; }

# dh_hexname NAME: "LEN NAME" as hex for a SOCKS5 ATYP 03 address.
dh_hexname() {
	printf '%02x' "${#1}"
	printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
}

# dh_hexport PORT: the port as 2 hex bytes, big endian.
dh_hexport() { printf '%04x' "$1"; }

# dh_portesc PORT: the port as printf escapes ("\x4e\x20").
dh_portesc() { printf '\\x%02x\\x%02x' $(($1 >> 8)) $(($1 & 255)); }

# dh_hexstr TEXT: TEXT as hex pairs separated by spaces (for expected data).
dh_hexstr() { printf '%s' "$1" | od -An -v -tx1 | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }

# dh_closed OUTPUT: daemon_rawsocks saw the connection closed with no
# reply bytes (a FIN, or a RST if our bytes were still unread).
dh_closed() { [ "$1" = "EOF" ] || [ "$1" = "RESET" ]; }

# dh_alive: torkitd still running and answering a SOCKS5 greeting.
dh_alive() {
	kill -0 "$DH_PID" || return 1
	run "$DH_RAW" -t 20 -W "$DH_PORT" 050100
	[ "${lines[0]}" = "05 00" ]
}

# dh_sshd SSHD: a real sshd on an ephemeral loopback port that lets this
# user in with the key DH_SSH_DIR/userkey; sets DH_SSH_DIR and
# DH_SSH_PORT. Returns 1 (the reason in DH_SSH_DIR/check) when this sshd
# refuses its configuration.
dh_sshd() {
	local sshd=$1 d="$BATS_TEST_TMPDIR/ssh" port
	# sshd wants its privilege separation directory, which only its
	# service would have made (tools/deps keeps services from starting)
	mkdir -p "$d" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$d/userkey"
	cp "$d/userkey.pub" "$d/authorized_keys"
	chmod 600 "$d/authorized_keys"
	port=$(tk_free_port)
	cat >"$d/sshd_config" <<-CONF
	Port $port
	ListenAddress 127.0.0.1
	HostKey $d/hostkey
	AuthorizedKeysFile $d/authorized_keys
	PidFile $d/sshd.pid
	StrictModes no
	UsePAM no
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	CONF
	DH_SSH_DIR=$d DH_SSH_PORT=$port
	"$sshd" -t -f "$d/sshd_config" 2>"$d/check" || return 1
	"$sshd" -D -e -f "$d/sshd_config" 2>"$d/sshd.log" &
	tk_track $!
	tk_wait_port 127.0.0.1 "$port"
}
