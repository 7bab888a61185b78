/* Unit tests for src/daemon/torrc.c (the tokenizer, alone, with a
 * three-keyword lookup) and src/daemon/conf.c (the option table, its
 * defaults, its messages). */
#include "daemon/conf.h"
#include "daemon/torrc.h"

#include "../unit/tap.h"

/* as tests/unit/daemon.mk compiles conf.c */
#define TK_LOCALSTATEDIR_TEST "/var/test"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

/* The tokenizer's view of the world: Alpha (single), List and Other
 * (every line counts). */
static int lookup(void *arg, const char *keyword, int *repeated)
{
	static const char *const names[] = {"Alpha", "List", "Other"};
	(void)arg;
	for (int i = 0; i < 3; i++)
		if (strcasecmp(keyword, names[i]) == 0) {
			*repeated = i > 0;
			return i;
		}
	return -1;
}

/* Entries as one string: "KIND keyword=[value]@where" joined by " | ". */
static void render(const struct tk_torrc *t, char *out, size_t cap)
{
	static const char *const kinds[] = {"E", "UNKNOWN", "BADQUOTE", "NUL",
					    "UNTERMINATED", "NOVALUE"};
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < t->n && n < cap; i++) {
		const struct tk_torrc_entry *e = &t->v[i];
		char where[32];
		if (e->file != NULL)
			snprintf(where, sizeof where, "%d", e->line);
		else
			snprintf(where, sizeof where, "cli");
		n += (size_t)snprintf(out + n, cap - n, "%s%s %s=[%s]@%s",
				      i ? " | " : "", kinds[e->kind],
				      e->keyword ? e->keyword : "-", e->value,
				      where);
	}
}

/* Tokenize `len` bytes of file text, then `args`; compare. */
static void tok(const char *text, size_t len, char **args, int nargs,
		const char *want, const char *what)
{
	struct tk_torrc t;
	char got[2048];
	FILE *f = fmemopen((void *)text, len, "r");
	tk_torrc_init(&t, lookup, NULL);
	tap_ok(f != NULL && tk_torrc_read(&t, "f", f) == 0 &&
		       tk_torrc_args(&t, nargs, args) == 0,
	       "%s: tokenized", what);
	if (f != NULL)
		fclose(f);
	render(&t, got, sizeof got);
	tap_eq_str(got, want, "%s", what);
	tk_torrc_free(&t);
}

#define TOK(text, want, what) tok(text, sizeof(text) - 1, NULL, 0, want, what)
#define TOKA(text, args, want, what) \
	tok(text, sizeof(text) - 1, args, sizeof(args) / sizeof(args[0]), \
	    want, what)

static void test_file(void)
{
	TOK("", "", "empty file");
	TOK("# only\n\n   \t\n#x\n", "", "comments and blank lines");
	TOK("Alpha  one  two \n", "E Alpha=[one  two]@1",
	    "value trimmed, inner space kept");
	TOK("  aLPHA\tx\n", "E aLPHA=[x]@1",
	    "keyword any case, as written; tab separates");
	TOK("Alpha\n", "E Alpha=[]@1", "keyword alone: empty value");
	TOK("Alpha x # comment\nList y#z\n", "E Alpha=[x]@1 | E List=[y]@2",
	    "comments stripped");
	TOK("Alpha 1\r\nList 2\r\n", "E Alpha=[1]@1 | E List=[2]@2",
	    "CRLF line ends");
	TOK("Alpha 1", "E Alpha=[1]@1", "no newline at the end");
	TOK("\n\nBogus \"x\nAlpha \"x\n",
	    "UNKNOWN Bogus=[\"x]@3 | BADQUOTE Alpha=[\"x]@4",
	    "unknown keyword wins over its bad quoting");
}

