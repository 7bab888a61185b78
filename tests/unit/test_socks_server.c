/* Server role of the SOCKS codec against the server-side cases of Tor's
 * and arti's own tests, plus properties checked on every row.
 *
 * Row names: T4-* (SOCKS4), T5-* (SOCKS5), W-* (wrong protocol) and TR-*
 * (truncated input) are the cases of Tor's src/test/test_socks.c; A-* are
 * arti's tor-socksproto proxy tests; D-* are what Tor's connection layer
 * sends where its parser writes no reply (read from Tor's source); S4-*
 * and S5-* are further rules of Tor's parser (proto_socks.c). Checked on
 * every row:
 *   - fed one byte at a time, and in odd chunks, the result is the same as
 *     fed whole (status, every reply byte, bytes consumed, the request);
 *   - every proper prefix of a non-error input is NEED_MORE;
 *   - bytes after a complete request are left for the caller.
 * Where torkit deliberately differs from Tor, the row asserts OUR bytes and
 * its note names the difference. */
#include "lib/socks_proto.h"

#include "lib/socks_int.h"

#include "../unit/tap.h"

#include <stdlib.h>
#include <sys/socket.h>

enum {
	F_SAFE = 1 << 0,   /* SafeSocks 1 */
	F_TEST = 1 << 1,   /* TestSocks 1 */
	F_PREFER = 1 << 2, /* PreferSOCKSNoAuth */
	F_V6 = 1 << 3,	   /* client connected over IPv6 */
	F_TR = 1 << 4,	   /* a TR-* row: prefixes drain nothing */
	F_LOGADDR = 1 << 5,
};

#define ERR TK_SOCKS_ERROR
#define NEED TK_SOCKS_NEED_MORE
#define DONE TK_SOCKS_DONE
#define ANY (-1)

#define Z6 "00 00 00 00 00 00"
#define S4_FAIL "00 5b 00 00 00 00 00 00"
#define S5_GEN "05 01 00 01 " Z6

struct row {
	const char *id;
	const char *setup; /* hex fed first to reach a state, or NULL */
	const char *in;	   /* hex */
	unsigned flags;
	int status;
	const char *reply; /* every reply byte, in order */
	int consumed;	   /* ANY: not checked (errors) */
	int cmd;	   /* 0: request not checked */
	const char *host;
	int port;
	const char *user_hex; /* NULL: no credentials expected */
	const char *pass_hex; /* NULL: no password field */
	const char *log;      /* substring expected in the log, or NULL */
	const char *note;     /* how and why we differ from the vector */
};

/* Inputs too long to write as literals are built in main(). */
static char t4_07[7000], t4_08[7000], t4_09[7000], tr_09[2000], tr_14[1000];

#define C TK_SOCKS_CMD_CONNECT
#define R TK_SOCKS_CMD_RESOLVE
#define P TK_SOCKS_CMD_RESOLVE_PTR

static struct row rows[] = {
	/* ---- SOCKS4 (torproject/tor src/test/test_socks.c) */
	{"T4-01", NULL, "04 02 11 11 02 02 02 02 00", 0, ERR, S4_FAIL, ANY, 0,
	 NULL, 0, NULL, NULL, "socks4: command 2 not recognized", NULL},
	{"T4-02", NULL, "04 01 11 12 02 02 02 03 00", 0, DONE, "", 9, C,
	 "2.2.2.3", 4370, NULL, NULL, NULL, NULL},
	{"T4-03", NULL, "04 01 11 12 02 02 02 04 6d 65 00", F_TEST, DONE, "", 11,
	 C, "2.2.2.4", 4370, "6d 65", NULL, NULL, NULL},
	{"T4-04", NULL,
	 "04 f0 01 01 00 00 00 02 6d 65 00 74 6f 72 70 72 6f 6a 65 63 74 2e 6f "
	 "72 67 00",
	 0, DONE, "", 26, R, "torproject.org", 257, "6d 65", NULL, NULL, NULL},
	{"T4-05", NULL, "04 01 00 50 00 00 00 00 00", 0, ERR, S4_FAIL, ANY, 0,
	 NULL, 0, NULL, NULL, "Port or DestIP is zero", NULL},
	{"T4-06", NULL, "04 01 00 00 01 02 03 04 00", 0, ERR, S4_FAIL, ANY, 0,
	 NULL, 0, NULL, NULL, "Port or DestIP is zero", NULL},
	{"T4-07", NULL, t4_07, 0, ERR, S4_FAIL, ANY, 0, NULL, 0, NULL, NULL,
	 "socks4: parsing failed - invalid request.", NULL},
	{"T4-08", NULL, t4_08, 0, ERR, S4_FAIL, ANY, 0, NULL, 0, NULL, NULL,
	 "socks4: parsing failed - invalid request.",
	 "DIFFERENCE (log only): same bytes; Tor's test pre-pulls the whole 2009-byte buffer and logs "
	 "'Destaddr too long', a live Tor reads 512 bytes and says 'parsing "
	 "failed', as we do"},
	{"T4-09", NULL, t4_09, 0, ERR, S4_FAIL, ANY, 0, NULL, 0, NULL, NULL,
	 "socks4: parsing failed - invalid request.", NULL},
	{"T4-10", NULL, "04 01 00 50 00 00 00 01 00 2d 2d 2d 00",
	 F_TEST | F_LOGADDR, ERR, S4_FAIL, ANY, 0, NULL, 0, NULL, NULL,
	 "(using socks4 to port 80) gave Tor a malformed hostname: \"---\"",
	 NULL},

