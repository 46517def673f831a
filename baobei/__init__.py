"""Baobei (报备): shared plumbing (``baobei.core``), the command line, and the Python code
generated from ``proto/`` (``baobei.<service>.v1``, import path = proto package)."""
