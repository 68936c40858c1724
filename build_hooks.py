"""Wheel build step: the top-level folders the app reads, and compiled catalogues.

``templates/``, ``static/`` and ``migrations/`` live at the top of the
checkout (the layout every contributor knows); the wheel carries them inside
the package, under ``campaign/resources/``, where ``campaign/paths.py`` finds
them once installed. Translation catalogues (``campaign/translations/<locale>/
LC_MESSAGES/messages.po``) are compiled to ``.mo`` here, so no ``.mo`` is ever
committed.
"""

from pathlib import Path

from setuptools.command.build_py import build_py

# Top-level folders the app reads; each becomes campaign/resources/<name>.
FOLDERS = ("templates", "static", "migrations")
CATALOGUES = "campaign/translations/*/LC_MESSAGES/*.po"


class BuildPy(build_py):
    """setuptools' build_py, plus the top-level folders and compiled catalogues."""

    def finalize_options(self) -> None:
        """Map each top-level folder, and each folder in it, to a package."""
        super().finalize_options()
        # New containers: the ones read from the distribution are shared with
        # other commands (egg_info, editable installs), which must not see these.
        self.packages = list(self.packages or ())
        self.package_data = dict(self.package_data or {})
        self.mapped = dict(folder_packages())
        for package, source in self.mapped.items():
            self.packages.append(package)
            self.package_dir[package] = source
            self.package_data[package] = ["*"]

    def check_package(self, package: str, package_dir: str):
        """Take the mapped folders as they are: they have no ``__init__.py``."""
        if package in self.mapped:
            return None
        return super().check_package(package, package_dir)

    def run(self) -> None:
        """Build the package; compile catalogues into it (in place if editable)."""
        super().run()
        for po, mo in self._catalogues():
            compile_catalogue(po, mo)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        """setuptools' outputs plus the compiled catalogues."""
        outputs = super().get_outputs(include_bytecode=include_bytecode)
        if self.editable_mode:  # compiled in the checkout, not part of a wheel
            return outputs
        return outputs + [str(mo) for _, mo in self._catalogues()]

    def _catalogues(self) -> list[tuple[Path, Path]]:
        """Each ``.po`` in the checkout and the ``.mo`` to write for it."""
        target = Path("." if self.editable_mode else self.build_lib)
        return [
            (po, target / po.with_suffix(".mo"))
            for po in sorted(Path().glob(CATALOGUES))
        ]


def folder_packages() -> list[tuple[str, str]]:
    """``(package, folder)`` for each folder, and folder within, to carry.

    One package per directory (not one ``**`` glob) is how setuptools wants
    data directories declared; it warns about each subfolder otherwise.
    """
    found = []
    for name in FOLDERS:
        for directory in sorted([Path(name), *Path(name).rglob("*")]):
            if directory.is_dir() and directory.name != "__pycache__":
                package = ".".join(("campaign", "resources", *directory.parts))
                found.append((package, directory.as_posix()))
    return found


def compile_catalogue(po: Path, mo: Path) -> None:
    """Compile one catalogue as ``pybabel compile`` would (fuzzy entries left out)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        catalogue = read_po(source, locale=po.parent.parent.name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    with mo.open("wb") as out:
        write_mo(out, catalogue, use_fuzzy=False)
