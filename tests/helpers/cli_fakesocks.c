/* cli_fakesocks — a scripted SOCKS peer for the clients' tests: it answers
 * whatever it is told to, so tests can produce replies a correct proxy
 * never sends (truncated, garbage, HTTP, Tor's ATYP-00 errors, F0-F7, a
 * proxy that never answers, one that accepts no connection at all).
 *
 *   cli_fakesocks [-k] [-n conns] [-l log] [-U path] [-F] step...
 *
 * Listens on 127.0.0.1 (port chosen by the kernel) or on the unix socket
 * `path`, prints "port N" (or "unix PATH") on stdout, then serves
 * connections one after another (at most `conns`, default forever), each
 * running the steps:
 *
 *   read     read one complete client message (SOCKS4 request, SOCKS5
 *            methods / user-pass / request, framed by their lengths; any
 *            other first byte: whatever one read() returns)
 *   hex:HH   send these bytes (hex, spaces and '|' ignored)
 *   drip:HH  the same, one byte per write, 5 ms apart, so the client
 *            most likely reads the answer in many small pieces
 *   shut     shutdown(SHUT_WR)
 *   hang     send nothing, read until the client goes away
 *   echo     echo everything back until EOF, then shut the write side
 *   close    close now (also what happens after the last step)
 *
 * Every message read is logged to `log` as one hex line, per connection
 * after a "conn N" line, so tests can check the exact bytes a client sent.
 * -k: serve each connection in a child process, concurrently (with the
 * single step `echo` this is an echo server that honours half-close).
 * -F: listen with a full backlog and never accept, so a client's connect()
 * gets no answer (the connect-timeout test); prints the port all the same.
 * A step "/" separates scripts: connection k runs script k (cycling), so
 * one peer can answer a batch with a success, a failure and silence.
 * No step waits more than 60 s for the client: a broken test fails, it
 * does not hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#define WAIT_MS 60000

static FILE *logfp;
static int methods_seen;

static void
die(const char *what)
{
	fprintf(stderr, "cli_fakesocks: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Reads exactly n bytes; 0 on success, -1 on EOF/error/timeout. */
static int
read_n(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&pfd, 1, WAIT_MS) <= 0)
			return -1;
		r = read(fd, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int
read_until_nul(int fd, uint8_t *buf, size_t *len, size_t cap)
{
	do {
		if (*len >= cap || read_n(fd, buf + *len, 1) < 0)
			return -1;
		(*len)++;
	} while (buf[*len - 1] != 0);
	return 0;
}

static void
log_msg(const uint8_t *b, size_t n)
{
	size_t i;

	if (!logfp)
		return;
	for (i = 0; i < n; i++)
		fprintf(logfp, "%s%02x", i ? " " : "", b[i]);
	fputc('\n', logfp);
	fflush(logfp);
}

/* One client message, framed by the SOCKS rules. */
static int
read_msg(int fd)
{
	uint8_t b[2048];
	size_t len = 0, need;

	if (read_n(fd, b, 1) < 0)
		goto eof;
	len = 1;
	if (b[0] == 4) {
		if (read_n(fd, b + 1, 7) < 0)
			goto eof;
		len = 8;
		if (read_until_nul(fd, b, &len, sizeof(b)) < 0)
			goto eof;
		if (b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] != 0 &&
		    read_until_nul(fd, b, &len, sizeof(b)) < 0)
			goto eof;
	} else if (b[0] == 5 && !methods_seen) {
		if (read_n(fd, b + 1, 1) < 0 || read_n(fd, b + 2, b[1]) < 0)
			goto eof;
		len = 2 + (size_t)b[1];
		methods_seen = 1;
	} else if (b[0] == 5) {
		if (read_n(fd, b + 1, 3) < 0)
			goto eof;
		len = 4;
		if (b[3] == 1)
			need = 4 + 2;
		else if (b[3] == 4)
			need = 16 + 2;
		else if (b[3] == 3) {
			if (read_n(fd, b + 4, 1) < 0)
				goto eof;
			len = 5;
			need = (size_t)b[4] + 2;
		} else
			need = 0;
		if (read_n(fd, b + len, need) < 0)
			goto eof;
		len += need;
	} else if (b[0] == 1) {
		if (read_n(fd, b + 1, 1) < 0 || read_n(fd, b + 2, b[1]) < 0)
			goto eof;
		len = 2 + (size_t)b[1];
		if (read_n(fd, b + len, 1) < 0 ||
		    read_n(fd, b + len + 1, b[len]) < 0)
			goto eof;
		len += 1 + (size_t)b[len];
	} else {
		ssize_t r = read(fd, b + 1, sizeof(b) - 1);
		if (r > 0)
			len += (size_t)r;
	}
	log_msg(b, len);
	return 0;
eof:
	log_msg(b, len);
	if (logfp) {
		fputs("eof\n", logfp);
		fflush(logfp);
	}
	return -1;
}

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			if (n < cap)
				out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

