#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hub/participant.hpp"
#include "protocol/command.hpp"
#include "protocol/error.hpp"
#include "protocol/frame.hpp"

namespace cturn {

// Usernames, rooms, membership and public keys, and who receives which frame.
// Plain single-threaded code with no I/O: the server runs it on one strand,
// the unit tests drive it directly.
class room_hub {
 public:
  // False while shutting down: the caller closes the connection.
  bool connect(participant& client);

  // Applies the stateful rules (validation row 6 and each command's own) and
  // delivers every resulting frame.
  void handle(participant& client, command&& request);

  // Answers with an error frame; the connection stays open.
  void reject(participant& client, protocol_error error);

  // Answers with an error frame, then closes the connection.
  void fail(participant& client, protocol_error error);

  // Closes the connection if it has not registered a username by now.
  void registration_deadline(participant& client);

  // Forgets the connection: leaves its room, frees its username.
  void disconnect(participant& client, std::string_view reason);

  // Tells every client `Server shutting down` and closes them all.
  void shutdown();

  bool shutting_down() const { return shutting_down_; }
  std::size_t connection_count() const { return clients_.size(); }
  std::size_t room_count() const { return rooms_.size(); }
  bool username_in_use(std::string_view name) const;
  // Members of `room` in the order they entered; nullopt if there is no such room.
  std::optional<std::vector<std::string>> room_members(std::string_view room) const;

 private:
  struct room;
  struct client_state {
    participant* self = nullptr;
    std::string username;  // empty until registered
    // The client's `pubkey` frame, encoded once at registration: it is sent
    // to everyone in every room the client enters, and to everyone who joins.
    std::optional<frame> public_key_frame;
    room* current_room = nullptr;
    bool closing = false;
  };
  struct room {
    std::string name;
    std::vector<client_state*> members;  // in order of entry
  };

  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  template <typename value>
  using string_map = std::unordered_map<std::string, value, string_hash, std::equal_to<>>;

  void on_command(client_state& client, set_username& request);
  void on_command(client_state& client, create_room& request);
  void on_command(client_state& client, join_room& request);
  void on_command(client_state& client, leave_room& request);
  void on_command(client_state& client, send_message& request);

  void enter_room(client_state& client, room& target);
  // Removes the client from its room, tells the others `<user> <verb>`, and
  // deletes the room once it is empty.
  void exit_room(client_state& client, std::string_view verb);
  void broadcast(const room& target, const frame& bytes, const client_state* except = nullptr);

  std::unordered_map<participant*, client_state> clients_;
  string_map<client_state*> usernames_;
  string_map<room> rooms_;
  bool shutting_down_ = false;
};

}  // namespace cturn