static void test_quotes(void)
{
	TOK("Alpha \"a # b\"\n", "E Alpha=[a # b]@1", "# inside quotes");
	TOK("Alpha \"a\\\"#b\" # c\n", "E Alpha=[a\"#b]@1",
	    "escaped quote does not end the quotes");
	TOK("Alpha \"\\t\\\\\\'\"\n", "E Alpha=[\t\\']@1", "C escapes");
	TOK("Alpha \"\"\n", "E Alpha=[]@1", "empty quotes");
	TOK("Alpha \"a\\q\"\n", "BADQUOTE Alpha=[\"a\\q\"]@1",
	    "unknown escape");
	TOK("Alpha \"a\"b\"\n", "BADQUOTE Alpha=[\"a\"b\"]@1",
	    "quote inside quotes");
	TOK("Alpha \"\n", "BADQUOTE Alpha=[\"]@1", "lone quote");
	TOK("Alpha x\"y\"\n", "E Alpha=[x\"y\"]@1",
	    "quotes not at the start are kept");

	static const struct {
		const char *in, *out;
	} rows[] = {{"\"a b\"", "a b"}, {"\"\\n\\r\"", "\n\r"},
		    {"\"x\\\"y\"", "x\"y"}, {"\"x", NULL}, {"\"", NULL},
		    {"\"a\\\"", NULL}, {"\"\\x41\"", NULL}};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char buf[32];
		snprintf(buf, sizeof buf, "%s", rows[i].in);
		int rc = tk_torrc_unquote(buf);
		if (rows[i].out == NULL)
			tap_eq_long(rc, -1, "unquote %s refused", rows[i].in);
		else
			tap_ok(rc == 0 && strcmp(buf, rows[i].out) == 0,
			       "unquote %s", rows[i].in);
	}
}

static void test_continuations(void)
{
	TOK("Alpha a\\\n b\\\n c\nList z\n",
	    "E Alpha=[a b c]@1 | E List=[z]@4",
	    "continued line: one entry at its first line");
	TOK("Alpha a # c \\\nList z\n", "E Alpha=[a]@1 | E List=[z]@2",
	    "a backslash in a comment continues nothing");
	TOK("Alpha a \\\n# note\nList z\n",
	    "E Alpha=[a]@1 | E List=[z]@3",
	    "a comment line ends a continued line");
	TOK("List a\nAlpha 1\\\n", "E List=[a]@1 | UNTERMINATED -=[]@2",
	    "file ends inside a continued line");
	TOK("Alpha 1\\", "UNTERMINATED -=[]@1",
	    "... also without a newline");
}

static void test_nul(void)
{
	TOK("Alpha 1\0 x\nList 2\n", "NUL -=[]@1 | E List=[2]@2",
	    "a NUL byte skips its line");
	TOK("\0\nAlpha 5\n", "NUL -=[]@1 | E Alpha=[5]@2", "NUL line first");
	TOK("Alpha 1\\\n\0junk\n2\n", "NUL -=[]@2 | E Alpha=[12]@1",
	    "a NUL line inside a continued line is skipped, the join goes on");
}

static void test_args(void)
{
	char *a1[] = {"--Alpha", " \"x\" ", "--list", "2"};
	TOKA("", a1, "E Alpha=[ \"x\" ]@cli | E list=[2]@cli",
	     "--Keyword value: as given, not unquoted");
	char *a2[] = {"--Nope", "1", "stray", "--", "--Alpha", "v"};
	TOKA("", a2,
	     "UNKNOWN --Nope=[]@cli | UNKNOWN 1=[]@cli | UNKNOWN stray=[]@cli"
	     " | UNKNOWN --=[]@cli | E Alpha=[v]@cli",
	     "an unknown argument leaves the next one be");
	char *a3[] = {"--Alpha", "1", "--List"};
	TOKA("", a3, "E Alpha=[1]@cli | NOVALUE List=[]@cli",
	     "--Keyword last: no value");
	char *a4[] = {"--list", "d", "--Alpha", "e", "--LIST", "f"};
	TOKA("List a\nAlpha b\nOther x\nlist c\n", a4,
	     "E Alpha=[b]@2 | E Other=[x]@3 | E list=[d]@cli | "
	     "E Alpha=[e]@cli | E LIST=[f]@cli",
	     "a list on the command line replaces the file's lines");
	char *a5[] = {"--List"};
	TOKA("List a\n", a5, "E List=[a]@1 | NOVALUE List=[]@cli",
	     "a missing value replaces nothing");
	char *a6[] = {"--List", "b"};
	TOKA("List \"bad\nList a\n\0\n", a6,
	     "BADQUOTE List=[\"bad]@1 | NUL -=[]@3 | E List=[b]@cli",
	     "replaced lines go, problems stay");
	char *a7[] = {"--Nope", "--Alpha", "1"};
	TOKA("Alpha 0\n", a7,
	     "E Alpha=[0]@1 | UNKNOWN --Nope=[]@cli | E Alpha=[1]@cli",
	     "a single option: both lines stay, the last wins later");
}

