/* conf.c — what torkitd's options mean.
 *
 * One table holds every option, as Tor's option_vars_ does: its name,
 * type, field in struct tk_config, default (written as a user would write
 * it, and parsed like one), flags and a summary for --help. torrc.c
 * splits the file and the command line into `Keyword value` entries;
 * here each value is checked, and any error names the file and line, so
 * a bad configuration never starts a half-working daemon.
 */
#include "daemon/conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/torrc.h"

#ifndef TK_SYSCONFDIR
#define TK_SYSCONFDIR "/etc"
#endif
#ifndef TK_LOCALSTATEDIR
#define TK_LOCALSTATEDIR "/var"
#endif
#define DEFAULT_CONF TK_SYSCONFDIR "/torkit/torkitd.conf"

/* policy.c and log.c have always had 256 bytes for a message; a longer
 * one is cut where it was. */
#define SUB_ERRLEN(n) ((n) < 256 ? (n) : 256)

static tk_option_parse_fn parse_socks_port, parse_socks_policy,
	parse_exit_policy, parse_engine, parse_dns_server, parse_safe_logging,
	parse_log, parse_dir_authority, parse_congestion_control,
	parse_fallback_dir, parse_data_dir, parse_connection_padding,
	parse_control_port, parse_control_socket, parse_long_lived_ports,
	parse_prefer_ipv6_orport, parse_relay_splice;

/* clang-format off */
/* offsetof(), refusing to compile (a negative array size) when the field
 * is not of the C type the option type writes, so a row cannot scribble
 * over a field of another type. */
#define FIELD(f, ctype) (offsetof(struct tk_config, f) + 0 * sizeof(char[ \
	_Generic(((struct tk_config *)0)->f, ctype: 1, default: -1)]))

/* One row each: NAME, field, default, [range,] flags, [syntax,] summary. */
#define V_BOOL(n, f, d, fl, s) { .name = n, .type = TK_OPT_BOOL, \
	.offset = FIELD(f, int), .dflt = d, .flags = fl, .max = 1, \
	.syntax = "0|1", .summary = s }
#define V_UINT(n, f, d, lo, hi, fl, syn, s) { .name = n, \
	.type = TK_OPT_UINT, .offset = FIELD(f, unsigned), .dflt = d, \
	.min = lo, .max = hi, .flags = fl, .syntax = syn, .summary = s }
#define V_INTERVAL(n, f, d, lo, hi, fl, s) { .name = n, \
	.type = TK_OPT_INTERVAL, .offset = FIELD(f, unsigned), .dflt = d, \
	.min = lo, .max = hi, .flags = fl, .syntax = "INTERVAL", .summary = s }
#define V_MEMUNIT(n, f, d, lo, hi, fl, s) { .name = n, \
	.type = TK_OPT_MEMUNIT, .offset = FIELD(f, uint64_t), .dflt = d, \
	.min = lo, .max = hi, .flags = fl, .syntax = "N bytes|KB|MB|GB", \
	.summary = s }
#define V_STRING(n, f, d, fl, syn, s) { .name = n, .type = TK_OPT_STRING, \
	.offset = FIELD(f, char *), .dflt = d, .flags = fl, .syntax = syn, \
	.summary = s }
#define V_LINES(n, f, d, fl, syn, s) { .name = n, .type = TK_OPT_LINES, \
	.offset = FIELD(f, struct tk_config_lines), .dflt = d, \
	.flags = TK_OPTF_LIST | (fl), .syntax = syn, .summary = s }
#define V_CUSTOM(n, fn, f, d, fl, syn, s) { .name = n, \
	.type = TK_OPT_CUSTOM, .parse = fn, \
	.offset = offsetof(struct tk_config, f), .dflt = d, .flags = fl, \
	.syntax = syn, .summary = s }

#define LIST TK_OPTF_LIST
#define TOR TK_OPTF_TOR
#define DIRECT TK_OPTF_DIRECT
#define YEAR (86400UL * 365)
#define MIB (1024UL * 1024)
/* clang-format on */

