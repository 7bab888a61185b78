# libonion: the Tor client engine (no SOCKS here).
# This fragment defines the library with its core: bytes, crypto wrappers,
# cells, CERTS validation, circuit handshakes and relay crypto. link.mk and
# netdoc.mk append their sources with +=.
noinst_LIBRARIES += src/onion/libonion.a
src_onion_libonion_a_SOURCES = \
	src/onion/bytes.c src/onion/bytes.h \
	src/onion/crypto.c src/onion/crypto.h \
	src/onion/cell.c src/onion/cell.h \
	src/onion/kdf.c src/onion/kdf.h \
	src/onion/ntor.c src/onion/ntor.h \
	src/onion/relay_crypto.c src/onion/relay_crypto.h \
	src/onion/certs.c src/onion/certs.h
src_onion_libonion_a_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)

# Link line for anything using libonion's core.
ONION_CORE_LIBS = src/onion/libonion.a $(SODIUM_LIBS) $(MBEDTLS_LIBS)