	/* ---- SOCKS5 */
	{"T5-01", NULL, "05 02 00 01", 0, NEED, "05 00", 4, 0, NULL, 0, NULL,
	 NULL, NULL, NULL},
	{"T5-02", "05 02 00 01", "05 02 00 01 02 02 02 01 01 01", 0, ERR,
	 "05 07 00 01" Z6, ANY, 0, NULL, 0, NULL, NULL, "BIND", NULL},
	{"T5-03", "05 02 00 01", "05 03 00 01 02 02 02 01 01 01", 0, ERR,
	 "05 07 00 01" Z6, ANY, 0, NULL, 0, NULL, NULL, "UDP ASSOCIATE", NULL},
	{"T5-04", NULL, "05 01 00", 0, NEED, "05 00", 3, 0, NULL, 0, NULL, NULL,
	 NULL, NULL},
	{"T5-05", "05 01 00", "05 01 00 01 02 02 02 02 11 11", 0, DONE, "", 10,
	 C, "2.2.2.2", 4369, NULL, NULL, NULL, NULL},
	{"T5-06", NULL,
	 "05 01 00 | 05 01 00 04 20 02 41 b8 02 02 0d eb 02 13 21 ff fe 20 14 "
	 "26 00 50",
	 0, DONE, "05 00", 25, C, "2002:41b8:202:deb:213:21ff:fe20:1426", 80,
	 NULL, NULL, NULL,
	 "DIFFERENCE (text only): host text: Tor keeps brackets ([2002:...]); ours has none "
	 "(socks_proto.h), the bytes are in addr[]"},
	{"T5-07", NULL,
	 "05 01 00 | 05 01 00 03 0e 74 6f 72 70 72 6f 6a 65 63 74 2e 6f 72 67 "
	 "11 11",
	 F_TEST, DONE, "05 00", 24, C, "torproject.org", 4369, NULL, NULL,
	 "(using socks5 to port 4369) instructed Tor to take care of the DNS "
	 "resolution itself if necessary. This is good.",
	 NULL},
	{"T5-08", NULL,
	 "05 01 00 | 05 f0 00 03 0e 74 6f 72 70 72 6f 6a 65 63 74 2e 6f 72 67 "
	 "01 02",
	 0, DONE, "05 00", 24, R, "torproject.org", 258, NULL, NULL, NULL,
	 NULL},
	{"T5-09", NULL,
	 "05 01 00 | 05 f0 00 03 07 38 2e 38 2e 38 2e 38 11 11", F_SAFE, DONE,
	 "05 00", 17, R, "8.8.8.8", 4369, NULL, NULL, NULL, NULL},
	{"T5-10", NULL,
	 "05 01 00 | 05 f0 00 03 29 5b 32 30 30 31 3a 30 64 62 38 3a 38 35 61 "
	 "33 3a 30 30 30 30 3a 30 30 30 30 3a 38 61 32 65 3a 30 33 37 30 3a 37 "
	 "33 33 34 5d 01 02",
	 F_SAFE, DONE, "05 00", 3 + 4 + 1 + 41 + 2, R,
	 "[2001:0db8:85a3:0000:0000:8a2e:0370:7334]", 258, NULL, NULL, NULL,
	 NULL},
	{"T5-11", NULL,
	 "05 01 00 | 05 f0 00 03 27 32 30 30 31 3a 30 64 62 38 3a 38 35 61 33 "
	 "3a 30 30 30 30 3a 30 30 30 30 3a 38 61 32 65 3a 30 33 37 30 3a 37 33 "
	 "33 34 01 02",
	 F_SAFE, DONE, "05 00", 3 + 4 + 1 + 39 + 2, R,
	 "2001:0db8:85a3:0000:0000:8a2e:0370:7334", 258, NULL, NULL, NULL,
	 NULL},
	{"T5-12", NULL, "05 01 00 | 05 f1 00 01 02 02 02 05 01 03", 0, DONE,
	 "05 00", 13, P, "2.2.2.5", 259, NULL, NULL, NULL, NULL},
	{"T5-13", NULL,
	 "05 01 00 | 05 f1 00 04 20 01 0d b8 85 a3 00 00 00 00 8a 2e 03 70 73 "
	 "34 12 34",
	 0, DONE, "05 00", 25, P, "2001:db8:85a3::8a2e:370:7334", 0x1234, NULL,
	 NULL, NULL, "DIFFERENCE (text only): host text without Tor's brackets (see T5-06)"},
	{"T5-14", NULL,
	 "05 01 00 | 05 f1 00 03 1e 5b 32 30 30 31 3a 64 62 38 3a 38 35 61 33 "
	 "3a 3a 38 61 32 65 3a 33 37 30 3a 37 33 33 34 5d 12 34",
	 0, DONE, "05 00", 3 + 5 + 30 + 2, P, "[2001:db8:85a3::8a2e:370:7334]",
	 0x1234, NULL, NULL, NULL, NULL},
	{"T5-15", NULL, "05 01 00", 0, NEED, "05 00", 3, 0, NULL, 0, NULL, NULL,
	 NULL, NULL},
	{"T5-16", "05 01 00", "01 02 01 01 02 01 01", 0, NEED, "01 00", 7, 0,
	 NULL, 0, "01 01", "01 01", NULL, NULL},
	{"T5-17", NULL, "05 01 02", 0, NEED, "05 02", 3, 0, NULL, 0, NULL, NULL,
	 NULL, NULL},
	{"T5-18", "05 01 02", "01 02 6d 65 08 6d 79 70 61 73 73 77 64", 0, NEED,
	 "01 00", 13, 0, NULL, 0, "6d 65", "6d 79 70 61 73 73 77 64", NULL,
	 NULL},
	{"T5-19", "05 01 02", "01 00 00", 0, NEED, "01 00", 3, 0, NULL, 0, "",
	 "", NULL, NULL},
	{"T5-20", "05 01 02",
	 "01 02 6d 65 03 79 6f 75 05 01 00 01 02 02 02 02 11 11", 0, DONE,
	 "01 00", 18, C, "2.2.2.2", 4369, "6d 65", "79 6f 75", NULL, NULL},
	{"T5-21", NULL, "05 03 99 21 10", 0, ERR, "05 ff", ANY, 0, NULL, 0,
	 NULL, NULL, "offered methods don't include", NULL},
	{"T5-22", "05 01 02", "02 05 68 65 6c 6c 6f 05 77 6f 72 6c 64", 0, ERR,
	 S5_GEN, ANY, 0, NULL, 0, NULL, NULL, "Socks version 2 not recognized",
	 NULL},
	{"T5-23", NULL, "01 02 6d 65 02 6d 65", 0, ERR, "", ANY, 0, NULL, 0,
	 NULL, NULL, "before method negotiation", NULL},
	{"T5-24", NULL, "05 01 00 | 05 01 00 01 02 02 02 02 11 11", F_SAFE, ERR,
	 "05 00 05 02 00 01" Z6, ANY, 0, NULL, 0, NULL, NULL,
	 "is giving Tor only an IP address",
	 "DIFFERENCE: every reply in order: Tor sends only the last "
	 "(05 02 ...), its 05 00 is lost"},
	{"T5-25", NULL,
	 "05 01 00 | 05 f1 00 03 0e 74 6f 72 70 72 6f 6a 65 63 74 2e 6f 72 67 "
	 "11 11",
	 0, ERR, "05 00 05 08 00 01" Z6, ANY, 0, NULL, 0, NULL, NULL,
	 "RESOLVE_PTR command with a malformed address",
	 "DIFFERENCE: every reply in order (Tor: only 05 08 ...)"},
	{"T5-26", NULL,
	 "05 01 00 | 05 01 00 03 09 22 22 22 22 22 2e 63 6f 6d 11 11", 0, ERR,
	 "05 00" S5_GEN, ANY, 0, NULL, 0, NULL, NULL, "malformed hostname",
	 "DIFFERENCE: every reply in order (Tor: only 05 01 ...)"},
	{"T5-27", NULL, "05 01 00 | 05 01 00 23 02 02 02 02 11 11", 0, ERR,
	 "05 00" S5_GEN, ANY, 0, NULL, 0, NULL, NULL,
	 "invalid client request", "DIFFERENCE: every reply in order (Tor: only 05 01)"},
	{"T5-28", NULL, "05 01 00 | 05 01 00 03 03 2d 2d 2d 00 50", F_TEST, ERR,
	 "05 00" S5_GEN, ANY, 0, NULL, 0, NULL, NULL,
	 "(using socks5 to port 80) gave Tor a malformed hostname: [scrubbed]",
	 "DIFFERENCE: every reply in order (Tor: only 05 01)"},

