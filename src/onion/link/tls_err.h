/* The TLS layer's own failure codes, shared by tls.h and the library
 * seam (tls_engine.h); tk_tls_strerror() names them. */
#ifndef TK_ONION_LINK_TLS_ERR_H
#define TK_ONION_LINK_TLS_ERR_H

enum {
	TK_TLS_EHANDSHAKE = -5001, /* TLS handshake failed */
	TK_TLS_EPROTO = -5002,	   /* bad TLS record after the handshake */
	TK_TLS_ENOMEM = -5003,
	TK_TLS_ESTATE = -5004, /* call not valid in this state */
	TK_TLS_EINIT = -5005,  /* TLS library could not be set up */
};

#endif
