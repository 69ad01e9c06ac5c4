/* The command line's subcommands that live outside main.c, and what they share with it. */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../replay/hashcache.h"

/* "vmm: " and the message on stderr; returns status for the caller to exit with. */
int cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct vm;
/* The exit status of a run that stopped as vm says (the guest's code, 112-114, 128+N). */
int cli_stop_status(const struct vm *vm);
/* What ended the run, in words, for the guest's own stops (power-off, reset, triple fault, quit); NULL otherwise. */
const char *cli_stop_message(const struct vm *vm);

/* vmm journal dump|stat|diff */
int cmd_journal(int argc, char **argv);
void usage_journal(FILE *f);

/*
 * A whole regular file of at most max bytes (max_what names that limit) into
 * a malloc'ed buffer, and, with id, what identified its contents then. 0 or -errno.
 */
int cli_read_file(const char *path, size_t max, const char *max_what, uint8_t **buf, size_t *len,
		  struct file_id *id, char *err, size_t errlen);
/*
 * Where the inputs' SHA-256s are remembered (replay/hashcache.h): $VMM_CACHE_DIR
 * (empty: nowhere), else $XDG_CACHE_HOME/vmm, else $HOME/.cache/vmm; NULL for none.
 */
const char *cli_cache_dir(void);
/* The SHA-256 of a file read by cli_read_file, through the cache. */
void cli_input_sha256(const struct file_id *id, const uint8_t *data, size_t len, uint8_t out[32]);

/* vmm journal pack|unpack */
int journal_pack(int argc, char **argv);
int journal_unpack(int argc, char **argv);

/* vmm replay */
int cmd_replay(int argc, char **argv);
void usage_replay(FILE *f);

/* What run, record and replay share (core/main.c). */
#include <stdbool.h>
struct vm_config;

/* How this process was started: replay re-executes it to go back (reverse execution). */
extern char **cli_argv;

/* The kernel and initrd files, read whole. */
struct cli_files {
	uint8_t *kernel, *initrd;
	size_t kernel_len, initrd_len;
	struct file_id kernel_id, initrd_id;
};
/* Read them (either may be NULL), each at most max bytes. -1 on success, else the exit status. */
int cli_load_files(const char *kernel, const char *initrd, uint64_t max, struct cli_files *f);
void cli_free_files(struct cli_files *f);
/* Create the VM and load the guest into it. -1 on success, else the exit status. */
int cli_setup_vm(struct vm *vm, const struct vm_config *cfg, const struct cli_files *f, const char *kernel_path,
		 const char *cmdline);
/* Keep this thread on host CPU cpu. 0 or -errno. */
int cli_pin_to_cpu(int cpu);
/* Whether a status line goes on stderr: a terminal the guest's serial output does not go to. */
bool cli_show_progress(const char *serial, bool quiet);
/* Signal handlers, then the seccomp filter (core/sandbox.c). 0 or -errno, err says why. */
int cli_enter_sandbox(struct vm *vm, const char *gdb, char *err, size_t errlen);

/* vmm hunt */
int cmd_hunt(int argc, char **argv);
void usage_hunt(FILE *f);

#endif