	/* ---- HTTP-resistance: the reply is checked in test_http() */
	{"W-01", NULL,
	 "47 45 54 20 2f 69 6e 64 65 78 2e 68 74 6d 6c 20 48 54 54 50 2f 31 2e "
	 "30",
	 F_TEST, ERR, NULL, ANY, 0, NULL, 0, NULL, NULL,
	 "Socks version 71 not recognized",
	 "DIFFERENCE: our own 501 page, no trailing NUL (Tor: its 728-byte page + 00)"},

	/* ---- truncation rows: the full message, then every prefix */
	{"TR-01", NULL, "04 01 05 05 01 02 03 04 00", F_TR, DONE, "", 9, C,
	 "1.2.3.4", 0x0505, NULL, NULL, NULL, NULL},
	{"TR-02", NULL, "04 01 05 05 01 02 03 04 68 65 6c 6c 6f 00", F_TR, DONE,
	 "", 14, C, "1.2.3.4", 0x0505, "68 65 6c 6c 6f", NULL, NULL, NULL},
	{"TR-03", NULL,
	 "04 01 09 09 00 00 00 01 00 77 77 77 2e 65 78 61 6d 70 6c 65 2e 63 6f "
	 "6d 00",
	 F_TR, DONE, "", 25, C, "www.example.com", 0x0909, NULL, NULL, NULL,
	 NULL},
	{"TR-04", NULL,
	 "04 01 09 09 00 00 00 01 68 69 00 77 77 77 2e 65 78 61 6d 70 6c 65 2e "
	 "63 6f 6d 00",
	 F_TR, DONE, "", 27, C, "www.example.com", 0x0909, "68 69", NULL, NULL,
	 NULL},
	{"TR-05", NULL, "05 00", F_TR, ERR, "", ANY, 0, NULL, 0, NULL, NULL,
	 "no methods", NULL},
	{"TR-06", NULL, "05 03 99 21 10", F_TR, ERR, "05 ff", ANY, 0, NULL, 0,
	 NULL, NULL, NULL, NULL},
	{"TR-07", "05 01 02", "01 00 00", F_TR, NEED, "01 00", 3, 0, NULL, 0, "",
	 "", NULL, NULL},
	{"TR-08", "05 01 02", "01 01 78 01 79", F_TR, NEED, "01 00", 5, 0, NULL,
	 0, "78", "79", NULL, NULL},
	{"TR-09", "05 01 02", tr_09, F_TR, NEED, "01 00", 513, 0, NULL, 0, "*",
	 "*", NULL,
	 "DIFFERENCE: the full 513-byte message is accepted (Tor can stall on it when it "
	 "arrives in pieces)"},
	/* Prop 351 (Tor 0.4.9): "<torS0X>" then a format byte. '0' and
	 * nothing after it: the password isolates. Anything else is refused
	 * as tor 0.4.9.11 refuses it (seen against its SocksPort): no RFC
	 * 1929 status, the generic failure, close. */
	{"P351-format0", "05 01 02", "01 09 3c 74 6f 72 53 30 58 3e 30 03 69 73 6f", F_TR, NEED,
	 "01 00", 15, 0, NULL, 0, "3c 74 6f 72 53 30 58 3e 30", "69 73 6f", NULL, NULL},
	{"P351-extra", "05 01 02", "01 0a 3c 74 6f 72 53 30 58 3e 30 78 03 69 73 6f", F_TR, ERR,
	 S5_GEN, ANY, 0, NULL, 0, NULL, NULL, "torS0X", NULL},
	{"P351-format1", "05 01 02", "01 0c 3c 74 6f 72 53 30 58 3e 31 61 62 63 00",
	 F_TR, ERR, S5_GEN, ANY, 0, NULL, 0, NULL, NULL, "torS0X", NULL},
	{"P351-format2", "05 01 02", "01 09 3c 74 6f 72 53 30 58 3e 32 00", F_TR,
	 ERR, S5_GEN, ANY, 0, NULL, 0, NULL, NULL, "torS0X", NULL},
	{"P351-noformat", "05 01 02", "01 08 3c 74 6f 72 53 30 58 3e 00", F_TR,
	 ERR, S5_GEN, ANY, 0, NULL, 0, NULL, NULL, "torS0X", NULL},
	{"P351-otherprefix", "05 01 02", "01 09 3c 74 6f 72 53 30 59 3e 30 00",
	 F_TR, NEED, "01 00", 12, 0, NULL, 0, "3c 74 6f 72 53 30 59 3e 30", "",
	 NULL, NULL},
	{"TR-10", "05 01 00", "05 01 00 01 01 02 03 04 20 20", F_TR, DONE, "",
	 10, C, "1.2.3.4", 0x2020, NULL, NULL, NULL, NULL},
	{"TR-11", "05 01 00",
	 "05 01 00 04 49 20 48 41 5a 20 45 41 53 54 45 52 20 45 47 47 20 20",
	 F_TR, DONE, "", 22, C, "4920:4841:5a20:4541:5354:4552:2045:4747",
	 0x2020, NULL, NULL, NULL, NULL},
	{"TR-12", "05 01 00", "05 01 00 03 00 00 50", F_TR, ERR, S5_GEN, ANY, 0,
	 NULL, 0, NULL, NULL, "malformed hostname", NULL},
	{"TR-13", "05 01 00",
	 "05 01 00 03 11 6f 6e 69 6f 6e 2e 65 78 61 6d 70 6c 65 2e 63 6f 6d 00 "
	 "50",
	 F_TR, DONE, "", 24, C, "onion.example.com", 80, NULL, NULL, NULL,
	 NULL},
	{"TR-14", "05 01 00", tr_14, F_TR, DONE, "", 262, C, NULL, 80, NULL,
	 NULL, NULL, NULL},