/* In the order of torkitd.conf(5). */
static const struct tk_option options[] = {
	V_CUSTOM("SocksPort", parse_socks_port, ports, "127.0.0.1:9050",
		 LIST | TK_OPTF_EMPTY, "[ADDRESS:]PORT|auto|unix:PATH [FLAGS]",
		 "listen for SOCKS clients there (0: nowhere)"),
	V_CUSTOM("SocksPolicy", parse_socks_policy, socks_policy, NULL, LIST,
		 "POLICY[,POLICY...]", "which client addresses may connect"),
	V_CUSTOM("Engine", parse_engine, engine, "tor", 0, "tor|direct",
		 "which engine carries the requests (tor: the Tor network)"),
	V_CUSTOM("DNSServer", parse_dns_server, dns_servers, NULL,
		 LIST | DIRECT, "IP[:PORT]",
		 "a DNS server instead of /etc/resolv.conf's"),
	V_CUSTOM("ExitPolicy", parse_exit_policy, exit_policy, NULL,
		 LIST | DIRECT, "POLICY[,POLICY...]",
		 "what the direct engine may connect to"),
	V_BOOL("ExitPolicyRejectPrivate", exit_reject_private, "1", DIRECT,
	       "refuse private and local addresses before ExitPolicy"),
	V_BOOL("ExitPolicyRejectLocalInterfaces", exit_reject_local_interfaces,
	       "1", DIRECT, "refuse this host's own interface addresses"),
	V_CUSTOM("RelaySplice", parse_relay_splice, relay_splice, "auto",
		 DIRECT, "0|1|auto",
		 "relay with splice(2), in the kernel (Linux; auto: where "
		 "it works)"),
	V_BOOL("SafeSocks", safe_socks, "0", 0,
	       "refuse requests that carry only an IP address"),
	V_BOOL("TestSocks", test_socks, "0", 0,
	       "log whether each request was safe"),
	V_CUSTOM("SafeLogging", parse_safe_logging, safe_logging, "1", 0,
		 "0|1|relay", "scrub names and addresses from the log"),
	V_CUSTOM("Log", parse_log, logs, "notice stdout", LIST,
		 "SEVERITY[-SEVERITY] stdout|stderr|syslog|file PATH",
		 "where log messages go"),
	V_UINT("NumCPUs", num_cpus, "0", 0, 128, DIRECT, "N",
	       "event loops, one per thread (0: one per core, at most 16)"),
	V_UINT("MaxClients", max_clients, "4096", 1, 1000000, 0, "N",
	       "close new clients while this many are connected"),
	V_UINT("MaxClientsPerAddress", max_clients_per_address, "0", 0, 1000000,
	       0, "N",
	       "close new clients of an address with this many (0: no limit)"),
	V_MEMUNIT("MaxMemInQueues", max_mem_in_queues, "0", 0, 0, 0,
		  "close the connections holding the most past this (0: auto)"),
	V_INTERVAL("IdleTimeout", idle_timeout, "0", 0, YEAR, 0,
		   "close a relayed connection idle this long (0: never)"),
	V_INTERVAL("SocksTimeout", socks_timeout, "2 minutes", 1, YEAR, 0,
		   "how long a handshake, and a request, may take"),
	V_STRING("PidFile", pid_file, NULL, 0, "PATH",
		 "write the process ID there"),
	V_BOOL("RunAsDaemon", run_as_daemon, "0", 0,
	       "detach into the background"),
	V_STRING("User", user, NULL, 0, "NAME",
		 "after opening the ports, run as this user"),
	/* Its default depends on who runs torkitd and on the engine:
	 * tk_config_default_data_dir(), applied in tk_config_load(). */
	V_CUSTOM("DataDirectory", parse_data_dir, data_dir, NULL, 0, "PATH",
		 "state of the tor engine: its cache and guards (default "
		 "~/.torkit, root: " TK_LOCALSTATEDIR "/lib/torkit)"),
	V_CUSTOM("DirAuthority", parse_dir_authority, dir_authorities, NULL,
		 LIST | TOR, "[NICKNAME] [FLAGS] IP:DIRPORT FINGERPRINT",
		 "a directory authority to trust instead of the public "
		 "network's"),
	V_CUSTOM("FallbackDir", parse_fallback_dir, fallback_dirs, NULL,
		 LIST | TOR, "IP[:DIRPORT] orport=PORT id=FINGERPRINT [FLAGS]",
		 "a directory mirror to bootstrap from"),
	V_BOOL("UseDefaultFallbackDirs", use_default_fallback_dirs, "1", TOR,
	       "bootstrap from the built-in fallback mirrors"),
	V_BOOL("TestingTorNetwork", testing_tor_network, "0", TOR,
	       "defaults for a test network (needs DirAuthority lines)"),
	V_BOOL("EnforceDistinctSubnets", enforce_distinct_subnets, "1", TOR,
	       "never two relays of one /16 in a circuit"),
	V_CUSTOM("LongLivedPorts", parse_long_lived_ports, long_lived_ports,
		 "21,22,706,1863,5050,5190,5222,5223,6523,6667,6697,8300", TOR,
		 "PORT[,PORT...]",
		 "streams to these ports get circuits of Stable relays"),
	V_BOOL("ClientUseIPv4", client_use_ipv4, "1", TOR,
	       "connect to guards and directory servers over IPv4"),
	V_BOOL("ClientUseIPv6", client_use_ipv6, "0", TOR,
	       "connect to guards and directory servers over IPv6 too"),
	V_CUSTOM("ClientPreferIPv6ORPort", parse_prefer_ipv6_orport,
		 client_prefer_ipv6_orport, "auto", TOR, "0|1|auto",
		 "of a relay's IPv4 and IPv6 ORPorts, connect to the IPv6 one "
		 "(auto: IPv4)"),
	V_STRING("ClientOnionAuthDir", client_onion_auth_dir, NULL, TOR, "PATH",
		 "client authorization keys for onion services "
		 "(*.auth_private)"),
	V_INTERVAL("HalfCloseLinger", half_close_linger, "30 seconds", 1, YEAR,
		   TOR, "how long a half-closed stream may sit idle"),
	V_CUSTOM("CongestionControl", parse_congestion_control,
		 congestion_control, "auto", TOR, "auto|0|1",
		 "negotiate congestion control with exits (auto: as the "
		 "consensus says)"),
	V_BOOL("ClientRejectInternalAddresses", client_reject_internal, "1",
	       TOR, "refuse CONNECTs to private addresses and local names"),
	V_BOOL("ClientDNSRejectInternalAddresses", client_dns_reject_internal,
	       "1", TOR, "refuse private answers from exits, and their PTRs"),
	V_CUSTOM("ConnectionPadding", parse_connection_padding,
		 connection_padding, "auto", TOR, "0|1|auto",
		 "pad the links to relays (auto: when the relay supports it)"),
	V_BOOL("ReducedConnectionPadding", reduced_connection_padding, "0", TOR,
	       "pad less, and ask relays not to pad"),
	V_CUSTOM("ControlPort", parse_control_port, control_ports, NULL, LIST,
		 "[ADDRESS:]PORT|auto|unix:PATH [FLAGS]",
		 "listen for controllers (Tor's control protocol) there"),
	V_CUSTOM("ControlSocket", parse_control_socket, control_ports, NULL,
		 LIST, "PATH [GroupWritable] [WorldWritable]",
		 "listen for controllers on this Unix socket"),
	V_BOOL("CookieAuthentication", cookie_auth, "0", 0,
	       "controllers must prove they can read the cookie file"),
	V_STRING("CookieAuthFile", cookie_auth_file, NULL, 0, "PATH",
		 "the cookie file (default DataDirectory/control_auth_cookie)"),
	V_BOOL("CookieAuthFileGroupReadable", cookie_auth_group_readable, "0",
	       0, "let the User's group read the cookie file"),
};
#define N_OPTS (sizeof(options) / sizeof(options[0]))

