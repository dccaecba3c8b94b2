"""The assignment manifest: the one list of what this homework is made of.

Everything that needs to know the notebooks, the saved models or the graded functions reads them
here: stubbing and the release (`tools/`), the self-check and the submission tool (`cs239/tools/`),
the demo, the hidden suites' graded names and the grader's submission layout (`autograder/`).
It ships to students (the self-check and the submission tool need it), so it holds nothing secret:
names, files, notebook sections, points and the name of each function's public check. It is plain
Python data, readable on every Python the kit supports (3.10 on) with no dependency.

Adding a graded function: one entry in FUNCTIONS, its code inside solution markers in the file it
names, a public check of that name in `cs239/tools/public_checks.py`, hidden tests named
"<name>: ..." in `autograder/suites/` whose points add up to the entry's points, and mutants in
`tests/corpus/`; `tests/test_manifest.py` and `tests/test_mutants.py` fail until all of them
exist.
"""
from collections import namedtuple

# The assignment's name: source/<NAME>/ holds its master notebooks, assignments/<NAME>/ its
# release; nbgrader, the submission zip and the PDF are named after it.
NAME = "hw3"
TITLE = "Homework 3: backpropagation"

# The notebooks, in the order students work through them.
NOTEBOOKS = ("TwoLayerNet.ipynb", "FullyConnectedNets.ipynb", "Backprop.ipynb")

# Saved models a submission must hold: file -> the notebook whose last cells write it.
MODELS = {
    "two_layer_net_best.npz": "TwoLayerNet.ipynb",
    "fc_net_best.npz": "FullyConnectedNets.ipynb",
}
# Seconds each notebook takes to run top to bottom at the homework's sizes on CIFAR-10 (2 cores;
# README "Benchmarks"): the self-check's estimate of `nbgrader validate` when the saved notebook
# has no run times of its own.
RUN_SECONDS = {"TwoLayerNet.ipynb": 190, "FullyConnectedNets.ipynb": 280, "Backprop.ipynb": 10}
MODELS_GRADED_AS = "best_model"    # the hidden suites' graded name for the saved models
MODELS_POINTS = 10
# Notebook work the hidden suites re-run on the trusted side (autograder/suites/
# test_notebook_work.py): notebook -> points. Its graded name is the notebook's; the notebooks'
# own test cells carry no points (README: the point split).
NOTEBOOK_WORK = {"FullyConnectedNets.ipynb": 4}

SUBMISSION_ZIP = NAME + "_submission.zip"
NOTEBOOKS_PDF = NAME + "_notebooks.pdf"

# A graded function: its qualified name (also its graded name in the hidden suites and the column
# of grades.csv), the file that holds it, the notebook and section asking for it (a heading of that
# notebook, or "Heading > Subheading" when one heading alone is ambiguous; a tuple gives one
# section per solution region of the function, in file order), the points of its hidden tests,
# and its public check in cs239/tools/public_checks.py.
Graded = namedtuple("Graded", "name file notebook section points check")

_NN = "cs239/classifiers/neural_net.py"
_FC = "cs239/classifiers/fc_net.py"
_LAYERS = "cs239/layers.py"
_OPTIM = "cs239/optim.py"
_DERIV = "cs239/derivations.py"
_2L, _FCN, _BP = NOTEBOOKS

