# Link/channel/circuit unit tests.
check_PROGRAMS += tests/unit/test_link_dirhttp
tests_unit_test_link_dirhttp_SOURCES = tests/unit/test_link_dirhttp.c \
	tests/unit/tap.h
tests_unit_test_link_dirhttp_LDADD = $(ONION_LINK_LIBS)
TESTS += tests/unit/test_link_dirhttp

# Channel, circuit and BEGIN_DIR against a scripted TLS relay on loopback.
check_PROGRAMS += tests/unit/test_link_channel
tests_unit_test_link_channel_SOURCES = tests/unit/test_link_channel.c \
	tests/unit/fake_relay.c tests/unit/fake_relay.h tests/unit/tap.h
tests_unit_test_link_channel_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tests_unit_test_link_channel_LDADD = $(ONION_LINK_LIBS)
# test_fetch_setup_fails makes the fetch's uv_timer_init fail.
tests_unit_test_link_channel_LDFLAGS = -Wl,--wrap=uv_timer_init
TESTS += tests/unit/test_link_channel

check_PROGRAMS += tests/unit/test_link_dirauth
tests_unit_test_link_dirauth_SOURCES = tests/unit/test_link_dirauth.c \
	tests/unit/tap.h
tests_unit_test_link_dirauth_LDADD = $(ONION_LINK_LIBS)
TESTS += tests/unit/test_link_dirauth

check_PROGRAMS += tests/unit/test_link_chanmgr
tests_unit_test_link_chanmgr_SOURCES = tests/unit/test_link_chanmgr.c \
	tests/unit/fake_relay.c tests/unit/fake_relay.h tests/unit/tap.h
tests_unit_test_link_chanmgr_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tests_unit_test_link_chanmgr_LDADD = $(ONION_LINK_LIBS)
TESTS += tests/unit/test_link_chanmgr

check_PROGRAMS += tests/unit/test_link_tls
tests_unit_test_link_tls_SOURCES = tests/unit/test_link_tls.c tests/unit/tap.h
tests_unit_test_link_tls_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tests_unit_test_link_tls_LDADD = $(ONION_LINK_LIBS)
TESTS += tests/unit/test_link_tls

# Link padding without I/O: the timeout distribution, tor's client policy.
check_PROGRAMS += tests/unit/test_link_padding
tests_unit_test_link_padding_SOURCES = tests/unit/test_link_padding.c \
	tests/unit/tap.h
tests_unit_test_link_padding_LDADD = $(ONION_LINK_LIBS) -lm
TESTS += tests/unit/test_link_padding
