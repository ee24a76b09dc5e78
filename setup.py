"""Packaging that pyproject.toml cannot express: the notebooks live at the top of the repository
(``notebooks/``, where analysts and the docs expect them) and install inside the package as
``channelkit/notebooks``, so ``channelkit report`` finds them from any folder on a plain install.
Everything else is declared in pyproject.toml."""
from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["channelkit", "channelkit.*"]), "channelkit.notebooks"],
    package_dir={"channelkit.notebooks": "notebooks"},
    package_data={"channelkit": ["*.yaml", "**/*.yaml"], "channelkit.notebooks": ["*.ipynb"]},
)
