"""The course's first computation graph, J = 3(a + bc), built and differentiated.

    u = b * c      v = a + u      J = 3 * v

Backward applies the chain rule from J down: dJ/dv = 3, dJ/da = dJ/dv * 1 = 3,
dJ/du = 3, dJ/db = dJ/du * c = 6, dJ/dc = dJ/du * b = 9.

Run: python examples/computation_graph.py
"""

import autodiff as ad


def main():
    a = ad.tensor(5.0, requires_grad=True)
    b = ad.tensor(3.0, requires_grad=True)
    c = ad.tensor(2.0, requires_grad=True)

    u = b * c
    v = a + u
    J = 3 * v
    u.retain_grad()  # intermediate tensors keep .grad only when asked
    v.retain_grad()
    J.backward()

    print("J = 3(a + bc) with a=5, b=3, c=2")
    print(f"  forward:  u = bc = {u.item():g}, v = a + u = {v.item():g}, J = 3v = {J.item():g}")
    print(f"  backward: dJ/dv = {v.grad.item():g}, dJ/du = {u.grad.item():g}")
    print(
        f"            dJ/da = {a.grad.item():g}, dJ/db = {b.grad.item():g}, "
        f"dJ/dc = {c.grad.item():g}"
    )
    print(f"  the graph: J.grad_fn = {J.grad_fn!r} <- {v.grad_fn!r} <- {u.grad_fn!r}")


if __name__ == "__main__":
    main()
