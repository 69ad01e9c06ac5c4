/* Option tables: getopt_long's arguments and --help's option list from one table, so they cannot drift. */
#include <errno.h>
#include <string.h>

#include "cli_opt.h"

#define HELP_COLUMN 24

int cli_getopt_init(struct cli_getopt *g, const char *cmd, const char *synopsis, const struct cli_opt *t,
		    size_t n, unsigned mask, bool in_order)
{
	size_t k = 0, s = 0;

	memset(g, 0, sizeof(*g));
	g->cmd = cmd;
	g->synopsis = synopsis;
	if (in_order)
		g->so[s++] = '+';
	g->so[s++] = ':';	/* a missing value returns ':', told apart from an unknown option */
	for (size_t i = 0; i < n; i++) {
		if (!(t[i].parse & mask))
			continue;
		if (k == CLI_OPTS_MAX)
			return -E2BIG;
		g->lo[k++] = (struct option){ t[i].name, t[i].arg, NULL, t[i].key };
		if (t[i].letter) {
			g->so[s++] = (char)t[i].key;
			if (t[i].arg == required_argument)
				g->so[s++] = ':';
		}
	}
	return 0;
}

int cli_getopt_next(struct cli_getopt *g, int argc, char **argv)
{
	int c, saved = opterr;
	const char *arg;

	opterr = 0;
	c = getopt_long(argc, argv, g->so, g->lo, NULL);
	opterr = saved;
	if (c != '?' && c != ':')
		return c;
	arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
	if (c == ':')
		fprintf(stderr, "vmm %s: option '%s' needs a value\n", g->cmd, arg);
	else if (optopt && arg[0] == '-' && arg[1] == '-' && strchr(arg, '='))
		fprintf(stderr, "vmm %s: option '%.*s' takes no value\n", g->cmd, (int)(strchr(arg, '=') - arg), arg);
	else if (optopt && (arg[0] != '-' || arg[1] != '-'))
		fprintf(stderr, "vmm %s: unknown option '-%c'\n", g->cmd, optopt);
	else
		fprintf(stderr, "vmm %s: unknown option '%s'\n", g->cmd, arg);
	cli_usage_hint(g);
	return '?';
}

void cli_usage_hint(const struct cli_getopt *g)
{
	fprintf(stderr, "usage: %s\n(vmm %s --help lists the options)\n", g->synopsis, g->cmd);
}

void cli_opts_help(FILE *f, const struct cli_opt *t, size_t n, unsigned mask)
{
	for (size_t i = 0; i < n; i++) {
		const char *line = t[i].help, *nl;
		int w;

		if (!(t[i].shown & mask))
			continue;
		w = fprintf(f, "  %c%c%c --%s", t[i].letter ? '-' : ' ', t[i].letter ? t[i].key : ' ',
			    t[i].letter ? ',' : ' ', t[i].name);
		if (t[i].arg == required_argument)
			w += fprintf(f, " %s", t[i].value);
		else if (t[i].arg == optional_argument)
			w += fprintf(f, "[=%s]", t[i].value);
		if (w > HELP_COLUMN - 2)
			w = fprintf(f, "\n") - 1;
		for (; line; line = nl ? nl + 1 : NULL, w = 0) {
			nl = strchr(line, '\n');
			fprintf(f, "%*s%.*s\n", HELP_COLUMN - w, "", nl ? (int)(nl - line) : (int)strlen(line), line);
		}
	}
}
