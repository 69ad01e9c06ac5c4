/* Option tables: each command's options in one table, from which both getopt_long and --help are made. */
#ifndef VMM_CLI_OPT_H
#define VMM_CLI_OPT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CLI_OPTS_MAX 32

struct cli_opt {
	const char *name;	/* the long option, without -- */
	int key;		/* what cli_getopt_next returns for it */
	bool letter;		/* key is also a short option: -key */
	int arg;		/* no_argument, required_argument or optional_argument */
	const char *value;	/* the value's name in --help ("SIZE") */
	const char *help;	/* what it does; '\n' starts a line, indented under the first */
	unsigned parse;		/* bits of the commands whose parser takes it */
	unsigned shown;		/* bits of the commands whose --help lists it */
};

/* getopt_long's arguments for one command, built from a table. */
struct cli_getopt {
	const char *cmd;	/* "run", "journal pack": in messages */
	const char *synopsis;	/* "vmm run [options] KERNEL": after a message */
	struct option lo[CLI_OPTS_MAX + 1];
	char so[3 * CLI_OPTS_MAX + 3];
};

/*
 * The entries of t whose parse bits meet mask. in_order: stop at the first
 * argument that is not an option (hunt's "-- RECORD-ARGS"). -E2BIG if the
 * table has more than CLI_OPTS_MAX of them.
 */
int cli_getopt_init(struct cli_getopt *g, const char *cmd, const char *synopsis, const struct cli_opt *t,
		    size_t n, unsigned mask, bool in_order);
/*
 * The next option's key, -1 after the last one, or '?' for a bad one, after
 * printing what is wrong, the synopsis and where the options are listed.
 */
int cli_getopt_next(struct cli_getopt *g, int argc, char **argv);
/* After a message about the command line: the synopsis, and where the options are listed. */
void cli_usage_hint(const struct cli_getopt *g);
/* --help's option list: the entries whose shown bits meet mask, in table order. */
void cli_opts_help(FILE *f, const struct cli_opt *t, size_t n, unsigned mask);

#endif
