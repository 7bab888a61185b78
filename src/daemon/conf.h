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
	char *key;		/* address as written, normalised: for reload */
	int is_unix;
	char path[108];
	struct sockaddr_storage ss;
	unsigned flags;
};

enum { TK_ENGINE_DIRECT, TK_ENGINE_TOR };

struct tk_config {
	struct tk_port_cfg *ports;
	size_t n_ports;
	struct tk_policy socks_policy;
	struct tk_policy exit_policy;	/* user lines only */
	int exit_reject_private;
	int engine;
	char *dns_servers;		/* c-ares CSV, NULL: /etc/resolv.conf */
	int safe_socks, test_socks, safe_logging;
	struct tk_log_sink *logs;
	int n_logs;
	unsigned max_clients;
	unsigned socks_timeout;		/* seconds */
	char *pid_file;
	int run_as_daemon;
	char *data_dir;
	char **dir_authorities;
	size_t n_dir_authorities;
	int enforce_distinct_subnets;	/* tor engine, default 1 */
	unsigned half_close_linger;	/* tor engine, seconds */
};

/* Where the configuration comes from; kept for SIGHUP. */
struct tk_config_source {
	const char *file;	/* -f FILE, or NULL for the default */
	int file_given;		/* a missing -f FILE is an error */
	int argc;		/* the --Option value pairs */
	char **argv;
};

/* Read and validate. 0, or -1 after printing "FILE:LINE: what is wrong"
 * to stderr (at startup) or the log (reload, `to_log`). */
int tk_config_load(const struct tk_config_source *src,
		   struct tk_config *cfg, int to_log);
void tk_config_free(struct tk_config *cfg);

/* The options torkitd knows, for --help style listings. */
extern const char *const tk_config_option_names[];

#endif
