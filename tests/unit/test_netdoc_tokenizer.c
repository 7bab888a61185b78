/* The meta-format tokenizer, its small parsers (time, integers, base64,
 * hex) and exit policy summaries. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/tap.h"
#include "onion/netdoc/netdoc.h"
#include "onion/netdoc/policy_summary.h"

static int span_eq(struct tk_netdoc_span s, const char *want)
{
	return tk_netdoc_span_is(s, want);
}

/* Runs the tokenizer over all of doc; returns items read or -1 (err). */
static int count_items(const char *doc, char *err, size_t errlen)
{
	struct tk_netdoc_reader rd;
	struct tk_netdoc_item it;
	int n = 0, r;
	tk_netdoc_reader_init(&rd, doc, strlen(doc));
	while ((r = tk_netdoc_next(&rd, &it, err, errlen)) == 1)
		n++;
	return r < 0 ? -1 : n;
}

static void test_items(void)
{
	static const char doc[] =
		"alpha\n"
		"beta one  two\tthree \n"
		"opt gamma x\n"
		"@annot 1\n"
		"delta-2\n"
		"-----BEGIN SOME THING-----\n"
		"AAEC\n"
		"AwQF\n"
		"-----END SOME THING-----\n"
		"last  \n";
	struct tk_netdoc_reader rd;
	struct tk_netdoc_item it;
	char err[TK_NETDOC_ERRLEN];
	struct tk_netdoc_span kw;

	tk_netdoc_reader_init(&rd, doc, sizeof doc - 1);
	tap_ok(tk_netdoc_peek_kw(&rd, &kw) && span_eq(kw, "alpha"),
	       "peek sees the first keyword");
	tap_eq_long(tk_netdoc_next(&rd, &it, err, sizeof err), 1, "item 1");
	tap_ok(span_eq(it.kw, "alpha") && it.argc == 0 && !it.has_obj &&
		       it.args.len == 0,
	       "keyword without arguments");
	tap_eq_long(tk_netdoc_next(&rd, &it, err, sizeof err), 1, "item 2");
	tap_ok(span_eq(it.kw, "beta") && it.argc == 3 &&
		       span_eq(it.argv[0], "one") && span_eq(it.argv[1], "two") &&
		       span_eq(it.argv[2], "three"),
	       "arguments split on spaces and tabs");
	tap_ok(span_eq(it.args, "one  two\tthree"),
	       "args span excludes trailing blanks");
	tap_eq_long((long)it.lineno, 2, "line number");
	tap_eq_long(tk_netdoc_next(&rd, &it, err, sizeof err), 1, "item 3");
	tap_ok(span_eq(it.kw, "gamma") && it.argc == 1 &&
		       span_eq(it.argv[0], "x"),
	       "'opt' prefix is dropped");
	tap_eq_long(tk_netdoc_next(&rd, &it, err, sizeof err), 1, "item 4");
	tap_ok(span_eq(it.kw, "@annot"), "annotation keyword keeps its @");
	tap_eq_long(tk_netdoc_next(&rd, &it, err, sizeof err), 1, "item 5");
	tap_ok(span_eq(it.kw, "delta-2") && it.has_obj &&
		       span_eq(it.obj_label, "SOME THING"),
	       "item with an object");
	uint8_t buf[16];
	tap_eq_long(tk_netdoc_obj_decode(&it, buf, sizeof buf), 6,
		    "object decodes to 6 bytes");
	tap_eq_bytes(buf, 6, "\x00\x01\x02\x03\x04\x05", 6, "object bytes");
	tap_eq_long(tk_netdoc_obj_decode(&it, buf, 5), -1,
		    "decode refuses a too-small buffer");
	tap_eq_long((long)it.end, (long)(strstr(doc, "last") - doc),
		    "item ends after its END line");
	tap_eq_long(tk_netdoc_next(&rd, &it, err, sizeof err), 1, "item 6");
	tap_ok(span_eq(it.kw, "last") && it.argc == 0, "trailing blanks only");
	tap_eq_long(tk_netdoc_next(&rd, &it, err, sizeof err), 0, "end");
	tap_eq_long(tk_netdoc_next(&rd, &it, err, sizeof err), 0,
		    "end stays end");

	/* More arguments than argv holds. */
	char many[600] = "k";
	for (int i = 0; i < 40; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many),
			 " a%d", i);
	strcat(many, "\n");
	tk_netdoc_reader_init(&rd, many, strlen(many));
	tk_netdoc_next(&rd, &it, err, sizeof err);
	tap_eq_long((long)it.argc, 40, "argc counts all 40 arguments");
	size_t cur = 0, n = 0;
	struct tk_netdoc_span a, last = {0, 0};
	while (tk_netdoc_arg_next(&it, &cur, &a)) {
		n++;
		last = a;
	}
	tap_ok(n == 40 && span_eq(last, "a39"),
	       "arg_next iterates past argv");
}

