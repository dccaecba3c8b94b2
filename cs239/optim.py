"""First-order update rules for training neural networks.

Every rule has the interface

    next_w, config = rule(w, dw, config=None)

- w: A numpy array giving the current weights.
- dw: A numpy array of the same shape as w giving the gradient of the loss with respect to w.
- config: A dictionary of hyperparameters (learning rate, momentum, ...) and of the state the
  rule keeps between steps (e.g. a velocity). The rule fills in missing defaults, and writes its
  updated state back into config so that the next call continues from it.

Returns next_w, the updated weights (a new array of w's shape and dtype), and config.
Rules never modify w or dw in place.
"""
import numpy as np


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent (provided).

    config format:
    - learning_rate: Scalar learning rate (default 1e-2).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with momentum.

    v = momentum * v - learning_rate * dw;  next_w = w + v

    config format:
    - learning_rate: Scalar learning rate (default 1e-2).
    - momentum: Scalar between 0 and 1 giving the momentum value (default 0.9);
      momentum = 0 reduces to sgd.
    - velocity: A numpy array of the same shape as w and dw, a moving average of the
      gradients (starts at zeros).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity")
    if v is None:
        v = np.zeros_like(w)
    next_w = None
    # TODO: Implement the momentum update. Store the updated weights in next_w and the
    # updated velocity in config["velocity"].
    ### BEGIN SOLUTION
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    config["velocity"] = v
    ### END SOLUTION
    return next_w, config


def rmsprop(w, dw, config=None):
    """RMSProp: per-parameter learning rates from a moving average of squared gradients.

    cache = decay_rate * cache + (1 - decay_rate) * dw**2
    next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)

    config format:
    - learning_rate: Scalar learning rate (default 1e-2).
    - decay_rate: Scalar between 0 and 1 giving the decay rate of the squared gradient
      cache (default 0.99).
    - epsilon: Small scalar used for smoothing to avoid dividing by zero (default 1e-8).
    - cache: Moving average of second moments of gradients, shaped like w (starts at zeros).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    if "cache" not in config:  # allocate the state once, not on every call
        config["cache"] = np.zeros_like(w)
    next_w = None
    # TODO: Implement the RMSProp update. Store the updated weights in next_w and the
    # updated moving average in config["cache"].
    ### BEGIN SOLUTION
    cache = config["decay_rate"] * config["cache"] + (1 - config["decay_rate"]) * dw**2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    config["cache"] = cache
    ### END SOLUTION
    return next_w, config


def adam(w, dw, config=None):
    """Adam: moving averages of the gradient and its square, with bias correction.

    t = t + 1
    m = beta1 * m + (1 - beta1) * dw;      mt = m / (1 - beta1**t)
    v = beta2 * v + (1 - beta2) * dw**2;   vt = v / (1 - beta2**t)
    next_w = w - learning_rate * mt / (sqrt(vt) + epsilon)

    config format:
    - learning_rate: Scalar learning rate (default 1e-3).
    - beta1: Decay rate of the moving average of the first moment (default 0.9).
    - beta2: Decay rate of the moving average of the second moment (default 0.999).
    - epsilon: Small scalar used for smoothing to avoid dividing by zero (default 1e-8).
    - m: Moving average of the gradient, shaped like w (starts at zeros).
    - v: Moving average of the squared gradient, shaped like w (starts at zeros).
    - t: Iteration number (starts at 0, incremented before it is used).
    The bias-corrected moments are not stored back into config: m and v stay uncorrected.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    if "m" not in config:  # allocate the state once, not on every call
        config["m"] = np.zeros_like(w)
    if "v" not in config:
        config["v"] = np.zeros_like(w)
    config.setdefault("t", 0)
    next_w = None
    # TODO: Implement the Adam update. Store the updated weights in next_w and the updated
    # m, v and t in config.
    ### BEGIN SOLUTION
    beta1, beta2 = config["beta1"], config["beta2"]
    t = config["t"] + 1
    m = beta1 * config["m"] + (1 - beta1) * dw
    v = beta2 * config["v"] + (1 - beta2) * dw**2
    mt = m / (1 - beta1**t)
    vt = v / (1 - beta2**t)
    next_w = w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"])
    config.update(m=m, v=v, t=t)
    ### END SOLUTION
    return next_w, config
