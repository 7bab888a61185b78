# Fuzz harnesses for the onion-service layer: host names and addresses,
# descriptors (the outer document and the whole chain), their decrypted
# layers, .auth_private files, and the rendezvous-protocol cells.
check_PROGRAMS += tests/fuzz/fuzz_hs_addr
tests_fuzz_fuzz_hs_addr_SOURCES = tests/fuzz/fuzz_hs_addr.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_hs_addr_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_hs_addr_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_hs_addr
EXTRA_DIST += tests/fuzz/corpus/hs_addr

check_PROGRAMS += tests/fuzz/fuzz_hs_desc
tests_fuzz_fuzz_hs_desc_SOURCES = tests/fuzz/fuzz_hs_desc.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_hs_desc_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_hs_desc_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_hs_desc
EXTRA_DIST += tests/fuzz/corpus/hs_desc

check_PROGRAMS += tests/fuzz/fuzz_hs_layers
tests_fuzz_fuzz_hs_layers_SOURCES = tests/fuzz/fuzz_hs_layers.c \
	$(FUZZ_REPLAY)
tests_fuzz_fuzz_hs_layers_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_hs_layers_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_hs_layers
EXTRA_DIST += tests/fuzz/corpus/hs_layers

check_PROGRAMS += tests/fuzz/fuzz_hs_auth
tests_fuzz_fuzz_hs_auth_SOURCES = tests/fuzz/fuzz_hs_auth.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_hs_auth_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_hs_auth_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_hs_auth
EXTRA_DIST += tests/fuzz/corpus/hs_auth

check_PROGRAMS += tests/fuzz/fuzz_hs_cell
tests_fuzz_fuzz_hs_cell_SOURCES = tests/fuzz/fuzz_hs_cell.c $(FUZZ_REPLAY)
tests_fuzz_fuzz_hs_cell_LDADD = $(ONION_CORE_LIBS)
tests_fuzz_fuzz_hs_cell_LDFLAGS = $(FUZZ_LINK_FLAGS)
FUZZ_TESTS += tests/fuzz/fuzz_hs_cell
EXTRA_DIST += tests/fuzz/corpus/hs_cell
