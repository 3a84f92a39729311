"""The graph machinery: grad mode, graph nodes, and the reverse-mode walk.

A node is created by `Function.apply` for every op whose inputs require grad. It holds the op's
class, what the op saved for backward, and one *edge* per input: (the input's own node, or the
input tensor itself if it is a leaf that requires grad; the input's shape; its dtype), or None.
`backward` takes nodes from a heap, newest first, which is a reverse topological order; no
recursion, so graph depth is bounded by memory alone. A non-leaf tensor's gradient hooks
(`register_hook`) run when its node comes out of the heap, a leaf's when the walk ends; then
every leaf's `.grad` is written, its post-accumulate-grad hooks run, and the callbacks queued
during the walk (`queue_callback`).
"""

import heapq
import itertools
import threading
import weakref
from collections import OrderedDict

import numpy as np

from autodiff.anomaly import anomaly_state, check_backward, note_forward_trace
from autodiff.contexts import decorate


class _GradState(threading.local):
    """Grad mode, per thread; a new thread starts with it on (the class default)."""

    enabled = True


grad_state = _GradState()  # Function.apply reads grad_state.enabled directly: it is per op


def is_grad_enabled() -> bool:
    """Whether ops record graph nodes in this thread."""
    return grad_state.enabled


class _GradMode:
    """Sets grad mode for a `with` block or a decorated function, restoring it afterwards.

    A decorated generator function runs in the mode each time it resumes, and the caller's mode
    is back at every `yield` (as in PyTorch; see autodiff/contexts.py).
    """

    enabled: bool

    def __init__(self):
        self._prev = []  # a stack, so one instance may be entered again while active

    def __enter__(self):
        self._prev.append(is_grad_enabled())
        grad_state.enabled = self.enabled

    def __exit__(self, *exc):
        grad_state.enabled = self._prev.pop()
        return False

    def __call__(self, func):
        mode = self.enabled
        return decorate(func, lambda: _in_mode(mode))


def _in_mode(mode: bool) -> _GradMode:
    context = _GradMode()
    context.enabled = mode
    return context


class _BareOrCalled(_GradMode):
    """A mode usable as `@mode` as well as `@mode()` and `with mode():`."""

    def __new__(cls, *args):
        if len(args) == 1 and callable(args[0]):  # `@mode`: decorate at once
            return cls()(args[0])
        return super().__new__(cls)

    def __init__(self):
        super().__init__()


class no_grad(_BareOrCalled):  # noqa: N801 - PyTorch's name
    """Context manager and decorator: ops inside record no graph."""

    enabled = False


class enable_grad(_BareOrCalled):  # noqa: N801 - PyTorch's name
    """Context manager and decorator: turns recording back on inside a `no_grad` block."""

    enabled = True


class inference_mode(_BareOrCalled):  # noqa: N801 - PyTorch's name
    """`no_grad` under PyTorch's other name, and `inference_mode(False)` turns grad mode on, as
    in PyTorch; autodiff has no separate inference tensors."""

    def __init__(self, mode=True):
        super().__init__()
        self.enabled = not mode


class set_grad_enabled(_GradMode):  # noqa: N801 - PyTorch's name
    """Turn grad mode on or off: at once when called (`set_grad_enabled(False)`), or for a
    `with` block or a decorated function, restoring the previous mode afterwards."""

    def __init__(self, mode: bool):
        super().__init__()
        self.enabled = bool(mode)
        self._before = is_grad_enabled()
        grad_state.enabled = self.enabled

    def __call__(self, func):
        grad_state.enabled = self._before  # decorating changes nothing until func runs
        return super().__call__(func)

    def __enter__(self):
        grad_state.enabled = self.enabled

    def __exit__(self, *exc):
        grad_state.enabled = self._before
        return False


_FREED = object()
# Creation order: a node's inputs always come from older nodes, so walking nodes from the
# newest down is a reverse topological order (PyTorch orders its ready queue the same way).
_sequence = itertools.count()


