/* cli_opts.c — command line and environment of the three clients.
 *
 * One table of options, filtered per program; the proxy address is settled
 * here once (-P, then Tor's trailing sockshost, then the environment, then
 * 127.0.0.1:9050) so every program reports and uses it the same way.
 */
#include "cli/cli_opts.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#include "config.h"

enum {
	OPT_JSON = 256,
	OPT_IPV4,
	OPT_IPV6,
	OPT_SOCKS4A,
	OPT_VERSION,
	OPT_HELP,
	OPT_PASSWORD_FILE,
	OPT_LIST_OPTIONS,
};

static const char resolve_usage[] =
	"usage: tor-resolve [-4|-5] [-v] [-x] [-p port] [options] hostname "
	"[sockshost[:socksport]]\n"
	"       tor-resolve [options] name... | -f file | -\n";
static const char ptr_usage[] = "usage: tor-ptr [options] address...\n"
				"       tor-ptr [options] -f file | -\n";
static const char connect_usage[] =
	"usage: tor-connect [-4|-4a|-5] [-vz] [-L [bind:]port] [options] "
	"host port\n";

static const char common_help[] =
	"  -P proxy         SOCKS proxy: host:port, [v6]:port or unix:/path\n"
	"                   (default $TOR_SOCKS_HOST:$TOR_SOCKS_PORT, else\n"
	"                   127.0.0.1:9050)\n"
	"  -u user          SOCKS username (Tor isolates streams by it and the\n"
	"                   password, read from $TOR_SOCKS_PASSWORD or from\n"
	"                   --password-file file; never give it as an argument)\n"
	"  -i               fresh random credentials for this run (isolation)\n"
	"  -w secs          timeout connecting to the proxy (default 30)\n"
	"  -t secs          timeout waiting for the proxy's answer (default "
	"120)\n"
	"  -v               show what is sent to and received from the proxy\n"
	"  -h, --help       this help;  --version  the version\n"
	"exit: 0 ok, 1 the proxy answered with a failure, 2 usage, 3 proxy\n"
	"unreachable or not SOCKS, 4 no answer in time\n";

static const char resolve_help[] =
	"Resolve host names through a SOCKS proxy (Tor's RESOLVE extension);\n"
	"the local resolver is never used for them.\n"
	"  -4               SOCKS4a            -5  SOCKS5 (default)\n"
	"  -x               reverse lookup (the names are IP addresses)\n"
	"  -p port          proxy port (Tor's tor-resolve -p)\n"
	"  -6, --ipv6       want an IPv6 answer; --ipv4 an IPv4 answer\n"
	"  -f file          names from file (one a line; - is stdin)\n"
	"  -j jobs          lookups in flight at once (default 16)\n"
	"  --json           one JSON object per line\n";
static const char ptr_help[] =
	"Reverse-resolve IPv4/IPv6 addresses through a SOCKS proxy (Tor's\n"
	"RESOLVE_PTR extension); the local resolver is never used.\n"
	"  -f file          addresses from file (one a line; - is stdin)\n"
	"  -j jobs          lookups in flight at once (default 16)\n"
	"  --json           one JSON object per line\n";
static const char connect_help[] =
	"Connect stdin/stdout to host:port through a SOCKS proxy; host names\n"
	"always go to the proxy.\n"
	"  -5               SOCKS5 (default)   -4a  SOCKS4a\n"
	"  -4               SOCKS4 (host must be an IPv4 address)\n"
	"  -z               probe: connect, report, close\n"
	"  -L [bind:]port   listen (default bind 127.0.0.1) and forward each\n"
	"                   connection through the proxy to host:port\n";

static const char *
usage_text(const struct cli_opts *o)
{
	return o->prog == CLI_RESOLVE ? resolve_usage
	       : o->prog == CLI_PTR   ? ptr_usage
				      : connect_usage;
}

void
cli_warn(const struct cli_opts *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", o->progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cli_usage_error(const struct cli_opts *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", o->progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage_text(o), stderr);
	fprintf(stderr, "Try '%s --help' for more.\n", o->progname);
	exit(CLI_EXIT_USAGE);
}

