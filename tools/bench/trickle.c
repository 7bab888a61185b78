/* trickle — clients that send one byte per segment into targets that do
 * not read, for tools/bench/trickle-bench. Loopback only.
 *
 *   trickle -S -p PORT           the target: accept, never read (a 4 KiB
 *                                receive buffer), hold every connection
 *   trickle -p TARGET -x PROXY [-c CLIENTS] [-s SECONDS] [-i MS]
 *                                CLIENTS SOCKS5 CONNECTs to the target
 *                                through the proxy, then each sends one
 *                                byte every MS ms (TCP_NODELAY) for
 *                                SECONDS; prints "sent BYTES" */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in
lo(int port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	return sin;
}

static int
serve(int port)
{
	struct sockaddr_in sin = lo(port);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1, small = 4096;

	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(l, 4096) < 0) {
		perror("trickle: listen");
		return 1;
	}
	for (;;)
		if (accept(l, NULL, NULL) < 0 && errno != EINTR &&
		    errno != EMFILE)
			return 1; /* the connections stay open, unread */
}

static int
read_n(int fd, unsigned char *b, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, b, n);

		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
socks_connect(int proxy, int target)
{
	struct sockaddr_in sin = lo(proxy);
	unsigned char req[10] = { 5, 1, 0, 1, 127, 0, 0, 1,
				  (unsigned char)(target >> 8),
				  (unsigned char)target },
		      r[10];
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    write(fd, "\x05\x01\x00", 3) != 3 || read_n(fd, r, 2) < 0 ||
	    r[1] != 0 || write(fd, req, sizeof(req)) != sizeof(req) ||
	    read_n(fd, r, 10) < 0 || r[1] != 0) {
		fprintf(stderr, "trickle: SOCKS CONNECT through %d failed\n",
			proxy);
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int
main(int argc, char **argv)
{
	int opt, port = 0, proxy = 0, clients = 50, secs = 30, ms = 2, srv = 0;
	unsigned long long sent = 0;
	struct timespec t0, now;
	int *fds;

	while ((opt = getopt(argc, argv, "Sp:x:c:s:i:")) != -1) {
		switch (opt) {
		case 'S': srv = 1; break;
		case 'p': port = atoi(optarg); break;
		case 'x': proxy = atoi(optarg); break;
		case 'c': clients = atoi(optarg); break;
		case 's': secs = atoi(optarg); break;
		case 'i': ms = atoi(optarg); break;
		default: return 2;
		}
	}
	if (port <= 0)
		return 2;
	if (srv)
		return serve(port);
	fds = calloc((size_t)clients, sizeof(*fds));
	for (int i = 0; i < clients; i++)
		fds[i] = socks_connect(proxy, port);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };

		for (int i = 0; i < clients; i++)
			if (send(fds[i], "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) ==
			    1)
				sent++;
		nanosleep(&pause, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - t0.tv_sec < secs);
	printf("sent %llu\n", sent);
	return 0;
}
