// Feeds arbitrary bytes through the server's line framing, the decoder and the
// room hub, with three recording participants, and checks after every step
// that each frame is well-formed and that the hub did exactly what the
// protocol asks (a small model of usernames, rooms and keys is the oracle).
//
// Input layout: byte 0 picks where the stream is cut into two reads; bytes 1–2
// say who sends each of the first eight lines (2 bits each, repeating; 3 means
// "participant i % 3, after a disconnect-and-reconnect or a registration
// deadline"); bit 0 of byte 3 ends the run with a server shutdown. The rest is
// the byte stream.

#include <algorithm>
#include <array>
#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hub/room_hub.hpp"
#include "log.hpp"
#include "protocol/decode.hpp"
#include "protocol/encode.hpp"
#include "protocol/json_text.hpp"
#include "protocol/line_framer.hpp"
#include "protocol/names.hpp"
#include "text/confusable_skeleton.hpp"

namespace {

namespace json = boost::json;

constexpr std::size_t max_line_bytes = 1024;
constexpr std::size_t participant_count = 3;
constexpr std::size_t header_bytes = 4;

[[noreturn]] void violated(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "invariant violated: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

void require(bool condition, const char* what, std::string_view detail = {}) {
  if (!condition)
    violated(what, detail);
}

// Exponents past the range of int are valid JSON that Boost.JSON 1.81
// rejects; read them the way the decoder does.
json::value parse_json(std::string_view text, json::error_code& ec) {
  json::parse_options options;
  options.max_depth = 2 * cturn::max_json_depth;
  json::value value = json::parse(text, ec, {}, options);
  if (ec == json::error::exponent_overflow)
    value = json::parse(cturn::with_short_exponents(text), ec, {}, options);
  return value;
}

bool is_error_text(std::string_view text) {
  for (int e = static_cast<int>(cturn::protocol_error::message_too_long);
       e <= static_cast<int>(cturn::protocol_error::server_full); ++e) {
    if (cturn::wire_text(static_cast<cturn::protocol_error>(e)) == text)
      return true;
  }
  return false;
}

// Every frame on its own: one JSON object, one newline at the very end, the
// shape the protocol gives its type.
void check_frame(const std::string& bytes) {
  require(!bytes.empty() && bytes.back() == '\n', "frame ends with a newline", bytes);
  require(bytes.find('\n') == bytes.size() - 1, "frame holds one newline", bytes);
  require(bytes.find('\r') == std::string::npos, "frame holds no carriage return", bytes);
  json::error_code ec;
  const json::value value = parse_json(bytes, ec);
  require(!ec, "frame is valid JSON", bytes);
  const json::object* object = value.if_object();
  require(object != nullptr, "frame is an object", bytes);
  const json::value* type = object->if_contains("type");
  const json::value* body = object->if_contains("body");
  require(type != nullptr && type->is_string(), "frame type is a string", bytes);
  require(body != nullptr && body->is_object(), "frame body is an object", bytes);
  const std::string_view kind = type->get_string();
  const json::value* sender = object->if_contains("sender");
  if (kind == "message" || kind == "pubkey") {
    require(object->size() == 3, "message/pubkey frame has three members", bytes);
    require(sender != nullptr && sender->is_string() && !sender->get_string().empty(),
            "frame sender is a name", bytes);
  } else {
    require(kind == "welcome" || kind == "system" || kind == "error", "known frame type", bytes);
    require(object->size() == 2, "frame has two members", bytes);
  }
  if (kind == "message")
    return;
  const json::value* content = body->get_object().if_contains("content");
  require(content != nullptr && content->is_string(), "frame content is a string", bytes);
  require(body->get_object().size() == 1, "frame body holds only content", bytes);
  if (kind == "error")
    require(is_error_text(content->get_string()), "known error text", bytes);
}

// A welcome to `username` carries a random resume token, which the model
// cannot predict: it is checked for its form and cut out.
std::string without_resume_token(std::string_view text) {
  constexpr std::string_view field = R"(,"resume":")";
  constexpr std::string_view tail = "\"}}\n";
  const std::size_t at = text.rfind(field);
  if (!text.starts_with(R"({"type":"welcome")") || at == std::string_view::npos)
    return std::string(text);
  const std::size_t start = at + field.size();
  require(text.ends_with(tail) &&
              cturn::looks_like_resume_token(text.substr(start, text.size() - tail.size() - start)),
          "a welcome's resume token is 32 lowercase hex digits", std::string(text));
  return std::string(text.substr(0, at)) + "}}\n";
}

class recorder final : public cturn::participant {
 public:
  explicit recorder(std::uint64_t id) : id_(id) {}

  void deliver(const cturn::frame& bytes) override {
    std::string text = without_resume_token(bytes.text());
    check_frame(text);
    step_frames.push_back(std::move(text));
  }
  void close_after_flush() override { ++close_requests; }
  std::uint64_t connection_id() const override { return id_; }

