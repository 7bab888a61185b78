# libonion: TLS link, channel, circuits, directory client.
src_onion_libonion_a_SOURCES += \
	src/onion/tls.c src/onion/tls.h src/onion/tls_engine.h \
	src/onion/tls_mbedtls.c \
	src/onion/channel.c src/onion/channel.h \
	src/onion/chanmgr.c src/onion/chanmgr.h \
	src/onion/circuit.c src/onion/circuit.h \
	src/onion/dirhttp.c src/onion/dirhttp.h \
	src/onion/dirclient.c src/onion/dirclient.h \
	src/onion/dirauth.c src/onion/dirauth.h
src_onion_libonion_a_CFLAGS += $(UV_CFLAGS)

# Link line for anything using the link layer (TLS over libuv, zlib for
# deflated directory responses: Debian zlib1g-dev).
ONION_LINK_LIBS = $(ONION_CORE_LIBS) $(UV_LIBS) -lz

# Developer tool: handshake summary and one-hop directory fetches.
noinst_PROGRAMS += tools/tkonion
tools_tkonion_SOURCES = tools/tkonion.c
tools_tkonion_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
tools_tkonion_LDADD = $(ONION_LINK_LIBS)
