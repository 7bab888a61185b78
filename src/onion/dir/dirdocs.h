/* The directory documents the client holds, and how one is accepted.
 *
 * A consensus (fetched whole, made from a diff, or read from the
 * DataDirectory) is parsed, must be newer than the one held and not
 * expired, waits for the certificates of its signers, must carry more
 * than half of the authorities' signatures, and must not require a
 * protocol this client lacks; then it becomes the node table's consensus
 * (the microdescriptors held carry over). An expired cached consensus is
 * kept as the base of a diff. Microdescriptors are offered to the table;
 * the directory is usable while the consensus is reasonably live and
 * enough of the paths can be built.
 *
 * It fetches nothing and never calls the directory manager that owns
 * it: what the owner must act on comes as events (tk_dirdocs_events). */
#ifndef TK_ONION_DIR_DIRDOCS_H
#define TK_ONION_DIR_DIRDOCS_H

#include <stddef.h>
#include <stdint.h>

#include "common/log_level.h"
#include "onion/dir/certstore.h"
#include "onion/dir/dirsrc.h"
#include "onion/dir/dirstore.h"
#include "onion/dir/mdstore.h"
#include "onion/netdir/nodes.h"
#include "onion/netdoc/consensus.h"

struct tk_dirdocs_config {
	const uint8_t (*v3ids)[20]; /* the authorities'; outlive the docs */
	size_t n_auths;
	int64_t skew_s;		   /* valid-after this far ahead is ok */
	int64_t reasonably_live_s; /* usable this long past valid-until */
	int enforce_distinct_subnets;
	double min_path_fraction;
	int no_diffs; /* never ask for a diff */
	const char *supported_protocols;
};

struct tk_dirdocs_events {
	int64_t (*now_ms)(void *arg);
	uint64_t (*random)(void *arg);
	tk_log_fn log;
	/* bootstrap progress, before the directory was first usable */
	void (*progress)(void *arg, int pct, const char *tag,
			 const char *summary);
	/* A document from src did not do (a consensus that did not parse,
	 * was stale or did not verify; certificates missing from the
	 * answer): the source failed. */
	void (*failed)(void *arg, enum tk_dirdoc doc,
		       const struct tk_dirsource *src, const char *why);
	/* A consensus was adopted: other consensus requests are moot and
	 * the schedules start over; requests for microdescriptors of the
	 * old table no longer refer to its slots. */
	void (*adopted)(void *arg);
	/* A diff did not check out: the whole consensus is wanted now. */
	void (*ask_whole)(void *arg);
	/* A new node table, or usability flipped. */
	void (*changed)(void *arg);
	/* A required protocol is missing: the docs stopped. */
	void (*fatal)(void *arg, const char *msg);
	void *arg;
};

struct tk_dirdocs {
	struct tk_dirdocs_config cfg;
	struct tk_dirdocs_events ev;
	struct tk_dirstore *store; /* borrowed: where texts live */
	tk_dirsources *srcs;	   /* borrowed: told who served us */

	/* the verified consensus and its node table */
	struct tk_consensus *cons;
	char cons_sha3[65]; /* of its signed part, for diffs; "" unknown */
	struct tk_nodes nodes;
	struct tk_mdstore mds; /* slot by slot of nodes */
	int has_nodes;
	int live, usable, ever_usable, from_cache, stopped;
	int mds_dirty, cons_dirty; /* to be written to the store */
	int64_t refetch_at_ms;

	/* Without a consensus: an older one (from the cache, too old to
	 * use) that a diff may still start from. */
	char *base_text;
	size_t base_len, base_signed;
	int64_t base_va;
	char base_sha3[65];
	int diff_failed; /* the last diff did not check out: ask whole */

	/* a fetched consensus waiting for certificates */
	struct tk_consensus *pend;
	char *pend_text;
	size_t pend_len;
	int pend_from_cache;
	unsigned pend_cert_tries;
	struct tk_dirsource pend_src;

	struct tk_certstore certs;
	int md_file_loaded; /* the store's microdescriptors were offered */
	char *warned_recommended; /* the list last warned about */

	unsigned consensus_fetched, diffs_applied, diffs_refused;
	unsigned refused_docs, mds_cached;
	double path_fraction;
};

/* 0, or -1 if out of memory. */
int tk_dirdocs_init(struct tk_dirdocs *d, const struct tk_dirdocs_config *cfg,
		    const struct tk_dirdocs_events *ev,
		    struct tk_dirstore *store, tk_dirsources *srcs);
void tk_dirdocs_free(struct tk_dirdocs *d);
/* Takes the certificates and the consensus the store has, checked as
 * documents from the network. */
void tk_dirdocs_load(struct tk_dirdocs *d);
/* 1 while there is no reasonably live verified consensus. */
int tk_dirdocs_bootstrapping(const struct tk_dirdocs *d, int64_t now_ms);

/* Answers: a consensus or a diff (asked_diff: we sent our digest), the
 * certificates for the pending consensus (ok 0: none came), and
 * microdescriptors for slots of table (the consensus they were asked
 * for; http_status 0: no answer). */
void tk_dirdocs_take_consensus(struct tk_dirdocs *d,
			       const struct tk_dirsource *src, int asked_diff,
			       const uint8_t *body, size_t len);
void tk_dirdocs_take_certs(struct tk_dirdocs *d, const struct tk_dirsource *src,
			   int ok, const uint8_t *body, size_t len);
void tk_dirdocs_take_mds(struct tk_dirdocs *d, const struct tk_dirsource *src,
			 const struct tk_consensus *table,
			 const uint32_t *slots, size_t n_slots, int ok,
			 int http_status, const uint8_t *body, size_t len);

/* Usability at now; 1 the first time the directory becomes usable. */
int tk_dirdocs_update_usable(struct tk_dirdocs *d, int64_t now_ms);

/* What to ask: the certificates the pending consensus lacks (a path),
 * and the X-Or-Diff-From-Consensus header line for our consensus ("" if
 * no diff is to be asked; its digest is computed the first time). */
void tk_dirdocs_certs_path(const struct tk_dirdocs *d, char *out, size_t cap);
void tk_dirdocs_diff_header(struct tk_dirdocs *d, int64_t now_ms, char *out,
			    size_t cap);

#endif
