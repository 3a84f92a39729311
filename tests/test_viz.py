"""autodiff.viz: the DOT text of recorded graphs, module boxes, and rendering through graphviz."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff import viz
from autodiff.function import recording

ROOT = Path(__file__).resolve().parents[1]


def parse(dot: str):
    """(vertices: id -> attributes with the label unescaped, edges: [(from, to)])."""
    vertices = {}
    for name, attrs in re.findall(r"^  (\w+) \[(.*)\];$", dot, re.M):
        if name in ("graph", "node"):
            continue
        found = dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|[\w.]+)', attrs))
        found = {k: v[1:-1] if v.startswith('"') else v for k, v in found.items()}
        found["label"] = found["label"].replace("\\n", "\n").replace('\\"', '"')
        vertices[name] = found
    edges = re.findall(r"^  (\w+) -> (\w+);$", dot, re.M)
    return vertices, edges


def ops(vertices):
    return {k: v for k, v in vertices.items() if k.startswith("op")}


def tensors(vertices):
    return {k: v for k, v in vertices.items() if re.fullmatch(r"t\d+", k)}


def boxes(vertices):
    return {k: v for k, v in vertices.items() if re.fullmatch(r"m\d+", k)}


def by_name(vertices):
    """Tensor vertices by the name on their label's first line."""
    return {v["label"].split("\n")[0]: k for k, v in tensors(vertices).items()}


def course_graph(retain_graph=False):
    a, b, c = (ad.tensor(v, requires_grad=True) for v in (5.0, 3.0, 2.0))
    u = b * c
    v = a + u
    J = 3 * v
    J.backward(retain_graph=retain_graph)
    return J, dict(a=a, b=b, c=c, u=u, v=v, J=J)


def test_structure_of_the_course_graph():
    J, named = course_graph()
    vertices, edges = parse(viz.to_dot(J, params=named))
    assert [v["label"] for v in ops(vertices).values()] == ["Mul", "Add", "Mul"]
    assert len(tensors(vertices)) == 6  # a, b, c, u, v, J: the constant 3 is not a tensor
    assert len(edges) == 8  # b, c -> Mul -> u; a, u -> Add -> v; v -> Mul -> J
    t = by_name(vertices)
    mul, add, times3 = ops(vertices)
    assert {(t["b"], mul), (t["c"], mul), (mul, t["u"]), (t["u"], add), (t["a"], add)} < set(edges)
    assert {(add, t["v"]), (t["v"], times3), (times3, t["J"])} < set(edges)
    assert vertices[t["J"]]["fillcolor"] == "darkolivegreen1"  # the output
    assert {vertices[t[n]]["fillcolor"] for n in "abc"} == {"lightblue"}  # leaves needing grad
    assert vertices[t["u"]]["fillcolor"] == "white"


def test_labels_show_shape_and_dtype():
    x = ad.randn(2, 3, dtype=ad.float64, requires_grad=True)
    w = ad.randn(3, 4, dtype=ad.float64, requires_grad=True)
    vertices, _ = parse(viz.to_dot((x @ w).relu()))
    labels = [v["label"].split("\n")[0] for v in tensors(vertices).values()]
    assert labels == ["(2, 3) float64", "(3, 4) float64", "(2, 4) float64", "(2, 4) float64"]
    assert [v["label"] for v in ops(vertices).values()] == ["MatMul", "ReLU"]
    s = ad.tensor(1.0, requires_grad=True) * 2
    assert "scalar float32" in viz.to_dot(s)


def test_op_names_are_the_op_classes():
    x = ad.randn(1, 1, 5, 5, requires_grad=True)
    y = nn.Conv2d(1, 2, 3)(x).relu().sum()
    vertices, _ = parse(viz.to_dot(y))
    names = [v["label"] for v in ops(vertices).values()]
    assert names[0] == "Conv2d" and names[-1] == "Sum"
    assert [n.name for n in ad.engine.graph_nodes([y.grad_fn])] == names


def test_params_name_the_parameters():
    model = nn.Linear(3, 2)
    loss = model(ad.randn(4, 3)).sum()
    vertices, _ = parse(viz.to_dot(loss, params=dict(model.named_parameters())))
    names = by_name(vertices)
    assert {"weight", "bias"} < set(names)
    assert vertices[names["weight"]]["label"].split("\n")[1] == "(2, 3) float32"
    unnamed, _ = parse(viz.to_dot(loss))
    assert not {"weight", "bias"} & set(by_name(unnamed))
    # (name, tensor) pairs work as well as a dict
    assert viz.to_dot(loss, params=model.named_parameters()) == viz.to_dot(
        loss, params=dict(model.named_parameters())
    )


