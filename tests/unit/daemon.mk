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
