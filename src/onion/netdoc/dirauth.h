/* DirAuthority and FallbackDir lines, in tor's torrc syntax:
 *
 *   [DirAuthority] [nickname] [flags] IPv4:DirPort FINGERPRINT
 *   [FallbackDir] IPv4[:DirPort] orport=PORT id=FINGERPRINT
 *                 [ipv6=[ADDR]:PORT] [weight=NUM]
 *
 * DirAuthority flags: orport=PORT (required here: we reach authorities on
 * their ORPort), v3ident=HEX40, ipv6=[ADDR]:PORT, weight=N, no-v2, v3, hs,
 * bridge. The fingerprint (the authority's relay RSA identity) may be
 * written in groups separated by spaces, as tor prints it. A fallback's
 * DirPort is accepted and ignored: fallbacks are asked over their ORPort
 * with BEGIN_DIR, as tor does since the mirrors dropped their DirPorts. */
#ifndef TK_ONION_NETDOC_DIRAUTH_H
#define TK_ONION_NETDOC_DIRAUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TK_DIRAUTH_NICK_MAX 19 /* tor's MAX_NICKNAME_LEN */

typedef struct tk_dirauth {
	char nickname[TK_DIRAUTH_NICK_MAX + 1]; /* "" if none given */
	struct sockaddr_storage or_addr;	/* IPv4 address, orport= */
	uint16_t dir_port;
	int has_ipv6;
	struct sockaddr_storage or_addr6; /* ipv6= */
	uint8_t rsa_id[20];
	int has_v3ident;
	uint8_t v3ident[20];
	unsigned weight; /* 1 unless weight= */
	int no_v2, v3, hs, bridge;
} tk_dirauth;

/* Parses one line. Returns 0, or -1 with a reason in err, e.g.
 * "DirAuthority line has no orport=". */
int tk_dirauth_parse(const char *line, tk_dirauth *out, char *err,
		     size_t errlen);

typedef struct tk_dirfallback {
	struct sockaddr_storage or_addr; /* IPv4 address, orport= */
	int has_ipv6;
	struct sockaddr_storage or_addr6; /* ipv6= */
	uint8_t rsa_id[20];		  /* id= */
	double weight;			  /* 1.0 unless weight= */
} tk_dirfallback;

/* Parses one FallbackDir line (the keyword is optional). 0, or -1 with a
 * reason in err, e.g. "FallbackDir line has no id=". */
int tk_dirfallback_parse(const char *line, tk_dirfallback *out, char *err,
			 size_t errlen);

#endif