	/* ---- arti tor-socksproto, server half (zydou/arti@cadcd0d) */
	{"A-01", NULL, "04 01 00 50 cb 00 71 07 00", 0, DONE, "", 9, C,
	 "203.0.113.7", 80, NULL, NULL, NULL, NULL},
	{"A-02", NULL,
	 "04 01 01 bb 00 00 00 01 73 77 6f 72 64 66 69 73 68 00 77 77 77 2e 65 "
	 "78 61 6d 70 6c 65 2e 63 6f 6d 00 99",
	 0, DONE, "", 34, C, "www.example.com", 443,
	 "73 77 6f 72 64 66 69 73 68", NULL, NULL, NULL},
	{"A-03", NULL, "05 01 00", 0, NEED, "05 00", 3, 0, NULL, 0, NULL, NULL,
	 NULL, NULL},
	{"A-04", NULL, "05 04 00 02 30 31", 0, NEED, "05 02", 6, 0, NULL, 0,
	 NULL, NULL, NULL, NULL},
	{"A-05", NULL, "05 02 99 88", 0, ERR, "05 ff", ANY, 0, NULL, 0, NULL,
	 NULL, NULL, "vs arti (we follow Tor): Tor's 05 ff (arti closes without a reply)"},
	{"A-06", "05 02 99 02",
	 "01 08 57 61 67 73 74 61 66 66 09 24 77 6f 72 64 66 69 35 68", 0,
	 NEED, "01 00", 20, 0, NULL, 0, "57 61 67 73 74 61 66 66",
	 "24 77 6f 72 64 66 69 35 68", NULL, NULL},
	{"A-07", "05 01 00", "05 01 00 01 7f 00 00 07 1f 90", 0, DONE, "", 10,
	 C, "127.0.0.7", 8080, NULL, NULL, NULL, NULL},
	{"A-08", "05 01 00",
	 "05 01 00 04 f0 00 00 00 00 00 00 00 00 00 00 00 00 00 ff 11 1f 90", 0,
	 DONE, "", 22, C, "f000::ff11", 8080, NULL, NULL, NULL, NULL},
	{"A-09", "05 01 00",
	 "05 01 00 03 0f 66 6f 6f 2e 65 78 61 6d 70 6c 65 2e 63 6f 6d 1f 90", 0,
	 DONE, "", 22, C, "foo.example.com", 8080, NULL, NULL, NULL, NULL},
	{"A-11", NULL, "", 0, NEED, "", 0, 0, NULL, 0, NULL, NULL, NULL, NULL},
	{"A-12", NULL, "06 01 00", 0, ERR, "", ANY, 0, NULL, 0, NULL, NULL,
	 "Socks version 6 not recognized", NULL},
	{"A-13", "05 01 00", "06 01 00", 0, ERR, S5_GEN, ANY, 0, NULL, 0, NULL,
	 NULL, NULL,
	 "vs arti (we follow Tor): Tor's generic 05 01 (version 5 is known); arti closes silently"},
	{"A-13/v6", "05 01 00", "06 01 00", F_V6, ERR,
	 "05 01 00 04" Z6 Z6 Z6, ANY, 0, NULL, 0, NULL, NULL,
	 NULL, "generic failure to an IPv6 client: ATYP 04, 22 bytes (Tor)"},
	{"A-15", NULL, "04 02 04 00 7f 00 00 01 00", 0, ERR, S4_FAIL, ANY, 0,
	 NULL, 0, NULL, NULL, "command 2 not recognized", NULL},
	{"A-16", NULL, "04 01 00 00 7f 00 00 01 00", 0, ERR, S4_FAIL, ANY, 0,
	 NULL, 0, NULL, NULL, "Port or DestIP is zero", NULL},

	/* ---- derived from Tor's code (D-*): the codec half */
	{"D-11", NULL, "05 01 00 | 05 f0 00 03 07 31 2e 32 2e 33 2e 34 00 00", 0,
	 DONE, "05 00", 17, R, "1.2.3.4", 0, NULL, NULL, NULL, NULL},
	{"D-12", NULL,
	 "05 01 00 | 05 f0 00 03 0d 65 78 61 6d 70 6c 65 2e 6f 6e 69 6f 6e 00 "
	 "00",
	 0, DONE, "05 00", 23, R, "example.onion", 0, NULL, NULL, NULL,
	 "the parser accepts it, as Tor's does; the daemon answers with the "
	 "RESOLVE error (test_socks_reply D-12)"},
	{"D-13", NULL,
	 "05 01 00 | 05 01 00 03 0b 65 78 61 6d 70 6c 65 2e 63 6f 6d 00 00", 0,
	 DONE, "05 00", 21, C, "example.com", 0, NULL, NULL, NULL,
	 "port 0 passes the parser, as in Tor; the daemon refuses it"},
	{"D-14", NULL, "05 01 00 | 05 01 00 01 7f 00 00 01 00 50", 0, DONE,
	 "05 00", 13, C, "127.0.0.1", 80, NULL, NULL, NULL, NULL},
	{"D-15", NULL,
	 "05 01 00 | 05 f2 00 03 0b 65 78 61 6d 70 6c 65 2e 63 6f 6d 00 50", 0,
	 ERR, "05 00" S5_GEN, ANY, 0, NULL, 0, NULL, NULL, NULL,
	 "DIFFERENCE: every reply in order"},
	{"D-16/f2", NULL, "04 f2 00 50 01 02 03 04 00", 0, ERR, S4_FAIL, ANY, 0,
	 NULL, 0, NULL, NULL, NULL, NULL},
	{"D-16/f1", NULL, "04 f1 00 50 01 02 03 04 00", 0, ERR, S4_FAIL, ANY, 0,
	 NULL, 0, NULL, NULL, "command 241 not recognized", NULL},
	{"D-16/02", NULL, "04 02 00 50 01 02 03 04 00", 0, ERR, S4_FAIL, ANY, 0,
	 NULL, 0, NULL, NULL, NULL, NULL},
	{"D-17", NULL, "05 00", 0, ERR, "", ANY, 0, NULL, 0, NULL, NULL, NULL,
	 NULL},
	{"D-19/06", NULL, "06 00", 0, ERR, "", ANY, 0, NULL, 0, NULL, NULL, NULL,
	 NULL},
	{"D-20", "05 01 02",
	 "01 00 00 | 05 01 00 03 0b 65 78 61 6d 70 6c 65 2e 63 6f 6d 00 50", 0,
	 DONE, "01 00", 21, C, "example.com", 80, "", "", NULL, NULL},
	{"D-21", NULL,
	 "05 01 02 01 02 6d 65 03 79 6f 75 05 01 00 01 02 02 02 02 11 11", 0,
	 DONE, "05 02 01 00", 21, C, "2.2.2.2", 4369, "6d 65", "79 6f 75", NULL,
	 "DIFFERENCE: every reply in order: Tor sends only 01 00 (its 05 02 is lost)"},

