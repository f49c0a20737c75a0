#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "cluster/redis_reply.hpp"
#include "cluster/room_event.hpp"
#include "cluster/room_subscriptions.hpp"
#include "disconnect_reason.hpp"
#include "hub/hub_port.hpp"
#include "hub/local_room.hpp"
#include "hub/registration.hpp"

namespace cturn {

// Why a node gives up Redis (`redis-lost why=...`): the core and the lease
// keeper (node_lease) each find some of these.
namespace give_up_reason {
inline constexpr std::string_view lease_expired = "lease expired";
inline constexpr std::string_view redis_not_answering = "redis not answering";
inline constexpr std::string_view hub_strand_stuck = "hub strand stuck";
inline constexpr std::string_view script_failed = "script failed";
inline constexpr std::string_view subscribe_failed = "subscribe failed";
}  // namespace give_up_reason

// What the core asks its driver (cluster_hub) to do over Redis.
namespace node_action {
// A command on the commands link whose reply goes back to on_reply(request).
struct call {
  std::uint64_t request = 0;
  std::vector<std::string> arguments;
};
// A command on the commands link whose reply nobody waits for.
struct send {
  std::vector<std::string> arguments;
};
// A message event on the room's channel, fenced: Redis publishes it only
// while this node holds `sender` under a live lease (scripts::publish_message).
// An error comes back through on_command_error.
// A directed message (`to` set) goes to the channel of the recipient's node
// instead, in the same fenced step.
struct publish {
  std::string sender;
  std::string room;
  std::string payload;
  std::optional<std::string> to;
};
// On the events link; its reply goes back to on_subscribed(room, epoch, ...).
struct subscribe {
  std::string room;
  std::uint64_t epoch = 0;
};
struct unsubscribe {
  std::string room;
};
// Redis cannot be trusted to answer any more: close every link, start afresh.
struct give_up {
  std::string why;
};
}  // namespace node_action

using node_action_t =
    std::variant<node_action::call, node_action::send, node_action::publish, node_action::subscribe,
                 node_action::unsubscribe, node_action::give_up>;

struct node_timing {
  // The longest wait for a reply, a subscription or a command's own event:
  // past it the node gives up rather than leave a client waiting for ever.
  std::chrono::milliseconds reply_timeout{3'000};
  // On a graceful stop, the names stay held this long for resume elsewhere
  // (the driver parks the lease, see node_lease::park); 0: given up at once.
  std::chrono::milliseconds resume_window{0};
};

// A cluster node's decisions, with no I/O: client commands, Redis replies,
// subscription confirmations, room events, time and a lost connection go in;
// frames to local clients (through their participant) and actions for the
// driver come out. Single-threaded: the driver calls it from one strand, the
// unit tests directly, with a clock of their own.
//
// A client's commands run one at a time, in order: a command that must wait
// (for its script's reply, its room's subscription, or its own event on the
// room's channel) holds the rest of its batch until the wait ends. Every
// wait has a deadline; a deadline that passes makes the node give up.
class node_core {
 public:
  using clock = std::chrono::steady_clock;
  using now_function = std::function<clock::time_point()>;

  explicit node_core(now_function now, node_timing timing = {});

  // The node has joined the cluster as `node` and serves from now on.
  void start_serving(std::string node);
  bool serving() const { return phase_ == phase::serving; }
  const std::string& node() const { return node_; }

  void connect(std::shared_ptr<participant> client);
  // Handles the lines in order and calls done() once every one is handled,
  // or at once when the client is gone. The batch stays the caller's.
  void submit(const std::shared_ptr<participant>& client, hub_port::batch& lines,
              clock::time_point arrived, std::function<void()> done);
  void fail(participant& client, protocol_error error);
  void registration_deadline(participant& client);
  void disconnect(participant& client, disconnect_reason reason);
  // Tells every client `Server shutting down`; the node leaves the cluster,
  // at once or, with a resume window, when the window ends: its names stay
  // held till then, and its clients' closes do not give them up.
  void shutdown();
  // Whether the names stay held after shutdown() (a resume window).
  bool parks_names() const;

  void on_reply(std::uint64_t request, const redis_reply& reply);
  // A command nobody waits for was refused (a fence, a lost lease).
  void on_command_error(const redis_reply& reply);
  void on_subscribed(const std::string& room, std::uint64_t epoch, bool ok);
  void on_room_event(const std::string& room, std::string_view payload);
  // A payload on this node's own channel: a directed message to one of its
  // clients, with its room (node_channel.hpp).
  void on_node_event(std::string_view payload);
  // Checks every deadline.
  void tick();
  // A link or the lease is gone: every client is let go.
  void lost(std::string_view why);

  // The actions since the last call, in order.
  std::vector<node_action_t> take_actions() { return std::exchange(actions_, {}); }

  // Whether the counts below may have changed since the last call.
  bool take_levels_changed() { return std::exchange(levels_changed_, false); }
  std::size_t user_count() const { return names_.size(); }
  std::size_t rooms_with_members() const;
  std::size_t client_count() const { return clients_.size(); }