/* The option table itself. */
static void test_table(void)
{
	size_t n;
	const struct tk_option *opts = tk_config_options(&n);
	tap_ok(n >= 18, "%zu options", n);
	for (size_t i = 0; i < n; i++) {
		const struct tk_option *o = &opts[i];
		int dup = 0;
		for (size_t j = 0; j < i; j++)
			dup |= strcasecmp(o->name, opts[j].name) == 0;
		tap_ok(!dup && o->name[0] != '\0', "%s: a unique name",
		       o->name);
		tap_ok(o->summary != NULL && o->summary[0] != '\0' &&
			       strchr(o->summary, '\n') == NULL &&
			       o->syntax != NULL && o->syntax[0] != '\0',
		       "%s: summary and syntax", o->name);
		tap_ok((o->type == TK_OPT_CUSTOM) == (o->parse != NULL),
		       "%s: a parse function exactly when custom", o->name);
		tap_ok(o->type != TK_OPT_LINES || (o->flags & TK_OPTF_LIST),
		       "%s: a list of lines is a list", o->name);
		tap_ok(o->offset < sizeof(struct tk_config), "%s: offset",
		       o->name);
		if (o->type == TK_OPT_UINT || o->type == TK_OPT_INTERVAL)
			tap_ok(o->min <= o->max && o->max <= 0xffffffffUL,
			       "%s: range %lu..%lu", o->name, o->min, o->max);
		tap_ok(tk_config_option(o->name) == o, "%s: found by name",
		       o->name);
		if (o->dflt != NULL) {
			struct tk_config cfg;
			char err[256] = "";
			memset(&cfg, 0, sizeof cfg);
			tap_eq_long(tk_config_set(&cfg, o, o->dflt, err,
						  sizeof err),
				    0, "%s: default \"%s\" parses %s", o->name,
				    o->dflt, err);
			tk_config_free(&cfg);
		}
	}
	tap_ok(tk_config_option("sOCKSpORT") ==
		       tk_config_option("SocksPort") &&
		       tk_config_option("SocksPort") != NULL,
	       "lookup is case-insensitive");
	tap_ok(tk_config_option("Bogus") == NULL &&
		       tk_config_option("") == NULL &&
		       tk_config_option("SocksPor") == NULL,
	       "unknown names are not found");
}

/* Load `text` (a file) plus `args`; the result of tk_config_load. */
static int load(const char *text, char **args, int nargs,
		struct tk_config *cfg)
{
	char path[] = "/tmp/test_conf.XXXXXX";
	int fd = mkstemp(path), rc;
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -2;
	close(fd);
	struct tk_config_source src = {.file = path, .file_given = 1,
				       .argc = nargs, .argv = args};
	rc = tk_config_load(&src, cfg, 0);
	unlink(path);
	return rc;
}

/* What set_defaults() and the SocksPort / Log defaults gave before the
 * table existed. */