	/* ---- more of Tor's rules (proto_socks.c: dispatch, limits,
	 * SOCKS4/4a and SOCKS5 checks in Tor's order, SafeSocks) */
	{"S4-4a-resolve-port0", NULL,
	 "04 f0 00 00 00 00 00 01 00 65 63 68 6f 2e 74 65 73 74 00", 0, DONE, "",
	 19, R, "echo.test", 0, NULL, NULL, NULL,
	 "port 0 is fine for RESOLVE only"},
	{"S4-4a-empty-host", NULL, "04 01 00 50 00 00 00 01 00 00", 0, ERR,
	 S4_FAIL, ANY, 0, NULL, 0, NULL, NULL, "malformed hostname", NULL},
	{"S4-safesocks", NULL, "04 01 00 50 01 02 03 04 00", F_SAFE, ERR,
	 S4_FAIL, ANY, 0, NULL, 0, NULL, NULL,
	 "(using socks4 to port 80) is giving Tor only an IP address", NULL},
	{"S4-safesocks-before-cmd", NULL, "04 02 00 50 01 02 03 04 00", F_SAFE,
	 ERR, S4_FAIL, ANY, 0, NULL, 0, NULL, NULL, "Rejecting.",
	 "SafeSocks is checked before the command, as in Tor"},
	{"S4-4a-safesocks-ok", NULL,
	 "04 01 00 50 00 00 00 01 00 65 78 2e 63 6f 6d 00", F_SAFE | F_TEST,
	 DONE, "", 16, C, "ex.com", 80, NULL, NULL,
	 "(using socks4a to port 80) instructed Tor", NULL},
	{"S4-4a-255", NULL, NULL /* built in main */, 0, DONE, "", 8 + 1 + 256,
	 C, NULL, 80, NULL, NULL, NULL, NULL},
	{"S4-4a-256", NULL, NULL /* built in main */, 0, ERR, S4_FAIL, ANY, 0,
	 NULL, 0, NULL, NULL, "Destaddr too long", NULL},
	{"S4-4a-pipelined", NULL,
	 "04 01 00 50 00 00 00 01 00 65 78 2e 63 6f 6d 00 | 47 45 54 20 2f", 0,
	 DONE, "", 16, C, "ex.com", 80, NULL, NULL, NULL,
	 "DIFFERENCE: Tor counts pipelined bytes against the 4a hostname limit; we do "
	 "not"},
	{"S4-userid-503", NULL, NULL /* built in main */, 0, DONE, "", 512, C,
	 "1.2.3.4", 80, "*", NULL, NULL, NULL},
	{"S4-userid-504", NULL, NULL /* built in main */, 0, ERR, S4_FAIL, ANY,
	 0, NULL, 0, NULL, NULL, "parsing failed", NULL},
	{"S5-prefer-noauth", NULL, "05 02 02 00", F_PREFER, NEED, "05 00", 4, 0,
	 NULL, 0, NULL, NULL, NULL, NULL},
	{"S5-prefer-noauth-only-up", NULL, "05 01 02", F_PREFER, NEED, "05 02",
	 3, 0, NULL, 0, NULL, NULL, NULL, NULL},
	{"S5-gssapi-only", NULL, "05 01 01", 0, ERR, "05 ff", ANY, 0, NULL, 0,
	 NULL, NULL, NULL, NULL},
	{"S5-userpass-required", "05 01 02", "05 01 00 01 01 02 03 04 00 50", 0,
	 ERR, S5_GEN, ANY, 0, NULL, 0, NULL, NULL, "user/pass", NULL},
	{"S5-second-userpass", "05 01 02 01 00 00", "01 00 00", 0, ERR, S5_GEN,
	 ANY, 0, NULL, 0, NULL, NULL, "invalid client request", NULL},
	{"S5-socks4-after-socks5", "05 01 00", "04 01 00 50 01 02 03 04 00", 0,
	 ERR, S5_GEN, ANY, 0, NULL, 0, NULL, NULL, "after socks5",
	 "DIFFERENCE: Tor quirk not copied: it would accept the SOCKS4 request"},
	{"S5-rsv-nonzero", "05 01 00", "05 01 01 01 01 02 03 04 00 50", 0, ERR,
	 S5_GEN, ANY, 0, NULL, 0, NULL, NULL, NULL, NULL},
	{"S5-ptr-arpa", "05 01 00",
	 "05 f1 00 03 14 34 2e 33 2e 32 2e 31 2e 69 6e 2d 61 64 64 72 2e 61 72 "
	 "70 61 00 00",
	 0, ERR, "05 08 00 01" Z6, ANY, 0, NULL, 0, NULL, NULL, NULL, NULL},
	{"S5-ptr-ipv4-safesocks", "05 01 00", "05 f1 00 01 01 02 03 04 00 00",
	 F_SAFE, DONE, "", 10, P, "1.2.3.4", 0, NULL, NULL, NULL,
	 "SafeSocks never refuses RESOLVE_PTR"},
	{"S5-connect-v6-safesocks", "05 01 00",
	 "05 01 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 50",
	 F_SAFE, ERR, "05 02 00 01" Z6, ANY, 0, NULL, 0, NULL, NULL, NULL, NULL},
	{"S5-name-embedded-nul", "05 01 00",
	 "05 01 00 03 06 61 62 00 63 64 65 00 50", 0, DONE, "", 13, C, "ab", 80,
	 NULL, NULL, NULL, "as Tor (strlcpy): a NUL ends the name"},
	{"S5-pipelined-data", "05 01 00",
	 "05 01 00 03 02 61 62 00 50 | 16 03 01 00", 0, DONE, "", 9, C, "ab",
	 80, NULL, NULL, NULL, NULL},
	{"S5-testsocks-unsafe", "05 01 00", "05 01 00 01 01 02 03 04 00 50",
	 F_TEST, DONE, "", 10, C, "1.2.3.4", 80, NULL, NULL,
	 "is giving Tor only an IP address",
	 "DIFFERENCE (log only): TestSocks tells the truth about a bare IP (Tor says 'This is good')"},
	{"S5-http-mid", "05 01 00", "50 4f 53 54 20", 0, ERR, NULL, ANY, 0,
	 NULL, 0, NULL, NULL, "Socks version 80", NULL},
	{"START-lowercase-letter", NULL, "67 65 74 20", 0, ERR, NULL, ANY, 0,
	 NULL, 0, NULL, NULL, NULL,
	 "DIFFERENCE: any letter gets the page (Tor: only G H P C; 'g' is silent)"},
	{"START-tls", NULL, "16 03 01 00 05 68 65 6c 6c 6f", 0, ERR, "", ANY, 0,
	 NULL, 0, NULL, NULL, "Socks version 22 not recognized", NULL},
};

