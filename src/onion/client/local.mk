# client: the circuit manager (circuits for clients; the transport over
# channels apart), the streams that requests open over its circuits, and
# the engine behind the facade ../onion.h.
src_onion_libonion_a_SOURCES += \
	src/onion/client/begin_flags.c \
	src/onion/client/begin_flags.h \
	src/onion/client/cbt.c \
	src/onion/client/cbt.h \
	src/onion/client/circ_pool.c \
	src/onion/client/circ_pool.h \
	src/onion/client/circmgr.c \
	src/onion/client/circmgr.h \
	src/onion/client/circmgr_adopt.c \
	src/onion/client/circmgr_build.c \
	src/onion/client/circmgr_int.h \
	src/onion/client/circmgr_new.c \
	src/onion/client/circmgr_req.c \
	src/onion/client/circmgr_table.c \
	src/onion/client/hop.c src/onion/client/hop.h \
	src/onion/client/hs_client.c \
	src/onion/client/hs_client.h \
	src/onion/client/hs_client_int.h \
	src/onion/client/hs_client_config.h \
	src/onion/client/hs_client_desc.c \
	src/onion/client/hs_client_desc.h \
	src/onion/client/hs_client_intro.c \
	src/onion/client/hs_client_intro.h \
	src/onion/client/hs_client_rend.c \
	src/onion/client/hs_client_rend.h \
	src/onion/client/hs_client_svc.c \
	src/onion/client/hs_client_svc.h \
	src/onion/client/hs_fetch.c \
	src/onion/client/hs_fetch.h \
	src/onion/client/ocirc.h \
	src/onion/client/ocirc_chan.c \
	src/onion/client/portpred.c \
	src/onion/client/portpred.h \
	src/onion/client/statefile.c \
	src/onion/client/statefile.h \
	src/onion/client/streams.c \
	src/onion/client/streams.h \
	src/onion/client/streams_int.h \
	src/onion/client/streams_io.c \
	src/onion/client/streams_req.c \
	src/onion/client/onion.c
