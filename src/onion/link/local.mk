# link: TLS (behind tls_engine.h), channels to relays, the channel manager.
# configure --with-tls picks the TLS library: OpenSSL (default) or mbedTLS.
src_onion_libonion_a_SOURCES += \
	src/onion/link/tls.c \
	src/onion/link/tls.h \
	src/onion/link/tls_engine.h \
	src/onion/link/tls_err.h \
	src/onion/link/padding.c \
	src/onion/link/padding.h \
	src/onion/link/channel.c \
	src/onion/link/channel.h \
	src/onion/link/channel_clock.c \
	src/onion/link/channel_clock.h \
	src/onion/link/channel_hello.c \
	src/onion/link/channel_hello.h \
	src/onion/link/chanmgr.c \
	src/onion/link/chanmgr.h
if TLS_OPENSSL
src_onion_libonion_a_SOURCES += src/onion/link/tls_openssl.c
else
src_onion_libonion_a_SOURCES += src/onion/link/tls_mbedtls.c
endif
