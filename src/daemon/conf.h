/* conf.h — torkitd's configuration: a torrc-style file plus
 * `--Option value` command-line overrides. */
#ifndef TK_DAEMON_CONF_H
#define TK_DAEMON_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "daemon/log.h"
#include "daemon/policy.h"

/* SocksPort flags (Tor's names). */
enum {
	TK_PORT_NO_ISOLATE_AUTH = 1 << 0,
	TK_PORT_PREFER_NO_AUTH = 1 << 1,
	TK_PORT_EXTENDED_ERRORS = 1 << 2,
	TK_PORT_PREFER_IPV6 = 1 << 3,
	TK_PORT_ISOLATE_DEST_ADDR = 1 << 4,
	TK_PORT_ISOLATE_DEST_PORT = 1 << 5,
	TK_PORT_ISOLATE_CLIENT_ADDR = 1 << 6,
	TK_PORT_ISOLATE_CLIENT_PROTOCOL = 1 << 7,
	TK_PORT_GROUP_WRITABLE = 1 << 8,
	TK_PORT_WORLD_WRITABLE = 1 << 9,
};

struct tk_port_cfg {
	char *key; /* address as written, normalised: for reload */
	int is_unix;
	char path[108];
	struct sockaddr_storage ss;
	unsigned flags;
};

enum { TK_ENGINE_DIRECT, TK_ENGINE_TOR };

#define TK_CONFIG_MAX_LONG_LIVED_PORTS 64

struct tk_config {
	struct tk_port_cfg *ports;
	size_t n_ports;
	struct tk_policy socks_policy;
	struct tk_policy exit_policy; /* user lines only */
	int exit_reject_private;
	int engine;
	char *dns_servers; /* c-ares CSV, NULL: /etc/resolv.conf */
	int safe_socks, test_socks, safe_logging;
	struct tk_log_sink *logs;
	int n_logs;
	unsigned num_cpus; /* NumCPUs: 0 auto (loops.c) */
	unsigned max_clients;
	unsigned socks_timeout; /* seconds */
	char *pid_file;
	int run_as_daemon;
	char *data_dir; /* tor engine default: tk_config_default_data_dir() */
	char **dir_authorities;
	size_t n_dir_authorities;
	char **fallback_dirs;
	size_t n_fallback_dirs;
	int use_default_fallback_dirs;
	int testing_tor_network;
	int enforce_distinct_subnets; /* tor engine, default 1 (0 with
				       * TestingTorNetwork) */
	uint16_t long_lived_ports[TK_CONFIG_MAX_LONG_LIVED_PORTS];
	size_t n_long_lived_ports;	  /* tor engine: LongLivedPorts */
	int client_use_ipv4;		  /* tor engine, default 1 */
	int client_use_ipv6;		  /* tor engine, default 0 */
	int client_prefer_ipv6_orport;	  /* tor engine: -1 auto, 0, 1 */
	char *client_onion_auth_dir;	  /* tor engine */
	unsigned half_close_linger;	  /* tor engine, seconds */
	int congestion_control;		  /* tor engine: -1 auto, 0, 1 */
	uint64_t max_mem_in_queues;	  /* bytes; 0: from the machine's RAM */
	unsigned idle_timeout;		  /* seconds, 0: none */
	unsigned max_clients_per_address; /* 0: no limit */
	char *user;			  /* User: drop to it after binding */
	int client_reject_internal;	  /* tor engine, default 1 (0 with
					   * TestingTorNetwork) */
	int client_dns_reject_internal;	  /* the same */
	int exit_reject_local_interfaces; /* direct engine, default 1 */
	int relay_splice;		  /* direct engine: -1 auto, 0, 1 */
	int connection_padding;		  /* tor engine: -1 auto, 0, 1 */
	int reduced_connection_padding;	  /* tor engine */
	struct tk_port_cfg *control_ports; /* ControlPort, ControlSocket */
	size_t n_control_ports;
	int cookie_auth;		/* CookieAuthentication */
	char *cookie_auth_file;		/* NULL: DataDirectory's */
	int cookie_auth_group_readable; /* CookieAuthFileGroupReadable */
};

