# bats tests of the clients.
# cli_fakesocks is the scripted SOCKS peer for answers no real proxy sends.
check_PROGRAMS += tests/helpers/cli_fakesocks
tests_helpers_cli_fakesocks_SOURCES = tests/helpers/cli_fakesocks.c

# The client session's contract, in process (TAP).
check_PROGRAMS += tests/helpers/cli_session_test
tests_helpers_cli_session_test_SOURCES = tests/helpers/cli_session_test.c
tests_helpers_cli_session_test_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS)
tests_helpers_cli_session_test_LDADD = src/lib/libtorkit.a $(UV_LIBS)
TESTS += tests/helpers/cli_session_test

TK_CLI_BATS = \
	tests/bats/cli_options.bats \
	tests/bats/cli_errors.bats \
	tests/bats/cli_connect.bats \
	tests/bats/cli_torkitd.bats
TESTS += $(TK_CLI_BATS)
EXTRA_DIST += $(TK_CLI_BATS) tests/bats/cli_helpers.bash
