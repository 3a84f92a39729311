"""The DataLoader benchmark runs, and its worker and no-worker runs load the same data."""

from benchmarks import dataloader


def test_benchmark_smoke(capsys):
    argv = ["--examples", "8", "--rounds", "1", "--batch-size", "4", "--epochs", "2"]
    assert dataloader.main(argv) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row.split()[0] for row in rows] == ["0", "2"]
    for row in rows:
        _, first, later, speedup = row.split()
        assert float(first) >= 0 and float(later) >= 0 and float(speedup.rstrip("x")) >= 0


def test_costly_dataset_examples():
    dataset = dataloader.CostlyDataset(3, rounds=2)
    image, index = dataset[2]
    assert len(dataset) == 3 and index == 2
    assert image.shape == (dataloader.SIZE, dataloader.SIZE) and image.dtype == "float32"
    assert abs(image).max() < 1  # tanh
