#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cturn {

// How a file looks from outside, through any symlinks: a file rewritten in
// place, replaced by a rename, or re-pointed by a symlink swap (certbot's
// live/ links, a Kubernetes secret's ..data) looks different afterwards.
struct file_stamp {
  bool exists = false;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t size = 0;
  std::int64_t modified_ns = 0;

  friend bool operator==(const file_stamp&, const file_stamp&) = default;
};

file_stamp stamp_of(const std::string& path);

// The files one reload reads, and how they looked when last seen. Polled
// rather than watched with inotify: a watch on a path misses a symlink swap
// one directory up, and a stat of two files every few seconds costs nothing.
class file_watch {
 public:
  explicit file_watch(std::vector<std::string> paths);

  // True if any file looks different from the last look, which it then
  // remembers: one change triggers one reload, whether that reload succeeds
  // or not; a file still being written changes again and triggers the next.
  bool changed();

  // The files as they look now are the ones read (a reload by SIGHUP).
  void mark_seen();

 private:
  std::vector<std::string> paths_;
  std::vector<file_stamp> seen_;
};

}  // namespace cturn