  std::vector<std::string> step_frames;  // delivered since the step began
  int close_requests = 0;

 private:
  std::uint64_t id_;
};

struct slot {
  std::unique_ptr<recorder> client;
  bool connected = false;  // known to the hub
  bool closing = false;
  bool let_go = false;  // closed by the server, and already forgotten by the hub
  int expected_closes = 0;
  std::string name;  // empty until registered
  std::optional<std::string> key;
  std::optional<std::string> room;
  std::uint64_t entered = 0;  // order of entry into the room
};

class harness {
 public:
  harness() {
    for (slot& s : slots_)
      reconnect(s);
  }

  bool shutting_down() const { return hub_.shutting_down(); }
  bool connected(std::size_t index) const { return slots_[index].connected; }
  // Still has a socket that can send, whether or not the hub knows it.
  bool can_send(std::size_t index) const { return slots_[index].connected || slots_[index].let_go; }

  void line(std::size_t index, std::string_view text) {
    begin_step();
    slot& sender = slots_[index];
    auto decoded = cturn::decode(text);
    if (!decoded) {
      expect(sender, cturn::encode_error(decoded.error()));
      hub_.reject(*sender.client, decoded.error());
    } else {
      const cturn::command request = *decoded;
      if (sender.connected && !sender.closing && !hub_.shutting_down())
        predict(sender, request, text);
      hub_.handle(*sender.client, std::move(*decoded));
    }
    end_step("line", text);
  }

  // A close the server decides: the client leaves its room and frees its
  // name at once, not when its socket goes.
  void too_long(std::size_t index) {
    begin_step();
    slot& s = slots_[index];
    if (s.connected && !s.closing) {
      close_with(s, cturn::encode_error(cturn::protocol_error::message_too_long));
      let_go(s);
    }
    hub_.fail(*s.client, cturn::protocol_error::message_too_long);
    end_step("too long");
  }

  void registration_deadline(std::size_t index) {
    begin_step();
    slot& s = slots_[index];
    if (s.connected && !s.closing && s.name.empty()) {
      close_with(s, cturn::encode_error(cturn::protocol_error::username_timeout));
      let_go(s);
    }
    hub_.registration_deadline(*s.client);
    end_step("registration deadline");
  }

  void disconnect(std::size_t index) {
    begin_step();
    slot& s = slots_[index];
    leave_hub(s);
    hub_.disconnect(*s.client, cturn::disconnect_reason::eof);
    end_step("disconnect");  // also: the leaver itself receives nothing
    s = slot{};
  }

  void disconnect_and_reconnect(std::size_t index) {
    disconnect(index);
    reconnect(slots_[index]);
  }

  void shutdown() {
    begin_step();
    const bool first = !hub_.shutting_down();
    for (slot& s : slots_) {
      if (first && s.connected && !s.closing)
        close_with(s, cturn::encode_system("Server shutting down"));
    }
    hub_.shutdown();
    end_step("shutdown");
    recorder late(999);
    require(!hub_.connect(late), "no connections while shutting down");
  }

  void finish() {
    for (std::size_t i = 0; i < participant_count; ++i) {
      if (slots_[i].connected)
        disconnect(i);
    }
    require(hub_.connection_count() == 0, "all connections gone");
    require(hub_.room_count() == 0, "all rooms gone");
  }

 private:
  void reconnect(slot& s) {
    s = slot{};
    s.client = std::make_unique<recorder>(next_id_++);
    s.connected = hub_.connect(*s.client);
    require(s.connected != hub_.shutting_down(), "connect refused only while shutting down");
  }

  void begin_step() {
    for (std::size_t i = 0; i < participant_count; ++i) {
      expected_[i].clear();
      if (slots_[i].client)
        slots_[i].client->step_frames.clear();
    }
  }

  std::size_t index_of(const slot& s) const { return static_cast<std::size_t>(&s - slots_.data()); }

  void expect(const slot& s, const cturn::frame& bytes) {
    expected_[index_of(s)].emplace_back(bytes.text());
  }

  void close_with(slot& s, const cturn::frame& bytes) {
    expect(s, bytes);
    s.closing = true;
    ++s.expected_closes;
  }

  slot* find_member(std::string_view name, const std::string& room) {
    for (slot& s : slots_) {
      if (s.connected && s.name == name && s.room == room)
        return &s;
    }
    return nullptr;
  }

  // Taken: the name, or one with the same confusable skeleton, is in use.
  bool name_taken(std::string_view name) const {
    const std::string skeleton = cturn::confusable_skeleton(name);
    return std::any_of(slots_.begin(), slots_.end(), [&](const slot& s) {
      return s.connected && !s.name.empty() && cturn::confusable_skeleton(s.name) == skeleton;
    });
  }

