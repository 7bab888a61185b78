# Unit tests of relay messages and of the circ layer: flow control and
# congestion control, ntor v3, the stream table of a circuit.
check_PROGRAMS += tests/unit/test_relay_msg tests/unit/test_flowctl \
	tests/unit/test_stream tests/unit/test_stream_tor1 \
	tests/unit/test_ntor_v3 tests/unit/test_congestion
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
# ntor v3 known answers (prop 332), with SHA3/SHAKE and AES-256-CTR.
tests_unit_test_ntor_v3_SOURCES = tests/unit/test_ntor_v3.c tests/unit/tap.h
tests_unit_test_ntor_v3_LDADD = $(ONION_CORE_LIBS)
# Vegas on scripted RTT traces; flowctl's congestion-controlled hop.
tests_unit_test_congestion_SOURCES = tests/unit/test_congestion.c \
	tests/unit/tap.h
tests_unit_test_congestion_LDADD = $(ONION_CORE_LIBS)
# The virtual hop of onion-service circuits: SHA3-256 and AES-256.
check_PROGRAMS += tests/unit/test_relay_crypto_hs
tests_unit_test_relay_crypto_hs_SOURCES = tests/unit/test_relay_crypto_hs.c \
	tests/unit/tap.h
tests_unit_test_relay_crypto_hs_LDADD = $(ONION_CORE_LIBS)
TESTS += tests/unit/test_relay_msg tests/unit/test_flowctl \
	tests/unit/test_stream tests/unit/test_stream_tor1 \
	tests/unit/test_ntor_v3 tests/unit/test_congestion \
	tests/unit/test_relay_crypto_hs
