"""`nbgrader validate` of one notebook, for the self-check (which runs it in a copy of the
homework folder, in a child process, so that nothing of the student's is overwritten):

    python -m cs239.tools.validate NOTEBOOK TIMEOUT

prints one line RESULT_TAG + JSON: the number of cells per problem kind ("failed", "changed",
"type_changed", ...) and the end of the first failing cell's error, without ANSI colours.
"""
import json
import sys

RESULT_TAG = "@@validate@@"


def main(argv=None):
    from nbconvert.filters import strip_ansi
    from nbgrader.validator import Validator
    from traitlets.config import Config

    path, timeout = sys.argv[1:] if argv is None else argv
    config = Config()
    config.Execute.timeout = int(timeout)
    results = Validator(config=config).validate(path)
    failed = results.get("failed", [])
    summary = {"counts": {k: len(v) for k, v in results.items()},
               "first_error": strip_ansi(failed[0].get("raw_error", ""))[-600:] if failed else ""}
    print(RESULT_TAG + json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
