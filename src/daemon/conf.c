/* conf.c — read torkitd's torrc-style configuration.
 *
 * The file is Tor's format: `Keyword value` per line, keywords
 * case-insensitive, `#` comments, a trailing backslash continues a line,
 * values may be "quoted" with C escapes. A `--Keyword value` pair on the
 * command line replaces every file line of that keyword (as in Tor). Each
 * value is checked here, and any error names the file and line, so a bad
 * configuration never starts a half-working daemon.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "daemon/conf.h"

#ifndef TK_SYSCONFDIR
#define TK_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONF TK_SYSCONFDIR "/torkit/torkitd.conf"

enum opt_type {
	OPT_LIST,	/* every line counts */
	OPT_STRING,	/* last one wins */
	OPT_BOOL,
	OPT_UINT,
	OPT_INTERVAL,
};

struct opt_def {
	const char *name;
	enum opt_type type;
};

static const struct opt_def opts[] = {
	{ "SocksPort", OPT_LIST },
	{ "SocksPolicy", OPT_LIST },
	{ "ExitPolicy", OPT_LIST },
	{ "ExitPolicyRejectPrivate", OPT_BOOL },
	{ "Engine", OPT_STRING },
	{ "DNSServer", OPT_LIST },
	{ "SafeSocks", OPT_BOOL },
	{ "TestSocks", OPT_BOOL },
	{ "SafeLogging", OPT_STRING },
	{ "Log", OPT_LIST },
	{ "MaxClients", OPT_UINT },
	{ "SocksTimeout", OPT_INTERVAL },
	{ "PidFile", OPT_STRING },
	{ "RunAsDaemon", OPT_BOOL },
	{ "DataDirectory", OPT_STRING },
	{ "DirAuthority", OPT_LIST },
	{ "EnforceDistinctSubnets", OPT_BOOL },
	{ "HalfCloseLinger", OPT_INTERVAL },
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

const char *const tk_config_option_names[] = {
	"SocksPort", "SocksPolicy", "ExitPolicy", "ExitPolicyRejectPrivate",
	"Engine", "DNSServer", "SafeSocks", "TestSocks", "SafeLogging", "Log",
	"MaxClients", "SocksTimeout", "PidFile", "RunAsDaemon",
	"DataDirectory", "DirAuthority", "EnforceDistinctSubnets",
	"HalfCloseLinger", NULL,
};

/* One `Keyword value` occurrence, with where it came from. */
struct entry {
	int opt;		/* index in opts */
	char *value;
	const char *where;	/* file name or "command line" */
	int line;
	int from_cli;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

struct ctx {
	int to_log;
	int failed;
};

static void
report(struct ctx *c, const struct entry *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
report(struct ctx *c, const struct entry *e, const char *fmt, ...)
{
	char msg[1024], where[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e == NULL)
		snprintf(where, sizeof(where), "configuration");
	else if (e->from_cli)
		snprintf(where, sizeof(where), "command line (--%s)",
			 opts[e->opt].name);
	else
		snprintf(where, sizeof(where), "%s:%d", e->where, e->line);
	if (c->to_log)
		tk_warn("%s: %s", where, msg);
	else
		fprintf(stderr, "torkitd: %s: %s\n", where, msg);
	c->failed = 1;
}

static int
find_opt(const char *name)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strcasecmp(name, opts[i].name) == 0)
			return (int)i;
	return -1;
}

static int
push(struct entries *es, int opt, const char *value, size_t vlen,
     const char *where, int line, int from_cli)
{
	struct entry *e;

	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 32;
		struct entry *v = realloc(es->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		es->v = v;
		es->cap = cap;
	}
	e = &es->v[es->n];
	e->value = malloc(vlen + 1);
	if (e->value == NULL)
		return -1;
	memcpy(e->value, value, vlen);
	e->value[vlen] = '\0';
	e->opt = opt;
	e->where = where;
	e->line = line;
	e->from_cli = from_cli;
	es->n++;
	return 0;
}

static void
entries_free(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++)
		free(es->v[i].value);
	free(es->v);
}

