/* Meta-format tokenizer for Tor directory documents (dir-spec §1.2).
 * Strict where the documents tor writes are strict (LF line ends, no blank
 * lines, matching BEGIN/END labels), because every byte of a signed
 * document is covered by its digest and there is nothing to gain from
 * guessing. */
#include "onion/netdoc/netdoc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "onion/base/bytes.h"

int
tk_netdoc_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void
tk_netdoc_reader_init(struct tk_netdoc_reader *rd, const char *doc, size_t len)
{
	rd->doc = doc;
	rd->len = len;
	rd->pos = 0;
	rd->lineno = 1;
}

static int
is_kwchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

static int
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int
is_b64char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/* Finds the end of the line starting at pos: sets *eol to the index of its
 * '\n'. Returns 0, or -1 with err set. */
static int
line_end(const struct tk_netdoc_reader *rd, size_t pos, size_t lineno,
	 size_t max, size_t *eol, char *err, size_t errlen)
{
	size_t avail = rd->len - pos;
	size_t scan = avail < max + 1 ? avail : max + 1;
	const char *nl = memchr(rd->doc + pos, '\n', scan);
	if (!nl) {
		if (avail > max)
			return tk_netdoc_err(err, errlen,
					     "line %zu: longer than %zu bytes",
					     lineno, max);
		return tk_netdoc_err(err, errlen,
				     "line %zu: document truncated (last line "
				     "has no newline)",
				     lineno);
	}
	*eol = (size_t)(nl - rd->doc);
	return 0;
}

