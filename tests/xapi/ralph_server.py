"""Run Ralph's LRS (FastAPI app) with its file-system backend; executed by the Ralph virtualenv's Python.

Usage: ``python ralph_server.py HOST PORT``; settings come from the environment
(``RALPH_AUTH_FILE``, ``RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH`` …).

Ralph 5.1.0's file-system LRS writes each POST with the "index" operation,
which refuses to write when its statements file exists, so every POST after
the first fails with 500. The one change here makes that backend append, as a
file store must; everything else is Ralph as released.
"""

from __future__ import annotations

import sys

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

if __name__ == "__main__":
    uvicorn.run("ralph.api:app", host=sys.argv[1], port=int(sys.argv[2]), log_level="warning")