static void
help(const struct cli_opts *o)
{
	fputs(usage_text(o), stdout);
	fputs(o->prog == CLI_RESOLVE ? resolve_help
	      : o->prog == CLI_PTR   ? ptr_help
				     : connect_help,
	      stdout);
	fputs(common_help, stdout);
	exit(CLI_EXIT_OK);
}

/* Whether a long option is one of prog's: one with a short form exactly
 * when the short form is in prog's optstr, the others by name. */
static int
long_applies(enum cli_prog prog, const char *optstr, int val)
{
	switch (val) {
	case OPT_JSON:
		return prog != CLI_CONNECT;
	case OPT_IPV4:
	case OPT_IPV6:
		return prog == CLI_RESOLVE;
	case OPT_SOCKS4A:
		return prog == CLI_CONNECT;
	case OPT_VERSION:
	case OPT_HELP:
	case OPT_PASSWORD_FILE:
	case OPT_LIST_OPTIONS:
		return 1;
	default:
		return val > 0 && val < 256 && val != ':' &&
		       strchr(optstr, val) != NULL;
	}
}

/* --list-options: prog's options, one a line, " arg" after those that take
 * a value; from the tables getopt reads, for the shell completions. */
static void
list_options(enum cli_prog prog, const char *optstr,
	     const struct option *longopts)
{
	for (const char *c = optstr; *c; c++) {
		if (*c == ':')
			continue;
		printf("-%c%s\n", *c, c[1] == ':' ? " arg" : "");
	}
	if (prog == CLI_CONNECT)
		puts("-4a");
	for (const struct option *l = longopts; l->name != NULL; l++)
		if (l->val != OPT_LIST_OPTIONS &&
		    long_applies(prog, optstr, l->val))
			printf("--%s%s\n", l->name,
			       l->has_arg == required_argument ? " arg" : "");
	exit(CLI_EXIT_OK);
}

static uint64_t
parse_secs(const struct cli_opts *o, const char *opt, const char *s)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(d) || d < 0 || d > 1e6)
		cli_usage_error(o,
				"bad timeout \"%s\" for %s: seconds, "
				"0 for none",
				s, opt);
	return (uint64_t)(d * 1000.0 + 0.5);
}

static uint16_t
parse_port(const struct cli_opts *o, const char *what, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535)
		cli_usage_error(o, "bad port \"%s\" for %s: must be 1-65535", s,
				what);
	return (uint16_t)v;
}

/* -u takes the user name only: a password in argv is visible to every
 * user of the machine (ps, /proc/PID/cmdline), so it comes from the
 * environment or a file (read_password). */
static void
set_user(struct cli_opts *o, const char *arg)
{
	size_t ulen = strlen(arg);

	if (strchr(arg, ':') != NULL)
		cli_usage_error(o, "-u takes the user name only: put the "
				   "password in TOR_SOCKS_PASSWORD or in a "
				   "file given with --password-file, never on "
				   "the command line");
	if (ulen > sizeof(o->user))
		cli_usage_error(o, "-u: the user name is at most 255 bytes");
	memcpy(o->user, arg, ulen);
	o->user_len = ulen;
	o->use_auth = 1;
}

/* The password for -u: the first line of `file` (its newline dropped),
 * else $TOR_SOCKS_PASSWORD, else empty. */
static void
read_password(struct cli_opts *o, const char *file)
{
	char line[512];
	const char *pw = getenv("TOR_SOCKS_PASSWORD");
	size_t n;

	if (file != NULL) {
		FILE *f = fopen(file, "r");

		if (f == NULL) {
			cli_warn(o, "--password-file %s: %s", file,
				 strerror(errno));
			exit(CLI_EXIT_USAGE);
		}
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		pw = line;
	}
	if (pw == NULL)
		return;
	n = strlen(pw);
	if (n > sizeof(o->pass))
		cli_usage_error(o, "the password is at most 255 bytes");
	memcpy(o->pass, pw, n);
	o->pass_len = n;
}

