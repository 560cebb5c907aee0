#include "runtime/container/device_filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace kubit::runtime::container {

namespace {

// Instruction building, as the kernel's filter.h macros do.
uint64_t Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  uint64_t raw;
  memcpy(&raw, &i, sizeof(raw));
  return raw;
}
uint64_t LoadCtx32(uint8_t dst, int16_t off) { return Insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, off, 0); }
uint64_t Mov64Reg(uint8_t dst, uint8_t src) { return Insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
uint64_t Mov32Imm(uint8_t dst, int32_t imm) { return Insn(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm); }
uint64_t And32Imm(uint8_t dst, int32_t imm) { return Insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm); }
uint64_t Rsh32Imm(uint8_t dst, int32_t imm) { return Insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm); }
uint64_t JneImm(uint8_t dst, int32_t imm, int16_t off) { return Insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm); }
uint64_t Exit() { return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// Registers: r2 device type, r3 requested access, r4 major, r5 minor.
constexpr uint8_t kType = BPF_REG_2, kAccess = BPF_REG_3, kMajor = BPF_REG_4, kMinor = BPF_REG_5, kTmp = BPF_REG_6;

int32_t AccessBits(const std::string& access) {
  int32_t bits = 0;
  for (char c : access) {
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
    if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
  }
  return bits;
}

// One rule: checks that each jump past the rule on a mismatch, then
// "allow". The jumps' offsets are set once the rule's length is known.
std::vector<uint64_t> RuleBlock(const DeviceRule& r) {
  std::vector<uint64_t> out;
  std::vector<size_t> jumps;
  auto jump = [&](uint8_t reg, int32_t imm) {
    jumps.push_back(out.size());
    out.push_back(JneImm(reg, imm, 0));
  };
  if (r.type != 'a') jump(kType, r.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
  // Every access asked for must be allowed: (access & ~allowed) == 0.
  int32_t allowed = AccessBits(r.access);
  out.push_back(Mov64Reg(kTmp, kAccess));
  out.push_back(And32Imm(kTmp, ~allowed & (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)));
  jump(kTmp, 0);
  if (r.major >= 0) jump(kMajor, static_cast<int32_t>(r.major));
  if (r.minor >= 0) jump(kMinor, static_cast<int32_t>(r.minor));
  out.push_back(Mov32Imm(BPF_REG_0, 1));
  out.push_back(Exit());
  for (size_t j : jumps) {
    bpf_insn i;
    memcpy(&i, &out[j], sizeof(i));
    i.off = static_cast<int16_t>(out.size() - j - 1);
    memcpy(&out[j], &i, sizeof(i));
  }
  return out;
}

int64_t Bpf(int cmd, bpf_attr* attr) { return syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }

}  // namespace

const std::vector<std::string>& DefaultDeviceRules() {
  static const std::vector<std::string> rules = {
      "c *:* m",   "b *:* m",   "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm",   "c 1:8 rwm",
      "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
  };
  return rules;
}

bool ParseDeviceRule(const std::string& text, DeviceRule* out) {
  DeviceRule r;
  if (text == "a") {
    r.access = "rwm";
    *out = r;
    return true;
  }
  char type, major[16], minor[16], access[8];
  if (sscanf(text.c_str(), "%c %15[0-9*]:%15[0-9*] %7s", &type, major, minor, access) != 4) return false;
  if (type != 'c' && type != 'b' && type != 'a') return false;
  if (strspn(access, "rwm") != strlen(access)) return false;
  r.type = type;
  r.major = strcmp(major, "*") == 0 ? -1 : strtoll(major, nullptr, 10);
  r.minor = strcmp(minor, "*") == 0 ? -1 : strtoll(minor, nullptr, 10);
  r.access = access;
  *out = r;
  return true;
}

std::vector<uint64_t> DeviceFilterProgram(const std::vector<DeviceRule>& rules) {
  // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }:
  // the type in access_type's low 16 bits, the access in the high ones.
  std::vector<uint64_t> prog = {
      LoadCtx32(kType, 0), Mov64Reg(kAccess, kType), And32Imm(kType, 0xffff), Rsh32Imm(kAccess, 16),
      LoadCtx32(kMajor, 4), LoadCtx32(kMinor, 8),
  };
  for (const auto& r : rules) {
    std::vector<uint64_t> block = RuleBlock(r);
    prog.insert(prog.end(), block.begin(), block.end());
  }
  // Nothing matched: denied.
  prog.push_back(Mov32Imm(BPF_REG_0, 0));
  prog.push_back(Exit());
  return prog;
}

bool AttachDeviceFilter(const std::string& cgroup_dir, const std::vector<DeviceRule>& rules, std::string* error) {
  std::vector<uint64_t> prog = DeviceFilterProgram(rules);
  static const char kLicense[] = "Apache";
  // Loaded without the verifier's log; only a refusal is loaded again with
  // it, for the message.
  char log[8192] = "";
  int fd = -1;
  for (uint32_t level : {0u, 1u}) {
    bpf_attr load{};
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = reinterpret_cast<uint64_t>(prog.data());
    load.insn_cnt = static_cast<uint32_t>(prog.size());
    load.license = reinterpret_cast<uint64_t>(kLicense);
    if (level) {
      load.log_buf = reinterpret_cast<uint64_t>(log);
      load.log_size = sizeof(log);
      load.log_level = level;
    }
    fd = static_cast<int>(Bpf(BPF_PROG_LOAD, &load));
    if (fd >= 0) break;
    *error = std::string("bpf BPF_PROG_LOAD (device filter): ") + strerror(errno);
  }
  if (fd < 0) {
    if (log[0]) *error += std::string(": ") + log;
    return false;
  }
  int dir = open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    *error = "open " + cgroup_dir + ": " + strerror(errno);
    close(fd);
    return false;
  }
  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(dir);
  attach.attach_bpf_fd = static_cast<uint32_t>(fd);
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  bool ok = Bpf(BPF_PROG_ATTACH, &attach) == 0;
  if (!ok) *error = "bpf BPF_PROG_ATTACH (device filter) to " + cgroup_dir + ": " + strerror(errno);
  // The attachment holds the program: the descriptors may go.
  close(dir);
  close(fd);
  return ok;
}

}  // namespace kubit::runtime::container
