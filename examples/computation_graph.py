"""The course's first computation graph, J = 3(a + bc), built, differentiated and drawn.

    u = b * c      v = a + u      J = 3 * v

Backward applies the chain rule from J down: dJ/dv = 3, dJ/da = dJ/dv * 1 = 3,
dJ/du = 3, dJ/db = dJ/du * c = 6, dJ/dc = dJ/du * b = 9.

The picture shows each tensor's forward value and its gradient, left to right. It is an SVG
when the graphviz package and its `dot` program are installed (`pip install graphviz`, and
`apt-get install graphviz` or `brew install graphviz`), and otherwise the DOT text (.dot).

Run: python examples/computation_graph.py [output path, default computation_graph.svg]
"""

import sys

import autodiff as ad
from autodiff import viz


def main(path="computation_graph.svg"):
    a = ad.tensor(5.0, requires_grad=True)
    b = ad.tensor(3.0, requires_grad=True)
    c = ad.tensor(2.0, requires_grad=True)

    u = b * c
    v = a + u
    J = 3 * v
    for t in (u, v, J):
        t.retain_grad()  # intermediate tensors keep .grad only when asked
    # retain_graph: the picture then shows no op whose saved arrays were freed (drawn dashed)
    J.backward(retain_graph=True)

    print("J = 3(a + bc) with a=5, b=3, c=2")
    print(f"  forward:  u = bc = {u.item():g}, v = a + u = {v.item():g}, J = 3v = {J.item():g}")
    print(f"  backward: dJ/dv = {v.grad.item():g}, dJ/du = {u.grad.item():g}")
    print(
        f"            dJ/da = {a.grad.item():g}, dJ/db = {b.grad.item():g}, "
        f"dJ/dc = {c.grad.item():g}"
    )
    print(f"  the graph: J.grad_fn = {J.grad_fn!r} <- {v.grad_fn!r} <- {u.grad_fn!r}")

    written = viz.draw_graph(J, path, params=dict(a=a, b=b, c=c, u=u, v=v, J=J))
    print(f"  picture:  {written}")
    return written


if __name__ == "__main__":
    main(*sys.argv[1:2])
