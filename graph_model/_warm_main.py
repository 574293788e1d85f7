"""The warm server's keeper process (see graph_model/warm.py), run as a script.

It forks once and the first process exits at once, so the command that starts it reaps
that one and the keeper is nobody's child (it stops by itself: idle timeout, owner's end,
``sgraph query stop``). The package is imported from beside this file, not from wherever
the environment would find another copy.
"""

import os
import sys
from pathlib import Path

if os.fork():
    os._exit(0)
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from graph_model.warm import keeper_main  # noqa: E402

keeper_main(sys.argv)
