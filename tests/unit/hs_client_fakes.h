/* The onion-service client's test environment, shared by its test
 * programs (test_hs_client*.c): fakes of the circuit manager, the
 * circuits and the directory client that the tests script by hand
 * (build a circuit, fail it, answer a cell), tornet's sample consensus
 * as the network and hs_testsvc.c as the service — its descriptor, its
 * introduction points and its half of hs-ntor. The client's own sources
 * (hs_client.c, hs_fetch.c, circ_pool.c) are built in for real.
 *
 * One circuit is one struct fcirc; its kind says what the client built
 * it for. Nothing runs by itself: deferred work runs in run_deferred(),
 * the client's 500 ms tick in run_loop_ms(). */
#ifndef TK_TESTS_HS_CLIENT_FAKES_H
#define TK_TESTS_HS_CLIENT_FAKES_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../unit/hs_testsvc.h"
#include "../unit/tap.h"
#include "onion/circ/circuit.h"
#include "onion/client/circmgr.h"
#include "onion/client/hs_client.h"
#include "onion/client/ocirc.h"
#include "onion/dir/dirclient.h"
#include "onion/hs/hs_cell.h"
#include "onion/hs/hs_keys.h"
#include "onion/hs/hs_period.h"
#include "onion/netdir/nodes.h"
#include "onion/netdoc/consensus.h"
#include "onion/onion.h"

struct tk_circmgr {
	uv_loop_t *loop;
	struct tk_nodes *nodes;
	struct tk_defer *deferred;
};

#define MAX_FC 512
struct fcirc {
	tk_ocirc oc; /* first: tk_ocirc * and struct fcirc * are one */
	char kind;   /* 'D' HSDir, 'R' rendezvous, 'I' introduction, 'P' an
		      * internal circuit of the pool (circ_pool.c) */
	int built, closed;
	tk_circuit_hop_target t;
	void (*ev)(void *arg, tk_ocirc *oc, int event, const char *why);
	void *evarg;
	tk_circuit_stream_cb ctl;
	void *ctlarg;
	uint8_t cmd; /* the last cell sent */
	uint8_t body[TK_RELAY_DATA_MAX];
	size_t len;
	int n_sent;
	/* the virtual hop: congestion control, SENDME increment, Vegas
	 * alpha; whether the stream table was told */
	int hop_cc, joined_cc;
	unsigned hop_sendme_inc;
	int32_t hop_alpha;
	/* its directory request */
	int has_req, req_cancelled;
	tk_dir_done_cb dir_cb;
	void *dir_arg;
	/* adopted from the pool without a new hop: BUILT from here */
	struct tk_defer adopted;
};

/* ---- the fakes' state ---- */
extern struct tk_circmgr the_cm;
extern struct fcirc *fc[MAX_FC]; /* every circuit, oldest first */
extern size_t n_fc;
/* tk_ocirc_adopt: pool circuits handed over with a hop to add (one
 * EXTEND2 each, in circmgr.c) and as they are */
extern int n_adopt_ext, n_adopt_plain;

/* ---- the network and the service ---- */
extern uv_loop_t loop;
extern struct tk_nodes nodes;
extern struct tk_consensus *cons;
extern struct tk_hs_dirparams dp;
extern struct tsvc_key id_key, sign_key;
extern struct tsvc_intro ips[8]; /* point n is ips[n - 1] */
extern struct tk_hs_keys svc_keys;
extern char *desc_text;		     /* the service's descriptor */
extern const char *svc_flow_control; /* its FlowCtrl versions; NULL: no
				      * flow-control line */

void net_setup(void);
void net_teardown(void);
/* Moves the network by `periods` time periods (the consensus's times,
 * the voting interval kept) and recomputes dp. */
void net_shift(long periods);
/* The service's descriptor, revision rev, with n_ip introduction points
 * numbered from first: a restarted service has new ones. */
void svc_setup_at(uint8_t first, size_t n_ip, uint64_t rev);
void svc_setup(size_t n_ip); /* points 1..n_ip, revision 1 */

/* ---- driving ---- */
extern int answered, answer_reason; /* requests answered, the last one's */
extern tk_ocirc *answer_oc;
extern unsigned rend_timeout_ms; /* the next client's; 0: default */
extern int cc_option;		 /* the next client's congestion_control */

