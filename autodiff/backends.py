"""`torch.backends`' switches, for scripts that set them (`backends.cudnn.benchmark = True`).
None of them applies to autodiff's numpy and numba engine: setting them changes nothing, and
every accelerator backend reports that it is not available."""

from types import SimpleNamespace

cudnn = SimpleNamespace(enabled=False, benchmark=False, deterministic=False, is_available=bool)
mps = SimpleNamespace(is_available=bool, is_built=bool)
cuda = SimpleNamespace(is_built=bool)