def test_values_and_gradients_of_small_tensors():
    J, named = course_graph()
    vertices, _ = parse(viz.to_dot(J, params=named))
    t = by_name(vertices)
    label = vertices[t["b"]]["label"].split("\n")
    assert label == ["b", "scalar float32", "value 3", "grad 6"]
    assert "value 6" in vertices[t["u"]]["label"]  # named non-leaf: its value is known
    assert "grad" not in vertices[t["u"]]["label"]  # no retain_grad: no gradient
    hidden, _ = parse(viz.to_dot(J, params=named, show_values=False, show_grads=False))
    assert all(
        "value" not in v["label"] and "grad" not in v["label"] for v in tensors(hidden).values()
    )
    only_grads, _ = parse(viz.to_dot(J, params=named, show_values=False))
    assert vertices[t["c"]]["label"].endswith("grad 9")
    assert only_grads[t["c"]]["label"] == "c\nscalar float32\ngrad 9"


def test_large_tensors_show_values_only_when_asked():
    small = ad.arange(viz.SMALL, dtype=ad.float32).requires_grad_()
    large = ad.arange(viz.SMALL + 1, dtype=ad.float32).requires_grad_()
    (small.sum() + large.sum()).backward()
    out = small * 1.0
    default, _ = parse(viz.to_dot([out, large]))
    labels = [v["label"] for v in tensors(default).values()]
    assert labels[0].startswith(f"({viz.SMALL},) float32\nvalue [0, 1, 2")
    assert "grad [1, 1" in labels[0]
    large_label = next(label for label in labels if f"({viz.SMALL + 1},)" in label)
    assert "value" not in large_label and "grad" not in large_label
    forced, _ = parse(viz.to_dot(large, show_values=True, show_grads=True))
    (label,) = [v["label"] for v in tensors(forced).values()]
    assert "value [0, 1, ..., 15, 16]" in label and "grad [1, 1, ..., 1, 1]" in label


def test_retained_intermediates_show_their_gradient():
    a = ad.tensor(2.0, requires_grad=True)
    h = a * a
    h.retain_grad()
    (h * 3).backward()
    vertices, _ = parse(viz.to_dot(h * 3))  # a new output; h's node is the same
    (h_id,) = [k for k, v in tensors(vertices).items() if "value 4" in v["label"]]
    assert vertices[h_id]["label"].endswith("grad 3")


def test_freed_nodes_are_marked_after_backward_without_retain_graph():
    J, named = course_graph(retain_graph=False)
    dot = viz.to_dot(J, params=named)
    vertices, _ = parse(dot)
    mul, add, times3 = ops(vertices).values()
    # Mul saved its inputs and they are gone; Add saves nothing, so it could run again
    assert "dashed" in mul["style"] and "dashed" in times3["style"]
    assert "dashed" not in add["style"]
    assert "retain_graph=True" in dot  # the legend says what dashed means
    with pytest.raises(RuntimeError, match="second time"):
        J.backward()

    kept, named = course_graph(retain_graph=True)
    dot = viz.to_dot(kept, params=named)
    assert "dashed" not in dot and "retain_graph" not in dot
    kept.backward()  # and indeed it can


def test_a_tensor_used_twice_is_one_vertex_with_two_edges():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    z = (x + y).sum()
    vertices, edges = parse(viz.to_dot(z, params=dict(x=x)))
    x_id = by_name(vertices)["x"]
    assert [v for v in tensors(vertices).values() if v["label"].startswith("x\n")] != []
    assert len([e for e in edges if e[0] == x_id]) == 2
    assert len({e[1] for e in edges if e[0] == x_id}) == 2  # to Mul and to Add
    square = (x * x).sum()
    vertices, edges = parse(viz.to_dot(square, params=dict(x=x)))
    x_id = by_name(vertices)["x"]
    mul = next(k for k, v in ops(vertices).items() if v["label"] == "Mul")
    assert edges.count((x_id, mul)) == 2  # both inputs of the op


def test_output_without_a_graph_is_a_single_tensor():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with ad.no_grad():
        y = x * 2
    vertices, edges = parse(viz.to_dot(y))
    assert list(vertices) == ["t0"] and edges == []
    assert vertices["t0"]["label"] == "(2,) float32\nvalue [2, 4]"
    leaf, edges = parse(viz.to_dot(x, params=dict(x=x)))
    assert list(leaf) == ["t0"] and leaf["t0"]["label"].startswith("x\n") and edges == []
    empty, edges = parse(viz.to_dot([]))
    assert empty == {} and edges == []


