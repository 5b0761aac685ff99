"""Imported once, by the fork server that training processes start from (see :mod:`remote`).

It imports PyTorch and the training code, so each child starts in a fraction of a second, and it
keeps the children of VAE Studio from re-importing the main module of the program that started
the server. multiprocessing re-imports that module in every child (as ``__mp_main__``) so that
functions defined there can be unpickled; VAE Studio's children run only its own code and need
none of it, and a script that builds a window without an ``if __name__ == "__main__":`` guard
would build it again in the child and never train.

Only the server process runs this module, and it changes only what happens in children that
carry VAE Studio's process name: another program's children started from a shared fork server
still get their main module.
"""

from __future__ import annotations

import multiprocessing.process
import multiprocessing.spawn as _spawn

from . import remote  # noqa: F401 - the preload itself: PyTorch and the trainer

CHILD_NAME = remote.CHILD_NAME


def _ours() -> bool:
    return multiprocessing.process.current_process().name == CHILD_NAME


def _guard(original):
    def fixup(*args, **kwargs):
        if _ours():
            return None
        return original(*args, **kwargs)

    fixup.__wrapped__ = original
    return fixup


for _name in ("_fixup_main_from_path", "_fixup_main_from_name"):
    _original = getattr(_spawn, _name, None)
    if _original is not None and not hasattr(_original, "__wrapped__"):
        setattr(_spawn, _name, _guard(_original))
