#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "disconnect_reason.hpp"
#include "hub/local_room.hpp"
#include "hub/participant.hpp"
#include "hub/registration.hpp"
#include "hub/resume_token.hpp"
#include "hub/room_fanout.hpp"
#include "protocol/command.hpp"
#include "protocol/error.hpp"
#include "protocol/frame.hpp"

namespace cturn {

// Usernames, rooms, membership and public keys, and who receives which frame.
// Plain single-threaded code with no I/O: the server runs it on one strand,
// the unit tests drive it directly.
//
// Exception safety: every change of state either happens whole or not at all,
// and a client that goes is first removed from every map with operations that
// cannot fail, then announced. A deliver() that throws therefore loses at
// most that notice: never a name, a member or a room that nobody holds.
class room_hub {
 public:
  // False while shutting down: the caller closes the connection.
  bool connect(participant& client);

  // Applies the stateful rules (validation row 6 and each command's own) and
  // delivers every resulting frame.
  void handle(participant& client, command&& request);

  // Answers with an error frame; the connection stays open.
  void reject(participant& client, protocol_error error);

  // Answers with an error frame and closes the connection. The client
  // leaves its room and frees its name now, not when the socket is closed.
  void fail(participant& client, protocol_error error);

  // Closes the connection if it has not registered a username by now.
  void registration_deadline(participant& client);

  // Forgets the connection: leaves its room, frees its username. Nothing
  // happens for a connection the hub has already let go (fail()).
  void disconnect(participant& client, disconnect_reason reason);

  // Tells every client `Server shutting down` and closes them all.
  void shutdown();

  bool shutting_down() const { return shutting_down_; }
  std::size_t connection_count() const { return clients_.size(); }
  std::size_t room_count() const { return rooms_.size(); }
  std::size_t user_count() const { return usernames_.size(); }
  bool username_in_use(std::string_view name) const;
  // Members of `room` in the order they entered; nullopt if there is no such room.
  std::optional<std::vector<std::string>> room_members(std::string_view room) const;

 private:
  // A client's own state beside what the fan-out sees of it.
  struct client_state : local_member {
    // The username's confusable skeleton: no other name in use may share it.
    std::string skeleton;
    // The client's `pubkey` frame, encoded once at registration: it is sent
    // to everyone in every room the client enters, and to everyone who joins.
    std::optional<frame> public_key_frame;
    // The SHA-256 of the client's resume token (the token itself is the
    // client's alone).
    resume_digest resume{};
    bool closing = false;
  };
  struct room_state : local_room {
    std::string skeleton;  // see room_skeletons_
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

  using client_map = std::unordered_map<participant*, client_state>;

  // The connection holding the name `request` resumes with its right token,
  // or nullptr: then the request takes the path of one without a token.
  client_state* resumable_holder(std::string_view name, const set_username& request);
  // `client` takes the name, the room and the room's place of `holder`,
  // which is told and closed; see docs/protocol.md, "Resume".
  void take_over(client_state& client, client_map::iterator holder, name_claim&& claim);

  // The keys of the room's members, in their order of entry.
  static std::vector<frame> keys_of_members(const local_room& target,
                                            const local_member* except = nullptr);
  // Takes the client out of its room and deletes the room once it is empty;
  // cannot fail. Returns the room if members remain, else nullptr with the
  // deleted room's name in `deleted_name`.
  local_room* detach_from_room(client_state& client, std::string& deleted_name) noexcept;
  // Tells the room's remaining members how `user` went (and a leaver its
  // welcome), or logs the room's deletion.
  void announce_exit(const local_room* remaining, std::string_view deleted_name,
                     std::string_view user, room_fanout::exit_kind how, participant* leaver);

  // What is left to tell once a client is gone.
  struct departure {
    participant* self = nullptr;  // alive for the call that removed it
    std::uint64_t id = 0;
    std::string username;
    local_room* remaining = nullptr;  // its room, if members remain
    std::string deleted_room;         // its room's name, if it was the last member
  };
  // Removes every trace of the client with operations that cannot fail.
  departure remove_client(client_map::iterator found) noexcept;
  void announce(const departure& gone, std::string_view reason);

  client_map clients_;
  string_map<client_state*> usernames_;
  // The skeletons of the names in usernames_ (see confusable_skeleton).
  std::unordered_set<std::string, string_hash, std::equal_to<>> skeletons_;
  string_map<room_state> rooms_;
  // The skeletons of the names in rooms_: no two rooms look alike.
  std::unordered_set<std::string, string_hash, std::equal_to<>> room_skeletons_;
  bool shutting_down_ = false;
};

}  // namespace cturn
