#!/usr/bin/python3
"""Browser test of `tribev2 view`: writes a viewer for a small run-like folder (6 rows, a 6 s
WebM clip with sound, three words), opens it in headless Chromium (Debian's, software WebGL via
SwiftShader) through the DevTools protocol and checks: no console errors or exceptions, brain
pixels in the canvas, the slider changes the picture, play advances the media and the rows with
it, a click names the vertex, its value and its atlas region. Exit 77 (ctest: skipped) only when
Chromium is absent.

usage: viewer_browser_test.py TRIBEV2_BINARY WORK_DIR [SCREENSHOT_DIR]
"""
import base64
import contextlib
import gzip
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77


def find_chromium():
    for c in (os.environ.get("TRIBEV2_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
              shutil.which("chromium-browser")):
        if c and os.path.exists(c):
            return c
    return None


def write_fake_fsaverage5(d):
    """Icospheres of 10,242 vertices per hemisphere under fsaverage5's file names (GIFTI, gzip)."""
    import numpy as np
    import nibabel as nib
    t = (1 + 5 ** 0.5) / 2
    v = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t), (0, 1, -t),
         (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    f = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2), (10, 7, 6),
         (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5), (2, 4, 11), (6, 2, 10),
         (8, 6, 7), (9, 8, 1)]
    verts = [np.array(p, float) / np.linalg.norm(p) for p in v]
    faces = f
    for _ in range(5):
        cache, nf = {}, []

        def mid(a, b):
            k = (min(a, b), max(a, b))
            if k not in cache:
                m = verts[a] + verts[b]
                verts.append(m / np.linalg.norm(m))
                cache[k] = len(verts) - 1
            return cache[k]
        for a, b, c in faces:
            ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
            nf += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        faces = nf
    pts = np.array(verts, np.float32)
    tris = np.array(faces, np.int32)
    assert len(pts) == 10242
    os.makedirs(d, exist_ok=True)
    for hemi, sign in (("left", -1), ("right", 1)):
        p = pts * np.array([35, 70, 50], np.float32) + np.array([sign * 40, 0, 0], np.float32)
        for kind in ("pial", "white", "infl", "sphere"):
            img = nib.gifti.GiftiImage(darrays=[
                nib.gifti.GiftiDataArray(p.astype(np.float32), intent="NIFTI_INTENT_POINTSET", datatype="NIFTI_TYPE_FLOAT32"),
                nib.gifti.GiftiDataArray(tris, intent="NIFTI_INTENT_TRIANGLE", datatype="NIFTI_TYPE_INT32")])
            with gzip.open(os.path.join(d, f"{kind}_{hemi}.gii.gz"), "wb") as fh:
                fh.write(img.to_bytes())
        for kind in ("sulc", "curv"):
            img = nib.gifti.GiftiImage(darrays=[nib.gifti.GiftiDataArray(
                np.sin(pts[:, 2] * 6).astype(np.float32), intent="NIFTI_INTENT_SHAPE", datatype="NIFTI_TYPE_FLOAT32")])
            with gzip.open(os.path.join(d, f"{kind}_{hemi}.gii.gz"), "wb") as fh:
                fh.write(img.to_bytes())


def make_inputs(work):
    import numpy as np
    run = os.path.join(work, "run")
    os.makedirs(run, exist_ok=True)
    n = 6
    idx = np.arange(20484)
    rows = np.stack([np.sin(idx * 0.003 + 1.3 * r) for r in range(n)]).astype(np.float32)
    np.save(os.path.join(run, "preds.npy"), rows)
    json.dump({"tr_s": 1.0, "rows": [{"row": i, "start": float(i), "end": float(i + 1)} for i in range(n)]},
              open(os.path.join(run, "segments.json"), "w"))
    clip = os.path.join(work, "clip.webm")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-f", "lavfi",
                    "-i", "sine=frequency=440:sample_rate=48000", "-t", "6", "-c:v", "libvpx", "-b:v", "200k",
                    "-c:a", "libopus", clip], check=True)
    hdr = "type\tstart\tduration\tfilepath\toffset\ttext\n"
    lines = [f"Video\t0.0\t6.0\t{clip}\t0.0\t", f"Audio\t0.0\t6.0\t{clip}\t0.0\t", "Word\t0.5\t0.3\t\t\thello",
             "Word\t2.5\t0.3\t\t\tbrain", "Word\t4.5\t0.3\t\t\tworld"]
    open(os.path.join(run, "events.tsv"), "w").write(hdr + "\n".join(lines) + "\n")
    # An atlas for the click's region name: per hemisphere, vertices below 5,000 "alpha", the rest
    # "beta" (FreeSurfer annotations written by nibabel).
    import nibabel.freesurfer as fsio
    ctab = np.array([[200, 30, 30, 0, 0], [30, 30, 200, 0, 0]], np.int32)
    ctab[:, 4] = ctab[:, 0] + ctab[:, 1] * 256 + ctab[:, 2] * 65536
    labels = (np.arange(10242) >= 5000).astype(np.int32)
    for h in ("lh", "rh"):
        fsio.write_annot(os.path.join(work, f"{h}.test.annot"), labels, ctab, [b"alpha", b"beta"], fill_ctab=False)
    return run


