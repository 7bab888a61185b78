/* The second (inner) layer of a v3 descriptor (rend-spec-v3 §2.5.2.2):
 * the service's properties and its introduction points. */
#include "onion/hs/hs_desc.h"

#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/hs/hs_desc_int.h"

#define CERT_TYPE_AUTH_HS_IP_KEY 0x09
#define CERT_TYPE_CROSS_HS_IP_KEYS 0x0b
#define NTOR_HTYPE 2
#define CC_SENDME_INC_DEFAULT 31

/* One introduction-point section being read. */
struct section {
	int bad;
	struct tk_hs_intro_point ip;
	int n_onion_ntor, n_auth, n_enc, n_enc_cert, n_legacy, n_legacy_cert;
};

/* How often the service-wide items were seen, anywhere in the layer
 * (Tor checks their multiplicity over the whole layer). */
struct head {
	int create2, auth_required, single_onion, flow_control;
};

static void
section_reset(struct section *s)
{
	free(s->ip.linkspecs);
	memset(s, 0, sizeof *s);
}

/* "introduction-point" SP base64(link specifier block). */
static void
section_start(struct section *s, const struct tk_netdoc_item *it)
{
	size_t cap;
	long n;
	section_reset(s);
	if (it->argc != 1 || it->has_obj) {
		s->bad = 1;
		return;
	}
	cap = tk_base64_decoded_max(it->argv[0].len) + 1;
	s->ip.linkspecs = malloc(cap);
	if (!s->ip.linkspecs) {
		s->bad = 1;
		return;
	}
	n = tk_base64_decode(it->argv[0].p, it->argv[0].len, s->ip.linkspecs,
			     cap);
	if (n < 0 ||
	    tk_hs_linkspecs_parse(s->ip.linkspecs, (size_t)n, &s->ip.ls) < 0) {
		s->bad = 1;
		return;
	}
	s->ip.linkspecs_len = (size_t)n;
}

/* A certificate of type `type` signed by the descriptor signing key and
 * valid at now; its certified key into key. */
static int
ip_cert(const struct tk_netdoc_item *it, uint8_t type,
	const uint8_t signing_key[32], time_t now, uint8_t key[32])
{
	uint8_t der[512];
	const char *why;
	tk_ed_cert c;
	long n;
	if (!it->has_obj || !tk_netdoc_span_is(it->obj_label, "ED25519 CERT"))
		return -1;
	n = tk_netdoc_obj_decode(it, der, sizeof der);
	if (n < 0 || tk_ed_cert_parse(der, (size_t)n, &c, &why) < 0 ||
	    c.cert_type != type || !c.has_signer ||
	    tk_ed_cert_check(&c, signing_key, now, &why) < 0)
		return -1;
	memcpy(key, c.certified_key, 32);
	return 0;
}

static void
section_item(struct section *s, const struct tk_netdoc_item *it,
	     const uint8_t signing_key[32], time_t now)
{
	if (s->bad)
		return;
	if (tk_netdoc_kw_is(it, "onion-key")) {
		/* Other key types may come and are ignored; the ntor key is
		 * the one we can use (the last one, as Tor reads them). */
		if (it->argc < 2)
			s->bad = 1;
		else if (tk_netdoc_span_is(it->argv[0], "ntor")) {
			s->n_onion_ntor++;
			if (tk_netdoc_b64_exact(it->argv[1], s->ip.onion_key,
						32) < 0)
				s->bad = 1;
		}
	} else if (tk_netdoc_kw_is(it, "auth-key")) {
		if (s->n_auth++ || it->argc != 0 ||
		    ip_cert(it, CERT_TYPE_AUTH_HS_IP_KEY, signing_key, now,
			    s->ip.auth_key) < 0)
			s->bad = 1;
	} else if (tk_netdoc_kw_is(it, "enc-key")) {
		/* Exactly one, and it must be ntor: with another type the
		 * introduction point is of no use to us. */
		if (s->n_enc++ || it->argc < 2 ||
		    !tk_netdoc_span_is(it->argv[0], "ntor") ||
		    tk_netdoc_b64_exact(it->argv[1], s->ip.enc_key, 32) < 0)
			s->bad = 1;
	} else if (tk_netdoc_kw_is(it, "enc-key-cert")) {
		uint8_t certified[32];
		if (s->n_enc_cert++ || ip_cert(it, CERT_TYPE_CROSS_HS_IP_KEYS,
					       signing_key, now, certified) < 0)
			s->bad = 1;
	} else if (tk_netdoc_kw_is(it, "legacy-key")) {
		if (s->n_legacy++)
			s->bad = 1;
	} else if (tk_netdoc_kw_is(it, "legacy-key-cert")) {
		if (s->n_legacy_cert++)
			s->bad = 1;
	}
}

/* Ends the section: a usable introduction point is moved into d. */
static int
section_end(struct section *s, struct tk_hs_desc *d, char *err, size_t errlen)
{
	if (!s->ip.linkspecs && !s->bad)
		return 0; /* no section open */
	if (s->bad || s->n_onion_ntor == 0 || s->n_auth != 1 || s->n_enc != 1 ||
	    s->n_enc_cert != 1) {
		section_reset(s);
		return 0;
	}
	if (d->n_intro == TK_HS_DESC_MAX_INTRO) {
		section_reset(s);
		return tk_netdoc_err(err, errlen,
				     "more than %d introduction points",
				     TK_HS_DESC_MAX_INTRO);
	}
	d->intro[d->n_intro++] = s->ip;
	memset(s, 0, sizeof *s);
	return 0;
}