  bool room_exists(const std::string& room) const {
    return std::any_of(slots_.begin(), slots_.end(),
                       [&](const slot& s) { return s.connected && s.room == room; });
  }

  // `create` refuses a room that looks like one that exists; `join` wants
  // the exact name.
  bool room_look_alike_exists(const std::string& room) const {
    const std::string skeleton = cturn::confusable_skeleton(room);
    return std::any_of(slots_.begin(), slots_.end(), [&](const slot& s) {
      return s.connected && s.room && cturn::confusable_skeleton(*s.room) == skeleton;
    });
  }

  // Members of `room` in order of entry.
  std::vector<slot*> members(const std::string& room) {
    std::vector<slot*> out;
    for (slot& s : slots_) {
      if (s.connected && s.room == room)
        out.push_back(&s);
    }
    std::sort(out.begin(), out.end(),
              [](const slot* a, const slot* b) { return a->entered < b->entered; });
    return out;
  }

  void reject(slot& s, cturn::protocol_error error) { expect(s, cturn::encode_error(error)); }

  // The model's side of the hub forgetting `s`: its room-mates hear of it.
  void leave_hub(slot& s) {
    if (s.connected && s.room) {
      const cturn::frame notice = cturn::encode_system(s.name + " disconnected");
      for (slot& other : slots_) {
        if (&other != &s && other.connected && other.room == s.room)
          expect(other, notice);
      }
    }
    s.connected = false;
    s.name.clear();
    s.room.reset();
  }

  void let_go(slot& s) {
    leave_hub(s);
    s.let_go = true;
  }

  // What the protocol says `request` from `s` produces, and the model's new state.
  void predict(slot& s, const cturn::command& request, std::string_view text) {
    if (s.name.empty() && !std::holds_alternative<cturn::set_username>(request))
      return reject(s, cturn::protocol_error::username_required);
    if (const auto* command = std::get_if<cturn::set_username>(&request)) {
      if (!s.name.empty())
        return reject(s, cturn::protocol_error::username_already_set);
      const auto name = cturn::normalize_username(command->name);
      if (!name)
        return reject(s, name.error());
      if (name_taken(*name))
        return reject(s, cturn::protocol_error::username_taken);
      if (!command->public_key_valid)
        return reject(s, cturn::protocol_error::public_key_invalid);
      require(!command->public_key || !command->public_key->empty(), "an empty key is no key");
      s.name = *name;
      s.key = command->public_key;
      return expect(s, cturn::encode_welcome("Username set to: " + s.name));
    }
    if (const auto* command = std::get_if<cturn::create_room>(&request)) {
      if (s.room)
        return reject(s, cturn::protocol_error::leave_room_first);
      const auto room = cturn::normalize_room_name(command->name);
      if (!room)
        return reject(s, room.error());
      if (room_look_alike_exists(*room))
        return reject(s, cturn::protocol_error::room_exists);
      enter(s, *room);
      expect(s, cturn::encode_welcome("Created and joined room: " + *room));
      return expect(s, cturn::encode_system(s.name + " created the room"));
    }
    if (const auto* command = std::get_if<cturn::join_room>(&request)) {
      if (s.room)
        return reject(s, cturn::protocol_error::leave_room_first);
      const auto room = cturn::normalize_room_name(command->name);
      if (!room)
        return reject(s, room.error());
      if (!room_exists(*room))
        return reject(s, cturn::protocol_error::room_missing);
      const std::vector<slot*> others = members(*room);
      enter(s, *room);
      expect(s, cturn::encode_welcome("Joined room: " + *room));
      for (slot* other : others)
        expect(*other, cturn::encode_system(s.name + " joined the room"));
      for (slot* other : others) {
        if (other->key)
          expect(s, cturn::encode_public_key(other->name, *other->key));
      }
      if (s.key) {
        for (slot* other : others)
          expect(*other, cturn::encode_public_key(s.name, *s.key));
      }
      return;
    }
    if (std::holds_alternative<cturn::leave_room>(request)) {
      if (!s.room)
        return reject(s, cturn::protocol_error::not_in_room);
      const std::string room = *s.room;
      s.room.reset();
      for (slot* other : members(room))
        expect(*other, cturn::encode_system(s.name + " left the room"));
      return expect(s, cturn::encode_welcome("Left room: " + room));
    }
    const auto& command = std::get<cturn::send_message>(request);
    if (!s.room)
      return reject(s, cturn::protocol_error::join_room_first);
    check_relayed_body(text, command.body);
    const cturn::frame bytes = cturn::encode_message(s.name, command.body);
    if (command.to) {
      if (slot* target = find_member(*command.to, *s.room))
        expect(*target, bytes);
      return;
    }
    for (slot* other : members(*s.room)) {
      if (other != &s)
        expect(*other, bytes);
    }
  }

