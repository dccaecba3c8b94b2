"""Notebook size overrides, invisible in the notebooks (one mechanism for tests, demo, bench and
the grader).

Each course notebook has one code cell tagged ``parameters`` with every size knob at homework
scale. Whoever runs a notebook at another scale sets ``CS239_NOTEBOOK_PARAMETERS`` to a JSON
object (e.g. ``{"num_iters": 100}``) in the kernel's environment and starts the kernel with
``kernel_arguments()``: a hook installed at kernel start assigns the overrides right after the
first cell that assigns one of them (the parameters cell), as if a cell had been inserted
after it. The notebook students see stays as it is; without the variable nothing happens.

Users: tools/notebook_runner.py (nbclient's ``extra_arguments``), the grader's notebook runner
(autograder/sandbox/nbrunner.py: the judge sends the arguments, which the worker cannot read) and nbgrader runs in the tests (``--Execute.extra_arguments``).
"""
import inspect
import json

ENV = "CS239_NOTEBOOK_PARAMETERS"


def install(shell):
    """Runs inside the kernel at start: register the hook with IPython's post_run_cell event."""
    import ast
    import json
    import os

    overrides = json.loads(os.environ.get("CS239_NOTEBOOK_PARAMETERS") or "{}")
    if not overrides:
        return

    def after_cell(result):
        if result.error_before_exec or result.error_in_exec:
            return
        try:            # the cell as Python (%magics and !commands rewritten)
            body = ast.parse(shell.transform_cell(result.info.raw_cell)).body
        except SyntaxError:
            return
        assigned = {t.id for node in body if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)}
        if assigned & set(overrides):
            shell.user_ns.update(overrides)
            shell.events.unregister("post_run_cell", after_cell)

    shell.events.register("post_run_cell", after_cell)


def kernel_arguments():
    """ipykernel command-line arguments that install the hook at kernel start (its code runs in a
    namespace of its own: nothing is added to the notebook's variables)."""
    code = inspect.getsource(install) + "\ninstall(get_ipython())\n"
    line = "exec(%r, {'get_ipython': get_ipython})" % code
    return ["--IPKernelApp.exec_lines=%s" % json.dumps([line])]


def environment(parameters):
    """{ENV: JSON} for a dict of overrides (values must be JSON: numbers, strings, lists, ...)."""
    for name in parameters:
        if not str(name).isidentifier():
            raise ValueError("parameter name %r is not a Python identifier" % (name,))
    return {ENV: json.dumps(parameters)}
