# Unit tests of the onion-service layer (src/onion/hs). Vectors are from
# tor's and arti's test suites and rend-spec-v3; hs_testsvc.c plays the
# service's side. Fixtures live in tests/data/hs/ (see its README).
HS_TEST_LIBS = $(ONION_CORE_LIBS)
HS_TESTSVC = tests/unit/hs_testsvc.c tests/unit/hs_testsvc.h tests/unit/tap.h

check_PROGRAMS += tests/unit/test_hs_crypto
tests_unit_test_hs_crypto_SOURCES = tests/unit/test_hs_crypto.c \
	tests/unit/tap.h
tests_unit_test_hs_crypto_LDADD = $(HS_TEST_LIBS)
TESTS += tests/unit/test_hs_crypto

check_PROGRAMS += tests/unit/test_hs_keys
tests_unit_test_hs_keys_SOURCES = tests/unit/test_hs_keys.c $(HS_TESTSVC) \
	tests/unit/hs_blind_vectors.inc
tests_unit_test_hs_keys_LDADD = $(HS_TEST_LIBS)
TESTS += tests/unit/test_hs_keys

check_PROGRAMS += tests/unit/test_hs_ring
tests_unit_test_hs_ring_SOURCES = tests/unit/test_hs_ring.c \
	tests/unit/netdoc_testutil.h tests/unit/tap.h
tests_unit_test_hs_ring_LDADD = $(HS_TEST_LIBS)
TESTS += tests/unit/test_hs_ring

check_PROGRAMS += tests/unit/test_hs_desc
tests_unit_test_hs_desc_SOURCES = tests/unit/test_hs_desc.c $(HS_TESTSVC)
tests_unit_test_hs_desc_LDADD = $(HS_TEST_LIBS)
TESTS += tests/unit/test_hs_desc
EXTRA_DIST += tests/data/hs

check_PROGRAMS += tests/unit/test_hs_ntor
tests_unit_test_hs_ntor_SOURCES = tests/unit/test_hs_ntor.c $(HS_TESTSVC)
tests_unit_test_hs_ntor_LDADD = $(HS_TEST_LIBS)
TESTS += tests/unit/test_hs_ntor

check_PROGRAMS += tests/unit/test_hs_cache
tests_unit_test_hs_cache_SOURCES = tests/unit/test_hs_cache.c tests/unit/tap.h
tests_unit_test_hs_cache_LDADD = $(HS_TEST_LIBS)
TESTS += tests/unit/test_hs_cache

check_PROGRAMS += tests/unit/test_hs_ipfail
tests_unit_test_hs_ipfail_SOURCES = tests/unit/test_hs_ipfail.c tests/unit/tap.h
tests_unit_test_hs_ipfail_LDADD = $(HS_TEST_LIBS)
TESTS += tests/unit/test_hs_ipfail

check_PROGRAMS += tests/unit/test_hs_auth
tests_unit_test_hs_auth_SOURCES = tests/unit/test_hs_auth.c $(HS_TESTSVC)
tests_unit_test_hs_auth_LDADD = $(HS_TEST_LIBS)
TESTS += tests/unit/test_hs_auth

# the client's state machine over fakes of the circuit manager, circuits
# and directory requests (hs_client_fakes.[ch]: its sources built in, the
# fakes replacing circmgr.c, circuit.c and dirclient.c; the pool of clean
# internal circuits, circ_pool.c, is real), one program per subject
HS_CLIENT_FAKES = tests/unit/hs_client_fakes.c tests/unit/hs_client_fakes.h \
	src/onion/client/hs_client.c src/onion/client/hs_client_desc.c \
	src/onion/client/hs_client_intro.c src/onion/client/hs_client_rend.c \
	src/onion/client/hs_client_svc.c src/onion/client/hs_fetch.c \
	src/onion/client/circ_pool.c \
	tests/unit/netdoc_testutil.h $(HS_TESTSVC)
HS_CLIENT_TESTS = tests/unit/test_hs_client tests/unit/test_hs_client_refetch \
	tests/unit/test_hs_client_ipfail tests/unit/test_hs_client_pool
check_PROGRAMS += $(HS_CLIENT_TESTS)
TESTS += $(HS_CLIENT_TESTS)
tests_unit_test_hs_client_SOURCES = tests/unit/test_hs_client.c \
	$(HS_CLIENT_FAKES)
tests_unit_test_hs_client_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS)
tests_unit_test_hs_client_LDADD = $(HS_TEST_LIBS) $(UV_LIBS)
tests_unit_test_hs_client_refetch_SOURCES = \
	tests/unit/test_hs_client_refetch.c $(HS_CLIENT_FAKES)
tests_unit_test_hs_client_refetch_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS)
tests_unit_test_hs_client_refetch_LDADD = $(HS_TEST_LIBS) $(UV_LIBS)
tests_unit_test_hs_client_ipfail_SOURCES = \
	tests/unit/test_hs_client_ipfail.c $(HS_CLIENT_FAKES)
tests_unit_test_hs_client_ipfail_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS)
tests_unit_test_hs_client_ipfail_LDADD = $(HS_TEST_LIBS) $(UV_LIBS)
tests_unit_test_hs_client_pool_SOURCES = tests/unit/test_hs_client_pool.c \
	$(HS_CLIENT_FAKES)
tests_unit_test_hs_client_pool_CPPFLAGS = $(AM_CPPFLAGS) $(UV_CFLAGS)
tests_unit_test_hs_client_pool_LDADD = $(HS_TEST_LIBS) $(UV_LIBS)
