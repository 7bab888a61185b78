/* tkonion: developer tool for the onion link layer.
 *
 *   tkonion handshake HOST:PORT FINGERPRINT [ED25519-ID]
 *       connects, runs the link handshake, prints what was established
 *   tkonion fetch 'DirAuthority line' /tor/path
 *   tkonion fetch HOST:PORT FINGERPRINT /tor/path
 *       one-hop CREATE_FAST circuit, BEGIN_DIR, GET; body to stdout
 *   -n NTORKEY: make the first hop with CREATE2 (ntor) instead
 *   -x ADDR:PORT,FINGERPRINT,NTORKEY[,ED25519-ID] (repeatable): extend the
 *       circuit to that relay (EXTEND2, ntor) before BEGIN_DIR
 *
 * Exit status: 0 success, 1 the relay or directory failed us (identity,
 * protocol, HTTP status other than 200), 2 usage, 3 could not connect,
 * 4 timeout. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <uv.h>

#include "onion/base/bytes.h"
#include "onion/link/channel.h"
#include "onion/link/tls.h"
#include "onion/circ/circuit.h"
#include "onion/base/crypto.h"
#include "onion/dir/dirsrc.h"
#include "onion/netdoc/dirauth.h"
#include "onion/dir/dirclient.h"

static const char *progname = "tkonion";

static struct {
	int mode; /* 'h' handshake, 'f' fetch */
	tk_channel_target target;
	char target_str[80];
	const char *path;
	int deflate;
	int verbose;
	unsigned timeout_ms;
	const char *out_path;
	int use_ntor;
	unsigned hold_s;
	uv_timer_t hold;
	tk_circuit_hop_target first;
	tk_circuit_hop_target ext[4];
	int n_ext, n_extended;
	/* results */
	int exit_code;
	tk_channel *ch;
	tk_circuit *circ;
} g;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-v] [-t MS] handshake HOST:PORT FINGERPRINT "
		"[ED25519-ID]\n"
		"       %s [-v] [-t MS] [-z] [-o FILE] [-n KEY] [-x HOP]... "
		"fetch 'DirAuthority line' /tor/path\n"
		"       %s [-v] [-t MS] [-z] [-o FILE] [-n KEY] [-x HOP]... "
		"fetch HOST:PORT FINGERPRINT /tor/path\n"
		"  -t MS   handshake/request timeout in milliseconds\n"
		"  -H SEC  handshake: keep the channel open SEC seconds (the\n"
		"          relay's link padding shows in the cell counts)\n"
		"  -n KEY  first hop with CREATE2/ntor (base64 ntor-onion-key)\n"
		"  -x ADDR:PORT,FP,NTORKEY[,ED25519-ID]  extend to that relay "
		"first (repeatable)\n"
		"  -z      ask for a deflate-compressed body\n"
		"  -o FILE write the body to FILE instead of stdout\n"
		"  -v      print the HTTP status and headers to stderr\n",
		progname, progname, progname);
}

static int exit_for(int status)
{
	switch (status) {
	case TK_CHAN_ETIMEDOUT:
	case TK_CIRC_ETIMEDOUT:
	case TK_DIR_ETIMEDOUT:
		return 4;
	case UV_ECONNREFUSED:
	case UV_ENETUNREACH:
	case UV_EHOSTUNREACH:
	case UV_ECONNRESET:
	case UV_EADDRNOTAVAIL:
		return 3;
	default:
		return 1;
	}
}

/* "3567 F68A ..." or "3567F68A..." into 20 bytes. */
static int parse_fp(const char *s, uint8_t out[20])
{
	char hex[41];
	size_t n = 0;
	for (; *s; s++) {
		if (*s == ' ' || *s == '$')
			continue;
		if (n == 40)
			return -1;
		hex[n++] = *s;
	}
	hex[n] = '\0';
	return n == 40 ? tk_hex_decode(hex, 40, out, 20) : -1;
}