static void test_defaults(void)
{
	struct tk_config cfg;
	tap_eq_long(load("", NULL, 0, &cfg), 0, "empty file loads");
	tap_eq_long(cfg.exit_reject_private, 1, "ExitPolicyRejectPrivate 1");
	tap_eq_long(cfg.engine, TK_ENGINE_TOR, "Engine tor");
	tap_eq_long(cfg.safe_logging, 1, "SafeLogging 1");
	tap_eq_long(cfg.max_clients, 4096, "MaxClients 4096");
	tap_eq_long(cfg.socks_timeout, 120, "SocksTimeout 120");
	tap_eq_long(cfg.enforce_distinct_subnets, 1,
		    "EnforceDistinctSubnets 1");
	tap_eq_long(cfg.half_close_linger, 30, "HalfCloseLinger 30");
	tap_eq_long(cfg.congestion_control, -1, "CongestionControl auto");
	{
		static const uint16_t ll[] = {21,   22,	  706,	1863,
					      5050, 5190, 5222, 5223,
					      6523, 6667, 6697, 8300};
		tap_ok(cfg.n_long_lived_ports == 12 &&
			       memcmp(cfg.long_lived_ports, ll, sizeof ll) == 0,
		       "LongLivedPorts: tor's list");
	}
	tap_ok(cfg.client_reject_internal == 1 &&
		       cfg.client_dns_reject_internal == 1,
	       "Client[DNS]RejectInternalAddresses 1, as Tor");
	tap_eq_long(cfg.exit_reject_local_interfaces, 1,
		    "ExitPolicyRejectLocalInterfaces 1");
	tap_ok(cfg.max_mem_in_queues == 0 && cfg.idle_timeout == 0 &&
		       cfg.max_clients_per_address == 0 && cfg.user == NULL,
	       "MaxMemInQueues auto, no IdleTimeout, no per-address limit, "
	       "no User");
	tap_ok(cfg.client_use_ipv4 == 1 && cfg.client_use_ipv6 == 0 &&
		       cfg.client_prefer_ipv6_orport == -1,
	       "ClientUseIPv4 1, ClientUseIPv6 0, ClientPreferIPv6ORPort "
	       "auto, as Tor");
	tap_eq_long(cfg.connection_padding, -1, "ConnectionPadding auto");
	tap_eq_long(cfg.relay_splice, -1, "RelaySplice auto");
	tap_eq_long(cfg.reduced_connection_padding, 0,
		    "ReducedConnectionPadding 0");
	tap_ok(cfg.safe_socks == 0 && cfg.test_socks == 0 &&
		       cfg.run_as_daemon == 0,
	       "SafeSocks, TestSocks, RunAsDaemon 0");
	tap_ok(cfg.pid_file == NULL && cfg.dns_servers == NULL &&
		       cfg.n_dir_authorities == 0 &&
		       cfg.n_fallback_dirs == 0 && cfg.socks_policy.n == 0 &&
		       cfg.exit_policy.n == 0,
	       "no PidFile, DNSServer, DirAuthority, FallbackDir, policies");
	tap_ok(cfg.use_default_fallback_dirs == 1 &&
		       cfg.testing_tor_network == 0,
	       "UseDefaultFallbackDirs 1, TestingTorNetwork 0");
	{
		char *want = tk_config_default_data_dir();
		tap_ok(cfg.data_dir && want && strcmp(cfg.data_dir, want) == 0,
		       "Engine tor: DataDirectory defaults to %s", want);
		free(want);
	}
	tap_eq_long((long)cfg.n_ports, 1, "one SocksPort");
	if (cfg.n_ports == 1) {
		const struct sockaddr_in *sin =
			(const struct sockaddr_in *)&cfg.ports[0].ss;
		tap_eq_str(cfg.ports[0].key, "127.0.0.1:9050", "... its key");
		tap_ok(sin->sin_family == AF_INET &&
			       ntohl(sin->sin_addr.s_addr) == 0x7f000001 &&
			       ntohs(sin->sin_port) == 9050 &&
			       !cfg.ports[0].is_unix,
		       "... on 127.0.0.1:9050");
		tap_eq_long(cfg.ports[0].flags, TK_PORT_ISOLATE_CLIENT_ADDR,
			    "... IsolateClientAddr alone");
	}
	tap_eq_long(cfg.n_logs, 1, "one Log");
	if (cfg.n_logs == 1)
		tap_ok(cfg.logs[0].min == TK_LOG_NOTICE &&
			       cfg.logs[0].max == TK_LOG_ERR &&
			       cfg.logs[0].kind == TK_LOG_STDOUT,
		       "... notice stdout");
	tk_config_free(&cfg);

	tap_eq_long(load("SocksPort 0\nLog warn stderr\n", NULL, 0, &cfg), 0,
		    "SocksPort 0 and a Log line load");
	tap_ok(cfg.n_ports == 0 && cfg.n_logs == 1 &&
		       cfg.logs[0].kind == TK_LOG_STDERR,
	       "... no default SocksPort, no default Log");
	tk_config_free(&cfg);

	char *args[] = {"--SocksPort", "9999", "--MaxClients", "7"};
	tap_eq_long(load("SocksPort 1234\nSocksPort 1235\nMaxClients 5\n"
			 "SocksTimeout 1 hour\nSafeLogging relay\n",
			 args, 4, &cfg),
		    0, "file plus command line loads");
	tap_ok(cfg.n_ports == 1 && strcmp(cfg.ports[0].key, "9999") == 0,
	       "... --SocksPort replaced the file's two");
	tap_eq_long(cfg.max_clients, 7, "... --MaxClients is the last word");
	tap_eq_long(cfg.socks_timeout, 3600, "... SocksTimeout 1 hour");
	tap_eq_long(cfg.safe_logging, 1, "... SafeLogging relay");
	tk_config_free(&cfg);

	tap_eq_long(load("Bogus 1\n", NULL, 0, &cfg), -1,
		    "an unknown option fails the load");
	tap_ok(cfg.ports == NULL && cfg.logs == NULL, "... nothing kept");
}

