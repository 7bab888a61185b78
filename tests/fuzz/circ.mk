# Fuzz harnesses for relay messages and a circuit's stream table.
check_PROGRAMS += tests/fuzz/fuzz_relay_msg
tests_fuzz_fuzz_relay_msg_SOURCES = tests/fuzz/fuzz_relay_msg.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_relay_msg_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_relay_msg_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_relay_msg
EXTRA_DIST += tests/fuzz/corpus/relay_msg
check_PROGRAMS += tests/fuzz/fuzz_stream
tests_fuzz_fuzz_stream_SOURCES = tests/fuzz/fuzz_stream.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_stream_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_stream_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_stream
EXTRA_DIST += tests/fuzz/corpus/stream
