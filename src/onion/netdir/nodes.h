/* The node table: what the directory says about each relay, in the form
 * path.h chooses from. */
#ifndef TK_ONION_NETDIR_NODES_H
#define TK_ONION_NETDIR_NODES_H

#include <stddef.h>
#include <stdint.h>

#include "onion/netdir/path.h"

/* The node table: a consensus joined with the microdescriptors its m
 * lines name, in the form tk_path_choose wants. It owns the
 * microdescriptors given to it; the consensus must outlive it. On a new
 * consensus: tk_nodes_init(new), tk_nodes_adopt(new, old), fetch
 * tk_nodes_missing(new), then free the old table and old consensus. */
struct tk_nodes {
	const struct tk_consensus *c;
	size_t n;		   /* = c->n_routers */
	struct tk_path_node *node; /* node[i].rt = &c->routers[i] */
	struct tk_microdesc *mds;  /* slot i holds router i's md */
	size_t n_have;		   /* slots filled */
	/* private: the distinct exit summaries of the microdescriptors
	 * taken in (a reference each), so that equal ones share their
	 * ranges: an open-addressed set, pol_mask + 1 slots */
	struct tk_policy_summary *pol;
	size_t pol_mask, n_pol;
	/* private: the distinct family lists, each as the slot (+ 1) of a
	 * microdescriptor holding them, so that equal ones are shared:
	 * open-addressed, fam_mask + 1 slots, 0 empty */
	uint32_t *fam;
	size_t fam_mask, n_fam;
};

int tk_nodes_init(struct tk_nodes *t, const struct tk_consensus *c);
void tk_nodes_free(struct tk_nodes *t);

/* Offers a parsed microdescriptor whose text has `digest`
 * (tk_microdesc_digest). If a router's m line lists it (and that slot is
 * empty) it is moved into the table (*md is left re-initialised) and 1
 * is returned; 0 if already held; -1 if no m line lists it (err says so;
 * *md untouched). */
int tk_nodes_add_md(struct tk_nodes *t, struct tk_microdesc *md,
		    const uint8_t digest[32], char *err, size_t errlen);
/* The same, and *slot (if not NULL) is the router's index when 0 or 1
 * is returned: one lookup for callers that keep books by slot. */
int tk_nodes_add_md_at(struct tk_nodes *t, struct tk_microdesc *md,
		       const uint8_t digest[32], size_t *slot, char *err,
		       size_t errlen);

/* The index of the router whose RSA identity is rsa_id, or -1. */
long tk_nodes_find(const struct tk_nodes *t, const uint8_t rsa_id[20]);

/* Moves the microdescriptors of old that t's consensus still lists into
 * t (after a consensus refresh most relays keep theirs). Returns how many
 * moved. */
size_t tk_nodes_adopt(struct tk_nodes *t, struct tk_nodes *old);

/* Digests of the microdescriptors t still lacks (up to cap), in router
 * order; returns how many are missing in total. */
size_t tk_nodes_missing(const struct tk_nodes *t, uint8_t (*out)[32],
			size_t cap);

/* Share of paths that can be built with the microdescriptors held, the
 * way tor decides it has "enough directory info" (compare with 0.6, or
 * PathsNeededToBuildCircuits): product over guard, middle and exit
 * positions of (weighted bandwidth of usable relays with a
 * microdescriptor) / (weighted bandwidth of relays that would be usable
 * with one); relays counted uniformly when all weigh zero. */
double tk_nodes_path_fraction(const struct tk_nodes *t,
			      const struct tk_path_weights *w,
			      const struct tk_path_opts *o);

#endif