/* The tor engine's defaults that depend on something else: who runs
 * torkitd (DataDirectory), the engine, TestingTorNetwork. */
static void test_dependent_defaults(void)
{
	struct tk_config cfg;
	const char *home = getenv("HOME");
	char *saved = home ? strdup(home) : NULL, *d;

	setenv("HOME", "/home/someone", 1);
	d = tk_config_default_data_dir();
	tap_eq_str(d, geteuid() == 0 ? TK_LOCALSTATEDIR_TEST "/lib/torkit"
				     : "/home/someone/.torkit",
		   "default DataDirectory: ~/.torkit, for root the system's");
	free(d);
	setenv("HOME", "/", 1);
	d = tk_config_default_data_dir();
	tap_eq_str(d, TK_LOCALSTATEDIR_TEST "/lib/torkit",
		   "HOME / (a system account): the system's");
	free(d);
	setenv("HOME", "/home/someone", 1);
	tap_eq_long(load("DataDirectory ~/tk\n", NULL, 0, &cfg), 0,
		    "DataDirectory ~/tk loads");
	tap_eq_str(cfg.data_dir, "/home/someone/tk", "... ~ expanded");
	tk_config_free(&cfg);
	if (saved)
		setenv("HOME", saved, 1);
	free(saved);

	tap_eq_long(load("Engine direct\n", NULL, 0, &cfg), 0,
		    "Engine direct loads");
	tap_ok(cfg.data_dir == NULL,
	       "... and has no DataDirectory unless one is set");
	tk_config_free(&cfg);

	tap_eq_long(load("TestingTorNetwork 1\n", NULL, 0, &cfg), -1,
		    "TestingTorNetwork without DirAuthority fails");
	tap_eq_long(load("TestingTorNetwork 1\nDirAuthority a orport=1 "
			 "v3ident=0123456789ABCDEF0123456789ABCDEF01234567 "
			 "127.0.0.1:2 0123456789ABCDEF0123456789ABCDEF01234567"
			 "\nFallbackDir 127.0.0.1 orport=3 "
			 "id=0123456789ABCDEF0123456789ABCDEF01234568\n",
			 NULL, 0, &cfg),
		    0, "TestingTorNetwork with DirAuthority loads");
	tap_ok(cfg.enforce_distinct_subnets == 0 && cfg.n_fallback_dirs == 1,
	       "... EnforceDistinctSubnets 0, one FallbackDir");
	tap_ok(cfg.client_reject_internal == 0 &&
		       cfg.client_dns_reject_internal == 0,
	       "... Client(DNS)RejectInternalAddresses 0");
	tk_config_free(&cfg);
	tap_eq_long(load("DirAuthority a orport=1 "
			 "v3ident=0123456789ABCDEF0123456789ABCDEF01234567 "
			 "127.0.0.1:2 0123456789ABCDEF0123456789ABCDEF01234567"
			 "\n",
			 NULL, 0, &cfg),
		    0, "DirAuthority without TestingTorNetwork loads");
	tap_ok(cfg.enforce_distinct_subnets == 1 &&
		       cfg.client_reject_internal == 1 &&
		       cfg.client_dns_reject_internal == 1,
	       "... subnets enforced, internal addresses refused");
	tk_config_free(&cfg);
	tap_eq_long(load("TestingTorNetwork 1\nClientRejectInternalAddresses 1\n"
			 "DirAuthority a orport=1 "
			 "v3ident=0123456789ABCDEF0123456789ABCDEF01234567 "
			 "127.0.0.1:2 0123456789ABCDEF0123456789ABCDEF01234567"
			 "\n",
			 NULL, 0, &cfg),
		    0, "TestingTorNetwork and ClientRejectInternalAddresses 1");
	tap_ok(cfg.client_reject_internal == 1 &&
		       cfg.client_dns_reject_internal == 0,
	       "... the value given wins, the other follows "
	       "TestingTorNetwork");
	tk_config_free(&cfg);
	tap_eq_long(load("TestingTorNetwork 1\nEnforceDistinctSubnets 1\n"
			 "DirAuthority a orport=1 "
			 "v3ident=0123456789ABCDEF0123456789ABCDEF01234567 "
			 "127.0.0.1:2 0123456789ABCDEF0123456789ABCDEF01234567"
			 "\n",
			 NULL, 0, &cfg),
		    0, "TestingTorNetwork and EnforceDistinctSubnets 1");
	tap_eq_long(cfg.enforce_distinct_subnets, 1,
		    "... a value given wins over TestingTorNetwork's");
	tk_config_free(&cfg);
	tap_eq_long(load("FallbackDir 127.0.0.1:80\n", NULL, 0, &cfg), -1,
		    "FallbackDir without orport= and id= fails");
}