static void test_item_errors(void)
{
	struct {
		const char *doc, *why;
	} bad[] = {
		{"a\n\nb\n", "line 2: empty line"},
		{"a\r\n", "control byte 0x0d"},
		{"a\nb", "line 2: document truncated"},
		{" a\n", "does not start with a keyword"},
		{"-a\n", "does not start with a keyword"},
		{"a=b\n", "does not start with a keyword"},
		{"-----BEGIN X-----\nAAAA\n-----END X-----\n",
		 "does not start with a keyword"},
		{"a\n-----BEGIN X-----\nAAAA\n", "object 'X' is not terminated"},
		{"a\n-----BEGIN X-----\nAAAA\n-----END Y-----\n",
		 "END line does not match"},
		{"a\n-----BEGIN X----\nAAAA\n-----END X-----\n",
		 "malformed object BEGIN line"},
		{"a\n-----BEGIN  X-----\nAAAA\n-----END  X-----\n",
		 "malformed object BEGIN line"},
		{"a\n-----BEGIN X-----\nAA*A\n-----END X-----\n", "non-base64"},
		{"a\n-----BEGIN X-----\n\n-----END X-----\n", "empty line inside"},
	};
	char err[TK_NETDOC_ERRLEN];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		int r = count_items(bad[i].doc, err, sizeof err);
		tap_ok(r < 0 && strstr(err, bad[i].why),
		       "malformed document %zu: %s", i, err);
	}
	/* NUL bytes are control bytes too (strlen would hide them). */
	static const char nul[] = "a\0b\n";
	struct tk_netdoc_reader rd;
	struct tk_netdoc_item it;
	tk_netdoc_reader_init(&rd, nul, sizeof nul - 1);
	tap_ok(tk_netdoc_next(&rd, &it, err, sizeof err) < 0 &&
		       strstr(err, "control byte 0x00"),
	       "NUL byte rejected");

	/* The control-byte scan goes eight bytes at a time: a control byte
	 * at any place of a line is found, and tabs, bytes of 0x80 and
	 * above and 0x20 are not control bytes wherever they are. */
	int missed = 0, wrong = 0;
	char line[64];
	for (size_t at = 1; at < 40; at++) {
		const unsigned char ctl[] = { 0x00, 0x01, 0x0d, 0x1f, 0x7f };
		for (size_t c = 0; c < sizeof ctl; c++) {
			memset(line, 'k', sizeof line);
			line[at] = (char)ctl[c];
			line[41] = '\n';
			tk_netdoc_reader_init(&rd, line, 42);
			char want[32];
			snprintf(want, sizeof want, "control byte 0x%02x",
				 ctl[c]);
			if (tk_netdoc_next(&rd, &it, err, sizeof err) >= 0 ||
			    !strstr(err, want))
				missed++;
		}
		memset(line, 'k', sizeof line);
		line[1] = ' '; /* keyword "k", then arguments */
		line[at + 1] = at % 3 == 0   ? '\t'
			       : at % 3 == 1 ? (char)0x80
					     : (char)0xff;
		line[at] = ' ';
		line[41] = '\n';
		tk_netdoc_reader_init(&rd, line, 42);
		if (tk_netdoc_next(&rd, &it, err, sizeof err) != 1)
			wrong++;
	}
	tap_ok(!missed, "a control byte anywhere in a line is found (%d "
			"missed)",
	       missed);
	tap_ok(!wrong, "tabs, spaces and high bytes are no control bytes "
		       "(%d refused)",
	       wrong);

	/* A line longer than the limit: error, not an unbounded scan. */
	size_t big = TK_NETDOC_MAX_LINE + 10;
	char *doc = malloc(big);
	memset(doc, 'x', big);
	tk_netdoc_reader_init(&rd, doc, big);
	tap_ok(tk_netdoc_next(&rd, &it, err, sizeof err) < 0 &&
		       strstr(err, "longer than"),
	       "over-long line rejected: %s", err);
	free(doc);

	/* An object larger than the limit. */
	size_t lines = TK_NETDOC_MAX_OBJECT / 65 + 10;
	doc = malloc(lines * 65 + 64);
	size_t o = (size_t)sprintf(doc, "k\n-----BEGIN X-----\n");
	for (size_t i = 0; i < lines; i++) {
		memset(doc + o, 'A', 64);
		doc[o + 64] = '\n';
		o += 65;
	}
	o += (size_t)sprintf(doc + o, "-----END X-----\n");
	tk_netdoc_reader_init(&rd, doc, o);
	tap_ok(tk_netdoc_next(&rd, &it, err, sizeof err) < 0 &&
		       strstr(err, "object larger than"),
	       "over-large object rejected: %s", err);
	free(doc);
}

