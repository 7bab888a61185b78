# Unit tests of the engine's base and cell layers: crypto known answers,
# CERTS validation, cells. Fixtures live in tests/unit/data/.
check_PROGRAMS += tests/unit/test_onion_crypto
tests_unit_test_onion_crypto_SOURCES = tests/unit/test_onion_crypto.c \
	tests/unit/tor1_vectors.inc tests/unit/tap.h
tests_unit_test_onion_crypto_LDADD = $(ONION_CORE_LIBS)
TESTS += tests/unit/test_onion_crypto
EXTRA_DIST += tests/unit/data/tor1_shake256.bin tests/unit/data/authcert1.txt

check_PROGRAMS += tests/unit/test_logf
tests_unit_test_logf_SOURCES = tests/unit/test_logf.c tests/unit/tap.h
tests_unit_test_logf_LDADD = $(ONION_CORE_LIBS)
TESTS += tests/unit/test_logf

# base/deadline.h on a real libuv loop, starved and not.
check_PROGRAMS += tests/unit/test_deadline
tests_unit_test_deadline_SOURCES = tests/unit/test_deadline.c tests/unit/tap.h
tests_unit_test_deadline_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tests_unit_test_deadline_LDADD = $(ONION_CORE_LIBS) $(UV_LIBS)
TESTS += tests/unit/test_deadline

check_PROGRAMS += tests/unit/test_onion_certs
tests_unit_test_onion_certs_SOURCES = tests/unit/test_onion_certs.c \
	tests/unit/tap.h
tests_unit_test_onion_certs_LDADD = $(ONION_CORE_LIBS)
TESTS += tests/unit/test_onion_certs
EXTRA_DIST += tests/unit/data/tor-ed25519_signing_cert \
	tests/unit/data/tor-fingerprint-ed25519 \
	tests/unit/data/tor0411-certs.bin tests/unit/data/tor0411-tls.der \
	tests/unit/data/README

check_PROGRAMS += tests/unit/test_onion_cell
tests_unit_test_onion_cell_SOURCES = tests/unit/test_onion_cell.c \
	tests/unit/tap.h
tests_unit_test_onion_cell_LDADD = $(ONION_CORE_LIBS)
TESTS += tests/unit/test_onion_cell
