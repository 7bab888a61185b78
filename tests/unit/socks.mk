# SOCKS codec and address unit tests.
check_PROGRAMS += tests/unit/test_addr tests/unit/test_socks_server \
	tests/unit/test_socks_client tests/unit/test_socks_captures \
	tests/unit/test_socks_reply
tests_unit_test_addr_SOURCES = tests/unit/test_addr.c tests/unit/tap.h
tests_unit_test_addr_LDADD = src/lib/libtorkit.a
tests_unit_test_socks_server_SOURCES = tests/unit/test_socks_server.c \
	tests/unit/tap.h
tests_unit_test_socks_server_LDADD = src/lib/libtorkit.a
tests_unit_test_socks_client_SOURCES = tests/unit/test_socks_client.c \
	tests/unit/tap.h
tests_unit_test_socks_client_LDADD = src/lib/libtorkit.a
tests_unit_test_socks_captures_SOURCES = tests/unit/test_socks_captures.c \
	tests/unit/tap.h
tests_unit_test_socks_captures_LDADD = src/lib/libtorkit.a
tests_unit_test_socks_reply_SOURCES = tests/unit/test_socks_reply.c \
	tests/unit/tap.h
tests_unit_test_socks_reply_LDADD = src/lib/libtorkit.a
TESTS += tests/unit/test_addr tests/unit/test_socks_server \
	tests/unit/test_socks_client tests/unit/test_socks_captures \
	tests/unit/test_socks_reply
