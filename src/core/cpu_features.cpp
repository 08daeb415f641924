#include "tribev2/core/cpu_features.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define TRIBEV2_X86 1
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace tribev2::cpu {

namespace {

#if defined(TRIBEV2_X86)
std::uint64_t xgetbv0() {
  std::uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

// Linux keeps the AMX tile data state disabled until the process asks for it.
bool request_amx_permission() {
#if defined(__linux__)
  constexpr long kArchGetXcompPerm = 0x1022, kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) return false;
  unsigned long bitmask = 0;
  if (syscall(SYS_arch_prctl, kArchGetXcompPerm, &bitmask) != 0) return false;
  return (bitmask & (1ul << kXfeatureXtiledata)) != 0;
#else
  return false;
#endif
}
#endif

Level parse_cap(const char* v) {
  const std::string_view s = v ? v : "";
  if (s == "generic") return Level::Generic;
  if (s == "avx2") return Level::Avx2;
  if (s == "avx512") return Level::Avx512;
  if (s == "avx512bf16") return Level::Avx512Bf16;
  return Level::Amx;  // unset or unknown: no cap
}

Features detect() {
  Features f;
#if defined(TRIBEV2_X86)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1;
  f.fma = (c >> 12) & 1;
  f.f16c = (c >> 29) & 1;
  const std::uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;                 // XMM + YMM state
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask + ZMM state
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;         // XTILECFG + XTILEDATA
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = os_avx && ((b >> 5) & 1);
    f.avx512f = os_avx512 && ((b >> 16) & 1);
    f.avx512dq = os_avx512 && ((b >> 17) & 1);
    f.avx512bw = os_avx512 && ((b >> 30) & 1);
    f.avx512vl = os_avx512 && ((b >> 31) & 1);
    f.amx_bf16 = os_amx && ((d >> 22) & 1);
    f.amx_tile = os_amx && ((d >> 24) & 1);
    unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
    if (__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) f.avx512_bf16 = os_avx512 && ((a1 >> 5) & 1);
  }
  if (f.amx_tile && f.amx_bf16) f.amx_permitted = request_amx_permission();
  if (f.avx2 && f.fma) f.hardware = Level::Avx2;
  if (f.hardware == Level::Avx2 && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl) f.hardware = Level::Avx512;
  if (f.hardware == Level::Avx512 && f.avx512_bf16) f.hardware = Level::Avx512Bf16;
  if (f.hardware == Level::Avx512Bf16 && f.amx_permitted) f.hardware = Level::Amx;
#endif
  f.level = std::min(f.hardware, parse_cap(std::getenv("TRIBEV2_CPU")));
  return f;
}

}  // namespace

const Features& features() {
  static const Features f = detect();
  return f;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::Generic: return "generic";
    case Level::Avx2: return "avx2";
    case Level::Avx512: return "avx512";
    case Level::Avx512Bf16: return "avx512bf16";
    case Level::Amx: return "amx";
  }
  return "?";
}

std::string describe() {
  const Features& f = features();
  std::string s = level_name(f.level);
  s += " (cpu:";
  const std::pair<bool, const char*> flags[] = {
      {f.avx2, "avx2"},         {f.fma, "fma"},           {f.f16c, "f16c"},         {f.avx512f, "avx512f"},
      {f.avx512bw, "avx512bw"}, {f.avx512dq, "avx512dq"}, {f.avx512vl, "avx512vl"}, {f.avx512_bf16, "avx512_bf16"},
      {f.amx_tile, "amx_tile"}, {f.amx_bf16, "amx_bf16"}, {f.amx_permitted, "amx_permitted"}};
  for (const auto& [on, name] : flags)
    if (on) {
      s += ' ';
      s += name;
    }
  return s + ")";
}

}  // namespace tribev2::cpu