/* Unquote a "..." value with C escapes in place; -1 if malformed. */
static int
unquote(char *s)
{
	size_t len = strlen(s);
	char *o = s;

	if (len < 2 || s[len - 1] != '"')
		return -1;
	s[len - 1] = '\0';
	for (char *p = s + 1; *p; p++) {
		if (*p == '"')
			return -1;
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case '\\': *o++ = '\\'; break;
		case '"': *o++ = '"'; break;
		case '\'': *o++ = '\''; break;
		default: return -1;
		}
	}
	*o = '\0';
	return 0;
}

/* Split the file into entries. Unknown keywords are reported here. */
static int
read_file(struct ctx *c, const char *path, FILE *f, struct entries *es)
{
	char *line = NULL, *logical = NULL;
	size_t cap = 0, llen = 0;
	ssize_t n;
	int lineno = 0, start_line = 0;

	while ((n = getline(&line, &cap, f)) >= 0) {
		char *p, *key, *val, *end;
		struct entry where = { .where = path };
		int cont = 0, in_q = 0;

		lineno++;
		if (logical == NULL)
			start_line = lineno;
		if (memchr(line, '\0', (size_t)n) != NULL) {
			where.line = lineno;
			report(c, &where, "NUL byte in the configuration file");
			continue;
		}
		/* Strip the comment (outside quotes) and the newline. */
		for (p = line; *p; p++) {
			if (*p == '"' && (p == line || p[-1] != '\\'))
				in_q = !in_q;
			if (*p == '#' && !in_q) {
				*p = '\0';
				break;
			}
		}
		end = line + strlen(line);
		while (end > line && (end[-1] == '\n' || end[-1] == '\r'))
			*--end = '\0';
		if (end > line && end[-1] == '\\') {
			*--end = '\0';
			cont = 1;
		}
		{
			size_t add = strlen(line);
			char *nl = realloc(logical, llen + add + 2);

			if (nl == NULL)
				goto oom;
			logical = nl;
			memcpy(logical + llen, line, add);
			llen += add;
			logical[llen] = '\0';
		}
		if (cont)
			continue;

		p = logical;
		while (isspace((unsigned char)*p))
			p++;
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*p != '\0') {
			int opt;

			key = p;
			while (*p && !isspace((unsigned char)*p))
				p++;
			if (*p)
				*p++ = '\0';
			while (isspace((unsigned char)*p))
				p++;
			val = p;
			where.line = start_line;
			opt = find_opt(key);
			if (opt < 0) {
				report(c, &where, "unknown option \"%s\"; see "
				       "torkitd.conf(5) for the options "
				       "torkitd understands", key);
			} else if (*val == '"' && unquote(val) < 0) {
				where.opt = opt;
				report(c, &where, "badly quoted value for %s",
				       opts[opt].name);
			} else if (push(es, opt, val, strlen(val), path,
					start_line, 0) < 0)
				goto oom;
		}
		free(logical);
		logical = NULL;
		llen = 0;
	}
	if (logical != NULL) {
		struct entry where = { .where = path, .line = start_line };

		report(c, &where, "the file ends inside a continued line");
	}
	free(line);
	free(logical);
	return 0;
oom:
	free(line);
	free(logical);
	report(c, NULL, "out of memory");
	return -1;
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

/* Tor's interval syntax: "N" (seconds) or "N unit". */
static int
parse_interval(const char *v, unsigned *out)
{
	static const struct { const char *u; unsigned long mul; } units[] = {
		{ "second", 1 }, { "seconds", 1 }, { "sec", 1 }, { "s", 1 },
		{ "minute", 60 }, { "minutes", 60 }, { "min", 60 },
		{ "hour", 3600 }, { "hours", 3600 },
		{ "day", 86400 }, { "days", 86400 },
	};
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0') {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcasecmp(end, units[i].u) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		if (n > 0xffffffffUL / units[i].mul)
			return -1;
		n *= units[i].mul;
	}
	if (n == 0 || n > 86400UL * 365)
		return -1;
	*out = (unsigned)n;
	return 0;
}

/* "host:port", "[v6]:port", "port", "auto", "addr" (port 9050),
 * "unix:/path" or unix:"/path". Returns 0, -1 bad, 1 disabled ("0"). */
