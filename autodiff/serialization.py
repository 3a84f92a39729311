"""`save` and `load` (also `nn.save`, `nn.load`): state dicts to and from a `.npz` file,
atomically and without pickle.

The file is an ordinary numpy `.npz` archive (readable with `np.load(path)`). Each array is an
entry `a0`, `a1`, ...; one more entry, `__autodiff__`, holds UTF-8 JSON describing the nested
structure (dicts, lists, tuples), the kind of every leaf and the Python scalars themselves. No
code is pickled, and `load` reads with `allow_pickle=False`, so loading a file cannot run code.

What can be saved: dicts (str or int keys), lists and tuples of: Tensors, ndarrays, numpy
scalars, and Python int, float, bool, str and None. That covers `Module.state_dict()` and an
optimizer's `state_dict()`.
"""

import contextlib
import json
import math
import os
import re
import time
import uuid
import zipfile
from collections import OrderedDict

import numpy as np

from autodiff.device import check as check_device
from autodiff.tensor import Tensor

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be deleted there, which is lock enough
    fcntl = None

_META_KEY = "__autodiff__"
_FORMAT = "autodiff-state"
_VERSION = 1
# a temporary this young may belong to a save that has created it but not yet locked it
_STALE_AFTER = 10.0
# deflate cannot expand data more than 1032 times: a bound on an entry's declared size
_MAX_DEFLATE_RATIO = 1032


