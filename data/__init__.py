"""Data shipped with fasttext_lin: the registry of named sets and small sets, xz-compressed.

Installed as the package ``fasttext_lin.data``; read by :mod:`fasttext_lin.datasets.registry`.
"""
