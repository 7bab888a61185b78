/* Private to hs_desc_*.c: helpers the descriptor parsers
 * share. */
#ifndef TK_ONION_HS_HS_DESC_INT_H
#define TK_ONION_HS_HS_DESC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "onion/netdoc/netdoc.h"

/* A decimal uint64 (digits only). 0 or -1. */
int tk__hs_desc_u64(struct tk_netdoc_span s, uint64_t *out);

/* text as the tokenizer wants it: ending in a newline. Returns text
 * itself when it already does, else an allocated copy with one added
 * (*copy set, to be freed); NULL only when out of memory. */
const char *tk__hs_desc_terminated(const char *text, size_t *len, char **copy);

/* An item's object decoded into an allocated buffer; -1 if there is no
 * object, its label is not `label`, or it is not base64 (*out NULL). */
int tk__hs_desc_obj(const struct tk_netdoc_item *it, const char *label,
		    uint8_t **out, size_t *outlen);

/* Tor's minimum for an encrypted blob: SALT[16], one byte, MAC[32]. */
#define TK__HS_DESC_BLOB_MIN (16 + 1 + 32)

#endif
