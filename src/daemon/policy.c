/* policy.c — parse and match Tor-syntax accept/reject address policies. */
#include "daemon/policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

int
tk_policy_add(struct tk_policy *p, const struct tk_policy_rule *r)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct tk_policy_rule *n = realloc(p->rules, cap * sizeof(*n));

		if (n == NULL)
			return -1;
		p->rules = n;
		p->cap = cap;
	}
	p->rules[p->n++] = *r;
	return 0;
}

void
tk_policy_free(struct tk_policy *p)
{
	free(p->rules);
	memset(p, 0, sizeof(*p));
}

int
tk_policy_copy(struct tk_policy *dst, const struct tk_policy *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t i = 0; i < src->n; i++)
		if (tk_policy_add(dst, &src->rules[i]) < 0)
			return -1;
	return 0;
}

static int
parse_port(const char *s, int *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 0 || v > 65535)
		return -1;
	*out = (int)v;
	return 0;
}

/* Parses "ADDR[/MASK]" into r (family 0 for "*"). `private` is handled by
 * the caller. */
static int
parse_addrmask(const char *s, struct tk_policy_rule *r, int v6only, int v4only)
{
	char buf[128], *slash;
	int fam;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (close == NULL)
			return -1;
		slash = strchr(close, '/');
	}
	if (slash != NULL)
		*slash++ = '\0';
	if (strcmp(buf, "*") == 0) {
		r->family = v6only ? AF_INET6 : v4only ? AF_INET : 0;
		r->bits = 0;
		return slash == NULL ? 0 : -1;
	}
	if (strcmp(buf, "*4") == 0 || strcmp(buf, "*6") == 0) {
		r->family = buf[1] == '4' ? AF_INET : AF_INET6;
		r->bits = 0;
		return slash == NULL ? 0 : -1;
	}
	fam = tk_ip_parse(buf, r->addr);
	/* Tor requires brackets around IPv6 in policies. */
	if (fam == 0 || (fam == AF_INET6 && buf[0] != '['))
		return -1;
	r->family = (uint8_t)fam;
	r->bits = fam == AF_INET ? 32 : 128;
	if (slash != NULL) {
		uint8_t mask[4];
		char *end;
		long bits = strtol(slash, &end, 10);

		if (*slash != '\0' && *end == '\0' &&
		    isdigit((unsigned char)*slash)) {
			if (bits < 0 || bits > r->bits)
				return -1;
			r->bits = (uint8_t)bits;
		} else if (fam == AF_INET &&
			   inet_pton(AF_INET, slash, mask) == 1) {
			uint32_t m = ((uint32_t)mask[0] << 24) |
				     ((uint32_t)mask[1] << 16) |
				     ((uint32_t)mask[2] << 8) | mask[3];
			int n = 0;

			while (n < 32 && (m & (0x80000000u >> n)))
				n++;
			if (n < 32 && (m << n) != 0)
				return -1; /* not contiguous */
			r->bits = (uint8_t)n;
		} else
			return -1;
	}
	if ((v4only && fam != AF_INET) || (v6only && fam != AF_INET6))
		return -1;
	return 0;
}

/* Tor's `private` ranges, and the rest of the special-purpose ranges of
 * tk_addr_special (lib/addr.c), which tk_addr_is_internal() matches. */
int
tk_policy_add_private(struct tk_policy *p, int accept, int port_min,
		      int port_max)
{
	for (size_t i = 0; i < tk_addr_n_special; i++) {
		struct tk_policy_rule r = { 0 };

		r.family = tk_addr_special[i].family == 4 ? AF_INET : AF_INET6;
		r.bits = tk_addr_special[i].bits;
		memcpy(r.addr, tk_addr_special[i].addr, 16);
		r.accept = (uint8_t)accept;
		r.port_min = (uint16_t)port_min;
		r.port_max = (uint16_t)port_max;
		if (tk_policy_add(p, &r) < 0)
			return -1;
	}
	return 0;
}