#define NROWS (sizeof rows / sizeof rows[0])

/* ---- the driver: a caller that buffers, feeds, drops what is consumed */

struct outcome {
	int status;
	size_t consumed;
	uint8_t reply[8192];
	size_t reply_len;
	struct tk_socks_server srv;
	char log[256];
	int calls;
	int invariant_bad;
};

static void make_cfg(unsigned flags, struct tk_socks_server_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->safe_socks = (flags & F_SAFE) != 0;
	cfg->test_socks = (flags & F_TEST) != 0;
	cfg->prefer_no_auth = (flags & F_PREFER) != 0;
	cfg->client_family = (flags & F_V6) ? AF_INET6 : AF_INET;
	cfg->log_addresses = (flags & F_LOGADDR) != 0;
}

/* Feeds `in` in pieces of `chunk` bytes (0: whole; SIZE_MAX-1: random
 * splits from `seed`) after the setup bytes. */
static int drive(const struct row *r, const uint8_t *setup, size_t slen,
		 const uint8_t *in, size_t len, size_t chunk, unsigned seed,
		 struct outcome *o)
{
	struct tk_socks_server_config cfg;
	static struct tk_socks_server_result res;
	static uint8_t buf[8192];
	size_t have = 0, pos = 0;

	memset(o, 0, sizeof *o);
	make_cfg(r->flags, &cfg);
	tk_socks_server_init(&o->srv, &cfg);
	if (slen) {
		tk_socks_server_feed(&o->srv, setup, slen, &res);
		if (res.status != NEED || res.consumed != slen)
			return -1;
	}
	for (;;) {
		size_t take = len - pos;
		if (chunk == (size_t)-2) {
			seed = seed * 1103515245u + 12345u;
			size_t k = 1 + (seed >> 16) % 7;
			take = take < k ? take : k;
		} else if (chunk && take > chunk) {
			take = chunk;
		}
		memcpy(buf + have, in + pos, take);
		have += take;
		pos += take;
		tk_socks_server_feed(&o->srv, buf, have, &res);
		o->calls++;
		if (res.consumed > have || res.reply_len > TK_SOCKS_REPLY_MAX)
			o->invariant_bad = 1;
		memcpy(o->reply + o->reply_len, res.reply, res.reply_len);
		o->reply_len += res.reply_len;
		if (res.log_level)
			memcpy(o->log, res.log, sizeof o->log);
		o->status = res.status;
		if (res.status != NEED) {
			if (res.status == DONE)
				o->consumed += res.consumed;
			break;
		}
		o->consumed += res.consumed;
		memmove(buf, buf + res.consumed, have - res.consumed);
		have -= res.consumed;
		if (pos == len)
			break;
	}
	return 0;
}

static int same_request(const struct tk_socks_request *a,
			const struct tk_socks_request *b)
{
	return a->version == b->version && a->command == b->command &&
	       a->atyp == b->atyp && a->port == b->port &&
	       strcmp(a->host, b->host) == 0 && a->family == b->family &&
	       memcmp(a->addr, b->addr, 16) == 0 &&
	       a->has_auth == b->has_auth &&
	       a->username_len == b->username_len &&
	       a->password_len == b->password_len &&
	       a->has_password == b->has_password &&
	       memcmp(a->username, b->username, a->username_len) == 0 &&
	       memcmp(a->password, b->password, a->password_len) == 0;
}

static const char *sname(int st)
{
	return st == DONE ? "DONE" : st == NEED ? "NEED_MORE" : "ERROR";
}

