"""A fully-connected network of any depth, built from the layers in cs239.layers."""
import numpy as np

from ..layer_utils import ACTIVATIONS, affine_act_backward, affine_act_forward
from ..layers import affine_backward, affine_forward, softmax_loss


class FullyConnectedNet:
    """A fully-connected neural network with any number of hidden layers.

    For a network with L layers the architecture is

        {affine - activation} x (L - 1) - affine - softmax

    where the activation is a ReLU (default) or Swish. Learnable parameters are stored in
    self.params, with the keys W1, b1 for the first layer, W2, b2 for the second, and so on.
    The loss adds 0.5 * reg * sum(W**2) for every weight matrix (biases are not regularized).
    """

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, reg=0.0,
                 weight_scale=1e-2, dtype=np.float32, seed=None, activation="relu"):
        """Initialize a new FullyConnectedNet.

        Inputs:
        - hidden_dims: A list of integers giving the size of each hidden layer.
        - input_dim: An integer giving the size of the input.
        - num_classes: An integer giving the number of classes to classify.
        - reg: Scalar giving L2 regularization strength.
        - weight_scale: Scalar giving the standard deviation for random initialization of
          the weights.
        - dtype: A numpy datatype object; all computations use this datatype. float32 is
          faster but less accurate; use float64 for numeric gradient checking.
        - seed: If not None, seed numpy's global random generator with it first, so that
          the initialization is reproducible.
        - activation: "relu" or "swish", the nonlinearity after every hidden affine layer.

        self.params holds, for i = 1 .. L (L = len(hidden_dims) + 1):
        - Wi: weights of layer i, of shape (dims[i-1], dims[i]), where
          dims = [input_dim, *hidden_dims, num_classes]; drawn as weight_scale * randn.
        - bi: biases of layer i, of shape (dims[i],); zeros.
        All parameters have the given dtype.
        """
        if activation not in ACTIVATIONS:
            raise ValueError("activation must be one of %s, not %r"
                             % (sorted(ACTIVATIONS), activation))
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.activation = activation
        self.params = {}
        if seed is not None:
            np.random.seed(seed)

        # TODO: Initialize the parameters of the network, storing all values in self.params:
        # weights Wi from a normal distribution centered at 0 with standard deviation
        # weight_scale, biases bi as zeros.
        # YOUR CODE HERE
        raise NotImplementedError(
            "FullyConnectedNet.__init__ in cs239/classifiers/fc_net.py is not implemented yet; "
            "it is asked for in FullyConnectedNets.ipynb, section 'Two-layer network'.")

        # Cast all parameters to the correct datatype.
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """Compute loss and gradient for the fully-connected net.

        Inputs:
        - X: Array of input data, of shape (N, d_1, ..., d_k)
        - y: Array of labels, of shape (N,); y[i] gives the label for X[i].

        Returns:
        If y is None, run a test-time forward pass and return:
        - scores: Array of shape (N, C) giving classification scores, where scores[i, c] is
          the score for class c on input X[i].

        If y is not None, run a training-time forward and backward pass and return a tuple of:
        - loss: Scalar value giving the loss (data loss plus regularization loss)
        - grads: Dictionary with the same keys as self.params, mapping parameter names to
          gradients of the loss with respect to those parameters, of the same shapes.
        """
        X = X.astype(self.dtype, copy=False)
        scores = None
        # TODO: Implement the forward pass, computing the class scores for X and storing them
        # in scores. Use affine_act_forward(x, w, b, self.activation) for the hidden layers
        # and affine_forward for the last one, and keep every cache for the backward pass.
        # YOUR CODE HERE
        raise NotImplementedError(
            "FullyConnectedNet.loss in cs239/classifiers/fc_net.py is not implemented yet; "
            "it is asked for in FullyConnectedNets.ipynb, section 'Two-layer network'.")

        if y is None:
            return scores

        loss, grads = 0.0, {}
        # TODO: Implement the backward pass. Compute the loss with softmax_loss, add
        # 0.5 * self.reg * sum(W**2) for every weight matrix, and store the gradient of every
        # parameter in grads (regularization included).
        # YOUR CODE HERE
        raise NotImplementedError(
            "FullyConnectedNet.loss in cs239/classifiers/fc_net.py is not implemented yet; "
            "it is asked for in FullyConnectedNets.ipynb, section 'Two-layer network'.")

        return loss, grads
