/* tornet_preload.so: an LD_PRELOAD library for the tor relays of
 * tools/tornet (never for anything of ours).
 *
 * TORNET_TLS_MIN=1.3   every SSL object the relay makes requires TLS 1.3
 *                      (SSL_new wrapped; tor has no option for it, and
 *                      its OpenSSL ignores OPENSSL_CONF's MinProtocol
 *                      because tor sets its own minimum).
 * TORNET_CELL_LOG=FILE the relay's view of the link: every cell it reads
 *                      on a TLS connection, except RELAY and RELAY_EARLY,
 *                      is appended to FILE as
 *                        <unix ms> <peer ip:port> <command>
 *                      (SSL_read wrapped: the plaintext is framed into
 *                      cells per connection, as the link protocol says).
 *
 * Built by make without OpenSSL headers: the few OpenSSL calls are taken
 * with dlsym() and declared here, so the library works with whatever
 * libssl tor loaded. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

/* The functions we stand in for, as OpenSSL declares them. */
SSL *SSL_new(SSL_CTX *ctx);
int SSL_read(SSL *ssl, void *buf, int num);
void SSL_free(SSL *ssl);

#define SSL_CTRL_SET_MIN_PROTO_VERSION 123 /* openssl/ssl.h */
#define TLS1_3_VERSION 0x0304

/* ---- TLS 1.3 only */

SSL *
SSL_new(SSL_CTX *ctx)
{
	static SSL *(*real)(SSL_CTX *);
	static long (*ctrl)(SSL *, int, long, void *);
	const char *min = getenv("TORNET_TLS_MIN");
	SSL *s;
	if (!real)
		real = (SSL * (*)(SSL_CTX *)) dlsym(RTLD_NEXT, "SSL_new");
	if (!real)
		return NULL;
	s = real(ctx);
	if (s && min && strcmp(min, "1.3") == 0) {
		if (!ctrl)
			ctrl = (long (*)(SSL *, int, long, void *))dlsym(
				RTLD_NEXT, "SSL_ctrl");
		if (!ctrl || ctrl(s, SSL_CTRL_SET_MIN_PROTO_VERSION,
				  TLS1_3_VERSION, NULL) != 1) {
			/* refuse rather than run a relay that is not what
			 * the test network claims */
			fprintf(stderr, "tornet_preload: cannot require TLS "
					"1.3\n");
			abort();
		}
	}
	return s;
}

/* ---- the cell log */

#define MAX_CONNS 512

/* Where one connection's plaintext stands. */
struct conn {
	SSL *ssl;
	int versions_seen; /* after VERSIONS: 4-byte circuit ids */
	int wide;
	uint8_t hdr[7];
	size_t hdr_len, hdr_want;
	size_t skip; /* payload bytes left of the current cell */
	char peer[64];
};

static struct conn conns[MAX_CONNS];
static int log_fd = -2; /* -2: not opened yet, -1: no log */

static const char *
cmd_name(uint8_t c)
{
	switch (c) {
	case 0:
		return "PADDING";
	case 1:
		return "CREATE";
	case 2:
		return "CREATED";
	case 4:
		return "DESTROY";
	case 5:
		return "CREATE_FAST";
	case 6:
		return "CREATED_FAST";
	case 7:
		return "VERSIONS";
	case 8:
		return "NETINFO";
	case 10:
		return "CREATE2";
	case 11:
		return "CREATED2";
	case 12:
		return "PADDING_NEGOTIATE";
	case 128:
		return "VPADDING";
	case 129:
		return "CERTS";
	case 130:
		return "AUTH_CHALLENGE";
	case 131:
		return "AUTHENTICATE";
	case 132:
		return "AUTHORIZE";
	default:
		return NULL;
	}
}

