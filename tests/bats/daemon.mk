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
	tests/bats/daemon_splice.bats \
	tests/bats/daemon_loops.bats \
	tests/bats/daemon_default.bats \
	tests/bats/daemon_control.bats \
	tests/bats/install.bats \
	tests/bats/daemon_wrappers.bats
TESTS += $(DAEMON_BATS)
EXTRA_DIST += $(DAEMON_BATS) tests/bats/daemon_helpers.bash tests/bats/ctl.py \
	tests/bats/socksbulk.py

# The direct engine's relay tests once more with RelaySplice 0: the .bats
# runs splice (the default, on Linux), the .copy runs copy. Each
# copy/NAME.copy is a symbolic link to NAME.bats (a directory of their
# own: automake names a test's log after its base name); helpers.bash
# gives every torkitd the option.
TEST_EXTENSIONS += .copy
COPY_LOG_DRIVER = $(LOG_DRIVER)
COPY_LOG_COMPILER = env TK_RELAY_SPLICE=0 $(BATS_LOG_COMPILER)
RELAY_COPY_BATS = \
	tests/bats/copy/daemon_relay.copy \
	tests/bats/copy/daemon_socks.copy \
	tests/bats/copy/daemon_limits.copy \
	tests/bats/copy/daemon_clients.copy \
	tests/bats/copy/daemon_wrappers.copy \
	tests/bats/copy/cli_torkitd.copy
TESTS += $(RELAY_COPY_BATS)
EXTRA_DIST += $(RELAY_COPY_BATS)
