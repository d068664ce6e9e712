import gc
import sys

# The cyclic collector is off while Maestro's modules load: importing them allocates tens of
# thousands of objects, none of them garbage, and the collector walked them again and again
# (about 5 ms of the process's start, docs/performance.md 7). run_process turns it back on for
# every command but `weights` on a journal file, which keeps it off to the end.
gc.disable()

from .early_read import read_journal_early  # noqa: E402

read_journal_early(sys.argv[1:])  # on the other core, while the modules below load

from .cli import run_process  # noqa: E402

run_process()