void on_answer(struct tk_circreq *r, int reason, tk_ocirc *oc);
/* A client with no pool (intro_timeout_ms 0: the default). */
tk_hs_client *client_new(unsigned intro_timeout_ms);
void client_free(tk_hs_client *hc);
void run_deferred(void);
/* The loop (the client's tick) for ms, then deferred work. */
void run_loop_ms(unsigned ms);
/* Runs the loop until pred() or 20 steps of 600 ms. */
void run_until(int (*pred)(void));
int answered_p(void);
/* Circuits of a kind; the newest of a kind not closed. */
size_t count(char kind, int open_only);
struct fcirc *newest(char kind);
void build(struct fcirc *f);
void fail_build(struct fcirc *f);
/* The manager closes an open circuit (the service went away). */
void lose(struct fcirc *f);
/* An HSDir circuit's request answered: status, and body when 200. */
void dir_answer(struct fcirc *f, int http, const char *body);
void cell(struct fcirc *f, uint8_t cmd, const uint8_t *body, size_t len);
void intro_ack(struct fcirc *f, uint16_t status);
/* Which of the service's introduction points a circuit goes to: 1..n
 * (tsvc_intro_make puts point n at 127.0.0.n), 0 for none. */
int intro_index(const struct fcirc *f);
/* Requests the service. */
int request(tk_hs_client *hc, struct tk_circreq *r);
/* The fetch: HSDir circuits are built, their first `n_404` requests
 * answered 404, the next `n_old` with old_text, then the descriptor,
 * until the fetch is over (its circuits closed). */
void fetch_serve(size_t n_404, const char *old_text, size_t n_old);
void fetch(size_t n_404);
/* The service's answer to the INTRODUCE1 on intro, as RENDEZVOUS2 on
 * rend. */
int rendezvous2(struct fcirc *intro, struct fcirc *rend);
/* A request (answered reset) up to INTRODUCE1: the descriptor fetched
 * unless cached, the rendezvous circuit built and RENDEZVOUS_ESTABLISHED,
 * then the introduction circuit built. The introduction circuit, and
 * *rend; NULL if either was not launched. */
struct fcirc *introduce(tk_hs_client *hc, struct tk_circreq *r,
			struct fcirc **rend);

/* The introduction points' failures as they are TK_HS_IPFAIL_AGE_MS
 * from now (hs_ipfail.h): all expired. */
void ipfail_age(tk_hs_client *hc);

/* The steps that report TAP lines are here, inline: tap.h counts per
 * program file, so they run in the test's own. */

/* The end of a join: INTRODUCE1 has gone on intro (when: `when`); the
 * service acknowledges it and answers on rend with RENDEZVOUS2; the
 * request is answered, joined on rend (`joined` says how). A TAP line a
 * step; 1 if all passed. */
static inline int
join_end(struct fcirc *intro, struct fcirc *rend, const char *when,
	 const char *joined)
{
	int ok = tap_ok(intro->cmd == TK_RELAY_INTRODUCE1, "INTRODUCE1 %s",
			when);
	intro_ack(intro, TK_HS_INTRO_ACK_SUCCESS);
	ok &= tap_ok(rendezvous2(intro, rend) == 0, "%s: the service opens it",
		     when);
	run_deferred();
	ok &= tap_ok(answered == 1 && answer_reason == 0 &&
			     answer_oc == &rend->oc,
		     "joined %s", joined);
	return ok;
}

/* The first contact with the service (or a contact while its descriptor
 * is cached): introduce(), then join_end(); `what` names it in the TAP
 * lines. The joined rendezvous circuit, or NULL (a TAP line failed). */
static inline struct fcirc *
first_contact(tk_hs_client *hc, struct tk_circreq *r, const char *what)
{
	struct fcirc *rend = NULL, *intro = introduce(hc, r, &rend);
	if (!tap_ok(intro != NULL,
		    "%s: the rendezvous and introduction "
		    "circuits are launched",
		    what))
		return NULL;
	return join_end(intro, rend, what, what) ? rend : NULL;
}

#endif
