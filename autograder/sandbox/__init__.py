"""THE boundary between trusted grading code and untrusted student code: the only code that
starts or de-privileges a process running student code (the package worker and the notebook
runner alike). See README.md in this folder for its guarantees and what is out of scope.

    client.py     the judge's side of the package worker (fork server), the ``student`` API
    worker.py     the package worker itself (untrusted side, never imports this package)
    wire.py       the plain-data wire format between them
    nbsession.py  the judge's side of notebook execution (one runner per notebook)
    nbrunner.py   the notebook runner (untrusted side: drives a kernel, reports outcomes)
    runtime.py    modes, worker users and runtime cache, namespaces, limits, kill and clear
"""
from . import wire  # noqa: F401
from .client import (ImportFailure, Limits, Sandbox, SpyResult, Student,  # noqa: F401
                     StudentCrash, StudentError, StudentFault, StudentTimeout, limits_from_dict)
from .runtime import (Runtime, SandboxError, acquire_slots, clear_user,  # noqa: F401
                      harden_trusted_process, prepare_runtime, protect, read_capped,
                      sandbox_mode)
from .wire import Handle, WireError  # noqa: F401