/* LongLivedPorts replaces tor's list with the one given. */
static void test_long_lived_ports(void)
{
	struct tk_config cfg;
	tap_eq_long(load("LongLivedPorts 4444 , 22,65535\n", NULL, 0, &cfg), 0,
		    "LongLivedPorts loads");
	tap_ok(cfg.n_long_lived_ports == 3 && cfg.long_lived_ports[0] == 4444 &&
		       cfg.long_lived_ports[1] == 22 &&
		       cfg.long_lived_ports[2] == 65535,
	       "LongLivedPorts 4444,22,65535 (%zu ports)",
	       cfg.n_long_lived_ports);
	tk_config_free(&cfg);
}

/* The IP version options load as given (engine_tor.c passes them on:
 * test_daemon_engine). */
static void test_ip_versions(void)
{
	struct tk_config cfg;
	tap_eq_long(load("ClientUseIPv4 0\nClientUseIPv6 1\n"
			 "ClientPreferIPv6ORPort 1\n",
			 NULL, 0, &cfg),
		    0, "ClientUseIPv4 0, ClientUseIPv6 1, "
		       "ClientPreferIPv6ORPort 1 load");
	tap_ok(cfg.client_use_ipv4 == 0 && cfg.client_use_ipv6 == 1 &&
		       cfg.client_prefer_ipv6_orport == 1,
	       "... into the configuration");
	tk_config_free(&cfg);
}