 private:
  enum class phase { connecting, serving, shutting_down };
  // The command a client waits on: it is done when its own event comes back
  // on the room's channel (or, for a username, when its reply comes).
  // resume: a takeover (see finish_claim) waits for its room's subscription.
  enum class operation { none, check_taken, claim, create, join, leave, message, resume };
  enum class waiting { nothing, reply, subscription, own_event };

  // Frames for a client whose own joined event came before its script's
  // reply: they wait behind the welcome until the members' keys are in.
  class held_frames final : public participant {
   public:
    void deliver(const frame& bytes) override { frames.push_back(bytes); }
    void close_after_flush() override {}
    std::uint64_t connection_id() const override { return id; }

    std::vector<frame> frames;
    std::uint64_t id = 0;
  };

  // `self` is where the fan-out delivers: `owner`, or `held` for a while.
  struct client_state : local_member {
    std::shared_ptr<participant> owner;  // `self`, kept alive while it is here
    // The batch in progress.
    hub_port::batch* lines = nullptr;
    std::size_t next_line = 0;
    std::function<void()> done;
    clock::time_point arrived;
    std::uint64_t messages = 0;
    // The command in progress.
    operation current = operation::none;
    waiting wait = waiting::nothing;
    std::string target_room;
    // A room command's own event can come before its script's reply.
    bool event_seen = false;
    std::vector<frame> keys_of_members;  // a join's, from its reply
    held_frames held;
    std::optional<name_claim> claim;
    // The token the claim in flight gives the client once Redis holds its digest.
    std::string claim_token;
    clock::time_point deadline;
    bool closing = false;
  };
  // What a reply answers; the client may be gone by the time it comes.
  struct pending_request {
    const participant* client = nullptr;
    std::uint64_t connection = 0;  // tells the client from a later one at its address
    operation purpose = operation::none;
    std::string name;  // claim: the name claimed, to drop if its client is gone
  };

  client_state* find(const participant* client);
  // Runs the client's batch on until a command must wait or the batch ends.
  void run(client_state& client);
  void handle(client_state& client, command& request);
  void register_name(client_state& client, const set_username& request);
  void enter_room(client_state& client, std::string_view content, operation kind);
  void leave_room(client_state& client);
  void publish_message(client_state& client, const send_message& request);
  // Sends a command whose reply the client waits for.
  void call(client_state& client, operation purpose, std::vector<std::string> arguments,
            std::string claimed_name = {});
  void run_script(client_state& client, operation purpose, const std::string& script,
                  std::vector<std::string> arguments, std::string claimed_name = {});
  // The room is subscribed: the entry's script runs.
  void run_entry_script(client_state& client);
  void wait_for(client_state& client, waiting what);
  // The client waits for the room's subscription, asked for if need be.
  void await_subscription(client_state& client, const std::string& room,
                          room_subscriptions::room& state);
  void await_own_event(client_state& client);
  // The command in progress is over: the batch goes on, once the input that
  // ended it is fully handled (run_ready).
  void finish_operation(client_state& client);
  void run_ready();
  void finish_claim(client_state& client, const redis_reply& reply);
  // The resume script moved the name here: the welcome, then the room.
  void finish_takeover(client_state& client, const redis_reply& reply);
  // The takeover's room is subscribed: the client is a member here again.
  void rejoin_room(client_state& client);
  // A resume elsewhere (or here) took the client's name: it is told and
  // closed, and leaves no trace here; Redis has already moved the name.
  void drop_taken_over(client_state& client);
  static long long entered(const redis_reply& reply);
  void take_keys_of_members(client_state& client, const redis_reply& reply);
  // The key frames a script answers, one after another.
  static std::vector<frame> key_frames_in(std::string_view text);

  // A checked event of `room_name`, from the room's channel or this node's.
  void apply_event(const std::string& room_name, const room_event& event);
  // A payload that is not one of the nodes' own events: counted, logged now
  // and then, never delivered.
  void drop_foreign(std::string_view channel);

  // One interest less in `room`; leaves its channel after the last.
  void drop_interest(const std::string& room);

  static void reject(participant& client, protocol_error error);
  void forget(client_state& client, std::string_view reason);
  void give_up(std::string_view why);
  void emit(node_action_t action) { actions_.push_back(std::move(action)); }

  now_function now_;
  node_timing timing_;
  phase phase_ = phase::connecting;
  bool parked_ = false;  // shut down with a resume window while serving
  std::string node_;
  std::uint64_t next_request_ = 1;
  std::unordered_map<const participant*, client_state> clients_;
  std::unordered_map<std::string, client_state*> names_;
  room_subscriptions subscriptions_;
  std::unordered_map<std::uint64_t, pending_request> requests_;
  std::vector<node_action_t> actions_;
  std::vector<const participant*> ready_;
  bool levels_changed_ = true;
  std::uint64_t foreign_events_ = 0;
};

}  // namespace cturn