static void test_scalars(void)
{
	int64_t t;
	char buf[32];
	struct tk_netdoc_span d = {"1970-01-01", 10}, h = {"00:00:00", 8};
	tap_ok(tk_netdoc_time(d, h, &t) == 0 && t == 0, "epoch");
	struct tk_netdoc_span d2 = {"2026-11-27", 10}, h2 = {"06:33:10", 8};
	tap_ok(tk_netdoc_time(d2, h2, &t) == 0 && t == 1795761190LL,
	       "2026-11-27 06:33:10 = 1795761190");
	tk_netdoc_time_fmt(t, buf, sizeof buf);
	tap_eq_str(buf, "2026-11-27 06:33:10", "formats back");
	struct tk_netdoc_span leap = {"2024-02-29", 10};
	tap_ok(tk_netdoc_time(leap, h, &t) == 0 && t == 1709164800LL,
	       "leap day 2024");
	tk_netdoc_time_fmt(t, buf, sizeof buf);
	tap_eq_str(buf, "2024-02-29 00:00:00", "leap day formats back");
	struct tk_netdoc_span d38 = {"2038-01-01", 10};
	tap_ok(tk_netdoc_time(d38, h, &t) == 0 && t == 2145916800LL,
	       "2038-01-01 (beyond 32-bit time_t)");
	const char *bad_dates[] = {"2023-02-29", "2026-13-01", "2026-00-10",
				   "2026-04-31", "1969-12-31", "2026/11/27",
				   "26-11-27xx", "2026-1a-27"};
	for (size_t i = 0; i < sizeof bad_dates / sizeof *bad_dates; i++) {
		struct tk_netdoc_span s = {bad_dates[i], strlen(bad_dates[i])};
		tap_ok(tk_netdoc_time(s, h, &t) < 0, "bad date %s",
		       bad_dates[i]);
	}
	const char *bad_times[] = {"24:00:00", "12:60:00", "12:00:61",
				   "1:00:00", "12-00-00"};
	for (size_t i = 0; i < sizeof bad_times / sizeof *bad_times; i++) {
		struct tk_netdoc_span s = {bad_times[i], strlen(bad_times[i])};
		tap_ok(tk_netdoc_time(d, s, &t) < 0, "bad time %s",
		       bad_times[i]);
	}

	long long v;
	struct {
		const char *s;
		int ok;
		long long v;
	} ints[] = {
		{"0", 1, 0}, {"-5", 1, -5}, {"2147483647", 1, 2147483647LL},
		{"2147483648", 0, 0}, {"", 0, 0}, {"-", 0, 0}, {"1x", 0, 0},
		{"99999999999999999999999", 0, 0}, {"+7", 1, 7},
	};
	for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
		struct tk_netdoc_span s = {ints[i].s, strlen(ints[i].s)};
		int r = tk_netdoc_int(s, INT32_MIN, INT32_MAX, &v);
		tap_ok(ints[i].ok ? r == 0 && v == ints[i].v : r < 0,
		       "int '%s'", ints[i].s);
	}

	uint8_t out[32];
	struct tk_netdoc_span b1 = {"AAECAw", 6}, b2 = {"AAECAw==", 8},
			      b3 = {"AAECA", 5}, b4 = {"AA*CAw", 6};
	tap_ok(tk_netdoc_b64_exact(b1, out, 4) == 0 &&
		       memcmp(out, "\0\1\2\3", 4) == 0,
	       "unpadded base64 argument");
	tap_ok(tk_netdoc_b64_exact(b2, out, 4) == 0, "padded base64 argument");
	tap_ok(tk_netdoc_b64_exact(b1, out, 5) < 0, "wrong decoded length");
	tap_ok(tk_netdoc_b64_exact(b3, out, 3) < 0 &&
		       tk_netdoc_b64_exact(b4, out, 4) < 0,
	       "malformed base64 argument");
	struct tk_netdoc_span x1 = {"0aFf", 4}, x2 = {"0aF", 3},
			      x3 = {"0aFg", 4};
	tap_ok(tk_netdoc_hex_exact(x1, out, 2) == 0 && out[0] == 0x0a &&
		       out[1] == 0xff,
	       "hex either case");
	tap_ok(tk_netdoc_hex_exact(x2, out, 2) < 0 &&
		       tk_netdoc_hex_exact(x3, out, 2) < 0,
	       "bad hex");
	struct {
		const char *s;
		int ok;
		uint32_t v;
	} v4[] = {
		{"127.0.0.1", 1, 0x7f000001}, {"255.255.255.255", 1, 0xffffffff},
		{"0.0.0.0", 1, 0}, {"256.0.0.1", 0, 0}, {"1.2.3", 0, 0},
		{"1.2.3.4.5", 0, 0}, {"01.2.3.4", 0, 0}, {"1..3.4", 0, 0},
		{"1.2.3.4 ", 0, 0}, {"1234.1.1.1", 0, 0},
	};
	for (size_t i = 0; i < sizeof v4 / sizeof *v4; i++) {
		uint32_t ip = 0;
		struct tk_netdoc_span sp = {v4[i].s, strlen(v4[i].s)};
		int r = tk_netdoc_ipv4(sp, &ip);
		tap_ok(v4[i].ok ? r == 0 && ip == v4[i].v : r < 0, "ipv4 '%s'",
		       v4[i].s);
	}
	struct {
		const char *s;
		const char *hex;	/* NULL: must fail */
	} v6[] = {
		{"::1", "00000000000000000000000000000001"},
		{"::", "00000000000000000000000000000000"},
		{"2001:db8::1:2", "20010db8000000000000000000010002"},
		{"fe80::", "fe800000000000000000000000000000"},
		{"1:2:3:4:5:6:7:8", "00010002000300040005000600070008"},
		{"1:2:3:4:5:6:7::", "00010002000300040005000600070000"},
		{"1:2:3:4:5:6:7:8:9", NULL}, {"1::2::3", NULL}, {":1", NULL},
		{"1:", NULL}, {"12345::", NULL}, {"g::", NULL}, {"", NULL},
		{"1:2:3:4:5:6:7", NULL},
	};
	for (size_t i = 0; i < sizeof v6 / sizeof *v6; i++) {
		uint8_t a6[16], want6[16];
		int r = tk_netdoc_ipv6(v6[i].s, strlen(v6[i].s), a6);
		if (v6[i].hex) {
			tap_unhex(v6[i].hex, want6, 16);
			tap_ok(r == 0 && memcmp(a6, want6, 16) == 0,
			       "ipv6 '%s'", v6[i].s);
		} else {
			tap_ok(r < 0, "bad ipv6 '%s'", v6[i].s);
		}
	}
	uint16_t port;
	struct tk_netdoc_span p1 = {"65535", 5}, p2 = {"65536", 5},
			      p3 = {"-1", 2};
	tap_ok(tk_netdoc_port(p1, &port) == 0 && port == 65535 &&
		       tk_netdoc_port(p2, &port) < 0 &&
		       tk_netdoc_port(p3, &port) < 0,
	       "ports");

	char hex[9];
	tk_netdoc_hex((const uint8_t *)"\x0a\xff\x10\x01", 4, hex);
	tap_eq_str(hex, "0AFF1001", "hex encodes upper-case");
}