static int
is_control(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* The index of the first control byte of p[0..n), or n. Eight bytes at a
 * time (every byte of a large document passes here): a word with no byte
 * below 0x20 and none equal to 0x7f is skipped whole; one that has, a tab
 * perhaps, is looked at byte by byte. The tests cannot miss a byte: a
 * byte below 0x20 sets its own top bit in x - 0x20..20 and has it clear
 * in x. */
static size_t
find_control(const char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t tops = 0x8080808080808080ull;
	size_t i = 0;
	while (i < n) {
		if (n - i >= 8) {
			uint64_t x, y;
			memcpy(&x, p + i, 8);
			y = x ^ (ones * 0x7f);
			if (!(((x - ones * 0x20) & ~x & tops) |
			      ((y - ones) & ~y & tops))) {
				i += 8;
				continue;
			}
		}
		for (size_t e = n - i >= 8 ? i + 8 : n; i < e; i++)
			if (is_control((unsigned char)p[i]))
				return i;
	}
	return n;
}

static int
starts_with(const char *p, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(p, prefix, k) == 0;
}

/* Checks "-----BEGIN LABEL-----" / "-----END LABEL-----" (without the
 * newline) and returns the label span. */
static int
armor_label(const char *line, size_t n, const char *what,
	    struct tk_netdoc_span *label)
{
	size_t pre = strlen(what);
	if (n < pre + 5 + 1 || memcmp(line, what, pre) != 0 ||
	    memcmp(line + n - 5, "-----", 5) != 0)
		return -1;
	label->p = line + pre;
	label->len = n - pre - 5;
	if (label->len == 0 || label->len > TK_NETDOC_MAX_LABEL)
		return -1;
	/* Words of keyword characters separated by single spaces. */
	for (size_t i = 0; i < label->len; i++) {
		unsigned char c = (unsigned char)label->p[i];
		if (c == ' ') {
			if (i == 0 || i + 1 == label->len ||
			    label->p[i - 1] == ' ')
				return -1;
		} else if (!is_kwchar(c)) {
			return -1;
		}
	}
	return 0;
}

static int
read_object(struct tk_netdoc_reader *rd, size_t pos, size_t *lineno,
	    struct tk_netdoc_item *it, char *err, size_t errlen)
{
	size_t start = pos, eol;
	size_t begin_line = *lineno;
	if (line_end(rd, pos, *lineno, TK_NETDOC_MAX_LINE, &eol, err, errlen) <
	    0)
		return -1;
	if (armor_label(rd->doc + pos, eol - pos, "-----BEGIN ",
			&it->obj_label) < 0)
		return tk_netdoc_err(err, errlen,
				     "line %zu: malformed object BEGIN line",
				     *lineno);
	pos = eol + 1;
	(*lineno)++;
	it->obj_body.p = rd->doc + pos;
	for (;;) {
		if (pos >= rd->len)
			return tk_netdoc_err(err, errlen,
					     "line %zu: object '%.*s' is not "
					     "terminated by an END line "
					     "(truncated?)",
					     begin_line, (int)it->obj_label.len,
					     it->obj_label.p);
		if (pos - start > TK_NETDOC_MAX_OBJECT)
			return tk_netdoc_err(err, errlen,
					     "line %zu: object larger than %u "
					     "bytes",
					     begin_line, TK_NETDOC_MAX_OBJECT);
		if (line_end(rd, pos, *lineno, TK_NETDOC_MAX_LINE, &eol, err,
			     errlen) < 0) {
			if (rd->len - pos > TK_NETDOC_MAX_LINE)
				return -1; /* a line too long */
			return tk_netdoc_err(err, errlen,
					     "line %zu: object '%.*s' is not "
					     "terminated by an END line "
					     "(truncated?)",
					     begin_line, (int)it->obj_label.len,
					     it->obj_label.p);
		}
		const char *line = rd->doc + pos;
		size_t n = eol - pos;
		if (starts_with(line, n, "-----END ")) {
			struct tk_netdoc_span end;
			if (armor_label(line, n, "-----END ", &end) < 0 ||
			    end.len != it->obj_label.len ||
			    memcmp(end.p, it->obj_label.p, end.len) != 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: END line does "
						     "not match '-----BEGIN "
						     "%.*s-----'",
						     *lineno,
						     (int)it->obj_label.len,
						     it->obj_label.p);
			it->obj_body.len = (size_t)(line - it->obj_body.p);
			(*lineno)++;
			it->end = eol + 1;
			it->has_obj = 1;
			return 0;
		}
		if (n == 0)
			return tk_netdoc_err(err, errlen,
					     "line %zu: empty line inside "
					     "object '%.*s'",
					     *lineno, (int)it->obj_label.len,
					     it->obj_label.p);
		for (size_t i = 0; i < n; i++)
			if (!is_b64char((unsigned char)line[i]))
				return tk_netdoc_err(err, errlen,
						     "line %zu: object '%.*s' "
						     "holds a non-base64 byte",
						     *lineno,
						     (int)it->obj_label.len,
						     it->obj_label.p);
		pos = eol + 1;
		(*lineno)++;
	}
}

int
tk_netdoc_next(struct tk_netdoc_reader *rd, struct tk_netdoc_item *it,
	       char *err, size_t errlen)
{
	size_t pos = rd->pos, eol, lineno = rd->lineno;
	/* Not a memset: argv is large and filled below up to argc. */
	it->kw.p = it->args.p = it->obj_label.p = it->obj_body.p = NULL;
	it->kw.len = it->args.len = it->obj_label.len = it->obj_body.len = 0;
	it->argc = 0;
	it->has_obj = 0;
	it->start = it->end = it->lineno = 0;
	if (pos >= rd->len)
		return 0;
	if (rd->len > TK_NETDOC_MAX_DOC)
		return tk_netdoc_err(err, errlen,
				     "document larger than %u bytes",
				     TK_NETDOC_MAX_DOC);
	if (line_end(rd, pos, lineno, TK_NETDOC_MAX_LINE, &eol, err, errlen) <
	    0)
		return -1;
	const char *line = rd->doc + pos;
	size_t n = eol - pos;
	if (n == 0)
		return tk_netdoc_err(err, errlen, "line %zu: empty line",
				     lineno);
	size_t bad = find_control(line, n);
	if (bad < n)
		return tk_netdoc_err(err, errlen,
				     "line %zu: control byte 0x%02x", lineno,
				     (unsigned char)line[bad]);
	size_t k = line[0] == '@' ? 1 : 0;
	size_t kstart = k;
	while (k < n && is_kwchar((unsigned char)line[k]))
		k++;
	if (k == kstart || (k < n && !is_blank((unsigned char)line[k])) ||
	    line[kstart] == '-')
		return tk_netdoc_err(err, errlen,
				     "line %zu: does not start with a keyword",
				     lineno);
	it->kw.p = line;
	it->kw.len = k;
	it->start = pos;
	it->lineno = lineno;
	/* "opt" prefixed optional items in old documents; tor still
	 * accepts it, so do we. */
	if (k == 3 && memcmp(line, "opt", 3) == 0 && k < n) {
		size_t j = k;
		while (j < n && is_blank((unsigned char)line[j]))
			j++;
		size_t ks = j;
		while (j < n && is_kwchar((unsigned char)line[j]))
			j++;
		if (j > ks && (j == n || is_blank((unsigned char)line[j])) &&
		    line[ks] != '-') {
			it->kw.p = line + ks;
			it->kw.len = j - ks;
			k = j;
		}
	}
	while (k < n && is_blank((unsigned char)line[k]))
		k++;
	size_t aend = n;
	while (aend > k && is_blank((unsigned char)line[aend - 1]))
		aend--;
	it->args.p = line + k;
	it->args.len = aend - k;
	size_t cur = 0;
	struct tk_netdoc_span a;
	while (tk_netdoc_arg_next(it, &cur, &a)) {
		if (it->argc < TK_NETDOC_ARGV)
			it->argv[it->argc] = a;
		it->argc++;
	}
	it->end = eol + 1;
	lineno++;
	if (it->end < rd->len &&
	    starts_with(rd->doc + it->end, rd->len - it->end, "-----BEGIN")) {
		if (read_object(rd, it->end, &lineno, it, err, errlen) < 0)
			return -1;
	}
	rd->pos = it->end;
	rd->lineno = lineno;
	return 1;
}

int
tk_netdoc_peek_kw(const struct tk_netdoc_reader *rd, struct tk_netdoc_span *kw)
{
	size_t pos = rd->pos, k = pos;
	if (pos >= rd->len)
		return 0;
	if (rd->doc[k] == '@')
		k++;
	while (k < rd->len && is_kwchar((unsigned char)rd->doc[k]))
		k++;
	kw->p = rd->doc + pos;
	kw->len = k - pos;
	return 1;
}

/* From p[i], the index of the next blank of p[0..n), or n; eight bytes
 * at a time while none of them is a space or a tab (a microdescriptor's
 * family and exit ports are long arguments). */
static size_t
skip_word(const char *p, size_t i, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t tops = 0x8080808080808080ull;
	while (n - i >= 8) {
		uint64_t x, sp, tab;
		memcpy(&x, p + i, 8);
		sp = x ^ (ones * ' ');
		tab = x ^ (ones * '\t');
		if (((sp - ones) & ~sp & tops) | ((tab - ones) & ~tab & tops))
			break;
		i += 8;
	}
	while (i < n && !is_blank((unsigned char)p[i]))
		i++;
	return i;
}

int
tk_netdoc_arg_next(const struct tk_netdoc_item *it, size_t *cursor,
		   struct tk_netdoc_span *arg)
{
	size_t i = *cursor, n = it->args.len;
	const char *p = it->args.p;
	while (i < n && is_blank((unsigned char)p[i]))
		i++;
	if (i >= n) {
		*cursor = n;
		return 0;
	}
	size_t s = i;
	i = skip_word(p, i, n);
	arg->p = p + s;
	arg->len = i - s;
	*cursor = i;
	return 1;
}

long
tk_netdoc_obj_decode(const struct tk_netdoc_item *it, uint8_t *out, size_t cap)
{
	if (!it->has_obj)
		return -1;
	long n = tk_base64_decode(it->obj_body.p, it->obj_body.len, out, cap);
	return n < 0 ? -1 : n;
}

int
tk_netdoc_b64_exact(struct tk_netdoc_span s, uint8_t *out, size_t want)
{
	uint8_t buf[128];
	if (want > sizeof buf || s.len > 2 * sizeof buf)
		return -1;
	long n = tk_base64_decode(s.p, s.len, buf, sizeof buf);
	if (n < 0 || (size_t)n != want)
		return -1;
	memcpy(out, buf, want);
	return 0;
}

int
tk_netdoc_hex_exact(struct tk_netdoc_span s, uint8_t *out, size_t want)
{
	return tk_hex_decode(s.p, s.len, out, want);
}

void
tk_netdoc_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digit[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digit[in[i] >> 4];
		out[2 * i + 1] = digit[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
tk_netdoc_int(struct tk_netdoc_span s, long long min, long long max,
	      long long *out)
{
	size_t i = 0;
	int neg = 0;
	if (s.len == 0)
		return -1;
	if (s.p[0] == '-' || s.p[0] == '+') {
		neg = s.p[0] == '-';
		i = 1;
	}
	if (i == s.len || s.len - i > 18) /* fits in long long */
		return -1;
	long long v = 0;
	for (; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		v = v * 10 + (s.p[i] - '0');
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
digits(const char *p, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (civil calendar
 * arithmetic with March-based years, so leap days fall at the end). */
static int64_t
days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
tk_netdoc_time(struct tk_netdoc_span date, struct tk_netdoc_span hms,
	       int64_t *out)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30,
				       31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, s;
	if (date.len != 10 || date.p[4] != '-' || date.p[7] != '-' ||
	    hms.len != 8 || hms.p[2] != ':' || hms.p[5] != ':')
		return -1;
	if (digits(date.p, 4, &y) || digits(date.p + 5, 2, &mo) ||
	    digits(date.p + 8, 2, &d) || digits(hms.p, 2, &h) ||
	    digits(hms.p + 3, 2, &mi) || digits(hms.p + 6, 2, &s))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || s > 60)
		return -1;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

void
tk_netdoc_time_fmt(int64_t t, char *buf, size_t len)
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t secs = t - days * 86400;
	/* Inverse of days_from_civil. */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp + (mp < 10 ? 3 : -9);
	y += m <= 2;
	snprintf(buf, len, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld",
		 (long long)y, (long long)m, (long long)d,
		 (long long)(secs / 3600), (long long)(secs / 60 % 60),
		 (long long)(secs % 60));
}

int
tk_netdoc_ipv4(struct tk_netdoc_span s, uint32_t *out)
{
	uint32_t v = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		size_t st = i;
		unsigned x = 0;
		while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9' &&
		       i - st < 3)
			x = x * 10 + (unsigned)(s.p[i++] - '0');
		if (i == st || x > 255 || (i - st > 1 && s.p[st] == '0'))
			return -1;
		v = v << 8 | x;
		if (part < 3) {
			if (i >= s.len || s.p[i] != '.')
				return -1;
			i++;
		}
	}
	if (i != s.len)
		return -1;
	*out = v;
	return 0;
}

int
tk_netdoc_port(struct tk_netdoc_span s, uint16_t *out)
{
	long long v;
	if (tk_netdoc_int(s, 0, 65535, &v) < 0 || s.p[0] == '+' ||
	    s.p[0] == '-')
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* IPv6 text (between brackets) into 16 bytes; RFC 4291 forms without an
 * embedded IPv4 tail, which tor never writes in "a" lines. */
int
tk_netdoc_ipv6(const char *p, size_t n, uint8_t out[16])
{
	uint16_t g[8];
	int ng = 0, gap = -1;
	size_t i = 0;
	if (n >= 2 && p[0] == ':' && p[1] == ':') {
		gap = 0;
		i = 2;
	} else if (n >= 1 && p[0] == ':') {
		return -1;
	}
	while (i < n) {
		unsigned x = 0;
		size_t st = i;
		while (i < n && i - st < 4) {
			char c = p[i];
			int d = c >= '0' && c <= '9'   ? c - '0'
				: c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10
						       : -1;
			if (d < 0)
				break;
			x = x << 4 | (unsigned)d;
			i++;
		}
		if (i == st || ng == 8)
			return -1;
		g[ng++] = (uint16_t)x;
		if (i == n)
			break;
		if (p[i] != ':')
			return -1;
		i++;
		if (i < n && p[i] == ':') {
			if (gap >= 0)
				return -1;
			gap = ng;
			i++;
		} else if (i == n) {
			return -1;
		}
	}
	if ((gap < 0 && ng != 8) || (gap >= 0 && ng > 7))
		return -1;
	memset(out, 0, 16);
	int tail = gap < 0 ? 0 : ng - gap;
	for (int k = 0; k < ng; k++) {
		int pos = (gap >= 0 && k >= gap) ? 8 - tail + (k - gap) : k;
		out[2 * pos] = (uint8_t)(g[k] >> 8);
		out[2 * pos + 1] = (uint8_t)g[k];
	}
	return 0;
}

int
tk_netdoc_ipv6_orport(struct tk_netdoc_span s, uint8_t addr[16], uint16_t *port)
{
	static const uint8_t zero[16];
	const char *close;
	struct tk_netdoc_span ps;
	if (s.len < 4 || s.p[0] != '[')
		return -1;
	close = memchr(s.p, ']', s.len);
	if (!close || close + 1 >= s.p + s.len || close[1] != ':')
		return -1;
	ps.p = close + 2;
	ps.len = (size_t)(s.p + s.len - ps.p);
	if (tk_netdoc_ipv6(s.p + 1, (size_t)(close - s.p - 1), addr) < 0 ||
	    tk_netdoc_port(ps, port) < 0 || *port == 0 ||
	    memcmp(addr, zero, 16) == 0)
		return -1;
	return 0;
}
