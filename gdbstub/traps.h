/* What the packet handlers share with traps.c: software breakpoints mapped to guest bytes. */
#ifndef VMM_GDBSTUB_TRAPS_H
#define VMM_GDBSTUB_TRAPS_H

#include <stdbool.h>

struct gdbstub;
struct gdb_swbp;
struct vm;

/* Map a software breakpoint's address to the guest physical byte it stands for now: true if it is mapped. */
bool gdb_swbp_place(struct gdbstub *g, struct vm *vm, struct gdb_swbp *b);
/* Breakpoints set where nothing was mapped yet, placed once something is: true if any was. */
bool gdb_swbp_place_pending(struct gdbstub *g, struct vm *vm);

#endif
