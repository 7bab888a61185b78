# hs: the onion-service client's pure machinery: addresses, key blinding,
# time periods and the HSDir ring, descriptors and their cache, hs-ntor,
# the rendezvous-protocol cells, client authorization keys. No network.
src_onion_libonion_a_SOURCES += \
	src/onion/hs/hs_addr.c \
	src/onion/hs/hs_addr.h \
	src/onion/hs/hs_auth.c \
	src/onion/hs/hs_auth.h \
	src/onion/hs/hs_cache.c \
	src/onion/hs/hs_cache.h \
	src/onion/hs/hs_cell.c \
	src/onion/hs/hs_cell.h \
	src/onion/hs/hs_crypto.c \
	src/onion/hs/hs_crypto.h \
	src/onion/hs/hs_desc_decode.c \
	src/onion/hs/hs_desc.h \
	src/onion/hs/hs_desc_inner.c \
	src/onion/hs/hs_desc_int.h \
	src/onion/hs/hs_desc_layer.c \
	src/onion/hs/hs_desc_outer.c \
	src/onion/hs/hs_ipfail.c \
	src/onion/hs/hs_ipfail.h \
	src/onion/hs/hs_keys.c \
	src/onion/hs/hs_keys.h \
	src/onion/hs/hs_linkspec.c \
	src/onion/hs/hs_linkspec.h \
	src/onion/hs/hs_ntor.c \
	src/onion/hs/hs_ntor.h \
	src/onion/hs/hs_period.c \
	src/onion/hs/hs_period.h \
	src/onion/hs/hs_ring.c \
	src/onion/hs/hs_ring.h