static int parse_hostport(const char *s, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	unsigned long port;
	char *end;
	size_t hl;
	if (!colon)
		return -1;
	hl = (size_t)(colon - s);
	if (hl == 0 || hl >= sizeof host)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		return -1;
	if (host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)ss);
	}
	return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss);
}

static int parse_dirauth(const char *line, char *err, size_t errlen)
{
	tk_dirauth a;
	char ip[INET_ADDRSTRLEN];
	const struct sockaddr_in *sa = (const struct sockaddr_in *)&a.or_addr;
	if (tk_dirauth_parse(line, &a, err, errlen) != 0)
		return -1;
	{
		struct tk_dirsource src;
		tk_dirsource_from_auth(&a, &src);
		tk_dirsource_target(&src, &g.target);
	}
	inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof ip);
	snprintf(g.target_str, sizeof g.target_str, "%s:%u", ip,
		 ntohs(sa->sin_port));
	return 0;
}

static void fmt_addr(const tk_netinfo_addr *a, char *out, size_t cap)
{
	if (a->type == TK_NETINFO_ADDR_IPV4 && a->len == 4)
		inet_ntop(AF_INET, a->addr, out, (socklen_t)cap);
	else if (a->type == TK_NETINFO_ADDR_IPV6 && a->len == 16)
		inet_ntop(AF_INET6, a->addr, out, (socklen_t)cap);
	else
		snprintf(out, cap, "(type %u, %u bytes)", a->type, a->len);
}

