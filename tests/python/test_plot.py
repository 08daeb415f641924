"""PlotBrain: figures drawn by the engine, embedded in matplotlib; unsupported options raise."""

import numpy as np
import pytest

import tribev2
from conftest import mesh_dir


@pytest.fixture(scope="module")
def plotter():
    return tribev2.PlotBrain(mesh="fsaverage5", mesh_dir=mesh_dir())


def maps(n):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 20484)).astype(np.float32)


def test_plot_surf_returns_a_figure(plotter):
    import matplotlib.figure

    fig = plotter.plot_surf(maps(1)[0], views="left", cmap="RdBu_r")
    assert isinstance(fig, matplotlib.figure.Figure)
    img = plotter.render(maps(1)[0], views="left")
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 4 and img.flags.owndata
    assert (img[..., :3] != 255).any()  # something was drawn


def test_plot_timesteps(plotter):
    import matplotlib.figure

    fig = plotter.plot_timesteps(maps(3), cmap="hot", vmin=0.0, vmax=2.0)
    assert isinstance(fig, matplotlib.figure.Figure)
    one = plotter.render(maps(1), labels=["t=0s"], columns=1)
    three = plotter.render(maps(3), labels=["t=0s", "t=1s", "t=2s"], columns=3)
    assert three.shape[1] > 2 * one.shape[1]


def test_unsupported_options_raise(plotter):
    with pytest.raises(NotImplementedError, match="alpha_cmap"):
        plotter.plot_timesteps(maps(2), alpha_cmap=(0, 0.2))
    with pytest.raises(NotImplementedError, match="norm_percentile"):
        plotter.plot_timesteps(maps(2), norm_percentile=99)
    with pytest.raises(NotImplementedError, match="show_stimuli"):
        plotter.plot_timesteps(maps(2), show_stimuli=True)
    with pytest.raises(ValueError, match="no_such_cmap"):
        plotter.plot_surf(maps(1)[0], cmap="no_such_cmap")
    # upstream's demo colormap (colorcet's fire, which upstream's get_cmap finds) is one of ours.
    assert plotter.render(maps(1), labels=["t=0s"], columns=1, cmap="fire").ndim == 3
    with pytest.raises(TypeError, match="unexpected"):
        plotter.plot_surf(maps(1)[0], colour="red")
    with pytest.raises(NotImplementedError):
        tribev2.PlotBrain(mesh="fsaverage6")
    with pytest.raises(ValueError, match="20484"):
        plotter.plot_surf(np.zeros(100, dtype=np.float32))


def test_plot_timesteps_mp4(plotter, tmp_path):
    out = tmp_path / "movie.mp4"
    enc = plotter.plot_timesteps_mp4(maps(2), out)
    assert out.is_file() and out.stat().st_size > 0 and enc
