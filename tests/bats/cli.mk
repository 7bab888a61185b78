# bats tests of the clients.
# cli_fakesocks is the scripted SOCKS peer for answers no real proxy sends.
check_PROGRAMS += tests/helpers/cli_fakesocks
tests_helpers_cli_fakesocks_SOURCES = tests/helpers/cli_fakesocks.c
