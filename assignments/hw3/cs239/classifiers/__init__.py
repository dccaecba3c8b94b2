"""The homework's classifiers: a two-layer network and a general fully-connected network."""
from .fc_net import FullyConnectedNet
from .neural_net import TwoLayerNet

__all__ = ["FullyConnectedNet", "TwoLayerNet"]
