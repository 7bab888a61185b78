/* conf_doc.c — see conf_doc.h. */
#include "daemon/conf_doc.h"

#include "daemon/conf.h"

void
tk_config_print_options(FILE *f)
{
	size_t n;
	const struct tk_option *o = tk_config_options(&n);

	for (size_t i = 0; i < n; i++)
		if (!(o[i].flags & TK_OPTF_HIDDEN))
			fprintf(f, "%s\t%s\n", o[i].name, o[i].syntax);
}

void
tk_config_print_sample(FILE *f)
{
	size_t n;
	const struct tk_option *o = tk_config_options(&n);

	fputs("## torkitd.conf: the configuration of torkitd(8).\n"
	      "##\n"
	      "## Every option is below with its default value, commented "
	      "out: to set one,\n"
	      "## remove its '#' and change the value. An option without "
	      "a default is\n"
	      "## shown with the form its value takes. Lines of a list "
	      "option (marked\n"
	      "## \"repeatable\") add up; one line of any other option "
	      "replaces its default.\n"
	      "## torkitd.conf(5) says what each option does; `torkitd "
	      "--verify-config -f FILE`\n"
	      "## checks a file. This text comes from torkitd's own option "
	      "table\n"
	      "## (`torkitd --sample-config`).\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		const char *scope = o[i].flags & TK_OPTF_TOR ? ", tor engine"
				    : o[i].flags & TK_OPTF_DIRECT
					    ? ", direct engine"
					    : "";

		if (o[i].flags & TK_OPTF_HIDDEN)
			continue;
		fprintf(f, "\n## %s: %s (%s%s%s)\n", o[i].name, o[i].summary,
			o[i].syntax,
			o[i].flags & TK_OPTF_LIST ? ", repeatable" : "", scope);
		if (o[i].dflt != NULL)
			fprintf(f, "#%s %s\n", o[i].name, o[i].dflt);
		else
			fprintf(f, "## (not set by default)\n#%s %s\n",
				o[i].name, o[i].syntax);
	}
}