def test_several_outputs_share_their_graph():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    vertices, edges = parse(viz.to_dot([h.sum(), h.mean()]))
    # mean is composed: a sum times 1/n
    assert [v["label"] for v in ops(vertices).values()] == ["Exp", "Sum", "Sum", "Mul"]
    assert len(tensors(vertices)) == 5 and len(edges) == 8
    h_id = next(k for k, v in tensors(vertices).items() if v["fillcolor"] == "white")
    assert len([e for e in edges if e[0] == h_id]) == 2
    green = [v for v in tensors(vertices).values() if v["fillcolor"] == "darkolivegreen1"]
    assert len(green) == 2


def test_the_text_is_deterministic():
    texts = []
    for _ in range(2):
        J, named = course_graph()
        texts.append(viz.to_dot(J, params=named))
    assert texts[0] == texts[1]


def test_errors_name_the_function():
    x = ad.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"^to_dot: expected a Tensor .* got int"):
        viz.to_dot(3)
    with pytest.raises(TypeError, match=r"^to_dot: .*list whose item 1 is a float"):
        viz.to_dot([x, 1.0])
    with pytest.raises(TypeError, match=r"^to_dot: params\['w'\] is a ndarray"):
        viz.to_dot(x, params={"w": np.ones(1)})
    with pytest.raises(ValueError, match=r"^to_dot: depth=1 needs modules="):
        viz.to_dot(x, depth=1)
    with pytest.raises(TypeError, match=r"^to_dot: modules= takes a trace_modules"):
        viz.to_dot(x, modules=nn.Linear(1, 1))
    with pytest.raises(TypeError, match=r"^trace_modules: int has no named_modules"):
        viz.trace_modules(3)


def nested():
    return nn.Sequential(
        nn.Sequential(nn.Linear(3, 4), nn.ReLU()),
        nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2)),
    )


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_depth_collapses_each_module_call_into_one_box(depth):
    model = nested()
    with viz.trace_modules(model) as trace:
        out = model(ad.randn(5, 3))
    vertices, edges = parse(viz.to_dot(out, modules=trace, depth=depth))
    at_depth = [name for name, _ in model.named_modules() if name.count(".") + bool(name) == depth]
    labels = [v["label"] for v in boxes(vertices).values()]
    assert len(labels) == len(at_depth)
    assert [label.split(":")[0] for label in labels] == (at_depth if depth else ["Sequential"])
    assert not ops(vertices)  # every op ran inside some module at that depth
    assert not any(v["fillcolor"] == "lightblue" for v in vertices.values())  # parameters inside
    # boxes and the tensors between them alternate: box -> tensor -> box ... -> output
    assert len(tensors(vertices)) == len(labels) and len(edges) == 2 * len(labels) - 1


def test_modules_without_depth_name_parameters_and_draw_every_op():
    model = nested()
    with viz.trace_modules(model) as trace:
        loss = model(ad.randn(5, 3)).sum()
    vertices, _ = parse(viz.to_dot(loss, modules=trace))
    assert not boxes(vertices)
    assert {"0.0.weight", "0.0.bias", "1.0.weight", "1.2.bias"} < set(by_name(vertices))
    assert len(ops(vertices)) == 6  # Linear, ReLU, Linear, Tanh, Linear, Sum


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x) + x


def test_ops_of_a_module_with_children_stay_visible_below_its_depth():
    block = Residual()
    x = ad.randn(2, 4, requires_grad=True)
    with viz.trace_modules(block) as trace:
        out = block(x)
    vertices, edges = parse(viz.to_dot(out, params=dict(x=x), modules=trace, depth=1))
    assert [v["label"] for v in boxes(vertices).values()] == ["fc: Linear"]
    assert [v["label"] for v in ops(vertices).values()] == ["Add"]
    t = by_name(vertices)
    (box,) = boxes(vertices)
    (add,) = ops(vertices)
    assert (t["x"], box) in edges and (t["x"], add) in edges  # x used twice: box and skip
    whole, _ = parse(viz.to_dot(out, params=dict(x=x), modules=trace, depth=0))
    assert [v["label"] for v in boxes(whole).values()] == ["Residual"] and not ops(whole)


