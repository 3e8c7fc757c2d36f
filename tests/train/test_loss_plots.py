"""Loss-curve PNGs: one panel for runs that log only losses, a second for runs with auxiliary terms."""

import matplotlib.image

from deepasmr.train.plots import plot_loss_curves


def _log(root, columns, rows):
    version = root / "version_0"
    version.mkdir(parents=True)
    lines = [",".join(["epoch", "step", *columns])] + [",".join(map(str, row)) for row in rows]
    (version / "metrics.csv").write_text("\n".join(lines) + "\n")


def test_an_auxiliary_panel_only_when_there_are_auxiliary_terms(tmp_path):
    _log(tmp_path / "plain", ["train/loss", "val/loss"], [(0, 9, 0.5, ""), (0, 19, 0.4, 0.45)])
    _log(tmp_path / "aux", ["train/loss", "train/acc"], [(0, 9, 0.5, 0.1), (0, 19, 0.4, 0.2)])
    plain = matplotlib.image.imread(plot_loss_curves(tmp_path / "plain", tmp_path / "plain.png"))
    aux = matplotlib.image.imread(plot_loss_curves(tmp_path / "aux", tmp_path / "aux.png"))
    assert plain.shape[0] == aux.shape[0]
    assert aux.shape[1] == 2 * plain.shape[1]
