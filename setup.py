"""Maps the six top-level folders onto the one import namespace `eva` (metadata lives in pyproject.toml)."""
from setuptools import find_packages, setup

PARTS = ("backbone", "pretrain", "cls", "det", "seg", "video")

package_dir = {f"eva.{part}": part for part in PARTS}
packages = []
for part in PARTS:
    packages.append(f"eva.{part}")
    packages += [f"eva.{part}.{sub}" for sub in find_packages(where=part)]

setup(packages=packages, package_dir=package_dir, include_package_data=True,
      package_data={f"eva.{p}": ["configs/**/*.py", "data/*"] for p in PARTS})
