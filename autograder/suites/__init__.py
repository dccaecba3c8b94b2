"""Hidden pytest suites of the cs239 autograder (never released to students).

One module per graded area. Each test is marked
``@pytest.mark.graded("<graded name>: <what is checked>", points=N)`` and earns its points when
it passes. Tests talk to the submission only through the ``student`` fixture (plain data across
a process boundary) and compute expected values with the reference package (``ref``) on the
trusted side. See README.md here (for instructors) and _checks.py (comparison helpers).
"""

# Ordered graded names: the columns of grades.csv (grader-core reads this list).
GRADED_NAMES = [
    "affine_forward",
    "affine_backward",
    "relu_forward",
    "relu_backward",
    "softmax_loss",
    "svm_loss",
    "sgd_momentum",
    "rmsprop",
    "adam",
    "TwoLayerNet.loss",
    "TwoLayerNet.predict",
    "TwoLayerNet.train",
    "FullyConnectedNet.__init__",
    "FullyConnectedNet.loss",
    "swish_forward",
    "swish_backward",
    "autoencoder_grad",
    "gplvm_logdet_grad",
    "gplvm_trace_grad",
    "gplvm_grad",
    "best_model",
    "FullyConnectedNets.ipynb",   # the notebook's own work (test_notebook_work.py)
]
