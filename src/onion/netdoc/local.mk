# netdoc: directory documents, consensus diffs, subprotocol lists and
# torrc DirAuthority/FallbackDir lines: pure parsers and signature
# checks, no I/O.
src_onion_libonion_a_SOURCES += \
	src/onion/netdoc/netdoc.c \
	src/onion/netdoc/netdoc.h \
	src/onion/netdoc/authcert.c \
	src/onion/netdoc/authcert.h \
	src/onion/netdoc/consensus.c \
	src/onion/netdoc/consensus.h \
	src/onion/netdoc/consensus_verify.c \
	src/onion/netdoc/microdesc.c \
	src/onion/netdoc/microdesc.h \
	src/onion/netdoc/policy_summary.c \
	src/onion/netdoc/policy_summary.h \
	src/onion/netdoc/dirauth.c \
	src/onion/netdoc/dirauth.h \
	src/onion/netdoc/consdiff.c \
	src/onion/netdoc/consdiff.h \
	src/onion/netdoc/protoset.c \
	src/onion/netdoc/protoset.h \
	src/onion/netdoc/protover.c \
	src/onion/netdoc/protover.h
