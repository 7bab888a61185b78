# client: the circuit manager, streams for requests, and the engine
# behind onion.h.
src_onion_libonion_a_SOURCES += \
	src/onion/client/circmgr.c \
	src/onion/client/circmgr.h \
	src/onion/client/circmgr_int.h \
	src/onion/client/circmgr_tp.c \
	src/onion/client/ostream.c \
	src/onion/client/ostream.h \
	src/onion/client/onion.c