class Cdp:
    def __init__(self, ws_url):
        import websocket
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def eval(self, expr, await_promise=False):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def pump(self, seconds):
        self.ws.settimeout(0.05)
        end = time.time() + seconds
        while time.time() < end:
            try:
                self.events.append(json.loads(self.ws.recv()))
            except Exception:
                pass
        self.ws.settimeout(30)

    def errors(self):
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append("exception: " + json.dumps(p.get("exceptionDetails", {}))[:400])
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.error: " + json.dumps(p.get("args", []))[:400])
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append("log: " + p["entry"].get("text", "")[:400])
        return out

    def screenshot(self, clip):
        from PIL import Image
        r = self.call("Page.captureScreenshot", format="png", clip=dict(clip, scale=1))
        return Image.open(io.BytesIO(base64.b64decode(r["data"]))).convert("RGB"), base64.b64decode(r["data"])


@contextlib.contextmanager
def open_viewer(chromium, html):
    """Headless Chromium (software WebGL) showing the page `html` at 1300 x 700, connected over
    the DevTools protocol: yields (cdp, ready), ready once window.tribev2.ready is set (up to
    30 s). The browser and its profile are removed on exit."""
    profile = tempfile.mkdtemp(prefix="tribev2-chromium-")
    proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync",
                             "--no-first-run", "--autoplay-policy=no-user-gesture-required", "--mute-audio",
                             "--window-size=1300,700", f"--user-data-dir={profile}", "--remote-debugging-port=0",
                             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().count("\n") >= 1:
                break
            time.sleep(0.1)
        port = open(port_file).read().split("\n")[0]
        # The page target: the browser endpoint's list of tabs.
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        cdp = Cdp([t for t in targets if t["type"] == "page"][0]["webSocketDebuggerUrl"])
        cdp.call("Runtime.enable")
        cdp.call("Log.enable")
        cdp.call("Page.enable")
        cdp.call("Emulation.setDeviceMetricsOverride", width=1300, height=700, deviceScaleFactor=1, mobile=False)
        cdp.call("Page.navigate", url="file://" + os.path.abspath(html))
        ready = False
        for _ in range(300):
            if cdp.eval("!!(window.tribev2 && window.tribev2.ready)"):
                ready = True
                break
            cdp.pump(0.1)
        yield cdp, ready
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def click_vertex(cdp, vertex):
    """NiiVue's click callback at the point of left vertex `vertex` on the shown surface; returns
    the text the page shows for it."""
    return cdp.eval(f"""(() => {{ const p = window.tribev2.surfaces[window.tribev2.state.surface];
        window.tribev2.pick({{mm: [p[{3 * vertex}], p[{3 * vertex + 1}], p[{3 * vertex + 2}]]}});
        return document.getElementById('hover').textContent; }})()""")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, work = sys.argv[1], sys.argv[2]
    shots = sys.argv[3] if len(sys.argv) > 3 else None
    chromium = find_chromium()
    if not chromium:
        print("SKIP: Chromium is not installed (Debian package `chromium`; scripts/install-deps.sh --test installs it)")
        return SKIP
    t_start = time.time()
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    mesh = os.environ.get("TRIBEV2_TEST_MESH_DIR", "")
    if not mesh or not os.path.exists(os.path.join(mesh, "pial_left.gii.gz")):
        mesh = os.path.join(work, "fsaverage5")
        write_fake_fsaverage5(mesh)
        print("meshes: generated icospheres (set TRIBEV2_TEST_MESH_DIR for the real fsaverage5)")
    run = make_inputs(work)
    html = os.path.join(work, "out", "viewer.html")
    os.makedirs(os.path.dirname(html))
    atlas = os.path.join(work, "lh.test.annot") + "," + os.path.join(work, "rh.test.annot")
    subprocess.run([binary, "-q", "view", run, "--out", html, "--mesh-dir", mesh, "--cmap", "fire", "--norm-percentile",
                    "99", "--vmin", "0.6", "--alpha-cmap", "0,0.2", "--atlas", atlas], check=True)
    assert os.path.exists(os.path.join(work, "out", "viewer_media", "clip.webm")), "media not beside the page"
    page = open(html, encoding="utf-8").read()
    assert '"src":"viewer_media/clip.webm"' in page, "the page does not name its media relatively"
    failures = []
    with open_viewer(chromium, html) as (cdp, ready):
        if not ready:
            failures.append("the viewer did not start (window.tribev2.ready never set)")
        cdp.pump(1.0)
        box = cdp.eval("(() => { const r = document.getElementById('brainbox').getBoundingClientRect();"
                       " return {x: r.x, y: r.y, width: r.width, height: r.height}; })()")

        def brain_pixels(img):
            w, h = img.size
            px = img.load()
            n = 0
            for y in range(2, h - 2, 2):
                for x in range(2, w - 2, 2):
                    r, g, b = px[x, y]
                    if abs(r - 255) + abs(g - 255) + abs(b - 255) > 30:
                        n += 1
            return n, (w // 2) * (h // 2)
        img0, png0 = cdp.screenshot(box)
        n0, total = brain_pixels(img0)
        print(f"brain pixels at row 0: {n0} of {total} sampled")
        if n0 < total * 0.05:
            failures.append(f"the brain area is (nearly) empty: {n0} non-white of {total} sampled pixels")
        # Warm colours (fire over grey): some pixels with red well above blue.
        warm = sum(1 for p in img0.getdata() if p[0] > p[2] + 60)
        if warm < 200:
            failures.append(f"no data colours on the brain ({warm} warm pixels)")
        # The slider: row 3 differs from row 0.
        cdp.eval("(() => { const s = document.getElementById('slider'); s.value = '3';"
                 " s.dispatchEvent(new Event('input')); })()")
        cdp.pump(0.5)
        img3, png3 = cdp.screenshot(box)
        diff = sum(1 for a, b in zip(img0.getdata(), img3.getdata()) if sum(abs(x - y) for x, y in zip(a, b)) > 30)
        print(f"pixels changed by the slider (row 0 -> 3): {diff}")
        if diff < 500:
            failures.append(f"the slider did not change the picture ({diff} pixels changed)")
        if cdp.eval("document.body.dataset.row") != "3":
            failures.append("the slider did not select row 3")
        # Play: back to row 0, play for ~2.5 s; the media time and the row advance together.
        cdp.eval("(() => { const s = document.getElementById('slider'); s.value = '0';"
                 " s.dispatchEvent(new Event('input')); })()")
        cdp.pump(0.5)
        cdp.eval("document.getElementById('play').click()")
        cdp.pump(2.5)
        mt = cdp.eval("window.tribev2.media ? window.tribev2.media.currentTime : -1")
        row = int(cdp.eval("document.body.dataset.row"))
        words = cdp.eval("document.getElementById('words').textContent")
        print(f"after play: media time {mt:.2f} s, row {row}, words '{words}'")
        if not (mt > 1.0):
            failures.append(f"play did not advance the media (currentTime {mt})")
        elif row != int(mt) and row != int(mt) - 1:
            failures.append(f"row {row} does not follow the media time {mt:.2f} s")
        if "hello" not in words:
            failures.append(f"the current words do not show 'hello' ({words!r})")
        cdp.eval("document.getElementById('play').click()")
        # A click on a surface point names the nearest vertex, its value and its atlas region
        # (NiiVue's onLocationChange, called with the point of left vertex 100, then 6000).
        for vertex, region in ((100, "alpha"), (6000, "beta")):
            text = click_vertex(cdp, vertex)
            print(f"click at left vertex {vertex}: '{text}'")
            if not text.startswith(f"vertex {vertex} (left {vertex}): ") or not text.endswith(region):
                failures.append(f"a click at left vertex {vertex} shows {text!r}, expected its value and '{region}'")
        errs = cdp.errors()
        if errs:
            failures.append("console errors:\n  " + "\n  ".join(errs))
        if shots:
            os.makedirs(shots, exist_ok=True)
            full = cdp.call("Page.captureScreenshot", format="png")
            open(os.path.join(shots, "viewer.png"), "wb").write(base64.b64decode(full["data"]))
            open(os.path.join(shots, "viewer_row3.png"), "wb").write(png3)
    print(f"took {time.time() - t_start:.1f} s")
    if failures:
        print("FAIL:\n" + "\n".join(failures))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