static int
create2_formats(const struct tk_netdoc_item *it)
{
	size_t cur = 0;
	struct tk_netdoc_span a;
	int ntor = 0;
	/* Unknown and unparseable values are ignored, as Tor does. */
	while (tk_netdoc_arg_next(it, &cur, &a)) {
		long long v;
		if (tk_netdoc_int(a, 1, 65535, &v) == 0 && a.p[0] != '+' &&
		    v == NTOR_HTYPE)
			ntor = 1;
	}
	return ntor;
}

static int
flow_control(const struct tk_netdoc_item *it, uint8_t cc_sendme_inc,
	     struct tk_hs_desc *d)
{
	long long inc;
	uint8_t cc = cc_sendme_inc ? cc_sendme_inc : CC_SENDME_INC_DEFAULT;
	if (it->argc < 2 || it->has_obj ||
	    it->argv[0].len >= sizeof d->flow_control ||
	    tk_netdoc_int(it->argv[1], 0, 255, &inc) < 0 ||
	    it->argv[1].p[0] == '+' || it->argv[1].p[0] == '-')
		return -1;
	/* Tor refuses a service whose SENDME increment is not within a
	 * factor of two of the consensus's. */
	if (inc == 0 || inc > 2 * cc || inc < cc / 2)
		return -1;
	memcpy(d->flow_control, it->argv[0].p, it->argv[0].len);
	d->flow_control[it->argv[0].len] = '\0';
	d->sendme_inc = (uint8_t)inc;
	d->has_flow_control = 1;
	return 0;
}

static int
head_item(struct head *h, const struct tk_netdoc_item *it,
	  uint8_t cc_sendme_inc, struct tk_hs_desc *d, char *err, size_t errlen)
{
	if (tk_netdoc_kw_is(it, "create2-formats")) {
		if (h->create2++ || it->has_obj || !create2_formats(it))
			return tk_netdoc_err(err, errlen,
					     "line %zu: repeated "
					     "create2-formats, or without "
					     "ntor",
					     it->lineno);
	} else if (tk_netdoc_kw_is(it, "intro-auth-required")) {
		/* Tor knows one type, ed25519, and looks at the first. */
		if (h->auth_required++ || it->argc < 1 || it->has_obj ||
		    it->argv[0].len < 7 ||
		    memcmp(it->argv[0].p, "ed25519", 7) != 0)
			return tk_netdoc_err(err, errlen,
					     "line %zu: repeated or unknown "
					     "intro-auth-required",
					     it->lineno);
		d->intro_auth_required = 1;
	} else if (tk_netdoc_kw_is(it, "single-onion-service")) {
		if (h->single_onion++ || it->has_obj)
			return tk_netdoc_err(err, errlen,
					     "line %zu: repeated "
					     "single-onion-service",
					     it->lineno);
		d->single_onion = 1;
	} else if (tk_netdoc_kw_is(it, "flow-control")) {
		if (h->flow_control++ || flow_control(it, cc_sendme_inc, d) < 0)
			return tk_netdoc_err(err, errlen,
					     "line %zu: repeated or invalid "
					     "flow-control",
					     it->lineno);
	}
	return 0;
}

int
tk_hs_desc_inner_parse(const char *text, size_t len,
		       const uint8_t signing_key[32], time_t now,
		       uint8_t cc_sendme_inc, struct tk_hs_desc *d, char *err,
		       size_t errlen)
{
	struct tk_netdoc_reader rd;
	struct tk_netdoc_item it;
	struct section s;
	struct head h = { 0, 0, 0, 0 };
	char why[TK_NETDOC_ERRLEN], *copy;
	const char *doc;
	int r;

	memset(&s, 0, sizeof s);
	doc = tk__hs_desc_terminated(text, &len, &copy);
	if (!doc)
		return tk_netdoc_err(err, errlen, "out of memory");
	tk_netdoc_reader_init(&rd, doc, len);
	while ((r = tk_netdoc_next(&rd, &it, why, sizeof why)) == 1) {
		if (!h.create2 && !tk_netdoc_kw_is(&it, "create2-formats")) {
			r = tk_netdoc_err(err, errlen,
					  "second layer does not begin with "
					  "create2-formats");
			goto out;
		}
		if ((r = head_item(&h, &it, cc_sendme_inc, d, err, errlen)) < 0)
			goto out;
		if (tk_netdoc_kw_is(&it, "introduction-point")) {
			if ((r = section_end(&s, d, err, errlen)) < 0)
				goto out;
			section_start(&s, &it);
		} else if (s.ip.linkspecs || s.bad) {
			section_item(&s, &it, signing_key, now);
		}
	}
	if (r < 0) {
		tk_netdoc_err(err, errlen, "second layer: %s", why);
		goto out;
	}
	if (!h.create2) {
		r = tk_netdoc_err(err, errlen, "empty second layer");
		goto out;
	}
	r = section_end(&s, d, err, errlen);
out:
	section_reset(&s);
	free(copy);
	if (r < 0) {
		for (size_t i = 0; i < d->n_intro; i++)
			free(d->intro[i].linkspecs);
		d->n_intro = 0;
	}
	return r;
}