static void
set_random_user(struct cli_opts *o)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t rnd[16];
	size_t i;

	if (uv_random(NULL, NULL, rnd, sizeof(rnd), 0, NULL) < 0) {
		cli_warn(o, "-i: no random bytes available");
		exit(CLI_EXIT_USAGE);
	}
	for (i = 0; i < 8; i++) {
		o->user[2 * i] = (uint8_t)hex[rnd[i] >> 4];
		o->user[2 * i + 1] = (uint8_t)hex[rnd[i] & 15];
		o->pass[2 * i] = (uint8_t)hex[rnd[8 + i] >> 4];
		o->pass[2 * i + 1] = (uint8_t)hex[rnd[8 + i] & 15];
	}
	o->user_len = o->pass_len = 16;
	o->use_auth = 1;
}

/* Settles o->proxy. `text` is -P or Tor's trailing sockshost[:port]. */
static void
settle_proxy(struct cli_opts *o, const char *text, const char *from, long pflag)
{
	const char *env_host = getenv("TOR_SOCKS_HOST");
	const char *env_port = getenv("TOR_SOCKS_PORT");
	unsigned flags = TK_ENDPOINT_ALLOW_NO_PORT | TK_ENDPOINT_ALLOW_UNIX |
			 TK_ENDPOINT_ALLOW_PORT_ONLY;
	char err[256];
	uint16_t dport = CLI_DEFAULT_PORT;

	if (env_port && *env_port)
		dport = parse_port(o, "TOR_SOCKS_PORT", env_port);
	if (!text && env_host && *env_host) {
		text = env_host;
		from = "TOR_SOCKS_HOST";
	}
	if (!text) {
		text = "127.0.0.1";
		from = "the default proxy";
	}
	if (tk_endpoint_parse(&o->proxy, text, NULL, 0, flags, err,
			      sizeof(err)) < 0)
		cli_usage_error(o, "%s: %s", from, err);
	if (o->proxy.kind == TK_ENDPOINT_UNIX) {
		if (pflag)
			cli_warn(o, "-p ignored: the proxy is a unix socket");
		return;
	}
	if (o->proxy.port && pflag && o->proxy.port != pflag)
		/* Tor's tor-resolve says the same and keeps the address's. */
		cli_warn(o, "conflicting ports; using %u, not %ld",
			 (unsigned)o->proxy.port, pflag);
	if (!o->proxy.port)
		o->proxy.port = pflag ? (uint16_t)pflag : dport;
}

