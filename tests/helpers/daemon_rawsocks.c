/* daemon_rawsocks — send raw bytes to a SOCKS port, print what comes back.
 *
 *   daemon_rawsocks [-1] [-W] [-t SECS] [-x N [-p USEC]] PORT HEX [HEX ...]
 *
 * Connects to 127.0.0.1:PORT, writes each HEX argument ("05 01 00" or
 * "050100") with one write(2) — or one byte per write with -1, pausing
 * briefly so the bytes arrive in separate segments — then with -W shuts
 * its write side. Reads until the server closes (or SECS, default 10) and
 * prints the bytes as lowercase hex pairs separated by spaces, then
 * "EOF", "RESET" or "TIMEOUT" on a line of its own. Exit 0; 2 on usage or
 * connect errors. -x N: after the HEX arguments, trickle N bytes 'x', one
 * per write, USEC microseconds apart (default 1000), so each arrives in a
 * segment of its own. */
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

static int
unhex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (*s == ' ' || *s == ':')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			return -1;
		if (hi < 0)
			hi = v;
		else {
			if (n == cap)
				return -1;
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	return hi < 0 ? (int)n : -1;
}

int
main(int argc, char **argv)
{
	static unsigned char buf[65536];
	struct sockaddr_in sin;
	int one_byte = 0, shut = 0, secs = 10, opt, s, first = 1;
	long trickle = 0, usec = 1000;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	const char *end = "TIMEOUT";
	time_t deadline;

	while ((opt = getopt(argc, argv, "1Wt:x:p:")) != -1) {
		switch (opt) {
		case '1': one_byte = 1; break;
		case 'x': trickle = atol(optarg); break;
		case 'p': usec = atol(optarg); break;
		case 'W': shut = 1; break;
		case 't': secs = atoi(optarg); break;
		default: return 2;
		}
	}
	if (optind >= argc)
		return 2;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[optind++]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("daemon_rawsocks: connect");
		return 2;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	for (; optind < argc; optind++) {
		int n = unhex(argv[optind], buf, sizeof(buf));

		if (n < 0) {
			fprintf(stderr, "daemon_rawsocks: bad hex \"%s\"\n",
				argv[optind]);
			return 2;
		}
		for (int i = 0; i < n; i += one_byte ? 1 : n) {
			size_t k = one_byte ? 1 : (size_t)n;

			if (write(s, buf + i, k) < 0)
				break;
			if (one_byte)
				nanosleep(&pause, NULL);
		}
	}
	for (long i = 0; i < trickle; i++) {
		struct timespec t = { usec / 1000000, (usec % 1000000) * 1000 };

		if (write(s, "x", 1) < 0)
			break;
		nanosleep(&t, NULL);
	}
	if (shut)
		shutdown(s, SHUT_WR);
	deadline = time(NULL) + secs;
	for (;;) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		int left = (int)(deadline - time(NULL));
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left * 1000) <= 0)
			break;
		n = read(s, buf, sizeof(buf));
		if (n == 0) {
			end = "EOF";
			break;
		}
		if (n < 0) {
			end = errno == ECONNRESET ? "RESET" : "ERROR";
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			printf(first ? "%02x" : " %02x", buf[i]);
			first = 0;
		}
	}
	printf("%s%s\n", first ? "" : "\n", end);
	return 0;
}
