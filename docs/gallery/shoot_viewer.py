#!/usr/bin/python3
"""Screenshot of a `tribev2 view` page in headless Chromium after playing it for a while (the
gallery's real-clip viewer). Uses the browser test's DevTools client (tests/viz/viewer_browser_test.py).

usage: shoot_viewer.py VIEWER.html OUT.png [SECONDS_OF_PLAY [LEFT_VERTEX_TO_CLICK]]
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "viz"))
from viewer_browser_test import Cdp, find_chromium  # noqa: E402


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    html, out = os.path.abspath(sys.argv[1]), sys.argv[2]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
    vertex = int(sys.argv[4]) if len(sys.argv) > 4 else None
    chromium = find_chromium()
    if not chromium:
        print("Chromium is not installed (Debian package `chromium`)")
        return 1
    profile = tempfile.mkdtemp(prefix="tribev2-chromium-")
    proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                             "--disable-background-networking", "--no-first-run",
                             "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--window-size=1300,700",
                             f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().count("\n") >= 1:
                break
            time.sleep(0.1)
        port = open(port_file).read().split("\n")[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        cdp = Cdp([t for t in targets if t["type"] == "page"][0]["webSocketDebuggerUrl"])
        cdp.call("Runtime.enable")
        cdp.call("Page.enable")
        cdp.call("Emulation.setDeviceMetricsOverride", width=1300, height=700, deviceScaleFactor=1, mobile=False)
        cdp.call("Page.navigate", url="file://" + html)
        for _ in range(300):
            if cdp.eval("!!(window.tribev2 && window.tribev2.ready)"):
                break
            cdp.pump(0.1)
        else:
            print("the viewer did not start")
            return 1
        cdp.pump(1.0)
        cdp.eval("document.getElementById('play').click()")
        cdp.pump(seconds)
        cdp.eval("document.getElementById('play').click()")
        cdp.pump(0.5)
        if vertex is not None:  # NiiVue's click callback at that vertex's point
            cdp.eval(f"""(() => {{ const p = window.tribev2.surfaces[window.tribev2.state.surface];
                window.tribev2.pick({{mm: [p[{3 * vertex}], p[{3 * vertex + 1}], p[{3 * vertex + 2}]]}}); }})()""")
            print("click: " + cdp.eval("document.getElementById('hover').textContent"))
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
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
