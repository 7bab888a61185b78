/* cli_lookup.c — RESOLVE / RESOLVE_PTR for many queries at once, the
 * engine behind tor-resolve and tor-ptr.
 *
 * Each lookup is its own proxy connection (Tor answers one RESOLVE per
 * connection and closes it). A pool of -j session slots runs them; answers
 * are printed in input order as soon as every earlier one is in.
 */
#include "cli/cli_lookup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <uv.h>

#include "cli/cli_out.h"
#include "lib/socks_client.h"

struct lookup {
	char *query;
	int done;
	int code; /* exit code of this query */
	int type; /* 'A', '6' (AAAA), 'P' (name) */
	int has_rep;
	uint8_t rep;
	char *answer;	     /* on success */
	char *msg;	     /* on failure */
	int msg_names_query; /* msg already says which query */
};

struct slot {
	struct tk_socks_session s;
	struct cli_trace_ctx trace;
	size_t index; /* the lookup it runs */
	int busy;
	struct run *run;
};

struct run {
	struct cli_opts *o;
	uv_loop_t *loop;
	struct tk_socks_proxy proxy;
	struct lookup *l;
	size_t n, cap;
	size_t next_start; /* next lookup to start */
	size_t next_print; /* next lookup to print */
	struct slot *slots;
	int nslots;
	int worst;
};

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		fputs("out of memory\n", stderr);
		exit(CLI_EXIT_UNREACHABLE);
	}
	return d;
}

static void
add_query(struct run *r, const char *q)
{
	if (r->n == r->cap) {
		size_t ncap = r->cap ? 2 * r->cap : 64;
		struct lookup *nl = realloc(r->l, ncap * sizeof(*nl));
		if (!nl) {
			fputs("out of memory\n", stderr);
			exit(CLI_EXIT_UNREACHABLE);
		}
		r->l = nl;
		r->cap = ncap;
	}
	memset(&r->l[r->n], 0, sizeof(r->l[r->n]));
	r->l[r->n].query = xstrdup(q);
	r->n++;
}

/* One name per line; blank lines and #comments are skipped, surrounding
 * blanks and a CR dropped. */