static int
parse_port_addr(const char *s, struct tk_port_cfg *pc)
{
	char host[64];
	const char *portstr = NULL;
	uint8_t a[16];
	unsigned port = 9050;
	int fam;

	memset(&pc->ss, 0, sizeof(pc->ss));
	if (strncmp(s, "unix:", 5) == 0) {
		char tmp[256];
		const char *path = s + 5;

		if (*path == '"') {
			if (strlen(path) >= sizeof(tmp))
				return -1;
			strcpy(tmp, path);
			if (unquote(tmp) < 0)
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
				return -1;	/* bare IPv6 needs brackets */
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
	static const struct { const char *name; unsigned bit; } off[] = {
		{ "NoIsolateDestAddr", TK_PORT_ISOLATE_DEST_ADDR },
		{ "NoIsolateDestPort", TK_PORT_ISOLATE_DEST_PORT },
		{ "NoIsolateClientAddr", TK_PORT_ISOLATE_CLIENT_ADDR },
		{ "NoIsolateClientProtocol", TK_PORT_ISOLATE_CLIENT_PROTOCOL },
	};
	static const struct { const char *name; unsigned bit; } f[] = {
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

static int
add_port(struct ctx *c, const struct entry *e, struct tk_config *cfg)
{
	char *copy = strdup(e->value), *save = NULL, *addr, *flag;
	struct tk_port_cfg pc = { .flags = TK_PORT_ISOLATE_CLIENT_ADDR };
	int rc;

	if (copy == NULL) {
		report(c, e, "out of memory");
		return -1;
	}
	addr = strtok_r(copy, " \t", &save);
	if (addr == NULL) {
		report(c, e, "SocksPort needs a value: [ADDRESS:]PORT, auto, "
		       "or unix:/PATH");
		free(copy);
		return -1;
	}
	rc = parse_port_addr(addr, &pc);
	if (rc < 0) {
		report(c, e, "bad SocksPort address \"%s\": use [ADDRESS:]"
		       "PORT, [IPv6]:PORT, auto, or unix:/PATH (an IP "
		       "address, not a hostname)", addr);
		free(copy);
		return -1;
	}
	while ((flag = strtok_r(NULL, " \t", &save)) != NULL) {
		if (parse_port_flag(flag, &pc.flags) < 0) {
			report(c, e, "unknown SocksPort flag \"%s\"", flag);
			free(copy);
			return -1;
		}
	}
	pc.key = rc == 1 ? NULL : strdup(addr);
	free(copy);
	if (rc == 1)
		return 0;	/* "SocksPort 0": no listener */
	/* Tor: NoIsolateSOCKSAuth implies PreferSOCKSNoAuth. */
	if (pc.flags & TK_PORT_NO_ISOLATE_AUTH)
		pc.flags |= TK_PORT_PREFER_NO_AUTH;
	if (pc.key == NULL) {
		report(c, e, "out of memory");
		return -1;
	}
	{
		struct tk_port_cfg *v = realloc(cfg->ports,
			(cfg->n_ports + 1) * sizeof(*v));

		if (v == NULL) {
			free(pc.key);
			report(c, e, "out of memory");
			return -1;
		}
		cfg->ports = v;
		cfg->ports[cfg->n_ports++] = pc;
	}
	return 0;
}

static int
add_dns_server(struct ctx *c, const struct entry *e, struct tk_config *cfg)
{
	char host[64], item[80];
	const char *v = e->value, *portstr = NULL;
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
	if (portstr != NULL && (parse_uint(portstr, 65535, &port) < 0 ||
				port == 0))
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
			report(c, e, "out of memory");
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
	report(c, e, "bad DNSServer \"%s\": use IP[:PORT] or [IPv6]:PORT "
	       "(an address, not a name)", v);
	return -1;
}

static char *
xstrdup(struct ctx *c, const struct entry *e, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		report(c, e, "out of memory");
	return d;
}

static void
apply(struct ctx *c, const struct entry *e, struct tk_config *cfg)
{
	const char *name = opts[e->opt].name;
	const char *v = e->value;
	char err[256];
	unsigned u = 0;
	int b = 0;

	if (*v == '\0' && opts[e->opt].type != OPT_LIST) {
		report(c, e, "%s needs a value", name);
		return;
	}
	switch (opts[e->opt].type) {
	case OPT_BOOL:
		if (parse_bool(v, &b) < 0) {
			report(c, e, "%s must be 0 or 1, not \"%s\"", name, v);
			return;
		}
		break;
	case OPT_UINT:
		if (parse_uint(v, 1000000, &u) < 0 || u == 0) {
			report(c, e, "%s must be a number from 1 to 1000000, "
			       "not \"%s\"", name, v);
			return;
		}
		break;
	case OPT_INTERVAL:
		if (parse_interval(v, &u) < 0) {
			report(c, e, "%s must be a time such as \"120\", "
			       "\"30 seconds\" or \"2 minutes\", not \"%s\"",
			       name, v);
			return;
		}
		break;
	default:
		break;
	}

	if (strcmp(name, "SocksPort") == 0)
		add_port(c, e, cfg);
	else if (strcmp(name, "SocksPolicy") == 0) {
		if (tk_policy_parse(&cfg->socks_policy, v, 0, err,
				    sizeof(err)) < 0)
			report(c, e, "%s", err);
	} else if (strcmp(name, "ExitPolicy") == 0) {
		if (tk_policy_parse(&cfg->exit_policy, v, 1, err,
				    sizeof(err)) < 0)
			report(c, e, "%s", err);
	} else if (strcmp(name, "ExitPolicyRejectPrivate") == 0)
		cfg->exit_reject_private = b;
	else if (strcmp(name, "Engine") == 0) {
		if (strcasecmp(v, "direct") == 0)
			cfg->engine = TK_ENGINE_DIRECT;
		else if (strcasecmp(v, "tor") == 0)
			cfg->engine = TK_ENGINE_TOR;
		else
			report(c, e, "Engine must be \"direct\" or \"tor\", "
			       "not \"%s\"", v);
	} else if (strcmp(name, "DNSServer") == 0)
		add_dns_server(c, e, cfg);
	else if (strcmp(name, "SafeSocks") == 0)
		cfg->safe_socks = b;
	else if (strcmp(name, "TestSocks") == 0)
		cfg->test_socks = b;
	else if (strcmp(name, "SafeLogging") == 0) {
		/* Tor's values; "relay" scrubs as 1 does for a client. */
		if (strcmp(v, "0") == 0)
			cfg->safe_logging = 0;
		else if (strcmp(v, "1") == 0 || strcasecmp(v, "relay") == 0)
			cfg->safe_logging = 1;
		else
			report(c, e, "SafeLogging must be 0, 1 or relay, "
			       "not \"%s\"", v);
	} else if (strcmp(name, "Log") == 0) {
		struct tk_log_sink s, *n;

		if (tk_dlog_parse_sink(v, &s, err, sizeof(err)) < 0) {
			report(c, e, "%s", err);
			return;
		}
		n = realloc(cfg->logs, (size_t)(cfg->n_logs + 1) * sizeof(*n));
		if (n == NULL) {
			free(s.path);
			report(c, e, "out of memory");
			return;
		}
		cfg->logs = n;
		cfg->logs[cfg->n_logs++] = s;
	} else if (strcmp(name, "MaxClients") == 0)
		cfg->max_clients = u;
	else if (strcmp(name, "SocksTimeout") == 0)
		cfg->socks_timeout = u;
	else if (strcmp(name, "PidFile") == 0) {
		free(cfg->pid_file);
		cfg->pid_file = xstrdup(c, e, v);
	} else if (strcmp(name, "RunAsDaemon") == 0)
		cfg->run_as_daemon = b;
	else if (strcmp(name, "EnforceDistinctSubnets") == 0)
		cfg->enforce_distinct_subnets = b;
	else if (strcmp(name, "HalfCloseLinger") == 0)
		cfg->half_close_linger = u;
	else if (strcmp(name, "DataDirectory") == 0) {
		free(cfg->data_dir);
		cfg->data_dir = xstrdup(c, e, v);
	} else if (strcmp(name, "DirAuthority") == 0) {
		char **n;

		/* Stored for the tor engine, which checks the details. */
		if (*v == '\0' || strchr(v, ':') == NULL) {
			report(c, e, "DirAuthority needs at least "
			       "\"[nickname] [flags] IP:ORPort fingerprint\"");
			return;
		}
		n = realloc(cfg->dir_authorities,
			    (cfg->n_dir_authorities + 1) * sizeof(*n));
		if (n == NULL) {
			report(c, e, "out of memory");
			return;
		}
		cfg->dir_authorities = n;
		n[cfg->n_dir_authorities] = xstrdup(c, e, v);
		if (n[cfg->n_dir_authorities] != NULL)
			cfg->n_dir_authorities++;
	}
}

static void
set_defaults(struct tk_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->exit_reject_private = 1;
	cfg->engine = TK_ENGINE_DIRECT;
	cfg->safe_logging = 1;
	cfg->max_clients = 4096;
	cfg->socks_timeout = 120;	/* Tor's default: 2 minutes */
	cfg->enforce_distinct_subnets = 1;	/* as Tor */
	cfg->half_close_linger = 30;	/* DESIGN.md: tor engine half-close */
}

void
tk_config_free(struct tk_config *cfg)
{
	for (size_t i = 0; i < cfg->n_ports; i++)
		free(cfg->ports[i].key);
	free(cfg->ports);
	tk_policy_free(&cfg->socks_policy);
	tk_policy_free(&cfg->exit_policy);
	free(cfg->dns_servers);
	for (int i = 0; i < cfg->n_logs; i++)
		free(cfg->logs[i].path);
	free(cfg->logs);
	free(cfg->pid_file);
	free(cfg->data_dir);
	for (size_t i = 0; i < cfg->n_dir_authorities; i++)
		free(cfg->dir_authorities[i]);
	free(cfg->dir_authorities);
	memset(cfg, 0, sizeof(*cfg));
}

int
tk_config_load(const struct tk_config_source *src, struct tk_config *cfg,
	       int to_log)
{
	struct ctx c = { .to_log = to_log };
	struct entries es = { 0 };
	const char *path = src->file ? src->file : DEFAULT_CONF;
	uint8_t cli_has[N_OPTS] = { 0 };
	int saw_socksport = 0;
	FILE *f;

	set_defaults(cfg);
	f = fopen(path, "r");
	if (f == NULL) {
		if (src->file_given || errno != ENOENT) {
			if (to_log)
				tk_warn("cannot read configuration file %s: "
					"%s", path, strerror(errno));
			else
				fprintf(stderr, "torkitd: cannot read "
					"configuration file %s: %s\n", path,
					strerror(errno));
			return -1;
		}
	} else {
		read_file(&c, path, f, &es);
		fclose(f);
	}

	for (int i = 0; i < src->argc; i++) {
		const char *a = src->argv[i];
		struct entry where = { .where = "command line", .line = i + 1,
				       .from_cli = 1 };
		int opt;

		if (strncmp(a, "--", 2) != 0 || (opt = find_opt(a + 2)) < 0) {
			if (to_log)
				tk_warn("command line: unknown option \"%s\"",
					a);
			else
				fprintf(stderr, "torkitd: unknown option "
					"\"%s\"; see torkitd(8)\n", a);
			c.failed = 1;
			continue;
		}
		where.opt = opt;
		if (i + 1 >= src->argc) {
			report(&c, &where, "missing value");
			break;
		}
		i++;
		cli_has[opt] = 1;
		if (push(&es, opt, src->argv[i], strlen(src->argv[i]),
			 "command line", i, 1) < 0) {
			report(&c, NULL, "out of memory");
			break;
		}
	}

	/* A list option given on the command line replaces the file's. */
	for (size_t i = 0; i < es.n; i++) {
		const struct entry *e = &es.v[i];

		if (opts[e->opt].type == OPT_LIST && cli_has[e->opt] &&
		    !e->from_cli)
			continue;
		if (strcmp(opts[e->opt].name, "SocksPort") == 0)
			saw_socksport = 1;
		else if (opts[e->opt].type == OPT_LIST && *e->value == '\0') {
			report(&c, e, "%s needs a value", opts[e->opt].name);
			continue;
		}
		apply(&c, e, cfg);
	}
	entries_free(&es);

	/* Tor's defaults: SocksPort 9050 on loopback unless any SocksPort
	 * line was given (even "0"); "Log notice stdout". */
	if (!c.failed && !saw_socksport) {
		struct entry def = { .opt = find_opt("SocksPort"),
				     .value = "127.0.0.1:9050",
				     .where = "default" };

		add_port(&c, &def, cfg);
	}
	if (!c.failed && cfg->n_logs == 0) {
		struct entry def = { .opt = find_opt("Log"),
				     .value = "notice stdout",
				     .where = "default" };

		apply(&c, &def, cfg);
	}
	if (c.failed) {
		tk_config_free(cfg);
		return -1;
	}
	return 0;
}
