#!/usr/bin/python3
"""Fault injection for the tribev2 CLI (run by hand, not by ctest; needs root for tmpfs mounts).

  /usr/bin/python3 scripts/fault_injection.py --bin build/tribev2 [--trials 240] [--seed 1] [--doc docs/reliability.md]

1. kill -9 at a random moment of `run` (text -> espeak-ng speech -> events -> tiny Llama text
   features -> predict, stage cache shared between trials and wiped now and then), `predict`,
   `to-gifti` and `convert`, with the tiny fixture models. After each kill: every output file is
   absent or byte-identical to a clean run's (run.json: valid JSON); every cache entry folder
   with an entry.json passes its integrity hashes; then a rerun (same output folder and cache)
   must succeed and give outputs identical to the clean run's.
2. Disk full: a 1 MiB tmpfs as output folder and as cache folder: a clear error, no partial files.
3. Read-only output folder (read-only tmpfs): a clear error.
4. Two `run`s on one cache at the same time (repeated): both succeed, identical outputs.
5. Corrupted cache entries (a byte flipped in each entry's files in turn): detected, recomputed,
   the outputs stay identical and the entry is valid again.
With --doc, the figures replace the text between the generated markers of that file.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import doc_block  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")
TEXT = ("What brings you to the land of the gatekeepers? I asked her in 1984, and she didn't answer. "
        "Then we walked along the river for a while, talking about nothing in particular. Finally, the end.")


def sh(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", **kw)


def read(p):
    with open(p, "rb") as f:
        return f.read()


def files_under(d):
    out = {}
    for base, _, names in os.walk(d):
        for n in names:
            p = os.path.join(base, n)
            out[os.path.relpath(p, d)] = p
    return out


def entry_valid(d):
    """The check of StageCache::find (src/pipeline/cache.cpp), reimplemented."""
    try:
        e = json.loads(read(os.path.join(d, "entry.json")))
        want = e.pop("entry_sha256")
        canon = json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        if hashlib.sha256(canon).hexdigest() != want:
            return False
        files = {k: hashlib.sha256(read(p)).hexdigest() for k, p in files_under(d).items() if k != "entry.json"}
        return files == e["content_sha256"]
    except Exception:
        return False


def check_cache(cache):
    """(entries, corrupt entries, leftover temporary folders) of a stage cache."""
    entries = corrupt = tmp = 0
    if not os.path.isdir(cache):
        return 0, 0, 0
    for stage in os.listdir(cache):
        sd = os.path.join(cache, stage)
        if not os.path.isdir(sd):
            continue
        for key in os.listdir(sd):
            d = os.path.join(sd, key)
            if key.startswith(".tmp-"):
                tmp += 1
            elif os.path.exists(os.path.join(d, "entry.json")):
                entries += 1
                corrupt += not entry_valid(d)
    return entries, corrupt, tmp


class Case:
    """One command: how to run it into an output folder, and which files it writes."""

    def __init__(self, name, argv_fn, outputs, json_outputs=()):
        self.name, self.argv_fn, self.outputs, self.json_outputs = name, argv_fn, outputs, json_outputs
        self.reference = {}
        self.seconds = 1.0

    @staticmethod
    def normalised(data, out, cache):
        """Output bytes with the output and cache folders' paths replaced (events.tsv names the
        cached speech.wav, run.json its folders)."""
        for path, tag in ((cache, b"<CACHE>"), (out, b"<OUT>")):
            if path:
                data = data.replace(os.path.abspath(path).encode(), tag)
        return data

    def set_reference(self, out, cache):
        self.reference = {f: self.normalised(read(os.path.join(out, f)), out, cache) for f in self.outputs}

    def compare(self, out, cache=None):
        """Problems with the outputs present in `out` (absent is fine)."""
        bad = []
        cache = cache or os.path.join(out, "cache")
        for f in self.outputs:
            p = os.path.join(out, f)
            if os.path.exists(p) and self.normalised(read(p), out, cache) != self.reference[f]:
                bad.append(f"{f} differs from the clean run ({os.path.getsize(p)} vs {len(self.reference[f])} bytes)")
        for f in self.json_outputs:
            p = os.path.join(out, f)
            if os.path.exists(p):
                try:
                    json.loads(read(p))
                except ValueError:
                    bad.append(f"{f} is not valid JSON")
        return bad


def leftovers(out, case):
    """Files in the output folder that are neither outputs nor the cache (e.g. temporary files)."""
    known = set(case.outputs) | set(case.json_outputs)
    return sorted(k for k in files_under(out) if k not in known and not k.startswith("cache" + os.sep)
                  and not k.startswith("cache/"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "tribev2"))
    ap.add_argument("--trials", type=int, default=240, help="kill -9 trials in total (split over the commands)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--doc", help="update the generated section of this markdown file")
    args = ap.parse_args()
    exe = os.path.abspath(args.bin)
    rnd = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="tribev2-fi-")
    report = {"kill": {}, "notes": []}
    failures = []
    try:
        os.chdir(work)
        with open("story.txt", "w") as f:
            f.write(TEXT)
        rng = np.random.default_rng(args.seed)
        np.save("preds20484.npy", rng.standard_normal((12, 20484)).astype(np.float32))
        tl = os.path.join(FIX, "brain_model", "tribe_like")
        for m in ("text", "audio", "video"):  # the fixture's inputs are [1, L, D, N]; predict takes [L, D, N]
            np.save(f"tl_{m}.npy", np.load(os.path.join(tl, f"input_{m}.npy"))[0])
        # run's audio features (the tiny model's audio input is 2 x 12; no extractor gives it):
        # sized from the events of a first clean run.
        env = dict(os.environ, OMP_NUM_THREADS="1")
        r = sh([exe, "events", "--text", "story.txt", "--out", "ev.tsv", "--cache-dir", "evcache"], env=env)
        if r.returncode != 0:
            sys.exit("events failed:\n" + r.stdout)
        stop = 0.0
        lines = read("ev.tsv").decode().splitlines()
        head = lines[0].split("\t")
        for ln in lines[1:]:
            row = dict(zip(head, ln.split("\t")))
            try:
                stop = max(stop, float(row["start"]) + float(row["duration"]))
            except (KeyError, ValueError):
                pass
        n = int(np.floor(2 * stop + 0.5))
        np.save("audio.npy", rng.standard_normal((2, 12, n)).astype(np.float32))

        def run_argv(out, cache=None):
            return [exe, "--threads", "1", "run", "--text", "story.txt", "--model", os.path.join(FIX, "brain_model", "text64_pipeline"),
                    "--out", out, "--llama", os.path.join(FIX, "text_features", "tiny-llama"),
                    "--audio-features", "audio.npy", "--cache-dir", cache or os.path.join(out, "cache")]

        cases = [
            Case("run", run_argv, ["preds.npy", "segments.json", "events.tsv", "transcript.tsv", "speech.wav"], ["run.json"]),
            Case("predict", lambda out, cache=None: [exe, "--threads", "1", "predict", "--model", tl, "--features",
                                                     "text=tl_text.npy", "--features", "audio=tl_audio.npy",
                                                     "--features", "video=tl_video.npy", "--output",
                                                     os.path.join(out, "preds.npy")],
                 ["preds.npy", "preds_segments.json"]),
            Case("to-gifti", lambda out, cache=None: [exe, "to-gifti", "preds20484.npy", "--out-dir", out, "--maps"], []),
            Case("convert", lambda out, cache=None: [exe, "convert", "--model", os.path.join(tl, "best.ckpt"), "--out", out],
                 ["model.safetensors", "build_args.json", "config.yaml"]),
        ]
        # Clean runs: the reference outputs, and how long a trial lasts when nothing kills it (the
        # kill window). The window is the median of three runs in the state the trials meet:
        # `run` is timed with a cold cache and again with a warm one (its trials share a cache),
        # so that kills land mid-command instead of after a command that finished early.
        def timed(argv):
            t = time.monotonic()
            r = sh(argv, env=env)
            return time.monotonic() - t, r
        for c in cases:
            out = os.path.join(work, "ref-" + c.name)
            seconds, r = timed(c.argv_fn(out))
            if r.returncode != 0:
                sys.exit(f"clean {c.name} failed:\n{r.stdout}")
            if not c.outputs:  # to-gifti: whatever it wrote
                c.outputs = sorted(files_under(out))
            c.set_reference(out, os.path.join(out, "cache"))
            again = [timed(c.argv_fn(os.path.join(work, f"time-{c.name}-{j}"), os.path.join(out, "cache")))[0]
                     for j in range(3)]
            if c.name == "run":
                c.cold_seconds, c.seconds = seconds, sorted(again)[1]
            else:
                c.cold_seconds = c.seconds = sorted(again + [seconds])[1]
            print(f"clean {c.name}: {c.seconds:.2f} s (cold cache {c.cold_seconds:.2f} s), outputs "
                  f"{', '.join(c.outputs + list(c.json_outputs))}", flush=True)

        # ---- 1. kill -9 at random moments -------------------------------------------------
        weights = {"run": 0.4, "predict": 0.2, "to-gifti": 0.2, "convert": 0.2}
        run_cache = os.path.join(work, "shared-cache")
        for c in cases:
            k = max(1, int(round(args.trials * weights[c.name])))
            st = {"trials": k, "killed": 0, "finished_before_kill": 0, "bad_outputs": 0, "corrupt_cache_entries": 0,
                  "rerun_failures": 0, "leftover_files": 0, "cache_entries_checked": 0, "stale_tmp_cache_folders": 0,
                  "stray_after_rerun": 0, "cache_tmp_after_rerun": 0}
            for i in range(k):
                out = os.path.join(work, f"t-{c.name}-{i}")
                cache = None
                window = c.seconds
                if c.name == "run":
                    if rnd.random() < 0.35 and os.path.exists(run_cache):
                        shutil.rmtree(run_cache)  # start cold now and then, so kills land in every stage
                    cache = run_cache
                    if not os.path.exists(run_cache):
                        window = c.cold_seconds
                delay = rnd.uniform(0.02, 1.0) * window
                p = subprocess.Popen(c.argv_fn(out, cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                     start_new_session=True)
                time.sleep(delay)
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)  # the tool and any child it started
                    st["killed"] += 1
                else:
                    st["finished_before_kill"] += 1
                p.wait()
                bad = c.compare(out, cache) if os.path.isdir(out) else []
                left = leftovers(out, c) if os.path.isdir(out) else []
                if bad:
                    st["bad_outputs"] += 1
                    failures.append(f"{c.name} trial {i} (killed after {delay:.2f} s): {bad}")
                if left:
                    st["leftover_files"] += 1
                    report["notes"].append(f"{c.name} trial {i}: left {left}")
                    print(f"{c.name} trial {i} (killed after {delay:.2f} s): left {left}", flush=True)
                if c.name == "run":
                    entries, corrupt, tmp = check_cache(cache)
                    st["cache_entries_checked"] += entries
                    st["stale_tmp_cache_folders"] += tmp
                    if corrupt:
                        st["corrupt_cache_entries"] += corrupt
                        failures.append(f"run trial {i}: {corrupt} corrupt cache entries")
                r = sh(c.argv_fn(out, cache), env=env)
                bad = c.compare(out, cache)
                missing = [f for f in c.outputs if not os.path.exists(os.path.join(out, f))]
                if r.returncode != 0 or bad or missing:
                    st["rerun_failures"] += 1
                    failures.append(f"{c.name} trial {i} rerun: rc {r.returncode} {bad} missing {missing}\n{r.stdout[-600:]}")
                # What a kill leaves (a dead process's temporary) must be gone once the command ran again.
                left = leftovers(out, c)
                if left:
                    st["stray_after_rerun"] += 1
                    failures.append(f"{c.name} trial {i}: the rerun left {left}")
                if c.name == "run":
                    st["cache_tmp_after_rerun"] += check_cache(cache)[2]
                shutil.rmtree(out, ignore_errors=True)
            report["kill"][c.name] = st
            print(c.name, st, flush=True)

        # ---- 2. disk full, 3. read-only -------------------------------------------------------
        report["disk"] = []
        mnt = os.path.join(work, "mnt")
        os.makedirs(mnt)

        def with_mount(opts, fn):
            r = sh(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", mnt])
            if r.returncode != 0:
                report["disk"].append({"case": opts, "result": "skipped: cannot mount tmpfs (" + r.stdout.strip() + ")"})
                return
            try:
                fn()
            finally:
                sh(["umount", mnt])

        def disk_case(label, case, out_rel, cache_rel=None, expect_words=("No space left", "no space")):
            def fn():
                out = os.path.normpath(os.path.join(mnt, out_rel)) if out_rel else os.path.join(work, "df-out-" + case.name)
                cache = os.path.join(mnt, cache_rel) if cache_rel else None
                if case.name == "run" and cache is None:
                    cache = os.path.join(work, "df-cache")
                    shutil.rmtree(cache, ignore_errors=True)
                r = sh(case.argv_fn(out, cache), env=env)
                msg = [ln for ln in r.stdout.splitlines() if "error" in ln.lower()]
                partial = [] if not os.path.isdir(out) else [f for f in files_under(out) if not f.startswith("cache")]
                partial = [f for f in partial if f not in case.reference or f in case.compare(out, cache)]
                ok_msg = any(any(w.lower() in ln.lower() for w in expect_words) for ln in msg)
                _, cache_bad, cache_tmp = check_cache(cache) if cache else (0, 0, 0)
                if cache_tmp:
                    partial.append(f"{cache_tmp} temporary cache folders")
                res = {"case": label, "rc": r.returncode, "message": msg[-1][:300] if msg else r.stdout[-300:],
                       "partial_files": partial, "corrupt_cache_entries": cache_bad}
                ok = r.returncode != 0 and ok_msg and not partial and not cache_bad
                res["result"] = "ok" if ok else "FAILED"
                if not ok:
                    failures.append(f"{label}: {res}")
                report["disk"].append(res)
                print(res, flush=True)
                shutil.rmtree(out, ignore_errors=True) if not out.startswith(mnt) else None
            return fn

        by = {c.name: c for c in cases}
        with_mount("size=64k", disk_case("disk full: run --out on a 64 KiB tmpfs", by["run"], "out"))
        with_mount("size=256k", disk_case("disk full: run --cache-dir on a 256 KiB tmpfs", by["run"], None, "cache"))
        with_mount("size=4k", disk_case("disk full: predict --output on a 4 KiB tmpfs", by["predict"], "out"))
        with_mount("size=1m", disk_case("disk full: to-gifti --out-dir on a 1 MiB tmpfs", by["to-gifti"], "out"))
        with_mount("size=256k", disk_case("disk full: convert --out on a 256 KiB tmpfs", by["convert"], "out"))
        ro_words = ("Read-only file system",)
        for c in cases:  # the output folder exists and is read-only / must be created on a read-only file system
            with_mount("ro,size=1m", disk_case(f"read-only: {c.name} into an existing read-only folder", c, ".", None, ro_words))
            with_mount("ro,size=1m", disk_case(f"read-only: {c.name} into a new folder on a read-only file system", c, "out",
                                               None, ro_words))

        # ---- 4. two runs on one cache at once ----------------------------------------------------
        conc = {"rounds": 5, "failures": 0}
        c = by["run"]
        for i in range(conc["rounds"]):
            cache = os.path.join(work, f"conc-cache-{i}")
            outs = [os.path.join(work, f"conc-{i}-{j}") for j in range(2)]
            ps = [subprocess.Popen(c.argv_fn(o, cache), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   errors="replace", env=env)
                  for o in outs]
            res = [(p.wait(), p.stdout.read()) for p in ps]  # noqa: the outputs are small
            bad = [(rc, o[-500:]) for rc, o in res if rc != 0]
            for o in outs:
                bad += c.compare(o, cache) + [f"missing {f}" for f in c.outputs if not os.path.exists(os.path.join(o, f))]
            bad += [f"corrupt cache entries: {check_cache(cache)[1]}"] if check_cache(cache)[1] else []
            if bad:
                conc["failures"] += 1
                failures.append(f"concurrent runs round {i}: {bad}")
        report["concurrent"] = conc
        print("concurrent", conc, flush=True)

        # ---- 5. corrupted cache entries ----------------------------------------------------------
        corr = {"entries_corrupted": 0, "detected_and_recomputed": 0, "failures": 0}
        cache = os.path.join(work, "corrupt-cache")
        out = os.path.join(work, "corrupt-out")
        r = sh(c.argv_fn(out, cache), env=env)
        assert r.returncode == 0, r.stdout
        for stage in sorted(os.listdir(cache)):
            sd = os.path.join(cache, stage)
            for key in sorted(os.listdir(sd)) if os.path.isdir(sd) else []:
                d = os.path.join(sd, key)
                if key.startswith(".") or not os.path.exists(os.path.join(d, "entry.json")):
                    continue
                for rel, p in sorted(files_under(d).items()):
                    data = bytearray(read(p))
                    if not data:
                        continue
                    pos = rnd.randrange(len(data))
                    data[pos] ^= 0x01 if rel == "entry.json" else 0x80
                    with open(p, "wb") as f:
                        f.write(data)
                    corr["entries_corrupted"] += 1
                    r = sh(c.argv_fn(out, cache), env=env)
                    rj = json.loads(read(os.path.join(out, "run.json"))) if r.returncode == 0 else {}
                    statuses = {s["name"]: s["status"] for s in rj.get("stages", [])}
                    recomputed = any(v == "computed" for v in statuses.values())
                    # The flipped byte is gone only if the entry was detected and rewritten (a used
                    # entry would still hold it); the outputs must not have changed.
                    ok = r.returncode == 0 and not c.compare(out, cache) and entry_valid(d)
                    corr["reported_computed"] = corr.get("reported_computed", 0) + recomputed
                    if ok:
                        corr["detected_and_recomputed"] += 1
                    else:
                        corr["failures"] += 1
                        failures.append(f"corrupted {stage}/{key[:12]}/{rel} at byte {pos}: rc {r.returncode}, "
                                        f"outputs {c.compare(out, cache)}, entry valid {entry_valid(d)}, stages {statuses}")
        report["corrupt"] = corr
        print("corrupt", corr, flush=True)
    finally:
        os.chdir(ROOT)
        sh(["umount", os.path.join(work, "mnt")])
        shutil.rmtree(work, ignore_errors=True)

    report["failures"] = failures
    total = sum(s["trials"] for s in report["kill"].values())
    print(f"== {total} kill -9 trials; {len(failures)} failures")
    for f in failures:
        print("FAIL:", f)
    if args.doc:
        write_doc(args.doc, report, args)
    sys.exit(1 if failures else 0)


def write_doc(path, rep, args):
    L = [f"Generated by `/usr/bin/python3 scripts/fault_injection.py --trials {args.trials} --seed {args.seed} "
         f"--doc {os.path.relpath(path, ROOT)}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", "",
         "| command | kill -9 trials | killed mid-way | finished first | bad outputs | corrupt cache entries | "
         "cache entries checked | rerun failures | trials leaving stray files | stray files after the rerun | "
         "temporary cache folders after the rerun |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in rep["kill"].items():
        L.append(f"| `{name}` | {s['trials']} | {s['killed']} | {s['finished_before_kill']} | {s['bad_outputs']} | "
                 f"{s['corrupt_cache_entries']} | {s['cache_entries_checked']} | {s['rerun_failures']} | {s['leftover_files']} | "
                 f"{s.get('stray_after_rerun', '')} | {s.get('cache_tmp_after_rerun', '') if name == 'run' else '-'} |")
    tot = lambda k: sum(s[k] for s in rep["kill"].values())  # noqa: E731
    L.append(f"| **all** | **{tot('trials')}** | {tot('killed')} | {tot('finished_before_kill')} | {tot('bad_outputs')} | "
             f"{tot('corrupt_cache_entries')} | {tot('cache_entries_checked')} | {tot('rerun_failures')} | {tot('leftover_files')} | "
             f"{tot('stray_after_rerun')} | {tot('cache_tmp_after_rerun')} |")
    L += ["", "| disk full / read-only case | exit code | partial files | corrupt cache entries | result | message |",
          "|---|---|---|---|---|---|"]
    for d in rep.get("disk", []):
        msg = d.get("message", "").replace("|", "\\|").replace("\n", " ")
        L.append(f"| {d['case']} | {d.get('rc', '')} | {len(d.get('partial_files', []))} | {d.get('corrupt_cache_entries', '')} | "
                 f"{d['result']} | `{msg}` |")
    c = rep.get("concurrent", {})
    k = rep.get("corrupt", {})
    L += ["", f"Two `run`s on one cache at once: {c.get('rounds', 0)} rounds, {c.get('failures', 0)} failures.", "",
          f"Corrupted cache entries (one byte flipped in one file of an entry, each file of each entry in turn): "
          f"{k.get('entries_corrupted', 0)} corruptions, {k.get('detected_and_recomputed', 0)} detected and recomputed, "
          f"{k.get('failures', 0)} failures.", "",
          f"Failures in total: **{len(rep['failures'])}**."]
    for f in rep["failures"][:20]:
        L.append(f"- {f.splitlines()[0][:300]}")
    if rep["notes"]:
        L += ["", "Stray files found right after a kill (before the rerun, which must still succeed):"]
        L += [f"- {n[:300]}" for n in rep["notes"][:20]]
    doc_block.replace_block(path, "fault-injection", "\n".join(L))


if __name__ == "__main__":
    main()
