# Unit tests of the daemon's parts: the torrc tokenizer and the option table.
check_PROGRAMS += tests/unit/test_conf
tests_unit_test_conf_SOURCES = tests/unit/test_conf.c tests/unit/tap.h \
	src/daemon/conf.c src/daemon/conf.h \
	src/daemon/torrc.c src/daemon/torrc.h \
	src/daemon/log.c src/daemon/log.h \
	src/daemon/policy.c src/daemon/policy.h
# Its own flags, so its objects are not torkitd's.
tests_unit_test_conf_CPPFLAGS = $(AM_CPPFLAGS) -DTK_LOCALSTATEDIR='"/var/test"'
tests_unit_test_conf_LDADD = src/lib/libtorkit.a
TESTS += tests/unit/test_conf

# The tor engine's translations of torkitd's configuration and requests.
check_PROGRAMS += tests/unit/test_daemon_engine
tests_unit_test_daemon_engine_SOURCES = tests/unit/test_daemon_engine.c \
	tests/unit/tap.h src/daemon/engine_tor_iso.c \
	src/daemon/engine_tor_config.c \
	src/daemon/conf.c src/daemon/torrc.c src/daemon/log.c \
	src/daemon/policy.c
tests_unit_test_daemon_engine_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS)
tests_unit_test_daemon_engine_LDADD = src/lib/libtorkit.a $(ONION_LINK_LIBS) \
	$(UV_LIBS)
TESTS += tests/unit/test_daemon_engine

# The control protocol's framing, argument reader and session replies.
check_PROGRAMS += tests/unit/test_control_proto
tests_unit_test_control_proto_SOURCES = tests/unit/test_control_proto.c \
	tests/unit/tap.h src/daemon/control_session.c \
	src/daemon/control_proto.c
tests_unit_test_control_proto_CPPFLAGS = $(AM_CPPFLAGS) $(SODIUM_CFLAGS)
tests_unit_test_control_proto_LDADD = $(SODIUM_LIBS)
TESTS += tests/unit/test_control_proto