def save(obj, path) -> None:
    """Write `obj` (e.g. a state dict) to `path` as a `.npz` archive, atomically.

    Parameters
    ----------
    obj : dict, list, tuple, Tensor, ndarray or scalar, nested
        Tensors are saved as their arrays (dtype and shape kept); `requires_grad` and the
        graph are not saved.
    path : str or os.PathLike
        The file to (over)write; its directory must exist. No extension is added.

    Raises
    ------
    TypeError
        A value that cannot be saved, naming where it is (e.g. `state[0]['momentum']`) and its
        type; nothing is written.

    The data go to a temporary file in the same directory, which is flushed and fsync'ed and
    then renamed over `path` (and the directory fsync'ed), so `path` always holds either the
    previous file or the complete new one, even if the process dies while saving. A save
    that was killed leaves its temporary (`.<name>.<12 hex digits>.tmp`) behind; the next save
    to the same `path` deletes those that no live save holds.
    """
    arrays = {}
    try:
        root = _encode(obj, arrays, "obj")
    except RecursionError:
        raise TypeError("nn.save: obj is nested too deeply to be saved") from None
    meta = {"format": _FORMAT, "version": _VERSION, "root": root}
    arrays[_META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8)

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"nn.save: directory {directory!r} does not exist (for {path!r})")
    _remove_stale_temporaries(directory, os.path.basename(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    # O_EXCL: never clobber another file; mode 0o666 so the umask applies as for open()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if fcntl is not None:
                # held until the rename, so that no other save takes this file for a stale one
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            _write_arrays(f, arrays)
            f.flush()
            os.fsync(f.fileno())
            if fcntl is not None:
                os.replace(tmp, path)
        if fcntl is None:
            os.replace(tmp, path)  # Windows cannot rename a file that is open
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def load(path, map_location=None, weights_only=True):
    """Read a file written by `save`, returning the same structure.

    Tensors come back as Tensors (not requiring grad), ndarrays as ndarrays, numpy scalars as
    numpy scalars, dicts as dicts (OrderedDict if one was saved), tuples as tuples.
    `map_location` (the CPU only) and `weights_only` are PyTorch's arguments: a file never
    holds code here, so every load is weights-only.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the file is not a readable checkpoint written by `save` (corrupt, truncated, or some
        other format), naming the path and the reason.
    """
    check_device(map_location, "load")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"nn.load: no such file {path!r}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single .npy array, not a .npz archive")
        with archive:
            _check_sizes(archive.zip, os.path.getsize(path))
            if _META_KEY not in archive.files:
                raise ValueError(f"it has no {_META_KEY!r} entry (not written by nn.save)")
            meta = json.loads(archive[_META_KEY].tobytes().decode("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
                raise ValueError(f"its metadata does not describe an {_FORMAT!r} file")
            if meta.get("version") != _VERSION:
                raise ValueError(f"format version {meta.get('version')!r} is not supported")
            return _decode(meta["root"], archive)
    except (
        ValueError,
        OSError,
        EOFError,
        KeyError,
        TypeError,
        RecursionError,  # metadata nested deeper than json or _decode can follow
        zipfile.BadZipFile,
    ) as exc:
        raise ValueError(
            f"nn.load: {path!r} is not a readable checkpoint (corrupt or truncated?): "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _write_arrays(f, arrays):
    """Write the archive to the open binary file `f` (a separate function so tests can fail it)."""
    np.savez(f, allow_pickle=False, **arrays)


def _remove_stale_temporaries(directory, name):
    """Delete the temporaries of saves to `name` that died before renaming them: those no
    live save holds locked, and older than `_STALE_AFTER` seconds."""
    pattern = re.compile(rf"\.{re.escape(name)}\.[0-9a-f]{{12}}\.tmp")
    with os.scandir(directory) as entries:
        candidates = [e.path for e in entries if pattern.fullmatch(e.name) and e.is_file()]
    for tmp in candidates:
        # best effort: a temporary we cannot stat, lock or delete is left for a later save
        with contextlib.suppress(OSError):
            if time.time() - os.stat(tmp).st_mtime >= _STALE_AFTER:
                _unlink_unless_held(tmp)


def _unlink_unless_held(tmp):
    """Delete `tmp`, or raise OSError if a live save holds it."""
    if fcntl is None:
        os.unlink(tmp)  # Windows refuses to delete a file that is open
        return
    with open(tmp, "rb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.unlink(tmp)


def _check_sizes(zip_file, file_size):
    """Raise ValueError for an entry whose array header declares more data than the file can
    hold, before numpy allocates the array."""
    for info in zip_file.infolist():
        ratio = 1 if info.compress_type == zipfile.ZIP_STORED else _MAX_DEFLATE_RATIO
        if info.compress_size > file_size or info.file_size > info.compress_size * ratio:
            raise ValueError(
                f"entry {info.filename!r} declares {info.file_size} bytes, more than the "
                f"file's {file_size} bytes can hold"
            )
        if not info.filename.endswith(".npy"):
            continue
        with zip_file.open(info) as f:
            version = np.lib.format.read_magic(f)
            # versions 2.0 and 3.0 share a header layout (3.0 allows utf-8 field names)
            read = np.lib.format.read_array_header_1_0
            if version != (1, 0):
                read = np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f)
        declared = math.prod(shape) * dtype.itemsize
        if declared > info.file_size:
            raise ValueError(
                f"entry {info.filename!r} declares an array of shape {shape} {dtype} "
                f"({declared} bytes) in {info.file_size} bytes"
            )


def _fsync_directory(directory):
    """Make the rename durable; directories cannot be opened for fsync on Windows."""
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _encode(value, arrays, where):
    """A JSON node describing `value`; arrays are stored in `arrays` under a new key."""
    if value is None or isinstance(value, bool | str):
        return {"kind": "value", "value": value}
    if isinstance(value, int | float):
        return {"kind": "value", "value": value}
    if isinstance(value, Tensor | np.ndarray | np.generic):
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.hasobject or array.dtype.kind not in "biufc":
            raise TypeError(f"nn.save: {where} is an array of dtype {array.dtype}; only numbers")
        key = f"a{len(arrays)}"
        arrays[key] = array
        if isinstance(value, Tensor):
            return {"kind": "tensor", "key": key}
        return {"kind": "scalar" if isinstance(value, np.generic) else "ndarray", "key": key}
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not isinstance(k, str | int) or isinstance(k, bool):
                raise TypeError(
                    f"nn.save: {where} has a key {k!r} of type {type(k).__name__}; "
                    "only str and int keys can be saved"
                )
            items.append([k, _encode(v, arrays, f"{where}[{k!r}]")])
        kind = "odict" if isinstance(value, OrderedDict) else "dict"
        return {"kind": kind, "items": items}
    if isinstance(value, list | tuple):
        nodes = [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]
        return {"kind": "list" if isinstance(value, list) else "tuple", "items": nodes}
    raise TypeError(
        f"nn.save: {where} is a {type(value).__name__}; only dicts, lists, tuples, Tensors, "
        "arrays, numbers, strings, bools and None can be saved"
    )


def _decode(node, archive):
    """The value a JSON node from `_encode` describes, reading arrays from `archive`."""
    kind = node["kind"]
    if kind == "value":
        return node["value"]
    if kind in ("tensor", "ndarray", "scalar"):
        array = archive[node["key"]]
        if kind == "tensor":
            return Tensor._wrap(array)
        return array[()] if kind == "scalar" else array
    if kind in ("dict", "odict"):
        pairs = [(k, _decode(v, archive)) for k, v in node["items"]]
        return OrderedDict(pairs) if kind == "odict" else dict(pairs)
    if kind in ("list", "tuple"):
        items = [_decode(v, archive) for v in node["items"]]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"unknown entry kind {kind!r} in the metadata")
