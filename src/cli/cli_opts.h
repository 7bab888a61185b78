/* cli_opts.h — the option layer tor-resolve, tor-ptr and tor-connect
 * share: proxy address (-P, Tor's trailing sockshost and -p, the
 * TOR_SOCKS_HOST/TOR_SOCKS_PORT environment), credentials (-u, -i),
 * timeouts (-w, -t), -v, -h/--help, --version.
 */
#ifndef TK_CLI_OPTS_H
#define TK_CLI_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

enum cli_prog { CLI_RESOLVE, CLI_PTR, CLI_CONNECT };

/* Exit codes, the same in the three programs (see their man pages). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILED = 1, /* the proxy answered with a failure */
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_UNREACHABLE = 3, /* no proxy, or it does not speak SOCKS */
	CLI_EXIT_TIMEOUT = 4,	  /* no answer in time */
};

#define CLI_DEFAULT_PORT 9050
#define CLI_DEFAULT_CONNECT_TIMEOUT_MS 30000u
#define CLI_DEFAULT_ANSWER_TIMEOUT_MS 120000u /* Tor's SocksTimeout */
#define CLI_DEFAULT_JOBS 16
#define CLI_MAX_JOBS 1024

struct cli_opts {
	enum cli_prog prog;
	const char *progname;

	struct tk_endpoint proxy;
	int socks_version; /* 4 or 5 */
	int socks4a;	   /* tor-connect -4a */
	int reverse;	   /* tor-resolve -x, tor-ptr always */
	int verbose;
	int json;
	int jobs;
	const char *file;   /* -f */
	int want_family;    /* --ipv4/--ipv6: 0, AF_INET, AF_INET6 */
	int probe;	    /* tor-connect -z */
	const char *listen; /* tor-connect -L */
	int batch;	    /* name<TAB>answer output */
	uint64_t connect_timeout_ms;
	uint64_t answer_timeout_ms;

	int use_auth;
	uint8_t user[255];
	size_t user_len;
	uint8_t pass[255];
	size_t pass_len;

	char **args; /* positional arguments left */
	int nargs;
};

/* Parses argv completely; prints usage and exits 2 on a usage error,
 * exits 0 after --help / --version. */
void cli_opts_parse(struct cli_opts *o, enum cli_prog prog, int argc,
		    char **argv);

/* "tor-resolve: " + message on stderr. */
void cli_warn(const struct cli_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same, then exit 2 with a pointer to --help. */
void cli_usage_error(const struct cli_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