static void print_summary(FILE *f, const tk_channel_info *in)
{
	char hex[41], b64[64], addr[64], tbuf[64];
	time_t rt = (time_t)in->netinfo.time;
	struct tm tm;
	fprintf(f, "relay: %s\n", g.target_str);
	fprintf(f, "tls: %s %s\n", in->tls_version, in->tls_ciphersuite);
	fprintf(f, "tls library: %s\n", tk_tls_library());
	fprintf(f, "versions offered by relay:");
	for (size_t i = 0; i < in->n_their_versions; i++)
		fprintf(f, " %u", in->their_versions[i]);
	fprintf(f, "\nlink protocol: %u\n", in->link_version);
	fprintf(f, "certs:");
	for (size_t i = 0; i < in->n_certs; i++)
		fprintf(f, " %u", in->cert_types[i]);
	tk_hex_encode(in->rsa_id, 20, hex);
	for (char *p = hex; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	fprintf(f, "\nrsa identity: %s (matches the expected fingerprint)\n",
		hex);
	if (in->ed_verified) {
		tk_base64_encode(in->ed_id, 32, 0, b64, sizeof b64);
		fprintf(f, "ed25519 identity: %s (verified)\n", b64);
	} else {
		fprintf(f, "ed25519 identity: not checked\n");
	}
	if (in->got_auth_challenge) {
		fprintf(f, "auth challenge methods:");
		for (size_t i = 0; i < in->n_auth_methods; i++)
			fprintf(f, " %u", in->auth_methods[i]);
		fprintf(f, " (ignored: we do not authenticate)\n");
	}
	gmtime_r(&rt, &tm);
	strftime(tbuf, sizeof tbuf, "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "netinfo: relay time %s UTC (skew %+lds)\n", tbuf,
		(long)(rt - time(NULL)));
	fmt_addr(&in->netinfo.other, addr, sizeof addr);
	fprintf(f, "netinfo: relay sees us as %s\n", addr);
	fprintf(f, "netinfo: relay addresses:");
	for (size_t i = 0; i < in->netinfo.n_my && i < TK_NETINFO_MAX_MYADDRS;
	     i++) {
		fmt_addr(&in->netinfo.my[i], addr, sizeof addr);
		fprintf(f, " %s", addr);
	}
	fprintf(f, "\ncells: %zu in, %zu out, %zu padding dropped\n",
		in->cells_in, in->cells_out, in->padding_dropped);
	fprintf(f, "padding: %zu sent, %zu PADDING_NEGOTIATE sent, %zu "
		   "received (ignored)\n",
		in->padding_sent, in->padneg_sent, in->padneg_received);
}

static void on_dir_done(tk_dir_req *r, int status,
			const tk_http_response *resp, void *arg)
{
	(void)arg;
	if (status < 0) {
		fprintf(stderr, "%s: fetch %s from %s: %s\n", progname, g.path,
			g.target_str, tk_dir_errmsg(r));
		g.exit_code = exit_for(status);
	} else {
		FILE *out = stdout;
		if (g.verbose)
			fprintf(stderr, "HTTP %d %s\n%s", resp->status,
				resp->reason, resp->head);
		if (resp->status != 200) {
			fprintf(stderr, "%s: %s from %s: HTTP %d %s\n", progname,
				g.path, g.target_str, resp->status, resp->reason);
			g.exit_code = 1;
		} else {
			if (g.out_path && !(out = fopen(g.out_path, "wb"))) {
				fprintf(stderr, "%s: cannot write %s: %s\n",
					progname, g.out_path, strerror(errno));
				g.exit_code = 1;
			} else {
				if (fwrite(resp->body, 1, resp->body_len, out) !=
					    resp->body_len ||
				    fflush(out) != 0) {
					fprintf(stderr, "%s: write failed: %s\n",
						progname, strerror(errno));
					g.exit_code = 1;
				} else {
					g.exit_code = 0;
				}
				if (out != stdout)
					fclose(out);
			}
			if (g.verbose)
				fprintf(stderr, "%zu bytes (%zu on the wire%s)\n",
					resp->body_len, resp->wire_body_len,
					resp->deflated ? ", deflated" : "");
		}
	}
	tk_circuit_close(g.circ);
	g.circ = NULL;
	tk_channel_close(g.ch, NULL);
	g.ch = NULL;
}

static void on_circ_lost(tk_circuit *c, int status, void *arg)
{
	(void)arg;
	(void)status;
	(void)c;
	/* the pending request reports the failure */
}

static void start_fetch(tk_circuit *c);

static void on_extended(tk_circuit *c, int status, void *arg)
{
	int rc;
	(void)arg;
	if (status < 0) {
		fprintf(stderr, "%s: extending to hop %d: %s\n", progname,
			tk_circuit_n_hops(c) + 1, tk_circuit_errmsg(c));
		g.exit_code = exit_for(status);
		tk_circuit_close(c);
		g.circ = NULL;
		tk_channel_close(g.ch, NULL);
		g.ch = NULL;
		return;
	}
	g.n_extended++;
	if (g.verbose)
		fprintf(stderr, "circuit extended to %d hops\n",
			tk_circuit_n_hops(c));
	if (g.n_extended < g.n_ext) {
		rc = tk_circuit_extend(c, &g.ext[g.n_extended], g.timeout_ms,
				       on_extended, NULL);
		if (rc < 0)
			on_extended(c, rc, NULL);
		return;
	}
	start_fetch(c);
}

static void on_circ_built(tk_circuit *c, int status, void *arg)
{
	int rc;
	(void)arg;
	if (status < 0) {
		fprintf(stderr, "%s: circuit to %s: %s\n", progname, g.target_str,
			tk_circuit_errmsg(c));
		g.exit_code = exit_for(status);
		tk_circuit_close(c);
		g.circ = NULL;
		tk_channel_close(g.ch, NULL);
		g.ch = NULL;
		return;
	}
	if (g.verbose)
		fprintf(stderr, "one-hop circuit %08x built with %s\n",
			(unsigned)tk_circuit_id(c),
			g.use_ntor ? "CREATE2 (ntor)" : "CREATE_FAST");
	if (g.n_ext > 0) {
		rc = tk_circuit_extend(c, &g.ext[0], g.timeout_ms, on_extended,
				       NULL);
		if (rc < 0)
			on_extended(c, rc, NULL);
		return;
	}
	start_fetch(c);
}

static void start_fetch(tk_circuit *c)
{
	tk_dir_req *r;
	int rc;
	rc = tk_dir_get(c, g.path, g.deflate, g.timeout_ms, on_dir_done, NULL,
			&r);
	if (rc == 0)
		return;
	fprintf(stderr, "%s: cannot request %s: %s\n", progname, g.path,
		tk_dir_strerror(rc));
	g.exit_code = rc == TK_DIR_EBADPATH ? 2 : 1;
	tk_circuit_close(c);
	g.circ = NULL;
	tk_channel_close(g.ch, NULL);
	g.ch = NULL;
}

static void on_lost(tk_channel *ch, int status, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s: channel to %s lost: %s\n", progname, g.target_str,
		tk_channel_errmsg(ch));
	if (g.exit_code < 0)
		g.exit_code = exit_for(status);
	tk_channel_close(ch, NULL);
	g.ch = NULL;
}

