# bats tests of the clients.
# cli_fakesocks is the scripted SOCKS peer for answers no real proxy sends.
check_PROGRAMS += tests/helpers/cli_fakesocks
tests_helpers_cli_fakesocks_SOURCES = tests/helpers/cli_fakesocks.c

TK_CLI_BATS = \
	tests/bats/cli_options.bats \
	tests/bats/cli_errors.bats \
	tests/bats/cli_connect.bats \
	tests/bats/cli_torkitd.bats
TESTS += $(TK_CLI_BATS)
EXTRA_DIST += $(TK_CLI_BATS) tests/bats/cli_helpers.bash
