/* sdnotify.h — telling systemd how the daemon is (sd_notify(3)'s
 * protocol: one datagram of "KEY=value" lines to $NOTIFY_SOCKET), so
 * torkitd.service can be Type=notify without linking libsystemd. */
#ifndef TK_DAEMON_SDNOTIFY_H
#define TK_DAEMON_SDNOTIFY_H

/* Reads and unsets NOTIFY_SOCKET (children must not notify for us) and
 * opens the socket; call once, early. 0 also when there is none. */
int tk_sd_init(void);

/* Sends text ("READY=1\nSTATUS=...") when systemd listens; does nothing
 * otherwise. 0, or -1 with errno (the caller logs it). */
int tk_sd_notify(const char *text);

/* Whether systemd asked for notifications (NOTIFY_SOCKET was set). */
int tk_sd_enabled(void);

void tk_sd_close(void);

#endif
