"""Where the app's folders are: the checkout's top level, or inside the package.

In a checkout ``templates/``, ``static/`` and ``migrations/`` sit beside the
package; a wheel carries them in ``campaign/resources/`` (build_hooks.py), so
an installed site finds them wherever it runs from.
"""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def folder(name: str) -> str:
    """The absolute path of ``templates``, ``static`` or ``migrations``."""
    installed = PACKAGE / "resources" / name
    if installed.is_dir():
        return str(installed)
    return str(PACKAGE.parent / name)
