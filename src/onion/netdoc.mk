# libonion: directory documents (netdoc) and their checks.
src_onion_libonion_a_SOURCES += \
	src/onion/netdoc.c src/onion/netdoc.h \
	src/onion/policy_summary.c src/onion/policy_summary.h \
	src/onion/microdesc.c src/onion/microdesc.h \
	src/onion/authcert.c src/onion/authcert.h \
	src/onion/consensus.c src/onion/consensus.h \
	src/onion/consensus_verify.c
src_onion_libonion_a_SOURCES += src/onion/path.c src/onion/path.h \
	src/onion/path_nodes.c
