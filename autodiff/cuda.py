"""`torch.cuda`'s queries, answered for a library without GPUs, so scripts that ask run as on
a machine without one."""


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Nothing to seed; accepted as PyTorch accepts it on a machine without a GPU."""


manual_seed_all = manual_seed
