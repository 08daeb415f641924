#!/usr/bin/python3
"""Screenshot of a `tribev2 view` page in headless Chromium after playing it for a while (the
gallery's real-clip viewer). Uses the browser test's helpers (tests/viz/viewer_browser_test.py).

usage: shoot_viewer.py VIEWER.html OUT.png [SECONDS_OF_PLAY [LEFT_VERTEX_TO_CLICK]]
"""
import base64
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "viz"))
from viewer_browser_test import click_vertex, find_chromium, open_viewer  # noqa: E402


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    html, out = sys.argv[1], sys.argv[2]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
    vertex = int(sys.argv[4]) if len(sys.argv) > 4 else None
    chromium = find_chromium()
    if not chromium:
        print("Chromium is not installed (Debian package `chromium`)")
        return 1
    with open_viewer(chromium, html) as (cdp, ready):
        if not ready:
            print("the viewer did not start")
            return 1
        cdp.pump(1.0)
        cdp.eval("document.getElementById('play').click()")
        cdp.pump(seconds)
        cdp.eval("document.getElementById('play').click()")
        cdp.pump(0.5)
        if vertex is not None:
            print("click: " + click_vertex(cdp, vertex))
        t = cdp.eval("window.tribev2.media ? window.tribev2.media.currentTime : -1")
        row = cdp.eval("document.body.dataset.row")
        words = cdp.eval("document.getElementById('words').textContent")
        print(f"media time {t:.2f} s, row {row}, words '{words}'")
        errs = cdp.errors()
        if errs:
            print("console errors:\n  " + "\n  ".join(errs))
            return 1
        shot = cdp.call("Page.captureScreenshot", format="png")
        open(out, "wb").write(base64.b64decode(shot["data"]))
        print(f"wrote {out}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
