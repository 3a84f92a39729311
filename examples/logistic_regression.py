"""Logistic regression as a one-neuron network, trained by gradient descent and gradient-checked.

    z = X w + b,   a = sigmoid(z),   J = -mean(y log a + (1 - y) log(1 - a))

The loss is computed from the logits z (log(1 + e^z) - y z), which never takes the log of 0.
Before training, `autodiff.gradcheck` compares backward with central differences in float64;
the report is explained at the end.

Run: python examples/logistic_regression.py
"""

import numpy as np

import autodiff as ad
from autodiff.data import load_digits


def bce_from_logits(z, y):
    """Mean binary cross-entropy from logits z (N,) and labels y (N,) in {0, 1}, stably:
    max(z, 0) - z y + log(1 + e^-|z|)."""
    return (z.relu() - z * y + (1 + (-z.abs()).exp()).log()).mean()


def main():
    # the digits 0 and 1 from the embedded handwritten digits, as 64 features each
    X, labels = load_digits(as_images=False)
    keep = labels < 2
    X, y = ad.tensor(X[keep]), ad.tensor(labels[keep].astype(np.float32))
    n, d = X.shape
    print(f"logistic regression: {n} images of 0 and 1, {d} features each")

    w = ad.zeros(d, requires_grad=True)  # zeros are fine here: one neuron has no symmetry
    b = ad.zeros((), requires_grad=True)

    def loss(w, b):
        return bce_from_logits(X @ w + b, y)

    report = ad.gradcheck(loss, [ad.randn(d, requires_grad=True, generator=0), b])
    print(report)

    lr = 0.5
    for step in range(101):
        J = loss(w, b)
        w.grad = b.grad = None
        J.backward()
        with ad.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        if step % 25 == 0:
            accuracy = (((X @ w + b).data > 0) == (y.data == 1)).mean()
            print(f"  step {step:3d}: loss {J.item():.4f}, training accuracy {accuracy:.1%}")

    print(
        "\nReading the gradcheck report: for each input it gives the relative difference\n"
        "  ||g_num - g|| / (||g_num|| + ||g||)\n"
        "between the numerical gradient (central differences, float64) and backward's.\n"
        "Below 1e-7 the gradient is correct; 1e-7 to 1e-5, look closer; 1e-5 to 1e-3,\n"
        "suspicious; above 1e-3, a bug. The worst elements show where they disagree most\n"
        "(position, numerical value, analytical value): a bug usually shows as a pattern there."
    )


if __name__ == "__main__":
    main()