const struct tk_option *
tk_config_options(size_t *n)
{
	*n = N_OPTS;
	return options;
}

const struct tk_option *
tk_config_option(const char *name)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strcasecmp(name, options[i].name) == 0)
			return &options[i];
	return NULL;
}

/* What torrc.c may know of a keyword: its row and whether it repeats. */
static int
lookup(void *arg, const char *keyword, int *repeated)
{
	const struct tk_option *o = tk_config_option(keyword);

	if (o == NULL)
		return -1;
	*repeated = (o->flags & TK_OPTF_LIST) != 0;
	return (int)(o - options);
}

struct ctx {
	int to_log;
	int failed;
};

static void report(struct ctx *c, const struct tk_torrc_entry *e,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
report(struct ctx *c, const struct tk_torrc_entry *e, const char *fmt, ...)
{
	char msg[1024], where[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e == NULL)
		snprintf(where, sizeof(where), "configuration");
	else if (e->file == NULL)
		snprintf(where, sizeof(where), "command line (--%s)",
			 options[e->id].name);
	else
		snprintf(where, sizeof(where), "%s:%d", e->file, e->line);
	if (c->to_log)
		tk_warn("%s: %s", where, msg);
	else
		fprintf(stderr, "torkitd: %s: %s\n", where, msg);
	c->failed = 1;
}

/* What the tokenizer found wrong with an entry, if anything. */
static void
report_form(struct ctx *c, const struct tk_torrc_entry *e)
{
	switch (e->kind) {
	case TK_TORRC_UNKNOWN:
		if (e->file != NULL)
			report(c, e,
			       "unknown option \"%s\"; see "
			       "torkitd.conf(5) for the options torkitd "
			       "understands",
			       e->keyword);
		else if (c->to_log)
			tk_warn("command line: unknown option \"%s\"",
				e->keyword);
		else
			fprintf(stderr,
				"torkitd: unknown option \"%s\"; see "
				"torkitd(8)\n",
				e->keyword);
		c->failed = 1;
		break;
	case TK_TORRC_BAD_QUOTE:
		report(c, e, "badly quoted value for %s", options[e->id].name);
		break;
	case TK_TORRC_NUL:
		report(c, e, "NUL byte in the configuration file");
		break;
	case TK_TORRC_UNTERMINATED:
		report(c, e, "the file ends inside a continued line");
		break;
	case TK_TORRC_NO_VALUE:
		report(c, e, "missing value");
		break;
	default:
		break;
	}
}

static int
parse_bool(const char *v, int *out)
{
	if (strcmp(v, "0") == 0)
		*out = 0;
	else if (strcmp(v, "1") == 0)
		*out = 1;
	else
		return -1;
	return 0;
}

static int
parse_uint(const char *v, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n > max)
		return -1;
	*out = (unsigned)n;
	return 0;
}

struct conf_unit {
	const char *name;
	uint64_t mul;
};

/* Tor's "N" or "N unit" (the unit in any case, one of TABLE's): N times
 * the unit, refused where that leaves 64 bits. */
static int
parse_with_unit(const char *v, const struct conf_unit *table, size_t n_units,
		uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0') {
		size_t i;

		for (i = 0; i < n_units; i++)
			if (strcasecmp(end, table[i].name) == 0)
				break;
		if (i == n_units || n > UINT64_MAX / table[i].mul)
			return -1;
		n *= table[i].mul;
	}
	*out = n;
	return 0;
}

/* Tor's interval syntax: "N" (seconds) or "N unit". */
static int
parse_interval(const char *v, unsigned long min, unsigned long max,
	       unsigned *out)
{
	static const struct conf_unit units[] = {
		{ "second", 1 },  { "seconds", 1 },  { "sec", 1 },
		{ "s", 1 },	  { "minute", 60 },  { "minutes", 60 },
		{ "min", 60 },	  { "hour", 3600 },  { "hours", 3600 },
		{ "day", 86400 }, { "days", 86400 },
	};
	uint64_t n;

	if (parse_with_unit(v, units, ARRAY_SIZE(units), &n) < 0 || n < min ||
	    n > max)
		return -1;
	*out = (unsigned)n;
	return 0;
}

/* Tor's memory units: "N" (bytes) or "N unit". */
static int
parse_memunit(const char *v, unsigned long long max, uint64_t *out)
{
	static const struct conf_unit units[] = {
		{ "b", 1ULL << 0 },	     { "byte", 1ULL << 0 },
		{ "bytes", 1ULL << 0 },	     { "kb", 1ULL << 10 },
		{ "kbyte", 1ULL << 10 },     { "kbytes", 1ULL << 10 },
		{ "kilobyte", 1ULL << 10 },  { "kilobytes", 1ULL << 10 },
		{ "mb", 1ULL << 20 },	     { "mbyte", 1ULL << 20 },
		{ "mbytes", 1ULL << 20 },    { "megabyte", 1ULL << 20 },
		{ "megabytes", 1ULL << 20 }, { "gb", 1ULL << 30 },
		{ "gbyte", 1ULL << 30 },     { "gbytes", 1ULL << 30 },
		{ "gigabyte", 1ULL << 30 },  { "gigabytes", 1ULL << 30 },
		{ "tb", 1ULL << 40 },	     { "tbyte", 1ULL << 40 },
		{ "tbytes", 1ULL << 40 },    { "terabyte", 1ULL << 40 },
		{ "terabytes", 1ULL << 40 },
	};
	uint64_t n;

	if (parse_with_unit(v, units, ARRAY_SIZE(units), &n) < 0 ||
	    (max != 0 && n > max))
		return -1;
	*out = n;
	return 0;
}

