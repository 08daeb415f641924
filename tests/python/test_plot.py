"""PlotBrain: figures drawn by the engine, embedded in matplotlib (norm_percentile, alpha_cmap,
show_stimuli as `tribev2 plot`); unsupported options raise."""

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
    with pytest.raises(NotImplementedError, match="trues"):
        plotter.plot_timesteps(maps(2), trues=maps(2))
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


def test_norm_percentile_and_alpha_cmap(plotter):
    x = maps(3)
    # norm_percentile is upstream's robust_normalize over all the maps drawn, then the colour map.
    normed = tribev2.plotting.robust_normalize(x, 99)
    lo, hi = np.percentile(x, 1), np.percentile(x, 99)
    want = np.clip((x.astype(np.float64) - lo) / (hi - lo), 0, 1)
    assert np.abs(normed - want).max() <= 1e-6
    labels = ["t=0s", "t=1s", "t=2s"]
    a = plotter.render(x, labels, columns=3, cmap="fire", vmin=0.6, norm_percentile=99)
    b = plotter.render(normed, labels, columns=3, cmap="fire", vmin=0.6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, plotter.render(x, labels, columns=3, cmap="fire", vmin=0.6, vmax=2.0))
    # alpha_cmap fades the colours in: more of the background shows through.
    c = plotter.render(normed, labels, columns=3, cmap="fire", vmin=0.6, alpha_cmap=(0, 0.2))
    assert c.shape == b.shape and not np.array_equal(b, c)
    s = plotter.plot_surf(x[0], cmap="fire", norm_percentile=99, alpha_cmap=(0, 0.2))
    import matplotlib.figure

    assert isinstance(s, matplotlib.figure.Figure)
    with pytest.raises(ValueError, match="alpha_cmap"):
        plotter.render(x[0], alpha_cmap=0.2)
    with pytest.raises(ValueError, match="bg_on_data"):
        plotter.render(x[0], alpha_cmap=(0, 0.2), bg_on_data=True)
    with pytest.raises(ValueError, match="percentile"):
        plotter.render(x, labels, columns=3, norm_percentile=120)
    with pytest.raises(ValueError, match="segments"):
        plotter.plot_timesteps(x, show_stimuli=True)
    with pytest.raises(ValueError, match="plot_timesteps"):
        plotter.plot_surf(x[0], show_stimuli=True)


def test_upstream_notebook_call_on_tiny_models(plotter, tmp_path):
    """upstream's demo: plot_timesteps(preds[:15], segments=segments[:15], cmap="fire",
    norm_percentile=99, vmin=.6, alpha_cmap=(0, .2), show_stimuli=True) -> a matplotlib Figure."""
    import matplotlib.figure

    from tribev2._testing import tiny_setup

    setup = tiny_setup(tmp_path / "models")
    text = tmp_path / "story.txt"
    text.write_text("A short story about a cat. The cat sleeps all day long, and dreams of the sea.")
    model = tribev2.TribeModel.from_pretrained(**setup, cache_folder=tmp_path / "cache", progress=False)
    preds, segments = model.predict(events=model.get_events_dataframe(text_path=str(text)))
    fig = plotter.plot_timesteps(preds[:15], segments=segments[:15], cmap="fire", norm_percentile=99, vmin=.6,
                                 alpha_cmap=(0, .2), show_stimuli=True)
    assert isinstance(fig, matplotlib.figure.Figure)
    n = min(15, len(preds))
    labels = [f"t={t}s" for t in range(n)]
    plain = plotter.render(preds[:n], labels, columns=n, cmap="fire", norm_percentile=99, vmin=.6,
                           alpha_cmap=(0, .2))
    strip = plotter.render(preds[:n], labels, columns=n, cmap="fire", norm_percentile=99, vmin=.6,
                           alpha_cmap=(0, .2), stimuli=tribev2.plotting._stimuli(segments[:n], segments[:n]))
    # The stimulus rows (waveform of the spoken text, the words) sit above the brains.
    assert strip.shape[0] > plain.shape[0]
    req = tribev2.plotting._stimuli(segments[:n], segments[:n])
    assert "audio" in req and req["words"] and req["words"][0][2] == "A"
    fig.savefig(tmp_path / "demo.png")
    assert (tmp_path / "demo.png").stat().st_size > 0


def test_plot_timesteps_mp4(plotter, tmp_path):
    out = tmp_path / "movie.mp4"
    enc = plotter.plot_timesteps_mp4(maps(2), out)
    assert out.is_file() and out.stat().st_size > 0 and enc