FUNCTIONS = (
    Graded("TwoLayerNet.loss", _NN, _2L, ("Forward pass: compute scores",
                                          "Forward pass: compute loss", "Backward pass"),
           8, "check_two_layer_loss"),
    Graded("TwoLayerNet.train", _NN, _2L, "Train the network", 9, "check_two_layer_train"),
    Graded("TwoLayerNet.predict", _NN, _2L, "Train the network", 2, "check_two_layer_predict"),
    Graded("affine_forward", _LAYERS, _FCN, "Affine layer: forward", 4, "check_affine_forward"),
    Graded("affine_backward", _LAYERS, _FCN, "Affine layer: backward", 6,
           "check_affine_backward"),
    Graded("relu_forward", _LAYERS, _FCN, "ReLU activation: forward", 3, "check_relu_forward"),
    Graded("relu_backward", _LAYERS, _FCN, "ReLU activation: backward", 3,
           "check_relu_backward"),
    # Swish is asked for (and first tested) in the FC notebook; Backprop.ipynb checks it again.
    Graded("swish_forward", _LAYERS, _FCN, "Swish activation", 3, "check_swish_forward"),
    Graded("swish_backward", _LAYERS, _FCN, "Swish activation", 3, "check_swish_backward"),
    Graded("softmax_loss", _LAYERS, _FCN, "Loss layers: Softmax and SVM", 6,
           "check_softmax_loss"),
    Graded("svm_loss", _LAYERS, _FCN, "Loss layers: Softmax and SVM", 5, "check_svm_loss"),
    Graded("FullyConnectedNet.__init__", _FC, _FCN, "Two-layer network", 5, "check_fc_init"),
    Graded("FullyConnectedNet.loss", _FC, _FCN, "Two-layer network", 10, "check_fc_loss"),
    Graded("sgd_momentum", _OPTIM, _FCN, "SGD+Momentum", 4, "check_sgd_momentum"),
    Graded("rmsprop", _OPTIM, _FCN, "RMSProp and Adam", 4, "check_rmsprop"),
    Graded("adam", _OPTIM, _FCN, "RMSProp and Adam", 5, "check_adam"),
    Graded("autoencoder_grad", _DERIV, _BP, "Problem 1: linear autoencoder > (d) Code it", 4,
           "check_autoencoder_grad"),
    Graded("autoencoder_grad_batch", _DERIV, _BP,
           "Problem 1: linear autoencoder > The batch version", 2,
           "check_autoencoder_grad_batch"),
    Graded("gplvm_logdet_grad", _DERIV, _BP, "Problem 2: GP-LVM > (c) Code it", 5,
           "check_gplvm_logdet_grad"),
    Graded("gplvm_trace_grad", _DERIV, _BP, "Problem 2: GP-LVM > (c) Code it", 5,
           "check_gplvm_trace_grad"),
    Graded("gplvm_grad", _DERIV, _BP, "Problem 2: GP-LVM > (c) Code it", 4, "check_gplvm_grad"),
)


# Graded functions that call other graded functions (or whose checks build on them): when the
# check of one fails while one it uses fails its own check, the self-check blames that one.
USES = {
    "TwoLayerNet.train": ("TwoLayerNet.loss", "TwoLayerNet.predict"),
    "TwoLayerNet.predict": ("TwoLayerNet.loss",),
    "FullyConnectedNet.loss": ("FullyConnectedNet.__init__", "affine_forward", "affine_backward",
                               "relu_forward", "relu_backward", "swish_forward",
                               "swish_backward", "softmax_loss"),
    "swish_backward": ("swish_forward",),
    "gplvm_grad": ("gplvm_logdet_grad", "gplvm_trace_grad"),
}

# ------------------------------------------------------------------------------------------------
# Derived views (no data below this line)

def function(name):
    """The Graded entry called name; KeyError naming the known ones otherwise."""
    for f in FUNCTIONS:
        if f.name == name:
            return f
    raise KeyError("%r is not a graded function of %s (known: %s)"
                   % (name, NAME, ", ".join(f.name for f in FUNCTIONS)))


def graded_names():
    """Every graded name, in homework order: the functions, the saved models, the notebook work."""
    return [f.name for f in FUNCTIONS] + [MODELS_GRADED_AS] + list(NOTEBOOK_WORK)


def student_files():
    """The package files students edit, in homework order."""
    return list(dict.fromkeys(f.file for f in FUNCTIONS))


def sections(name, regions=1):
    """[(notebook, section)] for each of the first `regions` solution regions of function name
    (a single section serves every region; a tuple names one per region, the last repeating)."""
    f = function(name)
    secs = f.section if isinstance(f.section, tuple) else (f.section,)
    return [(f.notebook, secs[min(i, len(secs) - 1)]) for i in range(max(regions, 1))]