static void check_row(const struct row *r)
{
	static uint8_t in[4096], setup[64], want[4096], tmp[4096];
	static struct outcome whole, piece;
	size_t len = tap_unhex(r->in, in, sizeof in);
	size_t slen = r->setup ? tap_unhex(r->setup, setup, sizeof setup) : 0;
	const char *note = r->note ? r->note : "";

	if (r->note)
		tap_diag("%s: %s", r->id, r->note);
	if (drive(r, setup, slen, in, len, 0, 0, &whole) < 0) {
		tap_ok(0, "%s: setup reached its state", r->id);
		return;
	}
	tap_eq_str(sname(whole.status), sname(r->status), "%s: status %s",
		   r->id, note);
	if (r->reply) {
		size_t wl = tap_unhex(r->reply, want, sizeof want);
		tap_eq_bytes(whole.reply, whole.reply_len, want, wl,
			     "%s: reply bytes", r->id);
	}
	if (r->consumed != ANY)
		tap_eq_long((long)whole.consumed, r->consumed,
			    "%s: bytes consumed", r->id);
	if (r->log)
		tap_ok(strstr(whole.log, r->log) != NULL, "%s: log says \"%s\"",
		       r->id, r->log);
	if (r->cmd) {
		const struct tk_socks_request *q = &whole.srv.req;
		tap_eq_long(q->command, r->cmd, "%s: command", r->id);
		if (r->host)
			tap_eq_str(q->host, r->host, "%s: host", r->id);
		tap_eq_long(q->port, r->port, "%s: port", r->id);
	}
	if (r->status != ERR) {
		const struct tk_socks_request *q = &whole.srv.req;
		if (r->user_hex && !strcmp(r->user_hex, "*")) {
			tap_ok(q->username_len > 0, "%s: has a username",
			       r->id);
		} else if (r->user_hex) {
			size_t ul = tap_unhex(r->user_hex, tmp, sizeof tmp);
			tap_eq_bytes(q->username, q->username_len, tmp, ul,
				     "%s: username", r->id);
		} else {
			tap_eq_long(q->username_len, 0, "%s: no username",
				    r->id);
		}
		if (r->pass_hex && !strcmp(r->pass_hex, "*")) {
			tap_ok(q->password_len > 0 && q->has_password,
			       "%s: has a password", r->id);
		} else if (r->pass_hex) {
			size_t pl = tap_unhex(r->pass_hex, tmp, sizeof tmp);
			tap_eq_bytes(q->password, q->password_len, tmp, pl,
				     "%s: password", r->id);
			tap_ok(q->has_password, "%s: RFC 1929 seen", r->id);
		} else {
			tap_ok(!q->has_password, "%s: no RFC 1929", r->id);
		}
		if (r->status == DONE)
			tap_ok(memchr(q->host, 0, sizeof q->host) != NULL,
			       "%s: host is NUL-terminated", r->id);
	}
	tap_ok(!whole.invariant_bad, "%s: consumed <= fed, reply <= max",
	       r->id);

	/* One byte at a time, and in random small chunks. */
	for (int mode = 0; mode < 2; mode++) {
		size_t chunk = mode == 0 ? 1 : (size_t)-2;
		if (drive(r, setup, slen, in, len, chunk, 7u + (unsigned)len,
			  &piece) < 0) {
			tap_ok(0, "%s: setup (pieces)", r->id);
			continue;
		}
		int same = piece.status == whole.status &&
			   piece.reply_len == whole.reply_len &&
			   memcmp(piece.reply, whole.reply, whole.reply_len) ==
				   0 &&
			   piece.srv.state == whole.srv.state &&
			   (whole.status == ERR ||
			    piece.consumed == whole.consumed) &&
			   (whole.status != DONE ||
			    same_request(&piece.srv.req, &whole.srv.req)) &&
			   !piece.invariant_bad;
		tap_ok(same, "%s: fed %s gives the same result as whole",
		       r->id, mode == 0 ? "one byte at a time" : "in chunks");
		if (!same) {
			tap_diag("  whole: %s consumed %zu; pieces: %s consumed "
				 "%zu",
				 sname(whole.status), whole.consumed,
				 sname(piece.status), piece.consumed);
			tap_diag_hex("pieces reply", piece.reply,
				     piece.reply_len);
		}
	}

	/* Every proper prefix of a non-error input (and of every TR row) is
	 * NEED_MORE; for TR rows nothing is drained or answered. */
	if (r->status != ERR || (r->flags & F_TR)) {
		int all_need = 1, all_quiet = 1;
		/* For a DONE row, prefixes of the handshake itself (what
		 * follows it is pipelined data). */
		size_t end = r->status == DONE ? whole.consumed : len;
		for (size_t k = 0; k < end; k++) {
			if (drive(r, setup, slen, in, k, 0, 0, &piece) < 0)
				continue;
			if (piece.status != NEED)
				all_need = 0;
			if (piece.consumed || piece.reply_len)
				all_quiet = 0;
		}
		tap_ok(all_need, "%s: every proper prefix (0..%zu) is NEED_MORE",
		       r->id, end ? end - 1 : 0);
		if (r->flags & F_TR)
			tap_ok(all_quiet, "%s: prefixes drain nothing", r->id);
	}

	/* Pipelined bytes after a complete request stay the caller's. */
	if (r->status == DONE) {
		static const uint8_t extra[] = {0x05, 0x01, 0x00, 'G', 0x00};
		memcpy(tmp, in, len);
		memcpy(tmp + len, extra, sizeof extra);
		drive(r, setup, slen, tmp, len + sizeof extra, 0, 0, &piece);
		tap_ok(piece.status == DONE && piece.consumed == whole.consumed,
		       "%s: %zu pipelined bytes left unconsumed", r->id,
		       sizeof extra);
	}
}

static void test_http(void)
{
	static const char *const firsts[] = {"GET / HTTP/1.1\r\n", "HEAD /",
					     "POST /", "CONNECT x:1 HTTP/1.1",
					     "PUT /", "OPTIONS *", "DELETE /",
					     "get /", "zz", "Q"};
	for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++) {
		struct tk_socks_server s;
		static struct tk_socks_server_result res;
		tk_socks_server_init(&s, NULL);
		tk_socks_server_feed(&s, (const uint8_t *)firsts[i],
				     strlen(firsts[i]), &res);
		tap_ok(res.status == ERR &&
			       res.reply_len == tk__socks_http_page_len &&
			       memcmp(res.reply, tk__socks_http_page,
				      res.reply_len) == 0,
		       "HTTP page for \"%.8s...\"", firsts[i]);
	}
	const char *p = tk__socks_http_page;
	tap_ok(strncmp(p, "HTTP/1.0 501 ", 13) == 0, "page: HTTP/1.0 501");
	tap_ok(strstr(p, "\r\n\r\n<!DOCTYPE html>") != NULL,
	       "page: headers end with CRLF CRLF");
	tap_ok(strstr(p, "socks5h://") != NULL, "page: says socks5h://");
	tap_ok(strstr(p, "torkit") != NULL, "page: names torkit");
	tap_ok(memchr(p, 0, tk__socks_http_page_len) == NULL &&
		       p[tk__socks_http_page_len - 1] == '\n',
	       "page: no NUL, ends with a newline (Tor appends a NUL)");
	tap_ok(tk__socks_http_page_len + 32 < TK_SOCKS_REPLY_MAX,
	       "page fits the reply buffer with handshake replies (%zu)",
	       tk__socks_http_page_len);
	/* Mid-handshake: every earlier reply, then the page. */
	struct tk_socks_server s;
	static struct tk_socks_server_result res;
	tk_socks_server_init(&s, NULL);
	tk_socks_server_feed(&s, (const uint8_t *)"\x05\x01\x00GET /", 8,
			     &res);
	tap_ok(res.status == ERR && res.reply_len == 2 + tk__socks_http_page_len &&
		       memcmp(res.reply, "\x05\x00", 2) == 0,
	       "05 00 then the page when GET follows a greeting");
	/* The unknown first bytes 0x00..0xff outside letters, 04, 05: silent */
	int silent = 1;
	for (int c = 0; c < 256; c++) {
		if (c == 4 || c == 5 || tk__is_ascii_letter(c))
			continue;
		uint8_t b[2] = {(uint8_t)c, 0};
		tk_socks_server_init(&s, NULL);
		tk_socks_server_feed(&s, b, 2, &res);
		if (res.status != ERR || res.reply_len != 0)
			silent = 0;
	}
	tap_ok(silent, "every other first byte closes silently");
}

