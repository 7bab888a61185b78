/* Client authorization files: the .auth_private format as Tor reads it
 * (hs_client.c parse_auth_file_content), and ClientOnionAuthDir loading
 * on real directories under the build tree.
 *
 * Vector (data only): arti tor-netdoc hsdesc.rs test_data, the service
 * paozpdhg...oad and the client key SDZNMD4R... (base32) = 90f2d60f...
 * (hex). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../unit/hs_testsvc.h"
#include "../unit/tap.h"
#include "onion/base/crypto.h"
#include "onion/hs/hs_auth.h"

#define ADDR "paozpdhgz2okvc6kgbxvh2bnfsmt4xergrtcl4obkhopyvwxkpjzvoad"
#define KEY "SDZNMD4RP4SCH4EYTTUZPFRZINNFWAOPPKZ6BINZAC7LREV24RBQ"
#define ADDR2 "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid"

static int
parse(const char *s, struct tk_hs_client_auth *a, char *err, size_t errlen)
{
	return tk_hs_auth_parse(s, strlen(s), a, err, errlen);
}

static void
test_parse(void)
{
	static const struct {
		const char *text, *what;
	} bad[] = {
		{ ADDR ":descriptors:x25519:" KEY, "auth type 'descriptors'" },
		{ ADDR ":descriptor:ed25519:" KEY, "key type 'ed25519'" },
		{ ADDR ":descriptor:x25519:" KEY "A", "a 53-character key" },
		{ ADDR ":descriptor:x25519:SDZNMD4RP4SCH4EYTTUZPFRZINNFWAOPPKZ6B"
		       "INZAC7LREV24RB",
		  "a 51-character key" },
		{ ADDR ":descriptor:x25519:SDZNMD4RP4SCH4EYTTUZPFRZINNFWAOPPKZ6B"
		       "INZAC7LREV24RB1",
		  "a key with '1'" },
		{ ADDR ":descriptor:x25519:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		       "aaaaaaaaaaaaaaaa",
		  "an all-zero key" },
		{ ADDR ":descriptor:x25519", "three fields" },
		{ ADDR ":descriptor:x25519:" KEY ":extra", "five fields" },
		{ ADDR ":descriptor:x25519:" KEY "\n" ADDR
		       ":descriptor:x25519:" KEY,
		  "two lines" },
		{ "paozpdhgz2okvc6kgbxvh2bnfsmt4xergrtcl4obkhopyvwxkpjzvxad"
		  ":descriptor:x25519:" KEY,
		  "an address with a bad checksum" },
		{ "paozpdhg:descriptor:x25519:" KEY, "a short address" },
		{ "", "an empty file" },
	};
	struct tk_hs_client_auth a;
	uint8_t want_sk[32];
	char err[160];

	tap_unhex("90F2D60F917F2423F0989CE9979639435A5B01CF7AB3E0A1B900BEB892BAE443",
		  want_sk, 32);
	tap_ok(parse(ADDR ":descriptor:x25519:" KEY, &a, err, sizeof err) == 0 &&
		       memcmp(a.sk, want_sk, 32) == 0,
	       "arti's client key parses");
	tap_ok(parse("  " ADDR " : descriptor :x25519:\t" KEY " \n\n", &a, err,
		     sizeof err) == 0,
	       "white space around fields and a final newline");
	tap_ok(parse(ADDR ".onion:descriptor:x25519:" KEY, &a, err,
		     sizeof err) == 0,
	       "\".onion\" after the address (Tor reads 56 characters)");
	tap_ok(parse(ADDR ":descriptor:x25519:sdznmd4rp4sch4eyttuzpfrzinnfwaop"
			  "pkz6binzac7lrev24rbq",
		     &a, err, sizeof err) == 0 &&
		       memcmp(a.sk, want_sk, 32) == 0,
	       "a lower-case key");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		tap_ok(parse(bad[i].text, &a, err, sizeof err) < 0,
		       "%s: refused (%s)", bad[i].what, err);
	tap_ok(tk_hs_auth_parse(ADDR ":descriptor:x25519:" KEY "\0",
				sizeof(ADDR ":descriptor:x25519:" KEY), &a,
				err, sizeof err) < 0,
	       "a NUL byte: refused (%s)", err);
}

/* A fresh directory below the build tree. */
static char *
tmpdir(void)
{
	static char path[4096];
	const char *top = getenv("TK_BUILDDIR");
	snprintf(path, sizeof path, "%s/tests/unit/hs-authdir-XXXXXX",
		 top ? top : ".");
	if (!mkdtemp(path)) {
		printf("Bail out! mkdtemp %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return path;
}

static void
put(const char *dir, const char *name, const char *content)
{
	char p[4200];
	FILE *f;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	f = fopen(p, "w");
	if (!f)
		exit(1);
	fputs(content, f);
	fclose(f);
}

static void
rmtree(const char *dir)
{
	char cmd[4300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
}

static int n_warn;
static void
count_warn(void *arg, const char *msg)
{
	(void)arg;
	n_warn++;
	tap_diag("warning: %s", msg);
}

static void
test_dir(void)
{
	struct tk_hs_auth_set s;
	struct stat st;
	char err[512], *dir = tmpdir(), p[4200], big[5000];
	uint8_t id[32];

	put(dir, "alice.auth_private", ADDR ":descriptor:x25519:" KEY "\n");
	put(dir, "tor.auth_private",
	    ADDR2 ":descriptor:x25519:"
		  "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRST\n");
	put(dir, "broken.auth_private", "not a key\n");
	put(dir, "notes.txt", "ignored\n");
	put(dir, ".auth_private", ADDR ":descriptor:x25519:" KEY "\n");
	memset(big, ' ', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	put(dir, "big.auth_private", big);
	snprintf(p, sizeof p, "%s/sub.auth_private", dir);
	mkdir(p, 0700);
	chmod(dir, 0755);
	n_warn = 0;
	if (!tap_ok(tk_hs_auth_load_dir(dir, &s, count_warn, NULL, err,
					sizeof err) == 0,
		    "directory loads"))
		tap_diag("%s", err);
	tap_eq_long((long)s.n, 2, "two keys");
	tk_hs_addr_decode(ADDR, 56, id);
	tap_ok(tk_hs_auth_set_find(&s, id) != NULL, "one for paozpdhg...");
	tk_hs_addr_decode(ADDR2, 56, id);
	tap_ok(tk_hs_auth_set_find(&s, id) != NULL, "one for 25njqamc...");
	id[0] ^= 1;
	tap_ok(tk_hs_auth_set_find(&s, id) == NULL, "none for another");
	tap_eq_long(n_warn, 6,
		    "warnings: permissions fixed, the broken, big, bare "
		    "\".auth_private\" and directory entries, notes.txt");
	stat(dir, &st);
	tap_eq_long((long)(st.st_mode & 0777), 0700,
		    "group and other permissions removed, as Tor does");
	tk_hs_auth_set_free(&s);

	put(dir, "alice-again.auth_private",
	    ADDR ".onion:descriptor:x25519:" KEY "\n");
	tap_ok(tk_hs_auth_load_dir(dir, &s, NULL, NULL, err, sizeof err) < 0 &&
		       strstr(err, "alice") && strstr(err, "alice-again") &&
		       !strstr(err, ADDR),
	       "two files for one service fail the load, naming both files "
	       "and not the address (%s)",
	       err);
	rmtree(dir);

	tap_ok(tk_hs_auth_load_dir(dir, &s, NULL, NULL, err, sizeof err) < 0,
	       "a missing directory: %s", err);
	dir = tmpdir();
	put(dir, "file", "x");
	snprintf(p, sizeof p, "%s/file", dir);
	tap_ok(tk_hs_auth_load_dir(p, &s, NULL, NULL, err, sizeof err) < 0,
	       "a file, not a directory: %s", err);
	snprintf(p, sizeof p, "%s/link", dir);
	if (symlink(dir, p) == 0)
		tap_ok(tk_hs_auth_load_dir(p, &s, NULL, NULL, err,
					   sizeof err) < 0,
		       "a symbolic link to a directory: %s", err);
	rmtree(dir);
}

/* More keys than the bound: the load fails instead of growing. */
static void
test_dir_bound(void)
{
	struct tk_hs_auth_set s;
	char err[256], *dir = tmpdir(), name[64], line[200];
	char addr[TK_HS_ADDR_LEN + 1];

	for (int i = 0; i <= TK_HS_AUTH_DIR_MAX; i++) {
		uint8_t seed[32] = { 0 };
		struct tsvc_key k;
		memcpy(seed, &i, sizeof i);
		tsvc_key_from_seed(seed, &k);
		tk_hs_addr_encode(k.pub, addr);
		snprintf(name, sizeof name, "%05d.auth_private", i);
		snprintf(line, sizeof line, "%s:descriptor:x25519:" KEY, addr);
		put(dir, name, line);
	}
	tap_ok(tk_hs_auth_load_dir(dir, &s, NULL, NULL, err, sizeof err) < 0 &&
		       s.n == 0,
	       "%d keys: refused (%s)", TK_HS_AUTH_DIR_MAX + 1, err);
	{
		char path[4200];
		snprintf(path, sizeof path, "%s/%05d.auth_private", dir,
			 TK_HS_AUTH_DIR_MAX);
		if (unlink(path) < 0)
			tap_diag("unlink %s: %s", path, strerror(errno));
	}
	tap_ok(tk_hs_auth_load_dir(dir, &s, NULL, NULL, err, sizeof err) == 0 &&
		       s.n == TK_HS_AUTH_DIR_MAX,
	       "%d keys: loaded", TK_HS_AUTH_DIR_MAX);
	tk_hs_auth_set_free(&s);
	rmtree(dir);
}

int
main(void)
{
	if (tk_crypto_init() < 0)
		return 1;
	test_parse();
	test_dir();
	test_dir_bound();
	return tap_done();
}
