#pragma once

#include <string>

namespace cturn::testing {

// Expected frames, spelled out rather than built with the encoder under test.
inline std::string frame_of(const std::string& type, const std::string& content) {
  return R"({"type":")" + type + R"(","body":{"content":")" + content + "\"}}\n";
}
inline std::string welcome_frame(const std::string& content) {
  return frame_of("welcome", content);
}
inline std::string system_frame(const std::string& content) {
  return frame_of("system", content);
}
inline std::string error_frame(const std::string& content) {
  return frame_of("error", content);
}
inline std::string message_frame(const std::string& sender, const std::string& body) {
  return R"({"type":"message","sender":")" + sender + R"(","body":)" + body + "}\n";
}
inline std::string pubkey_frame(const std::string& sender, const std::string& pem) {
  return R"({"type":"pubkey","sender":")" + sender + R"(","body":{"content":")" + pem + "\"}}\n";
}

}  // namespace cturn::testing
