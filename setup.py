"""Build hook: ship config/policy.toml, config/notice.toml, config/report.toml and
schemas/inputs.toml inside
the package.

The design keeps them at the top of the repository, where an office edits them; a wheel
(`pip install .`, pipx) has no repository around it, so the build copies them into
`dues/defaults/`, which dues reads when the source tree's copies are not there.
Everything else about the build is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = (
    "config/policy.toml",
    "config/notice.toml",
    "config/report.toml",
    "schemas/inputs.toml",
)  # also listed in MANIFEST.in


class BuildPyWithDefaults(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "dues" / "defaults"
        target.mkdir(parents=True, exist_ok=True)
        for name in SHIPPED:
            shutil.copyfile(HERE / name, target / Path(name).name)


setup(cmdclass={"build_py": BuildPyWithDefaults})
