# cell: fixed and variable cells, relay messages, CERTS cells: codecs only.
src_onion_libonion_a_SOURCES += \
	src/onion/cell/cell.c \
	src/onion/cell/cell.h \
	src/onion/cell/relay_msg.c \
	src/onion/cell/relay_msg.h \
	src/onion/cell/certs.c \
	src/onion/cell/certs.h
