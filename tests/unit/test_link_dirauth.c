/* DirAuthority lines: tornet's, tor's own default-authority style, and
 * the mistakes a user makes. */
#include <arpa/inet.h>
#include <string.h>

#include "../unit/tap.h"
#include "onion/dir/dirsrc.h"
#include "onion/netdoc/dirauth.h"

static void test_good(void)
{
	tk_dirauth a;
	char err[160] = "";
	unsigned char want[20];
	const struct sockaddr_in *sa = (const struct sockaddr_in *)&a.or_addr;
	tk_channel_target t;
	struct tk_dirsource src;

	tap_eq_long(tk_dirauth_parse(
			    "DirAuthority tnauth0 orport=23200 v3ident="
			    "FCC1D1A53BFCE637786FB3ACC653FA1C5B65FBBF "
			    "127.0.0.1:23250 462C60E93B22CBF109703F8F580A90F2F5A89D43",
			    &a, err, sizeof err),
		    0, "tornet line: %s", err);
	tap_eq_str(a.nickname, "tnauth0", "nickname");
	tap_eq_long(ntohs(sa->sin_port), 23200, "orport");
	tap_eq_long(sa->sin_addr.s_addr, htonl(0x7f000001), "address");
	tap_eq_long(a.dir_port, 23250, "dirport");
	tap_unhex("462C60E93B22CBF109703F8F580A90F2F5A89D43", want, 20);
	tap_eq_bytes(a.rsa_id, 20, want, 20, "fingerprint");
	tap_unhex("FCC1D1A53BFCE637786FB3ACC653FA1C5B65FBBF", want, 20);
	tap_ok(a.has_v3ident && memcmp(a.v3ident, want, 20) == 0, "v3ident");
	tk_dirsource_from_auth(&a, &src);
	tk_dirsource_target(&src, &t);
	tap_ok(memcmp(&t.addr, &a.or_addr, sizeof t.addr) == 0 &&
		       memcmp(t.rsa_id, a.rsa_id, 20) == 0 && !t.has_ed_id,
	       "channel target");

	/* tor's auth_dirs.inc style: fingerprint in groups, ipv6, no prefix */
	tap_eq_long(tk_dirauth_parse(
			    "moria1 orport=9201 no-v2 v3ident="
			    "F533C81CEF0BC0267857C99B2F471ADF249FA232 "
			    "ipv6=[2001:db8::1]:9201 128.31.0.39:9231 "
			    "1A25 C613 3D0A 2C0F 1A8F 6B4E 3CF5 0C66 BF27 C6A3",
			    &a, err, sizeof err),
		    0, "grouped fingerprint and ipv6: %s", err);
	tap_unhex("1A25C6133D0A2C0F1A8F6B4E3CF50C66BF27C6A3", want, 20);
	tap_eq_bytes(a.rsa_id, 20, want, 20, "grouped fingerprint");
	tap_ok(a.has_ipv6 && a.or_addr6.ss_family == AF_INET6 && a.no_v2,
	       "ipv6 and no-v2");
	tap_eq_long(tk_dirauth_parse(
			    "orport=1 127.0.0.1:2 "
			    "462C60E93B22CBF109703F8F580A90F2F5A89D43",
			    &a, err, sizeof err),
		    0, "no nickname: %s", err);
	tap_eq_str(a.nickname, "", "empty nickname");
}

static void test_bad(void)
{
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{"", "no IPv4:DirPort"},
		{"x 127.0.0.1:1 462C60E93B22CBF109703F8F580A90F2F5A89D43",
		 "no orport="},
		{"x orport=1 462C60E93B22CBF109703F8F580A90F2F5A89D43",
		 "unexpected"},
		{"x orport=1 127.0.0.1:2", "fingerprint"},
		{"x orport=1 127.0.0.1:2 462C60E93B22CBF109703F8F580A90F2F5A89D4",
		 "fingerprint"},
		{"x orport=1 127.0.0.1:2 462C60E93B22CBF109703F8F580A90F2F5A89D43 00",
		 "longer than 40"},
		{"x orport=1 127.0.0.1:2 ZZ2C60E93B22CBF109703F8F580A90F2F5A89D43",
		 "fingerprint"},
		{"x orport=70000 127.0.0.1:2 462C60E93B22CBF109703F8F580A90F2F5A89D43",
		 "orport=70000"},
		{"x orport=1 localhost:2 462C60E93B22CBF109703F8F580A90F2F5A89D43",
		 "bad address"},
		{"x orport=1 127.0.0.1:0 462C60E93B22CBF109703F8F580A90F2F5A89D43",
		 "bad address"},
		{"x orport=1 v3ident=12 127.0.0.1:2 "
		 "462C60E93B22CBF109703F8F580A90F2F5A89D43",
		 "v3ident"},
		{"x orport=1 ipv6=::1:5 127.0.0.1:2 "
		 "462C60E93B22CBF109703F8F580A90F2F5A89D43",
		 "ipv6="},
		{"x colour=red orport=1 127.0.0.1:2 "
		 "462C60E93B22CBF109703F8F580A90F2F5A89D43",
		 "unknown DirAuthority flag"},
		{"waytoolongnicknameforanyrelay orport=1 127.0.0.1:2 "
		 "462C60E93B22CBF109703F8F580A90F2F5A89D43",
		 "unexpected"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tk_dirauth a;
		char err[160] = "";
		int rc = tk_dirauth_parse(bad[i].line, &a, err, sizeof err);
		tap_ok(rc == -1 && strstr(err, bad[i].msg) != NULL,
		       "refused \"%s\": %s", bad[i].line, err);
	}
}

int main(void)
{
	test_good();
	test_bad();
	return tap_done();
}
