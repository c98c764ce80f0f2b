"""Package layout that pyproject.toml cannot state: data/ is installed as fasttext_lin.data."""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["fasttext_lin", "fasttext_lin.*"]) + ["fasttext_lin.data"],
      package_dir={"fasttext_lin.data": "data"})
