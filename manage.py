#!/usr/bin/env python
# SPDX-License-Identifier: AGPL-3.0-or-later
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from encaisse.cli import main

if __name__ == "__main__":
    main()
