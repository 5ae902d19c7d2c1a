"""Start the VOS Annotator app: `python main.py [PATH]` (frames folder, video file or dataset)."""

import sys

from annotator.gui.app import main

if __name__ == "__main__":
    sys.exit(main())