static void on_hold(uv_timer_t *t)
{
	uv_close((uv_handle_t *)t, NULL);
	print_summary(stdout, tk_channel_get_info(g.ch));
	g.exit_code = 0;
	tk_channel_close(g.ch, NULL);
	g.ch = NULL;
}

static void on_open(tk_channel *ch, int status, void *arg)
{
	int rc;
	(void)arg;
	if (status < 0) {
		fprintf(stderr, "%s: link handshake with %s failed: %s\n",
			progname, g.target_str, tk_channel_errmsg(ch));
		g.exit_code = exit_for(status);
		tk_channel_close(ch, NULL);
		g.ch = NULL;
		return;
	}
	if (g.mode == 'h' && g.hold_s > 0) {
		uv_timer_start(&g.hold, on_hold, (uint64_t)g.hold_s * 1000, 0);
		return;
	}
	if (g.mode == 'h') {
		print_summary(stdout, tk_channel_get_info(ch));
		g.exit_code = 0;
		tk_channel_close(ch, NULL);
		g.ch = NULL;
		return;
	}
	if (g.verbose)
		print_summary(stderr, tk_channel_get_info(ch));
	if (g.use_ntor) {
		memcpy(g.first.rsa_id, g.target.rsa_id, 20);
		rc = tk_circuit_create_ntor(ch, &g.first, g.timeout_ms,
					    on_circ_built, on_circ_lost, NULL,
					    &g.circ);
	} else {
		rc = tk_circuit_create_fast(ch, g.timeout_ms, on_circ_built,
					    on_circ_lost, NULL, &g.circ);
	}
	if (rc < 0) {
		fprintf(stderr, "%s: cannot start a circuit: %s\n", progname,
			tk_circuit_strerror(rc));
		g.exit_code = 1;
		tk_channel_close(ch, NULL);
		g.ch = NULL;
	}
}

static int parse_key32(const char *b64, uint8_t out[32])
{
	return tk_base64_decode(b64, strlen(b64), out, 32) == 32 ? 0 : -1;
}

