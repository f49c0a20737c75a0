#pragma once

#include <optional>
#include <string>
#include <tl/expected.hpp>

#include "hub/local_room.hpp"
#include "protocol/command.hpp"
#include "protocol/error.hpp"
#include "protocol/frame.hpp"

namespace cturn {

// The rules of registration, in the protocol's order, for both hubs. A hub
// brings only the answer its directory gives: whether a name that looks the
// same is held.

// Validation row 6: before its name is set, a client may only set it.
std::optional<protocol_error> check_registered(const local_member& client, const command& request);

// A `username` that has passed every check that needs no directory.
struct name_claim {
  std::string name;                // normalized
  std::string skeleton;            // no two names in use may share it
  std::optional<frame> key_frame;  // the `pubkey` frame, if a valid key came with it
};

// In order: the name is not set yet, then the name itself is valid.
tl::expected<name_claim, protocol_error> prepare_claim(const local_member& client,
                                                       const set_username& request);

// The checks left once the directory has answered, in order: a taken name
// (or one that looks the same) outranks a bad key.
std::optional<protocol_error> claim_verdict(bool look_alike_held, bool key_valid);

}  // namespace cturn
