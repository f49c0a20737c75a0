#include "net/file_watch.hpp"

#include <sys/stat.h>

#include <utility>

namespace cturn {

file_stamp stamp_of(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0)
    return {};
  return {
      true, static_cast<std::uint64_t>(status.st_dev), static_cast<std::uint64_t>(status.st_ino),
      static_cast<std::int64_t>(status.st_size),
      static_cast<std::int64_t>(status.st_mtim.tv_sec) * 1'000'000'000 + status.st_mtim.tv_nsec};
}

file_watch::file_watch(std::vector<std::string> paths) : paths_(std::move(paths)) {
  mark_seen();
}

bool file_watch::changed() {
  bool any = false;
  for (std::size_t i = 0; i < paths_.size(); ++i) {
    auto now = stamp_of(paths_[i]);
    if (now != seen_[i]) {
      seen_[i] = now;
      any = true;
    }
  }
  return any;
}

void file_watch::mark_seen() {
  seen_.clear();
  for (const auto& path : paths_)
    seen_.push_back(stamp_of(path));
}

}  // namespace cturn
