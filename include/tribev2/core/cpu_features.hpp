// Runtime CPU feature detection for kernel dispatch. One binary runs everywhere: the fastest
// kernels are chosen at run time from what the CPU (and the operating system) support, never
// from the compiler's -march. TRIBEV2_CPU=generic|avx2|avx512|avx512bf16|amx caps the level
// (for testing the fallbacks, or to avoid a feature); it never raises it above the hardware.
#pragma once

#include <string>

namespace tribev2::cpu {

// Kernel levels, each implying the ones before it.
enum class Level {
  Generic = 0,     // portable C++ (whatever the compiler's baseline target allows)
  Avx2 = 1,        // AVX2 + FMA
  Avx512 = 2,      // AVX-512 F/BW/DQ/VL
  Avx512Bf16 = 3,  // + AVX512_BF16 (vdpbf16ps)
  Amx = 4,         // + AMX-TILE/AMX-BF16, with the OS permission to use the tile data
};

struct Features {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512_bf16 = false;
  bool amx_tile = false, amx_bf16 = false;
  bool amx_permitted = false;  // Linux granted XTILEDATA (arch_prctl ARCH_REQ_XCOMP_PERM)
  Level hardware = Level::Generic;  // best level the CPU and OS support
  Level level = Level::Generic;     // what the kernels use (hardware, capped by TRIBEV2_CPU)
};

// Detected once, on first use (thread-safe); immutable afterwards.
const Features& features();
inline Level level() { return features().level; }
const char* level_name(Level l);
// "avx512bf16 (avx2 fma avx512f ... amx_bf16)": what is used and what the CPU has.
std::string describe();

}  // namespace tribev2::cpu
