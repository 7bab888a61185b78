# libonion: the Tor client engine. One library, one folder per layer; each
# folder's local.mk appends its sources. src/layers says which layer may
# include which, and tools/layers checks it in `make check`.
# onion.h is the engine's only door: the daemon includes nothing else.
noinst_LIBRARIES += src/onion/libonion.a
src_onion_libonion_a_SOURCES = src/onion/onion.h
src_onion_libonion_a_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(UV_CFLAGS) \
	$(OPENSSL_CFLAGS)

# Link lines: the core needs libsodium and mbedTLS; anything that does
# I/O (link layer and up) needs libuv and zlib (deflated directory
# answers) too, and OpenSSL when configure chose it for TLS. Not libm:
# the build-timeout fit has its own ln and exp (base/fmath.h says why).
ONION_CORE_LIBS = src/onion/libonion.a $(SODIUM_LIBS) $(MBEDTLS_LIBS) \
	$(OPENSSL_LIBS)
ONION_LINK_LIBS = $(ONION_CORE_LIBS) $(UV_LIBS) -lz

include src/onion/base/local.mk
include src/onion/cell/local.mk
include src/onion/link/local.mk
include src/onion/circ/local.mk
include src/onion/netdoc/local.mk
include src/onion/netdir/local.mk
include src/onion/dir/local.mk
include src/onion/guard/local.mk
include src/onion/hs/local.mk
include src/onion/client/local.mk
