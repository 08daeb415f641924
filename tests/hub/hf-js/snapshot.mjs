// Downloads a repository with Hugging Face's own JavaScript client (@huggingface/hub, pinned by
// package-lock.json) into a huggingface_hub-style cache, so that the hub tests can check that
// the local test Hub answers the requests of a client we did not write, and that `tribev2
// download` lays out the cache exactly as that client does.
//
//   node snapshot.mjs ENDPOINT REPO_ID CACHE_DIR [REVISION]
// Prints the snapshot folder as the last line of stdout; exits 1 with the client's error.
import { snapshotDownload } from "@huggingface/hub";

const [endpoint, repo, cacheDir, revision] = process.argv.slice(2);
if (!endpoint || !repo || !cacheDir) {
  console.error("usage: node snapshot.mjs ENDPOINT REPO_ID CACHE_DIR [REVISION]");
  process.exit(2);
}
console.debug = () => {}; // the client logs each file it fetches on stdout
try {
  const folder = await snapshotDownload({ repo, cacheDir, hubUrl: endpoint, revision: revision || "main" });
  console.log(folder);
} catch (e) {
  console.error(`@huggingface/hub snapshotDownload failed: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
}