  void enter(slot& s, const std::string& room) {
    s.room = room;
    s.entered = next_entry_++;
  }

  // The relayed body text is the line's `body`, as the parser sees it.
  static void check_relayed_body(std::string_view line, std::string_view body) {
    json::error_code ec;
    const json::value whole = parse_json(line, ec);
    require(!ec, "decoded line parses", line);
    const json::value relayed = parse_json(body, ec);
    require(!ec, "relayed body parses", body);
    // Compared as text: Boost.JSON 1.81 reads 0e400 as NaN, and NaN != NaN.
    require(json::serialize(relayed) == json::serialize(whole.at("body")),
            "relayed body equals the parsed body", line);
  }

  void end_step(const char* step, std::string_view detail = {}) {
    for (std::size_t i = 0; i < participant_count; ++i) {
      const slot& s = slots_[i];
      if (!s.client)
        continue;
      if (s.client->step_frames != expected_[i]) {
        std::string report = std::string(step) + ": " + std::string(detail) + "\nparticipant " +
                             std::to_string(i) + " expected:\n";
        for (const std::string& f : expected_[i])
          report += "  " + f;
        report += "got:\n";
        for (const std::string& f : s.client->step_frames)
          report += "  " + f;
        violated("frames match the protocol", report);
      }
      require(s.client->close_requests == s.expected_closes, "close requests match", step);
    }
    check_state();
  }

  void check_state() {
    std::size_t connections = 0;
    std::set<std::string> rooms;
    std::set<std::string> names;
    std::set<std::string> skeletons;
    for (const slot& s : slots_) {
      if (!s.connected)
        continue;
      ++connections;
      if (!s.name.empty()) {
        require(names.insert(s.name).second, "names are unique");
        require(skeletons.insert(cturn::confusable_skeleton(s.name)).second,
                "no two names in use look alike", s.name);
        require(hub_.username_in_use(s.name), "registered name in use", s.name);
      }
      if (s.room)
        rooms.insert(*s.room);
    }
    require(hub_.connection_count() == connections, "connection count");
    require(hub_.room_count() == rooms.size(), "room count");
    for (const std::string& room : rooms) {
      const auto actual = hub_.room_members(room);
      require(actual.has_value(), "model room exists in the hub", room);
      std::vector<std::string> expected;
      for (const slot* member : members(room))
        expected.push_back(member->name);
      require(*actual == expected, "room members in order of entry", room);
    }
  }

  cturn::room_hub hub_;
  std::array<slot, participant_count> slots_;
  std::array<std::vector<std::string>, participant_count> expected_;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_entry_ = 1;
};

// Feeds `chunk` through the session's own framing, as reads of whatever size
// the framer offers. Returns false once a line was too long.
template <typename OnLine>
bool feed(cturn::line_framer& framer, std::string_view chunk, OnLine&& on_line) {
  while (!chunk.empty()) {
    if (framer.too_long())
      return false;
    const std::span<char> space = framer.prepare(chunk.size());
    const std::size_t n = std::min(space.size(), chunk.size());
    std::memcpy(space.data(), chunk.data(), n);
    framer.commit(n);
    chunk.remove_prefix(n);
    while (const auto line = framer.next_line())
      on_line(*line);
    framer.compact();
  }
  return !framer.too_long();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cturn::set_log_level(cturn::log_level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < header_bytes)
    return 0;
  const std::string_view stream(reinterpret_cast<const char*>(data) + header_bytes,
                                size - header_bytes);
  const std::size_t split = stream.size() * data[0] / 255;
  const unsigned schedule = data[1] | (static_cast<unsigned>(data[2]) << 8);
  const bool end_with_shutdown = (data[3] & 1) != 0;

  const auto choice_of = [schedule](std::size_t line) {
    return (schedule >> (2 * (line % 8))) & 3;
  };
  const auto sender_of = [&](std::size_t line) {
    const unsigned choice = choice_of(line);
    return choice == 3 ? line % participant_count : std::size_t{choice};
  };

  harness run;
  std::size_t line_index = 0;
  const auto on_line = [&](std::string_view line) {
    const std::size_t i = line_index++;
    const std::size_t sender = sender_of(i);
    if (choice_of(i) == 3) {
      if (i % 2 == 0) {
        run.disconnect_and_reconnect(sender);
      } else {
        run.registration_deadline(sender);
      }
    }
    if (run.can_send(sender))
      run.line(sender, line);
  };

  cturn::line_framer framer(max_line_bytes);
  const bool fits =
      feed(framer, stream.substr(0, split), on_line) && feed(framer, stream.substr(split), on_line);
  // The line that did not fit belongs to the next sender in the schedule.
  if (!fits && run.can_send(sender_of(line_index)))
    run.too_long(sender_of(line_index));
  if (end_with_shutdown)
    run.shutdown();
  run.finish();
  return 0;
}