class Node:
    """One recorded op application; also the `ctx` the op's forward and backward receive."""

    saved = ()  # what forward kept for backward (ctx.save), or _FREED after backward
    input_versions = ()  # (id of input array, its version counter, version at forward)
    retained = None  # weak reference to the output tensor when it called retain_grad()
    hooks = None  # the output tensor's gradient hooks (register_hook), by handle id
    trace = ()  # the user's frames at creation, recorded in anomaly mode

    def __init__(self, fn, edges, needs_input_grad):
        self.seq = next(_sequence)
        self.fn = fn
        self.edges = edges  # per input: (node or leaf tensor, shape, dtype), or None
        self.needs_input_grad = needs_input_grad

    def save(self, *arrays):
        """Keep arrays (or other values) for backward; read them back as `ctx.saved`."""
        self.saved = arrays

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def freed(self) -> bool:
        """Whether backward freed the saved arrays, so a second backward through it would fail."""
        return self.saved is _FREED

    def __repr__(self):
        return f"<{self.name}Backward>"

    def _check_saved(self):
        """Check the saved arrays are intact and still there before backward reads them."""
        if self.saved is _FREED:
            raise RuntimeError(
                f"{self.name}: trying to backward through the graph a second time, but the "
                "arrays it saved were freed by the first backward; pass retain_graph=True to "
                "the first backward() if you need to call it twice"
            )
        for array_id, counter, version in self.input_versions:
            if counter[0] != version and any(id(a) == array_id for a in self.saved):
                raise RuntimeError(
                    f"{self.name}: a tensor saved for backward was modified by an in-place "
                    f"operation (its version is {counter[0]}, {self.name} expected "
                    f"{version}); use an out-of-place op (x = x + y instead of x += y)"
                )


def graph_nodes(roots) -> list:
    """Every node reachable from the nodes `roots`, oldest first (the order of creation)."""
    seen = {id(root): root for root in roots}
    stack = list(seen.values())
    while stack:
        for edge in stack.pop().edges:
            if edge is not None and type(edge[0]) is Node and id(edge[0]) not in seen:
                seen[id(edge[0])] = edge[0]
                stack.append(edge[0])
    return sorted(seen.values(), key=lambda n: n.seq)


def reduce_to_shape(g: np.ndarray, shape: tuple, dtype) -> np.ndarray:
    """Undo numpy broadcasting: sum `g` down to `shape`, and give it the input's dtype.

    This is the one place where broadcasting is undone; every op returns gradients in the
    broadcast shape of its output and relies on it.
    """
    if g.shape != shape:
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
        )
        g = g.sum(axis=axes, keepdims=True).reshape(shape)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


class _Queued(threading.local):
    """The callbacks `queue_callback` queued during this thread's running backward (a list),
    or None outside a backward."""

    callbacks = None


_queued = _Queued()


def queue_callback(callback) -> None:
    """Run `callback()` once the backward running in this thread has finished: after every
    `.grad` is written and every post-accumulate-grad hook has run (PyTorch's
    `Variable._execution_engine.queue_callback`). Callbacks run in the order queued, with grad
    mode as the caller of backward has it; a backward that raises drops its queue.

    Raises
    ------
    RuntimeError
        Called outside a backward, or in one that started before any tensor hook existed
        (queue from a hook: `register_hook`, `register_post_accumulate_grad_hook`).
    """
    if _queued.callbacks is None:
        raise RuntimeError(
            "queue_callback: callbacks can only be queued during a backward, from a tensor's "
            "hook (register_hook, register_post_accumulate_grad_hook)"
        )
    _queued.callbacks.append(callback)


