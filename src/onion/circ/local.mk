# circ: circuits, their handshakes and crypto, flow control, and the
# stream table of one circuit. Nothing about paths or the directory.
src_onion_libonion_a_SOURCES += \
	src/onion/circ/circuit.c \
	src/onion/circ/circuit.h \
	src/onion/circ/congestion.c \
	src/onion/circ/congestion.h \
	src/onion/circ/ntor.c \
	src/onion/circ/ntor.h \
	src/onion/circ/ntor_v3.c \
	src/onion/circ/ntor_v3.h \
	src/onion/circ/relay_crypto.c \
	src/onion/circ/relay_crypto.h \
	src/onion/circ/flowctl.c \
	src/onion/circ/flowctl.h \
	src/onion/circ/stream.c \
	src/onion/circ/stream.h \
	src/onion/circ/stream_int.h \
	src/onion/circ/stream_deliver.c
