"""Devices. autodiff computes on the CPU only; `device` exists so that PyTorch's device idioms
(`device = torch.device("cuda" if torch.cuda.is_available() else "cpu")`, `x.to(device)`,
`zeros(..., device=device)`) run unchanged, and any other device is refused where it is used.
"""


class device:  # noqa: N801 - PyTorch's name
    """A device name, as `torch.device`: "cpu", "cuda", "cuda:1", or a type and an index.

    Any name can be made (as in PyTorch); only "cpu" can hold tensors.
    """

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            type, index = type.type, type.index
        name, _, number = str(type).partition(":")
        if not name.isidentifier() or (number and not number.isdigit()):
            raise ValueError(f"device: invalid device string {type!r}")
        self.type = name
        self.index = int(number) if number else index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"


CPU = device("cpu")


def check(dev, op: str) -> None:
    """Raise unless `dev` (None, a name or a `device`) is the CPU, naming the caller `op`."""
    if dev is None:
        return
    if device(dev).type != "cpu":
        raise RuntimeError(
            f"{op}: device {str(dev)!r} is not available; autodiff computes on the CPU only "
            "(use device='cpu', or leave it out)"
        )
