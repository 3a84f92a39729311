"""Pictures of the computation graph: its DOT text, and the picture rendered through graphviz.

    a, b, c = (ad.tensor(v, requires_grad=True) for v in (5.0, 3.0, 2.0))
    J = 3 * (a + b * c)
    J.backward()
    viz.draw_graph(J, "graph.svg", params=dict(a=a, b=b, c=c))  # or viz.to_dot(J, ...)

The picture reads from left to right in the direction of the forward pass. Tensors are boxes
(name, shape, dtype, and value and gradient when small): the inputs that require grad blue, the
outputs green. Ops are ellipses named after their op class (Mul, Add, Conv2d). The graph itself
knows a tensor inside it only by shape and dtype (its edges record them); values are known for
the outputs, the leaves, the tensors named in `params` and those that called `retain_grad()`,
gradients for the leaves and the tensors that called `retain_grad()`. An op whose saved
arrays the first backward freed is dashed and grey: a second backward through it would fail
(`retain_graph=True` keeps them). Inputs that do not require grad, and Python constants, are
not part of the graph and are not drawn.

Large models stay readable when each module call down to a nesting depth is one box, as in
torchview: `trace_modules` records which call created each node during a forward pass.

    with viz.trace_modules(model) as trace:
        out = model(x)
    viz.draw_graph(out, "model.svg", modules=trace, depth=1)

`trace_modules` needs of the model only `named_modules`, `named_parameters` and forward hooks,
so autodiff does not import nn. Rendering needs the `graphviz` package and graphviz's `dot`
program (`pip install graphviz` and `apt-get install graphviz` or `brew install graphviz`);
`to_dot` needs neither.
"""

from autodiff.viz.dot import SMALL, to_dot
from autodiff.viz.render import draw_graph
from autodiff.viz.trace import trace_modules

__all__ = ["SMALL", "draw_graph", "to_dot", "trace_modules"]
