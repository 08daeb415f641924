// Subcommands whose implementation lands with their layer. Until then each one stops with a
// message saying so (no silent stubs). Each layer replaces its entry by its own cmd_*.cpp.
#include "common.hpp"
#include "tribev2/core/error.hpp"

namespace tribev2::cli {

namespace {
void pending(CLI::App& app, const char* name, const char* what, const char* issue) {
  auto* cmd = app.add_subcommand(name, std::string(what) + " (not implemented yet)");
  cmd->allow_extras();
  cmd->callback([name, issue] { fail("'", name, "' is not implemented yet in this build (", issue, ")"); });
}
}  // namespace

#ifndef TRIBEV2_HAVE_CMD_TEXT_FEATURES
void register_text_features(CLI::App& app, GlobalOptions&) {
  pending(app, "text-features", "Llama 3 word features on the 2 Hz grid", "text features issue");
}
#endif
#ifndef TRIBEV2_HAVE_CMD_AUDIO_FEATURES
void register_audio_features(CLI::App& app, GlobalOptions&) {
  pending(app, "audio-features", "Wav2Vec-BERT 2.0 audio features on the 2 Hz grid", "audio features issue");
}
#endif
#ifndef TRIBEV2_HAVE_CMD_VIDEO_FEATURES
void register_video_features(CLI::App& app, GlobalOptions&) {
  pending(app, "video-features", "V-JEPA2 video features on the 2 Hz grid", "video features issue");
}
#endif
#ifndef TRIBEV2_HAVE_CMD_VIZ
void register_viz(CLI::App& app, GlobalOptions&) {
  pending(app, "plot", "Render brain maps", "visualisation issue");
  pending(app, "movie", "Render an MP4 of the time series", "visualisation issue");
  pending(app, "fetch-mesh", "Download the fsaverage5 meshes", "visualisation issue");
}
#endif
#ifndef TRIBEV2_HAVE_CMD_RUN
void register_run(CLI::App& app, GlobalOptions&) {
  pending(app, "run", "From a video, audio file or text to brain maps", "pipeline issue");
}
#endif

}  // namespace tribev2::cli