static struct conn *
conn_of(SSL *ssl, int make)
{
	struct conn *free_slot = NULL;
	for (int i = 0; i < MAX_CONNS; i++) {
		if (conns[i].ssl == ssl)
			return &conns[i];
		if (!conns[i].ssl && !free_slot)
			free_slot = &conns[i];
	}
	if (!make || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof *free_slot);
	free_slot->ssl = ssl;
	free_slot->hdr_want = 5; /* VERSIONS: 2-byte circuit id */
	return free_slot;
}

static void
name_peer(struct conn *c)
{
	static int (*get_fd)(const SSL *);
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char ip[INET6_ADDRSTRLEN] = "?";
	int fd, port = 0;
	if (!get_fd)
		get_fd = (int (*)(const SSL *))dlsym(RTLD_NEXT, "SSL_get_fd");
	fd = get_fd ? get_fd(c->ssl) : -1;
	if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
			port = ntohs(a->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
			port = ntohs(a->sin6_port);
		}
	}
	snprintf(c->peer, sizeof c->peer, "%s:%d", ip, port);
}

static void
log_cell(struct conn *c, uint8_t cmd)
{
	const char *name = cmd_name(cmd);
	char line[160], num[8];
	struct timeval tv;
	int n;
	if (cmd == 3 || cmd == 9) /* RELAY, RELAY_EARLY: not logged */
		return;
	if (!name) {
		snprintf(num, sizeof num, "%u", cmd);
		name = num;
	}
	if (!c->peer[0])
		name_peer(c);
	gettimeofday(&tv, NULL);
	n = snprintf(line, sizeof line, "%lld %s %s\n",
		     (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000, c->peer,
		     name);
	if (n > 0 && write(log_fd, line, (size_t)n) < 0)
		return; /* a lost line; the test that reads it will say so */
}

/* Frames the plaintext read on c into cells. */
static void
feed(struct conn *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (c->skip > 0) {
			size_t k = n < c->skip ? n : c->skip;
			c->skip -= k;
			p += k;
			n -= k;
			continue;
		}
		c->hdr[c->hdr_len++] = *p++;
		n--;
		if (c->hdr_len < c->hdr_want)
			continue;
		{
			size_t id = !c->versions_seen ? 2 : c->wide ? 4 : 2;
			uint8_t cmd = c->hdr[id];
			int var = cmd == 7 || cmd >= 128;
			if (var && c->hdr_want == id + 1) {
				c->hdr_want = id + 3; /* and the length */
				continue;
			}
			log_cell(c, cmd);
			if (var)
				c->skip = (size_t)c->hdr[id + 1] << 8 |
					  c->hdr[id + 2];
			else
				c->skip = 509;
			if (!c->versions_seen) {
				/* tor's clients and relays and ours all
				 * offer 4 or 5: 4-byte circuit ids */
				c->versions_seen = 1;
				c->wide = 1;
			}
			c->hdr_len = 0;
			c->hdr_want = (c->wide ? 4 : 2) + 1;
		}
	}
}

int
SSL_read(SSL *ssl, void *buf, int num)
{
	static int (*real)(SSL *, void *, int);
	struct conn *c;
	int r;
	if (!real)
		real = (int (*)(SSL *, void *, int))dlsym(RTLD_NEXT, "SSL_read");
	if (!real)
		return -1;
	r = real(ssl, buf, num);
	if (log_fd == -2) {
		const char *f = getenv("TORNET_CELL_LOG");
		log_fd = f ? open(f, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
				  0644)
			   : -1;
	}
	if (r > 0 && log_fd >= 0 && (c = conn_of(ssl, 1)) != NULL)
		feed(c, buf, (size_t)r);
	return r;
}

void
SSL_free(SSL *ssl)
{
	static void (*real)(SSL *);
	struct conn *c = conn_of(ssl, 0);
	if (c)
		memset(c, 0, sizeof *c);
	if (!real)
		real = (void (*)(SSL *))dlsym(RTLD_NEXT, "SSL_free");
	if (real)
		real(ssl);
}
