"""``companion.train`` is an alias of :mod:`companion.models.train` (PyTorch code lives in ``companion/models/``).

The public name stays, so ``import companion.train`` and ``from companion.train import ...`` keep working;
both give the very same module object as ``companion.models.train``.
"""

import sys

from companion.models import train as _module

sys.modules[__name__] = _module