void
cli_opts_parse(struct cli_opts *o, enum cli_prog prog, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "ipv4", no_argument, NULL, OPT_IPV4 },
		{ "ipv6", no_argument, NULL, OPT_IPV6 },
		{ "socks4a", no_argument, NULL, OPT_SOCKS4A },
		{ "proxy", required_argument, NULL, 'P' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
		{ "isolate", no_argument, NULL, 'i' },
		{ "connect-timeout", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "file", required_argument, NULL, 'f' },
		{ "probe", no_argument, NULL, 'z' },
		{ "listen", required_argument, NULL, 'L' },
		{ "list-options", no_argument, NULL, OPT_LIST_OPTIONS },
		{ NULL, 0, NULL, 0 },
	};
	const char *optstr = prog == CLI_RESOLVE ? ":456xp:P:u:iw:t:vj:f:h"
			     : prog == CLI_PTR	 ? ":5P:u:iw:t:vj:f:h"
						 : ":45zL:P:u:iw:t:vh";
	const char *proxy_text = NULL, *password_file = NULL;
	long pflag = 0;
	int c, isolate = 0, i, li;

	memset(o, 0, sizeof(*o));
	o->prog = prog;
	o->progname = prog == CLI_RESOLVE ? "tor-resolve"
		      : prog == CLI_PTR	  ? "tor-ptr"
					  : "tor-connect";
	o->socks_version = 5;
	o->reverse = prog == CLI_PTR;
	o->jobs = CLI_DEFAULT_JOBS;
	o->connect_timeout_ms = CLI_DEFAULT_CONNECT_TIMEOUT_MS;
	o->answer_timeout_ms = CLI_DEFAULT_ANSWER_TIMEOUT_MS;

	/* nc-style "-4a" is one flag, not -4 plus -a. */
	for (i = 1; i < argc && prog == CLI_CONNECT; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-4a") == 0)
			argv[i] = (char *)"--socks4a";
	}

	opterr = 0;
	li = -1;
	while ((c = getopt_long(argc, argv, optstr, longopts, &li)) != -1) {
		if (c != '?' && c != ':' && li >= 0 &&
		    !long_applies(prog, optstr, c))
			cli_usage_error(o, "unknown option --%s",
					longopts[li].name);
		li = -1;
		switch (c) {
		case '4':
			o->socks_version = 4;
			o->socks4a = 0;
			break;
		case OPT_SOCKS4A:
			if (prog != CLI_CONNECT)
				goto unknown;
			o->socks_version = 4;
			o->socks4a = 1;
			break;
		case '5':
			o->socks_version = 5;
			o->socks4a = 0;
			break;
		case '6':
		case OPT_IPV6:
		case OPT_IPV4:
			if (prog != CLI_RESOLVE)
				goto unknown;
			o->want_family = c == OPT_IPV4 ? AF_INET : AF_INET6;
			break;
		case 'x':
			o->reverse = 1;
			break;
		case 'p':
			pflag = parse_port(o, "-p", optarg);
			break;
		case 'P':
			proxy_text = optarg;
			break;
		case 'u':
			set_user(o, optarg);
			break;
		case OPT_PASSWORD_FILE:
			password_file = optarg;
			break;
		case 'i':
			isolate = 1;
			break;
		case 'w':
			o->connect_timeout_ms = parse_secs(o, "-w", optarg);
			break;
		case 't':
			o->answer_timeout_ms = parse_secs(o, "-t", optarg);
			break;
		case 'v':
			o->verbose++;
			break;
		case 'j': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (end == optarg || *end || v < 1 || v > CLI_MAX_JOBS)
				cli_usage_error(o,
						"bad -j \"%s\": must be "
						"1-%d",
						optarg, CLI_MAX_JOBS);
			o->jobs = (int)v;
			break;
		}
		case 'f':
			o->file = optarg;
			break;
		case OPT_JSON:
			if (prog == CLI_CONNECT)
				goto unknown;
			o->json = 1;
			break;
		case 'z':
			o->probe = 1;
			break;
		case 'L':
			o->listen = optarg;
			break;
		case 'h':
		case OPT_HELP:
			help(o);
			break;
		case OPT_VERSION:
			printf("%s (torkit) %s\n", o->progname,
			       PACKAGE_VERSION);
			exit(CLI_EXIT_OK);
		case OPT_LIST_OPTIONS:
			list_options(prog, optstr, longopts);
			break;
		case ':':
			cli_usage_error(o, "option %s needs an argument",
					argv[optind - 1]);
		default:
		unknown:
			if (optopt && optopt < 256)
				cli_usage_error(o, "unknown option -%c",
						optopt);
			cli_usage_error(o, "unknown option %s",
					argv[optind - 1]);
		}
	}
	if (isolate && o->use_auth)
		cli_usage_error(o, "-i and -u exclude each other");
	if (password_file != NULL && !o->use_auth)
		cli_usage_error(o, "--password-file goes with -u");
	if (o->use_auth)
		read_password(o, password_file);
	if (isolate)
		set_random_user(o);
	if (o->reverse && o->socks_version == 4)
		cli_usage_error(o, "reverse lookups need SOCKS5 (Tor has no "
				   "RESOLVE_PTR over SOCKS4a)");
	if (o->probe && o->listen)
		cli_usage_error(o, "-z and -L exclude each other");

	o->args = argv + optind;
	o->nargs = argc - optind;

	/* Tor's form: exactly `hostname sockshost[:socksport]`. */
	if (prog == CLI_RESOLVE && !proxy_text && !o->file && o->nargs == 2 &&
	    strcmp(o->args[0], "-") != 0) {
		settle_proxy(o, o->args[1], "sockshost", pflag);
		o->nargs = 1;
	} else {
		settle_proxy(o, proxy_text, "-P", pflag);
	}

	if (prog == CLI_CONNECT) {
		if (o->nargs != 2)
			cli_usage_error(o, o->nargs < 2 ? "missing host and "
							  "port"
							: "too many arguments");
		return;
	}
	if (o->nargs == 0 && !o->file)
		cli_usage_error(o, "no %s given",
				o->reverse ? "address" : "hostname");
	o->batch = o->file || o->nargs > 1;
	for (i = 0; i < o->nargs; i++)
		if (strcmp(o->args[i], "-") == 0)
			o->batch = 1;
}
