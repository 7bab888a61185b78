# Fuzz harness for torkitd's control protocol: framing, authentication and
# every command, with a fake daemon behind it.
check_PROGRAMS += tests/fuzz/fuzz_control
tests_fuzz_fuzz_control_SOURCES = tests/fuzz/fuzz_control.c $(FUZZ_REPLAY) \
	src/daemon/control_session.c src/daemon/control_proto.c
tests_fuzz_fuzz_control_CPPFLAGS = $(AM_CPPFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_control_LDADD = $(SODIUM_LIBS)
tests_fuzz_fuzz_control_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_control
EXTRA_DIST += tests/fuzz/corpus/control
