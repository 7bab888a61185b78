# What `make install` puts beside the programs: bash completions and the
# systemd unit. Both directories may be overridden on make's command line
# (the Debian package puts the unit in /lib/systemd/system).
bashcompdir = $(datadir)/bash-completion/completions
systemdsystemunitdir = $(prefix)/lib/systemd/system
systemdsystemunit_DATA = contrib/systemd/torkitd.service
CLEANFILES += contrib/systemd/torkitd.service
EXTRA_DIST += contrib/bash-completion/torkit contrib/systemd/torkitd.service.in

contrib/systemd/torkitd.service: contrib/systemd/torkitd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib/systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    '$(srcdir)/contrib/systemd/torkitd.service.in' >$@.tmp && \
	mv $@.tmp $@

# One completion file, named for torkitd and linked under the clients'
# names: bash-completion loads a command's file by the command's name.
TK_COMPLETED = tor-resolve tor-ptr tor-connect
install-data-local:
	$(MKDIR_P) '$(DESTDIR)$(bashcompdir)'
	$(INSTALL_DATA) '$(srcdir)/contrib/bash-completion/torkit' \
		'$(DESTDIR)$(bashcompdir)/torkitd'
	for p in $(TK_COMPLETED); do \
		rm -f "$(DESTDIR)$(bashcompdir)/$$p" && \
		$(LN_S) torkitd "$(DESTDIR)$(bashcompdir)/$$p" || exit 1; \
	done

uninstall-local:
	for p in torkitd $(TK_COMPLETED); do \
		rm -f "$(DESTDIR)$(bashcompdir)/$$p"; \
	done
