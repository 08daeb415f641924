// Placeholder until the audio decoder lands: every entry point fails loudly.
#include "tribev2/core/error.hpp"
#include "tribev2/media/audio.hpp"

namespace tribev2::media {

namespace {
[[noreturn]] void pending(const std::filesystem::path& p) {
  fail(p.string(), ": audio decoding is not implemented yet in this build (media layer pending)");
}
}  // namespace

bool has_audio(const std::filesystem::path& path) { pending(path); }
AudioInfo probe_audio(const std::filesystem::path& path) { pending(path); }
AudioBuffer decode_audio(const std::filesystem::path& path, double, double) { pending(path); }
AudioBuffer decode_audio_like_moviepy(const std::filesystem::path& path) { pending(path); }
void write_wav(const std::filesystem::path& path, const AudioBuffer&, bool) { pending(path); }

}  // namespace tribev2::media
