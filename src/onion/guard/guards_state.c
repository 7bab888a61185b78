/* guards.h: the sample as tor's state-file "Guard" lines (guard-spec
 * A.5): space-separated K=V, order irrelevant, unknown keys kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/guard/guards_int.h"

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

/* "2016-11-29T19:39:31" (UTC). 0 or -1. */
static int
parse_iso(const char *s, int64_t *out)
{
	int y;
	unsigned mo, d, h, mi, se;
	char tail;
	if (strlen(s) != 19 ||
	    sscanf(s, "%4d-%2u-%2uT%2u:%2u:%2u%c", &y, &mo, &d, &h, &mi, &se,
		   &tail) != 6 ||
	    y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || se > 60)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

static void
format_iso(int64_t t, char out[24])
{
	int y;
	unsigned mo, d;
	int64_t days = t >= 0 ? t / 86400 : 0, sec = t >= 0 ? t % 86400 : 0;
	civil_from_days(days, &y, &mo, &d);
	snprintf(out, 24, "%04d-%02u-%02uT%02u:%02u:%02u", y % 10000, mo % 13,
		 d % 32, (unsigned)(sec / 3600), (unsigned)(sec / 60 % 60),
		 (unsigned)(sec % 60));
}

static int
keep_other(tk_guards *g, const char *value)
{
	size_t len = strlen(value);
	if (g->n_other == TK_GUARDS_MAX_OTHER || len >= TK__GUARD_OTHER_LEN ||
	    strpbrk(value, "\r\n"))
		return 0; /* dropped: bounded */
	g->other[g->n_other] = strdup(value);
	if (!g->other[g->n_other])
		return -1;
	g->n_other++;
	return 0;
}

static void
append_extra(struct tk__guard *m, const char *kv, size_t len)
{
	size_t have = strlen(m->extra);
	if (have + 1 + len + 1 > sizeof m->extra)
		return; /* bounded: what does not fit is dropped */
	if (have)
		m->extra[have++] = ' ';
	memcpy(m->extra + have, kv, len);
	m->extra[have + len] = '\0';
}

int
tk_guards_load_line(tk_guards *g, const char *value, char *err, size_t errlen)
{
	struct tk__guard m;
	const char *p = value;
	int have_id = 0, have_sampled = 0, other = 0, have_in = 0;

	memset(&m, 0, sizeof m);
	m.listed = 1;
	m.confirmed_idx = -1;
	m.reach = TK__REACH_MAYBE;
	while (*p) {
		const char *end, *eq;
		char key[32], val[128];
		size_t klen, vlen;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n' || *p == '\r')
			break;
		end = p + strcspn(p, " \t\r\n");
		eq = memchr(p, '=', (size_t)(end - p));
		if (!eq || eq == p) {
			snprintf(err, errlen, "Guard: \"%.*s\" is not K=V",
				 (int)(end - p > 40 ? 40 : end - p), p);
			return -1;
		}
		klen = (size_t)(eq - p);
		vlen = (size_t)(end - eq - 1);
		if (klen >= sizeof key || vlen >= sizeof val) {
			append_extra(&m, p, (size_t)(end - p));
			p = end;
			continue;
		}
		memcpy(key, p, klen);
		key[klen] = '\0';
		memcpy(val, eq + 1, vlen);
		val[vlen] = '\0';
		if (!strcmp(key, "in")) {
			have_in = 1;
			other = strcmp(val, "default") != 0;
		} else if (!strcmp(key, "rsa_id")) {
			if (vlen != 40 ||
			    tk_hex_decode(val, 40, m.rsa_id, 20)) {
				snprintf(err, errlen, "Guard: bad rsa_id");
				return -1;
			}
			have_id = 1;
		} else if (!strcmp(key, "nickname")) {
			snprintf(m.nickname, sizeof m.nickname, "%.19s", val);
		} else if (!strcmp(key, "sampled_on")) {
			if (parse_iso(val, &m.sampled_on)) {
				snprintf(err, errlen, "Guard: bad sampled_on");
				return -1;
			}
			have_sampled = 1;
		} else if (!strcmp(key, "sampled_by")) {
			snprintf(m.sampled_by, sizeof m.sampled_by, "%.31s",
				 val);
		} else if (!strcmp(key, "listed")) {
			m.listed = strcmp(val, "0") != 0;
		} else if (!strcmp(key, "unlisted_since")) {
			if (parse_iso(val, &m.unlisted_since)) {
				snprintf(err, errlen,
					 "Guard: bad unlisted_since");
				return -1;
			}
		} else if (!strcmp(key, "confirmed_on")) {
			if (parse_iso(val, &m.confirmed_on)) {
				snprintf(err, errlen,
					 "Guard: bad confirmed_on");
				return -1;
			}
		} else if (!strcmp(key, "confirmed_idx")) {
			char *e;
			long v = strtol(val, &e, 10);
			if (*e || v < 0 || v > 1000000) {
				snprintf(err, errlen,
					 "Guard: bad confirmed_idx");
				return -1;
			}
			m.confirmed_idx = v;
		} else {
			append_extra(&m, p, (size_t)(end - p));
		}
		p = end;
	}
	if (!have_in) {
		snprintf(err, errlen, "Guard: no \"in\"");
		return -1;
	}
	if (other)
		return keep_other(g, value)
			       ? (snprintf(err, errlen, "out of memory"), -1)
			       : 0;
	if (!have_id || !have_sampled) {
		snprintf(err, errlen, "Guard: no %s",
			 have_id ? "sampled_on" : "rsa_id");
		return -1;
	}
	if (m.listed)
		m.unlisted_since = 0;
	else if (!m.unlisted_since)
		m.unlisted_since = m.sampled_on;
	if (m.confirmed_idx >= 0 && !m.confirmed_on)
		m.confirmed_on = m.sampled_on;
	if (m.confirmed_idx < 0)
		m.confirmed_on = 0;
	for (size_t i = 0; i < g->n; i++)
		if (!memcmp(g->m[i].rsa_id, m.rsa_id, 20)) {
			snprintf(err, errlen, "Guard: a member twice");
			return -1;
		}
	if (g->n == TK_GUARDS_MAX)
		return 0; /* bounded: the rest is dropped */
	g->m[g->n++] = m; /* confirmed_idx compacted at the next pick */
	return 0;
}

char *
tk_guards_state_text(const tk_guards *g)
{
	/* Fixed part under 300 bytes a member, plus what we keep. */
	size_t cap = 64 + g->n * (320 + TK__GUARD_EXTRA_MAX) +
		     g->n_other * (TK__GUARD_OTHER_LEN + 8);
	char *text = malloc(cap), *p;
	if (!text)
		return NULL;
	p = text;
	*p = '\0';
	for (size_t i = 0; i < g->n; i++) {
		const struct tk__guard *m = &g->m[i];
		char hex[41], sampled[24], when[24];
		tk_hex_encode(m->rsa_id, 20, hex);
		for (char *h = hex; *h; h++)
			if (*h >= 'a' && *h <= 'f')
				*h = (char)(*h - 'a' + 'A');
		format_iso(m->sampled_on, sampled);
		p += sprintf(p, "Guard in=default rsa_id=%s", hex);
		if (m->nickname[0])
			p += sprintf(p, " nickname=%s", m->nickname);
		p += sprintf(p, " sampled_on=%s", sampled);
		if (m->sampled_by[0])
			p += sprintf(p, " sampled_by=%s", m->sampled_by);
		if (!m->listed) {
			format_iso(m->unlisted_since, when);
			p += sprintf(p, " unlisted_since=%s", when);
		}
		p += sprintf(p, " listed=%d", m->listed ? 1 : 0);
		if (m->confirmed_idx >= 0) {
			format_iso(m->confirmed_on, when);
			p += sprintf(p, " confirmed_on=%s confirmed_idx=%ld",
				     when, m->confirmed_idx);
		}
		if (m->extra[0])
			p += sprintf(p, " %s", m->extra);
		*p++ = '\n';
		*p = '\0';
	}
	for (size_t i = 0; i < g->n_other; i++)
		p += sprintf(p, "Guard %s\n", g->other[i]);
	return text;
}
