/* daemon_echo — a tiny TCP target for torkitd's tests, loopback only.
 *
 *   daemon_echo echo            echo every byte; on the client's EOF,
 *                               finish echoing, then close (a proper
 *                               half-close peer, unlike ncat --exec)
 *   daemon_echo banner TEXT OUT send TEXT, shut our write side at once,
 *                               keep reading until EOF and save what came
 *                               to OUT (proves client->target still flows
 *                               after the target's EOF)
 *   daemon_echo source BYTES    send BYTES bytes of a pattern, then close
 *   daemon_echo once            echo the first read, then close first
 *                               (benchmarks: TIME_WAIT stays on our port)
 *   daemon_echo sink            read and discard until EOF
 *   daemon_echo hold            read until the client's EOF, then keep
 *                               the connection open (never answer, never
 *                               close) until this server is stopped
 *   daemon_echo stall           accept and never read (a small receive
 *                               buffer), until the client hangs up or
 *                               this server is stopped
 *
 * Listens on 127.0.0.1, an ephemeral port, and prints "PORT\n" on stdout
 * once listening. One process per connection (fork). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
serve(int c, int argc, char **argv)
{
	static char buf[65536];
	ssize_t n;

	if (strcmp(argv[1], "echo") == 0) {
		while ((n = read(c, buf, sizeof(buf))) > 0)
			if (write_all(c, buf, (size_t)n) < 0)
				break;
		shutdown(c, SHUT_WR);
	} else if (strcmp(argv[1], "banner") == 0 && argc >= 4) {
		FILE *out;

		write_all(c, argv[2], strlen(argv[2]));
		shutdown(c, SHUT_WR);
		out = fopen(argv[3], "w");
		if (out == NULL)
			_exit(1);
		while ((n = read(c, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)n, out);
		fclose(out);
	} else if (strcmp(argv[1], "once") == 0) {
		n = read(c, buf, sizeof(buf));
		if (n > 0)
			write_all(c, buf, (size_t)n);
	} else if (strcmp(argv[1], "hold") == 0) {
		while (read(c, buf, sizeof(buf)) > 0)
			;
		sleep(60); /* killed with the server (PR_SET_PDEATHSIG) */
	} else if (strcmp(argv[1], "stall") == 0) {
		struct pollfd p = { .fd = c, .events = POLLRDHUP };

		poll(&p, 1, 60000);
	} else if (strcmp(argv[1], "sink") == 0) {
		while (read(c, buf, sizeof(buf)) > 0)
			;
	} else if (strcmp(argv[1], "source") == 0 && argc >= 3) {
		unsigned long long left = strtoull(argv[2], NULL, 10);

		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (char)('a' + i % 26);
		while (left > 0) {
			size_t k = left < sizeof(buf) ? (size_t)left :
				   sizeof(buf);

			if (write_all(c, buf, k) < 0)
				break;
			left -= k;
		}
	}
	close(c);
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s, one = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: daemon_echo echo|once|sink|"
			"hold|stall|banner TEXT OUT|source BYTES\n");
		return 2;
	}
	signal(SIGCHLD, SIG_IGN);	/* no zombies */
	s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (strcmp(argv[1], "stall") == 0) {
		int small = 4096; /* the kernel absorbs little for us */

		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(s, 128) < 0 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) < 0) {
		perror("daemon_echo");
		return 1;
	}
	printf("%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			return 1;
		}
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL); /* go with us */
			close(s);
			serve(c, argc, argv);
		}
		close(c);
	}
}
