# gdb commands for vmm's replay monitor: `source tools/vmm.gdb` in gdb (or in ~/.gdbinit).
# The moves refresh gdb's register cache themselves, which a bare `monitor goto` leaves stale.

define vmm-when
  monitor when
end
document vmm-when
Say where the replay is: event N (exit M, L landmarks passed).
end

define vmm-goto
  if $argc != 1
    echo usage: vmm-goto EVENT\n
  else
    monitor goto $arg0
    maintenance flush register-cache
  end
end
document vmm-goto
Move the replay to the point where EVENT events are replayed (back or forward),
then have gdb read the registers again.
end

define vmm-checkpoint
  monitor checkpoint
end
document vmm-checkpoint
Name the current stop as a checkpoint to come back to with vmm-restart.
end

define vmm-checkpoints
  monitor checkpoints
end
document vmm-checkpoints
List the checkpoints.
end

define vmm-restart
  if $argc == 0
    monitor restart
  else
    monitor restart $arg0
  end
  maintenance flush register-cache
end
document vmm-restart
Back (or forward) to checkpoint K, or without K to the start; gdb then reads
the registers again.
end

define vmm-snapshots
  monitor snapshots
end
document vmm-snapshots
The snapshots going back starts from.
end