static int psum(struct tk_policy_summary *p, const char *verb,
		const char *list)
{
	char err[TK_NETDOC_ERRLEN];
	return tk_policy_summary_parse(p, verb, strlen(verb), list,
				       strlen(list), err, sizeof err);
}

static void test_policy(void)
{
	struct tk_policy_summary p;
	tk_policy_summary_init(&p);
	tap_ok(tk_policy_summary_rejects_all(&p) &&
		       !tk_policy_summary_allows(&p, 80),
	       "no summary rejects everything");
	tap_eq_long(psum(&p, "accept", "1-65535"), 0, "accept 1-65535");
	tap_ok(tk_policy_summary_allows(&p, 1) &&
		       tk_policy_summary_allows(&p, 65535) &&
		       !tk_policy_summary_allows(&p, 0) &&
		       !tk_policy_summary_rejects_all(&p),
	       "accepts every port, never port 0");
	tap_eq_long(psum(&p, "accept", "443,80-81,20-23,82,22"), 0,
		    "unordered, overlapping, adjacent ranges");
	tap_eq_long((long)p.n, 3, "merged into three ranges");
	tap_ok(p.n == 3 && p.r[0].lo == 20 && p.r[0].hi == 23 &&
		       p.r[1].lo == 80 && p.r[1].hi == 82 && p.r[2].lo == 443,
	       "20-23,80-82,443");
	tap_ok(tk_policy_summary_allows(&p, 22) &&
		       tk_policy_summary_allows(&p, 82) &&
		       !tk_policy_summary_allows(&p, 83) &&
		       !tk_policy_summary_allows(&p, 19) &&
		       tk_policy_summary_allows(&p, 443) &&
		       !tk_policy_summary_allows(&p, 444),
	       "lookups at range edges");
	tap_eq_long(psum(&p, "reject", "1-65535"), 0, "reject 1-65535");
	tap_ok(tk_policy_summary_rejects_all(&p) &&
		       !tk_policy_summary_allows(&p, 443),
	       "reject 1-65535 rejects all");
	tap_eq_long(psum(&p, "reject", "25,119,135-139,445,563,1214"), 0,
		    "typical reject summary");
	tap_ok(tk_policy_summary_allows(&p, 80) &&
		       !tk_policy_summary_allows(&p, 137) &&
		       !tk_policy_summary_rejects_all(&p),
	       "reject list allows the rest");
	tap_eq_long(psum(&p, "accept", "20-30,25-40,41,50"), 0,
		    "ordered, overlapping and adjacent ranges");
	tap_ok(p.n == 2 && p.r[0].lo == 20 && p.r[0].hi == 41 &&
		       p.r[1].lo == 50 && p.r[1].hi == 50,
	       "20-41,50");
	const char *bad[] = {"0", "65536", "80-79", "80,,81", "80,", ",80",
			     "-80", "80-", "1-2-3", "x", "", "123456"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		tap_ok(psum(&p, "accept", bad[i]) < 0 &&
			       tk_policy_summary_rejects_all(&p),
		       "bad port list '%s' rejected, leaves reject-all",
		       bad[i]);
	tap_ok(psum(&p, "allow", "80") < 0, "bad verb rejected");
	tk_policy_summary_free(&p);
}

int main(void)
{
	test_items();
	test_item_errors();
	test_scalars();
	test_policy();
	return tap_done();
}
