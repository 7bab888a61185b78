/* conf_doc.h — torkitd's options told from its option table (conf.c),
 * so the shell completion and the sample configuration cannot drift from
 * what torkitd takes. */
#ifndef TK_DAEMON_CONF_DOC_H
#define TK_DAEMON_CONF_DOC_H

#include <stdio.h>

/* --list-torrc-options: "Name<TAB>syntax" a line, in table order. */
void tk_config_print_options(FILE *f);

/* --sample-config: every option, commented out with its default, as
 * tor's torrc.sample (the installed torkitd.conf.sample). */
void tk_config_print_sample(FILE *f);

#endif