/* Where the tor engine keeps its state when DataDirectory is not set, as
 * tor: ~/.torkit for a user (HOME set and not "/"), LOCALSTATEDIR/lib/
 * torkit for root and for a user without a home. Malloc'ed; NULL if out
 * of memory. */
char *tk_config_default_data_dir(void);

/* Where the configuration comes from; kept for SIGHUP. */
struct tk_config_source {
	const char *file; /* -f FILE, or NULL for the default */
	int file_given;	  /* a missing -f FILE is an error */
	int argc;	  /* the --Option value pairs */
	char **argv;
};

/* Read and validate. 0, or -1 after printing "FILE:LINE: what is wrong"
 * to stderr (at startup) or the log (reload, `to_log`). */
int tk_config_load(const struct tk_config_source *src, struct tk_config *cfg,
		   int to_log);
void tk_config_free(struct tk_config *cfg);

/* The option table: one row per option, as Tor's option_vars_ in
 * config.c. Adding an option is a row in conf.c and, when it keeps a
 * value, a field above. Read-only, for --help and shell completion. */
enum tk_option_type {
	TK_OPT_BOOL,	 /* 0 or 1, into an int */
	TK_OPT_UINT,	 /* min..max, into an unsigned */
	TK_OPT_INTERVAL, /* Tor's "N [unit]": seconds, min..max, into
			  * an unsigned */
	TK_OPT_MEMUNIT,	 /* Tor's "N [bytes|KB|MB|GB|TB]", min..max,
			  * into a uint64_t */
	TK_OPT_STRING,	 /* the last line wins, into a char * */
	TK_OPT_LINES,	 /* every line, into a struct tk_config_lines */
	TK_OPT_CUSTOM,	 /* `parse` stores it */
};

enum {
	TK_OPTF_LIST = 1 << 0,	 /* every line counts; --Option on the
				  * command line replaces the file's */
	TK_OPTF_EMPTY = 1 << 1,	 /* `parse` judges an empty value */
	TK_OPTF_TOR = 1 << 2,	 /* only the tor engine uses it */
	TK_OPTF_DIRECT = 1 << 3, /* only the direct engine uses it */
	TK_OPTF_HIDDEN = 1 << 4, /* testing: kept out of --help */
};

/* A list of strings, one per line, for TK_OPT_LINES. */
struct tk_config_lines {
	char **v;
	size_t n;
};

struct tk_option;

/* Store `value` (never empty without TK_OPTF_EMPTY). 0, or -1 with the
 * whole message in err; cfg may hold part of the value then. */
typedef int tk_option_parse_fn(struct tk_config *cfg, const struct tk_option *o,
			       const char *value, char *err, size_t errlen);

struct tk_option {
	const char *name; /* as documented; matched case-insensitively */
	enum tk_option_type type;
	size_t offset;		   /* of its field in struct tk_config */
	const char *dflt;	   /* as a user would write it, NULL for none;
				    * used when no line names the option */
	unsigned flags;		   /* TK_OPTF_* */
	unsigned long min, max;	   /* TK_OPT_UINT, TK_OPT_INTERVAL */
	tk_option_parse_fn *parse; /* TK_OPT_CUSTOM */
	const char *syntax;	   /* the value: "0|1" for a choice of words,
				    * upper case for a placeholder ("PATH") */
	const char *summary;	   /* one line, for --help and completion */
};

/* The table, in documentation order; *n gets its length. */
const struct tk_option *tk_config_options(size_t *n);
/* The option named `name` (any case), or NULL. */
const struct tk_option *tk_config_option(const char *name);
/* Apply one `Option value` line to cfg as tk_config_load does, value
 * checks and messages included. 0, or -1 with the message in err. */
int tk_config_set(struct tk_config *cfg, const struct tk_option *o,
		  const char *value, char *err, size_t errlen);

#endif
