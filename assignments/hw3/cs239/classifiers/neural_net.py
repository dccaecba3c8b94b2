"""A two-layer fully-connected network, written directly in numpy (no layer library)."""
import numpy as np


class TwoLayerNet:
    """A two-layer fully-connected neural network.

    Input dimension D, hidden layer dimension H, C classes. The network is

        input - fully connected - ReLU - fully connected - softmax

    trained with a softmax loss and L2 regularization 0.5 * reg * (sum(W1**2) + sum(W2**2))
    on the weight matrices (biases are not regularized). The outputs of the second
    fully-connected layer are the scores for each class.
    """

    def __init__(self, input_size, hidden_size, output_size, std=1e-4, dtype=np.float32):
        """Initialize the model. Weights are small random values, biases are zero.

        self.params holds:
        - W1: First layer weights, of shape (D, H)
        - b1: First layer biases, of shape (H,)
        - W2: Second layer weights, of shape (H, C)
        - b2: Second layer biases, of shape (C,)

        Inputs:
        - input_size: The dimension D of the input data.
        - hidden_size: The number of neurons H in the hidden layer.
        - output_size: The number of classes C.
        - std: Standard deviation of the initial weights.
        - dtype: The datatype of the parameters. float32 (the default) matches the CIFAR-10
          data and is about twice as fast; use float64 for numeric gradient checking.
        """
        self.params = {
            "W1": (std * np.random.randn(input_size, hidden_size)).astype(dtype),
            "b1": np.zeros(hidden_size, dtype=dtype),
            "W2": (std * np.random.randn(hidden_size, output_size)).astype(dtype),
            "b2": np.zeros(output_size, dtype=dtype),
        }

    def loss(self, X, y=None, reg=0.0):
        """Compute the loss and gradients of the network.

        Inputs:
        - X: Input data, of shape (N, D). Each X[i] is a training sample.
        - y: Vector of training labels, of shape (N,); y[i] is the label of X[i], an integer
          in 0 <= y[i] < C. Optional: if it is not given, only the scores are returned.
        - reg: Regularization strength.

        Returns:
        If y is None, the matrix of scores, of shape (N, C), where scores[i, c] is the score
        for class c on input X[i].

        If y is not None, a tuple of:
        - loss: Loss (data loss averaged over the N samples, plus regularization loss).
        - grads: Dictionary mapping parameter names to gradients of the loss with respect to
          those parameters; each gradient has the shape of its parameter in self.params.
        """
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        N = X.shape[0]

        scores = None
        # TODO: Perform the forward pass, computing the class scores for the input. Store the
        # result in scores, of shape (N, C). Do not apply a ReLU to the scores.
        # YOUR CODE HERE
        raise NotImplementedError(
            "TwoLayerNet.loss in cs239/classifiers/neural_net.py is not implemented yet; "
            "it is asked for in TwoLayerNet.ipynb, section 'Forward pass: compute scores'.")

        if y is None:
            return scores

        loss = None
        # TODO: Finish the forward pass and compute the loss: the softmax data loss averaged
        # over the N samples plus 0.5 * reg * (sum(W1**2) + sum(W2**2)). Store it in loss.
        # YOUR CODE HERE
        raise NotImplementedError(
            "TwoLayerNet.loss in cs239/classifiers/neural_net.py is not implemented yet; "
            "it is asked for in TwoLayerNet.ipynb, section 'Forward pass: compute loss'.")

        grads = {}
        # TODO: Compute the backward pass: the derivatives of loss with respect to W1, b1,
        # W2 and b2, stored in grads["W1"] and so on, with the regularization terms included.
        # YOUR CODE HERE
        raise NotImplementedError(
            "TwoLayerNet.loss in cs239/classifiers/neural_net.py is not implemented yet; "
            "it is asked for in TwoLayerNet.ipynb, section 'Backward pass'.")

        return loss, grads

    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
              reg=5e-6, num_iters=100, batch_size=200, verbose=False):
        """Train this network with stochastic gradient descent.

        Inputs:
        - X: Training data, of shape (N, D).
        - y: Training labels, of shape (N,); y[i] = c means X[i] has label c, 0 <= c < C.
        - X_val: Validation data, of shape (N_val, D).
        - y_val: Validation labels, of shape (N_val,).
        - learning_rate: Scalar giving the learning rate for the optimization.
        - learning_rate_decay: Scalar giving the factor by which the learning rate is
          multiplied after each epoch.
        - reg: Scalar giving the regularization strength, passed on to self.loss.
        - num_iters: Number of steps to take when optimizing.
        - batch_size: Number of training examples in each minibatch, drawn at random with
          replacement (as in CS231n), so it may exceed the number of training examples.
        - verbose: If true, print progress during optimization.

        Returns a dictionary with:
        - loss_history: list of num_iters minibatch losses, one per iteration.
        - train_acc_history: list of the accuracies on the current minibatch, one at the end
          of each epoch.
        - val_acc_history: list of the validation accuracies, one at the end of each epoch.
        """
        num_train = X.shape[0]
        iterations_per_epoch = max(num_train // batch_size, 1)

        loss_history = []
        train_acc_history = []
        val_acc_history = []

        for it in range(num_iters):
            X_batch, y_batch = None, None
            # TODO: Sample a minibatch of batch_size training examples and their labels,
            # stored in X_batch, of shape (batch_size, D), and y_batch, of shape
            # (batch_size,): draw batch_size indices WITH replacement (batch_size may be
            # larger than num_train). Hint: np.random.choice(num_train, batch_size).
            # YOUR CODE HERE
            raise NotImplementedError(
                "TwoLayerNet.train in cs239/classifiers/neural_net.py is not implemented yet; "
                "it is asked for in TwoLayerNet.ipynb, section 'Train the network'.")

            loss, grads = self.loss(X_batch, y=y_batch, reg=reg)
            loss_history.append(loss)

            # TODO: Update every parameter in self.params with a step of vanilla gradient
            # descent, using the gradients in grads and the current learning_rate.
            # YOUR CODE HERE
            raise NotImplementedError(
                "TwoLayerNet.train in cs239/classifiers/neural_net.py is not implemented yet; "
                "it is asked for in TwoLayerNet.ipynb, section 'Train the network'.")

            if verbose and it % 100 == 0:
                print("iteration %d / %d: loss %f" % (it, num_iters, loss))

            # At the end of every epoch: check accuracies, then decay the learning rate.
            if (it + 1) % iterations_per_epoch == 0:
                train_acc_history.append(float((self.predict(X_batch) == y_batch).mean()))
                val_acc_history.append(float((self.predict(X_val) == y_val).mean()))
                learning_rate *= learning_rate_decay

        return {
            "loss_history": loss_history,
            "train_acc_history": train_acc_history,
            "val_acc_history": val_acc_history,
        }

    def predict(self, X):
        """Predict labels for data points with the trained weights of this network.

        Inputs:
        - X: A numpy array of shape (N, D) giving N D-dimensional data points to classify.

        Returns:
        - y_pred: A numpy array of shape (N,) giving predicted labels for each of the
          elements of X; y_pred[i] = c means that X[i] is predicted to have class c,
          0 <= c < C.
        """
        y_pred = None
        # TODO: Implement this function; it should be VERY simple!
        # YOUR CODE HERE
        raise NotImplementedError(
            "TwoLayerNet.predict in cs239/classifiers/neural_net.py is not implemented yet; "
            "it is asked for in TwoLayerNet.ipynb, section 'Train the network'.")
        return y_pred