static int
read_queries(struct run *r, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL, *p, *e;
	size_t cap = 0;

	if (!f) {
		cli_warn(r->o, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) != -1) {
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		e = p + strlen(p);
		while (e > p && (e[-1] == '\n' || e[-1] == '\r' ||
				 e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		add_query(r, p);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return 0;
}

static int
is_onion(const char *name)
{
	size_t len = strlen(name);

	while (len && name[len - 1] == '.')
		len--;
	return len >= 6 && strncasecmp(name + len - 6, ".onion", 6) == 0 &&
	       (len == 6 || name[len - 7] != '\\');
}

static void
fail(struct run *r, struct lookup *l, int code, const char *msg)
{
	l->done = 1;
	l->code = code;
	l->msg = xstrdup(msg);
	if (code > r->worst)
		r->worst = code;
}

/* Checks a query before any connection is made. */
static void
validate(struct run *r, struct lookup *l)
{
	uint8_t a[16];
	char buf[320];

	if (r->o->reverse) {
		if (!tk_ip_parse(l->query, a)) {
			snprintf(buf, sizeof(buf), "not an IP address: %s",
				 l->query);
			fail(r, l, CLI_EXIT_USAGE, buf);
			l->msg_names_query = 1;
		}
		return;
	}
	if (is_onion(l->query)) {
		fail(r, l, CLI_EXIT_USAGE,
		     "an onion service name has no IP address; reach it "
		     "through the proxy instead (tor-connect NAME PORT)");
		return;
	}
	if (strlen(l->query) > 254 + (r->o->socks_version == 4 ? 1 : 0)) {
		fail(r, l, CLI_EXIT_USAGE,
		     "name too long: SOCKS carries at most 255 bytes");
		return;
	}
}

static void
print_one(struct run *r, struct lookup *l)
{
	struct cli_opts *o = r->o;
	char safeq[1100], safea[1100];

	if (o->json) {
		fputs("{\"query\":", stdout);
		cli_json_str(stdout, l->query);
		if (l->code == 0) {
			fputs(",\"type\":", stdout);
			fputs(l->type == 'A'   ? "\"A\""
			      : l->type == '6' ? "\"AAAA\""
					       : "\"PTR\"",
			      stdout);
			fputs(",\"answer\":", stdout);
			cli_json_str(stdout, l->answer);
		} else {
			fputs(",\"error\":", stdout);
			cli_json_str(stdout, l->msg);
			if (l->has_rep)
				printf(",\"reply\":%u", (unsigned)l->rep);
			printf(",\"exit\":%d", l->code);
		}
		fputs("}\n", stdout);
		return;
	}
	cli_safe_text(l->query, safeq, sizeof(safeq));
	if (l->code != 0) {
		fflush(stdout);
		if (l->msg_names_query) {
			cli_safe_text(l->msg, safea, sizeof(safea));
			cli_warn(o, "%s", safea);
		} else {
			cli_warn(o, "%s: %s", safeq, l->msg);
		}
		return;
	}
	cli_safe_text(l->answer, safea, sizeof(safea));
	if (o->batch)
		printf("%s\t%s\n", safeq, safea);
	else
		printf("%s\n", safea);
}

static void
print_ready(struct run *r)
{
	while (r->next_print < r->n && r->l[r->next_print].done) {
		print_one(r, &r->l[r->next_print]);
		r->next_print++;
	}
	/* Batches feed pipes: let the reader see each answer promptly. */
	fflush(stdout);
}

static void start_some(struct run *r);

static void
slot_closed(struct tk_socks_session *s)
{
	struct slot *sl = s->data;

	sl->busy = 0;
	start_some(sl->run);
}

static void
record(struct run *r, struct lookup *l, struct tk_socks_session *s)
{
	const struct tk_socks_client_reply *rep = &s->reply;
	char ip[TK_IP_STR_MAX], buf[400];
	int family = 0;

	if (s->why == TK_SOCKS_WHY_REPLY) {
		l->has_rep = 1;
		l->rep = rep->rep;
	}
	if (s->outcome != TK_SOCKS_OUT_OK) {
		fail(r, l, s->outcome, s->msg);
		return;
	}
	if (r->o->socks_version == 4 || rep->atyp == TK_SOCKS_ATYP_IPV4)
		family = AF_INET;
	else if (rep->atyp == TK_SOCKS_ATYP_IPV6)
		family = AF_INET6;
	if (family) {
		tk_ip_format(family, rep->addr, ip, sizeof(ip));
		if (r->o->want_family && r->o->want_family != family) {
			snprintf(buf, sizeof(buf),
				 "the proxy answered %s, not an %s address; "
				 "it chooses the family (on Tor: PreferIPv6 / "
				 "NoIPv4Traffic on its SocksPort)",
				 ip, family == AF_INET ? "IPv6" : "IPv4");
			fail(r, l, CLI_EXIT_FAILED, buf);
			return;
		}
		l->type = family == AF_INET ? 'A' : '6';
		l->answer = xstrdup(ip);
	} else if (rep->atyp == TK_SOCKS_ATYP_DOMAIN) {
		l->type = 'P';
		l->answer = xstrdup(rep->host);
	} else {
		snprintf(buf, sizeof(buf),
			 "the proxy answered success "
			 "without an address (ATYP %02x)",
			 rep->atyp);
		fail(r, l, CLI_EXIT_UNREACHABLE, buf);
		return;
	}
	l->done = 1;
	l->code = 0;
}

static void
lookup_done(struct tk_socks_session *s)
{
	struct slot *sl = s->data;
	struct run *r = sl->run;

	record(r, &r->l[sl->index], s);
	print_ready(r);
	tk_socks_session_close(s, slot_closed);
}

static void
start_one(struct run *r, struct slot *sl, size_t index)
{
	struct lookup *l = &r->l[index];
	struct tk_socks_session_config cfg;
	int e;

	memset(&cfg, 0, sizeof(cfg));
	cfg.proxy = &r->proxy;
	cfg.req.version = (uint8_t)r->o->socks_version;
	cfg.req.command = r->o->reverse ? TK_SOCKS_CMD_RESOLVE_PTR
					: TK_SOCKS_CMD_RESOLVE;
	cfg.req.port = 0;
	cfg.req.host = l->query;
	if (r->o->use_auth) {
		cfg.req.use_auth = 1;
		cfg.req.username = r->o->user;
		cfg.req.username_len = r->o->user_len;
		cfg.req.password = r->o->pass;
		cfg.req.password_len = r->o->pass_len;
	}
	cfg.connect_timeout_ms = r->o->connect_timeout_ms;
	cfg.answer_timeout_ms = r->o->answer_timeout_ms;
	if (r->o->verbose) {
		sl->trace.progname = r->o->progname;
		sl->trace.label = r->o->batch ? l->query : NULL;
		cfg.trace = cli_trace;
		cfg.trace_arg = &sl->trace;
	}
	sl->index = index;
	sl->busy = 1;
	sl->s.data = sl;
	e = tk_socks_session_start(r->loop, &sl->s, &cfg, lookup_done);
	if (e < 0) {
		char buf[200];
		snprintf(buf, sizeof(buf), "cannot start: %s", uv_strerror(e));
		fail(r, l, CLI_EXIT_UNREACHABLE, buf);
		sl->busy = 0;
		print_ready(r);
	}
}

static void
start_some(struct run *r)
{
	int i;

	for (i = 0; i < r->nslots && r->next_start < r->n; i++) {
		if (r->slots[i].busy)
			continue;
		while (r->next_start < r->n && r->l[r->next_start].done)
			r->next_start++;
		if (r->next_start == r->n)
			break;
		start_one(r, &r->slots[i], r->next_start++);
	}
	print_ready(r);
}

static void
proxy_resolved(struct tk_socks_proxy *p, int status)
{
	struct run *r =
		(struct run *)(void *)((char *)p - offsetof(struct run, proxy));
	char buf[400];
	size_t i;

	if (status < 0) {
		snprintf(buf, sizeof(buf),
			 "cannot resolve the proxy's host "
			 "name %s: %s",
			 p->ep.host, uv_strerror(status));
		for (i = 0; i < r->n; i++)
			if (!r->l[i].done)
				fail(r, &r->l[i], CLI_EXIT_UNREACHABLE, buf);
		print_ready(r);
		return;
	}
	start_some(r);
}

static void
run_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->l[i].query);
		free(r->l[i].answer);
		free(r->l[i].msg);
	}
	free(r->l);
	free(r->slots);
}