/* tk_config_set: what is accepted and the messages, as before. */
static void test_values(void)
{
	static const struct {
		const char *name, *value, *err; /* err NULL: accepted */
	} rows[] = {
		{"SafeSocks", "1", NULL},
		{"SafeSocks", "yes", "SafeSocks must be 0 or 1, not \"yes\""},
		{"SafeSocks", "01", "SafeSocks must be 0 or 1, not \"01\""},
		{"SafeSocks", "", "SafeSocks needs a value"},
		{"MaxClients", "1000000", NULL},
		{"MaxClients", "0",
		 "MaxClients must be a number from 1 to 1000000, not \"0\""},
		{"MaxClients", "1000001",
		 "MaxClients must be a number from 1 to 1000000, not "
		 "\"1000001\""},
		{"MaxClients", "+5",
		 "MaxClients must be a number from 1 to 1000000, not \"+5\""},
		{"SocksTimeout", "2 minutes", NULL},
		{"SocksTimeout", "1 HOUR", NULL},
		{"SocksTimeout", "5s", NULL},
		{"SocksTimeout", "365 days", NULL},
		{"SocksTimeout", "366 days",
		 "SocksTimeout must be a time such as \"120\", \"30 seconds\" "
		 "or \"2 minutes\", not \"366 days\""},
		{"HalfCloseLinger", "0",
		 "HalfCloseLinger must be a time such as \"120\", \"30 "
		 "seconds\" or \"2 minutes\", not \"0\""},
		{"CongestionControl", "auto", NULL},
		{"CongestionControl", "0", NULL},
		{"CongestionControl", "1", NULL},
		{"CongestionControl", "2",
		 "CongestionControl must be auto, 0 or 1, not \"2\""},
		{"LongLivedPorts", "22", NULL},
		{"LongLivedPorts", " 22 , 6667,65535", NULL},
		{"LongLivedPorts", "22,,80",
		 "LongLivedPorts must be ports from 1 to 65535 separated by "
		 "commas, not \"22,,80\""},
		{"LongLivedPorts", "0",
		 "LongLivedPorts must be ports from 1 to 65535 separated by "
		 "commas, not \"0\""},
		{"LongLivedPorts", "65536",
		 "LongLivedPorts must be ports from 1 to 65535 separated by "
		 "commas, not \"65536\""},
		{"LongLivedPorts", "22,ssh",
		 "LongLivedPorts must be ports from 1 to 65535 separated by "
		 "commas, not \"22,ssh\""},
		{"LongLivedPorts", "", "LongLivedPorts needs a value"},
		{"ClientUseIPv6", "1", NULL},
		{"ClientUseIPv4", "auto",
		 "ClientUseIPv4 must be 0 or 1, not \"auto\""},
		{"ClientPreferIPv6ORPort", "auto", NULL},
		{"ClientPreferIPv6ORPort", "0", NULL},
		{"ClientPreferIPv6ORPort", "yes",
		 "ClientPreferIPv6ORPort must be 0, 1 or auto, not \"yes\""},
		{"PidFile", "", "PidFile needs a value"},
		{"DNSServer", "", "DNSServer needs a value"},
		{"SocksPort", "",
		 "SocksPort needs a value: [ADDRESS:]PORT, auto, or "
		 "unix:/PATH"},
		{"SocksPort", "0", NULL},
		{"SocksPort", "9050 Bogus",
		 "unknown SocksPort flag \"Bogus\""},
		{"Engine", "TOR", NULL},
		{"Engine", "warp",
		 "Engine must be \"direct\" or \"tor\", not \"warp\""},
		{"SafeLogging", "Relay", NULL},
		{"SafeLogging", "2",
		 "SafeLogging must be 0, 1 or relay, not \"2\""},
		{"ConnectionPadding", "0", NULL},
		{"ConnectionPadding", "1", NULL},
		{"ConnectionPadding", "AUTO", NULL},
		{"ConnectionPadding", "yes",
		 "ConnectionPadding must be 0, 1 or auto, not \"yes\""},
		{"RelaySplice", "0", NULL},
		{"RelaySplice", "Auto", NULL},
		{"RelaySplice", "on",
		 "RelaySplice must be 0, 1 or auto, not \"on\""},
		{"ReducedConnectionPadding", "1", NULL},
		{"ReducedConnectionPadding", "2",
		 "ReducedConnectionPadding must be 0 or 1, not \"2\""},
		{"DNSServer", "[::1]:53", NULL},
		{"DNSServer", "ns.example",
		 "bad DNSServer \"ns.example\": use IP[:PORT] or [IPv6]:PORT "
		 "(an address, not a name)"},
		{"DirAuthority", "x",
		 "DirAuthority needs at least \"[nickname] [flags] IP:ORPort "
		 "fingerprint\""},
		{"ExitPolicy", "accept *:80", NULL},
		{"Log", "info file /tmp/x", NULL},
		{"MaxMemInQueues", "512 MB", NULL},
		{"MaxMemInQueues", "2GB", NULL},
		{"MaxMemInQueues", "100 kbytes", NULL},
		{"MaxMemInQueues", "1048576", NULL},
		{"MaxMemInQueues", "5 parsecs",
		 "MaxMemInQueues must be an amount of memory such as \"512 "
		 "MB\" or \"2 GB\", not \"5 parsecs\""},
		{"MaxMemInQueues", "99999999999999999999 TB",
		 "MaxMemInQueues must be an amount of memory such as \"512 "
		 "MB\" or \"2 GB\", not \"99999999999999999999 TB\""},
		{"MaxMemInQueues", "20000000 TB",
		 "MaxMemInQueues must be an amount of memory such as \"512 "
		 "MB\" or \"2 GB\", not \"20000000 TB\""},
		{"IdleTimeout", "0", NULL},
		{"IdleTimeout", "2 hours", NULL},
		{"User", "nobody", NULL},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct tk_option *o = tk_config_option(rows[i].name);
		struct tk_config cfg;
		char err[1024] = "";
		int rc;
		memset(&cfg, 0, sizeof cfg);
		if (!tap_ok(o != NULL, "%s is an option", rows[i].name))
			continue;
		rc = tk_config_set(&cfg, o, rows[i].value, err, sizeof err);
		if (rows[i].err == NULL)
			tap_eq_long(rc, 0, "%s \"%s\" accepted %s",
				    rows[i].name, rows[i].value, err);
		else
			tap_ok(rc == -1 && strcmp(err, rows[i].err) == 0,
			       "%s \"%s\": %s", rows[i].name, rows[i].value,
			       err);
		tk_config_free(&cfg);
	}
}

/* Tor's memory units, into bytes. */
static void test_memunits(void)
{
	static const struct {
		const char *value;
		unsigned long long bytes;
	} rows[] = {
		{"0", 0},
		{"1048576", 1048576},
		{"100 KB", 100ULL << 10},
		{"512 MBytes", 512ULL << 20},
		{"2GB", 2ULL << 30},
		{"1 terabyte", 1ULL << 40},
	};
	const struct tk_option *o = tk_config_option("MaxMemInQueues");
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct tk_config cfg;
		char err[256] = "";
		memset(&cfg, 0, sizeof cfg);
		tap_ok(tk_config_set(&cfg, o, rows[i].value, err, sizeof err) ==
				       0 &&
			       cfg.max_mem_in_queues == rows[i].bytes,
		       "MaxMemInQueues %s is %llu bytes", rows[i].value,
		       rows[i].bytes);
		tk_config_free(&cfg);
	}
}

int main(void)
{
	test_file();
	test_quotes();
	test_continuations();
	test_nul();
	test_args();
	test_table();
	test_memunits();
	test_defaults();
	test_long_lived_ports();
	test_ip_versions();
	test_dependent_defaults();
	test_values();
	return tap_done();
}
