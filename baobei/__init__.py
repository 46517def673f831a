"""Baobei (报备), the ground floor: shared plumbing (``baobei.core``) and the Python code generated
from ``proto/`` (``baobei.<service>.v1``, import path = proto package). It imports nothing of the
services, workflows, edge or ``cli`` above it."""
