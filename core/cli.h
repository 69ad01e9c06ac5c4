/* The command line's subcommands that live outside main.c, and what they share with it. */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stdio.h>

/* "vmm: " and the message on stderr; returns status for the caller to exit with. */
int cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct vm;
/* The exit status of a run that stopped as vm says (the guest's code, 112-114, 128+N). */
int cli_stop_status(const struct vm *vm);

/* vmm journal dump|stat|diff */
int cmd_journal(int argc, char **argv);
void usage_journal(FILE *f);

#endif