static int
parse_one(struct tk_policy *p, char *item, int need_port, char *err,
	  size_t errlen)
{
	struct tk_policy_rule r = { 0 };
	char *verb, *target, *portpart = NULL, *save = NULL;
	int v6only = 0, v4only = 0, pmin = 1, pmax = 65535;

	verb = strtok_r(item, " \t", &save);
	target = strtok_r(NULL, " \t", &save);
	if (verb == NULL) {
		snprintf(err, errlen, "empty policy entry");
		return -1;
	}
	if (strcasecmp(verb, "accept") == 0)
		r.accept = 1;
	else if (strcasecmp(verb, "reject") == 0)
		r.accept = 0;
	else if (strcasecmp(verb, "accept6") == 0)
		r.accept = 1, v6only = 1;
	else if (strcasecmp(verb, "reject6") == 0)
		r.accept = 0, v6only = 1;
	else {
		snprintf(err, errlen,
			 "policy entry \"%s\" must start with "
			 "accept or reject",
			 verb);
		return -1;
	}
	if (target == NULL || strtok_r(NULL, " \t", &save) != NULL) {
		snprintf(err, errlen,
			 "policy entry needs exactly one "
			 "ADDR[/MASK][:PORT] after %s",
			 verb);
		return -1;
	}
	/* The port follows the last ':' outside brackets. */
	{
		char *close = strrchr(target, ']');
		char *colon = strrchr(close ? close : target, ':');

		if (colon != NULL) {
			*colon = '\0';
			portpart = colon + 1;
		}
	}
	if (portpart == NULL && need_port) {
		snprintf(err, errlen,
			 "policy entry \"%s %s\" needs a port "
			 "(use :* for every port)",
			 verb, target);
		return -1;
	}
	if (portpart != NULL && strcmp(portpart, "*") != 0) {
		char *dash = strchr(portpart, '-');

		if (dash != NULL)
			*dash = '\0';
		if (parse_port(portpart, &pmin) < 0 ||
		    (dash != NULL && parse_port(dash + 1, &pmax) < 0) ||
		    (dash == NULL && (pmax = pmin, 0)) || pmin > pmax ||
		    pmax == 0) {
			snprintf(err, errlen,
				 "bad port in policy entry "
				 "\"%s %s\": use N, N-M or *",
				 verb, target);
			return -1;
		}
		if (pmin == 0)
			pmin = 1;
	}
	/* SocksPolicy ignores ports, as Tor's does. */
	if (!need_port)
		pmin = 1, pmax = 65535;
	if (strcasecmp(target, "private") == 0)
		return tk_policy_add_private(p, r.accept, pmin, pmax);
	if (parse_addrmask(target, &r, v6only, v4only) < 0) {
		snprintf(err, errlen,
			 "bad address in policy entry \"%s %s\": "
			 "use *, *4, *6, private, IPv4[/bits] or "
			 "[IPv6][/bits]",
			 verb, target);
		return -1;
	}
	r.port_min = (uint16_t)pmin;
	r.port_max = (uint16_t)pmax;
	if (tk_policy_add(p, &r) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
tk_policy_parse(struct tk_policy *p, const char *value, int need_port,
		char *err, size_t errlen)
{
	char *copy = strdup(value), *save = NULL, *item;
	int rc = 0;

	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
	     item = strtok_r(NULL, ",", &save)) {
		if (strspn(item, " \t") == strlen(item)) {
			snprintf(err, errlen, "empty entry in policy \"%s\"",
				 value);
			rc = -1;
			break;
		}
		rc = parse_one(p, item, need_port, err, errlen);
	}
	free(copy);
	return rc;
}

static int
prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
	int full = bits / 8, rem = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff << (8 - rem)) & 0xff) == 0;
}

int
tk_policy_match(const struct tk_policy *p, int family, const uint8_t *addr,
		uint16_t port)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct tk_policy_rule *r = &p->rules[i];

		if (r->family != 0 && r->family != family)
			continue;
		if (port < r->port_min || port > r->port_max)
			continue;
		if (r->family != 0 && !prefix_match(addr, r->addr, r->bits))
			continue;
		return r->accept;
	}
	return -1;
}