def test_a_module_called_twice_gives_two_boxes_and_freed_boxes_are_dashed():
    fc = nn.Linear(2, 2)
    model = nn.Sequential(fc, nn.Tanh(), fc)
    with viz.trace_modules(model) as trace:
        loss = model(ad.randn(3, 2)).sum()
    loss.backward()
    vertices, edges = parse(viz.to_dot(loss, modules=trace, depth=1))
    labels = [v["label"] for v in boxes(vertices).values()]
    assert labels == ["0: Linear", "1: Tanh", "0: Linear (call 2)"]
    assert all("dashed" in v["style"] for v in boxes(vertices).values())
    # the shared weight is used by two boxes, so it is drawn, with an edge to each
    shared = [k for k, v in tensors(vertices).items() if v["label"].startswith("0.weight")]
    assert len(shared) == 1 and len([e for e in edges if e[0] == shared[0]]) == 2


def test_trace_leaves_nothing_behind_and_chains_the_recording_hook():
    model = nested()
    before = recording.hook
    with ad.record_node_inputs(), viz.trace_modules(model) as trace:
        loss = model(ad.randn(5, 3)).sum()
    assert recording.hook is before
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert ad.gradcheck_graph(loss, raise_exception=False).passed  # inputs still recorded
    assert len(boxes(parse(viz.to_dot(loss, modules=trace, depth=1))[0])) == 2
    with pytest.raises(ValueError, match="boom"), viz.trace_modules(model):
        raise ValueError("boom")
    assert recording.hook is before


def test_draw_graph_writes_the_dot_text_for_dot_paths(tmp_path):
    J, named = course_graph()
    written = viz.draw_graph(J, tmp_path / "g.dot", params=named)
    assert written == tmp_path / "g.dot"
    assert written.read_text() == viz.to_dot(J, params=named)


def test_draw_graph_errors_write_nothing(tmp_path):
    J, _ = course_graph()
    with pytest.raises(ValueError, match=r"^draw_graph: unknown format 'bmp'"):
        viz.draw_graph(J, tmp_path / "g.bmp")
    with pytest.raises(TypeError, match=r"^draw_graph: expected a Tensor"):
        viz.draw_graph("J", tmp_path / "g.svg")
    assert list(tmp_path.iterdir()) == []


def rendering():
    """graphviz, or skip the test when the package or its dot program is missing."""
    graphviz = pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot program is not installed")
    return graphviz


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<svg"), (".png", b"\x89PNG")])
def test_draw_graph_renders_through_graphviz(tmp_path, suffix, magic):
    rendering()
    J, named = course_graph()
    written = viz.draw_graph(J, tmp_path / f"g{suffix}", params=named)
    assert written == tmp_path / f"g{suffix}"
    assert magic in written.read_bytes()[:400]
    no_suffix = viz.draw_graph(J, tmp_path / "plain")
    assert no_suffix.suffix == ".svg" and b"<svg" in no_suffix.read_bytes()


def test_draw_graph_falls_back_to_dot_without_the_graphviz_package(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz raises ImportError
    J, named = course_graph()
    with pytest.warns(UserWarning, match=r"pip install graphviz.*apt-get install graphviz"):
        written = viz.draw_graph(J, tmp_path / "g.svg", params=named)
    assert written == tmp_path / "g.dot"
    assert written.read_text() == viz.to_dot(J, params=named)
    assert not (tmp_path / "g.svg").exists()


def test_draw_graph_falls_back_to_dot_without_the_dot_program(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot program there
    J, _ = course_graph()
    with pytest.warns(UserWarning, match=r"dot program.*brew install graphviz"):
        written = viz.draw_graph(J, tmp_path / "g.png")
    assert written == tmp_path / "g.dot" and written.read_text().startswith("digraph")


def test_the_example_draws_the_course_graph(tmp_path):
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "computation_graph.py"), str(tmp_path / "j.dot")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert str(tmp_path / "j.dot") in run.stdout
    vertices, edges = parse((tmp_path / "j.dot").read_text())
    t = by_name(vertices)
    expected = {  # name: (forward value, dJ/dname)
        "a": (5, 3),
        "b": (3, 6),
        "c": (2, 9),
        "u": (6, 3),
        "v": (11, 3),
        "J": (33, 1),
    }
    for name, (value, grad) in expected.items():
        assert vertices[t[name]]["label"] == f"{name}\nscalar float32\nvalue {value}\ngrad {grad}"
    assert (t["v"], next(iter(ops(vertices)))) not in edges  # v feeds the last Mul, not the first
    assert len(edges) == 8
