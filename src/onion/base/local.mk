# base: bytes and encodings, crypto wrappers (mbedTLS, libsodium), KDFs,
# Keccak (SHA3-256, SHAKE-256), which mbedTLS 2.28 lacks, and SHA-256 on
# the x86 SHA instructions; ln and exp without libm (fmath); one formatted
# line to a log callback (logf); a timeout decided after the loop's
# next poll (deadline: libuv, the only I/O piece here).
src_onion_libonion_a_SOURCES += \
	src/onion/base/atomicfile.c \
	src/onion/base/atomicfile.h \
	src/onion/base/bytes.c \
	src/onion/base/bytes.h \
	src/onion/base/crypto.c \
	src/onion/base/crypto.h \
	src/onion/base/deadline.c \
	src/onion/base/deadline.h \
	src/onion/base/fmath.c \
	src/onion/base/fmath.h \
	src/onion/base/kdf.c \
	src/onion/base/kdf.h \
	src/onion/base/keccak.c \
	src/onion/base/keccak.h \
	src/onion/base/logf.c \
	src/onion/base/logf.h \
	src/onion/base/sha256_hw.c \
	src/onion/base/sha256_hw.h
