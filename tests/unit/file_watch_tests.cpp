#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "net/file_watch.hpp"

namespace {

namespace fs = std::filesystem;

struct scratch_directory {
  fs::path path;
  scratch_directory() {
    std::string pattern = (fs::temp_directory_path() / "cturn-file-watch-XXXXXX").string();
    BOOST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~scratch_directory() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::trunc) << text;
    return (path / name).string();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(file_watch_suite)

BOOST_AUTO_TEST_CASE(unchanged_files_are_not_a_change) {
  const scratch_directory dir;
  cturn::file_watch watch({dir.write("cert", "a"), dir.write("key", "b")});
  BOOST_TEST(!watch.changed());
  BOOST_TEST(!watch.changed());
}

BOOST_AUTO_TEST_CASE(a_rewrite_is_one_change) {
  const scratch_directory dir;
  cturn::file_watch watch({dir.write("cert", "a"), dir.write("key", "b")});
  dir.write("key", "longer");
  BOOST_TEST(watch.changed());
  BOOST_TEST(!watch.changed());  // acted on once, not on every poll
}

BOOST_AUTO_TEST_CASE(a_rename_over_the_file_is_a_change_even_with_the_same_size_and_time) {
  const scratch_directory dir;
  const auto cert = dir.write("cert", "a");
  const auto replacement = dir.write("cert.new", "b");
  fs::last_write_time(replacement, fs::last_write_time(cert));
  cturn::file_watch watch({cert});
  fs::rename(replacement, cert);
  BOOST_TEST(watch.changed());  // a new inode
}

BOOST_AUTO_TEST_CASE(a_symlink_swap_one_directory_up_is_a_change) {
  // As Kubernetes mounts a secret: cert -> data/cert, data -> a versioned
  // directory that an update replaces by swapping the `data` link.
  const scratch_directory dir;
  fs::create_directory(dir.path / "v1");
  fs::create_directory(dir.path / "v2");
  dir.write("v1/cert", "first");
  dir.write("v2/cert", "second");
  fs::create_directory_symlink("v1", dir.path / "data");
  fs::create_symlink("data/cert", dir.path / "cert");
  cturn::file_watch watch({(dir.path / "cert").string()});
  fs::create_directory_symlink("v2", dir.path / "data.new");
  fs::rename(dir.path / "data.new", dir.path / "data");
  BOOST_TEST(watch.changed());
}

BOOST_AUTO_TEST_CASE(a_file_that_goes_and_comes_back_is_two_changes) {
  const scratch_directory dir;
  const auto cert = dir.write("cert", "a");
  cturn::file_watch watch({cert});
  fs::remove(cert);
  BOOST_TEST(watch.changed());
  BOOST_TEST(!watch.changed());
  dir.write("cert", "a");
  BOOST_TEST(watch.changed());
}

BOOST_AUTO_TEST_CASE(mark_seen_takes_the_files_as_they_are_now) {
  const scratch_directory dir;
  cturn::file_watch watch({dir.write("cert", "a")});
  dir.write("cert", "changed, then read by a reload");
  watch.mark_seen();
  BOOST_TEST(!watch.changed());
}

BOOST_AUTO_TEST_SUITE_END()