/* ADDR:PORT,FINGERPRINT,NTORKEY[,ED25519-ID] */
static int parse_ext(const char *arg, tk_circuit_hop_target *t)
{
	char buf[300], *f[4], *save = NULL;
	int n = 0;
	if (strlen(arg) >= sizeof buf)
		return -1;
	strcpy(buf, arg);
	for (char *p = strtok_r(buf, ",", &save); p && n < 4;
	     p = strtok_r(NULL, ",", &save))
		f[n++] = p;
	if (n < 3 || parse_hostport(f[0], &t->addr) != 0 ||
	    parse_fp(f[1], t->rsa_id) != 0 || parse_key32(f[2], t->ntor_key) != 0)
		return -1;
	if (n == 4) {
		if (parse_key32(f[3], t->ed_id) != 0)
			return -1;
		t->has_ed_id = 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uv_loop_t *loop;
	int opt, rc, nargs;
	char err[160];

	g.exit_code = -1;
	while ((opt = getopt(argc, argv, "vzt:o:n:x:H:h")) != -1) {
		switch (opt) {
		case 'H':
			g.hold_s = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			if (parse_key32(optarg, g.first.ntor_key) != 0) {
				fprintf(stderr, "%s: bad ntor key \"%s\": want "
						"base64 of 32 bytes\n",
					progname, optarg);
				return 2;
			}
			g.use_ntor = 1;
			break;
		case 'x':
			if (g.n_ext == 4 || parse_ext(optarg, &g.ext[g.n_ext]) != 0) {
				fprintf(stderr,
					"%s: bad -x \"%s\": want ADDR:PORT,"
					"FINGERPRINT,NTORKEY[,ED25519-ID] (at "
					"most 4)\n",
					progname, optarg);
				return 2;
			}
			g.n_ext++;
			break;
		case 'v':
			g.verbose = 1;
			break;
		case 'z':
			g.deflate = 1;
			break;
		case 't':
			g.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'o':
			g.out_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	nargs = argc - optind;
	if (nargs < 1) {
		usage(stderr);
		return 2;
	}
	argv += optind;
	if (strcmp(argv[0], "handshake") == 0 && (nargs == 3 || nargs == 4)) {
		g.mode = 'h';
	} else if (strcmp(argv[0], "fetch") == 0 && (nargs == 3 || nargs == 4)) {
		g.mode = 'f';
		g.path = argv[nargs - 1];
	} else {
		usage(stderr);
		return 2;
	}
	if (g.mode == 'f' && nargs == 3) {
		if (parse_dirauth(argv[1], err, sizeof err) != 0) {
			fprintf(stderr, "%s: %s\n", progname, err);
			return 2;
		}
	} else {
		if (parse_hostport(argv[1], &g.target.addr) != 0) {
			fprintf(stderr,
				"%s: bad address \"%s\": want IPv4:PORT or "
				"[IPv6]:PORT\n",
				progname, argv[1]);
			return 2;
		}
		snprintf(g.target_str, sizeof g.target_str, "%s", argv[1]);
		if (parse_fp(argv[2], g.target.rsa_id) != 0) {
			fprintf(stderr,
				"%s: bad fingerprint \"%s\": want 40 hex digits\n",
				progname, argv[2]);
			return 2;
		}
		if (g.mode == 'h' && nargs == 4) {
			long n = tk_base64_decode(argv[3], strlen(argv[3]),
						  g.target.ed_id, 32);
			if (n != 32) {
				fprintf(stderr,
					"%s: bad Ed25519 identity \"%s\": want "
					"base64 of 32 bytes\n",
					progname, argv[3]);
				return 2;
			}
			g.target.has_ed_id = 1;
		}
	}
	signal(SIGPIPE, SIG_IGN); /* a relay hanging up is an error, not a kill */
	if (tk_crypto_init() != 0) {
		fprintf(stderr, "%s: crypto initialisation failed\n", progname);
		return 1;
	}
	loop = uv_default_loop();
	uv_timer_init(loop, &g.hold);
	uv_unref((uv_handle_t *)&g.hold); /* only the channel keeps us running */
	rc = tk_channel_open(loop, &g.target, g.timeout_ms, on_open, on_lost,
			     NULL, &g.ch);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot connect to %s: %s\n", progname,
			g.target_str, tk_channel_strerror(rc));
		return exit_for(rc);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	if (!uv_is_closing((uv_handle_t *)&g.hold)) {
		uv_close((uv_handle_t *)&g.hold, NULL);
		uv_run(loop, UV_RUN_DEFAULT);
	}
	uv_loop_close(loop);
	return g.exit_code < 0 ? 1 : g.exit_code;
}
