/* dirauth.h: DirAuthority and FallbackDir line parsers. */
#include "onion/netdoc/dirauth.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "onion/base/bytes.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
parse_hex20(const char *s, uint8_t out[20])
{
	return strlen(s) == 40 ? tk_hex_decode(s, 40, out, 20) : -1;
}

/* "1.2.3.4:80" */
static int
parse_ipv4_port(const char *tok, struct in_addr *a, uint16_t *port)
{
	char ip[INET_ADDRSTRLEN];
	const char *colon = strchr(tok, ':');
	size_t n;
	if (!colon || strchr(colon + 1, ':'))
		return -1;
	n = (size_t)(colon - tok);
	if (n == 0 || n >= sizeof ip)
		return -1;
	memcpy(ip, tok, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, a) != 1)
		return -1;
	return parse_port(colon + 1, port);
}

/* "[2001:db8::1]:443" */
static int
parse_ipv6_port(const char *tok, struct sockaddr_in6 *sa)
{
	char ip[INET6_ADDRSTRLEN];
	const char *close = strchr(tok, ']');
	size_t n;
	uint16_t port;
	if (tok[0] != '[' || !close || close[1] != ':')
		return -1;
	n = (size_t)(close - tok - 1);
	if (n == 0 || n >= sizeof ip)
		return -1;
	memcpy(ip, tok + 1, n);
	ip[n] = '\0';
	memset(sa, 0, sizeof *sa);
	if (inet_pton(AF_INET6, ip, &sa->sin6_addr) != 1 ||
	    parse_port(close + 2, &port) != 0)
		return -1;
	sa->sin6_family = AF_INET6;
	sa->sin6_port = htons(port);
	return 0;
}

static int
is_nickname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TK_DIRAUTH_NICK_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s))
			return 0;
	return 1;
}

int
tk_dirauth_parse(const char *line, tk_dirauth *out, char *err, size_t errlen)
{
	char buf[1024], fp[48];
	char *tok, *save = NULL;
	size_t fplen = 0;
	int seen_addr = 0, first = 1;
	uint16_t orport = 0;
	struct in_addr v4;

	memset(out, 0, sizeof *out);
	out->weight = 1;
	while (*line == ' ' || *line == '\t')
		line++;
	if (strncasecmp(line, "DirAuthority", 12) == 0 &&
	    (line[12] == ' ' || line[12] == '\t'))
		line += 12;
	if (strlen(line) >= sizeof buf)
		return fail(err, errlen, "DirAuthority line too long");
	strcpy(buf, line);
	for (tok = strtok_r(buf, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save), first = 0) {
		if (seen_addr) {
			/* The fingerprint, possibly in groups of 4. */
			size_t n = strlen(tok);
			if (fplen + n > 40)
				return fail(
					err, errlen,
					"DirAuthority fingerprint is longer "
					"than 40 hex digits");
			memcpy(fp + fplen, tok, n);
			fplen += n;
			continue;
		}
		if (strncmp(tok, "orport=", 7) == 0) {
			if (parse_port(tok + 7, &orport) != 0)
				return fail(err, errlen, "bad %s", tok);
		} else if (strncmp(tok, "v3ident=", 8) == 0) {
			if (parse_hex20(tok + 8, out->v3ident) != 0)
				return fail(err, errlen,
					    "bad v3ident: want 40 hex digits");
			out->has_v3ident = 1;
		} else if (strncmp(tok, "ipv6=", 5) == 0) {
			if (parse_ipv6_port(tok + 5, (struct sockaddr_in6 *)&out
							     ->or_addr6) != 0)
				return fail(err, errlen,
					    "bad %s: want ipv6=[ADDRESS]:PORT",
					    tok);
			out->has_ipv6 = 1;
		} else if (strncmp(tok, "weight=", 7) == 0) {
			char *end;
			unsigned long w = strtoul(tok + 7, &end, 10);
			if (*end || tok[7] == '\0' || w > 1000000)
				return fail(err, errlen, "bad %s", tok);
			out->weight = (unsigned)w;
		} else if (strcmp(tok, "no-v2") == 0) {
			out->no_v2 = 1;
		} else if (strcmp(tok, "v3") == 0) {
			out->v3 = 1;
		} else if (strcmp(tok, "hs") == 0 ||
			   strcmp(tok, "no-hs") == 0) {
			out->hs = tok[0] == 'h';
		} else if (strcmp(tok, "bridge") == 0) {
			out->bridge = 1;
		} else if (strchr(tok, ':')) {
			if (parse_ipv4_port(tok, &v4, &out->dir_port) != 0)
				return fail(err, errlen,
					    "bad address \"%s\": want "
					    "IPv4:DirPort",
					    tok);
			seen_addr = 1;
		} else if (strchr(tok, '=')) {
			return fail(err, errlen, "unknown DirAuthority flag %s",
				    tok);
		} else if (first && is_nickname(tok)) {
			snprintf(out->nickname, sizeof out->nickname, "%s",
				 tok);
		} else {
			return fail(err, errlen,
				    "unexpected \"%s\" in DirAuthority line",
				    tok);
		}
	}
	if (!seen_addr)
		return fail(err, errlen,
			    "DirAuthority line has no IPv4:DirPort address");
	if (orport == 0)
		return fail(err, errlen,
			    "DirAuthority line has no orport=: torkit reaches "
			    "authorities on their ORPort");
	fp[fplen] = '\0';
	if (fplen != 40 || parse_hex20(fp, out->rsa_id) != 0)
		return fail(err, errlen,
			    "DirAuthority line needs the authority's "
			    "fingerprint (40 hex digits) after the address");
	{
		struct sockaddr_in *sa = (struct sockaddr_in *)&out->or_addr;
		sa->sin_family = AF_INET;
		sa->sin_addr = v4;
		sa->sin_port = htons(orport);
	}
	return 0;
}

