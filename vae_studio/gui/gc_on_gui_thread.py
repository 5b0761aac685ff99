"""Python's cyclic garbage collector, run on the GUI thread only.

The window's worker threads allocate (unpickling the training process's messages), and an
automatic collection runs in whichever thread allocates. If the garbage holds Qt objects (a
closed window's pyqtgraph menus and items), Qt would then destroy them off the GUI thread,
which deadlocks or crashes. pyqtgraph's ``GarbageCollector`` turns automatic collection off and
collects from a timer on the GUI thread instead; one is installed per process.
"""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector

_collector: GarbageCollector | None = None


def collect_on_gui_thread() -> None:
    """Install the GUI-thread collector (idempotent; needs a QApplication)."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=1.0)