static void
write_all(int fd, const uint8_t *b, size_t n)
{
	while (n) {
		ssize_t r = write(fd, b, n);
		if (r <= 0)
			return;
		b += r;
		n -= (size_t)r;
	}
}

static void
serve(int fd, int nsteps, char **steps)
{
	uint8_t buf[65536];
	int i;

	methods_seen = 0;
	for (i = 0; i < nsteps; i++) {
		const char *st = steps[i];

		if (strcmp(st, "read") == 0) {
			if (read_msg(fd) < 0)
				return;
		} else if (strncmp(st, "hex:", 4) == 0) {
			size_t n = unhex(st + 4, buf, sizeof(buf));
			write_all(fd, buf, n);
		} else if (strncmp(st, "drip:", 5) == 0) {
			size_t n = unhex(st + 5, buf, sizeof(buf)), k;
			struct timespec gap = {0, 5000000};
			for (k = 0; k < n; k++) {
				write_all(fd, buf + k, 1);
				nanosleep(&gap, NULL);
			}
		} else if (strcmp(st, "shut") == 0) {
			shutdown(fd, SHUT_WR);
		} else if (strcmp(st, "hang") == 0) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			while (poll(&pfd, 1, WAIT_MS) > 0 &&
			       read(fd, buf, sizeof(buf)) > 0)
				;
			return;
		} else if (strcmp(st, "echo") == 0) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			ssize_t r;
			while (poll(&pfd, 1, WAIT_MS) > 0 &&
			       (r = read(fd, buf, sizeof(buf))) > 0)
				write_all(fd, buf, (size_t)r);
			shutdown(fd, SHUT_WR);
		} else if (strcmp(st, "close") == 0) {
			return;
		} else {
			fprintf(stderr, "cli_fakesocks: unknown step %s\n", st);
			exit(2);
		}
	}
}

int
main(int argc, char **argv)
{
	const char *unix_path = NULL, *log_path = NULL;
	long conns = -1, served = 0;
	int c, lfd, full = 0, one = 1, forking = 0;

	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt(argc, argv, "kn:l:U:F")) != -1) {
		switch (c) {
		case 'n':
			conns = strtol(optarg, NULL, 10);
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'U':
			unix_path = optarg;
			break;
		case 'F':
			full = 1;
			break;
		case 'k':
			forking = 1;
			signal(SIGCHLD, SIG_IGN); /* no zombies */
			break;
		default:
			fputs("usage: cli_fakesocks [-k] [-n conns] [-l log] "
			      "[-U path] [-F] step...\n", stderr);
			return 2;
		}
	}
	if (log_path && !(logfp = fopen(log_path, "a")))
		die(log_path);

	if (unix_path) {
		struct sockaddr_un sun;
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", unix_path);
		unlink(unix_path);
		lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun,
				    sizeof(sun)) < 0)
			die("bind");
		if (listen(lfd, 16) < 0)
			die("listen");
		printf("unix %s\n", unix_path);
	} else {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin,
				    sizeof(sin)) < 0)
			die("bind");
		if (listen(lfd, full ? 0 : 64) < 0)
			die("listen");
		getsockname(lfd, (struct sockaddr *)&sin, &sl);
		if (full) {
			/* Fill the accept queue with connections nobody
			 * accepts; later SYNs are dropped, so connect() to
			 * this port just waits. */
			int i;
			for (i = 0; i < 4; i++) {
				int s = socket(AF_INET, SOCK_STREAM, 0);
				fcntl(s, F_SETFL, O_NONBLOCK);
				connect(s, (struct sockaddr *)&sin,
					sizeof(sin));
			}
		}
		printf("port %u\n", (unsigned)ntohs(sin.sin_port));
	}
	fflush(stdout);
	if (full) {
		for (;;)
			pause();
	}
	while (conns < 0 || served < conns) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		served++;
		if (logfp) {
			fprintf(logfp, "conn %ld\n", served);
			fflush(logfp);
		}
		{
			/* Pick script number (served-1) mod nscripts. */
			int first = optind, k = 0, want, j, nscripts = 1;
			for (j = optind; j < argc; j++)
				if (strcmp(argv[j], "/") == 0)
					nscripts++;
			want = (int)((served - 1) % nscripts);
			for (j = optind; j < argc && k < want; j++)
				if (strcmp(argv[j], "/") == 0) {
					k++;
					first = j + 1;
				}
			for (j = first; j < argc && strcmp(argv[j], "/"); j++)
				;
			if (forking) {
				pid_t pid = fork();
				if (pid == 0) {
					close(lfd);
					serve(fd, j - first, argv + first);
					_exit(0);
				}
			} else {
				serve(fd, j - first, argv + first);
			}
		}
		close(fd);
	}
	if (unix_path)
		unlink(unix_path);
	return 0;
}
