# base: bytes and encodings, crypto wrappers (mbedTLS, libsodium), KDFs,
# and Keccak (SHA3-256, SHAKE-256), which mbedTLS 2.28 lacks.
src_onion_libonion_a_SOURCES += \
	src/onion/base/bytes.c \
	src/onion/base/bytes.h \
	src/onion/base/crypto.c \
	src/onion/base/crypto.h \
	src/onion/base/kdf.c \
	src/onion/base/kdf.h \
	src/onion/base/keccak.c \
	src/onion/base/keccak.h
