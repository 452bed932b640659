"""Loaded for every scenario's testinfra run (pytest's rootdir is the project): lets the verify tests
import the shared helpers in molecule/delivered.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
