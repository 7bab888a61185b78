# relay messages, flow control, streams (H8).
src_onion_libonion_a_SOURCES += \
	src/onion/relay_msg.c src/onion/relay_msg.h \
	src/onion/flowctl.c src/onion/flowctl.h \
	src/onion/stream.c src/onion/stream.h