/* "host:port", "[v6]:port", "port", "auto", "addr" (the default port),
 * "unix:/path" or unix:"/path". Returns 0, -1 bad, 1 disabled ("0"). */
static int
parse_port_addr(const char *s, struct tk_port_cfg *pc, unsigned port)
{
	char host[64];
	const char *portstr = NULL;
	uint8_t a[16];
	int fam;

	memset(&pc->ss, 0, sizeof(pc->ss));
	if (strncmp(s, "unix:", 5) == 0) {
		char tmp[256];
		const char *path = s + 5;

		if (*path == '"') {
			if (strlen(path) >= sizeof(tmp))
				return -1;
			strcpy(tmp, path);
			if (tk_torrc_unquote(tmp) < 0)
				return -1;
			path = tmp;
		}
		if (path[0] != '/' || strlen(path) >= sizeof(pc->path))
			return -1;
		pc->is_unix = 1;
		strcpy(pc->path, path);
		return 0;
	}
	if (strcmp(s, "0") == 0)
		return 1;
	if (strcasecmp(s, "auto") == 0) {
		strcpy(host, "127.0.0.1");
		port = 0;
	} else if (isdigit((unsigned char)s[0]) && strchr(s, '.') == NULL &&
		   strchr(s, ':') == NULL) {
		/* a bare port */
		if (parse_uint(s, 65535, &port) < 0)
			return -1;
		strcpy(host, "127.0.0.1");
	} else {
		const char *colon;

		if (s[0] == '[') {
			const char *close = strchr(s, ']');

			if (close == NULL ||
			    (size_t)(close - s + 1) >= sizeof(host))
				return -1;
			memcpy(host, s, (size_t)(close - s + 1));
			host[close - s + 1] = '\0';
			if (close[1] == ':')
				portstr = close + 2;
			else if (close[1] != '\0')
				return -1;
		} else {
			colon = strchr(s, ':');
			if (colon != NULL && strchr(colon + 1, ':') != NULL)
				return -1; /* bare IPv6 needs brackets */
			if (colon == NULL)
				colon = s + strlen(s);
			if ((size_t)(colon - s) >= sizeof(host))
				return -1;
			memcpy(host, s, (size_t)(colon - s));
			host[colon - s] = '\0';
			if (*colon == ':')
				portstr = colon + 1;
		}
		if (portstr != NULL) {
			if (strcasecmp(portstr, "auto") == 0)
				port = 0;
			else if (parse_uint(portstr, 65535, &port) < 0 ||
				 port == 0)
				return -1;
		}
	}
	fam = tk_ip_parse(host, a);
	if (fam == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&pc->ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		sin->sin_port = htons((uint16_t)port);
	} else if (fam == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&pc->ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
		sin6->sin6_port = htons((uint16_t)port);
	} else
		return -1;
	return 0;
}

static int
parse_port_flag(const char *flag, unsigned *flags)
{
	/* Tor's "No" forms of the isolation flags; NoIsolateClientAddr is
	 * the one that changes anything (IsolateClientAddr is on by
	 * default, as in Tor). */
	static const struct {
		const char *name;
		unsigned bit;
	} off[] = {
		{ "NoIsolateDestAddr", TK_PORT_ISOLATE_DEST_ADDR },
		{ "NoIsolateDestPort", TK_PORT_ISOLATE_DEST_PORT },
		{ "NoIsolateClientAddr", TK_PORT_ISOLATE_CLIENT_ADDR },
		{ "NoIsolateClientProtocol", TK_PORT_ISOLATE_CLIENT_PROTOCOL },
	};
	static const struct {
		const char *name;
		unsigned bit;
	} f[] = {
		{ "NoIsolateSOCKSAuth", TK_PORT_NO_ISOLATE_AUTH },
		{ "PreferSOCKSNoAuth", TK_PORT_PREFER_NO_AUTH },
		{ "ExtendedErrors", TK_PORT_EXTENDED_ERRORS },
		{ "PreferIPv6", TK_PORT_PREFER_IPV6 },
		{ "IsolateDestAddr", TK_PORT_ISOLATE_DEST_ADDR },
		{ "IsolateDestPort", TK_PORT_ISOLATE_DEST_PORT },
		{ "IsolateClientAddr", TK_PORT_ISOLATE_CLIENT_ADDR },
		{ "IsolateClientProtocol", TK_PORT_ISOLATE_CLIENT_PROTOCOL },
		{ "GroupWritable", TK_PORT_GROUP_WRITABLE },
		{ "WorldWritable", TK_PORT_WORLD_WRITABLE },
		/* Tor's defaults; accepted so torrc lines carry over. */
		{ "IsolateSOCKSAuth", 0 },
		{ "IPv4Traffic", 0 },
	};

	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		if (strcasecmp(flag, off[i].name) == 0) {
			*flags &= ~off[i].bit;
			return 0;
		}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcasecmp(flag, f[i].name) == 0) {
			*flags |= f[i].bit;
			return 0;
		}
	return -1;
}