def backward(roots, root_grads, retain_graph=False, inputs=None, _queue=None):
    """Propagate `root_grads` from `roots` back through the graph.

    Parameters
    ----------
    roots : list of Tensor
        Outputs to differentiate; each must have a `grad_fn` or be a leaf requiring grad.
    root_grads : list of ndarray
        dL/d(root), each of its root's shape and dtype, owned by the engine (a numpy scalar for
        a 0-d root: numpy computes on those faster).
    retain_graph : bool
        Keep saved arrays so the graph can be walked again.
    inputs : list of Tensor or None
        None: accumulate into the `.grad` of every leaf reached. Otherwise: return the gradient
        with respect to each of these tensors (None where unreached) and touch no `.grad`.

    Once a hook exists, callbacks queued during the walk (`queue_callback`) run after it; a
    backward that a hook or callback starts has a queue of its own (`_queue`: the list this
    walk's callbacks go to, set by `_with_queue`).
    """
    if _queue is None and _hooks_exist:  # without hooks nothing can queue: no cost per graph
        return _with_queue(roots, root_grads, retain_graph, inputs)
    handed_out = set()  # ids of arrays already wrapped as some tensor's .grad
    capture = None
    if inputs is not None:
        capture = {}
        for i, t in enumerate(inputs):
            capture.setdefault(id(t.grad_fn) if t.grad_fn is not None else id(t), []).append(i)
        found = [None] * len(inputs)

    # Gradients received so far, per node and per leaf tensor (hashed by identity). Nodes
    # leave as they are processed; what remains at the end are the leaves' gradients.
    pending = {}
    heap = []  # (-seq, node): the newest node with a gradient comes out first
    for root, g in zip(roots, root_grads, strict=True):
        _send(root.grad_fn or root, g, pending, heap)

    while heap:
        node = heapq.heappop(heap)[1]
        g = pending.pop(node)
        # captured before the tensor's hooks run; PyTorch does so only when another requested
        # input lies below this tensor, and otherwise applies the hooks first
        if capture is not None and id(node) in capture:
            for i in capture[id(node)]:
                found[i] = g
        if node.hooks is not None:
            g = _run_hooks(node.hooks, g)
        if node.retained is not None and capture is None:
            _set_grad(node.retained(), g, handed_out)
        try:
            if node.saved:
                node._check_saved()
            grads = node.fn.backward(node, g)
        except Exception as error:
            note_forward_trace(node, error)
            raise
        if type(grads) is not tuple:
            grads = (grads,)
        if anomaly_state.enabled:
            check_backward(node, grads)
        if not retain_graph and node.saved:
            node.saved = _FREED
        for edge_meta, gi in zip(node.edges, grads):
            if edge_meta is None or gi is None:
                continue
            edge, shape, dtype = edge_meta
            if gi.shape != shape or gi.dtype != dtype:
                gi = reduce_to_shape(gi, shape, dtype)
            prev = pending.get(edge)  # _send, inlined: this loop runs once per edge
            if prev is None:
                pending[edge] = gi
                if type(edge) is Node:
                    heapq.heappush(heap, (-edge.seq, edge))
            else:
                pending[edge] = prev + gi

    if _leaf_hooks:
        for leaf, g in pending.items():
            hooks = _leaf_hooks.get(id(leaf))
            if hooks is not None:
                pending[leaf] = _run_hooks(hooks, g)
    if capture is not None:
        for leaf, g in pending.items():
            for i in capture.get(id(leaf), ()):
                found[i] = g
        return found
    for leaf, g in pending.items():
        _set_grad(leaf, g, handed_out)
    if _post_accumulate_hooks:
        _run_post_accumulate_hooks(pending)
    return None


def _with_queue(roots, root_grads, retain_graph, inputs):
    """`backward` with a callback queue of its own, run after the walk (dropped if it raises)."""
    outer = _queued.callbacks
    _queued.callbacks = callbacks = []
    try:
        found = backward(roots, root_grads, retain_graph, inputs, _queue=callbacks)
    finally:
        _queued.callbacks = outer
    for callback in callbacks:
        callback()
    return found


def _send(edge, g, pending, heap):
    """Add gradient `g` to what a node (or a leaf tensor) has received so far."""
    prev = pending.get(edge)
    if prev is None:
        pending[edge] = g
        if type(edge) is Node:
            heapq.heappush(heap, (-edge.seq, edge))
    else:
        pending[edge] = prev + g


# Whether any tensor hook was ever registered in this process: until then no callback can be
# queued, and a backward skips setting up a queue.
_hooks_exist = False


def _note_hooks() -> None:
    global _hooks_exist
    _hooks_exist = True


# The hooks of leaf tensors, by id of the tensor; an entry goes when its tensor does. (A
# non-leaf's hooks live on its node.) They run when the walk ends: PyTorch runs a leaf's hooks as
# soon as its gradient is complete, so only their order relative to other hooks differs.
_leaf_hooks = {}


