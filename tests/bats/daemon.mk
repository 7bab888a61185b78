# bats tests of torkitd.
check_PROGRAMS += tests/helpers/daemon_echo tests/helpers/daemon_rawsocks
tests_helpers_daemon_echo_SOURCES = tests/helpers/daemon_echo.c
tests_helpers_daemon_rawsocks_SOURCES = tests/helpers/daemon_rawsocks.c

DAEMON_BATS = \
	tests/bats/daemon_socks.bats \
	tests/bats/daemon_relay.bats \
	tests/bats/daemon_clients.bats \
	tests/bats/daemon_config.bats \
	tests/bats/daemon_limits.bats \
	tests/bats/daemon_default.bats \
	tests/bats/daemon_control.bats \
	tests/bats/install.bats \
	tests/bats/daemon_wrappers.bats
TESTS += $(DAEMON_BATS)
EXTRA_DIST += $(DAEMON_BATS) tests/bats/daemon_helpers.bash tests/bats/ctl.py