int
tk_dirfallback_parse(const char *line, tk_dirfallback *out, char *err,
		     size_t errlen)
{
	char buf[1024], ip[INET_ADDRSTRLEN];
	char *tok, *save = NULL;
	int have_id = 0;
	uint16_t orport = 0, dirport;
	struct in_addr v4;
	struct sockaddr_in *sa = (struct sockaddr_in *)&out->or_addr;

	memset(out, 0, sizeof *out);
	out->weight = 1.0;
	while (*line == ' ' || *line == '\t')
		line++;
	if (strncasecmp(line, "FallbackDir", 11) == 0 &&
	    (line[11] == ' ' || line[11] == '\t'))
		line += 11;
	if (strlen(line) >= sizeof buf)
		return fail(err, errlen, "FallbackDir line too long");
	strcpy(buf, line);
	tok = strtok_r(buf, " \t\r\n", &save);
	if (!tok)
		return fail(err, errlen, "FallbackDir line is empty");
	/* IPv4 first, with or without a DirPort */
	if (strchr(tok, ':')) {
		if (parse_ipv4_port(tok, &v4, &dirport) != 0)
			return fail(err, errlen,
				    "bad FallbackDir address \"%s\": want "
				    "IPv4[:DirPort]",
				    tok);
	} else if (strlen(tok) >= sizeof ip ||
		   inet_pton(AF_INET, tok, &v4) != 1) {
		return fail(err, errlen,
			    "bad FallbackDir address \"%s\": want "
			    "IPv4[:DirPort]",
			    tok);
	}
	while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
		if (strncmp(tok, "orport=", 7) == 0) {
			if (parse_port(tok + 7, &orport) != 0)
				return fail(err, errlen, "bad %s", tok);
		} else if (strncmp(tok, "id=", 3) == 0) {
			if (parse_hex20(tok + 3, out->rsa_id) != 0)
				return fail(err, errlen,
					    "bad %s: want 40 hex digits", tok);
			have_id = 1;
		} else if (strncmp(tok, "ipv6=", 5) == 0) {
			if (parse_ipv6_port(tok + 5, (struct sockaddr_in6 *)&out
							     ->or_addr6) != 0)
				return fail(err, errlen,
					    "bad %s: want ipv6=[ADDRESS]:PORT",
					    tok);
			out->has_ipv6 = 1;
		} else if (strncmp(tok, "weight=", 7) == 0) {
			char *end;
			double w;
			errno = 0;
			w = strtod(tok + 7, &end);
			if (errno || *end || end == tok + 7 || !(w >= 0) ||
			    w > 1e6)
				return fail(err, errlen, "bad %s", tok);
			out->weight = w;
		} else {
			return fail(err, errlen,
				    "unexpected \"%s\" in FallbackDir line",
				    tok);
		}
	}
	if (orport == 0)
		return fail(err, errlen,
			    "FallbackDir line has no orport=: fallbacks are "
			    "reached on their ORPort");
	if (!have_id)
		return fail(err, errlen,
			    "FallbackDir line has no id= (the relay's "
			    "fingerprint, 40 hex digits)");
	sa->sin_family = AF_INET;
	sa->sin_addr = v4;
	sa->sin_port = htons(orport);
	return 0;
}