def tensor_hooks(t) -> OrderedDict:
    """The ordered dict of gradient hooks of tensor `t` (created empty on first use)."""
    _note_hooks()
    node = t.grad_fn
    if node is not None:
        if node.hooks is None:
            node.hooks = OrderedDict()
        return node.hooks
    hooks = _leaf_hooks.get(id(t))
    if hooks is None:
        hooks = _leaf_hooks[id(t)] = OrderedDict()
        weakref.finalize(t, _leaf_hooks.pop, id(t), None)
    return hooks


# Post-accumulate-grad hooks of leaf tensors (`register_post_accumulate_grad_hook`), by id of
# the tensor; they run after every leaf's `.grad` of the backward is written.
_post_accumulate_hooks = {}


def post_accumulate_hooks(t) -> OrderedDict:
    """The ordered dict of post-accumulate-grad hooks of leaf `t` (created empty on first use)."""
    _note_hooks()
    hooks = _post_accumulate_hooks.get(id(t))
    if hooks is None:
        hooks = _post_accumulate_hooks[id(t)] = OrderedDict()
        weakref.finalize(t, _post_accumulate_hooks.pop, id(t), None)
    return hooks


def _run_post_accumulate_hooks(leaves):
    """Call `hook(leaf)` for each hook of each leaf that received a gradient, grad mode off."""
    with no_grad():
        for leaf in leaves:
            hooks = _post_accumulate_hooks.get(id(leaf))
            for hook in () if hooks is None else tuple(hooks.values()):
                result = hook(leaf)
                # PyTorch ignores a returned tensor (`p.add_(...)` returns one), refuses the rest
                if result is not None and not isinstance(result, _tensor.Tensor):
                    name = getattr(hook, "__name__", repr(hook))
                    raise TypeError(
                        f"post-accumulate-grad hook {name!r} returned {type(result).__name__}; "
                        f"it returns None (tensor of shape {leaf.shape} {leaf.dtype})"
                    )


def _run_hooks(hooks, g):
    """Gradient `g` after each hook (in registration order) has seen or replaced it.

    The hooks get a copy (`g` may flow to other nodes too) and run with grad mode off, as in
    PyTorch; a copy of what the last one returned (or of the gradient they saw, changed in
    place or not) flows on, since a hook may keep either.
    """
    grad = _tensor.Tensor._wrap(np.array(g))
    with no_grad():
        for hook in tuple(hooks.values()):  # a hook may remove itself
            new = hook(grad)
            if new is None:
                continue
            name = getattr(hook, "__name__", repr(hook))
            if not isinstance(new, _tensor.Tensor):
                raise TypeError(
                    f"hook {name!r} returned {type(new).__name__}; a tensor hook returns None "
                    f"or a Tensor (gradient of shape {grad.shape} {grad.dtype})"
                )
            if new.shape != grad.shape or new.dtype != grad.dtype:
                raise RuntimeError(
                    f"hook {name!r} has changed the gradient from shape {grad.shape} "
                    f"{grad.dtype} to {new.shape} {new.dtype}"
                )
            grad = new
    return np.array(grad.data)


def _set_grad(t, g, handed_out):
    """Add the finished gradient `g` into `t.grad` (a leaf, or a tensor that retains grad)."""
    if t is None:  # a retained tensor that no longer exists
        return
    if t.grad is not None:
        np.add(t.grad._data, g, out=t.grad._data)
        return
    # Pass-through ops (add, reshape, expand) hand one buffer to several inputs, and a later
    # in-place `+=` on one `.grad` must not change another: wrap a buffer once, copy it after.
    # Read-only gradients (broadcast_to) are views, so copied too; copies are C-ordered, since a
    # transposed gradient would make every later update run strided.
    if type(g) is not np.ndarray:  # a numpy scalar, from a 0-d op: a fresh 0-d array
        g = np.asarray(g)
    elif g.base is not None or id(g) in handed_out:
        g = np.array(g, order="C")
    else:
        handed_out.add(id(g))
    t.grad = _tensor.Tensor._wrap(g)


from autodiff import tensor as _tensor  # noqa: E402 - tensor.py imports this module first
