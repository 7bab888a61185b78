# base: bytes and encodings, crypto wrappers (mbedTLS, libsodium), KDFs.
src_onion_libonion_a_SOURCES += \
	src/onion/base/atomicfile.c \
	src/onion/base/atomicfile.h \
	src/onion/base/bytes.c \
	src/onion/base/bytes.h \
	src/onion/base/crypto.c \
	src/onion/base/crypto.h \
	src/onion/base/kdf.c \
	src/onion/base/kdf.h \
	src/onion/base/keccak.c \
	src/onion/base/keccak.h
