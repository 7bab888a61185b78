/* sdnotify.c — see sdnotify.h.
 *
 * The protocol is a single AF_UNIX datagram per message. NOTIFY_SOCKET
 * names the socket: a path ("/run/systemd/notify"), or an abstract name
 * when it starts with '@' (the '@' stands for the leading NUL byte). The
 * socket is opened before torkitd drops to its User, and the address is
 * kept, so notifications still go out afterwards (systemd's socket
 * accepts datagrams from anyone; NotifyAccess= decides whose count). */
#include "daemon/sdnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int sd_fd = -1;
static struct sockaddr_un sd_addr;
static socklen_t sd_addrlen;

int
tk_sd_init(void)
{
	const char *e = getenv("NOTIFY_SOCKET");
	size_t len;

	if (sd_fd >= 0 || e == NULL || e[0] == '\0')
		return 0;
	len = strlen(e);
	if ((e[0] != '/' && e[0] != '@') || len >= sizeof(sd_addr.sun_path)) {
		errno = EINVAL;
		unsetenv("NOTIFY_SOCKET");
		return -1;
	}
	memset(&sd_addr, 0, sizeof(sd_addr));
	sd_addr.sun_family = AF_UNIX;
	memcpy(sd_addr.sun_path, e, len);
	if (e[0] == '@')
		sd_addr.sun_path[0] = '\0';
	/* An abstract name is exactly its bytes: no trailing NUL counted. */
	sd_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				 (e[0] == '@' ? 0 : 1));
	unsetenv("NOTIFY_SOCKET");
	sd_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return sd_fd < 0 ? -1 : 0;
}

int
tk_sd_enabled(void)
{
	return sd_fd >= 0;
}

int
tk_sd_notify(const char *text)
{
	ssize_t n;

	if (sd_fd < 0)
		return 0;
	do
		n = sendto(sd_fd, text, strlen(text), MSG_NOSIGNAL,
			   (const struct sockaddr *)&sd_addr, sd_addrlen);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : 0;
}

void
tk_sd_close(void)
{
	if (sd_fd >= 0)
		close(sd_fd);
	sd_fd = -1;
}
