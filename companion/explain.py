"""``companion.explain`` is an alias of :mod:`companion.models.explain` (PyTorch code lives in ``companion/models/``).

The public name stays, so ``import companion.explain`` and ``from companion.explain import ...`` keep working;
both give the very same module object as ``companion.models.explain``.
"""

import sys

from companion.models import explain as _module

sys.modules[__name__] = _module