/* Append PC to a list of ports; on failure PC's key is freed. */
static int
ports_push(struct tk_port_cfg **v, size_t *n, struct tk_port_cfg *pc, char *err,
	   size_t errlen)
{
	struct tk_port_cfg *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (nv == NULL) {
		free(pc->key);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*v = nv;
	nv[(*n)++] = *pc;
	return 0;
}

static int
parse_socks_port(struct tk_config *cfg, const struct tk_option *o,
		 const char *value, char *err, size_t errlen)
{
	char *copy = strdup(value), *save = NULL, *addr, *flag;
	struct tk_port_cfg pc = { .flags = TK_PORT_ISOLATE_CLIENT_ADDR };
	int rc;

	if (copy == NULL)
		goto oom;
	addr = strtok_r(copy, " \t", &save);
	if (addr == NULL) {
		snprintf(err, errlen,
			 "SocksPort needs a value: "
			 "[ADDRESS:]PORT, auto, or unix:/PATH");
		free(copy);
		return -1;
	}
	rc = parse_port_addr(addr, &pc, 9050);
	if (rc < 0) {
		snprintf(err, errlen,
			 "bad SocksPort address \"%s\": use "
			 "[ADDRESS:]PORT, [IPv6]:PORT, auto, or unix:/PATH "
			 "(an IP address, not a hostname)",
			 addr);
		free(copy);
		return -1;
	}
	while ((flag = strtok_r(NULL, " \t", &save)) != NULL) {
		if (parse_port_flag(flag, &pc.flags) < 0) {
			snprintf(err, errlen, "unknown SocksPort flag \"%s\"",
				 flag);
			free(copy);
			return -1;
		}
	}
	pc.key = rc == 1 ? NULL : strdup(addr);
	free(copy);
	if (rc == 1)
		return 0; /* "SocksPort 0": no listener */
	/* Tor: NoIsolateSOCKSAuth implies PreferSOCKSNoAuth. */
	if (pc.flags & TK_PORT_NO_ISOLATE_AUTH)
		pc.flags |= TK_PORT_PREFER_NO_AUTH;
	if (pc.key == NULL)
		goto oom;
	return ports_push(&cfg->ports, &cfg->n_ports, &pc, err, errlen);
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* Tor's ControlPort: an address as SocksPort's (port 9051 when none is
 * given) or unix:PATH, and the flags of a Unix socket. */
static int
add_control(struct tk_config *cfg, const char *what, const char *value,
	    int unix_only, char *err, size_t errlen)
{
	char *copy = strdup(value), *save = NULL, *addr, *flag;
	char path[sizeof(((struct tk_port_cfg *)0)->path) + 8];
	struct tk_port_cfg pc = { 0 };
	int rc;

	if (copy == NULL)
		goto oom;
	addr = strtok_r(copy, " \t", &save);
	if (addr == NULL) {
		snprintf(err, errlen, "%s needs a value", what);
		free(copy);
		return -1;
	}
	if (unix_only && strcmp(addr, "0") != 0) {
		snprintf(path, sizeof(path), "unix:%s", addr);
		rc = strlen(addr) + 6 > sizeof(path)
			     ? -1
			     : parse_port_addr(path, &pc, 9051);
	} else {
		rc = parse_port_addr(addr, &pc, 9051);
	}
	if (rc < 0) {
		snprintf(err, errlen,
			 unix_only ? "bad %s \"%s\": use an absolute PATH"
				   : "bad %s address \"%s\": use "
				     "[ADDRESS:]PORT, [IPv6]:PORT, auto, or "
				     "unix:/PATH (an IP address, not a "
				     "hostname)",
			 what, addr);
		free(copy);
		return -1;
	}
	while ((flag = strtok_r(NULL, " \t", &save)) != NULL) {
		if (strcasecmp(flag, "GroupWritable") == 0)
			pc.flags |= TK_PORT_GROUP_WRITABLE;
		else if (strcasecmp(flag, "WorldWritable") == 0)
			pc.flags |= TK_PORT_WORLD_WRITABLE;
		else if (strcasecmp(flag, "RelaxDirModeCheck") != 0) {
			/* RelaxDirModeCheck: accepted so torrc lines carry
			 * over; torkitd does not check the directory. */
			snprintf(err, errlen, "unknown %s flag \"%s\"", what,
				 flag);
			free(copy);
			return -1;
		}
	}
	if (rc == 1) {
		free(copy);
		return 0; /* "ControlPort 0": none */
	}
	pc.key = strdup(addr);
	free(copy);
	if (pc.key == NULL)
		goto oom;
	return ports_push(&cfg->control_ports, &cfg->n_control_ports, &pc, err,
			  errlen);
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int
parse_control_port(struct tk_config *cfg, const struct tk_option *o,
		   const char *value, char *err, size_t errlen)
{
	return add_control(cfg, "ControlPort", value, 0, err, errlen);
}

static int
parse_control_socket(struct tk_config *cfg, const struct tk_option *o,
		     const char *value, char *err, size_t errlen)
{
	return add_control(cfg, "ControlSocket", value, 1, err, errlen);
}

static int
parse_dns_server(struct tk_config *cfg, const struct tk_option *o,
		 const char *value, char *err, size_t errlen)
{
	char host[64], item[80];
	const char *v = value, *portstr = NULL;
	unsigned port = 53;
	uint8_t a[16];
	int fam;

	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (close == NULL || (size_t)(close - v + 1) >= sizeof(host))
			goto bad;
		memcpy(host, v, (size_t)(close - v + 1));
		host[close - v + 1] = '\0';
		if (close[1] == ':')
			portstr = close + 2;
		else if (close[1] != '\0')
			goto bad;
	} else {
		const char *colon = strchr(v, ':');

		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* bare IPv6, no port */
			if (strlen(v) + 2 >= sizeof(host))
				goto bad;
			snprintf(host, sizeof(host), "[%s]", v);
		} else {
			size_t hl = colon ? (size_t)(colon - v) : strlen(v);

			if (hl >= sizeof(host))
				goto bad;
			memcpy(host, v, hl);
			host[hl] = '\0';
			if (colon)
				portstr = colon + 1;
		}
	}
	if (portstr != NULL &&
	    (parse_uint(portstr, 65535, &port) < 0 || port == 0))
		goto bad;
	fam = tk_ip_parse(host, a);
	if (fam == 0)
		goto bad;
	if (fam == AF_INET)
		snprintf(item, sizeof(item), "%s:%u", host, port);
	else if (host[0] == '[')
		snprintf(item, sizeof(item), "%s:%u", host, port);
	else
		snprintf(item, sizeof(item), "[%s]:%u", host, port);
	{
		size_t old = cfg->dns_servers ? strlen(cfg->dns_servers) : 0;
		char *n = realloc(cfg->dns_servers, old + strlen(item) + 2);

		if (n == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (old == 0)
			strcpy(n, item);
		else {
			n[old] = ',';
			strcpy(n + old + 1, item);
		}
		cfg->dns_servers = n;
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "bad DNSServer \"%s\": use IP[:PORT] or "
		 "[IPv6]:PORT (an address, not a name)",
		 v);
	return -1;
}

static int
parse_socks_policy(struct tk_config *cfg, const struct tk_option *o,
		   const char *value, char *err, size_t errlen)
{
	return tk_policy_parse(&cfg->socks_policy, value, 0, err,
			       SUB_ERRLEN(errlen));
}

static int
parse_exit_policy(struct tk_config *cfg, const struct tk_option *o,
		  const char *value, char *err, size_t errlen)
{
	return tk_policy_parse(&cfg->exit_policy, value, 1, err,
			       SUB_ERRLEN(errlen));
}

static int
parse_engine(struct tk_config *cfg, const struct tk_option *o,
	     const char *value, char *err, size_t errlen)
{
	if (strcasecmp(value, "direct") == 0)
		cfg->engine = TK_ENGINE_DIRECT;
	else if (strcasecmp(value, "tor") == 0)
		cfg->engine = TK_ENGINE_TOR;
	else {
		snprintf(err, errlen,
			 "Engine must be \"direct\" or \"tor\", "
			 "not \"%s\"",
			 value);
		return -1;
	}
	return 0;
}

static int
parse_congestion_control(struct tk_config *cfg, const struct tk_option *o,
			 const char *value, char *err, size_t errlen)
{
	(void)o;
	if (strcasecmp(value, "auto") == 0)
		cfg->congestion_control = -1;
	else if (strcmp(value, "0") == 0 || strcmp(value, "1") == 0)
		cfg->congestion_control = value[0] - '0';
	else {
		snprintf(err, errlen,
			 "CongestionControl must be auto, 0 or 1, "
			 "not \"%s\"",
			 value);
		return -1;
	}
	return 0;
}

/* Tor's CSV of ports: commas, blanks around them ignored. */
static int
parse_long_lived_ports(struct tk_config *cfg, const struct tk_option *o,
		       const char *value, char *err, size_t errlen)
{
	const char *p = value;
	size_t n = 0;

	(void)o;
	for (;;) {
		char *end;
		unsigned long port;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		errno = 0;
		port = strtoul(p, &end, 10);
		if (errno || port < 1 || port > 65535)
			goto bad;
		if (n == TK_CONFIG_MAX_LONG_LIVED_PORTS) {
			snprintf(err, errlen,
				 "LongLivedPorts: at most %d ports",
				 TK_CONFIG_MAX_LONG_LIVED_PORTS);
			return -1;
		}
		cfg->long_lived_ports[n++] = (uint16_t)port;
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			goto bad;
	}
	cfg->n_long_lived_ports = n;
	return 0;
bad:
	snprintf(err, errlen,
		 "LongLivedPorts must be ports from 1 to 65535 separated by "
		 "commas, not \"%s\"",
		 value);
	return -1;
}

/* Tor's autobool: auto behaves as 0 for a client of relays (it matters
 * to tor only for bridges). */
static int
parse_prefer_ipv6_orport(struct tk_config *cfg, const struct tk_option *o,
			 const char *value, char *err, size_t errlen)
{
	(void)o;
	if (strcmp(value, "0") == 0 || strcmp(value, "1") == 0)
		cfg->client_prefer_ipv6_orport = value[0] - '0';
	else if (strcasecmp(value, "auto") == 0)
		cfg->client_prefer_ipv6_orport = -1;
	else {
		snprintf(err, errlen,
			 "ClientPreferIPv6ORPort must be 0, 1 or auto, not "
			 "\"%s\"",
			 value);
		return -1;
	}
	return 0;
}

static int
parse_connection_padding(struct tk_config *cfg, const struct tk_option *o,
			 const char *value, char *err, size_t errlen)
{
	/* Tor's values: auto pads when the link protocol allows (5+). */
	if (strcmp(value, "0") == 0)
		cfg->connection_padding = 0;
	else if (strcmp(value, "1") == 0)
		cfg->connection_padding = 1;
	else if (strcasecmp(value, "auto") == 0)
		cfg->connection_padding = -1;
	else {
		snprintf(err, errlen,
			 "ConnectionPadding must be 0, 1 or auto, not \"%s\"",
			 value);
		return -1;
	}
	return 0;
}

static int
parse_relay_splice(struct tk_config *cfg, const struct tk_option *o,
		   const char *value, char *err, size_t errlen)
{
	(void)o;
	if (strcmp(value, "0") == 0)
		cfg->relay_splice = 0;
	else if (strcmp(value, "1") == 0)
		cfg->relay_splice = 1;
	else if (strcasecmp(value, "auto") == 0)
		cfg->relay_splice = -1;
	else {
		snprintf(err, errlen,
			 "RelaySplice must be 0, 1 or auto, not \"%s\"", value);
		return -1;
	}
	return 0;
}

static int
parse_safe_logging(struct tk_config *cfg, const struct tk_option *o,
		   const char *value, char *err, size_t errlen)
{
	/* Tor's values; "relay" scrubs as 1 does for a client. */
	if (strcmp(value, "0") == 0)
		cfg->safe_logging = 0;
	else if (strcmp(value, "1") == 0 || strcasecmp(value, "relay") == 0)
		cfg->safe_logging = 1;
	else {
		snprintf(err, errlen,
			 "SafeLogging must be 0, 1 or relay, "
			 "not \"%s\"",
			 value);
		return -1;
	}
	return 0;
}

static int
parse_log(struct tk_config *cfg, const struct tk_option *o, const char *value,
	  char *err, size_t errlen)
{
	struct tk_log_sink s, *n;

	if (tk_dlog_parse_sink(value, &s, err, SUB_ERRLEN(errlen)) < 0)
		return -1;
	n = realloc(cfg->logs, (size_t)(cfg->n_logs + 1) * sizeof(*n));
	if (n == NULL) {
		free(s.path);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cfg->logs = n;
	cfg->logs[cfg->n_logs++] = s;
	return 0;
}

/* Append a copy of `value` to a list of lines. */
static int
lines_add(char ***v, size_t *n, const char *value, char *err, size_t errlen)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (nv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*v = nv;
	nv[*n] = strdup(value);
	if (nv[*n] == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	(*n)++;
	return 0;
}

static void
lines_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
parse_dir_authority(struct tk_config *cfg, const struct tk_option *o,
		    const char *value, char *err, size_t errlen)
{
	/* Stored for the tor engine, which checks the details. */
	if (*value == '\0' || strchr(value, ':') == NULL) {
		snprintf(err, errlen,
			 "DirAuthority needs at least "
			 "\"[nickname] [flags] IP:ORPort fingerprint\"");
		return -1;
	}
	return lines_add(&cfg->dir_authorities, &cfg->n_dir_authorities, value,
			 err, errlen);
}

static int
parse_fallback_dir(struct tk_config *cfg, const struct tk_option *o,
		   const char *value, char *err, size_t errlen)
{
	/* Stored for the tor engine, which checks the details. */
	if (strstr(value, "orport=") == NULL || strstr(value, "id=") == NULL) {
		snprintf(err, errlen,
			 "FallbackDir needs at least \"IP orport=PORT "
			 "id=FINGERPRINT\"");
		return -1;
	}
	return lines_add(&cfg->fallback_dirs, &cfg->n_fallback_dirs, value, err,
			 errlen);
}

/* tor expands a leading "~/" to the home directory. */
static int
parse_data_dir(struct tk_config *cfg, const struct tk_option *o,
	       const char *value, char *err, size_t errlen)
{
	const char *home = getenv("HOME");
	char *v;

	if (strncmp(value, "~/", 2) == 0) {
		if (home == NULL || *home == '\0') {
			snprintf(err, errlen,
				 "DataDirectory %s: no HOME to expand ~ with",
				 value);
			return -1;
		}
		if (asprintf(&v, "%s/%s", home, value + 2) < 0)
			v = NULL;
	} else {
		v = strdup(value);
	}
	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(cfg->data_dir);
	cfg->data_dir = v;
	return 0;
}

char *
tk_config_default_data_dir(void)
{
	const char *home = getenv("HOME");
	char *v;

	if (geteuid() != 0 && home != NULL && home[0] == '/' &&
	    strcmp(home, "/") != 0) {
		if (asprintf(&v, "%s/.torkit", home) < 0)
			return NULL;
		return v;
	}
	return strdup(TK_LOCALSTATEDIR "/lib/torkit");
}

int
tk_config_set(struct tk_config *cfg, const struct tk_option *o,
	      const char *value, char *err, size_t errlen)
{
	void *field = (char *)cfg + o->offset;
	struct tk_config_lines *lines;
	char **s;
	unsigned u;
	uint64_t m;
	int b;

	if (*value == '\0' && !(o->flags & TK_OPTF_EMPTY)) {
		snprintf(err, errlen, "%s needs a value", o->name);
		return -1;
	}
	switch (o->type) {
	case TK_OPT_BOOL:
		if (parse_bool(value, &b) < 0) {
			snprintf(err, errlen, "%s must be 0 or 1, not \"%s\"",
				 o->name, value);
			return -1;
		}
		*(int *)field = b;
		return 0;
	case TK_OPT_UINT:
		if (parse_uint(value, o->max, &u) < 0 || u < o->min) {
			snprintf(err, errlen,
				 "%s must be a number from %lu "
				 "to %lu, not \"%s\"",
				 o->name, o->min, o->max, value);
			return -1;
		}
		*(unsigned *)field = u;
		return 0;
	case TK_OPT_INTERVAL:
		if (parse_interval(value, o->min, o->max, &u) < 0) {
			snprintf(err, errlen,
				 "%s must be a time such as "
				 "\"120\", \"30 seconds\" or \"2 minutes\", "
				 "not \"%s\"",
				 o->name, value);
			return -1;
		}
		*(unsigned *)field = u;
		return 0;
	case TK_OPT_MEMUNIT:
		if (parse_memunit(value, o->max, &m) < 0 || m < o->min) {
			snprintf(err, errlen,
				 "%s must be an amount of memory such as "
				 "\"512 MB\" or \"2 GB\", not \"%s\"",
				 o->name, value);
			return -1;
		}
		*(uint64_t *)field = m;
		return 0;
	case TK_OPT_STRING:
		s = field;
		free(*s);
		*s = strdup(value);
		if (*s == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	case TK_OPT_LINES:
		lines = field;
		return lines_add(&lines->v, &lines->n, value, err, errlen);
	case TK_OPT_CUSTOM:
		return o->parse(cfg, o, value, err, errlen);
	}
	snprintf(err, errlen, "%s: no such option type", o->name);
	return -1;
}

void
tk_config_free(struct tk_config *cfg)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		void *field = (char *)cfg + options[i].offset;
		struct tk_config_lines *lines = field;

		if (options[i].type == TK_OPT_STRING)
			free(*(char **)field);
		else if (options[i].type == TK_OPT_LINES)
			lines_free(lines->v, lines->n);
	}
	/* What the custom types keep. */
	for (size_t i = 0; i < cfg->n_ports; i++)
		free(cfg->ports[i].key);
	free(cfg->ports);
	for (size_t i = 0; i < cfg->n_control_ports; i++)
		free(cfg->control_ports[i].key);
	free(cfg->control_ports);
	tk_policy_free(&cfg->socks_policy);
	tk_policy_free(&cfg->exit_policy);
	free(cfg->dns_servers);
	for (int i = 0; i < cfg->n_logs; i++)
		free(cfg->logs[i].path);
	free(cfg->logs);
	lines_free(cfg->dir_authorities, cfg->n_dir_authorities);
	lines_free(cfg->fallback_dirs, cfg->n_fallback_dirs);
	free(cfg->data_dir);
	memset(cfg, 0, sizeof(*cfg));
}

/* Defaults that depend on other options, as tor's: TestingTorNetwork
 * (only with DirAuthority lines) turns EnforceDistinctSubnets,
 * ClientRejectInternalAddresses and ClientDNSRejectInternalAddresses off
 * unless they are set (a test network lives on 127.0.0.0/8); the tor
 * engine gets a DataDirectory unless one is set. */
static void
apply_dependent_defaults(struct ctx *c, struct tk_config *cfg,
			 const uint8_t *seen)
{
	const struct tk_option *eds =
		tk_config_option("EnforceDistinctSubnets");
	const struct tk_option *cri =
		tk_config_option("ClientRejectInternalAddresses");
	const struct tk_option *cdri =
		tk_config_option("ClientDNSRejectInternalAddresses");

	if (cfg->testing_tor_network) {
		if (cfg->n_dir_authorities == 0) {
			report(c, NULL,
			       "TestingTorNetwork may only be configured with "
			       "a non-default set of DirAuthority lines");
			return;
		}
		if (!seen[eds - options])
			cfg->enforce_distinct_subnets = 0;
		if (!seen[cri - options])
			cfg->client_reject_internal = 0;
		if (!seen[cdri - options])
			cfg->client_dns_reject_internal = 0;
	}
	if (cfg->engine == TK_ENGINE_TOR && cfg->data_dir == NULL) {
		cfg->data_dir = tk_config_default_data_dir();
		if (cfg->data_dir == NULL)
			report(c, NULL, "out of memory");
	}
}

int
tk_config_load(const struct tk_config_source *src, struct tk_config *cfg,
	       int to_log)
{
	struct ctx c = { .to_log = to_log };
	struct tk_torrc t;
	const char *path = src->file ? src->file : DEFAULT_CONF;
	uint8_t seen[N_OPTS] = { 0 };
	char err[1024];
	FILE *f;

	memset(cfg, 0, sizeof(*cfg));
	tk_torrc_init(&t, lookup, NULL);
	f = fopen(path, "r");
	if (f == NULL) {
		if (src->file_given || errno != ENOENT) {
			if (to_log)
				tk_warn("cannot read configuration file %s: "
					"%s",
					path, strerror(errno));
			else
				fprintf(stderr,
					"torkitd: cannot read "
					"configuration file %s: %s\n",
					path, strerror(errno));
			return -1;
		}
	} else {
		if (tk_torrc_read(&t, path, f) < 0)
			report(&c, NULL, "out of memory");
		fclose(f);
	}
	if (tk_torrc_args(&t, src->argc, src->argv) < 0)
		report(&c, NULL, "out of memory");

	/* Every malformed line first, in order, then every bad value. */
	for (size_t i = 0; i < t.n; i++)
		report_form(&c, &t.v[i]);
	for (size_t i = 0; i < t.n; i++) {
		const struct tk_torrc_entry *e = &t.v[i];

		if (e->kind != TK_TORRC_ENTRY)
			continue;
		seen[e->id] = 1;
		if (tk_config_set(cfg, &options[e->id], e->value, err,
				  sizeof(err)) < 0)
			report(&c, e, "%s", err);
	}
	tk_torrc_free(&t);

	/* An option no line names takes its default, so a list default
	 * (SocksPort, Log) goes once any line is given, even "SocksPort
	 * 0". */
	for (size_t i = 0; i < N_OPTS && !c.failed; i++) {
		if (options[i].dflt == NULL || seen[i])
			continue;
		if (tk_config_set(cfg, &options[i], options[i].dflt, err,
				  sizeof(err)) < 0)
			report(&c, NULL, "default of %s: %s", options[i].name,
			       err);
	}
	if (!c.failed)
		apply_dependent_defaults(&c, cfg, seen);
	if (c.failed) {
		tk_config_free(cfg);
		return -1;
	}
	return 0;
}
