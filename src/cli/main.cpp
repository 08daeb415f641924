// tribev2: the command-line front end. Each subcommand lives in its own cmd_*.cpp; this file
// only wires them up and turns errors into one line on stderr and a non-zero exit.
#include <iostream>
#include <new>

#include "common.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/viz/figure.hpp"

namespace {
// Cairo's toy font API keeps fontconfig's configuration alive for the whole process. Any
// command can draw text (plot, movie, predict --plot, run's brain maps), so release those
// caches once on the way out, on every path, so leak checkers see a clean exit.
struct FontCacheRelease {
  FontCacheRelease() = default;
  FontCacheRelease(const FontCacheRelease&) = delete;
  FontCacheRelease& operator=(const FontCacheRelease&) = delete;
  ~FontCacheRelease() { tribev2::viz::release_font_caches(); }
};
}  // namespace

int main(int argc, char** argv) {
  using namespace tribev2::cli;
  const FontCacheRelease release_fonts_at_exit;
  CLI::App app{"tribev2: native TRIBE v2 brain-response prediction (fsaverage5, one map per second)"};
  app.set_version_flag("--version", std::string("tribev2 ") + TRIBEV2_VERSION);
  app.require_subcommand(1);
  GlobalOptions g;
  g.argv.assign(argv + 1, argv + argc);
  app.add_option("--threads", g.threads, "Threads (default: $TRIBEV2_NUM_THREADS or all cores)");
  app.add_option("--precision", g.precision, "Compute precision: f32 or bf16");
  app.add_option("--subject-mode", g.subject_mode, "auto | config | average (see docs/model-loading.md)");
  app.add_flag("--quiet,-q", g.quiet, "No progress or log lines");
  app.fallthrough();
  register_inspect(app, g);
  register_forward(app, g);
  register_predict(app, g);
  register_convert(app, g);
  register_demo(app, g);
  register_text_features(app, g);
  register_audio_features(app, g);
  register_video_features(app, g);
  register_viz(app, g);
  register_view(app, g);
  register_run(app, g);
  register_download(app, g);
  register_batch(app, g);
  register_roi(app, g);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const tribev2::Error& e) {
    std::cerr << "tribev2: error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "tribev2: error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "tribev2: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
