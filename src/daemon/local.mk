# torkitd and its engines.
sbin_PROGRAMS += src/daemon/torkitd
src_daemon_torkitd_SOURCES = \
	src/daemon/main.c \
	src/daemon/conf.c src/daemon/conf.h \
	src/daemon/conf_doc.c src/daemon/conf_doc.h \
	src/daemon/control.c src/daemon/control.h \
	src/daemon/control_session.c src/daemon/control_session.h \
	src/daemon/control_proto.c src/daemon/control_proto.h \
	src/daemon/sdnotify.c src/daemon/sdnotify.h \
	src/daemon/torrc.c src/daemon/torrc.h \
	src/daemon/log.c src/daemon/log.h \
	src/daemon/policy.c src/daemon/policy.h \
	src/daemon/listener.c src/daemon/server.h \
	src/daemon/loops.c src/daemon/loops.h \
	src/daemon/addrcount.c src/daemon/addrcount.h \
	src/daemon/admit.c src/daemon/admit.h \
	src/daemon/session.c src/daemon/session_int.h \
	src/daemon/session_shed.c \
	src/daemon/session_relay.c src/daemon/session_socks.c \
	src/daemon/splice.c src/daemon/splice.h \
	src/daemon/relaybuf.c src/daemon/relaybuf.h \
	src/daemon/relayq.c src/daemon/relayq.h \
	src/daemon/datadir.c src/daemon/datadir.h \
	src/daemon/privs.c src/daemon/privs.h \
	src/daemon/engine.h \
	src/daemon/engine_direct.c \
	src/daemon/engine_tor.c src/daemon/engine_tor_int.h \
	src/daemon/engine_tor_stream.c src/daemon/engine_tor_req.c \
	src/daemon/engine_tor_new.c \
	src/daemon/engine_tor_iso.c src/daemon/engine_tor_config.c \
	src/daemon/dns.c src/daemon/dns.h
src_daemon_torkitd_CPPFLAGS = $(AM_CPPFLAGS) \
	-DTK_SYSCONFDIR='"$(sysconfdir)"' \
	-DTK_LOCALSTATEDIR='"$(localstatedir)"' $(UV_CFLAGS) $(CARES_CFLAGS) \
	$(SODIUM_CFLAGS)
src_daemon_torkitd_LDADD = src/lib/libtorkit.a $(ONION_LINK_LIBS) \
	$(UV_LIBS) $(CARES_LIBS) $(SODIUM_LIBS)

dist_man_MANS += man/torkitd.8 man/torkitd.conf.5
