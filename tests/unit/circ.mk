# Unit tests of relay messages and of the circ layer: flow control, the
# stream table of a circuit.
check_PROGRAMS += tests/unit/test_relay_msg tests/unit/test_flowctl \
	tests/unit/test_stream tests/unit/test_stream_tor1
tests_unit_test_relay_msg_SOURCES = tests/unit/test_relay_msg.c tests/unit/tap.h
tests_unit_test_relay_msg_LDADD = $(ONION_CORE_LIBS)
tests_unit_test_flowctl_SOURCES = tests/unit/test_flowctl.c tests/unit/tap.h
tests_unit_test_flowctl_LDADD = $(ONION_CORE_LIBS)
tests_unit_test_stream_SOURCES = tests/unit/test_stream.c tests/unit/tap.h
tests_unit_test_stream_LDADD = $(ONION_CORE_LIBS)
# Streams + flow control + tor1 relay crypto, with a simulated echo exit.
tests_unit_test_stream_tor1_SOURCES = tests/unit/test_stream_tor1.c \
	tests/unit/tap.h
tests_unit_test_stream_tor1_LDADD = $(ONION_CORE_LIBS)
# The virtual hop of onion-service circuits: SHA3-256 and AES-256.
check_PROGRAMS += tests/unit/test_relay_crypto_hs
tests_unit_test_relay_crypto_hs_SOURCES = tests/unit/test_relay_crypto_hs.c \
	tests/unit/tap.h
tests_unit_test_relay_crypto_hs_LDADD = $(ONION_CORE_LIBS)
TESTS += tests/unit/test_relay_msg tests/unit/test_flowctl \
	tests/unit/test_stream tests/unit/test_stream_tor1 \
	tests/unit/test_relay_crypto_hs
