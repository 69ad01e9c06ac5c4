/* The command line's subcommands that live outside main.c, and what they share with it. */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "vmm: " and the message on stderr; returns status for the caller to exit with. */
int cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct vm;
/* The exit status of a run that stopped as vm says (the guest's code, 112-114, 128+N). */
int cli_stop_status(const struct vm *vm);

/* vmm journal dump|stat|diff */
int cmd_journal(int argc, char **argv);
void usage_journal(FILE *f);

/* A whole regular file of at most max bytes (max_what names that limit) into a malloc'ed buffer. 0 or -errno. */
int cli_read_file(const char *path, size_t max, const char *max_what, uint8_t **buf, size_t *len, char *err,
		  size_t errlen);

/* vmm journal pack|unpack */
int journal_pack(int argc, char **argv);
int journal_unpack(int argc, char **argv);

/* vmm hunt */
int cmd_hunt(int argc, char **argv);
void usage_hunt(FILE *f);

#endif