int
cli_lookup_run(struct cli_opts *o)
{
	struct run r;
	uv_loop_t loop;
	size_t i;
	int k, need_resolve;

	memset(&r, 0, sizeof(r));
	r.o = o;
	for (k = 0; k < o->nargs; k++) {
		if (strcmp(o->args[k], "-") == 0) {
			if (read_queries(&r, "-") < 0) {
				run_free(&r);
				return CLI_EXIT_USAGE;
			}
		} else {
			add_query(&r, o->args[k]);
		}
	}
	if (o->file && read_queries(&r, o->file) < 0) {
		run_free(&r);
		return CLI_EXIT_USAGE;
	}
	for (i = 0; i < r.n; i++)
		validate(&r, &r.l[i]);

	/* A single bad query is a usage error found before connecting. */
	if (!o->batch && r.n == 1 && r.l[0].done) {
		print_ready(&r);
		run_free(&r);
		return r.worst;
	}

	if (uv_loop_init(&loop) < 0) {
		cli_warn(o, "cannot start the event loop");
		run_free(&r);
		return CLI_EXIT_UNREACHABLE;
	}
	r.loop = &loop;
	r.nslots = o->jobs;
	if ((size_t)r.nslots > r.n)
		r.nslots = r.n ? (int)r.n : 1;
	r.slots = calloc((size_t)r.nslots, sizeof(*r.slots));
	if (!r.slots) {
		cli_warn(o, "out of memory");
		run_free(&r);
		return CLI_EXIT_UNREACHABLE;
	}
	for (k = 0; k < r.nslots; k++)
		r.slots[k].run = &r;

	need_resolve = tk_socks_proxy_init(&r.proxy, &o->proxy);
	if (o->verbose)
		cli_warn(o, "proxy %s%s, %zu quer%s, %d at a time",
			 r.proxy.text,
			 need_resolve ? " (resolving its name)" : "", r.n,
			 r.n == 1 ? "y" : "ies", r.nslots);
	if (need_resolve) {
		int e = tk_socks_proxy_resolve(&loop, &r.proxy, proxy_resolved);
		if (e < 0)
			proxy_resolved(&r.proxy, e);
	} else {
		start_some(&r);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	print_ready(&r);
	uv_loop_close(&loop);

	run_free(&r);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_warn(o, "cannot write the answers: %s", strerror(errno));
		if (r.worst < CLI_EXIT_FAILED)
			r.worst = CLI_EXIT_FAILED;
	}
	return r.worst;
}
