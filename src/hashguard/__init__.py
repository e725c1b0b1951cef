"""hashguard: detect and stop the spread of known abuse content.

The public surface is small: :class:`hashguard.engine.Engine` turns content or signals into
matches, :mod:`hashguard.signals` holds the signal types, :mod:`hashguard.errors` the one
exception tree.
"""

__version__ = "0.1.0"