static void test_after_end(void)
{
	struct tk_socks_server s;
	static struct tk_socks_server_result res;
	static const uint8_t ok[] = {4, 1, 0, 80, 1, 2, 3, 4, 0};
	tk_socks_server_init(&s, NULL);
	tk_socks_server_feed(&s, ok, sizeof ok, &res);
	tk_socks_server_feed(&s, ok, sizeof ok, &res);
	tap_ok(res.status == ERR && res.reply_len == 0 && res.consumed == 0,
	       "A-14: feeding after a complete request is refused, silently");
	static const uint8_t bad[] = {6, 1, 0};
	tk_socks_server_init(&s, NULL);
	tk_socks_server_feed(&s, bad, sizeof bad, &res);
	tk_socks_server_feed(&s, ok, sizeof ok, &res);
	tap_ok(res.status == ERR && res.reply_len == 0,
	       "A-14: feeding after a failure is refused");
}

static void build_inputs(void)
{
	/* T4-07..09: "1234567890" x 200 in the userid or the 4a hostname. */
	char rep[2001 * 3];
	size_t o = 0;
	for (int i = 0; i < 2000; i++)
		o += (size_t)snprintf(rep + o, sizeof rep - o, "%02x ",
				      '0' + (i + 1) % 10);
	snprintf(t4_07, sizeof t4_07, "04 01 00 50 01 02 03 04 %s00", rep);
	snprintf(t4_08, sizeof t4_08, "04 01 00 50 00 00 00 01 00 %s00", rep);
	snprintf(t4_09, sizeof t4_09, "04 01 00 50 00 00 00 01 00 %s", rep);

	/* TR-09: 255-byte UTF-8 username and password. */
	static const char quote[] = "Meglio aggiungere che togliere: "
				    "\xc3\xa8 pi\xc3\xb9 facile.";
	o = (size_t)snprintf(tr_09, sizeof tr_09, "01 ff ");
	for (int i = 0; i < 255; i++)
		o += (size_t)snprintf(tr_09 + o, sizeof tr_09 - o, "%02x ",
				      (uint8_t)quote[i % (sizeof quote - 1)]);
	o += (size_t)snprintf(tr_09 + o, sizeof tr_09 - o, "ff ");
	for (int i = 0; i < 255; i++)
		o += (size_t)snprintf(tr_09 + o, sizeof tr_09 - o, "%02x ",
				      (uint8_t)quote[(i + 7) %
						     (sizeof quote - 1)]);

	/* TR-14 and S4-4a-255: a valid 255-character hostname (four
	 * 63-letter labels). */
	char name[256];
	for (int i = 0; i < 255; i++)
		name[i] = (i % 64 == 63) ? '.' : (char)('a' + i % 26);
	name[255] = '\0';
	o = (size_t)snprintf(tr_14, sizeof tr_14, "05 01 00 03 ff ");
	for (int i = 0; i < 255; i++)
		o += (size_t)snprintf(tr_14 + o, sizeof tr_14 - o, "%02x ",
				      (uint8_t)name[i]);
	snprintf(tr_14 + o, sizeof tr_14 - o, "00 50");

	static char s4_255[1000], s4_256[1000], s4_503[2000], s4_504[2000];
	o = (size_t)snprintf(s4_255, sizeof s4_255, "04 01 00 50 00 00 00 01 00 ");
	for (int i = 0; i < 255; i++)
		o += (size_t)snprintf(s4_255 + o, sizeof s4_255 - o, "%02x ",
				      (uint8_t)name[i]);
	snprintf(s4_255 + o, sizeof s4_255 - o, "00");
	o = (size_t)snprintf(s4_256, sizeof s4_256, "04 01 00 50 00 00 00 01 00 61 ");
	for (int i = 0; i < 255; i++)
		o += (size_t)snprintf(s4_256 + o, sizeof s4_256 - o, "%02x ",
				      (uint8_t)name[i]);
	snprintf(s4_256 + o, sizeof s4_256 - o, "00");
	/* A SOCKS4 message must end within 512 bytes: an 503-byte userid is
	 * the longest that fits. */
	o = (size_t)snprintf(s4_503, sizeof s4_503, "04 01 00 50 01 02 03 04 ");
	for (int i = 0; i < 503; i++)
		o += (size_t)snprintf(s4_503 + o, sizeof s4_503 - o, "75 ");
	snprintf(s4_503 + o, sizeof s4_503 - o, "00");
	o = (size_t)snprintf(s4_504, sizeof s4_504, "04 01 00 50 01 02 03 04 ");
	for (int i = 0; i < 504; i++)
		o += (size_t)snprintf(s4_504 + o, sizeof s4_504 - o, "75 ");
	snprintf(s4_504 + o, sizeof s4_504 - o, "00");

	for (size_t i = 0; i < NROWS; i++) {
		if (!strcmp(rows[i].id, "S4-4a-255"))
			rows[i].in = s4_255;
		else if (!strcmp(rows[i].id, "S4-4a-256"))
			rows[i].in = s4_256;
		else if (!strcmp(rows[i].id, "S4-userid-503"))
			rows[i].in = s4_503;
		else if (!strcmp(rows[i].id, "S4-userid-504"))
			rows[i].in = s4_504;
	}
}

int main(void)
{
	build_inputs();
	for (size_t i = 0; i < NROWS; i++)
		check_row(&rows[i]);
	test_http();
	test_after_end();
	return tap_done();
}
